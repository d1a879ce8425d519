"""Sharded M-FAC across torch.distributed ranks: communication volume and time per step.

``python -m bench mfac_dist [--quick] [--d D] [--m M] [--steps S] [--ranks 1,2] [--device cpu|cuda]``

For each world size (gloo on CPU, processes started with torch.multiprocessing "spawn" on
127.0.0.1; NCCL for ``--device cuda``, one GPU per rank) every rank holds d / world columns of
the sliding window and runs ``ShardedSlidingIHVP.update_and_ihvp`` (the M-FAC step's IHVP) and
the full ``adasolve.torch.MFAC(process_group=...)`` step (IHVP + all-gather of the update).
Reported per step: the numbers and bytes all-reduced and all-gathered per rank, and the wall
time (median over steps of the slowest rank). The single-process C++ ``SlidingIHVP`` at the
same d and m runs first, in the parent, as the baseline: ratios are sharded / single-process.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from typing import Any, Dict, List

import numpy as np

from bench._common import environment, write_results


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, d: int, m: int, steps: int, device: str, out: str,
            threads: int = 0) -> None:
    import torch
    import torch.distributed as dist

    from adasolve.mfac import ShardedSlidingIHVP
    from adasolve.torch import MFAC

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    # The machine's cores are shared by the ranks: split them (or as --threads says).
    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // world))
    dev = torch.device(device if device == "cpu" else f"cuda:{rank}")
    dist.init_process_group("gloo" if device == "cpu" else "nccl", rank=rank, world_size=world)
    try:
        c = -(-d // world)
        lo, hi = min(d, rank * c), min(d, rank * c + c)
        gen = torch.Generator().manual_seed(1 + rank)
        H = ShardedSlidingIHVP(hi - lo, m, 1e-4, dtype=torch.float32, device=dev)
        base = dict(H.comm_stats)
        times = []
        for i in range(steps + 3):
            g = torch.randn(hi - lo, generator=gen).to(dev)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            dist.barrier()
            t0 = time.perf_counter()
            H.update_and_ihvp(g)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            if i >= 3:  # warm-up: first steps allocate
                times.append(time.perf_counter() - t0)
        st = H.comm_stats
        ihvp = {"time": float(np.median(times)), "numbers": (st["numbers"] - base["numbers"]) / (steps + 3),
                "bytes": (st["bytes"] - base["bytes"]) / (steps + 3),
                "calls": (st["all_reduce_calls"] - base["all_reduce_calls"]) / (steps + 3)}
        del H
        # The optimizer step: a linear model with d weights, identical gradients on all ranks.
        p = torch.nn.Parameter(torch.zeros(d, device=dev))
        opt = MFAC([p], lr=1e-3, ngrads=m, damp=1e-4, process_group=dist.group.WORLD)
        gen = torch.Generator().manual_seed(0)
        times = []
        for i in range(steps + 3):
            p.grad = torch.randn(d, generator=gen).to(dev)
            dist.barrier()
            t0 = time.perf_counter()
            opt.step()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            if i >= 3:
                times.append(time.perf_counter() - t0)
        gathered = getattr(opt.hinv, "gather_numbers", 0) / (steps + 3)
        step = {"time": float(np.median(times)), "gather_numbers": gathered, "gather_bytes": gathered * 4}
        t = torch.tensor([ihvp["time"], step["time"]], dtype=torch.float64, device=dev)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)  # the slowest rank sets the pace
        if rank == 0:
            ihvp["time"], step["time"] = float(t[0]), float(t[1])
            np.save(out, {"ihvp": ihvp, "step": step, "local_dim": hi - lo}, allow_pickle=True)
    finally:
        dist.destroy_process_group()


def _baseline(d: int, m: int, steps: int) -> Dict[str, float]:
    import torch

    from adasolve.mfac import SlidingIHVP
    from adasolve.torch import MFAC

    H = SlidingIHVP(d, m, 1e-4, dtype=np.float32)
    rng = np.random.default_rng(1)
    times = []
    for i in range(steps + 3):
        g = rng.standard_normal(d).astype(np.float32)
        t0 = time.perf_counter()
        H.update_and_ihvp(g)
        if i >= 3:
            times.append(time.perf_counter() - t0)
    del H
    p = torch.nn.Parameter(torch.zeros(d))
    opt = MFAC([p], lr=1e-3, ngrads=m, damp=1e-4)
    gen = torch.Generator().manual_seed(0)
    st = []
    for i in range(steps + 3):
        p.grad = torch.randn(d, generator=gen)
        t0 = time.perf_counter()
        opt.step()
        if i >= 3:
            st.append(time.perf_counter() - t0)
    return {"ihvp": float(np.median(times)), "step": float(np.median(st))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench mfac_dist", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d = 2e5, m = 32, 10 steps")
    ap.add_argument("--d", type=int, default=1_000_000)
    ap.add_argument("--m", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--threads", type=int, default=0,
                    help="PyTorch threads per rank (default: cores / ranks); set OMP_NUM_THREADS for the C++ baseline")
    ap.add_argument("--name", default="mfac_dist")
    args = ap.parse_args(argv)
    if args.quick:
        args.d, args.m, args.steps = 200_000, 32, 10
    import torch
    import torch.multiprocessing as mp

    if args.threads:
        torch.set_num_threads(args.threads)
    base = _baseline(args.d, args.m, args.steps) if args.device == "cpu" else None
    rows: List[Dict[str, Any]] = []
    for world in [int(w) for w in args.ranks.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.npy")
            mp.start_processes(_worker, args=(world, _free_port(), args.d, args.m, args.steps, args.device, out, args.threads),
                               nprocs=world, join=True, start_method="spawn")
            r = np.load(out, allow_pickle=True).item()
        row = {
            "ranks": world, "device": args.device, "d": args.d, "m": args.m, "dtype": "float32",
            "window per rank (MB)": args.m * r["local_dim"] * 4 / 1e6,
            "all-reduce numbers / IHVP": r["ihvp"]["numbers"],
            "all-reduce bytes / IHVP": r["ihvp"]["bytes"],
            "all-reduces / IHVP": r["ihvp"]["calls"],
            "all-gather numbers / step": r["step"]["gather_numbers"],
            "IHVP time (ms)": 1e3 * r["ihvp"]["time"],
            "optimizer step (ms)": 1e3 * r["step"]["time"],
        }
        if base is not None:
            row["IHVP ratio sharded / C++ 1-process"] = r["ihvp"]["time"] / base["ihvp"]
            row["step ratio sharded / MFAC 1-process"] = r["step"]["time"] / base["step"]
        rows.append(row)
        print(row, flush=True)
    sections = {"Sharded M-FAC: communication and time per step": rows}
    if base is not None:
        sections["Single-process baseline (C++ SlidingIHVP, MFAC)"] = [
            {"d": args.d, "m": args.m, "IHVP time (ms)": 1e3 * base["ihvp"], "optimizer step (ms)": 1e3 * base["step"]}]
    notes = ("Per step and per rank. IHVP = ShardedSlidingIHVP.update_and_ihvp (one all-reduce of m float64); "
             "optimizer step = MFAC(process_group=WORLD).step() (the IHVP plus an all-gather of the d-vector "
             "of updates). Times: median over steps of the slowest rank; 1 rank runs the same code with no "
             "communication. Ratios: sharded / single-process C++ in the same run.")
    path = write_results(args.name, sections, environment(torch.get_num_threads(), {"torch": torch.__version__}), notes=notes)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())

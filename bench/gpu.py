"""GPU benchmark: ``python -m bench gpu [--quick] [--out DIR] [--ref PATH] [--only mfac|sor|cpu]``.

1. M-FAC (float32) at d = 1e7 (m = 256, 1024) and d = 1e8 (m = 64, 128; m = 256 and 1024 do
   not fit: d = 1e8, m = 1024 would be 400 GB): precompute, IHVP and update times of
   adasolve's CUDA backend against the reference implementation (IST-DASLab/M-FAC, imported
   by path from ``--ref``) on the same GPU, and IHVP bandwidth against a device-to-device copy
   measured in the same run.
2. Multicolour SOR and SSOR-CG on the 2-D Poisson matrix with 4000 x 4000 unknowns against
   ``cupyx.scipy.sparse.linalg.cg``, and against one SpMV (cuSPARSE through CuPy, and ours).
3. The same problems on the CPU cores with adasolve's CPU module (when present).

Results: ``bench/results/gpu.{json,md}`` (and copies under ``--out``).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from ._common import RESULTS, environment, write_results


def _events_time(fn, repeat=10, warmup=2):
    """Median milliseconds of ``fn`` on the current torch stream, timed with CUDA events."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(repeat):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    return float(np.median(ts))


def _wall(fn):
    import torch

    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3, out


def device_bandwidth(nbytes=4 << 30):
    import torch

    src = torch.empty(nbytes // 4, dtype=torch.float32, device="cuda").normal_()
    dst = torch.empty_like(src)
    ms = _events_time(lambda: dst.copy_(src), repeat=10)
    src = dst = None  # free both buffers before empty_cache (the lambda is done with them)
    torch.cuda.empty_cache()
    return 2 * nbytes / (ms * 1e-3)


def _free():
    import gc

    import torch

    gc.collect()
    torch.cuda.empty_cache()


def load_reference(path):
    """The reference's optim.py / prun.py by path, with its CUDA kernel if it compiles."""
    if not path or not Path(path).exists():
        return None, "reference not found (pass --ref PATH to an export of IST-DASLab/M-FAC)"
    import torch

    if not hasattr(torch, "lu"):  # removed in recent torch: the same unpivoted LU
        torch.lu = lambda A, pivot=True: torch.linalg.lu_factor(A, pivot=pivot)
    sys.path.insert(0, str(path))
    note = "pure-PyTorch path"
    try:
        import hinv_cuda  # noqa: F401  (built by the benchmark script beforehand)

        note = "with its hinv_cuda kernel"
    except Exception as exc:
        note = f"pure-PyTorch path (hinv_cuda unavailable: {type(exc).__name__})"
    import optim as ref_optim
    import prun as ref_prun

    return (ref_optim, ref_prun), note


def bench_mfac(cases, ref, bw, reps):
    rows = []
    for d, m in cases:
        try:
            _mfac_case(rows, d, m, ref, bw, reps)
        except Exception as exc:
            rows.append({"d": d, "m": m, "error": repr(exc)[:300]})
            print(traceback.format_exc(), flush=True)
        _free()
    return rows


def _mfac_case(rows, d, m, ref, bw, reps):
    import torch

    from adasolve.mfac._cuda import CudaSlidingIHVP, CudaStaticIHVP

    damp = 1e-4
    if True:
        gb = m * d * 4 / 1e9
        base = {"d": d, "m": m, "dtype": "float32", "G GB": gb}
        torch.manual_seed(0)
        v = torch.randn(d, device="cuda")
        g = torch.randn(d, device="cuda")
        # ---- static, ours
        G = torch.randn(m, d, device="cuda")
        t_pre, H = _wall(lambda: CudaStaticIHVP(G, damp=damp))
        t_ihvp = _events_time(lambda: H.ihvp(v), repeat=reps)
        x_ours = H.ihvp(v)
        del H
        _free()
        row = dict(base, kind="static", impl="adasolve", precompute_ms=t_pre, ihvp_ms=t_ihvp,
                   ihvp_GBps=2 * gb / (t_ihvp * 1e-3), ihvp_pct_bw=100 * 2 * gb * 1e9 / (t_ihvp * 1e-3) / bw)
        rows.append(row)
        # ---- static, reference (overwrites G in place)
        if ref is not None:
            _, ref_prun = ref
            try:
                t_pre_r, R = _wall(lambda: ref_prun.HInvFastBatch(G.view(1, m, d), damp))
                t_ihvp_r = _events_time(lambda: R.mul(v.view(1, d)), repeat=reps)
                x_ref = R.mul(v.view(1, d)).view(d)
                err = float((x_ref - x_ours).norm() / x_ref.norm())
                del R
                rows.append(dict(base, kind="static", impl="reference", precompute_ms=t_pre_r, ihvp_ms=t_ihvp_r,
                                 ihvp_GBps=2 * gb / (t_ihvp_r * 1e-3),
                                 ihvp_pct_bw=100 * 2 * gb * 1e9 / (t_ihvp_r * 1e-3) / bw,
                                 speedup_precompute=t_pre_r / t_pre, speedup_ihvp=t_ihvp_r / t_ihvp,
                                 rel_diff_vs_ours=err))
            except Exception as exc:
                rows.append(dict(base, kind="static", impl="reference", error=repr(exc)[:200]))
        del G
        _free()
        # ---- sliding, ours: window filled with m gradients by one SYRK
        S = CudaSlidingIHVP(d, m, damp=damp, dtype=np.float32)
        S.grads.normal_()
        t_load, _ = _wall(lambda: S._impl.load(m, torch.cuda.current_stream().cuda_stream))
        t_upd = _events_time(lambda: S.update_and_ihvp(g, v), repeat=max(3, reps // 2))
        t_ihvp_s = _events_time(lambda: S.ihvp(v), repeat=reps)
        rows.append(dict(base, kind="sliding", impl="adasolve", precompute_ms=t_load, ihvp_ms=t_ihvp_s,
                         update_and_ihvp_ms=t_upd, ihvp_GBps=2 * gb / (t_ihvp_s * 1e-3),
                         ihvp_pct_bw=100 * 2 * gb * 1e9 / (t_ihvp_s * 1e-3) / bw,
                         update_pct_bw=100 * 2 * gb * 1e9 / (t_upd * 1e-3) / bw))
        del S
        _free()
        if ref is not None and m <= 1024:
            ref_optim, _ = ref
            try:
                Gr = torch.randn(m, d, device="cuda")
                dev = torch.device("cuda:0")
                t_pre_r, R = _wall(lambda: ref_optim.HInvFastUpMulti(Gr, dev, [dev], damp))
                t_upd_r = _events_time(lambda: R.update_mul(g), repeat=max(3, reps // 2))
                t_ihvp_r = _events_time(lambda: R.mul(v), repeat=reps)
                rows.append(dict(base, kind="sliding", impl="reference", precompute_ms=t_pre_r, ihvp_ms=t_ihvp_r,
                                 update_and_ihvp_ms=t_upd_r, ihvp_GBps=2 * gb / (t_ihvp_r * 1e-3),
                                 ihvp_pct_bw=100 * 2 * gb * 1e9 / (t_ihvp_r * 1e-3) / bw,
                                 speedup_precompute=t_pre_r / t_load, speedup_ihvp=t_ihvp_r / t_ihvp_s,
                                 speedup_update=t_upd_r / t_upd))
                del R, Gr
            except Exception as exc:
                rows.append(dict(base, kind="sliding", impl="reference", error=repr(exc)[:200]))
            _free()
        print(f"mfac d={d:.0e} m={m}: " + "; ".join(
            f"{r['kind']}/{r['impl']} pre {r.get('precompute_ms', float('nan')):.1f} ms ihvp {r.get('ihvp_ms', float('nan')):.2f} ms"
            f" upd {r.get('update_and_ihvp_ms', float('nan')):.2f} ms"
            for r in rows if r["d"] == d and r["m"] == m), flush=True)


def poisson2d(n, dtype=np.float64):
    import scipy.sparse as sp

    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), dtype=dtype)
    I = sp.eye(n, dtype=dtype)
    return (sp.kron(I, T) + sp.kron(T, I)).tocsr()


def bench_sor(n, iters, rtol):
    import cupy
    import cupyx.scipy.sparse as csp
    import cupyx.scipy.sparse.linalg as cspla

    from adasolve.sor._cuda import CudaSorPlan

    rows = []
    A = poisson2d(n)
    N = A.shape[0]
    t0 = time.perf_counter()
    plan = CudaSorPlan(A)
    t_plan = time.perf_counter() - t0
    Ag = csp.csr_matrix(A)
    b = cupy.ones(N)
    x = cupy.random.standard_normal(N)
    y = cupy.empty(N)

    def ev(fn, repeat=10):
        for _ in range(2):
            fn()
        cupy.cuda.Device().synchronize()
        ts = []
        for _ in range(repeat):
            s, e = cupy.cuda.Event(), cupy.cuda.Event()
            s.record()
            fn()
            e.record()
            e.synchronize()
            ts.append(cupy.cuda.get_elapsed_time(s, e))
        return float(np.median(ts))

    stream = cupy.cuda.get_current_stream().ptr
    t_spmv_cusparse = ev(lambda: Ag @ x)
    t_spmv_ours = ev(lambda: plan._impl.spmv_permuted(x.data.ptr, y.data.ptr, stream))
    t_sweep = ev(lambda: plan._impl.sweep_permuted(1.5, stream))
    omega_sor = 2 / (1 + math.sin(math.pi / (n + 1)))
    base = {"n": N, "nnz": A.nnz, "dtype": "float64", "colors": plan.ncolors}
    rows.append(dict(base, method="SpMV (cuSPARSE via CuPy)", ms_per_iter=t_spmv_cusparse, vs_spmv=1.0))
    rows.append(dict(base, method="SpMV (adasolve kernel, permuted)", ms_per_iter=t_spmv_ours,
                     vs_spmv=t_spmv_ours / t_spmv_cusparse))
    rows.append(dict(base, method="multicolour SOR sweep (kernels only)", ms_per_iter=t_sweep,
                     vs_spmv=t_sweep / t_spmv_cusparse))
    for ce in (iters, 5):
        _, info, st = plan.solve_sor(b, omega=omega_sor, rtol=0.0, maxiter=iters, check_every=ce)
        per = st["elapsed"] * 1e3 / st["iterations"]
        rows.append(dict(base, method=f"solve_sor multicolour, residual every {ce} sweeps", ms_per_iter=per,
                         vs_spmv=per / t_spmv_cusparse, iterations=st["iterations"]))
    _, info, st = plan.ssor_cg(b, omega=1.5, rtol=0.0, maxiter=iters)
    per_pcg = st["elapsed"] * 1e3 / max(st["iterations"], 1)
    rows.append(dict(base, method="ssor_cg (fixed iterations)", ms_per_iter=per_pcg,
                     vs_spmv=per_pcg / t_spmv_cusparse, iterations=st["iterations"]))

    def cupy_cg(maxiter, tol):
        try:
            return cspla.cg(Ag, b, rtol=tol, maxiter=maxiter)
        except TypeError:
            return cspla.cg(Ag, b, tol=tol, maxiter=maxiter)

    cupy_cg(2, 1e-30)
    cupy.cuda.Device().synchronize()
    t0 = time.perf_counter()
    cupy_cg(iters, 1e-30)
    cupy.cuda.Device().synchronize()
    per_cg = (time.perf_counter() - t0) * 1e3 / iters
    rows.append(dict(base, method="cupyx cg (fixed iterations)", ms_per_iter=per_cg, vs_spmv=per_cg / t_spmv_cusparse,
                     iterations=iters))
    # To a tolerance: iterations and time.
    solves = []
    for omega in (1.0, 1.5, 1.8):
        x1, info, st = plan.ssor_cg(b, omega=omega, rtol=rtol, maxiter=20000)
        solves.append(dict(base, method=f"ssor_cg omega={omega}", rtol=rtol, iterations=st["iterations"], info=info,
                           seconds=st["elapsed"], setup_s=t_plan))
    cupy.cuda.Device().synchronize()
    t0 = time.perf_counter()
    its = [0]

    def cb(_):
        its[0] += 1

    try:
        x2, info = cspla.cg(Ag, b, rtol=rtol, maxiter=20000, callback=cb)
    except TypeError:
        x2, info = cspla.cg(Ag, b, tol=rtol, maxiter=20000, callback=cb)
    cupy.cuda.Device().synchronize()
    solves.append(dict(base, method="cupyx cg", rtol=rtol, iterations=its[0], info=int(info),
                       seconds=time.perf_counter() - t0))
    rel_res = float(cupy.linalg.norm(b - Ag @ x1) / cupy.linalg.norm(b))
    solves[-2]["true_rel_residual"] = rel_res
    print("sor:", [(r["method"], round(r["ms_per_iter"], 3)) for r in rows], flush=True)
    print("solves:", [(r["method"], r["iterations"], round(r["seconds"], 3)) for r in solves], flush=True)
    return rows, solves, {"plan_setup_s": t_plan}


def bench_cpu(mfac_cases, n, iters):
    """The same problems with adasolve's CPU module on this machine's cores."""
    import adasolve

    rows = []
    if hasattr(adasolve, "StaticIHVP"):
        import torch

        for d, m in mfac_cases:
            G = torch.randn(m, d, device="cuda").cpu().numpy()
            v = np.random.default_rng(0).standard_normal(d).astype(np.float32)
            t0 = time.perf_counter()
            H = adasolve.StaticIHVP(G, damp=1e-4)
            t_pre = time.perf_counter() - t0
            ts = []
            for _ in range(3):
                t0 = time.perf_counter()
                H.ihvp(v)
                ts.append(time.perf_counter() - t0)
            del H
            S = adasolve.SlidingIHVP(d, m, damp=1e-4, dtype=np.float32)
            for _ in range(2):
                S.update_and_ihvp(v, v)
            tu = []
            for _ in range(3):
                t0 = time.perf_counter()
                S.update_and_ihvp(v, v)
                tu.append(time.perf_counter() - t0)
            del S, G
            rows.append({"problem": f"M-FAC d={d:.0e} m={m} float32", "threads": adasolve.max_threads(),
                         "precompute_ms": t_pre * 1e3, "ihvp_ms": float(np.median(ts)) * 1e3,
                         "update_and_ihvp_ms": float(np.median(tu)) * 1e3})
            print("cpu:", rows[-1], flush=True)
    A = poisson2d(n)
    b = np.ones(A.shape[0])
    if hasattr(adasolve, "ssor_cg"):
        t0 = time.perf_counter()
        _, info, st = adasolve.ssor_cg(A, b, omega=1.5, rtol=1e-30, maxiter=iters, full_output=True)
        rows.append({"problem": f"ssor_cg Poisson {n}x{n}", "threads": adasolve.max_threads(),
                     "ms_per_iter": (time.perf_counter() - t0) * 1e3 / max(st["iterations"], 1)})
    if hasattr(adasolve, "solve_sor"):
        t0 = time.perf_counter()
        _, info, st = adasolve.solve_sor(A, b, omega=1.9, rtol=1e-30, maxiter=iters, ordering="multicolor",
                                         full_output=True)
        rows.append({"problem": f"solve_sor multicolor Poisson {n}x{n}", "threads": adasolve.max_threads(),
                     "ms_per_iter": (time.perf_counter() - t0) * 1e3 / max(st["iterations"], 1)})
    import scipy.sparse.linalg as spla

    t0 = time.perf_counter()
    spla.cg(A, b, rtol=1e-30, maxiter=max(iters // 4, 5))
    rows.append({"problem": f"scipy cg Poisson {n}x{n} (reference, 1 thread)", "threads": 1,
                 "ms_per_iter": (time.perf_counter() - t0) * 1e3 / max(iters // 4, 5)})
    print("cpu:", rows[-1], flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench gpu")
    ap.add_argument("--quick", action="store_true", help="small sizes, seconds")
    ap.add_argument("--out", default=os.environ.get("OUT"), help="also copy results here")
    ap.add_argument("--ref", default=os.environ.get("ADASOLVE_REF_MFAC", ""), help="path to IST-DASLab/M-FAC")
    ap.add_argument("--only", choices=["mfac", "sor", "cpu"], action="append")
    args = ap.parse_args(argv)
    import adasolve

    ok, why = adasolve.cuda_available(reason=True)
    if not ok:
        print(f"bench gpu: {why}")
        return 1
    import torch

    if args.quick:
        mfac_cases, n, iters, cpu_cases = [(10**6, 64), (2 * 10**6, 128)], 500, 20, [(10**6, 64)]
    else:
        mfac_cases = [(10**7, 256), (10**7, 1024), (10**8, 64), (10**8, 128)]
        n, iters, cpu_cases = 4000, 100, [(10**7, 256), (10**7, 1024)]
    only = set(args.only or ["mfac", "sor", "cpu"])
    from adasolve import _cuda

    bw = device_bandwidth()
    env = environment(extra={"gpu": _cuda.device_name(0), "torch": torch.__version__,
                             "device_copy_GBps": bw / 1e9})
    ref, ref_note = load_reference(args.ref)
    sections, notes = {}, [f"Device-to-device copy (read + write): {bw / 1e9:.0f} GB/s. Reference M-FAC: {ref_note}."]

    def save():
        path = write_results("gpu", sections, env, notes="\n\n".join(notes))
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            for f in ("gpu.json", "gpu.md"):
                shutil.copy(RESULTS / f, Path(args.out) / f)
        return path

    for name, fn in (("mfac", lambda: bench_mfac(mfac_cases, ref, bw, 10)),
                     ("sor", lambda: bench_sor(n, iters, 1e-6)),
                     ("cpu", lambda: bench_cpu(cpu_cases, n, iters))):
        if name not in only:
            continue
        try:
            res = fn()
            if name == "mfac":
                sections["M-FAC on the GPU (float32, damp 1e-4)"] = res
            elif name == "sor":
                rows, solves, extra = res
                sections[f"SOR / SSOR-CG on 2-D Poisson {n}x{n}: time per iteration"] = rows
                sections[f"SSOR-CG vs CuPy CG on 2-D Poisson {n}x{n}: to rtol 1e-6"] = solves
                notes.append(f"SOR plan setup (host colouring + permutation + upload): {extra['plan_setup_s']:.2f} s.")
            else:
                sections["The same problems on the CPU (adasolve CPU module)"] = res
        except Exception:
            notes.append(f"{name} failed: " + traceback.format_exc()[-1500:])
            print(traceback.format_exc(), flush=True)
        save()
    print(open(save()).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""M-FAC benchmark: ``python -m bench mfac [--quick] [--section ihvp|prune|all]``.

Section "ihvp": float32 gradients, d = 1e6 (m = 64, 256, 1024) and d = 1e7 (m = 64, 128).
Every (case, implementation) runs in its own subprocess so that its peak RSS is clean:

- ``adasolve-static``: StaticIHVP precompute, ihvp, (diag for m <= 256); plus the NumPy
  evaluation of the same Woodbury formulas on the same array (``G @ v``, Cholesky solve,
  ``(v - G.T @ c) / damp``: two GEMVs against the stored gradients).
- ``adasolve-sliding``: SlidingIHVP update, update_and_ihvp, ihvp (the window starts empty;
  the cost of a step does not depend on the contents).
- ``reference-static`` / ``reference-sliding``: IST-DASLab/M-FAC's ``prun.HInvFastBatch`` and
  ``optim.HInvFastUpMulti`` on the CPU with torch (export the repository to /work/ref/M-FAC or
  set ADASOLVE_MFAC_REF). Its code is imported by path, never copied. ``torch.lu(pivot=False)``
  is not implemented on the CPU in torch 2.x; the benchmark supplies it from a Cholesky
  factorization (the matrix is SPD: U = diag(C) C^T for A = C C^T), which is exact and fast.
  The static reference reads the growing d x i store m times (O(d m^2) memory traffic);
  cases where that exceeds the time budget are skipped and a smaller d is timed instead.

Memory: "mem/store" is (peak RSS - RSS before the gradients existed) / (m d 4 bytes).
Bandwidth: the IHVP reads the m x d store twice; "bw frac" = 2 m d 4 / t_ihvp divided by the
copy bandwidth (read + write bytes per second of a 1 GiB NumPy copy) measured in the same run.

Section "step": the sliding window's update_and_ihvp against the reference's update_mul in
``--runs`` independent runs (default 5; each run two fresh processes), at m = 1024. Bytes per
step: the two passes over the m x d float32 buffer plus the vectors (2 m d 4 + 3 d 4).

Section "prune": a 64-256-10 MLP trained on scikit-learn's digits; accuracy after one-shot
pruning of all weight matrices (biases kept) by magnitude, by the diagonal Fisher (OBD-style
``w^2 F_ii``, no update) and by adasolve's M-FAC OBS (scores + OBS update). Plot:
docs/mfac_pruning.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from bench._common import environment, measure_bandwidth, timeit, write_results

ROOT = Path(__file__).resolve().parent.parent
REF_DIR = Path(os.environ.get("ADASOLVE_MFAC_REF", "/work/ref/M-FAC"))
DAMP = 1e-5

FULL_CASES = [(10**6, 64), (10**6, 256), (10**6, 1024), (10**7, 64), (10**7, 128)]
QUICK_CASES = [(10**5, 32), (2 * 10**5, 64)]
# The static reference streams ~m^2 d 4 bytes; beyond this it is not run at that size.
REF_STATIC_MAX_TRAFFIC = 1.2e12
REF_EXTRA_CASE = (10**5, 1024)  # where the static reference is timed at m = 1024 instead


# --------------------------------------------------------------------------- workers
def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _rss_now() -> int:
    return _status("VmRSS")


def peak_rss_bytes() -> int:  # noqa: F811
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's peak over fork+exec
    return _status("VmHWM")


def _t(fn, repeat):
    r = timeit(fn, repeat=repeat, warmup=1 if repeat > 1 else 0)
    return r["best"]


def worker_static(d: int, m: int, repeat: int) -> Dict[str, Any]:
    import scipy.linalg as sla

    from adasolve import StaticIHVP

    rng = np.random.default_rng(0)
    v = rng.standard_normal(d, dtype=np.float32)
    base = max(peak_rss_bytes(), _rss_now())
    G = rng.standard_normal((m, d), dtype=np.float32)
    store = G.nbytes
    t0 = time.perf_counter()
    H = StaticIHVP(G, DAMP)
    t_pre = time.perf_counter() - t0
    t_ihvp = _t(lambda: H.ihvp(v), repeat)
    t_quad = _t(lambda: H.quad(v), repeat)
    t_diag = None
    if m <= 256:
        t0 = time.perf_counter()
        H.diag()
        t_diag = time.perf_counter() - t0
    peak_ours = peak_rss_bytes()
    # copy bandwidth in this process, seconds after the IHVP timings (the load of the shared
    # machine drifts over a run); after peak_ours so that its 2 GiB do not count
    bw_here = measure_bandwidth(1 << 30, repeat=3)
    # NumPy evaluation of the same formulas
    t0 = time.perf_counter()
    K = (G @ G.T).astype(np.float64)
    K[np.diag_indices(m)] += m * DAMP
    cf = sla.cho_factor(K, lower=True)
    t_np_pre = time.perf_counter() - t0

    def np_ihvp():
        y = G @ v
        c = sla.cho_solve(cf, y.astype(np.float64)).astype(np.float32)
        return (v - G.T @ c) / np.float32(DAMP)

    t_np = _t(np_ihvp, repeat)
    x_ours = H.ihvp(v).astype(np.float64)
    x_np = np_ihvp().astype(np.float64)
    agree = float(np.linalg.norm(x_ours - x_np) / np.linalg.norm(x_np))
    return dict(impl="adasolve-static", d=d, m=m, precompute_s=t_pre, ihvp_s=t_ihvp, quad_s=t_quad,
                diag_s=t_diag, numpy_precompute_s=t_np_pre, numpy_ihvp_s=t_np,
                rel_diff_vs_numpy=agree, store_bytes=store, bw_Bps=bw_here,
                mem_ratio=(peak_ours - base) / store)


def worker_sliding(d: int, m: int, repeat: int) -> Dict[str, Any]:
    from adasolve import SlidingIHVP

    rng = np.random.default_rng(0)
    # distinct gradients for every timed call (the reference's no-pivot LU needs them)
    gs = rng.standard_normal((4 * repeat + 4, d), dtype=np.float32)
    v = rng.standard_normal(d, dtype=np.float32)
    base = max(peak_rss_bytes(), _rss_now())
    t0 = time.perf_counter()
    H = SlidingIHVP(d, m, DAMP, dtype=np.float32)
    t_alloc = time.perf_counter() - t0
    out = np.empty(d, dtype=np.float32)
    it = iter(range(10**9))
    t_up = _t(lambda: H.update(gs[next(it) % len(gs)]), repeat)
    t_ui = _t(lambda: H.update_and_ihvp(gs[next(it) % len(gs)], out=out), repeat)
    t_ihvp = _t(lambda: H.ihvp(v, out=out), repeat)
    peak = peak_rss_bytes()
    store = m * d * 4
    return dict(impl="adasolve-sliding", d=d, m=m, alloc_s=t_alloc, update_s=t_up,
                update_and_ihvp_s=t_ui, ihvp_s=t_ihvp, store_bytes=store,
                mem_ratio=(peak - base) / store)


def _import_reference():
    if not (REF_DIR / "optim.py").exists():
        raise FileNotFoundError(
            f"M-FAC reference not found in {REF_DIR}: export IST-DASLab/M-FAC there "
            "(git archive HEAD optim.py prun.py) or set ADASOLVE_MFAC_REF")
    import torch

    sys.path.insert(0, str(REF_DIR))
    import optim  # noqa: E402
    import prun  # noqa: E402

    orig_lu = torch.lu

    def lu(A, pivot=True, get_infos=False):
        # LU without pivoting of an SPD matrix from its Cholesky factor (not on CPU in torch 2.x)
        if pivot or A.is_cuda:
            return orig_lu(A, pivot=pivot, get_infos=get_infos)
        C = torch.linalg.cholesky(A)
        U = C.diagonal().unsqueeze(1) * C.T
        piv = torch.arange(1, A.shape[-1] + 1, dtype=torch.int32)
        return (U, piv)

    optim.torch.lu = lu
    torch.lu = lu
    # nn.parallel.parallel_apply asks for an accelerator in torch 2.x; with one CPU "device"
    # it is a plain call of each function on its input
    optim.nn.parallel.parallel_apply = lambda fns, inputs, *a, **k: [f(x) for f, x in zip(fns, inputs)]
    return torch, optim, prun


def worker_ref_static(d: int, m: int, repeat: int) -> Dict[str, Any]:
    torch, optim, prun = _import_reference()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(d, generator=g)
    base = max(peak_rss_bytes(), _rss_now())
    G = torch.randn((1, m, d), generator=g)
    store = m * d * 4
    t0 = time.perf_counter()
    H = prun.HInvFastBatch(G, damp=DAMP)
    t_pre = time.perf_counter() - t0
    t_mul = _t(lambda: H.mul(x.reshape(1, -1)), repeat)
    peak = peak_rss_bytes()
    return dict(impl="reference-static", d=d, m=m, precompute_s=t_pre, ihvp_s=t_mul,
                store_bytes=store, mem_ratio=(peak - base) / store)


def worker_ref_sliding(d: int, m: int, repeat: int) -> Dict[str, Any]:
    torch, optim, prun = _import_reference()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    g = torch.Generator().manual_seed(0)
    gs = torch.randn((4 * repeat + 4, d), generator=g)
    x = torch.randn(d, generator=g)
    base = max(peak_rss_bytes(), _rss_now())
    t0 = time.perf_counter()
    H = optim.HInvFastUpMulti(torch.zeros((m, d)), "cpu", ["cpu"], damp=DAMP)
    t_alloc = time.perf_counter() - t0
    it = iter(range(10**9))
    t_up = _t(lambda: H.update(gs[next(it) % len(gs)]), repeat)
    t_ui = _t(lambda: H.update_mul(gs[next(it) % len(gs)]), repeat)
    t_mul = _t(lambda: H.mul(x), repeat)
    peak = peak_rss_bytes()
    store = m * d * 4
    return dict(impl="reference-sliding", d=d, m=m, alloc_s=t_alloc, update_s=t_up,
                update_and_ihvp_s=t_ui, ihvp_s=t_mul, store_bytes=store,
                mem_ratio=(peak - base) / store)


WORKERS = {
    "static": worker_static,
    "sliding": worker_sliding,
    "ref-static": worker_ref_static,
    "ref-sliding": worker_ref_sliding,
}


def run_worker(kind: str, d: int, m: int, repeat: int, timeout: float = 1800) -> Dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.mfac", "--worker", kind, str(d), str(m), str(repeat)]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"impl": kind, "d": d, "m": m, "error": f"timeout after {timeout:.0f} s"}
    if r.returncode != 0:
        msg = (r.stderr.strip().splitlines() or ["failed"])[-1]
        print(f"{kind} d={d} m={m} failed: {msg}", flush=True)
        return {"impl": kind, "d": d, "m": m, "error": msg}
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["wall_s"] = time.perf_counter() - t0
    print(json.dumps(res), flush=True)
    return res


# --------------------------------------------------------------------------- section 1
def section_ihvp(cases, repeat: int, with_ref: bool,
                 ref_static_max_traffic: float = REF_STATIC_MAX_TRAFFIC) -> Dict[str, List[Dict[str, Any]]]:
    bw = measure_bandwidth(1 << 30, repeat=3)
    print(f"copy bandwidth {bw / 1e9:.2f} GB/s", flush=True)
    ihvp_rows, step_rows, pre_rows, mem_rows = [], [], [], []
    ref_static_cases = [(d, m) for d, m in cases if m * m * d * 4 <= ref_static_max_traffic]
    extra = [REF_EXTRA_CASE] if with_ref and any(m >= 1024 for _, m in cases) else []
    for d, m in list(cases) + extra:
        st = run_worker("static", d, m, repeat)
        is_extra = (d, m) in extra and (d, m) not in cases
        rs = run_worker("ref-static", d, m, repeat) if with_ref and ((d, m) in ref_static_cases or is_extra) else None
        if not is_extra:
            sl = run_worker("sliding", d, m, repeat)
            rl = run_worker("ref-sliding", d, m, repeat) if with_ref else None
        if "error" in st:
            print("static failed:", st)
            continue
        store = m * d * 4
        if not is_extra:
            t = st["ihvp_s"]
            bw_case = st.get("bw_Bps", bw)
            ihvp_rows.append(dict(
                d=d, m=m, ihvp_s=t, GBps=2 * store / t / 1e9, copy_GBps=bw_case / 1e9,
                bw_frac=2 * store / t / bw_case,
                numpy_ihvp_s=st["numpy_ihvp_s"], ratio_numpy=t / st["numpy_ihvp_s"],
                ref_ihvp_s=(rs or {}).get("ihvp_s"),
                ratio_ref=(t / rs["ihvp_s"]) if rs and "ihvp_s" in rs else None,
                sliding_ihvp_s=sl.get("ihvp_s"), quad_s=st["quad_s"], diag_s=st["diag_s"],
                rel_diff_numpy=st["rel_diff_vs_numpy"]))
            step_rows.append(dict(
                d=d, m=m, update_s=sl.get("update_s"), update_and_ihvp_s=sl.get("update_and_ihvp_s"),
                ref_update_s=(rl or {}).get("update_s"), ref_update_and_ihvp_s=(rl or {}).get("update_and_ihvp_s"),
                ratio_ref=(sl["update_and_ihvp_s"] / rl["update_and_ihvp_s"])
                if rl and "update_and_ihvp_s" in rl and "update_and_ihvp_s" in sl else None,
                ref_note=(rl or {}).get("error")))
            mem_rows.append(dict(
                d=d, m=m, store_GB=store / 1e9, static_mem_ratio=st["mem_ratio"],
                sliding_mem_ratio=sl.get("mem_ratio"), ref_static_mem_ratio=(rs or {}).get("mem_ratio"),
                ref_sliding_mem_ratio=(rl or {}).get("mem_ratio")))
        pre_rows.append(dict(
            d=d, m=m, precompute_s=st["precompute_s"], numpy_precompute_s=st["numpy_precompute_s"],
            ref_precompute_s=(rs or {}).get("precompute_s"),
            ratio_ref=(st["precompute_s"] / rs["precompute_s"]) if rs and "precompute_s" in rs else None,
            ref_note=(rs or {}).get("error") if rs else ("skipped: m^2 d 4 bytes of traffic over the limit"
                                                          if with_ref else "not run")))
    return {"IHVP (float32)": ihvp_rows, "Sliding-window step (float32)": step_rows,
            "Static precompute (float32)": pre_rows, "Peak memory / gradient store": mem_rows}, bw


# --------------------------------------------------------------------------- section "step"
def section_step(cases, runs: int, repeat: int) -> List[Dict[str, Any]]:
    """The sliding-window step in `runs` independent runs (fresh processes, ours then the
    reference's, back to back), to show how much a single run can be trusted on a shared machine."""
    rows = []
    for d, m in cases:
        for r in range(runs):
            ours = run_worker("sliding", d, m, repeat)
            ref = run_worker("ref-sliding", d, m, repeat)
            ok = "update_and_ihvp_s" in ours and "update_and_ihvp_s" in ref
            rows.append(dict(
                d=d, m=m, run=r + 1, update_and_ihvp_s=ours.get("update_and_ihvp_s"),
                ref_update_and_ihvp_s=ref.get("update_and_ihvp_s"),
                ratio_ref=ours["update_and_ihvp_s"] / ref["update_and_ihvp_s"] if ok else None,
                update_s=ours.get("update_s"), ref_update_s=ref.get("update_s"),
                bytes_per_step=2 * m * d * 4 + 3 * d * 4, load1=os.getloadavg()[0],
                note=ref.get("error") or ours.get("error")))
    return rows


# --------------------------------------------------------------------------- section 2
def section_prune(quick: bool) -> List[Dict[str, Any]]:
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from adasolve import obs_prune

    torch.manual_seed(0)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    Xtr_t, ytr_t = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    Xte_t = torch.from_numpy(Xte)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60 if quick else 200):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xtr_t), ytr_t)
        loss.backward()
        opt.step()
    weights = [model[0].weight, model[2].weight]
    w0 = torch.cat([p.detach().reshape(-1) for p in weights]).double().numpy()
    state0 = {k: v.clone() for k, v in model.state_dict().items()}

    # per-sample gradients of the loss w.r.t. the weight matrices (the empirical Fisher's g_i)
    m = 128 if quick else 512
    idx = np.random.default_rng(0).choice(len(Xtr), m, replace=False)
    grads = np.empty((m, w0.size))
    for r, i in enumerate(idx):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(Xtr_t[i:i + 1]), ytr_t[i:i + 1]).backward()
        grads[r] = torch.cat([p.grad.reshape(-1) for p in weights]).double().numpy()
    fisher_diag = (grads ** 2).mean(axis=0)
    # scale-free damping: a tenth of the mean diagonal of the empirical Fisher
    damp = float(0.1 * fisher_diag.mean())

    def accuracy(wflat):
        model.load_state_dict(state0)
        off = 0
        with torch.no_grad():
            for p in weights:
                n = p.numel()
                p.copy_(torch.from_numpy(wflat[off:off + n]).reshape(p.shape))
                off += n
            return float((model(Xte_t).argmax(1).numpy() == yte).mean())

    rows = []
    block_sparsities = {0.5, 0.7, 0.8, 0.9, 0.95} if not quick else {0.5}
    base_acc = accuracy(w0)
    for s in ([0.5, 0.8, 0.9] if quick else [0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98]):
        k = int(round(s * w0.size))
        mag = w0.copy()
        mag[np.argsort(np.abs(w0))[:k]] = 0
        dfi = w0.copy()
        dfi[np.argsort(w0 ** 2 * (fisher_diag + damp))[:k]] = 0
        t0 = time.perf_counter()
        obs = obs_prune(w0, grads, s, damp=damp)
        t_obs = time.perf_counter() - t0
        obs16 = obs_prune(w0, grads, s, damp=damp, steps=16)
        row = dict(sparsity=s, dense_acc=base_acc, magnitude=accuracy(mag), diag_fisher=accuracy(dfi),
                   mfac_obs=accuracy(obs), mfac_obs_16steps=accuracy(obs16), obs_time_s=t_obs,
                   m=m, d=w0.size, damp=damp)
        if s in block_sparsities:
            # whole groups of 4 consecutive inputs of a neuron, exact group OBS
            # (the flat vector keeps them aligned: every row length is a multiple of 4)
            row["mfac_obs_block4"] = accuracy(obs_prune(w0, grads, s, damp=damp, pattern="block", group_size=4))
        rows.append(row)
        print(json.dumps(rows[-1]), flush=True)
    # 2:4 (50 %) along each weight matrix's input axis: the semi-structured pattern
    def two_four_by(score):
        out = w0.copy()
        off = 0
        for p in weights:
            n = p.numel()
            sc = score[off:off + n].reshape(-1, 4)
            drop = np.argsort(sc, axis=1)[:, :2] + np.arange(sc.shape[0])[:, None] * 4
            out[off + drop.reshape(-1)] = 0
            off += n
        return out

    two_four = dict(sparsity=0.5, dense_acc=base_acc, magnitude_2_4=accuracy(two_four_by(np.abs(w0))),
                    diag_fisher_2_4=accuracy(two_four_by(w0 ** 2 * (fisher_diag + damp))),
                    mfac_obs_2_4=accuracy(obs_prune(w0, grads, damp=damp, pattern="2:4")),
                    mfac_obs_2_4_2steps=accuracy(obs_prune(w0, grads, damp=damp, pattern="2:4", steps=2)),
                    m=m, d=w0.size, damp=damp)
    print(json.dumps(two_four), flush=True)
    rows.append(two_four)
    return rows


def plot_prune(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    two_four = [r for r in rows if "mfac_obs_2_4" in r]
    rows = [r for r in rows if "magnitude" in r]
    s = [r["sparsity"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(s, [r["magnitude"] for r in rows], "o-", color="C0", label="magnitude")
    ax.plot(s, [r["diag_fisher"] for r in rows], "s-", color="C1", label="diagonal Fisher (OBD)")
    ax.plot(s, [r["mfac_obs"] for r in rows], "^-", color="C2", label="M-FAC OBS (one shot)")
    ax.plot(s, [r["mfac_obs_16steps"] for r in rows], "v--", color="C3", label="M-FAC OBS (16 steps)")
    blk = [r for r in rows if "mfac_obs_block4" in r]
    if blk:
        ax.plot([r["sparsity"] for r in blk], [r["mfac_obs_block4"] for r in blk], "D-.", color="C4",
                label="M-FAC OBS, groups of 4 (block)")
    for r in two_four:
        # set slightly apart from the 50 % points of the curves so that both stay visible
        ax.plot([0.485], [r["magnitude_2_4"]], "o", color="C0", mfc="none", ms=11, label="2:4 magnitude")
        ax.plot([0.485], [r["diag_fisher_2_4"]], "s", color="C1", mfc="none", ms=11, label="2:4 diagonal Fisher")
        ax.plot([0.485], [r["mfac_obs_2_4"]], "^", color="C2", mfc="none", ms=11, label="2:4 M-FAC OBS")
    ax.axhline(rows[0]["dense_acc"], color="gray", ls=":", label="dense")
    ax.set_xlabel("sparsity of the weight matrices")
    ax.set_ylabel("test accuracy (digits)")
    ax.set_title(f"One-shot pruning of a 64-256-10 MLP on digits (d={rows[0]['d']}, m={rows[0]['m']})\n"
                 "hollow markers (left of 0.5): 2:4 pattern, 50 %; higher is better")
    ax.legend(fontsize=8, loc="lower left", ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--worker":
        kind, d, m, repeat = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
        print(json.dumps(WORKERS[kind](d, m, repeat)))
        return 0
    ap = argparse.ArgumentParser(prog="python -m bench mfac")
    ap.add_argument("--quick", action="store_true", help="small sizes, seconds")
    ap.add_argument("--section", choices=["ihvp", "prune", "step", "all"], default="all")
    ap.add_argument("--runs", type=int, default=5, help="independent runs of the step section")
    ap.add_argument("--no-ref", action="store_true", help="skip the reference implementation")
    ap.add_argument("--cases", default=None, help="d:m,d:m,... (overrides the defaults)")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--name", default="mfac", help="result file stem under bench/results/")
    ap.add_argument("--ref-static-max-traffic", type=float, default=REF_STATIC_MAX_TRAFFIC,
                    help="run the static reference only where m^2 d 4 bytes stay below this")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    cases = QUICK_CASES if args.quick else FULL_CASES
    if args.cases:
        cases = [tuple(int(float(x)) for x in c.split(":")) for c in args.cases.split(",")]
    repeat = args.repeat or (3 if args.quick else 3)
    with_ref = not args.no_ref and (REF_DIR / "optim.py").exists()
    if not args.no_ref and not with_ref:
        print(f"note: reference M-FAC not found in {REF_DIR}; running adasolve and NumPy only")
    sections: Dict[str, List[Dict[str, Any]]] = {}
    bw = None
    if args.section in ("ihvp", "all"):
        s, bw = section_ihvp(cases, repeat, with_ref, args.ref_static_max_traffic)
        sections.update(s)
    if args.section in ("step", "all") and with_ref:
        step_cases = [(d, m) for d, m in cases if m >= 1024] or [(10**6, 1024)]
        if args.cases:
            step_cases = cases
        elif args.quick:
            step_cases = [(10**5, 256)]
        sections["Sliding-window step, repeated runs (float32)"] = section_step(step_cases, args.runs, repeat)
    if args.section in ("prune", "all"):
        try:
            rows = section_prune(args.quick)
            sections["OBS pruning, digits MLP (test accuracy)"] = rows
            if not args.quick:
                plot_prune(rows, ROOT / "docs" / "mfac_pruning.png")
        except ImportError as exc:
            print(f"prune section skipped: {exc}")
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    notes = (
        "float32 gradients, damp=1e-5. Times are best of repeats in seconds. ratio_* = adasolve / peer "
        "(< 1: adasolve faster). bw_frac: the IHVP's two passes over the m x d store (2*m*d*4 bytes) per "
        f"second over the NumPy copy bandwidth (copy_GBps: read+write bytes per second of a 1 GiB copy) measured in the "
        "same worker process right after the IHVP timings (at the start of the run: {(bw or 0) / 1e9:.2f} GB/s). "
        "mem ratios: (peak RSS - RSS before the gradients existed) / (m*d*4 bytes), each implementation "
        "in its own process. Reference: IST-DASLab/M-FAC prun.HInvFastBatch / optim.HInvFastUpMulti on the "
        "CPU with torch, torch.lu(pivot=False) supplied through a Cholesky factorization (not available on "
        "the CPU in torch 2.x). The static reference is O(m^2 d) memory traffic and is only run where "
        f"that stays below {args.ref_static_max_traffic:.2g} bytes; at m=1024 it is timed at d=1e5 instead."
    )
    if args.quick:
        print("quick run: results not written")
        return 0
    # a run of one section keeps the other section's earlier results
    prev = ROOT / "bench" / "results" / f"{args.name}.json"
    env_extra = {"load_average_at_start": load0, "load_average_at_end": os.getloadavg()}
    if prev.exists():
        old = json.loads(prev.read_text())
        merged = dict(old.get("sections", {}))
        merged.update(sections)
        sections = merged
        if bw is None:
            bw = old.get("environment", {}).get("bandwidth_GBps", 0) * 1e9
            notes = notes.replace("(0.00 GB/s", f"({bw / 1e9:.2f} GB/s")
    env_extra["bandwidth_GBps"] = (bw or 0) / 1e9
    path = write_results(args.name, sections, environment(threads, env_extra), notes=notes)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

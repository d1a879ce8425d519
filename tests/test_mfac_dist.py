"""Sharded M-FAC over torch.distributed: 2 gloo processes on CPU against the single-process classes.

The 2-process run is started once per module (torch.multiprocessing, start method "spawn");
each rank writes its results to a file and the checks run here, in the parent.
"""

import os
import socket

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the sharded M-FAC tests need PyTorch (pip install -e '.[test]')")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available():  # pragma: no cover
    pytest.skip("this PyTorch build has no torch.distributed", allow_module_level=True)

from adasolve.mfac import ShardedSlidingIHVP, ShardedStaticIHVP, SlidingIHVP, StaticIHVP  # noqa: E402

pytestmark = pytest.mark.torch

M, D, DAMP, SPLIT = 6, 41, 1e-2, 25   # rank 0 holds columns [0, 25), rank 1 [25, 41): unequal shards
SEED = 7
STEPS = 9           # sliding-window steps (> M: the ring wraps)
MFAC_STEPS = 7


def _data():
    rng = np.random.default_rng(SEED)
    G = rng.standard_normal((M, D))
    V = rng.standard_normal((3, D))
    gs = rng.standard_normal((STEPS, D))
    ws = rng.standard_normal((STEPS, D))
    return G, V, gs, ws


def _model():
    torch.manual_seed(SEED)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    X = torch.randn(32, 5, dtype=torch.float64)
    y = torch.randn(32, 1, dtype=torch.float64)
    return net, X, y


def _run_mfac(net, X, y, **kw):
    from adasolve.torch import MFAC

    opt = MFAC(net.parameters(), lr=0.1, momentum=0.5, weight_decay=1e-3, ngrads=4, damp=1e-2, **kw)
    for _ in range(MFAC_STEPS):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(X), y).backward()
        opt.step()
    return opt, torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy()


def _worker(rank, world, port, outdir):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        calls = []
        real = dist.all_reduce

        def counting(t, *a, **k):  # independent of the classes' own counters
            calls.append(t.numel())
            return real(t, *a, **k)

        dist.all_reduce = counting
        G, V, gs, ws = _data()
        sl = slice(0, SPLIT) if rank == 0 else slice(SPLIT, D)
        out = {}
        H = ShardedStaticIHVP(torch.from_numpy(np.ascontiguousarray(G[:, sl])), DAMP)
        out["global_dim"] = H.global_dim
        out["offset"] = H.offset
        n0 = len(calls)
        out["ihvp"] = H.ihvp(torch.from_numpy(np.ascontiguousarray(V[0, sl]))).numpy()
        out["ihvp_calls"] = np.array(calls[n0:])
        n0 = len(calls)
        out["ihvp_batch"] = H.ihvp(torch.from_numpy(np.ascontiguousarray(V[:, sl]))).numpy()
        out["batch_calls"] = np.array(calls[n0:])
        n0 = len(calls)
        out["diag"] = H.diag().numpy()
        out["diag_calls"] = len(calls) - n0
        out["quad"] = H.quad(torch.from_numpy(np.ascontiguousarray(V[1, sl])))
        out["element"] = np.array([H.element(2, 30), H.element(30, 30), H.element(-1, 0)])
        S = ShardedSlidingIHVP(sl.stop - sl.start, M, DAMP, dtype=torch.float64)
        res, step_calls = [], []
        for i in range(STEPS):
            g = torch.from_numpy(np.ascontiguousarray(gs[i, sl]))
            n0 = len(calls)
            if i % 3 == 0:
                res.append(S.update_and_ihvp(g).numpy())
            elif i % 3 == 1:
                res.append(S.update_and_ihvp(g, torch.from_numpy(np.ascontiguousarray(ws[i, sl]))).numpy())
            else:
                S.update(g)
                res.append(S.ihvp(torch.from_numpy(np.ascontiguousarray(V[0, sl]))).numpy())
            step_calls.append(calls[n0:])
        out["sliding"] = np.stack(res)
        out["sliding_calls"] = np.array(step_calls, dtype=object)
        out["sliding_stats"] = np.array([S.comm_stats["all_reduce_calls"], S.comm_stats["numbers"]])
        net, X, y = _model()
        opt, params = _run_mfac(net, X, y, process_group=dist.group.WORLD)
        out["mfac"] = params
        out["mfac_shard"] = np.array([opt.hinv.lo, opt.hinv.hi])
        np.save(os.path.join(outdir, f"rank{rank}.npy"), out, allow_pickle=True)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    import torch.multiprocessing as mp

    outdir = str(tmp_path_factory.mktemp("mfac_dist"))
    mp.start_processes(_worker, args=(2, _free_port(), outdir), nprocs=2, join=True, start_method="spawn")
    return [np.load(os.path.join(outdir, f"rank{r}.npy"), allow_pickle=True).item() for r in range(2)]


def _cat(ranks, key):
    return np.concatenate([ranks[0][key], ranks[1][key]], axis=-1)


def test_static_matches_single_process(ranks):
    G, V, _, _ = _data()
    R = StaticIHVP(G, DAMP)
    assert [r["global_dim"] for r in ranks] == [D, D]
    assert [r["offset"] for r in ranks] == [0, SPLIT]
    np.testing.assert_allclose(_cat(ranks, "ihvp"), R.ihvp(V[0]), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_cat(ranks, "ihvp_batch"), R.ihvp(V), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_cat(ranks, "diag"), R.diag(), rtol=1e-6, atol=1e-6)
    # Independent dense reference for the diagonal and one entry.
    Finv = np.linalg.inv(DAMP * np.eye(D) + G.T @ G / M)
    np.testing.assert_allclose(_cat(ranks, "diag"), np.diag(Finv), rtol=1e-6)
    for r in ranks:
        assert r["quad"] == pytest.approx(R.quad(V[1]), rel=1e-6)
        np.testing.assert_allclose(r["element"], [Finv[2, 30], Finv[30, 30], Finv[D - 1, 0]], rtol=1e-6, atol=1e-9)


def test_communication_per_ihvp_is_one_allreduce_of_m(ranks):
    for r in ranks:
        assert list(r["ihvp_calls"]) == [M]          # one all-reduce of m numbers
        assert list(r["batch_calls"]) == [3 * M]     # one all-reduce for a batch of 3 vectors
        assert r["diag_calls"] == 0                  # the diagonal is local
        calls = list(r["sliding_calls"])
        for i, c in enumerate(calls):
            # update+ihvp(g): m; update+ihvp(g, v): 2m; update then ihvp: m and m.
            assert list(c) == ([M] if i % 3 == 0 else [2 * M] if i % 3 == 1 else [M, M])
        # The class's own counter adds the construction's check of m and the shard sizes
        # (one all-reduce of 2 + world numbers).
        assert list(r["sliding_stats"]) == [1 + sum(len(c) for c in calls), 4 + sum(sum(c) for c in calls)]


def test_sliding_matches_single_process(ranks):
    G, V, gs, ws = _data()
    T = SlidingIHVP(D, M, DAMP, dtype=np.float64)
    ref = []
    for i in range(STEPS):
        if i % 3 == 0:
            ref.append(T.update_and_ihvp(gs[i]))
        elif i % 3 == 1:
            ref.append(T.update_and_ihvp(gs[i], ws[i]))
        else:
            T.update(gs[i])
            ref.append(T.ihvp(V[0]))
    np.testing.assert_allclose(_cat(ranks, "sliding"), np.stack(ref), rtol=1e-6, atol=1e-6)
    # And against the last-m static reference (after the ring wrapped).
    np.testing.assert_allclose(_cat(ranks, "sliding")[-1], StaticIHVP(gs[STEPS - M:], DAMP).ihvp(V[0]),
                               rtol=1e-6, atol=1e-6)


def test_mfac_process_group_step_matches_single_process(ranks):
    net, X, y = _model()
    _, ref = _run_mfac(net, X, y)
    d = ref.size
    assert [tuple(r["mfac_shard"]) for r in ranks] == [(0, (d + 1) // 2), ((d + 1) // 2, d)]
    for r in ranks:
        np.testing.assert_allclose(r["mfac"], ref, rtol=1e-6, atol=1e-9)


# -- one process, no torch.distributed: the sharded classes are the single-process ones ----
def test_single_shard_without_distributed():
    G, V, gs, _ = _data()
    H = ShardedStaticIHVP(G, DAMP)
    np.testing.assert_allclose(H.ihvp(V).numpy(), StaticIHVP(G, DAMP).ihvp(V), rtol=1e-10)
    assert H.comm_stats == {"all_reduce_calls": 0, "numbers": 0, "bytes": 0}
    S32 = ShardedSlidingIHVP(D, M, DAMP)          # float32 window, float64 m-sized algebra
    T32 = SlidingIHVP(D, M, DAMP, dtype=np.float32)
    for g in gs:
        a = S32.update_and_ihvp(g.astype(np.float32)).numpy()
        b = T32.update_and_ihvp(g.astype(np.float32))
    assert a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())
    # Wider than one accumulation chunk: float32 products, float64 sums across chunks.
    rng = np.random.default_rng(1)
    Gw = rng.standard_normal((4, 40_000)).astype(np.float32)
    v = rng.standard_normal(40_000).astype(np.float32)
    ref = StaticIHVP(Gw.astype(np.float64), 0.1).ihvp(v.astype(np.float64))
    got = ShardedStaticIHVP(Gw, 0.1).ihvp(v).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


def test_bad_input():
    with pytest.raises(ValueError, match="local_grads"):
        ShardedStaticIHVP(np.ones(5), DAMP)
    with pytest.raises(ValueError, match="NaN"):
        ShardedStaticIHVP(np.full((2, 3), np.nan), DAMP)
    with pytest.raises(ValueError, match="damp"):
        ShardedStaticIHVP(np.ones((2, 3)), -1.0)
    H = ShardedStaticIHVP(np.ones((2, 3)), 1.0)
    with pytest.raises(ValueError, match="v must have 3"):
        H.ihvp(np.ones(4))
    with pytest.raises(IndexError):
        H.element(3, 0)
    with pytest.raises(TypeError, match="dtype"):
        ShardedSlidingIHVP(3, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="m"):
        ShardedSlidingIHVP(3, 0)
    with pytest.raises(ValueError, match="not initialized"):
        ShardedStaticIHVP(np.ones((2, 3)), 1.0, group=object())
    from adasolve.torch import MFAC

    with pytest.raises(ValueError, match="not initialized"):
        MFAC(torch.nn.Linear(2, 1).parameters(), process_group=object())

"""adasolve.torch.MFAC: trains a small model; matches a NumPy re-derivation of one step."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from adasolve.torch import MFAC  # noqa: E402


def test_mfac_trains_small_model():
    torch.manual_seed(0)
    X = torch.randn(256, 10)
    w_true = torch.randn(10, 1)
    y = torch.tanh(X @ w_true) + 0.01 * torch.randn(256, 1)
    model = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    opt = MFAC(model.parameters(), lr=0.05, ngrads=16, damp=1e-1, momentum=0.5, weight_decay=1e-4)
    losses = []
    for epoch in range(15):
        for i in range(0, 256, 32):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(X[i:i + 32]), y[i:i + 32])
            loss.backward()
            opt.step()
        with torch.no_grad():
            losses.append(float(torch.nn.functional.mse_loss(model(X), y)))
    assert losses[-1] < 0.3 * losses[0]
    assert all(np.isfinite(losses))


def test_mfac_step_matches_dense_formula():
    torch.manual_seed(1)
    p = torch.nn.Parameter(torch.randn(7, dtype=torch.float64))
    opt = MFAC([p], lr=0.1, ngrads=3, damp=0.5)
    grads = []
    for t in range(5):
        opt.zero_grad()
        loss = ((p - 1.0) ** 4).sum()
        loss.backward()
        g = p.grad.detach().numpy().copy()
        grads.append(g)
        before = p.detach().numpy().copy()
        opt.step()
        W = np.zeros((3, 7))
        win = grads[-3:]
        W[:len(win)] = win
        F = 0.5 * np.eye(7) + W.T @ W / 3
        np.testing.assert_allclose(p.detach().numpy(), before - 0.1 * np.linalg.solve(F, g), rtol=1e-8)


def test_mfac_closure_and_bad_input():
    p = torch.nn.Parameter(torch.zeros(3))
    opt = MFAC([p], ngrads=2, damp=1e-2)

    def closure():
        opt.zero_grad()
        loss = (p - 1).pow(2).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure).detach()) == 3.0
    with pytest.raises(ValueError, match="ngrads must be"):
        MFAC([torch.nn.Parameter(torch.zeros(2))], ngrads=0)
    with pytest.raises(ValueError, match="damp must be"):
        MFAC([torch.nn.Parameter(torch.zeros(2))], damp=0.0)
    with pytest.raises(TypeError, match="one dtype"):
        MFAC([torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))])


def _mlp(seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(8, 12), torch.nn.Tanh(), torch.nn.Linear(12, 3)).to(dtype)


def _batches(n, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, 8, generator=g), torch.randint(0, 3, (16,), generator=g)) for _ in range(n)]


def _train(model, opt, batches, sched=None):
    for X, y in batches:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
        if sched is not None:
            sched.step()


@pytest.mark.parametrize("kw", [dict(momentum=0.5), dict(blocks="layer", weight_decay=1e-3), dict(block_size=10)])
def test_checkpoint_resume_is_bit_for_bit(kw):
    import io

    batches = _batches(18)
    model = _mlp()
    opt = MFAC(model.parameters(), lr=0.05, ngrads=8, damp=1e-3, **kw)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    _train(model, opt, batches[:12], sched)
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    _train(model, opt, batches[12:], sched)  # the uninterrupted run

    buf.seek(0)
    ck = torch.load(buf, weights_only=True)
    model2 = _mlp(seed=123)
    opt2 = MFAC(model2.parameters(), lr=0.05, ngrads=8, damp=1e-3, **kw)
    sched2 = torch.optim.lr_scheduler.StepLR(opt2, step_size=5, gamma=0.5)
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    _train(model2, opt2, batches[12:], sched2)
    for a, b in zip(model.parameters(), model2.parameters()):
        assert torch.equal(a, b)
    assert opt2.hinv.count == 18 and opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_checkpoint_without_window_would_differ():
    """The check above can fail: restoring the parameters alone does not resume the run."""
    batches = _batches(18)
    model = _mlp()
    opt = MFAC(model.parameters(), lr=0.05, ngrads=8, damp=1e-3)
    _train(model, opt, batches[:12])
    ck = copy.deepcopy(model.state_dict())
    _train(model, opt, batches[12:])
    model2 = _mlp()
    model2.load_state_dict(ck)
    opt2 = MFAC(model2.parameters(), lr=0.05, ngrads=8, damp=1e-3)
    _train(model2, opt2, batches[12:])
    assert not all(torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters()))


def _dense_blockdiag(window, damp, sizes):
    G = np.asarray(window, dtype=np.float64)
    m = G.shape[0]
    F = np.zeros((G.shape[1],) * 2)
    s = 0
    for w in sizes:
        F[s:s + w, s:s + w] = damp * np.eye(w) + G[:, s:s + w].T @ G[:, s:s + w] / m
        s += w
    return F


def test_layer_blocks_groups_weight_decay_and_scheduler_match_dense():
    """blocks="layer", per-group lr/weight decay and a scheduler against a NumPy re-derivation."""
    torch.manual_seed(2)
    a = torch.nn.Parameter(torch.randn(3, 2, dtype=torch.float64))
    b = torch.nn.Parameter(torch.randn(4, dtype=torch.float64))
    c = torch.nn.Parameter(torch.randn(2, dtype=torch.float64))
    groups = [{"params": [a, b], "weight_decay": 0.1}, {"params": [c], "lr": 0.05}]
    m, damp = 3, 0.2
    for blocks, order, sizes in [("layer", [a, b, c], [6, 4, 2]), ("group", [a, b, c], [10, 2]),
                                 ([[c, a], [b]], [c, a, b], [8, 4])]:
        with torch.no_grad():
            for p in (a, b, c):
                p.copy_(torch.linspace(-1, 1, p.numel(), dtype=torch.float64).reshape(p.shape))
        opt = MFAC(groups, lr=0.2, ngrads=m, damp=damp, blocks=blocks)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 / (1 + k))
        assert opt.block_sizes == sizes
        window = []
        for t in range(5):
            opt.zero_grad()
            loss = (a.sum() * b.pow(3).sum() + c.pow(4).sum() + (a ** 2).sum() * c.sum())
            loss.backward()
            wd = {id(a): 0.1, id(b): 0.1, id(c): 0.0}
            lr = {id(a): 0.2 / (1 + t), id(b): 0.2 / (1 + t), id(c): 0.05 / (1 + t)}
            g = np.concatenate([(p.grad + wd[id(p)] * p).detach().numpy().ravel() for p in order])
            window.append(g)
            W = np.zeros((m, g.size))
            W[:len(window[-m:])] = window[-m:]
            u = np.linalg.solve(_dense_blockdiag(W, damp, sizes), g)
            before = np.concatenate([p.detach().numpy().ravel() for p in order])
            lrs = np.concatenate([np.full(p.numel(), lr[id(p)]) for p in order])
            opt.step()
            sched.step()
            after = np.concatenate([p.detach().numpy().ravel() for p in order])
            np.testing.assert_allclose(after, before - lrs * u, rtol=1e-9, atol=1e-12)


def test_blocks_bad_input():
    p, q = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match="blocks must be"):
        MFAC([p, q], blocks="layers")
    with pytest.raises(ValueError, match="in no block"):
        MFAC([p, q], blocks=[[p]])
    with pytest.raises(ValueError, match="more than one block"):
        MFAC([p, q], blocks=[[p, q], [p]])
    with pytest.raises(ValueError, match="not among"):
        MFAC([p], blocks=[[p, q]])
    with pytest.raises(ValueError, match="weight_decay must be"):
        MFAC([{"params": [p], "weight_decay": -1.0}])
    with pytest.raises(ValueError, match="not both"):
        MFAC([p], blocks="layer", block_size=2)
    opt = MFAC([p, q], blocks="layer", ngrads=2)
    sd = MFAC([p, q], ngrads=2).state_dict()
    with pytest.raises(ValueError, match="blocks"):
        opt.load_state_dict(sd)

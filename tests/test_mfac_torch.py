"""adasolve.torch.MFAC: trains a small model; matches a NumPy re-derivation of one step."""

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

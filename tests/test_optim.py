"""uat.optim: the update rules on problems with known answers, and per-member stopping."""

import numpy as np
import pytest

from uat import optim
from uat.errors import SpecError


def test_adam_first_step_is_minus_lr_times_sign():
    """With bias correction, step 1 is -lr * g / (|g| + eps) (Kingma & Ba 2015, sec. 2)."""
    cfg = optim.get("adam(lr=0.1)")
    g = np.array([[3.0, -2.0, 0.5]])
    step, state = optim.adam_update(g, optim.adam_init(g), cfg)
    np.testing.assert_allclose(step, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    assert state.t == 1


def quadratic(A, b):
    """k least-squares problems |A_i x - b_i|^2 / N: (loss, g, H) and the loss, as LM wants."""
    N = A.shape[1]

    def gauss_newton(theta, idx):
        r = np.einsum("knp,kp->kn", A[idx], theta) - b[idx]
        return (np.mean(r * r, axis=1), 2 / N * np.einsum("knp,kn->kp", A[idx], r),
                2 / N * np.swapaxes(A[idx], 1, 2) @ A[idx])

    def value(theta, idx):
        r = np.einsum("knp,kp->kn", A[idx], theta) - b[idx]
        return np.mean(r * r, axis=1)

    return gauss_newton, value


@pytest.mark.parametrize("spec", ["lm(steps=50)", "lm(steps=50, scale=True)"])
def test_lm_solves_linear_least_squares(spec):
    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(4, 30, 5)), rng.normal(size=(4, 30))
    A[..., 0] *= 1e3  # badly scaled columns: what scale=True is for
    gn, value = quadratic(A, b)
    res = optim.minimize(optim.get(spec), np.zeros((4, 5)), gauss_newton=gn, value=value)
    for i in range(4):
        x, *_ = np.linalg.lstsq(A[i], b[i], rcond=None)
        best = np.mean((A[i] @ x - b[i]) ** 2)
        # ftol = 1e-10 stops on the loss: loss to ~1e-10 relative, parameters to ~sqrt of it
        assert best * (1 - 1e-14) <= res.loss[i] <= best * (1 + 1e-9)  # 1e-14: rounding
        np.testing.assert_allclose(res.theta[i], x, rtol=1e-4)
    assert set(res.status) == {"converged"} and res.steps.max() < 50


def test_lm_members_stop_on_their_own():
    """A member whose problem is exactly solvable stops at zero loss; the other goes on."""
    rng = np.random.default_rng(1)
    A = rng.normal(size=(2, 10, 3))
    b = np.stack([A[0] @ np.array([1.0, 2.0, 3.0]), rng.normal(size=10)])
    gn, value = quadratic(A, b)
    res = optim.minimize(optim.get("lm(steps=100)"), np.zeros((2, 3)), gauss_newton=gn, value=value)
    assert res.loss[0] < 1e-25 and res.loss[1] > 0.01
    assert list(res.status) == ["converged", "converged"]


def test_nielsen_damping_rule():
    state = optim.LMState(np.array([1.0, 1.0, 1.0]), np.array([2.0, 2.0, 4.0]))
    new = optim.lm_damping(state, np.array([1.0, 0.5, -1.0]), np.array([True, True, False]))
    # rho = 1: mu * max(1/3, 1 - 1) = 1/3; rho = 1/2: mu * (1 - 0) = 1; rejected: mu * nu = 4
    np.testing.assert_allclose(new.mu, [1 / 3, 1.0, 4.0])
    np.testing.assert_allclose(new.nu, [2.0, 2.0, 8.0])


def test_adam_divergence_freezes_member_and_returns():
    def value_and_grad(theta):
        # member 0: a well-posed quadratic; member 1: loss grows without bound along theta
        loss = np.array([np.sum(theta[0] ** 2), np.exp(np.sum(theta[1]))])
        grad = np.stack([2 * theta[0], -np.full(2, 1.0)])  # a gradient that ascends for member 1
        return loss, grad

    cfg = optim.get("adam(lr=0.5, steps=300)")
    res = optim.minimize(cfg, np.ones((2, 2)), value_and_grad=value_and_grad,
                         value=lambda th: value_and_grad(th)[0])
    assert res.status[1] == "diverged" and res.steps[1] < 300
    assert res.status[0] == "max_steps" and res.loss[0] < 1e-3 and res.steps[0] == 300


@pytest.mark.parametrize(
    "text, word",
    [
        ("adam(lr=0)", "'lr' must be a positive number"),
        ("adam(steps=0)", "'steps' must be an integer from 1 to 10,000,000"),
        ("adam(dtype='float16')", "'dtype' must be 'float64' or 'float32'"),
        ("lm(tau=-1)", "'tau' must be a positive number"),
        ("sgd", "unknown optimizer 'sgd'"),
        ("lm(step=3)", "did you mean 'steps'"),
        ("lm(scale=1)", "'scale' must be bool"),
    ],
)
def test_bad_optimizer_specs(text, word):
    with pytest.raises(SpecError, match=word.replace("(", r"\(").replace(")", r"\)")):
        optim.get(text)

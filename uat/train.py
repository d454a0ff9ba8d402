"""Train one batch of k networks of one shape to the end: data in, one result per member out.

The members share the architecture and the optimizer; their seeds, and their data (targets
may differ per member), are their own. Errors are measured in float64 on the test points.
"""

import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import special

from uat import diagnose, network, optim, revive
from uat.network import Shape

TEST_CHUNK = 2**24  # evaluate test points in member chunks of at most this many activations


class MemberResult(NamedTuple):
    """One trained network: errors on train and test points, how the optimizer stopped."""

    train_loss: float  # the optimized loss (MSE, or BCE for sigmoid output)
    train_mse: float  # mean squared error of the output on the train points
    test_mse: float  # ... on the test points
    max_abs_err: float  # max |output - target| on the test points
    accuracy: float  # test accuracy of output > 1/2 (NaN for regression)
    test_ce: float  # test binary cross-entropy (NaN for regression)
    steps: int  # optimizer steps taken
    status: str  # "ok" or "diverged"
    stop: str  # why the optimizer stopped: "converged", "max_steps" or "diverged"
    seconds: float  # this member's share of the batch's wall time
    dead_start: int  # hidden units constant on the train points at the start (uat.diagnose)
    dead_end: int  # ... at the end
    pieces: float  # linear pieces on the test interval (1-D piecewise-linear nets; else NaN)
    theta: np.ndarray  # (P,) final parameters


def _stack(arrays: Sequence[np.ndarray], dtype) -> np.ndarray:
    """(k, rows, n_s) from k arrays, or the one array (rows, n_s) when all members share it."""
    first = arrays[0]
    if all(a is first for a in arrays):
        return np.ascontiguousarray(first, dtype=dtype)
    return np.ascontiguousarray(np.stack(arrays), dtype=dtype)


def _take(A: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return A if A.ndim == 2 else A[idx]


def gauss_newton_fns(shape: Shape, X: np.ndarray, Y: np.ndarray):
    """The (loss, gradient, Gauss-Newton matrix) and loss functions LM needs, on members idx.

    MSE: r = Z[L] - Y, loss = |r|^2 / N, g = (2/N) J^T r, H = (2/N) J^T J (N = m n_s).
    BCE with sigmoid output: p = sigmoid(Z[L]), g = (1/N) J^T (p - y),
    H = (1/N) J^T diag(p (1 - p)) J: the generalised Gauss-Newton matrix, which for depth 0
    is Newton's method for logistic regression (IRLS).
    """
    bce = shape.output == "sigmoid"

    def gauss_newton(theta, idx):
        Z_L, J = network.output_jacobian(theta, _take(X, idx), shape)
        Yi = Y[idx]
        k, N = theta.shape[0], Yi.shape[1] * Yi.shape[2]
        out = special.expit(Z_L) if bce else Z_L
        loss = network._loss(Z_L, out, Yi, shape)  # the same formula as the trial `value`
        r = (out - Yi).reshape(k, N, 1)
        JT = np.swapaxes(J, 1, 2)  # (k, P, N), C-contiguous
        if bce:
            JW, c = J * (out * (1 - out)).reshape(k, N, 1), 1.0 / N
        else:
            JW, c = J, 2.0 / N
        g = np.matmul(JT, r)[..., 0]  # J^T r: (k, P, N) @ (k, N, 1) -> (k, P)
        g *= c
        H = np.matmul(JT, JW)  # (k, P, N) @ (k, N, P) -> (k, P, P)
        H *= c
        return loss, g, H

    def value(theta, idx):
        return network.losses(theta, _take(X, idx), Y[idx], shape)

    return gauss_newton, value


def evaluate(theta: np.ndarray, X: np.ndarray, Y: np.ndarray, shape: Shape) -> dict:
    """Errors of k networks on points X: (k or -, n, n_s) against Y: (k, m, n_s), in float64.

    Returns arrays of shape (k,): mse, max_abs_err, and for sigmoid output accuracy and ce.
    Members are evaluated in chunks so that k x width x n_s activations never blow memory.
    """
    k, n_s = theta.shape[0], Y.shape[-1]
    chunk = max(1, TEST_CHUNK // max(1, max(shape.sizes) * n_s * (shape.depth + 1)))
    out = {"mse": [], "max_abs_err": [], "accuracy": [], "ce": []}
    for a in range(0, k, chunk):
        idx = np.arange(a, min(k, a + chunk))
        Z, A = network.forward(theta[idx].astype(np.float64), _take(X, idx), shape)
        R = A[-1] - Y[idx]
        out["mse"].append(np.mean(R * R, axis=(1, 2)))
        out["max_abs_err"].append(np.max(np.abs(R), axis=(1, 2)))
        if shape.output == "sigmoid":
            hit = (A[-1] > 0.5) == (Y[idx] > 0.5)
            out["accuracy"].append(np.mean(hit, axis=(1, 2)))
            ce = np.logaddexp(0, Z[-1]) - Y[idx] * Z[-1]
            out["ce"].append(np.mean(ce, axis=(1, 2)))
        else:
            out["accuracy"].append(np.full(len(idx), np.nan))
            out["ce"].append(np.full(len(idx), np.nan))
    return {key: np.concatenate(v) for key, v in out.items()}


def train_batch(
    shape: Shape, optimizer: str, seeds: Sequence[int], data: Sequence
) -> list[MemberResult]:
    """Initialise member i from seeds[i], train all k on their data[i], measure errors.

    data[i] is a uat.targets.Data (X: (n, n_train), Y: (m, n_train), X_test, Y_test).

    Member i's numbers depend only on (shape, optimizer, seeds[i], data[i]): not on k, not on
    the other members, not on their order.
    """
    if len(seeds) != len(data) or not seeds:
        raise ValueError(f"need one seed per member; got {len(seeds)} seeds, {len(data)} data")
    start = time.perf_counter()
    cfg = optim.get(optimizer)
    dtype = np.dtype(cfg.dtype)
    X64 = _stack([d.X for d in data], np.float64)
    X = X64.astype(dtype, copy=False)
    Y = _stack([d.Y for d in data], dtype)
    if Y.ndim == 2:
        Y = np.broadcast_to(Y, (len(data), *Y.shape))
    theta0 = network.init(shape, seeds, dtype, X=X64)  # float32 and float64 start alike
    if isinstance(cfg, optim.Adam):
        res = optim.minimize(
            cfg, theta0,
            value_and_grad=network.gradient_fn(shape, X, Y),
            value=lambda th: network.losses(th, X, Y, shape),
        )
    else:
        gauss_newton, value = gauss_newton_fns(shape, X, Y)

        def renew(theta, idx, rounds, steps):  # draws from the member's seed, round, step
            member_seeds = [(int(seeds[i]), int(r), int(t))
                            for i, r, t in zip(idx, rounds, steps, strict=True)]
            return revive.renew(theta, _take(X64, idx), Y[idx], shape, member_seeds)

        res = optim.minimize(cfg, theta0, gauss_newton=gauss_newton, value=value, renew=renew)

    Y64 = np.stack([np.asarray(d.Y, np.float64) for d in data])
    Xt = _stack([d.X_test for d in data], np.float64)
    Yt = np.stack([np.asarray(d.Y_test, np.float64) for d in data])
    with np.errstate(all="ignore"):
        train = evaluate(res.theta, X64, Y64, shape)
        test = evaluate(res.theta, Xt, Yt, shape)
        dead_start = diagnose.dead_units(theta0, X64, shape)
        dead_end = diagnose.dead_units(res.theta, X64, shape)
        lo, hi = np.min(Xt, axis=(-2, -1)), np.max(Xt, axis=(-2, -1))  # () or (k,)
        pieces = diagnose.linear_pieces(res.theta, lo, hi, shape)
    seconds = (time.perf_counter() - start) / len(seeds)
    results = []
    for i in range(len(seeds)):
        diverged = res.status[i] == "diverged"
        nan_if = (lambda v: float("nan")) if diverged else float  # noqa: E731
        results.append(MemberResult(
            train_loss=nan_if(res.loss[i]),
            train_mse=nan_if(train["mse"][i]),
            test_mse=nan_if(test["mse"][i]),
            max_abs_err=nan_if(test["max_abs_err"][i]),
            accuracy=nan_if(test["accuracy"][i]),
            test_ce=nan_if(test["ce"][i]),
            steps=int(res.steps[i]),
            status="diverged" if diverged else "ok",
            stop=str(res.status[i]),
            seconds=seconds,
            dead_start=int(dead_start[i]),
            dead_end=int(dead_end[i]),
            pieces=nan_if(pieces[i]),
            theta=res.theta[i],
        ))
    return results

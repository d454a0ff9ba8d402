"""What a trained network uses of its shape: dead hidden units and realised linear pieces.

Theory says a shape *can* approximate; these say how much of the shape training put to use,
so a verdict can tell "the optimizer failed" (dead units, few pieces) from "the shape
cannot". A unit is dead when its output is constant on the data: it then passes no
information on and gets no gradient through its pre-activation (a ReLU off on every sample).
A 1-D net with a piecewise-linear activation is piecewise linear in x; its pieces are counted
exactly, by following every unit's kinks layer by layer (Hanin & Rolnick 2019 count the same
regions, arXiv:1906.00904).
"""

import numpy as np

from uat import network
from uat.network import Shape

FLAT = 1e-12  # a unit is dead when its output varies by at most FLAT x (1 + max |A|)
SAME_SLOPE = 1e-9  # neighbouring pieces whose slopes differ by less (relative) are one piece
MERGE = 1e-12  # kinks closer than this x (hi - lo) are one kink


def dead_units(theta: np.ndarray, X: np.ndarray, shape: Shape) -> np.ndarray:
    """Hidden units constant on the points X, per member: (k,) integers.

    theta: (k, P); X: (k or -, n_0, n_s). A saturated tanh counts too when its output is
    flat to FLAT. Every hidden layer is counted; depth 0 has none.
    """
    k = theta.shape[0]
    if shape.depth == 0:
        return np.zeros(k, dtype=np.int64)
    with np.errstate(all="ignore"):
        _, A = network.forward(theta.astype(np.float64), X, shape)
    return sum(np.sum(constant(A_l), axis=1) for A_l in A[1:-1])  # hidden: (k, n_l, n_s)


def constant(A: np.ndarray) -> np.ndarray:
    """Which units of A: (..., n_l, n_s) are constant on the samples, to FLAT relative to
    their size: (..., n_l) bool. A unit with a NaN or inf output counts as constant (dead)."""
    with np.errstate(all="ignore"):
        spread = np.ptp(A, axis=-1)
        scale = 1.0 + np.max(np.abs(A), axis=-1)
    return ~(spread > FLAT * scale) | ~np.isfinite(A).all(axis=-1)


def linear_pieces(theta: np.ndarray, lo, hi, shape: Shape) -> np.ndarray:
    """Linear pieces each member realises on [lo, hi]: (k,) floats, NaN where not defined.

    lo, hi: numbers, or (k,) arrays (members with their own data).

    Defined for 1-D input and affine 1-D output with an activation that is piecewise linear with its
    kink at 0 (relu, leaky_relu, ...). Exact up to rounding: between two kinks found so far
    every pre-activation of the next layer is affine in x, so its zeros there are found by
    linear interpolation, never by sampling; each piece's slope comes from the chain rule at
    its midpoint, not from differences of outputs. Neighbouring pieces with equal slopes (a
    kink whose unit does not reach the output) and kinks that agree to rounding count once.
    """
    k = theta.shape[0]
    flat = shape.act.kink_slopes is None or shape.output != "affine"
    out = np.full(k, np.nan)
    if shape.n_in != 1 or shape.n_out != 1 or flat:
        return out
    lo, hi = np.broadcast_to(lo, k), np.broadcast_to(hi, k)
    with np.errstate(all="ignore"):
        for i in range(k):
            if hi[i] > lo[i]:
                out[i] = _pieces(theta[i : i + 1].astype(np.float64), lo[i], hi[i], shape)
    return out


def _pieces(theta: np.ndarray, lo: float, hi: float, shape: Shape) -> float:
    x = np.array([lo, hi])
    for l in range(1, shape.depth + 1):
        Z = network.forward(theta, x[None, :], shape)[0][l - 1][0]  # layer l: (n_l, n_x)
        if not np.isfinite(Z).all():
            return np.nan
        a, b = Z[:, :-1], Z[:, 1:]
        cross = a * b < 0  # a sign change strictly inside an interval: one new kink
        t = a[cross] / (a[cross] - b[cross])
        left = np.broadcast_to(x[:-1], a.shape)[cross]
        right = np.broadcast_to(x[1:], a.shape)[cross]
        x = np.unique(np.concatenate([x, left + t * (right - left)]))
        # kinks that agree to rounding (two units with one kink) are one kink
        x = x[np.concatenate([[True], np.diff(x) > MERGE * (hi - lo)])]
    slope = _slopes(theta, 0.5 * (x[:-1] + x[1:]), shape)
    if not np.isfinite(slope).all():
        return np.nan
    tol = SAME_SLOPE * (1.0 + np.max(np.abs(slope)))
    return float(1 + np.count_nonzero(np.abs(np.diff(slope)) > tol))


def _slopes(theta: np.ndarray, x: np.ndarray, shape: Shape) -> np.ndarray:
    """d(output)/dx at the points x: (n_x,), by the chain rule through the layers (exact for
    a piecewise-linear net: the slope of the piece each point lies in, no differencing)."""
    Z, A = network.forward(theta, x[None, :], shape)
    W, _ = network.unpack(theta, shape)
    dA = np.ones((1, x.size))  # dA[0]/dx: (n_0 = 1, n_x)
    for l in range(shape.depth):
        dA = shape.act.df(Z[l][0], A[l + 1][0]) * (W[l][0] @ dA)  # (n_l, n_x)
    return (W[-1][0] @ dA)[0]

"""Piecewise-linear oracles: what 1-D ReLU-type networks can and cannot reach on a sample.

A 1-D network whose activation has one kink (ReLU, leaky ReLU) is continuous and piecewise
linear (PL) with at most prod_l (n_l + 1) pieces. The functions below bracket its best mean
squared error on a sample: exact optima over PL classes that contain every such network
(floors) and PL fits that a network of a given width represents (ceilings). docs/theory.md,
4.1-4.2. `uat.theory` re-exports everything public here.

Samples are plain vectors, x : (n_s,), y : (n_s,); every error is the mean over the given sample
(uniform weights), returned as a Python float. Internally x is sorted and mapped to [-1, 1] and
y is centred: least-squares costs with an intercept and a slope do not change, cancellation in
the prefix sums does.
"""

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import optimize

Array = np.ndarray

_DEGENERATE = 1e-12  # n_s * Var below this (x scaled to [-1, 1]) counts as constant


def check_sample(x, y, x_name: str = "x", y_name: str = "y") -> tuple[Array, Array]:
    """`x` and `y` as float64 vectors of one length >= 1 with finite entries, else ValueError."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.size != y.size or x.size == 0:
        raise ValueError(
            f"`{x_name}` and `{y_name}` must be vectors of one length >= 1, shapes (n_s,); "
            f"got {x.shape} and {y.shape}"
        )
    for name, v in ((x_name, x), (y_name, y)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"`{name}` must be finite; it holds NaN or inf")
    return x, y


def _normalised(x: Array, y: Array) -> tuple[Array, Array, float, float]:
    """Sorted x mapped to [-1, 1], y in the same order minus its mean, and the map (c, h)."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    c = 0.5 * (xs[0] + xs[-1])
    h = 0.5 * (xs[-1] - xs[0]) or 1.0
    return (xs - c) / h, ys - ys.mean(), c, h


def _prefix(xs: Array, ys: Array) -> Array:
    """Cumulative sums of (x, y, x^2, x y, y^2) with a leading 0: shape (5, n_s + 1)."""
    P = np.zeros((5, xs.size + 1))
    np.cumsum(np.stack([xs, ys, xs * xs, xs * ys, ys * ys]), axis=1, out=P[:, 1:])
    return P


def _clamp_sse(xs: Array, P: Array, l, u) -> Array:
    """Least-squares SSE of y on [1, clamp(x, l, u)] for broadcast arrays l <= u (scaled units).

    O(1) per pair from the prefix sums: samples <= l see l, samples >= u see u, the rest x.
    """
    n = xs.size
    Sx, Sy, Sxx, Sxy, Syy = P
    il = np.searchsorted(xs, l, side="right")  # count of samples clamped to l
    iu = np.searchsorted(xs, u, side="left")  # samples from iu on are clamped to u
    nu = n - iu
    sc = il * l + (Sx[iu] - Sx[il]) + nu * u
    scc = il * l * l + (Sxx[iu] - Sxx[il]) + nu * u * u
    scy = l * Sy[il] + (Sxy[iu] - Sxy[il]) + u * (Sy[n] - Sy[iu])
    vcc = scc - sc * sc / n
    vcy = scy - sc * Sy[n] / n
    ok = vcc > _DEGENERATE * n
    explained = np.where(ok, vcy * vcy / np.where(ok, vcc, 1.0), 0.0)
    return np.maximum(Syy[n] - Sy[n] ** 2 / n - explained, 0.0)


def _refine_1d(f, grid: Array, values: Array, starts: int = 4) -> float:
    """Min of f over the grid, polished by bounded Brent search between grid neighbours."""
    best = float(values.min())
    for k in np.argsort(values)[:starts]:
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
        if hi > lo:
            res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded",
                                           options={"xatol": 1e-12})
            best = min(best, float(res.fun))
    return best


def ramp_floor(x, y) -> float:
    """Best MSE of alpha + beta relu(+-(x - t)): a width-1, depth-1 ReLU net (exact).

    Why: every such net is one ramp (flat then linear, or linear then flat) plus the output
    bias; t outside the sample gives the affine fit or a constant (docs/theory.md). Scans t over
    all samples and midpoints, then polishes the best few with bounded Brent search.

    x : (n_s,) inputs; y : (n_s,) targets. Returns the MSE over the sample.
    """
    x, y = check_sample(x, y)
    xs, ys, _, _ = _normalised(x, y)
    P = _prefix(xs, ys)
    u = np.unique(xs)
    grid = np.concatenate([[-2.0], np.sort(np.concatenate([u, 0.5 * (u[1:] + u[:-1])])), [2.0]])
    best = np.inf
    for one_sided in (lambda t: _clamp_sse(xs, P, t, 3.0), lambda t: _clamp_sse(xs, P, -3.0, t)):
        best = min(best, _refine_1d(lambda t, g=one_sided: float(g(t)), grid, one_sided(grid)))
    return best / xs.size


def clamp_floor(x, y, grid_size: int = 200) -> float:
    """Best MSE of alpha + beta clamp(x, l, u) over l < u: ReLU width 1, depth >= 2 (exact).

    Why: a width-1 ReLU net of depth >= 2 is flat-linear-flat, and every such function is a
    depth-2 net; depth adds nothing more (docs/theory.md). For fixed (l, u) the fit is a
    2-column least squares (O(1) from prefix sums); (l, u) is searched on a grid_size^2 grid of
    sample quantiles plus points outside the domain (affine fit, one-sided ramps, constant),
    then the best grid points are polished by Nelder-Mead.

    x : (n_s,) inputs; y : (n_s,) targets. Returns the MSE over the sample.
    """
    x, y = check_sample(x, y)
    xs, ys, _, _ = _normalised(x, y)
    P = _prefix(xs, ys)
    u = np.unique(xs)
    inner = u[np.unique(np.linspace(0, u.size - 1, min(grid_size, u.size)).round().astype(int))]
    inner = np.concatenate([inner, 0.5 * (inner[1:] + inner[:-1])])
    grid = np.concatenate([[-2.0], np.sort(inner), [2.0]])
    L, U = np.meshgrid(grid, grid, indexing="ij")
    mask = L < U
    sse = _clamp_sse(xs, P, L[mask], U[mask])  # (n_pairs,)
    best = float(sse.min())

    def f(v):
        return float(_clamp_sse(xs, P, min(v), max(v)))

    step = np.diff(grid).max()
    for k in np.argsort(sse)[:6]:
        v0 = np.array([L[mask][k], U[mask][k]])
        simplex = np.array([v0, v0 + [step, 0.0], v0 + [0.0, step]])
        res = optimize.minimize(f, v0, method="Nelder-Mead", options={
            "initial_simplex": simplex, "xatol": 1e-10, "fatol": 1e-14, "maxiter": 2000})
        best = min(best, float(res.fun))
    return best / xs.size


def _segment_costs(xs: Array, ys: Array, block: int = 64) -> Array:
    """C[i, j] = SSE of the best line through sorted samples i..j-1: shape (n_s + 1, n_s + 1).

    Segments of <= 2 distinct x cost 0 (also empty ones, i = j); j < i is +inf, and so is every
    run boundary that would split samples with equal x (one function, one value). Row i sums the
    samples shifted by sample i itself, so the centred moments lose only a few digits (global
    prefix sums would lose log10(n_s) more); rows go block by block to keep temporaries small.
    """
    n = xs.size
    C = np.full((n + 1, n + 1), np.inf)
    for r0 in range(0, n, block):
        rows = np.arange(r0, min(r0 + block, n))
        keep = np.arange(r0, n)[None, :] >= rows[:, None]  # (b, n - r0): samples k >= row i
        dx = np.where(keep, xs[None, r0:] - xs[rows, None], 0.0)
        dy = np.where(keep, ys[None, r0:] - ys[rows, None], 0.0)
        # (5, b, n - r0): sums over samples i..j-1 for j = r0+1..n, in the row's own frame
        D = np.cumsum(np.stack([dx, dy, dx * dx, dx * dy, dy * dy]), axis=2)
        cnt = (np.arange(r0 + 1, n + 1)[None, :] - rows[:, None]).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            vxx = D[2] - D[0] ** 2 / cnt
            vxy = D[3] - D[0] * D[1] / cnt
            ok = vxx > _DEGENERATE * cnt
            cost = D[4] - D[1] ** 2 / cnt - np.where(ok, vxy * vxy / np.where(ok, vxx, 1.0), 0.0)
        cost = np.maximum(cost, 0.0)
        cost[(cnt <= 1) | ((cnt == 2) & (D[0] != 0))] = 0.0  # a line through <= 2 points
        cost[cnt < 0] = np.inf
        C[rows, r0 + 1:] = cost
    C[np.arange(n + 1), np.arange(n + 1)] = 0.0
    ties = np.flatnonzero(xs[1:] == xs[:-1]) + 1  # a run may not start inside a repeated x
    C[ties, :] = np.inf
    C[:, ties] = np.inf
    return C


def _bellman(C: Array, pieces: int, keep_args: bool = False, start=None):
    """E_k[n] for k = 1..pieces, E_k[j] = min_i E_{k-1}[i] + C[i, j] (at most k runs).

    Rows i below the last zero of E_{k-1} are dominated (E = 0 there and C[i, j] >= C[z, j] for
    i < z <= j), so each round works on the (n+1-z)^2 corner only, ROWS rows at a time (the
    minimum of a block stays in cache: 2x faster than one (n+1-z)^2 temporary at n = 2048, and
    the same numbers, a minimum being exact). keep_args stores the argmins for back-tracking
    (column j: where its last run starts). start = (E_k[n] for k = 1..K, E_K) continues an
    earlier call's rounds. Returns (E_k[n] for k = 1..pieces, args, E_pieces).
    """
    n = C.shape[0] - 1
    if start is None:
        E, out = C[0].copy(), [C[0, n]]
    else:
        out, E = list(start[0]), start[1]
    args: list[Array] = []
    while len(out) < pieces:
        if E[n] == 0.0 and not keep_args:
            out += [0.0] * (pieces - len(out))
            break
        z = max(int(np.flatnonzero(E > 0)[0]) - 1, 0) if E[n] > 0 else n
        best = np.full(n + 1 - z, np.inf)
        arg = np.zeros(n + 1 - z, dtype=np.intp) if keep_args else None
        buf = np.empty((min(ROWS, n + 1 - z), n + 1 - z))
        for r in range(z, n + 1, ROWS):
            S = np.add(E[r : r + ROWS, None], C[r : r + ROWS, z:], out=buf[: min(ROWS, n + 1 - r)])
            if keep_args:  # first minimum wins, as one argmin over all rows would choose
                a = S.argmin(axis=0)
                m = S[a, np.arange(a.size)]
                better = m < best
                arg[better], best[better] = a[better] + r, m[better]
            else:
                np.minimum(best, S.min(axis=0), out=best)
        newE = np.zeros_like(E)
        newE[z:] = best
        if keep_args:
            full = np.arange(n + 1)  # j < z: an empty last run (E_{k-1}[j] = 0 already)
            full[z:] = arg
            args.append(full)
        E = newE
        out.append(E[n])
    return np.array(out[:pieces]), args, E


ROWS = 64  # rows of the DP's sum matrix per block
_FLOORS: dict = {}  # (sample bytes) -> (E_k[n] for k = 1..K, E_K): rounds done so far
_FLOORS_MAX = 64


def free_knot_floors(x, y, max_pieces: int, max_block: int = 2048) -> Array:
    """DP_1 .. DP_max_pieces: exact best MSE of a discontinuous PL fit with at most p pieces.

    Why: a 1-D net with a one-kink activation and p linear pieces fits each of p runs of the
    sorted sample by one line at best, so its MSE >= DP_p (rigorous; a shallow width-w ReLU net
    has p = w + 1, a deep one p = prod(n_l + 1)). docs/theory.md; Bellman-style dynamic
    programming over an (n_s+1)^2 cost matrix, O(p n_s^2) time. Distinct x: DP_p = 0 once
    p >= n_s / 2 (runs of two samples) and the rounds stop there; repeated x stay in one run.
    Above `max_block` samples the sorted sample is dealt into k = ceil(n_s / max_block)
    interleaved subsamples and their exact floors (as sums of squares) are added: any one PL
    function pays at least that on each part, so the result is still a rigorous floor, a little
    below the exact one, in k (n_s/k)^2 memory.

    x : (n_s,) inputs; y : (n_s,) targets; max_pieces : int >= 1.
    Returns (max_pieces,) MSEs, non-increasing, to rounding (segment sums are row-local).
    """
    x, y = check_sample(x, y)
    if int(max_pieces) != max_pieces or max_pieces < 1:
        raise ValueError(f"`max_pieces` must be an integer >= 1; got {max_pieces!r}")
    xs, ys, _, _ = _normalised(x, y)
    n, k = xs.size, math.ceil(xs.size / max_block)
    total = np.zeros(int(max_pieces))
    for part in range(k):
        xp, yp = xs[part::k], ys[part::k]
        # more pieces than distinct x values never help
        sse = _memo_bellman(xp, yp, min(int(max_pieces), np.unique(xp).size))
        total[: sse.size] += sse
        total[sse.size:] += sse[-1]
    return total / n


def _memo_bellman(xs: Array, ys: Array, pieces: int) -> Array:
    """_bellman's E_k[n], k = 1..pieces, on sorted samples, remembering the rounds done: a
    study asks for the same test set with many piece counts (every width and depth), and each
    round costs O(n_s^2)."""
    key = xs.tobytes() + ys.tobytes()
    done = _FLOORS.get(key)
    if done is not None and done[0].size >= pieces:
        return done[0][:pieces]
    sse, _, E = _bellman(_segment_costs(xs, ys), pieces, start=done)
    if len(_FLOORS) >= _FLOORS_MAX:
        _FLOORS.pop(next(iter(_FLOORS)))
    _FLOORS[key] = (sse, E)
    return sse


def free_knot_floor(x, y, pieces: int) -> float:
    """DP_pieces: exact best MSE of a discontinuous PL fit with `pieces` pieces (a floor).

    See `free_knot_floors`; for a shallow ReLU net of width w use pieces = w + 1.
    """
    return float(free_knot_floors(x, y, pieces)[-1])


def _knot_basis(x: Array, knots: Array) -> Array:
    """[1, x, relu(x - t_k)] : (n_s, 2 + n_knots): one ReLU unit per knot plus a slope unit."""
    return np.column_stack([np.ones_like(x), x, np.maximum(x[:, None] - knots[None, :], 0.0)])


def _ls_residual(B: Array, y: Array) -> Array:
    coef = np.linalg.lstsq(B, y, rcond=None)[0]
    return y - B @ coef


def uniform_knot_ceiling(x, y, width: int) -> float:
    """MSE of the least-squares continuous PL fit with `width` equal pieces on [min x, max x].

    Why: a width-w shallow ReLU net represents every continuous PL function with <= w pieces on
    the domain (relu(x - min x) gives the slope, w - 1 units the kinks, the output bias the
    offset; Arora et al. 2018, arXiv:1611.01491), so this value is achievable: an upper line
    (docs/theory.md). Uses the hat-function basis (well conditioned) and lstsq.

    x : (n_s,) inputs; y : (n_s,) targets; width : int >= 1. Returns the MSE over the sample.
    """
    x, y = check_sample(x, y)
    if int(width) != width or width < 1:
        raise ValueError(f"`width` must be an integer >= 1; got {width!r}")
    a, b = x.min(), x.max()
    if b == a:
        return float(np.mean((y - y.mean()) ** 2))
    s = (x - a) / (b - a) * width  # position in units of one piece
    k = np.clip(np.floor(s).astype(int), 0, width - 1)
    f = s - k
    B = np.zeros((x.size, width + 1))  # (n_s, w+1) hat functions at the w+1 knots
    rows = np.arange(x.size)
    B[rows, k] = 1.0 - f
    B[rows, k + 1] += f
    return float(np.mean(_ls_residual(B, y) ** 2))


def free_knot_ceiling(x, y, width: int) -> float:
    """MSE of a continuous PL fit with `width` pieces and optimised knots: achievable (ceiling).

    Variable projection: knots by `scipy.optimize.least_squares` (finite-difference Jacobian),
    coefficients by linear least squares, from two starts: uniform knots and the breaks of the
    optimal discontinuous `width`-piece partition (DP). Local optimisation: the value is what a
    width-w shallow ReLU net reaches (docs/theory.md), not necessarily the best such net.
    Never above `uniform_knot_ceiling`. Cost grows like width^2 n_s per iteration.

    x : (n_s,) inputs; y : (n_s,) targets; width : int >= 1. Returns the MSE over the sample.
    """
    best = uniform_knot_ceiling(x, y, width)
    x, y = check_sample(x, y)
    if width == 1 or x.min() == x.max():
        return best
    xs, ys, _, _ = _normalised(x, y)
    xd = xs[:: math.ceil(xs.size / 1024)]  # the DP start needs only a coarse sample
    _, args, _ = _bellman(_segment_costs(xd, ys[:: math.ceil(xs.size / 1024)]), width, True)
    j, breaks = xd.size, []
    for arg in reversed(args):  # back-track the last run's start, round by round
        j = int(arg[j])
        breaks.append(0.5 * (xd[j - 1] + xd[j]) if 0 < j < xd.size else -1.0)
    starts = [np.linspace(-1, 1, width + 1)[1:-1], np.clip(np.sort(breaks), -1 + 1e-9, 1 - 1e-9)]
    for t0 in starts:
        res = optimize.least_squares(
            lambda t: _ls_residual(_knot_basis(xs, t), ys), t0, bounds=(-1.0, 1.0),
            method="trf", x_scale=2.0 / width, xtol=1e-12, ftol=1e-12, max_nfev=100 * width)
        best = min(best, float(np.mean(_ls_residual(_knot_basis(xs, res.x), ys) ** 2)))
    return best


def relu_max_pieces(widths: Sequence[int]) -> int:
    """Max number of linear pieces of a 1-D ReLU net with hidden widths n_1..n_L: prod(n_l + 1).

    Why: each hidden layer splits every piece of its input at <= n_l points (one kink per unit),
    docs/theory.md (Montufar et al. 2014, arXiv:1402.1869). Holds for any one-kink
    activation (leaky ReLU too). widths : sequence of ints >= 1 (empty: an affine map, 1 piece).
    """
    out = 1
    for w in widths:
        if int(w) != w or w < 1:
            raise ValueError(f"`widths` must hold integers >= 1; got {list(widths)!r}")
        out *= int(w) + 1
    return out


def shallow_regions(width: int, n_in: int) -> int:
    """Max linear regions of a shallow ReLU net: sum_{j=0}^{n_in} C(width, j).

    Why: the regions are cells of an arrangement of `width` hyperplanes in R^n_in (Zaslavsky's
    count; Pascanu, Montufar, Bengio 2014, arXiv:1312.6098). n_in = 1 gives width + 1.
    """
    for name, v in (("width", width), ("n_in", n_in)):
        if int(v) != v or v < 1:
            raise ValueError(f"`{name}` must be an integer >= 1; got {v!r}")
    return sum(math.comb(int(width), j) for j in range(int(n_in) + 1))


class SawtoothFloor(NamedTuple):
    """Closed-form floors for a PL fit of Telgarsky's sawtooth (uniform measure on [0, 1])."""

    mse: float  # (1/12)(1 - (p - 1) / 2^(k-1)), clipped at 0
    sup: float  # 1/2 when some tooth is unbroken (p <= 2^(k-1)), else 0


def telgarsky_sawtooth_floor(pieces: int, k: int) -> SawtoothFloor:
    """Floors for approximating the sawtooth Delta^k (2^(k-1) teeth of height 1) by p PL pieces.

    Why: p pieces break at most p - 1 teeth; an unbroken tooth is fit by one line at best by the
    constant 1/2 (MSE 1/12 per unit length, sup error 1/2). Telgarsky 2016, arXiv:1602.04485;
    docs/theory.md. Continuum bounds: a discrete sample has its own, sharper DP floor.
    """
    for name, v in (("pieces", pieces), ("k", k)):
        if int(v) != v or v < 1:
            raise ValueError(f"`{name}` must be an integer >= 1; got {v!r}")
    teeth = 2 ** (int(k) - 1)
    return SawtoothFloor(max(0.0, (1 - (pieces - 1) / teeth) / 12), 0.5 if pieces <= teeth else 0.0)

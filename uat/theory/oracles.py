"""Exact floors and bounds for networks of a given activation and shape on a sample.

A *floor* is a rigorous lower bound on the error of every network of a shape on the given
sample (a network below it is a bug: wrong grid, leaked points, a forward-pass error); *exact*
means some network of that shape attains it. Errors are over the study's own test sample with
uniform weights (docs/theory.md). Compare a trained net with a floor at a relative tolerance
of ~1e-9: both carry rounding, and a net that attains an exact floor can land a hair below it.

Shapes: 1-D oracles take x : (n_s,), y : (n_s,); n-D ones X : (n, n_s) (samples are columns, as
everywhere in uat) or a vector for n = 1. MSEs are means over the sample, as Python floats.
"""

import hashlib
import itertools
import math

import numpy as np
from scipy import optimize, special

from uat import spec
from uat.theory.pl import check_sample

Array = np.ndarray


def check_inputs(X, y) -> tuple[Array, Array]:
    """X as float64 (n, n_s) (a vector is n = 1) and y as (n_s,), finite, else ValueError."""
    X = np.asarray(X, dtype=np.float64)
    X = X[None, :] if X.ndim == 1 else X
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim != 1 or X.shape[1] != y.size or y.size == 0:
        raise ValueError(
            f"`X` must have shape (n, n_s) or (n_s,) and `y` shape (n_s,); got {X.shape} and "
            f"{y.shape}"
        )
    for name, v in (("X", X), ("y", y)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"`{name}` must be finite; it holds NaN or inf")
    return X, y


def _check_int(name: str, value, low: int = 0) -> int:
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}; got {value!r}")
    return int(value)


def _mse_after_projection(A: Array, y: Array) -> float:
    """Mean squared residual of y after least squares on the columns of A : (n_s, k)."""
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(np.mean((y - A @ coef) ** 2))


def affine_floor(X, y) -> float:
    """Best MSE of an affine map a.x + b: every identity-activation net, any depth (exact).

    Why: without an activation each layer is affine, so the network is (docs/theory.md).
    X : (n, n_s) or (n_s,); y : (n_s,). Least squares on [1, X - mean] (lstsq).
    """
    X, y = check_inputs(X, y)
    A = np.column_stack([np.ones(y.size), (X - X.mean(axis=1, keepdims=True)).T])  # (n_s, n+1)
    return _mse_after_projection(A, y)


def poly_net_degree(activation_degree: int, depth: int) -> int:
    """Degree bound d^L of a net with a degree-d polynomial activation and L hidden layers."""
    return _check_int("activation_degree", activation_degree, 1) ** _check_int("depth", depth)


def _poly_floor_1d(x: Array, y: Array, degree: int) -> float:
    """Least squares over polynomials of degree <= `degree` by Vandermonde with Arnoldi.

    Brubeck, Nakatsukasa, Trefethen 2021 (SIAM Review 63(2), arXiv:1911.09988): build an
    orthonormal basis of the Krylov space span{1, x, ..., x^d} on the sample (classical
    Gram-Schmidt, twice) instead of the ill-conditioned Vandermonde matrix; stable for every
    degree below the number of distinct x.
    """
    u, inv, cnt = np.unique(x, return_inverse=True, return_counts=True)
    if degree >= u.size - 1:  # interpolation: only the spread of y at repeated x remains
        means = np.bincount(inv, weights=y) / cnt
        return float(np.mean((y - means[inv]) ** 2))
    s = (x - 0.5 * (u[0] + u[-1])) / (0.5 * (u[-1] - u[0]))  # x mapped to [-1, 1]
    Q = np.empty((x.size, degree + 1))  # (n_s, d+1) orthonormal columns
    Q[:, 0] = 1 / math.sqrt(x.size)
    for k in range(1, degree + 1):
        v = s * Q[:, k - 1]
        for _ in range(2):
            v -= Q[:, :k] @ (Q[:, :k].T @ v)  # (n_s, k) @ (k,) -> (n_s,)
        Q[:, k] = v / np.linalg.norm(v)
    r = y - Q @ (Q.T @ y)
    r -= Q @ (Q.T @ r)
    return float(np.mean(r**2))


def poly_floor(X, y, degree: int) -> float:
    """Best MSE of a polynomial of total degree <= `degree` on the sample (exact).

    Why: a net whose activation is a degree-d polynomial is a polynomial of degree <= d^L
    (Leshno, Lin, Pinkus, Schocken 1993; docs/theory.md), so this is its floor.
    1-D: Vandermonde with Arnoldi, any degree. n-D: tensor Legendre products of total degree
    <= degree on coordinates mapped to [-1, 1], lstsq; needs C(n + degree, n) <= n_s.

    X : (n, n_s) or (n_s,); y : (n_s,); degree : int >= 0.
    """
    X, y = check_inputs(X, y)
    degree = _check_int("degree", degree)
    n, n_s = X.shape
    if n == 1:
        return _poly_floor_1d(X[0], y, degree)
    k = math.comb(n + degree, n)
    if k > n_s:
        raise ValueError(
            f"`degree` {degree} in {n} variables needs {k} basis polynomials, more than the "
            f"{n_s} samples; the floor is then uninformative"
        )
    return _mse_after_projection(_poly_basis(X, degree), y)


def _poly_basis(X: Array, degree: int) -> Array:
    """Tensor Legendre products of total degree <= `degree` on coordinates mapped to [-1, 1]:
    (n_s, C(n + degree, n)), a well-conditioned basis of the n-variate polynomials."""
    n = X.shape[0]
    lo, hi = X.min(axis=1, keepdims=True), X.max(axis=1, keepdims=True)
    S = (2 * X - lo - hi) / np.where(hi > lo, hi - lo, 1.0)  # (n, n_s) in [-1, 1]
    V = [np.polynomial.legendre.legvander(S[i], degree) for i in range(n)]  # n x (n_s, d+1)
    cols = []
    for total in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(n), total):
            e = np.bincount(np.array(combo, dtype=int), minlength=n)
            cols.append(np.prod([V[i][:, e[i]] for i in range(n)], axis=0))
    return np.column_stack(cols)


def _alternations(r: Array, level: float) -> int:
    """Sign runs among the residuals r (in x order) with |r| >= level: an alternating
    sequence of that length exists there."""
    signs = np.sign(r[np.abs(r) >= level])
    return 0 if signs.size == 0 else 1 + int(np.count_nonzero(np.diff(signs)))


def _dual_bound(V: Array, y: Array) -> float:
    """A certified lower bound on min_c max |y - V c|: for any weights mu with V^T mu = 0,
    |mu . (y - V c)| = |mu . y| <= ||mu||_1 max |y - V c| for every c, so |mu . y| / ||mu||_1
    is a floor (weak LP duality). mu comes from HiGHS's dual solution of the minimax LP,
    projected exactly onto the null space of V^T (least squares), so the bound holds whatever
    the solver's tolerances; it equals the minimax error when the dual is optimal."""
    k, ones = V.shape[1], np.ones((V.shape[0], 1))
    res = optimize.linprog(np.r_[np.zeros(k), 1.0], A_ub=np.block([[-V, -ones], [V, -ones]]),
                           b_ub=np.r_[-y, y], bounds=[(None, None)] * k + [(0, None)],
                           method="highs")
    if not res.success:
        raise ValueError(f"the minimax linear programme failed: {res.message}")
    lam = res.ineqlin.marginals  # <= 0 for the two blocks of rows
    mu = lam[V.shape[0]:] - lam[:V.shape[0]]  # weights on the residual y - V c
    mu = mu - V @ np.linalg.lstsq(V, mu, rcond=None)[0]  # V^T mu = 0 (to rounding)
    norm = float(np.sum(np.abs(mu)))
    if norm == 0:
        return 0.0
    slack = float(np.max(np.abs(V.T @ mu))) * float(np.max(np.abs(res.x[:k]))) * k
    return max(0.0, (abs(float(mu @ y)) - slack) / norm * (1 - 1e-12))


def _minimax(V: Array, y: Array) -> Array:
    """Coefficients c minimising max |y - V c| (a linear programme, HiGHS). V : (n_s, k)."""
    k, ones = V.shape[1], np.ones((V.shape[0], 1))
    res = optimize.linprog(np.r_[np.zeros(k), 1.0], A_ub=np.block([[-V, -ones], [V, -ones]]),
                           b_ub=np.r_[-y, y], bounds=[(None, None)] * k + [(0, None)],
                           method="highs", options={"primal_feasibility_tolerance": 1e-10,
                                                    "dual_feasibility_tolerance": 1e-10})
    if not res.success:
        raise ValueError(f"the minimax linear programme failed: {res.message}")
    return res.x[:k]


_SUP_CACHE: dict[tuple, float] = {}  # (sha-1 of X and y, degree) -> poly_sup_floor


def poly_sup_floor(X, y, degree: int) -> float:
    """Best max |error| of a polynomial of total degree <= `degree` on the sample.

    Why: a polynomial-activation net is a polynomial of degree <= d^L (docs/theory.md), so in
    the sup norm the theorems use it can do no better than the minimax polynomial on the same
    points. Computed as a linear programme (HiGHS) over a Chebyshev (1-D) or tensor Legendre
    (n-D) basis. In 1-D the value is made rigorous by de la Vallee Poussin's theorem: residuals
    that alternate in sign at `degree` + 2 points with |r| >= m prove that no polynomial of the
    degree is within m, and the floor is the largest such m. In n-D there is no alternation
    theorem: a dual certificate from the LP (`_dual_bound`). Never below the root of the
    least-squares floor (sup >= RMS), which is exact. Repeated x (1-D): also at least
    half the widest spread of y at one x.

    X : (n, n_s) or (n_s,); y : (n_s,); degree : int >= 0; n-D needs C(n + degree, n) <= n_s.
    """
    X, y = check_inputs(X, y)
    degree = _check_int("degree", degree)
    key = (hashlib.sha1(X.tobytes() + y.tobytes()).hexdigest(), X.shape, degree)
    if key not in _SUP_CACHE:  # a study asks for one sample's floor at many widths
        if len(_SUP_CACHE) >= 256:
            _SUP_CACHE.pop(next(iter(_SUP_CACHE)))  # the oldest first
        _SUP_CACHE[key] = _poly_sup_floor(X, y, degree)
    return _SUP_CACHE[key]


def _poly_sup_floor(X: Array, y: Array, degree: int) -> float:
    rms = math.sqrt(poly_floor(X, y, degree))
    if X.shape[0] > 1:
        return max(_dual_bound(_poly_basis(X, degree), y), rms)
    x = X[0]
    u, inv = np.unique(x, return_inverse=True)  # distinct x, sorted
    hi_y = np.full(u.size, -np.inf)
    lo_y = np.full(u.size, np.inf)
    np.maximum.at(hi_y, inv, y)
    np.minimum.at(lo_y, inv, y)
    spread = 0.5 * float(np.max(hi_y - lo_y))
    mid = (hi_y + lo_y) / 2
    if degree >= u.size - 1:
        return max(spread, rms)
    V = np.polynomial.chebyshev.chebvander((2 * u - u[0] - u[-1]) / (u[-1] - u[0]), degree)
    r = mid - V @ _minimax(V, mid)  # residuals in x order
    levels = np.sort(np.abs(r))[::-1]  # candidate m, largest first; runs grow as m falls
    lo, hi = 0, levels.size - 1
    if _alternations(r, levels[hi]) < degree + 2:
        return max(spread, rms)  # no alternation at all: only the trivial bounds are proven
    while lo < hi:  # the largest m = levels[i] with degree + 2 alternations
        i = (lo + hi) // 2
        if _alternations(r, levels[i]) >= degree + 2:
            hi = i
        else:
            lo = i + 1
    return max(float(levels[lo]), spread, rms)


def _grouped(x: Array, y: Array):
    """Distinct sorted x with per-group count, mean, max, min of y, and the inverse map."""
    u, inv, cnt = np.unique(x, return_inverse=True, return_counts=True)
    gmax = np.full(u.size, -np.inf)
    gmin = np.full(u.size, np.inf)
    np.maximum.at(gmax, inv, y)
    np.minimum.at(gmin, inv, y)
    return inv, cnt, np.bincount(inv, weights=y) / cnt, gmax, gmin


def isotonic_floor(x, y) -> float:
    """Best MSE of a monotone (non-decreasing or non-increasing) function of x (exact over those).

    Why: with a monotone activation every width-1 net is a composition of monotone maps, hence
    monotone (docs/theory.md). PAVA via `scipy.optimize.isotonic_regression` on the distinct x
    (repeated x must share one value), minimum over both directions.

    x : (n_s,); y : (n_s,).
    """
    x, y = check_sample(x, y)
    inv, cnt, means, _, _ = _grouped(x, y)
    within = float(np.sum((y - means[inv]) ** 2))
    best = min(
        float(np.sum(cnt * (optimize.isotonic_regression(means, weights=cnt, increasing=inc).x
                            - means) ** 2))
        for inc in (True, False)
    )
    return (within + best) / y.size


def monotone_sup_floor(x, y) -> float:
    """Best max |error| of a monotone function of x: 1/2 min over directions of the worst drop.

    Why: width-1 nets with a monotone activation are monotone; for non-decreasing g,
    sup|f - g| >= (f(s) - f(t)) / 2 for all s <= t, attained by the envelope
    (max_{t<=x} f + min_{t>=x} f) / 2 (docs/theory.md, after Johnson 2019, arXiv:1810.00393).
    x : (n_s,); y : (n_s,).
    """
    x, y = check_sample(x, y)
    _, _, _, gmax, gmin = _grouped(x, y)
    up = np.max(np.maximum.accumulate(gmax) - gmin)  # worst f(s) - f(t), s <= t
    down = np.max(gmax - np.minimum.accumulate(gmin))  # worst f(t) - f(s), s <= t
    return 0.5 * float(min(up, down))


def sup_floor_narrow(X, y, boundary_mask) -> float:
    """Sup-error floor of width <= n nets (n >= 2): 1/2 max_{x0} dist(f(x0), f(boundary)).

    Why: Johnson 2019 (arXiv:1810.00393): with a uniformly continuous activation that is a
    uniform limit of injective maps (ReLU, leaky ReLU, sigmoid, tanh, softplus, ELU) every
    level-set component of a width <= n net is unbounded, so it meets the boundary at a p with
    g(p) = g(x0), and 2 sup|f - g| >= |f(x0) - f(p)| (docs/theory.md). f(boundary) is taken as the
    interval spanned by the flagged samples (the boundary of a box or ball is connected): never
    above the value with the discrete set. A continuum bound: the max over test points tends to
    it as the grid refines. Bump exp(-|x|^2/(2 s^2)) on [-1, 1]^2: (1 - exp(-1/(2 s^2))) / 2.

    X : (n, n_s) with n >= 2; y : (n_s,); boundary_mask : (n_s,) bool, True on the boundary.
    """
    X, y = check_inputs(X, y)
    if X.shape[0] < 2:
        raise ValueError("`X` must have n >= 2 rows; in 1-D use monotone_sup_floor (width 1)")
    mask = np.asarray(boundary_mask)
    if mask.shape != y.shape or mask.dtype != bool or not mask.any():
        raise ValueError(
            f"`boundary_mask` must be a bool array of shape {y.shape} with a True entry; got "
            f"dtype {mask.dtype}, shape {mask.shape}"
        )
    lo, hi = y[mask].min(), y[mask].max()
    return 0.5 * float(np.max(np.maximum(np.maximum(lo - y, y - hi), 0.0)))


def _grid_boundary(X: Array) -> Array | None:
    """Boundary mask of a full tensor grid (>= 3 values per axis), else None."""
    axes = [np.unique(row) for row in X]
    if any(a.size < 3 for a in axes) or math.prod(a.size for a in axes) != X.shape[1]:
        return None
    if np.unique(X.T, axis=0).shape[0] != X.shape[1]:
        return None
    return np.any([(row == a[0]) | (row == a[-1]) for row, a in zip(X, axes, strict=True)], axis=0)


def barron_bound(C_f: float, r: float, width: int) -> float:
    """Barron's bound (2 r C_f)^2 / width on the MSE of a shallow sigmoidal net (an upper line).

    Barron 1993, IEEE Trans. Inf. Theory 39(3):930-945 (docs/theory.md): for f with
    C_f = int |w| |f~(w)| dw on the ball of radius r, some width-`width` net is this close in
    mean square under any probability measure on the ball.
    """
    if not (C_f >= 0 and r > 0):
        raise ValueError(f"`C_f` must be >= 0 and `r` > 0; got {C_f!r}, {r!r}")
    return (2 * r * C_f) ** 2 / _check_int("width", width, 1)


def barron_constant(target: str) -> float | None:
    """Barron constant C_f of a uat target spec; None when no closed form is known here.

    sin(freq=a) = sin(a pi x): C_f = |a| pi (two point masses). bump(dim=d, scale=s) =
    exp(-|x|^2/(2 s^2)): f~ is the N(0, I/s^2) density, C_f = E|Z|/s =
    sqrt(2) Gamma((d+1)/2) / (Gamma(d/2) s) (docs/theory.md). Defaults as the targets': freq 1,
    dim 1, scale 0.3.
    """
    name, kw = spec.parse(target)
    if name == "sin":
        return abs(float(kw.get("freq", 1.0))) * math.pi
    if name == "bump":
        d, s = int(kw.get("dim", 1)), float(kw.get("scale", 0.3))
        return math.sqrt(2) * math.exp(special.gammaln((d + 1) / 2) - special.gammaln(d / 2)) / s
    return None

"""What mathematics says is reachable: exact floors, achievable ceilings, width thresholds.

Each figure draws trained networks next to these oracles (THEORY.md sections 1-4). A *floor* is a
rigorous lower bound on the error of every network of a shape on the given sample (a network
below it is a bug: wrong grid, leaked points, a forward-pass error); *exact* means some network of
that shape attains it. A *ceiling* is an error that some network of the shape reaches or
approaches. Errors are over the study's own test sample with uniform weights (THEORY.md 7).
Compare a trained net with a floor at a relative tolerance of ~1e-9: both carry rounding, and a
net that attains an exact floor can land a hair below it.

Shapes: 1-D oracles take x : (n_s,), y : (n_s,); n-D ones X : (n, n_s) (samples are columns, as
everywhere in uat) or a vector for n = 1. MSEs are means over the sample, as Python floats.
Piecewise-linear oracles live in `uat.pl` and are re-exported here.
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import optimize, special

from uat import activations as _activations
from uat import spec
from uat.activations import Activation
from uat.pl import (
    SawtoothFloor,
    check_sample,
    clamp_floor,
    free_knot_ceiling,
    free_knot_floor,
    free_knot_floors,
    ramp_floor,
    relu_max_pieces,
    shallow_regions,
    telgarsky_sawtooth_floor,
    uniform_knot_ceiling,
)

__all__ = [
    "MIN_WIDTH", "Prediction", "SawtoothFloor", "WidthBounds", "WidthResult", "affine_floor",
    "barron_bound", "barron_constant", "check_inputs", "clamp_floor", "free_knot_ceiling",
    "free_knot_floor", "free_knot_floors", "isotonic_floor", "min_width", "min_width_bounds",
    "monotone_sup_floor", "poly_floor", "poly_net_degree", "predict", "ramp_floor",
    "relu_max_pieces", "shallow_regions", "sup_floor_narrow", "telgarsky_sawtooth_floor",
    "uniform_knot_ceiling",
]

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

    Why: without an activation each layer is affine, so the network is (THEORY.md 3.1, 6.1).
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
    (Leshno, Lin, Pinkus, Schocken 1993; THEORY.md 1.4, 3.2), so this is its floor.
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
    lo, hi = X.min(axis=1, keepdims=True), X.max(axis=1, keepdims=True)
    S = (2 * X - lo - hi) / np.where(hi > lo, hi - lo, 1.0)  # (n, n_s) in [-1, 1]
    V = [np.polynomial.legendre.legvander(S[i], degree) for i in range(n)]  # n x (n_s, d+1)
    cols = []
    for total in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(n), total):
            e = np.bincount(np.array(combo, dtype=int), minlength=n)
            cols.append(np.prod([V[i][:, e[i]] for i in range(n)], axis=0))
    return _mse_after_projection(np.column_stack(cols), y)


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
    monotone (THEORY.md 3.4). PAVA via `scipy.optimize.isotonic_regression` on the distinct x
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
    (max_{t<=x} f + min_{t>=x} f) / 2 (THEORY.md 2.3, after Johnson 2019, arXiv:1810.00393).
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
    g(p) = g(x0), and 2 sup|f - g| >= |f(x0) - f(p)| (THEORY.md 2.3). f(boundary) is taken as the
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

    Barron 1993, IEEE Trans. Inf. Theory 39(3):930-945 (THEORY.md 1.5): for f with
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
    sqrt(2) Gamma((d+1)/2) / (Gamma(d/2) s) (THEORY.md 1.5). Defaults as DESIGN.md: freq 1,
    dim 1, scale 0.3.
    """
    name, kw = spec.parse(target)
    if name == "sin":
        return abs(float(kw.get("freq", 1.0))) * math.pi
    if name == "bump":
        d, s = int(kw.get("dim", 1)), float(kw.get("scale", 0.3))
        return math.sqrt(2) * math.exp(special.gammaln((d + 1) / 2) - special.gammaln(d / 2)) / s
    return None


# ----------------------------------------------------------------------------- minimum width


@dataclass(frozen=True)
class WidthResult:
    """One minimum-width theorem (THEORY.md 0, 2.1-2.5)."""

    name: str  # short label
    citation: str  # authors, venue, arXiv id
    activation: str  # family covered: relu | relu_like | johnson | monotone | c1 | any
    norm: str  # "sup" or "L^p"
    domain: str  # "compact" or "R^n"
    width: Callable[[int, int], int | None]  # (n, m) -> width; None where the result is silent
    kind: str  # "exact" (= w_min), "lower" (narrower nets fail), "upper" (this width suffices)


MIN_WIDTH: tuple[WidthResult, ...] = (
    WidthResult("Hanin-Sellke lower", "Hanin, Sellke 2017, arXiv:1710.11278", "relu", "sup",
                "compact", lambda n, m: n + 1, "lower"),
    WidthResult("Hanin-Sellke upper", "Hanin, Sellke 2017, arXiv:1710.11278", "relu", "sup",
                "compact", lambda n, m: n + m, "upper"),
    WidthResult("Johnson", "Johnson, ICLR 2019, arXiv:1810.00393", "johnson", "sup", "compact",
                lambda n, m: n + 1 if n >= 2 else None, "lower"),
    WidthResult("Rochau-Chan-Gottschalk", "Rochau, Chan, Gottschalk 2024, arXiv:2411.08735",
                "monotone", "sup", "compact",
                lambda n, m: max(n, m) + 1 if m <= 2 * n else None, "lower"),
    WidthResult("Lu et al. upper", "Lu, Pu, Wang, Hu, Wang, NeurIPS 2017, arXiv:1709.02540",
                "relu", "L^p", "R^n", lambda n, m: n + 4 if m == 1 else None, "upper"),
    WidthResult("Lu et al. lower", "Lu, Pu, Wang, Hu, Wang, NeurIPS 2017, arXiv:1709.02540",
                "relu", "L^p", "R^n", lambda n, m: n + 1 if m == 1 else None, "lower"),
    WidthResult("Park-Yun-Lee-Shin", "Park, Yun, Lee, Shin, ICLR 2021, arXiv:2006.08859",
                "relu", "L^p", "R^n", lambda n, m: max(n + 1, m), "exact"),
    WidthResult("Kim-Min-Park L^p", "Kim, Min, Park, ICLR 2024, arXiv:2309.10402", "relu_like",
                "L^p", "compact", lambda n, m: max(n, m, 2), "exact"),
    WidthResult("Kim-Min-Park sup", "Kim, Min, Park, ICLR 2024, arXiv:2309.10402", "relu_like",
                "sup", "compact", lambda n, m: m + 1 if n < m <= 2 * n else None, "lower"),
    WidthResult("Kidger-Lyons", "Kidger, Lyons, COLT 2020, arXiv:1905.08539", "c1", "sup",
                "compact", lambda n, m: n + m + 2, "upper"),
    WidthResult("Cai", "Cai, ICLR 2023, arXiv:2209.11395", "any", "L^p", "compact",
                lambda n, m: max(n, m), "lower"),
    WidthResult("width-1 monotone", "THEORY.md 3.4 [D]: width-1 nets are then monotone",
                "monotone", "L^p", "compact", lambda n, m: 2, "lower"),
)


def _families(act: Activation) -> set[str]:
    """The MIN_WIDTH activation families `act` belongs to (affine maps belong to none)."""
    if act.poly_degree == 1:
        return set()
    name, kw = spec.parse(act.name)
    relu = name == "relu" or (name in ("leaky_relu", "elu") and not any(kw.values()))
    out = {"any", "c1"}  # every non-affine registry entry is C^1 with f' != 0 somewhere
    out |= {"relu", "relu_like"} if relu else set()
    out |= {"relu_like"} if name in ("gelu", "softplus") else set()
    out |= {"monotone"} if act.monotone else set()
    # Lipschitz (so uniformly continuous) and monotone: uniform limits of injective maps
    out |= {"johnson"} if act.monotone and name in _LIPSCHITZ_MONOTONE else set()
    return out


_LIPSCHITZ_MONOTONE = frozenset({"relu", "leaky_relu", "sigmoid", "tanh", "softplus", "elu"})


class WidthBounds(NamedTuple):
    """What the MIN_WIDTH theorems say about w_min for one setting."""

    lower: int  # every width below this fails (1: nothing is ruled out)
    upper: int | None  # this width suffices (None: no theorem in the table says so)
    sources: tuple[str, ...]  # names of the results used


def min_width_bounds(n: int, m: int = 1, norm: str = "sup", activation="relu",
                     domain: str = "compact") -> WidthBounds | None:
    """Bounds on the minimum width for universal approximation of R^n -> R^m maps, any depth.

    Lower bounds for L^p on a compact domain also hold for sup (sup approximation implies L^p
    there); upper bounds for sup on compacta or for L^p on R^n also hold for L^p on a compact
    domain. None for the identity (no width is universal). activation : spec or Activation.
    """
    n, m = _check_int("n", n, 1), _check_int("m", m, 1)
    if norm not in ("sup", "L^p") or domain not in ("compact", "R^n"):
        raise ValueError(f"`norm` must be 'sup' or 'L^p', `domain` 'compact' or 'R^n'; got "
                         f"{norm!r}, {domain!r}")
    act = _activations.get(activation) if isinstance(activation, str) else activation
    fam = _families(act)
    if not fam:
        return None
    lower, upper, used = 1, None, []
    for r in MIN_WIDTH:
        w = r.width(n, m) if r.activation in fam else None
        if w is None:
            continue
        as_lower = r.kind != "upper" and (
            (r.norm, r.domain) == (norm, domain)
            or (norm, domain, r.norm, r.domain) == ("sup", "compact", "L^p", "compact"))
        as_upper = r.kind != "lower" and (
            (r.norm, r.domain) == (norm, domain) or (norm == "L^p" and domain == "compact"
                                                     and (r.norm, r.domain) != ("L^p", "compact")))
        if as_lower and w > lower:
            lower = w
        if as_upper and (upper is None or w < upper):
            upper = w
        if as_lower or as_upper:
            used.append(r.name)
    return WidthBounds(lower, upper, tuple(used))


def min_width(n: int, m: int = 1, norm: str = "sup", activation="relu",
              domain: str = "compact") -> int | None:
    """The width threshold the depth figure draws: the best proven lower bound on w_min.

    ReLU sup on a compact set: n + 1 for m = 1 (Hanin-Sellke, exact); monotone Lipschitz
    activations: n + 1 (Johnson); ReLU L^p on a compact set: max(n, m, 2) (Kim-Min-Park, exact).
    See `min_width_bounds` for the upper side and the sources; None for the identity.
    """
    b = min_width_bounds(n, m, norm, activation, domain)
    return None if b is None else b.lower


# ----------------------------------------------------------------------------- the dispatcher


@dataclass(frozen=True)
class Prediction:
    """What theory says about the best network of one shape on one sample (see `predict`)."""

    mse_floor: float | None  # every net of the shape has MSE >= this on the sample
    floor_kind: str | None  # "affine", "polynomial degree 8", "clamp", "free-knot PL (9 pieces)"...
    floor_exact: bool  # some net of the shape attains mse_floor
    mse_ceiling: float | None  # some net of the shape reaches (or approaches) this MSE
    ceiling_kind: str | None
    sup_floor: float | None  # max |error| over the domain is >= this
    sup_kind: str | None


_ANALYTIC = frozenset({"sigmoid", "tanh", "softplus", "gelu", "swish", "sin", "cos", "gaussian"})
_SHARED_CEILINGS = ("uniform-knot PL", "polynomial degree")  # hidden units serve all outputs


def _predict_one(act: Activation, width: int, depth: int, X: Array, y: Array,
                 boundary: Array | None) -> Prediction:
    """`predict` for one output; candidates are (value, kind, exact) lower bounds."""
    n, n_s = X.shape
    name, kw = spec.parse(act.name)
    one_kink = act.poly_degree is None and (
        name in ("relu", "leaky_relu") or (name == "elu" and kw.get("alpha") == 0))
    relu = one_kink and not any(kw.values())  # relu, leaky_relu(slope=0), elu(alpha=0)
    analytic = name in _ANALYTIC or (name == "elu" and not relu)
    floors: list[tuple[float, str, bool]] = []
    ceiling = ceiling_kind = sup = sup_kind = None
    if act.poly_degree == 1:  # identity: an affine map whatever the shape
        floors.append((affine_floor(X, y), "affine", True))
        ceiling, ceiling_kind = floors[0][0], "affine"
    elif act.poly_degree is not None:
        d, D = act.poly_degree, poly_net_degree(act.poly_degree, depth)
        if n == 1 or math.comb(n + D, n) <= n_s:
            exact = depth == 1 and width >= math.comb(n + d, n) - 1  # 1-D: width >= d
            floors.append((poly_floor(X, y, D), f"polynomial degree {D}", exact))
            if exact:
                ceiling, ceiling_kind = floors[0][0], floors[0][1]
    x = X[0]
    if n == 1 and one_kink:
        if relu and width == 1:
            kind = "ramp" if depth == 1 else "clamp"
            value = ramp_floor(x, y) if depth == 1 else clamp_floor(x, y)
            floors.append((value, kind, True))
            ceiling, ceiling_kind = value, kind
        else:
            p = depth + 1 if width == 1 and act.monotone else relu_max_pieces([width] * depth)
            p = min(p, math.ceil(n_s / 2))
            floors.append((free_knot_floor(x, y, p), f"free-knot PL ({p} pieces)", False))
            # deep nets pass a shallow one through (relu(h) = h for h >= 0; leaky: add a bias)
            ceiling, ceiling_kind = uniform_knot_ceiling(x, y, width), "uniform-knot PL"
    if n == 1 and width == 1 and act.monotone:
        floors.append((isotonic_floor(x, y), "isotonic", False))
    if n == 1 and analytic and depth == 1:  # degree w-1 in the closure (THEORY.md 1.4, 3.3)
        ceiling, ceiling_kind = poly_floor(x, y, width - 1), f"polynomial degree {width - 1}"
    if n == 1 and act.monotone and (width == 1 or act.poly_degree == 1):
        sup, sup_kind = monotone_sup_floor(x, y), "monotone (width 1)"
    elif n >= 2 and width <= n and (act.poly_degree == 1 or "johnson" in _families(act)):
        mask = _grid_boundary(X) if boundary is None else boundary
        if mask is not None and mask.any():
            sup, sup_kind = sup_floor_narrow(X, y, mask), "Johnson (width <= n)"
    if not floors:
        return Prediction(None, None, False, ceiling, ceiling_kind, sup, sup_kind)
    exact = [f for f in floors if f[2]]
    value, kind, is_exact = exact[0] if exact else max(floors)
    return Prediction(value, kind, is_exact, ceiling, ceiling_kind, sup, sup_kind)


def predict(activation, width: int, depth: int, X, y, n_out: int = 1,
            boundary=None) -> Prediction:
    """What theory says about the best net of this shape on this sample (THEORY.md 1-4).

    Floors (the largest valid one; an exact one when known): identity -> affine (exact);
    degree-d polynomial -> best polynomial of degree d^L (exact at depth 1 once width >=
    C(n+d, d) - 1, i.e. d in 1-D); 1-D ReLU width 1 -> ramp (depth 1) or clamp (exact);
    1-D ReLU / leaky ReLU otherwise -> free-knot DP with prod(w+1) pieces (leaky, width 1:
    depth + 1); monotone activation, width 1, 1-D -> isotonic (a lower bound). Ceilings: 1-D
    ReLU / leaky -> uniform-knot PL with `width` pieces; 1-D analytic non-polynomial (tanh,
    sigmoid, softplus, ELU, GELU, swish, sin, cos, gaussian), depth 1 -> best polynomial of
    degree width - 1 (an infimum, approached with large weights). Sup floors: monotone width-1
    (and affine) nets in 1-D; width <= n >= 2 with a Johnson activation, given which samples
    lie on the domain's boundary (`boundary`: (n_s,) bool, uat.targets.Data.boundary; without
    it, the outer faces of a full tensor grid, and no sup floor for other point sets).

    activation : spec or Activation; width, depth : ints >= 1 (hidden layers of equal width);
    X : (n, n_s) or (n_s,); y : (n_s,) or (n_out, n_s). With n_out > 1 the MSE is the mean over
    outputs and samples: floors average the per-output floors (never exact), ceilings are kept
    only where the same hidden units serve every output, the sup floor is the largest.
    """
    act = _activations.get(activation) if isinstance(activation, str) else activation
    width, depth = _check_int("width", width, 1), _check_int("depth", depth, 1)
    n_out = _check_int("n_out", n_out, 1)
    Y = np.asarray(y, dtype=np.float64)
    Y = Y[None, :] if Y.ndim == 1 else Y
    if Y.ndim != 2 or Y.shape[0] != n_out:
        raise ValueError(f"`y` must have shape (n_s,) or (n_out, n_s) with n_out = {n_out}; "
                         f"got {np.shape(y)}")
    X, _ = check_inputs(X, Y[0])
    if boundary is not None:
        boundary = np.asarray(boundary)
        if boundary.dtype != bool or boundary.shape != (X.shape[1],):
            raise ValueError(f"`boundary` must be a bool array of shape ({X.shape[1]},); got "
                             f"dtype {boundary.dtype}, shape {boundary.shape}")
    parts = [_predict_one(act, width, depth, X, check_inputs(X, row)[1], boundary) for row in Y]
    if n_out == 1:
        return parts[0]
    first = parts[0]
    floor = None if first.mse_floor is None else float(np.mean([p.mse_floor for p in parts]))
    shared = first.ceiling_kind is not None and (
        first.ceiling_kind.startswith(_SHARED_CEILINGS) or
        (first.ceiling_kind == "affine" and width >= min(X.shape[0], n_out)))
    ceiling = float(np.mean([p.mse_ceiling for p in parts])) if shared else None
    sup = None if first.sup_floor is None else max(p.sup_floor for p in parts)
    return Prediction(floor, first.floor_kind, False, ceiling,
                      first.ceiling_kind if shared else None, sup, first.sup_kind)

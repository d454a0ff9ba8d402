"""Activation functions with their derivatives and the family facts the theorems depend on.

Each entry of `ACTIVATIONS` is a plain function (its keyword arguments are the spec's keys)
that returns a frozen `Activation`: `f` and `df` side by side, plus the facts uat.theory reads
(polynomial degree, bounded, monotone, sigmoidal). `df(Z, A)` receives both the
pre-activation `Z` and the output `A = f(Z)`; each docstring says which one it uses, so the
backward pass never recomputes what the forward pass has. Both take an optional `out=` array
to write into: a training step then allocates nothing (a fresh megabyte-sized temporary costs
page faults that dwarf the arithmetic).
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from uat import formula, spec
from uat.errors import SpecError

Array = np.ndarray
MAX_DEGREE = 64  # poly(degree): beyond this the Taylor coefficients 1/d! underflow usefully
MAX_PARAMETER = 1e6  # |slope|, alpha: larger ones overflow float32 on ordinary inputs


@dataclass(frozen=True, kw_only=True)
class Activation:
    """An activation function and what the theorems need to know about it.

    Every fact uat.theory reads lives here, so a new activation is one registry function."""

    name: str  # canonical spec, e.g. "leaky_relu(slope=0.01)"
    f: Callable[..., Array]  # A = f(Z, out=None), elementwise
    df: Callable[..., Array]  # f'(Z) = df(Z, A, out=None); see each function's docstring
    poly_degree: int | None = None  # degree if f is a polynomial (identity: 1) (Leshno 1993)
    bounded: bool = False  # sup |f| < inf (Hornik 1991)
    monotone: bool = False  # non-decreasing on R: width-1 nets are then monotone (theory.md)
    sigmoidal: bool = False  # monotone, distinct finite limits at -inf and +inf (Cybenko 1989)
    lipschitz: bool = False  # uniformly continuous; with `monotone`: Johnson's 2019 class
    analytic: bool = False  # real-analytic and not a polynomial on some open interval: width-w
    #                         shallow nets have every degree-(w-1) polynomial in their closure
    kink_slopes: tuple[float, float] | None = None  # piecewise linear with one kink at 0:
    #                         (slope left, slope right); relu (0, 1). None otherwise
    relu_like: bool = False  # Kim, Min & Park's 2024 family (ReLU, GELU, softplus)
    init_gain: float = 1.0  # weight variance = init_gain / fan_in (2 for ReLU-like, He 2015)

    @property
    def is_polynomial(self) -> bool:
        return self.poly_degree is not None

    @property
    def is_relu(self) -> bool:
        """relu itself, or a spec that equals it (leaky_relu(slope=0), elu(alpha=0))."""
        return self.kink_slopes == (0.0, 1.0)


def _into(value: Array, out: Array | None) -> Array:
    """Return value, or copy it into out (for activations without an in-place form)."""
    if out is None:
        return value
    np.copyto(out, value)
    return out


def _ones(Z, A, out=None):
    return np.ones_like(Z) if out is None else _fill(out, 1.0)


def _fill(out, value):
    out.fill(value)
    return out


# Each function below builds one Activation. Derivatives say what they are computed from.


def identity() -> Activation:
    """f(t) = t: no activation at all; every network is then an affine map (df from nothing)."""
    return Activation(name="identity", f=lambda Z, out=None: _into(Z, out), df=_ones,
                      poly_degree=1, monotone=True, lipschitz=True)


def relu() -> Activation:
    """f(t) = max(t, 0); df from A: 1 where A > 0."""
    return Activation(
        name="relu",
        f=lambda Z, out=None: np.maximum(Z, 0, out=out),
        df=lambda Z, A, out=None: (A > 0).astype(Z.dtype) if out is None else np.greater(
            A, 0, out=out),
        monotone=True, lipschitz=True, kink_slopes=(0.0, 1.0), relu_like=True, init_gain=2.0,
    )


def leaky_relu(slope: float = 0.01) -> Activation:
    """f(t) = t for t > 0, slope*t otherwise; df from Z. Monotone only for slope >= 0."""
    if not (math.isfinite(slope) and abs(slope) <= MAX_PARAMETER):
        raise SpecError(f"activation 'leaky_relu': 'slope' must be finite with |slope| <= "
                        f"{MAX_PARAMETER:g}; got {slope}")
    linear = slope == 1  # the identity
    return Activation(
        name=spec.canonical("leaky_relu", {"slope": slope}),
        f=lambda Z, out=None: _into(np.where(Z > 0, Z, slope * Z), out),
        df=lambda Z, A, out=None: _into(np.where(Z > 0, 1.0, slope).astype(Z.dtype), out),
        poly_degree=1 if linear else None, monotone=slope >= 0, lipschitz=True,
        kink_slopes=None if linear else (float(slope), 1.0), relu_like=slope == 0,
        init_gain=2.0 / (1 + slope**2),
    )


def _logistic(Z, out=None):
    """1 / (1 + exp(-Z)) as (1 + tanh(Z / 2)) / 2, in place when out is given.

    Why: NumPy's tanh is vectorised (SIMD) and scipy.special.expit is not: 0.59 against
    3.3 ns per float32 element, 2.0 against 5.5 in float64, on this project's machines. The
    absolute error is the same (~1 ulp of 1/2); values below ~1e-16 (float64) round to 0
    instead of keeping their relative accuracy, which no hidden unit needs (the sigmoid
    output layer and its cross-entropy keep expit and logaddexp)."""
    out = np.multiply(Z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


_SQUASHING = dict(bounded=True, monotone=True, sigmoidal=True, lipschitz=True, analytic=True)


def sigmoid() -> Activation:
    """f(t) = 1 / (1 + exp(-t)); df from A: A (1 - A)."""
    return Activation(name="sigmoid", f=_logistic, df=_sigmoid_df, **_SQUASHING)


def tanh() -> Activation:
    """f(t) = tanh(t); df from A: 1 - A^2."""
    return Activation(name="tanh", f=lambda Z, out=None: np.tanh(Z, out=out), df=_tanh_df,
                      **_SQUASHING)


def _tanh_df(Z, A, out=None):
    out = np.multiply(A, A, out=out)
    return np.subtract(1, out, out=out)  # 1 - A^2


def _sigmoid_df(Z, A, out=None):
    out = np.subtract(1, A, out=out)
    out *= A  # A (1 - A)
    return out


def softplus() -> Activation:
    """f(t) = log(1 + exp(t)), computed without overflow; df from Z: sigmoid(Z)."""
    return Activation(
        name="softplus",
        f=lambda Z, out=None: np.logaddexp(0, Z, out=out),
        df=lambda Z, A, out=None: _logistic(Z, out=out),
        monotone=True, lipschitz=True, analytic=True, relu_like=True, init_gain=2.0,
    )


def elu(alpha: float = 1.0) -> Activation:
    """f(t) = t for t > 0, alpha (exp(t) - 1) otherwise; df from Z and A: 1 or A + alpha.

    elu(alpha=0) is relu; any other alpha is analytic on t < 0 (docs/theory.md: the polynomial
    closure needs one such interval)."""
    if not (math.isfinite(alpha) and 0 <= alpha <= MAX_PARAMETER):
        raise SpecError(f"activation 'elu': 'alpha' must be between 0 and {MAX_PARAMETER:g}; "
                        f"got {alpha}")
    return Activation(
        name=spec.canonical("elu", {"alpha": alpha}),
        f=lambda Z, out=None: _into(np.where(Z > 0, Z, alpha * np.expm1(np.minimum(Z, 0))), out),
        df=lambda Z, A, out=None: _into(np.where(Z > 0, 1.0, A + alpha).astype(Z.dtype), out),
        monotone=True, lipschitz=True, analytic=alpha > 0,
        kink_slopes=(0.0, 1.0) if alpha == 0 else None, relu_like=alpha == 0, init_gain=2.0,
    )


_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def gelu() -> Activation:
    """f(t) = t Phi(t), the exact (erf) form of Hendrycks & Gimpel 2016 (arXiv:1606.08415).

    df from Z: Phi(Z) + Z phi(Z). Not monotone: it dips to -0.17 near t = -0.75.
    """
    return Activation(
        name="gelu",
        f=lambda Z, out=None: _into(Z * special.ndtr(Z), out),
        df=lambda Z, A, out=None: _into(
            special.ndtr(Z) + Z * _INV_SQRT_2PI * np.exp(-0.5 * Z * Z), out),
        lipschitz=True, analytic=True, relu_like=True, init_gain=2.0,
    )


def swish() -> Activation:
    """f(t) = t sigmoid(t) (SiLU); df from Z and A: s + A (1 - s) with s = sigmoid(Z)."""

    def df(Z, A, out=None):
        s = _logistic(Z)
        return _into(s + A * (1 - s), out)

    def f(Z, out=None):
        s = _logistic(Z)
        return np.multiply(Z, s, out=out)

    return Activation(name="swish", f=f, df=df, lipschitz=True, analytic=True, init_gain=2.0)


_PERIODIC = dict(bounded=True, lipschitz=True, analytic=True)


def sin() -> Activation:
    """f(t) = sin(t); df from Z: cos(Z). Bounded, periodic, not monotone."""
    return Activation(name="sin", f=lambda Z, out=None: np.sin(Z, out=out),
                      df=lambda Z, A, out=None: np.cos(Z, out=out), **_PERIODIC)


def cos() -> Activation:
    """f(t) = cos(t); df from Z: -sin(Z)."""
    return Activation(name="cos", f=lambda Z, out=None: np.cos(Z, out=out),
                      df=lambda Z, A, out=None: _into(-np.sin(Z), out), **_PERIODIC)


def gaussian() -> Activation:
    """f(t) = exp(-t^2); df from Z and A: -2 Z A. A bounded bump: not monotone."""
    def f(Z, out=None):
        out = np.multiply(Z, Z, out=out)
        np.negative(out, out=out)
        return np.exp(out, out=out)

    def df(Z, A, out=None):
        out = np.multiply(Z, A, out=out)
        out *= -2
        return out

    return Activation(name="gaussian", f=f, df=df, **_PERIODIC)


def square() -> Activation:
    """f(t) = t^2; df from Z: 2 Z. A polynomial of degree 2: never universal (Leshno 1993)."""
    return Activation(name="square", f=lambda Z, out=None: np.multiply(Z, Z, out=out),
                      df=lambda Z, A, out=None: _into(2 * Z, out), poly_degree=2)


def cubic() -> Activation:
    """f(t) = t^3; df from Z: 3 Z^2. Degree 3, monotone (and injective) but not universal."""
    return Activation(name="cubic", f=lambda Z, out=None: _into(Z * Z * Z, out),
                      df=lambda Z, A, out=None: _into(3 * Z * Z, out), poly_degree=3,
                      monotone=True)


def _horner(coef: list[float], Z: Array, out: Array | None = None) -> Array:
    """sum_j coef[j] Z^j by Horner's rule, in place in `out` (no temporaries unless `out` is
    `Z` itself, as when the backward pass overwrites Z with f'(Z))."""
    if out is not None and np.shares_memory(out, Z):
        return _into(_horner(coef, Z), out)
    out = np.full_like(Z, coef[-1]) if out is None else _fill(out, coef[-1])
    for a in reversed(coef[:-1]):
        out *= Z
        out += a
    return out


def poly(degree: int) -> Activation:
    """f(t) = sum_{j<=degree} t^j / j!, the exponential's Taylor polynomial; df from Z.

    Why this polynomial and not t^d: every power up to the degree is present (so width >= d
    reaches the degree-d floor in 1-D, docs/theory.md), f(0) = f'(0) = 1 keeps deep nets
    trainable, and f is monotone exactly when the degree is odd (f' is then the even-degree
    Taylor polynomial of exp, which has no real root).
    """
    if not 1 <= degree <= MAX_DEGREE:
        raise SpecError(f"activation 'poly': 'degree' must be an integer from 1 to "
                        f"{MAX_DEGREE}; got {degree}")
    coef = [1 / math.factorial(j) for j in range(degree + 1)]
    return Activation(
        name=spec.canonical("poly", {"degree": degree}),
        f=lambda Z, out=None: _horner(coef, Z, out),
        df=lambda Z, A, out=None: _horner(coef[:-1], Z, out) if degree > 1 else _ones(Z, A, out),
        poly_degree=degree, monotone=degree % 2 == 1, lipschitz=degree == 1,
    )


FORMULA_RANGE = 20.0  # a formula activation must be finite on [-20, 20], where nets live
_WIDE = np.concatenate([-np.logspace(4, -4, 401), [0.0], np.logspace(-4, 4, 401)])
_NEAR = np.linspace(-FORMULA_RANGE, FORMULA_RANGE, 8001)
_PROBE = -FORMULA_RANGE + math.sqrt(2) * 1e-3 * np.arange(28285)  # no common period with _NEAR


@functools.lru_cache(maxsize=64)
def _formula_facts(text: str, monotone: bool) -> tuple:
    """(formula, derivative tree, facts) of `act(f=text)`. A fact is claimed only where it is
    known, because floors of theory rest on them: the degree when the formula is visibly a
    polynomial, `analytic` when it is built from functions analytic on R, `monotone` when the
    user states it (refused where a grid shows it false). Bounded, Lipschitz and sigmoidal
    are not claimed: grids cannot show them, and the floors that need them are left out."""
    where = f"activation 'act': 'f' = {text!r}"
    try:
        parsed = formula.parse(text, ("x",))
    except SpecError as err:
        raise SpecError(f"activation 'act': {err}") from None
    if "x" not in formula.variables_used(parsed.tree):
        raise SpecError(f"{where} does not depend on x: every network would be a constant")
    d_tree = formula.derivative(parsed.tree, "x")
    if formula.size(d_tree) > 8 * formula.MAX_NODES:
        raise SpecError(f"{where}: its derivative is too large; simplify the formula")
    with np.errstate(all="ignore"):
        near, d_near = (np.broadcast_to(formula.evaluate(t, {"x": _NEAR}), _NEAR.shape)
                        for t in (parsed.tree, d_tree))
        wide, d_wide = (np.broadcast_to(formula.evaluate(t, {"x": _WIDE}), _WIDE.shape)
                        for t in (parsed.tree, d_tree))
    bad = ~(np.isfinite(near) & np.isfinite(d_near))
    if bad.any():
        raise SpecError(f"{where} (or its derivative) is not finite at x = "
                        f"{_NEAR[bad][0]:g}; it must be finite on [-{FORMULA_RANGE:g}, "
                        f"{FORMULA_RANGE:g}] (checked at {_NEAR.size:,} points)")
    coef = formula.coefficients(parsed.tree)
    degree = None if coef is None else len(np.polynomial.polynomial.polytrim(coef)) - 1
    if degree == 0 or np.ptp(near) == 0:
        raise SpecError(f"{where} is a constant: every network would be a constant")
    if degree is not None and degree > MAX_DEGREE:
        raise SpecError(f"{where} is a polynomial of degree {degree}; at most {MAX_DEGREE}")
    if monotone:
        with np.errstate(all="ignore"):
            probe, d_probe = (np.broadcast_to(formula.evaluate(t, {"x": _PROBE}), _PROBE.shape)
                              for t in (parsed.tree, d_tree))
        falls = np.flatnonzero((np.diff(near) < 0) | (d_near[1:] < 0))
        elsewhere = (np.any(np.diff(probe) < 0) or np.any(d_probe < 0) or
                     np.any(np.diff(wide[np.isfinite(wide)]) < 0) or np.any(d_wide < 0))
        if falls.size or elsewhere:
            place = f"near x = {_NEAR[1:][falls[0]]:g}" if falls.size else "somewhere"
            raise SpecError(f"{where}: monotone = true, but f decreases {place}")
    # analytic on R and not a polynomial; not claimed when the values look like one
    analytic = (degree is None and formula.analytic_on_r(parsed.tree)
                and _numeric_degree(near) is None)
    facts = dict(poly_degree=degree, monotone=monotone, lipschitz=degree == 1,
                 analytic=analytic)
    return parsed, d_tree, facts


def _numeric_degree(values: Array, most: int = 16) -> int | None:
    """The lowest degree <= `most` of a polynomial that fits values on _NEAR to rounding, or
    None. Only a veto (a formula that looks like a polynomial on [-20, 20] is not claimed
    analytic): weights scale x beyond any grid, so it proves nothing."""
    t = _NEAR / FORMULA_RANGE
    scale = max(float(np.max(np.abs(values))), 1e-300)
    for d in range(most + 1):
        fit = np.polynomial.chebyshev.Chebyshev.fit(t, values, d, domain=[-1, 1])
        if np.max(np.abs(fit(t) - values)) <= 1e-11 * scale:
            return d
    return None


def act(f: str, monotone: bool = False, gain: float = 1.0) -> Activation:
    """An activation from a formula in x, e.g. act(f="x / (1 + abs(x))"); df by symbolic
    differentiation (uat.formula), from Z.

    Facts (see `_formula_facts`): the polynomial degree when the formula is visibly a
    polynomial (expanded exactly); analytic when built from functions analytic on R; bounded,
    Lipschitz and sigmoidal never claimed. `monotone` is yours to state (it admits floors for
    width-1 nets); uat refuses it where f or f' decreases on grids up to |x| = 1e4, but cannot
    prove it. `gain` scales the initial weights' variance (2 for ReLU-like formulas)."""
    if not (math.isfinite(gain) and 0 < gain <= 100):
        raise SpecError(f"activation 'act': 'gain' must be in (0, 100]; got {gain}")
    parsed, d_tree, facts = _formula_facts(f, monotone)
    tree = parsed.tree

    def value(Z, out=None):
        return _into(np.broadcast_to(formula.evaluate(tree, {"x": Z}), Z.shape), out)

    def slope(Z, A, out=None):
        return _into(np.broadcast_to(formula.evaluate(d_tree, {"x": Z}), Z.shape), out)

    return Activation(name=spec.canonical("act", {"f": parsed.text, "monotone": monotone,
                                                  "gain": gain}),
                      f=value, df=slope, init_gain=gain, **facts)


ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    fn.__name__: fn
    for fn in (
        identity, relu, leaky_relu, sigmoid, tanh, softplus, elu, gelu, swish,
        sin, cos, gaussian, square, cubic, poly, act,
    )
}


def get(text: str) -> Activation:
    """The activation named by a spec such as "tanh" or "leaky_relu(slope=0.1)"."""
    return spec.resolve(text, ACTIVATIONS, "activation").value

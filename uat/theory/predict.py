"""What theory says about the best network of one shape on one sample: the dispatcher.

`predict` picks, from the activation's facts (uat.activations.Activation), every oracle that
applies to a shape and returns the largest valid floor (an exact one when known), a ceiling some
network reaches, and a sup-norm floor.
"""

import math
from dataclasses import dataclass

import numpy as np

from uat import activations as _activations
from uat.activations import Activation
from uat.theory.oracles import (
    _check_int,
    _grid_boundary,
    affine_floor,
    check_inputs,
    isotonic_floor,
    monotone_sup_floor,
    poly_floor,
    poly_net_degree,
    poly_sup_floor,
    sup_floor_narrow,
)
from uat.theory.pl import (
    clamp_floor,
    free_knot_floor,
    ramp_floor,
    relu_max_pieces,
    uniform_knot_ceiling,
)
from uat.theory.widths import families

Array = np.ndarray



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


def max_pieces(act: Activation, width: int, depth: int) -> int:
    """Most linear pieces a 1-D net of a one-kink piecewise-linear activation can have:
    prod (n_l + 1) over its layers; depth + 1 for a monotone one (leaky ReLU) at width 1."""
    return depth + 1 if width == 1 and act.monotone else relu_max_pieces([width] * depth)


_SHARED_CEILINGS = ("uniform-knot PL", "polynomial degree")  # hidden units serve all outputs


def _predict_one(act: Activation, width: int, depth: int, X: Array, y: Array,
                 boundary: Array | None) -> Prediction:
    """`predict` for one output; candidates are (value, kind, exact) lower bounds."""
    n, n_s = X.shape
    one_kink = act.kink_slopes is not None  # relu, leaky_relu, elu(alpha=0): PL, one kink
    relu = act.is_relu
    floors: list[tuple[float, str, bool]] = []
    ceiling = ceiling_kind = sup = sup_kind = None
    D_net = None if act.poly_degree is None else poly_net_degree(act.poly_degree, depth)
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
            p = min(max_pieces(act, width, depth), math.ceil(n_s / 2))
            floors.append((free_knot_floor(x, y, p), f"free-knot PL ({p} pieces)", False))
            # deep nets pass a shallow one through (relu(h) = h for h >= 0; leaky: add a bias)
            ceiling, ceiling_kind = uniform_knot_ceiling(x, y, width), "uniform-knot PL"
    if n == 1 and width == 1 and act.monotone:
        floors.append((isotonic_floor(x, y), "isotonic", False))
    if n == 1 and act.analytic and depth == 1:  # degree w-1 in the closure (docs/theory.md)
        ceiling, ceiling_kind = poly_floor(x, y, width - 1), f"polynomial degree {width - 1}"
    if act.poly_degree is not None and (n == 1 or math.comb(n + D_net, n) <= n_s):
        # a polynomial net: the minimax polynomial of its degree
        sup, sup_kind = poly_sup_floor(X, y, D_net), f"minimax polynomial degree {D_net}"
        if n == 1 and width == 1 and act.monotone:  # width-1 nets are also monotone
            sup = max(sup, monotone_sup_floor(x, y))
    elif n == 1 and act.monotone and width == 1:
        sup, sup_kind = monotone_sup_floor(x, y), "monotone (width 1)"
    elif n >= 2 and width <= n and (act.poly_degree == 1 or "johnson" in families(act)):
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
    """What theory says about the best net of this shape on this sample (docs/theory.md).

    Floors (the largest valid one; an exact one when known): identity -> affine (exact);
    degree-d polynomial -> best polynomial of degree d^L (exact at depth 1 once width >=
    C(n+d, d) - 1, i.e. d in 1-D); 1-D ReLU width 1 -> ramp (depth 1) or clamp (exact);
    1-D ReLU / leaky ReLU otherwise -> free-knot DP with prod(w+1) pieces (leaky, width 1:
    depth + 1); monotone activation, width 1, 1-D -> isotonic (a lower bound). Ceilings: 1-D
    ReLU / leaky -> uniform-knot PL with `width` pieces; 1-D analytic non-polynomial (tanh,
    sigmoid, softplus, ELU, GELU, swish, sin, cos, gaussian), depth 1 -> best polynomial of
    degree width - 1 (an infimum, approached with large weights). Sup floors: polynomial nets
    (the identity included) -> the minimax polynomial of degree d^L; monotone width-1
    nets in 1-D; width <= n >= 2 with a Johnson activation, given which samples
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

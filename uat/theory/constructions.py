"""Hand-set networks that theory says exist, and the floors their targets imply.

Telgarsky 2016 (arXiv:1602.04485): the sawtooth with 2^(k-1) teeth on [-1, 1] is exactly a
width-2, depth-k ReLU net, while a net with p <= teeth linear pieces leaves a tooth unbroken
and is then at least 1/2 away from it somewhere. These are representation facts: a check that
the hand-set net is exact can fail only on a bug.
"""

import math

import numpy as np

from uat import network, spec, targets
from uat.network import Shape
from uat.theory.oracles import poly_sup_floor


def teeth(target: str) -> int:
    """The number of teeth of a sawtooth target spec ("sawtooth" alone: its default, 4)."""
    return int(spec.parse(target)[1].get("teeth", 4))


def sawtooth_depth(target: str) -> int | None:
    """k with teeth = 2^(k-1) (the depth of the exact width-2 net), or None."""
    t = teeth(target)
    k = int(round(math.log2(t))) + 1
    return k if 2 ** (k - 1) == t else None


def sawtooth_net(k: int) -> np.ndarray:
    """Hand-set weights of a width-2, depth-k ReLU net computing the sawtooth with 2^(k-1)
    teeth on [-1, 1]: u = (x + 1)/2, tent(u) = 2 relu(u) - 4 relu(u - 1/2), composed k times.
    Returns theta: (1, 6k + 1) for Shape(1, 2, k)."""
    shape = Shape(1, 2, k, 1, "relu")
    theta = np.zeros((1, shape.n_params))
    W, B = network.unpack(theta, shape)
    W[0][0] = [[0.5], [0.5]]  # both units see u = (x + 1) / 2
    B[0][0] = [[0.5], [0.0]]  # relu(u), relu(u - 1/2)
    for l in range(1, k):
        W[l][0] = [[2.0, -4.0], [2.0, -4.0]]  # the next layer's units see tent(u) ...
        B[l][0] = [[0.0], [-0.5]]  # ... as relu(t) and relu(t - 1/2)
    W[k][0] = [[2.0, -4.0]]  # output: the k-th tent
    return theta


def sawtooth_exact_errors(target: str, n_train: int, n_test: int):
    """(k, test MSE, max |err|) of the hand-set net on the study's test points, or None when
    the number of teeth is not a power of 2."""
    k = sawtooth_depth(target)
    if k is None:
        return None
    data = targets.sample(targets.get(target), n_train, n_test)
    out = network.predict(sawtooth_net(k), data.X_test, Shape(1, 2, k, 1, "relu"))[0]
    err = out - data.Y_test
    return k, float(np.mean(err**2)), float(np.max(np.abs(err)))


def sawtooth_sup_floor(x, y, n_teeth: int, pieces: int) -> float:
    """Max |error| floor of any continuous piecewise-linear function with `pieces` pieces on a
    sawtooth with `n_teeth` teeth on [-1, 1], computed on the sample itself.

    Why: its p - 1 knots break at most p - 1 teeth; on an unbroken tooth the function is one
    line, at best the minimax line of that tooth's sample points (exact, via
    `poly_sup_floor`). The best case breaks the p - 1 teeth whose lines fit worst, so the floor
    is the p-th largest tooth error: 1/2 exactly when the sample holds every tooth's two
    valleys and apex; 0 when p > teeth. x, y : (n_s,)."""
    if pieces > n_teeth:
        return 0.0
    edges = -1 + 2 * np.arange(n_teeth + 1) / n_teeth
    errors = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        inside = (x >= a) & (x <= b)
        errors.append(poly_sup_floor(x[inside], y[inside], 1) if inside.sum() > 2 else 0.0)
    return float(sorted(errors, reverse=True)[pieces - 1])

"""Renewing hidden units during training (lm(revive=R)): never at the cost of the loss.

`revive`: a unit constant on the data (uat.diagnose) gets no gradient through its
pre-activation, so an optimizer never brings it back; a ReLU net that lost its units stalls
above what its shape can reach (Lu et al. 2020, arXiv:1903.06733). Layer by layer from the
input, each dead unit gets new incoming weights and a bias whose kink sits at a random
quantile of its own pre-activations on the data, as `network.init` places kinks at the start.
Its constant value moves into the biases it fed, and its weights to units that were alive
become 0: the network computes the same function, and the gradient now sees the unit.

`exchange`: a net at a stationary point with misplaced kinks swaps one unit for a better one
(least-squares refit of the output layer), only when the loss falls. `renew` does both."""

import numpy as np

from uat import diagnose, network
from uat.network import Shape

RIDGE = 1e-12  # relative ridge of the Gram matrix when ranking units (least_useful)
REVIVE, EXCHANGE = 1, 2  # appended to a member's seed: the two steps draw different numbers


def revive(theta: np.ndarray, X: np.ndarray, shape: Shape, seeds) -> tuple[np.ndarray, np.ndarray]:
    """Each member's dead units re-placed: (theta (k, P), units re-placed (k,)).

    theta: (k, P); X: (k or -, n_0, n_s); seeds: one per member (an int or a sequence), so a
    member's new units depend on its own seed only, never on the batch it is in.
    """
    theta = np.array(theta, dtype=np.float64)
    k, L = theta.shape[0], shape.depth + 1
    count = np.zeros(k, dtype=np.int64)
    if shape.depth == 0:
        return theta, count
    W, B = network.unpack(theta, shape)
    f, gain = shape.act.f, shape.act.init_gain
    for i in range(k):
        rng = np.random.default_rng([*_parts(seeds[i]), REVIVE])
        A = (X if X.ndim == 2 else X[i]).astype(np.float64)  # (n_0, n_s)
        for l in range(L - 1):
            Wl, Bl = W[l][i], B[l][i]  # (n_l, n_{l-1}), (n_l, 1)
            with np.errstate(all="ignore"):
                Z = Wl @ A + Bl
                H = f(Z)
            dead = diagnose.constant(H)
            if dead.any():
                value = np.where(np.isfinite(H[:, 0]), H[:, 0], 0.0)  # the constant each gave
                B[l + 1][i, :, 0] += W[l + 1][i][:, dead] @ value[dead]
                W[l + 1][i][:, dead] = 0.0
                std = np.sqrt(gain / A.shape[0])
                for j in np.flatnonzero(dead):
                    Wl[j] = rng.normal(0.0, std, A.shape[0])  # from every unit below
                    z = Wl[j] @ A
                    Bl[j, 0] = -network._crossing(z, rng.uniform(0.05, 0.95))
                Z[dead] = Wl[dead] @ A + Bl[dead]
                H[dead] = f(Z[dead])
                count[i] += int(dead.sum())
            A = H
    return theta, count


def exchange(theta: np.ndarray, X: np.ndarray, Y: np.ndarray, shape: Shape, seeds,
             tries: int = 8, per_layer: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Swap one hidden unit of each member for a better one, if a draw finds one:
    (theta (k, P), swapped (k,) bool).

    For a net stuck at a stationary point. Candidates replace the last hidden layer's least
    useful unit (exact: the output layer is linear in that layer, see `least_useful`) and up
    to `per_layer` random units of each earlier layer; each candidate has random incoming
    weights and its kink at a train sample drawn by its squared residual (half uniform), and
    is scored by the loss after refitting the output layer by least squares. `tries`
    candidates per unit. The best is kept only if the loss goes down: an exchange never
    makes a net worse (an exchange step of the kind free-knot spline fitting uses, one unit
    at a time). Affine output (MSE) only.

    theta: (k, P); X: (k or -, n_0, n_s); Y: (k, m, n_s); seeds: one per member.
    """
    theta = np.array(theta, dtype=np.float64)
    k = theta.shape[0]
    swapped = np.zeros(k, dtype=bool)
    if shape.depth == 0 or shape.output != "affine":
        return theta, swapped
    f, gain, last = shape.act.f, shape.act.init_gain, shape.depth - 1
    for i in range(k):
        Xi = X if X.ndim == 2 else X[i]
        member = theta[i : i + 1].copy()
        with np.errstate(all="ignore"):
            _, A = network.forward(member, Xi, shape)  # A[l]: (1, n_l, n_s); A[0] may be 2-D
        H, y = A[-2][0], Y[i]  # (w, n_s), (m, n_s)
        if not (np.isfinite(H).all() and np.isfinite(A[-1]).all()):
            continue
        r = A[-1][0] - y
        now = float(np.mean(r * r))
        rng = np.random.default_rng([*_parts(seeds[i]), EXCHANGE])
        p = np.sum(r * r, axis=0)
        p = 0.5 / p.size + 0.5 * p / p.sum() if p.sum() > 0 else None
        F = np.vstack([H, np.ones((1, H.shape[1]))])  # (w + 1, n_s): the output layer's design
        spots = [(last, least_useful(F[:-1], F[-1:], y))] + [
            (l, int(j)) for l in range(last)
            for j in rng.choice(shape.width, min(shape.width, per_layer), replace=False)]
        best = (now, None)
        for l, j in spots:
            below = A[l] if A[l].ndim == 2 else A[l][0]  # the layer's input: (n_{l-1}, n_s)
            for _ in range(tries):
                w = rng.normal(0.0, np.sqrt(gain / below.shape[0]), below.shape[0])
                z = w @ below
                b = -z[rng.choice(z.size, p=p)]
                if l == last:  # only one row of the design changes
                    G = F.copy()
                    G[j] = f(z + b)
                else:  # the layers above see the new unit: run them
                    trial = member.copy()
                    Wt, Bt = network.unpack(trial, shape)
                    Wt[l][0, j], Bt[l][0, j, 0] = w, b
                    with np.errstate(all="ignore"):
                        top = network.forward(trial, Xi, shape)[1][-2][0]
                    if not np.isfinite(top).all():
                        continue
                    G = np.vstack([top, F[-1:]])
                loss, coef = _fit(G, y)
                if loss < best[0] * (1 - 1e-9):
                    best = (loss, (l, j, w, b, coef))
        if best[1] is not None:
            l, j, w, b, coef = best[1]
            W, B = network.unpack(member, shape)
            W[l][0, j], B[l][0, j, 0] = w, b
            W[-1][0], B[-1][0, :, 0] = coef[:-1].T, coef[-1]
            theta[i] = member[0]
            swapped[i] = True
    return theta, swapped


def least_useful(H: np.ndarray, keep: np.ndarray, y: np.ndarray) -> int:
    """The row of H: (w, n_s) whose removal raises the least-squares loss of y: (m, n_s) on
    [H; keep] the least. Dropping regressor j raises the residual sum of squares by
    |c_j|^2 / [(F F^T)^-1]_jj (c the coefficients, F = [H; keep]): one inverse for all units.
    A ridge of RIDGE x the largest diagonal keeps it defined when units repeat each other or
    are constant: such a unit then costs (almost) nothing to drop, as it should."""
    F = np.vstack([H, keep])
    G = F @ F.T  # (r, r)
    G[np.diag_indices_from(G)] += RIDGE * max(float(np.max(np.diag(G))), np.finfo(float).tiny)
    Ginv = np.linalg.inv(G)
    coef = Ginv @ (F @ y.T)  # (r, m)
    w = H.shape[0]
    cost = np.sum(coef[:w] ** 2, axis=1) / np.diag(Ginv)[:w]
    return int(np.argmin(cost))


def renew(theta: np.ndarray, X: np.ndarray, Y: np.ndarray, shape: Shape, seeds):
    """`revive`, then, for piecewise-linear activations, `exchange`: (theta (k, P), changed
    (k,) bool). The loss never rises.

    Why exchange only kinks: for ReLU-type units it is the knot exchange of free-knot spline
    fitting and wins 10-100x (benchmarks/trainability.md); for smooth units it was measured
    to cut some errors by orders of magnitude but to leave tanh on the NMR spectrum 60x
    higher (0.50 of the variance against 0.008 at width 32): the greedy swap led LM to a
    worse stationary point. Smooth nets get the function-preserving revival only."""
    theta, count = revive(theta, X, shape, seeds)
    if shape.act.kink_slopes is None:
        return theta, count > 0
    theta, swapped = exchange(theta, X, Y, shape, seeds)
    return theta, (count > 0) | swapped


def _parts(seed) -> list[int]:
    """A member's seed (an int or a tuple of ints) as a list of Python ints (numpy would turn
    a 64-bit run seed into a float)."""
    return [int(v) for v in seed] if isinstance(seed, tuple | list) else [int(seed)]


def _fit(F: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Least squares of y: (m, n_s) on the rows of F: (r, n_s): (MSE, coefficients (r, m))."""
    coef, *_ = np.linalg.lstsq(F.T, y.T, rcond=None)
    res = F.T @ coef - y.T
    return float(np.mean(res * res)), coef

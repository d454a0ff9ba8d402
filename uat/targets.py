"""Target functions, their domains, and the points every study trains and tests on.

Each entry of `TARGETS` is a plain function (its keyword arguments are the spec's keys) that
returns a frozen `Target`: a function f on the box [lo, hi]^dim (regression), or a generator
of labelled points (classification). `sample(target, n_train, n_test)` gives the arrays with
samples as columns, X: (n, n_s), Y: (m, n_s), bitwise the same on every machine and process:
the only randomness comes from `np.random.default_rng` seeded by a SHA-256 of the canonical
spec and the part ("train", "test", "test-boundary", "noise"), never from Python's `hash()`.

Sample points of regression targets:
* 1-D: train = the cell-centred grid lo + (i + 1/2)(hi - lo)/n_train; test =
  np.linspace(lo, hi, n_test). The train grid has no endpoints on purpose: test points must
  never be train points (a net would be scored on what it was fitted to), and the test grid
  must keep the endpoints, where sup errors and the boundary
  floors of narrow nets are attained (docs/theory.md). The two grids meet only for some odd
  n_test (checked exactly, in integers); that raises UserError, and any even n_test is safe.
* n-D: train = cell-centred product grid if n_train = r^dim with r >= 3, else the first
  n_train points of a scrambled Sobol sequence; test = linspace product grid if n_test = r^dim
  with r >= 3, else scrambled Sobol points plus boundary points, so that `boundary` is never
  empty: each of the 2*dim faces holds the same n_f Sobol points of the (dim-1)-cube, with
  n_f = floor(n_test^(1/dim))^(dim-1), the share a product grid of n_test points has on its
  boundary, capped so that faces hold at most half of the test set. r = 2 grids are not used:
  in high dimension they are all corners.
* Ball domains (`Target.ball`, e.g. hanin_sellke): train = the first n_train scrambled Sobol
  points inside the ball; test = its centre, points on its sphere (evenly spaced angles in 2-D,
  the same share a grid has on its faces) and Sobol points inside.
Classification targets (xor, moons, circles, disk): train and test are independent draws
from one distribution (different seeds), classes balanced, points outside the domain drawn
again (a truncated distribution). The one exception to "test points are never train points"
is xor(noise=0.0): the dataset is the four points {0,1}^2, train = test, and n_train, n_test
are ignored.
"""

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import special

from uat import custom, spec
from uat.errors import SpecError, UserError

Array = np.ndarray
Draw = Callable[[np.random.Generator, int], tuple[Array, Array]]  # (rng, n_s) -> (X, Y)


@dataclass(frozen=True)
class Target:
    """A function to approximate on a box, or a labelled point distribution to classify."""

    name: str  # canonical spec, e.g. "sin(freq=2.0)"
    dim: int  # input dimension n
    n_out: int  # output dimension m
    kind: str  # "regression" or "classification" (labels in {0, 1}, Y shape (1, n_s))
    lo: float  # the domain is [lo, hi]^dim (after any mapping, e.g. NMR ppm -> [-1, 1])
    hi: float
    f: Callable[[Array], Array] | None  # X: (dim, n_s) -> Y: (n_out, n_s); None for point sets
    draw: Draw | None = None  # (rng, n_s) -> (X: (2, n_s), Y: (1, n_s)) for point sets
    noise_sd: float = 0.0  # std of Gaussian noise added to the train Y only (nmr)
    finite: bool = False  # `draw` returns one fixed point set (xor): train = test, sizes ignored
    ball: bool = False  # the domain is the ball inscribed in [lo, hi]^dim, not the box
    points: Callable[[int, int], "Data"] | None = None  # a data file's split (uat.custom)
    x_range: tuple[tuple[float, float], ...] | None = None  # data units of [-1, 1] per input
    labels: tuple[tuple[str, ...], tuple[str, ...]] = ()  # names of the inputs and outputs


class Data(NamedTuple):
    """Train and test arrays of one target, samples as columns, float64, C-contiguous."""

    X: Array  # (n, n_train)
    Y: Array  # (m, n_train)
    X_test: Array  # (n, n_test)
    Y_test: Array  # (m, n_test)
    boundary: Array  # (n_test,) bool: test points on the boundary of [lo, hi]^n


def _check(target: str, key: str, value, ok: bool, allowed: str) -> None:
    if not ok:
        raise SpecError(f"target '{target}': '{key}' must be {allowed}; got {value!r}")


def _positive(target: str, key: str, value: float) -> None:
    _check(target, key, value, math.isfinite(value) and value > 0, "a finite number > 0")


MAX_DIM = 32  # input dimensions of an n-D target: test grids grow like r^dim
MAX_TEETH = 2**20
MAX_VALUES = 2**24  # coordinates in one sample (points x dimension): 128 MB of float64


def _dim(target: str, dim: int) -> None:
    _check(target, "dim", dim, 1 <= dim <= MAX_DIM, f"an integer from 1 to {MAX_DIM}")


def _noise(target: str, value: float) -> None:
    _check(target, "noise", value, 0 <= value <= 0.5, "between 0 and 0.5")  # few redraws


def _regression(name, kwargs, f, dim=1, n_out=1, lo=-1.0, hi=1.0, noise_sd=0.0,
                ball=False) -> Target:
    return Target(spec.canonical(name, kwargs), dim, n_out, "regression", lo, hi, f, None,
                  noise_sd, ball=ball and dim > 1)  # in 1-D the ball is the interval


# One-dimensional targets (functions of X: (1, n_s), so Y is (1, n_s)).


def sin(freq: float = 1.0) -> Target:
    """f(x) = sin(freq pi x) on [-1, 1]: the smooth workhorse (Cybenko 1989; docs/theory.md)."""
    _positive("sin", "freq", freq)
    return _regression("sin", {"freq": freq}, lambda X: np.sin(freq * np.pi * X))


def cos(freq: float = 1.0) -> Target:
    """f(x) = cos(freq pi x) on [-1, 1]: even twin of sin (polynomial floors, docs/theory.md)."""
    _positive("cos", "freq", freq)
    return _regression("cos", {"freq": freq}, lambda X: np.cos(freq * np.pi * X))


def abs_() -> Target:
    """f(x) = |x| on [-1, 1]: one kink, exactly relu(x) + relu(-x); smooth nets approximate it."""
    return _regression("abs", {}, np.abs)


def step(sharpness: float = 50.0) -> Target:
    """f(x) = 1 / (1 + exp(-sharpness x)) on [-1, 1] (expit): a smoothed step (Cybenko 1989)."""
    _positive("step", "sharpness", sharpness)
    return _regression("step", {"sharpness": sharpness}, lambda X: special.expit(sharpness * X))


def square() -> Target:
    """f(x) = x^2 on [-1, 1], the target of Yarotsky's 2017 sawtooth construction
    (arXiv:1610.01145; docs/theory.md states its closed forms on [0, 1])."""
    return _regression("square", {}, lambda X: X * X)


def sign() -> Target:
    """f(x) = sign(x) on [-1, 1], the discontinuous limit of `step` (sign(0) = 0).

    A continuous net has sup error >= 1 on the true domain, but a finite test grid without 0
    hides it: the measured max_abs_err can fall far below 1 as the net steepens.
    """
    return _regression("sign", {}, np.sign)


def sawtooth(teeth: int = 4) -> Target:
    """Triangle wave with `teeth` teeth of height 1 on [-1, 1] (Telgarsky 2016, docs/theory.md).

    With u = (x + 1)/2 in [0, 1]: f = 1 - |2 frac(teeth u) - 1|. For teeth = 2^(k-1) this is
    Telgarsky's Delta^k (the tent map composed k times, 2^k pieces), a width-2 depth-k ReLU
    net that shallow nets need about 2^k units to approximate (arXiv:1602.04485).
    """
    _check("sawtooth", "teeth", teeth, 1 <= teeth <= MAX_TEETH,
           f"an integer from 1 to {MAX_TEETH}")
    return _regression(
        "sawtooth", {"teeth": teeth}, lambda X: 1 - np.abs(2 * np.mod(teeth * (X + 1) / 2, 1) - 1)
    )


# Ethyl acetate in CDCl3, 60 MHz 1H (docs/theory.md): J = 7.1 Hz, FWHM 2.5 Hz, shifts of
# Gottlieb, Kotlyar, Nudelman, J. Org. Chem. 62:7512 (1997). Lines are (centre ppm, area).
_NMR_J = 7.1 / 60  # 0.11833 ppm
_NMR_GAMMA = 0.02083  # Lorentzian half-width at half maximum, ppm
_NMR_LINES = (
    (1.26 - _NMR_J, 0.75), (1.26, 1.5), (1.26 + _NMR_J, 0.75),  # CH3 triplet 1:2:1, 3H
    (2.05, 3.0),  # acetyl CH3 singlet, 3H
    (4.12 - 1.5 * _NMR_J, 0.25), (4.12 - 0.5 * _NMR_J, 0.75),  # CH2 quartet 1:3:3:1, 2H
    (4.12 + 0.5 * _NMR_J, 0.75), (4.12 + 1.5 * _NMR_J, 0.25),
)


def _nmr_f(X: Array) -> Array:
    """Sum over lines of (A/pi) gamma / ((ppm - c)^2 + gamma^2), ppm = 2.75 + 2.25 x: each line
    the Fourier transform of an exponentially decaying FID, area A = number of protons."""
    ppm, out = 2.75 + 2.25 * X, np.zeros_like(X)  # [-1, 1] -> [0.5, 5.0] ppm, increasing
    for c, area in _NMR_LINES:
        out += area / np.pi * _NMR_GAMMA / ((ppm - c) ** 2 + _NMR_GAMMA**2)
    return out


_NMR_PEAK = float(_nmr_f(np.linspace(-1.0, 1.0, 45001)).max())  # 45.880 (docs/theory.md: 45.87)


def nmr(noise: float = 0.0) -> Target:
    """Ethyl-acetate 60 MHz 1H spectrum (docs/theory.md) on delta in [0.5, 5.0] ppm, x in [-1, 1].

    x = (delta - 2.75)/2.25 increases with ppm: plots of NMR spectra run ppm right to left,
    flip the axis there, not here. Eight Lorentzians (triplet 1.26, singlet 2.05, quartet
    4.12), gamma = 0.02083 ppm; peak max 45.88, mean 1.762, variance 21.42 on the window.
    Narrow lines make Barron's 1993 bound vacuous below ~3e7 units. `noise` adds Gaussian
    noise of std noise * peak max to the train targets only; test targets stay clean.
    """
    _check("nmr", "noise", noise, math.isfinite(noise) and noise >= 0, "a finite number >= 0")
    return _regression("nmr", {"noise": noise}, _nmr_f, noise_sd=noise * _NMR_PEAK)


def circle() -> Target:
    """f(t) = (cos 2 pi t, sin 2 pi t) on [0, 1], n = 1 -> m = 2 (docs/theory.md):
    width 2 suffices in L^p, uniform approximation needs width 3 (Kim, Min, Park 2024)."""
    return _regression(
        "circle", {}, lambda X: np.concatenate([np.cos(2 * np.pi * X), np.sin(2 * np.pi * X)], -2),
        n_out=2, lo=0.0, hi=1.0,
    )


# n-dimensional targets (functions of X: (dim, n_s), reducing over axis -2).


def bump(dim: int = 1, scale: float = 0.3) -> Target:
    """f(x) = exp(-|x|^2 / (2 scale^2)) on [-1, 1]^dim: bounded level sets, so no width-<=dim
    net approximates it in sup norm (Johnson 2019; docs/theory.md: 0.498 at dim 2, scale 0.3)."""
    _dim("bump", dim)
    _positive("bump", "scale", scale)
    return _regression(
        "bump", {"dim": dim, "scale": scale},
        lambda X: np.exp(-np.sum(X * X, axis=-2, keepdims=True) / (2 * scale**2)), dim,
    )


def product(dim: int = 2) -> Target:
    """f(x) = prod_i x_i on [-1, 1]^dim: multiplication, the gate of Yarotsky's 2017 networks."""
    _dim("product", dim)
    return _regression("product", {"dim": dim}, lambda X: np.prod(X, axis=-2, keepdims=True), dim)


def paraboloid(dim: int = 2) -> Target:
    """f(x) = sum_i x_i^2 on [-1, 1]^dim: convex, so width dim+1 suffices (Hanin 2019)."""
    _dim("paraboloid", dim)
    return _regression(
        "paraboloid", {"dim": dim}, lambda X: np.sum(X * X, axis=-2, keepdims=True), dim
    )


def hanin_sellke(dim: int = 2, domain: str = "ball") -> Target:
    """f(x) = sum_i (x_i - 1/2)^2: Hanin & Sellke's 2017 witness that width dim fails
    (arXiv:1710.11278), on their ball of radius 1/2 about (1/2, ..., 1/2) (domain="ball") or
    on the box [0, 1]^dim (domain="box").

    Every width-<=dim net has sup error >= 1/8 on either domain (f is 0 at the centre and >= 1/4
    on the boundary, which a level set of the net must reach); on the ball the constant 1/8
    attains it, on the box it does not (its sup error there is dim/4 - 1/8). In 1-D both are
    [0, 1]. The ball's test points include its centre and points on its sphere."""
    _dim("hanin_sellke", dim)
    _check("hanin_sellke", "domain", domain, domain in ("ball", "box"), "'ball' or 'box'")
    return _regression(
        "hanin_sellke", {"dim": dim, "domain": domain},
        lambda X: np.sum((X - 0.5) ** 2, axis=-2, keepdims=True), dim, lo=0.0, hi=1.0,
        ball=domain == "ball",
    )


# Classification point sets in 2-D; labels are floats 0.0 / 1.0 in Y: (1, n_s).


def _classes(name, kwargs, points, lo, hi) -> Target:
    """A classification Target whose `draw` labels half the points 0 and half 1, shuffled, and
    places them with `points(rng, y) -> (2, len(y))`, drawing again any outside [lo, hi]^2."""

    def draw(rng: np.random.Generator, n: int) -> tuple[Array, Array]:
        y = rng.permutation(np.arange(n) % 2)
        X = points(rng, y)
        out = np.any((X < lo) | (X > hi), axis=0)
        while out.any():
            X[:, out] = points(rng, y[out])
            out = np.any((X < lo) | (X > hi), axis=0)
        return X, y[None, :].astype(np.float64)

    return Target(spec.canonical(name, kwargs), 2, 1, "classification", lo, hi, None, draw)


def _xor_corners(rng: np.random.Generator, n: int) -> tuple[Array, Array]:
    """The four points {0,1}^2 as columns (2, 4) and their labels x1 xor x2 (1, 4)."""
    return np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]]), np.array([[0.0, 1.0, 1.0, 0.0]])


def xor(noise: float = 0.0) -> Target:
    """Label x1 xor x2 on {0,1}^2, domain [-0.5, 1.5]^2 (docs/theory.md: min BCE of logistic
    regression ln 2, a 2-2-1 sigmoid net solves it). noise = 0: the four points themselves,
    train = test. noise > 0: Gaussian blobs of std `noise` around the corners."""
    _noise("xor", noise)
    if noise == 0:
        name = spec.canonical("xor", {"noise": noise})
        return Target(name, 2, 1, "classification", -0.5, 1.5, None, _xor_corners, finite=True)

    def points(rng, y):
        c = rng.integers(0, 2, y.size).astype(np.float64)  # which of the class's two corners
        return np.stack([c, np.abs(c - y)]) + noise * rng.standard_normal((2, y.size))

    return _classes("xor", {"noise": noise}, points, -0.5, 1.5)


def moons(noise: float = 0.1) -> Target:
    """Two interleaving half circles (scikit-learn's make_moons, reimplemented) shifted by
    (-0.5, -0.25) to centre them, domain [-2, 2]^2; label 1 = the lower moon. Angles are drawn
    uniformly (sklearn spaces them evenly), so independent draws never share points."""
    _noise("moons", noise)

    def points(rng, y):
        t = rng.uniform(0, np.pi, y.size)
        X = np.where(y == 0, [np.cos(t), np.sin(t)], [1 - np.cos(t), 0.5 - np.sin(t)])
        return X - [[0.5], [0.25]] + noise * rng.standard_normal((2, y.size))

    return _classes("moons", {"noise": noise}, points, -2.0, 2.0)


def circles(noise: float = 0.05, factor: float = 0.5) -> Target:
    """Two concentric circles, radii 1 and `factor` (sklearn's make_circles, reimplemented, with
    uniform angles), domain [-1.5, 1.5]^2; label 1 = inner circle: a bounded decision region
    that width-2 nets cannot enclose (Beise et al. 2018, arXiv:1807.01194)."""
    _noise("circles", noise)
    _check("circles", "factor", factor, 0 < factor < 1, "strictly between 0 and 1")

    def points(rng, y):
        t, r = rng.uniform(0, 2 * np.pi, y.size), np.where(y == 1, factor, 1.0)
        return r * np.stack([np.cos(t), np.sin(t)]) + noise * rng.standard_normal((2, y.size))

    return _classes("circles", {"noise": noise, "factor": factor}, points, -1.5, 1.5)


def disk() -> Target:
    """Label 1 uniform in the disk of radius 1, label 0 uniform in the annulus 2 < r < 3, domain
    [-3, 3]^2 (docs/theory.md): width 2 leaks to infinity, width 3 can reach 100%."""

    def points(rng, y):
        u, t = rng.uniform(size=y.size), rng.uniform(0, 2 * np.pi, y.size)
        r = np.where(y == 1, np.sqrt(u), np.sqrt(4 + 5 * u))  # area-uniform radii
        return r * np.stack([np.cos(t), np.sin(t)])

    return _classes("disk", {}, points, -3.0, 3.0)


TARGETS: dict[str, Callable[..., Target]] = {
    fn.__name__.rstrip("_"): fn  # abs_ is registered as "abs" (no shadowed builtin)
    for fn in (
        sin, cos, abs_, step, square, sign, sawtooth, nmr, circle,
        bump, product, paraboloid, hanin_sellke, xor, moons, circles, disk,
    )
} | custom.TARGETS  # the user's own: expr, csv, npy, py


def get(text: str, base=None) -> Target:
    """The target named by a spec such as "sin(freq=2)" or "bump(dim=2, scale=0.3)"; with
    `base` (a study file's folder), a relative data or code `path` is taken from there."""
    if base is not None:
        text = custom.anchor(text, Path(base))
    return _get(text, custom.stamp(text))


@functools.lru_cache(maxsize=64)
def _get(text: str, stamp) -> Target:
    """Resolved once per spec (and per version of its file: `stamp` changes with it)."""
    return spec.resolve(text, TARGETS, "target").value


def _rng(name: str, part: str) -> np.random.Generator:
    """A generator seeded by SHA-256 of "<canonical spec>/<part>": stable across processes."""
    digest = hashlib.sha256(f"{name}/{part}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _iroot(n: int, d: int) -> int:
    """floor(n^(1/d)) in exact integer arithmetic."""
    r = round(n ** (1 / d))
    while r**d > n:
        r -= 1
    while (r + 1) ** d <= n:
        r += 1
    return r


def _grid(values: Array, d: int) -> Array:
    """The product grid values^d as columns (d, len(values)^d), first coordinate slowest."""
    return np.stack([g.ravel() for g in np.meshgrid(*[values] * d, indexing="ij")])


def _sobol(d: int, n: int, rng: np.random.Generator) -> Array:
    """The first n points (n, d) of a scrambled Sobol sequence in [0, 1)^d."""
    if n == 0:
        return np.empty((0, d))
    from scipy.stats import qmc  # here, not at the top: scipy.stats costs 0.5 s to import

    return qmc.Sobol(d, scramble=True, seed=rng).random_base2(max(0, (n - 1).bit_length()))[:n]


def _grid_side(n: int, d: int) -> int | None:
    """r if n = r^d points make a product grid (any r in 1-D, r >= 3 in n-D), else None."""
    r = _iroot(n, d)
    return r if r**d == n and (d == 1 or r >= 3) else None


def _in_ball(t: Target, n: int, part: str) -> Array:
    """The first n scrambled Sobol points of the cube that lie strictly inside its inscribed
    ball, as columns (dim, n)."""
    c, r = (t.lo + t.hi) / 2, (t.hi - t.lo) / 2
    draw = 2 * n + 16
    while True:
        U = t.lo + (t.hi - t.lo) * _sobol(t.dim, draw, _rng(t.name, part)).T  # (dim, draw)
        inside = U[:, np.sum((U - c) ** 2, axis=0) < r * r * (1 - 1e-12)]
        if inside.shape[1] >= n:
            return inside[:, :n]
        draw *= 2


def _sphere(t: Target, n: int) -> Array:
    """n points on the sphere of the inscribed ball (dim, n): evenly spaced angles in 2-D,
    normalised Gaussian Sobol points above."""
    c, r = (t.lo + t.hi) / 2, (t.hi - t.lo) / 2
    if t.dim == 2:
        a = 2 * np.pi * np.arange(n) / n
        D = np.stack([np.cos(a), np.sin(a)])
    else:
        G = special.ndtri(np.clip(_sobol(t.dim, n, _rng(t.name, "test-boundary")).T, 1e-12,
                                  1 - 1e-12))
        D = G / np.linalg.norm(G, axis=0)
    return c + r * D


def _train_points(t: Target, n: int) -> tuple[Array, int | None]:
    if t.ball:
        return _in_ball(t, n, "train"), None
    r = _grid_side(n, t.dim)
    if r is not None:
        return _grid(t.lo + (np.arange(r) + 0.5) * (t.hi - t.lo) / r, t.dim), r
    return t.lo + (t.hi - t.lo) * _sobol(t.dim, n, _rng(t.name, "train")).T, None


def _test_points(t: Target, n: int) -> tuple[Array, int | None, Array]:
    """Test points (dim, n), the grid side (None off a grid) and the boundary flags (n,)."""
    d = t.dim
    if t.ball:  # the centre (where a sup floor is attained), the sphere, and the inside
        n_sphere = min(4 * _iroot(n, d) ** (d - 1), n // 4)
        if n_sphere < 4:
            raise UserError(f"`n_test` must be >= 16 for target '{t.name}'; got {n}")
        centre = np.full((d, 1), (t.lo + t.hi) / 2)
        X = np.concatenate([centre, _sphere(t, n_sphere), _in_ball(t, n - 1 - n_sphere, "test")],
                           axis=1)
        index = np.arange(n)
        return X, None, (index >= 1) & (index <= n_sphere)
    r = _grid_side(n, d)
    if r is not None:
        X = _grid(np.linspace(t.lo, t.hi, r), d)
        return X, r, np.any((X == t.lo) | (X == t.hi), axis=0)
    n_face = min(_iroot(n, d) ** (d - 1), n // (4 * d))
    if n_face < 1:
        raise UserError(f"`n_test` must be >= {4 * d} or a grid r^{d} (r >= 3) for "
                        f"target '{t.name}'; got {n}")
    face = _sobol(d - 1, n_face, _rng(t.name, "test-boundary"))  # (n_face, d - 1)
    U = [_sobol(d, n - 2 * d * n_face, _rng(t.name, "test"))]
    U += [np.insert(face, axis, side, axis=1) for axis in range(d) for side in (0.0, 1.0)]
    U = np.concatenate(U).T  # (d, n) in [0, 1]
    X = np.where(U == 1.0, t.hi, t.lo + (t.hi - t.lo) * U)  # faces exactly at lo, hi
    return X, None, np.any((X == t.lo) | (X == t.hi), axis=0)


def _grids_meet(a: int, b: int) -> bool:
    """Whether the cell-centred a-grid and the b-point linspace share a point, in integers:
    (i + 1/2)/a = j/(b - 1) iff (2i + 1)(b - 1) = 2 j a."""
    return bool(np.isin((2 * np.arange(a) + 1) * (b - 1), 2 * np.arange(b) * a).any())


def _shares_points(X: Array, X_test: Array) -> bool:
    """Whether any column of X_test equals a column of X exactly (+ 0.0 folds -0.0 into 0.0)."""
    seen = {row.tobytes() for row in np.ascontiguousarray((X + 0.0).T)}
    return any(row.tobytes() in seen for row in np.ascontiguousarray((X_test + 0.0).T))


def sample(target: Target, n_train: int, n_test: int) -> Data:
    """Train and test points of `target` with their values (rules in the module docstring).

    Parameters
    ----------
    target : a Target from `get`.
    n_train, n_test : numbers of train and test points (ignored by xor(noise=0.0)).

    Returns Data with X: (n, n_train), Y: (m, n_train), X_test: (n, n_test), Y_test:
    (m, n_test), boundary: (n_test,) bool. Raises UserError for sizes that are too small or
    that would put test points on train points, naming an n_test that works.
    """
    t = target
    if t.finite:
        X, Y = t.draw(_rng(t.name, "train"), 0)
        return Data(X, Y, X.copy(), Y.copy(), np.zeros(X.shape[1], dtype=bool))
    for key, n, least in (("n_train", n_train, 1), ("n_test", n_test, 2)):
        if not isinstance(n, int) or isinstance(n, bool) or n < least:
            raise UserError(f"`{key}` must be an integer >= {least}; got {n!r} ('{t.name}')")
        if n * max(t.dim, t.n_out) > MAX_VALUES:
            raise UserError(f"`{key}` {n:,} points of '{t.name}' hold {n * t.dim:,} values; at "
                            f"most {MAX_VALUES:,}")
    if t.points is not None:  # a data file: its own points, split (uat.custom)
        return t.points(n_train, n_test)
    if t.draw is not None:
        X, Y = t.draw(_rng(t.name, "train"), n_train)
        X_test, Y_test = t.draw(_rng(t.name, "test"), n_test)
    else:
        (X, r_train), (X_test, r_test, boundary) = (_train_points(t, n_train),
                                                   _test_points(t, n_test))
        if r_train and r_test and _grids_meet(r_train, r_test):
            raise UserError(
                f"n_test={n_test} ({r_test} per axis) puts test points on the n_train={n_train} "
                f"train points of '{t.name}'; use n_test={(r_test + 1) ** t.dim} (an even number "
                f"per axis never does)"
            )
        Y, Y_test = t.f(X), t.f(X_test)
        for A, P in ((Y, X), (Y_test, X_test)):
            bad = ~np.all(np.isfinite(A), axis=0)
            if bad.any():
                at = ", ".join(f"{v:g}" for v in P[:, np.argmax(bad)])
                raise UserError(f"target '{t.name}' is not a finite number at x = ({at})")
        if t.noise_sd > 0:
            Y = Y + t.noise_sd * _rng(t.name, "noise").standard_normal(Y.shape)
    if _shares_points(X, X_test):
        raise UserError(f"test points of '{t.name}' equal train points; change n_test={n_test}")
    X, Y, X_test, Y_test = (np.ascontiguousarray(a, np.float64) for a in (X, Y, X_test, Y_test))
    if t.draw is not None:
        boundary = np.any((X_test == t.lo) | (X_test == t.hi), axis=0)
    return Data(X, Y, X_test, Y_test, boundary)

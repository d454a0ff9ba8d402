"""Tests for uat.targets: shapes, domains, determinism, disjoint train/test points, spec errors,
and oracles (Telgarsky's composed tent map, the NMR spectrum's numbers in docs/theory.md)."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from uat import custom, targets
from uat.errors import SpecError, UserError

# Every registered target with its defaults, plus variants that take other code paths
# (n-D Sobol, 3-D faces, noisy xor blobs, noisy NMR train targets).
SPECS = [name for name in targets.TARGETS if name not in custom.TARGETS] + [
    "bump(dim=2, scale=0.3)", "bump(dim=3)", "hanin_sellke(dim=3)", "xor(noise=0.1)",
    "nmr(noise=0.01)", "sawtooth(teeth=16)", "expr(f='exp(-x**2) * cos(3*x)')",
    "expr(f='x1 * x2 - x3', dim=3, lo=0, hi=2)", "expr(f='x1**2 + x2**2', dim=2, domain='ball')",
]


def _digest(data: targets.Data) -> str:
    return hashlib.sha256(b"".join(a.tobytes() for a in data)).hexdigest()


@pytest.mark.parametrize("text", SPECS)
def test_sample_shapes_domain_determinism(text):
    t = targets.get(text)
    d = targets.sample(t, 64, 128)
    n_train, n_test = (4, 4) if t.finite else (64, 128)
    assert d.X.shape == (t.dim, n_train) and d.Y.shape == (t.n_out, n_train)
    assert d.X_test.shape == (t.dim, n_test) and d.Y_test.shape == (t.n_out, n_test)
    assert d.boundary.shape == (n_test,) and d.boundary.dtype == bool
    for a in d[:4]:
        assert a.dtype == np.float64 and a.flags.c_contiguous and np.isfinite(a).all()
    for X in (d.X, d.X_test):
        assert (X >= t.lo).all() and (X <= t.hi).all()
    assert t.kind in ("regression", "classification")
    again = targets.sample(targets.get(text), 64, 128)
    assert _digest(again) == _digest(d)  # bitwise, from a fresh Target
    train = {tuple(c) for c in d.X.T}
    shared = [c for c in d.X_test.T if tuple(c) in train]
    assert len(shared) == (4 if t.finite else 0)  # only xor(noise=0.0): train = test


def test_same_bits_in_another_process():
    """Seeds come from SHA-256, never from hash(): a fresh process with another hash seed
    gives the same bits (Sobol, random draws and train noise)."""
    names = ["bump(dim=2)", "moons", "nmr(noise=0.01)", "disk"]
    code = (
        "import hashlib, sys; from uat import targets\n"
        "for n in sys.argv[1:]:\n"
        "    d = targets.sample(targets.get(n), 50, 100)\n"
        "    print(hashlib.sha256(b''.join(a.tobytes() for a in d)).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, *names], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == [_digest(targets.sample(targets.get(n), 50, 100)) for n in names]


def test_canonical_names():
    assert targets.get("sin").name == targets.get("sin(freq=1)").name == "sin(freq=1.0)"
    assert targets.get("abs").name == "abs"
    assert targets.get("bump(scale=0.3, dim=2)").name == "bump(dim=2, scale=0.3)"


@pytest.mark.parametrize(
    "text, key",
    [("sin(frq=2)", "frq"), ("sawtooth(teeth=0)", "teeth"), ("bump(dim=0)", "dim"),
     ("nmr(noise=-1)", "noise"), ("bump(scale=0)", "scale"), ("circles(factor=1)", "factor"),
     ("moons(noise=2)", "noise"), ("step(sharpness=inf)", "sharpness")],
)
def test_spec_errors_name_the_key(text, key):
    with pytest.raises(SpecError, match=f"'{key}'"):
        targets.get(text)


def test_colliding_grids_raise_and_suggest():
    # 1-D: the cell-centred 64-grid and the 129-point linspace share x = (2i + 1)/64 - 1.
    with pytest.raises(UserError, match="n_test=130"):
        targets.sample(targets.get("sin"), 64, 129)
    # 2-D: 8 x 8 cell-centred and 17 x 17 linspace grids meet; 18 per axis never does.
    with pytest.raises(UserError, match="n_test=324"):
        targets.sample(targets.get("bump(dim=2)"), 64, 17**2)
    targets.sample(targets.get("sin"), 64, 130)  # even n_test: safe
    targets.sample(targets.get("sin"), 64, 7)  # odd, but (i + 1/2)/64 = j/6 has no solution
    with pytest.raises(UserError, match="n_train"):
        targets.sample(targets.get("sin"), 0, 128)
    with pytest.raises(UserError, match="n_test"):
        targets.sample(targets.get("bump(dim=3)"), 64, 10)  # < 4 dim and not a grid


def test_grids_meet_matches_brute_force():
    """The integer test agrees with a float comparison of the two grids on [0, 1]."""
    for a in range(1, 40):
        for b in range(2, 40):
            train = (np.arange(a) + 0.5) / a
            meet = np.abs(train[:, None] - np.linspace(0, 1, b)[None, :]).min() < 1e-12
            assert targets._grids_meet(a, b) == meet, (a, b)
            assert not (b % 2 == 0 and meet)  # an even n_test never meets


def _tent_power(u, k):
    for _ in range(k):
        u = np.where(u <= 0.5, 2 * u, 2 - 2 * u)  # the tent map on [0, 1]
    return u


@pytest.mark.parametrize("k", range(1, 7))
def test_sawtooth_is_telgarsky_delta_k(k):
    """sawtooth(teeth=2^(k-1)) on [-1, 1] equals Delta^k (tent composed k times) on [0, 1]."""
    x = np.linspace(-1, 1, 4097)[None, :]  # contains every apex and valley for k <= 6
    f = targets.get(f"sawtooth(teeth={2 ** (k - 1)})").f
    np.testing.assert_allclose(f(x), _tent_power((x + 1) / 2, k), rtol=0, atol=1e-12)


def test_nmr_matches_theory():
    """docs/theory.md: peak max 45.87, mean 1.762, variance 21.41 on [0.5, 5] ppm."""
    t = targets.get("nmr")
    y = t.f(np.linspace(-1, 1, 4501)[None, :])
    for got, want in ((y.max(), 45.87), (y.mean(), 1.762), (y.var(), 21.41)):
        assert got == pytest.approx(want, rel=0.01)
    # x increases with ppm: the tallest line (acetyl singlet, 2.05 ppm) at x = (2.05 - 2.75)/2.25
    assert np.linspace(-1, 1, 4501)[y.argmax()] == pytest.approx((2.05 - 2.75) / 2.25, abs=1e-3)


def test_nmr_noise_on_train_only():
    t = targets.get("nmr(noise=0.01)")
    d = targets.sample(t, 2000, 512)
    np.testing.assert_array_equal(d.Y_test, t.f(d.X_test))  # clean test targets
    resid = d.Y - t.f(d.X)
    assert resid.std() == pytest.approx(0.01 * targets._NMR_PEAK, rel=0.1)


@pytest.mark.parametrize("text", ["xor", "xor(noise=0.1)", "moons", "circles", "disk"])
def test_classification_labels(text):
    t = targets.get(text)
    assert t.kind == "classification" and t.f is None
    d = targets.sample(t, 201, 400)
    for Y in (d.Y, d.Y_test):
        assert set(np.unique(Y)) == {0.0, 1.0}
        assert abs(Y.mean() - 0.5) <= 0.01  # balanced: n // 2 and n - n // 2
    if text == "xor":  # the four corners, label x1 xor x2
        np.testing.assert_array_equal(d.Y[0], np.logical_xor(d.X[0], d.X[1]))
    if text == "disk":  # label 1 exactly inside radius 1, label 0 in the annulus 2-3
        r = np.hypot(*d.X)
        assert (r[d.Y[0] == 1] <= 1).all() and ((r[d.Y[0] == 0] >= 2) & (r[d.Y[0] == 0] <= 3)).all()


def test_boundary_marks_boundary_points():
    # 1-D: exactly the two linspace endpoints.
    d = targets.sample(targets.get("sin"), 64, 128)
    assert np.flatnonzero(d.boundary).tolist() == [0, 127]
    # 2-D grid, 11 x 11: the 121 - 9 * 9 = 40 points of the outer ring.
    d = targets.sample(targets.get("bump(dim=2)"), 100, 121)
    ring = (np.abs(d.X_test) == 1).any(axis=0)
    assert d.boundary.sum() == 40 and (d.boundary == ring).all()
    # n-D Sobol test set: 2 dim faces x n_face points exactly on a face, the rest inside.
    for dim, n_test, n_face in ((2, 128, 11), (3, 128, 10)):
        t = targets.get(f"hanin_sellke(dim={dim}, domain='box')")
        d = targets.sample(t, 64, n_test)
        assert d.boundary.sum() == 2 * dim * n_face
        inner = d.X_test[:, ~d.boundary]
        assert ((inner > t.lo) & (inner < t.hi)).all()
        on = d.X_test[:, d.boundary]
        assert (((on == t.lo) | (on == t.hi)).sum(axis=0) >= 1).all()
        for axis in range(dim):  # every face gets the same share
            assert (on[axis] == t.lo).sum() >= n_face and (on[axis] == t.hi).sum() >= n_face
    # classification point sets never touch the box.
    assert not targets.sample(targets.get("moons"), 64, 128).boundary.any()


def test_train_points_grid_or_sobol():
    # 1-D cell-centred grid.
    d = targets.sample(targets.get("abs"), 4, 6)
    np.testing.assert_array_equal(d.X[0], [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_array_equal(d.X_test[0], np.linspace(-1, 1, 6))
    # 2-D: 64 = 8^2 is a grid, 60 is not (Sobol: 60 distinct points, well spread).
    d = targets.sample(targets.get("paraboloid"), 64, 128)
    assert sorted(set(d.X[0])) == list(-1 + (np.arange(8) + 0.5) / 4)
    d = targets.sample(targets.get("paraboloid"), 60, 128)
    assert len({tuple(c) for c in d.X.T}) == 60 and len(set(d.X[0])) == 60
    # values are f at the points.
    t = targets.get("circle")
    d = targets.sample(t, 16, 32)
    np.testing.assert_allclose(np.hypot(*d.Y_test), 1.0, atol=1e-15)
    np.testing.assert_array_equal(d.Y, t.f(d.X))


@pytest.mark.parametrize("dim", [2, 3])
def test_ball_domain_has_centre_sphere_and_inside(dim):
    """Issue #10: Hanin & Sellke's witness on their ball: test points include the centre and
    the sphere (flagged as boundary), train and test points lie in the ball, and Johnson's sup
    floor on these points is exactly their 1/8."""
    from uat import theory

    t = targets.get(f"hanin_sellke(dim={dim})")
    assert t.ball and t.name == f"hanin_sellke(dim={dim}, domain='ball')"
    d = targets.sample(t, 200, 1000)
    radius = np.linalg.norm(d.X_test - 0.5, axis=0)
    assert radius[0] == 0 and d.Y_test[0, 0] == 0  # the centre, where f = 0
    np.testing.assert_allclose(radius[d.boundary], 0.5, rtol=1e-12)
    assert (radius[~d.boundary] < 0.5).all() and (np.linalg.norm(d.X - 0.5, axis=0) < 0.5).all()
    assert d.boundary.sum() >= 4 and d.X.shape == (dim, 200) and d.X_test.shape == (dim, 1000)
    np.testing.assert_allclose(theory.sup_floor_narrow(d.X_test, d.Y_test[0], d.boundary), 1 / 8,
                               rtol=1e-12)
    # the constant 1/8 attains it on the ball
    assert np.max(np.abs(d.Y_test - 1 / 8)) == pytest.approx(1 / 8, rel=1e-12)

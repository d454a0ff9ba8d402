"""uat.activations: derivatives against finite differences, family facts checked numerically."""

import numpy as np
import pytest

from uat import activations
from uat.errors import SpecError, UserError

# Every registered activation, with parameters where the default is not enough.
FORMULAS = ["act(f='x / (1 + abs(x))', monotone=True)", "act(f='tanh(x) + 0.1 * sin(3 * x)')",
            "act(f='log1p(exp(x))', monotone=True, gain=2.0)", "act(f='x**3 - x')",
            "act(f='maximum(x, 0.1 * x)', monotone=True)", "act(f='x * erf(x / sqrt(2))')",
            "act(f='exp(-x**2 / 2) * cos(x)')", "act(f='arctan(x) ** 3 + 0.5 * sinh(x / 4)')"]
SPECS = [name for name in activations.ACTIVATIONS if name not in ("poly", "act")] + [
    "poly(degree=1)", "poly(degree=2)", "poly(degree=3)", "poly(degree=4)",
    "leaky_relu(slope=-0.5)", "leaky_relu(slope=1)", "elu(alpha=0.5)", *FORMULAS,
]
T = np.concatenate([np.linspace(-6, -1e-3, 3001), np.linspace(1e-3, 6, 3001)])  # off the kinks


def test_at_least_fifteen_registered():
    assert len(activations.ACTIVATIONS) >= 15


@pytest.mark.parametrize("name", SPECS)
def test_derivative_matches_central_differences(name):
    act = activations.get(name)
    h = 1e-6
    numeric = (act.f(T + h) - act.f(T - h)) / (2 * h)
    exact = act.df(T, act.f(T))
    # central differences in float64: truncation ~h^2 f''' and rounding ~1e-16 |f| / h
    np.testing.assert_allclose(exact, numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", SPECS)
def test_family_facts(name):
    act = activations.get(name)
    t = np.linspace(-50, 50, 200001)
    A = act.f(t)
    d = np.diff(A)
    with np.errstate(all="ignore"):
        far = np.max(np.abs(act.f(np.array([-1e6, 1e6, -1e3, 1e3]))))
    if name.startswith("act("):  # a formula's facts are claimed only where they hold
        assert not act.monotone or np.all(d >= -1e-12), "monotone (non-decreasing) fact"
        assert not act.bounded or far < 10
    else:
        assert act.monotone == bool(np.all(d >= -1e-12)), "monotone (non-decreasing) fact"
        assert act.bounded == bool(far < 10)
    # a polynomial of degree d has vanishing (d+1)-th finite differences and non-zero d-th ones
    # on a unit-step grid (a fine one makes the high differences of any smooth f tiny)
    s = np.arange(-6.0, 7.0)
    scale = np.max(np.abs(act.f(s)))
    diffs = [np.diff(act.f(s), n=j) for j in range(1, 12)]
    degree = next((j for j in range(11) if np.max(np.abs(diffs[j])) < 1e-9 * scale), None)
    assert act.poly_degree == degree
    if act.sigmoidal:
        lo, hi = act.f(np.array([-40.0, 40.0]))
        assert act.monotone and act.bounded and hi - lo > 0.5


def test_named_facts():
    """The facts the theorems read, spelled out for the activations they are about."""
    get = activations.get
    assert get("identity").poly_degree == 1
    assert get("square").poly_degree == 2 and not get("square").monotone
    assert get("cubic").poly_degree == 3 and get("cubic").monotone
    assert get("relu").monotone and get("relu").poly_degree is None
    assert get("tanh").sigmoidal and get("sigmoid").sigmoidal and not get("relu").sigmoidal
    assert not get("gelu").monotone and not get("swish").monotone
    assert get("sin").bounded and not get("sin").monotone
    assert get("poly(degree=5)").monotone and not get("poly(degree=4)").monotone
    assert get("leaky_relu(slope=1)").poly_degree == 1
    assert get("leaky_relu(slope=-1)").monotone is False  # that is |t|


def test_softplus_and_sigmoid_do_not_overflow():
    t = np.array([-1000.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):  # underflow to 0 is fine
        assert np.all(np.isfinite(activations.get("softplus").f(t)))
        assert np.all(np.isfinite(activations.get("sigmoid").f(t)))


@pytest.mark.parametrize(
    "text, words",
    [
        ("relux", ["unknown activation 'relux'", "did you mean 'relu'", "tanh"]),
        ("poly(degree=0)", ["'degree'", "from 1 to 64", "got 0"]),
        ("poly(degree=100000)", ["'degree'", "from 1 to 64", "got 100000"]),
        ("leaky_relu(slope=1e308)", ["'slope'", "|slope| <= 1e+06"]),
        ("leaky_relu(slop=0.1)", ["no parameter 'slop'", "allowed: slope"]),
        ("poly", ["needs 'degree'"]),
        ("elu(alpha=-1)", ["'alpha'", "between 0 and"]),
    ],
)
def test_bad_activation_specs(text, words):
    with pytest.raises(SpecError) as err:
        activations.get(text)
    for word in words:
        assert word in str(err.value)
    assert isinstance(err.value, UserError)


@pytest.mark.parametrize("name", SPECS)
def test_facts_theory_reads(name):
    """Issue #10: the facts on the record are what the functions do, so the theory reads
    them instead of names (a new activation is one registry function)."""
    act = activations.get(name)
    t = np.linspace(-50, 50, 100001)
    A = act.f(t)
    if act.kink_slopes is not None:  # exactly two lines meeting at 0
        left, right = act.kink_slopes
        np.testing.assert_allclose(A, np.where(t > 0, right * t, left * t), atol=1e-12)
        assert left != right and act.poly_degree is None
    slope = np.abs(act.df(t, A))
    if act.lipschitz:  # a bounded derivative, so uniformly continuous
        assert slope.max() < 10
    elif not name.startswith("act("):  # (a formula's facts are claimed only where they hold)
        # unbounded growth of the derivative: not uniformly continuous on R
        assert act.df(np.array([1e3]), act.f(np.array([1e3])))[0] > 100
    if act.analytic:  # smooth and not a polynomial somewhere: high differences stay non-zero
        assert act.poly_degree is None and act.kink_slopes is None
        s = np.linspace(-2.0, -0.5, 13)
        assert np.max(np.abs(np.diff(act.f(s), n=8))) > 1e-12
    if act.relu_like:
        assert spec_name(act) in ("relu", "leaky_relu", "elu", "gelu", "softplus")
    assert act.is_relu == (act.kink_slopes == (0.0, 1.0))


def spec_name(act) -> str:
    from uat import spec

    return spec.parse(act.name)[0]


def test_equivalent_specs_share_their_facts():
    get = activations.get
    for same in ("leaky_relu(slope=0)", "elu(alpha=0)"):
        assert get(same).is_relu and get(same).relu_like and not get(same).analytic
    assert get("leaky_relu(slope=1)").poly_degree == 1 and get("leaky_relu(slope=1)").kink_slopes \
        is None
    assert get("elu").analytic and not get("elu").is_relu

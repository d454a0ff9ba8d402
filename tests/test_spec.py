"""uat.spec: one `name(key=value)` syntax, literals only, errors that name the bad part."""

import pytest

from uat import spec
from uat.errors import SpecError, UserError


def f(freq: float = 1.0, n: int = 3, label: str = "a", flag: bool = False):
    return (freq, n, label, flag)


def needs(degree: int):
    return degree


REG = {"f": f, "needs": needs}


def test_parse_plain_and_call():
    assert spec.parse("tanh") == ("tanh", {})
    assert spec.parse(" sin(freq=2, phase=-0.5) ") == ("sin", {"freq": 2, "phase": -0.5})


def test_canonical_fills_defaults_and_coerces_int_to_float():
    a = spec.resolve("f", REG, "thing")
    b = spec.resolve("f(freq=1, n=3)", REG, "thing")
    assert a.canonical == b.canonical == "f(freq=1.0, n=3, label='a', flag=False)"
    assert b.value == (1.0, 3, "a", False) and isinstance(b.kwargs["freq"], float)


@pytest.mark.parametrize(
    "text, words",
    [
        ("g", ["unknown thing 'g'", "allowed: f, needs"]),
        ("f(frq=2)", ["no parameter 'frq'", "did you mean 'freq'", "allowed: flag, freq, label"]),
        ("f(n=2.5)", ["'n' must be int", "2.5"]),
        ("f(flag=1)", ["'flag' must be bool"]),
        ("f(n=True)", ["'n' must be int"]),
        ("f(2)", ["key=value"]),
        ("f(freq=__import__('os'))", ["literal"]),
        ("f(freq=1, freq=2)", ["given twice"]),
        ("f(", ["cannot parse"]),
        ("1 + 2", ["cannot parse"]),
        ("needs", ["needs 'degree'"]),
        ("f(**{'a': 1})", ["'**' is not allowed"]),
    ],
)
def test_bad_specs_name_the_problem(text, words):
    with pytest.raises(SpecError) as err:
        spec.resolve(text, REG, "thing")
    msg = str(err.value)
    assert "\n" not in msg
    for word in words:
        assert word in msg
    assert isinstance(err.value, UserError)


def test_non_string_spec():
    with pytest.raises(SpecError, match="must be a string"):
        spec.parse(3)


def test_toml_booleans_in_a_spec():
    """A study file is TOML: act(f='x', monotone=true) reads as Python's True."""
    assert spec.parse("act(f='x', monotone=true)") == ("act", {"f": "x", "monotone": True})
    assert spec.parse("act(f='x', monotone=false)")[1]["monotone"] is False

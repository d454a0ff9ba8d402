"""Issue #12: the user's own targets (a formula, a data file, a Python function) and
activations (a formula): safe parsing, symbolic derivatives, the data file's hash in the run
key, the split of a file's points, and one-line refusals naming the file and the key."""

import json
import shutil
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uat import activations, cli, custom, formula, study, targets
from uat.errors import SpecError, UserError

from .conftest import uat_cmd

STUDY = """
[study]
name = "mine"
title = "my own function"

[grid]
target = [{target}]
activation = ["tanh"]
width = [2, 4]
seed = [0, 1]
optimizer = ["lm(steps=40)"]

[data]
n_train = {n_train}
n_test = {n_test}
"""


def write_study(folder, target, n_train=60, n_test=40):
    path = folder / "mine.toml"
    path.write_text(STUDY.format(target=json.dumps(target), n_train=n_train, n_test=n_test))
    return path


def spectrum(folder, n=120, name="spectrum.csv"):
    ppm = np.linspace(0.5, 5.0, n)
    y = 1 / (1 + ((ppm - 2.0) / 0.1) ** 2) + 0.5 / (1 + ((ppm - 4.1) / 0.1) ** 2)
    pd.DataFrame({"ppm": ppm, "intensity": y}).to_csv(folder / name, index=False)
    return folder / name


# ---------------------------------------------------------------- formulas


@pytest.mark.parametrize("text, word", [
    ("__import__('os').system('true')", "only the listed functions may be called"),
    ("__import__('os')", "'__import__' is not an allowed function"),
    ("x.real", "attribute access"),
    ("(lambda: 1)()", "only the listed functions"),
    ("x[0]", "a subscript"),
    ("open('f')", "'open' is not an allowed function"),
    ("y + 1", "unknown name 'y'"),
    ("x < 1", "a comparison"),
    ("x if x else 1", "an if-expression"),
    ("sin(x, 1)", "sin() takes 1 argument"),
    ("sin(x=1)", "takes no keywords"),
    ("'a'", "is not a number"),
    ("[x for x in ()]", "is not allowed"),
    ("(" * 3000 + "x" + ")" * 3000, "characters long"),
    ("+".join(["x"] * 500), "more than"),
    ("", "non-empty"),
])
def test_unsafe_or_invalid_formulas_are_refused(text, word):
    with pytest.raises(SpecError) as err:
        formula.parse(text)
    assert word in str(err.value) and "\n" not in str(err.value)


def test_huge_powers_are_floats_not_big_integers():
    f = formula.parse("9**9**9**9")  # as Python integers this would never finish
    assert f.tree.op == "num" and f.tree.value == np.inf


@pytest.mark.parametrize("text", [
    "exp(-x**2) * cos(3*x)", "x / (1 + abs(x))", "tanh(2*x) ** 3 - arctan(x) / 3",
    "sqrt(1 + x**2) * log1p(x**2)", "maximum(x, 0.2*x) + minimum(x**2, 0.5)",
    "erf(x) * sinh(x / 2) + cosh(x / 3) - expm1(x / 4)", "(1 + x**2) ** 0.7 - 2 ** x",
    "log10(2 + x) + log2(3 + x) + cbrt(2 + x) + tan(x / 2)",
    "arcsin(x / 2) + arccos(x / 3) + arcsinh(x) + arctanh(x / 2) + arccosh(2 + x**2)",
])
def test_symbolic_derivative_matches_finite_differences(text):
    f = formula.parse(text)
    d = formula.derivative(f.tree)
    x = np.linspace(-0.9, 0.9, 181) + 1e-3  # off the kinks of abs, maximum, minimum
    h = 1e-6
    numeric = (formula.evaluate(f.tree, {"x": x + h}) - formula.evaluate(f.tree, {"x": x - h}))
    np.testing.assert_allclose(formula.evaluate(d, {"x": x}) + 0 * x, numeric / (2 * h),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("text, degree", [
    ("x", 1), ("3*x**2 - 1", 2), ("(1 + x)**5", 5), ("x**(1+1) * x", 3), ("x**2 - x**2 + x", 2),
    ("sin(x)", None), ("x / (1 + x**2)", None), ("x**0.5", None), ("2 ** x", None),
    ("pi * x + e", 1), ("x / 2", 1), ("abs(x)", None),
])
def test_symbolic_degree(text, degree):
    assert formula.degree(formula.parse(text).tree) == degree  # an upper bound, by design


def test_activation_from_a_formula_detects_its_family():
    get = activations.get
    assert get("act(f='x**2 - x**2 + x')").poly_degree == 1  # expanded exactly
    assert get("act(f='x + 1e-15 * x**3')").poly_degree == 3  # small is not zero
    assert get("act(f='(1 + x)**4')").poly_degree == 4
    hidden = get("act(f='sin(x)**2 + cos(x)**2 + x**3')")  # x**3, but not visibly: no claim
    assert hidden.poly_degree is None and not hidden.analytic
    softsign = get("act(f='x / (1 + abs(x))', monotone=True)")
    assert softsign.poly_degree is None and softsign.monotone
    assert not (softsign.analytic or softsign.bounded or softsign.sigmoidal)  # never claimed
    assert get("act(f='tanh(x) + x / 10')").analytic
    for text in ("sqrt((x - 0.0025)**2)", "arccos(cos(x + 0.0025))", "exp(x / 1000)", "tan(x)"):
        assert not get(f"act(f='{text}')").analytic, text  # branch points, or a polynomial look
    for text in ("x / (1 + abs(x)) + 0.01 * sin(2 * pi * x / 0.005) * exp(-(x - 14.795)**2 / 0.01)",
                 "x - 2 * sin(x)**9"):
        with pytest.raises(SpecError, match="monotone = true, but f decreases"):
            get(f"act(f='{text}', monotone=True)")
    assert get("act(f='x**3')").name == "act(f='x ** 3', monotone=False, gain=1.0)"
    for text, word in [("act(f='sin(x)', monotone=True)", "f decreases near x"),
                       ("act(f='log(x)')", "not finite at x = -20"),
                       ("act(f='2 + 0 * x')", "is a constant"),
                       ("act(f='pi')", "does not depend on x"),
                       ("act(f='x**65')", "degree 65; at most 64"),
                       ("act(f='os.system(1)')", "only the listed functions")]:
        with pytest.raises(SpecError, match=word):
            get(text)


# ---------------------------------------------------------------- data files


def test_csv_split_keeps_the_ends_for_testing_and_never_shares_a_point(tmp_path):
    spectrum(tmp_path, n=101)
    t = targets.get("csv(path='spectrum.csv', x='ppm', y='intensity')", base=tmp_path)
    assert t.x_range == ((0.5, 5.0),) and t.labels == (("ppm",), ("intensity",))
    d = targets.sample(t, 60, 41)
    assert d.X.shape == (1, 60) and d.X_test.shape == (1, 41)
    assert d.X_test.min() == -1 and d.X_test.max() == 1 and d.boundary.sum() == 2
    assert not set(d.X[0]) & set(d.X_test[0])
    assert np.all(np.diff(d.X_test[0]) > 0) and np.all(np.diff(d.X[0]) > 0)  # evenly spread
    ppm = 0.5 + (d.X_test[0] + 1) / 2 * 4.5  # mapped back to the file's units
    df = pd.read_csv(tmp_path / "spectrum.csv")
    np.testing.assert_allclose(d.Y_test[0], np.interp(ppm, df["ppm"], df["intensity"]),
                               rtol=1e-9)


def test_npz_and_npy_give_the_same_points_as_csv(tmp_path):
    path = spectrum(tmp_path)
    df = pd.read_csv(path)
    np.savez(tmp_path / "s.npz", x=df["ppm"].to_numpy(), y=df["intensity"].to_numpy())
    np.save(tmp_path / "s.npy", df.to_numpy())
    a = targets.sample(targets.get("csv(path='spectrum.csv')", base=tmp_path), 50, 30)
    for spec_text in ("npy(path='s.npz')", "npy(path='s.npy', x='0', y='1')"):
        b = targets.sample(targets.get(spec_text, base=tmp_path), 50, 30)
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)


def test_n_dimensional_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (200, 2))
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "f": X[:, 0] * X[:, 1]}).to_csv(
        tmp_path / "p.csv", index=False)
    t = targets.get("csv(path='p.csv', x='a, b', y='f')", base=tmp_path)
    assert t.dim == 2 and t.name.startswith("csv(") and "x='a,b'" in t.name
    d = targets.sample(t, 120, 60)
    assert d.X.shape == (2, 120) and not d.boundary.any()  # no faces sampled: no Johnson
    a, b = [(d.X_test[i] + 1) / 2 * (X[:, i].max() - X[:, i].min()) + X[:, i].min()
            for i in range(2)]
    np.testing.assert_allclose(d.Y_test[0], a * b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("content, spec_text, words", [
    (None, "csv(path='nope.csv')", ["nope.csv: no such file"]),
    ("ppm,intensity\n1,2\n", "csv(path='d.csv', y='height')",
     ["no column 'height' for 'y'", "columns: ppm, intensity"]),
    ("ppm,intensity\n" + "".join(f"{i},{i}\n" for i in range(5)) + "7,abc\n" +
     "".join(f"{i},{i}\n" for i in range(8, 12)), "csv(path='d.csv')",
     ["line 7", "'intensity'", "'abc'", "not a finite number"]),
    ("ppm,intensity\n" + "".join(f"{i},{i}\n" for i in range(5)) + "6,\n",
     "csv(path='d.csv')", ["line 7", "column 'intensity' is empty"]),
    ("ppm,intensity\n1,2\n2,3\n", "csv(path='d.csv')", ["2 points; at least 8"]),
    ("justone\n1\n2\n", "csv(path='d.csv')", ["at least two columns"]),
    ("a,b\n" + "".join(f"1,{i}\n" for i in range(10)), "csv(path='d.csv')",
     ["input 'a' takes one value only"]),
])
def test_broken_data_files_are_one_line(tmp_path, content, spec_text, words):
    if content is not None:
        (tmp_path / "d.csv").write_text(content)
    with pytest.raises(UserError) as err:
        targets.get(spec_text, base=tmp_path)
    message = str(err.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_too_many_points_asked_names_sizes_that_work(tmp_path):
    spectrum(tmp_path, n=100)
    t = targets.get("csv(path='spectrum.csv')", base=tmp_path)
    with pytest.raises(UserError, match=r"has 100 points; n_train \+ n_test = 2304 is more: "
                                        r"set \[data\] n_train = 75 and n_test = 25"):
        targets.sample(t, 256, 2048)


def test_data_hash_in_the_key_and_moving_the_folder_keeps_the_runs(tmp_path):
    here = tmp_path / "here"
    here.mkdir()
    spectrum(here)
    path = write_study(here, "csv(path='spectrum.csv', x='ppm', y='intensity')")
    keys = [r.key for r in study.load(path).runs]
    there = tmp_path / "there"
    shutil.copytree(here, there)
    moved = study.load(there / "mine.toml").runs
    assert [r.key for r in moved] == keys  # same bytes, same runs
    assert str(there) in moved[0].target  # ... read from where the study is now
    spectrum(there, n=121)  # edited data: new runs
    assert not set(keys) & {r.key for r in study.load(there / "mine.toml").runs}


def test_a_changed_file_under_a_pinned_hash_is_refused(tmp_path):
    spectrum(tmp_path)
    t = targets.get("csv(path='spectrum.csv')", base=tmp_path)
    spectrum(tmp_path, n=99)
    with pytest.raises(UserError, match="has changed since these runs were defined"):
        targets.get(t.name)


# ---------------------------------------------------------------- Python functions


def test_a_python_function_from_a_file_next_to_the_study(tmp_path):
    (tmp_path / "funcs.py").write_text(textwrap.dedent("""
        import numpy as np
        def ripple(X):
            return np.sin(3 * X[0]) * np.exp(-X[0] ** 2)
        def broken(X):
            raise ValueError("no")
        def wrong(X):
            return np.zeros(3)
    """))
    t = targets.get("py(path='funcs.py:ripple')", base=tmp_path)
    d = targets.sample(t, 32, 16)
    np.testing.assert_allclose(d.Y[0], np.sin(3 * d.X[0]) * np.exp(-d.X[0] ** 2))
    key = custom.key_form(t.name)
    assert "path" not in key and "function='funcs.py:ripple'" in key
    for name, word in [("broken", "raised ValueError: no"), ("wrong", "must return shape"),
                       ("missing", "has no function 'missing'")]:
        with pytest.raises(UserError, match=word):
            targets.get(f"py(path='funcs.py:{name}')", base=tmp_path)
    with pytest.raises(UserError, match="no such file"):
        targets.get("py(path='other.py:f')", base=tmp_path)


# ---------------------------------------------------------------- studies, end to end


def test_a_study_on_a_csv_trains_in_workers_and_gets_its_theory(tmp_path, capsys):
    """Runs on a data file go through loky workers (which read the file again by its path),
    and the theory table applies the oracles to its own test points."""
    spectrum(tmp_path)
    path = write_study(tmp_path, "csv(path='spectrum.csv', x='ppm', y='intensity')")
    out = tmp_path / "out"
    assert cli.main(["run", str(path), "--out", str(out), "--jobs", "2", "--quiet"]) == 0
    from uat.theory import table

    j = table.joined(study.load(path), out)
    assert len(j) == 4 and j["status"].eq("ok").all()
    assert (j["floor_kind"] == "").all()  # tanh, one layer: no floor, but a ceiling ...
    assert j["ceiling_kind"].str.startswith("polynomial degree").all()
    assert (j["test_mse"] >= 0).all() and np.isfinite(j["variance"]).all()


@pytest.mark.parametrize("target, words", [
    ("expr(f='__import__(\"os\")')", ["mine.toml", "grid.target", "'__import__' is not an "
                                      "allowed function", "allowed: numbers, x"]),
    ("csv(path='nope.csv')", ["mine.toml", "grid.target", "nope.csv: no such file"]),
    ("expr(f='1/x')", ["mine.toml", "is not a finite number at x = (0)"]),
])
def test_refusals_from_a_study_file_are_one_line_exit_2(tmp_path, target, words):
    path = write_study(tmp_path, target, n_train=61, n_test=40)  # x = 0 is a train point
    res = uat_cmd("run", path, "--out", tmp_path / "o", "--dry-run")
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and all(w in res.stderr for w in words), res.stderr


# ---------------------------------------------------------------- figures for any grid


def test_a_study_without_a_figure_gets_the_generic_one(tmp_path):
    assert study.load(write_study(tmp_path, "expr(f='sin(3*x)')")).figure == "grid"


@pytest.mark.parametrize("figure, target, extra, words", [
    ("separation", "cos", "", ["'separation' draws Telgarsky's sawtooth only",
                               "the grid has target cos(freq=1.0)"]),
    ("width", "sin", "depth = [1, 2]", ["'width' draws depth 1 only; the grid has depth 2"]),
    ("depth", "sin", "", ["'depth' draws error against depth; sin(freq=1.0) has one depth"]),
    ("width", "xor", "", ["draws regression error; xor(noise=0.0) is a classification"]),
    ("lecture", "bump(dim=2)", "", ["draws the NMR spectrum", "the grid has bump(dim=2"]),
])
def test_a_theorem_figure_refuses_a_grid_it_cannot_draw(tmp_path, figure, target, extra, words):
    text = STUDY.format(target=json.dumps(target), n_train=64, n_test=128)
    text = text.replace('title = "my own function"', f'title = "t"\nfigure = "{figure}"')
    text = text.replace('seed = [0, 1]', f'seed = [0, 1]\n{extra}')
    path = tmp_path / "mine.toml"
    path.write_text(text)
    res = uat_cmd("run", path, "--out", tmp_path / "o", "--dry-run")
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "study.figure:" in res.stderr and 'use figure = "grid"' in res.stderr, res.stderr
    assert all(w in res.stderr for w in words), res.stderr


FORMULA_PIECES = ["x", "1", "2.5", "pi", "e", "+", "-", "*", "/", "**", "(", ")", ",", "sin(",
                  "exp(", "abs(", "maximum(", "log(", "sqrt(", "tanh(", "erf(", "cbrt(", " ",
                  "x1", "[", "]", ".", "'", "lambda", "if", "<", "__import__(", "1e308", "9**9"]


@pytest.mark.filterwarnings("error")  # no SyntaxWarning reaches the user before the message
@settings(max_examples=600, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(FORMULA_PIECES), max_size=24))
def test_fuzzed_formulas_parse_or_are_refused_in_one_line(pieces):
    """Any text is a formula or a one-line SpecError; a formula evaluates, differentiates and
    has a degree without raising (values may be inf or nan: the callers check them)."""
    text = "".join(pieces)
    try:
        f = formula.parse(text)
    except SpecError as err:
        assert "\n" not in str(err)
        return
    x = np.linspace(-2, 2, 9)
    with np.errstate(all="ignore"):
        formula.evaluate(f.tree, {"x": x})
        formula.evaluate(formula.derivative(f.tree), {"x": x})
    formula.degree(f.tree)


def test_a_moved_project_redraws_its_stored_runs_and_leaves_out_edited_data(tmp_path, caplog):
    """Issue #12 review: `--scale stored` after moving the folder finds the data where the
    study says it is now; runs on a file that has since changed are left out, with a
    warning, instead of failing the figure."""
    here = tmp_path / "a"
    here.mkdir()
    spectrum(here)
    write_study(here, "csv(path='spectrum.csv', x='ppm', y='intensity')")
    out = tmp_path / "out"
    assert cli.main(["run", str(here / "mine.toml"), "--out", str(out), "--quiet"]) == 0
    there = tmp_path / "b"
    here.rename(there)
    from uat import api

    s = api.reading(there / "mine.toml", "stored", out)
    assert len(s.runs) == 4 and all(str(there) in r.target for r in s.runs)
    assert cli.main(["plot", str(there / "mine.toml"), "--scale", "stored", "--out",
                     str(out)]) == 0
    spectrum(there, n=121)  # edited: the stored runs no longer match any file
    assert api.reading(there / "mine.toml", "stored", out).runs == ()
    assert "left out: that file is gone or has changed" in caplog.text


@pytest.mark.parametrize("make, spec_text, words", [
    (lambda p: (p / "d.npz").write_bytes(b"PK\x03\x04 not a zip"), "npy(path='d.npz')",
     ["not a NumPy .npy or .npz file"]),
    (lambda p: np.savez(p / "d.npz"), "npy(path='d.npz')", ["holds no arrays"]),
    (lambda p: np.savez(p / "d.npz", x=np.array([object()] * 9), y=np.zeros(9)),
     "npy(path='d.npz')", ["not a NumPy .npy or .npz file"]),
    (lambda p: np.save(p / "d.npy", np.ones((9, 2)) + 1j), "npy(path='d.npy')",
     ["must hold real numbers"]),
    (lambda p: (p / "d.csv").write_text("intensity,ppm\n" + "".join(
        f"{i},{i * i}\n" for i in range(9))), "csv(path='d.csv', y='intensity')", None),
    (lambda p: (p / "d.csv").write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(9))),
     "csv(path='d.csv', x='a', y='a')", ["'a' is both an input (x) and the output (y)"]),
    (lambda p: (p / "f.py").write_text("import sys\nsys.exit(3)\n"), "py(path='f.py:g')",
     ["importing it raised SystemExit: 3"]),
])
def test_more_broken_files_are_one_line(tmp_path, make, spec_text, words):
    make(tmp_path)
    if words is None:  # the default inputs leave the named output out
        t = targets.get(spec_text, base=tmp_path)
        assert t.labels == (("ppm",), ("intensity",))
        return
    with pytest.raises(UserError) as err:
        targets.get(spec_text, base=tmp_path)
    assert "\n" not in str(err.value) and all(w in str(err.value) for w in words), err.value


@pytest.mark.parametrize("text, word", [
    ("1" + "0" * 400 + " * x", "too large for a float"),
    ("-" * 350 + "x", "nested more than"),
    ("x/" * 199 + "x", "nested more than"),
])
def test_formulas_that_would_overflow_or_recurse_are_one_line(text, word):
    with pytest.raises(SpecError, match=word):
        activations.get(f"act(f='{text}')")
    assert formula.degree(formula.parse("x**1e400").tree) is None

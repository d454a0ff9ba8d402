"""uat.study: stable keys, scales, overrides, and a clear one-line error for every bad file
(issue #4: at least 20 malformed study files exit 2 naming file and key, writing nothing)."""

import pytest

from uat import cli, study
from uat.errors import StudyError

from .conftest import TINY


def test_expands_the_cross_product(tiny):
    s = study.load(tiny)
    assert len(s.runs) == 2 * 2 * 2 * 2 * 2
    assert len({r.key for r in s.runs}) == len(s.runs)
    assert study.load(tiny, "smoke").runs == tuple(r for r in s.runs if r.seed == 0)


def test_keys_are_stable_under_reordering_and_extension(tmp_path, tiny):
    keys = {r.key: r for r in study.load(tiny).runs}
    other = tmp_path / "other.toml"
    other.write_text(TINY.replace('["tanh", "relu"]', '["relu", "tanh", "sigmoid"]')
                     .replace("[2, 4]", "[4, 2, 8]").replace('"sin(freq=1)"', '"sin"'))
    more = {r.key: r for r in study.load(other).runs}
    assert set(keys) < set(more)
    assert all(more[k] == run for k, run in keys.items())


def test_key_ignores_spelling_but_not_values():
    a = study.Run("sin(freq=1.0)", "tanh", 4, 1, 0, "lm(steps=30, tau=0.001, ftol=1e-10, "
                  "gtol=0.0)", 32, 64)
    assert a.key == study.Run(**a.config()).key
    assert a.key != study.Run(**{**a.config(), "seed": 1}).key
    assert a.key != study.Run(**{**a.config(), "n_test": 66}).key
    assert a.rng_seed == int(a.key, 16)


def test_keys_of_existing_runs_never_change():
    """A run's key (and so its seed) is pinned: a new optimizer option whose default keeps
    the old behaviour, such as lm's `scale`, must not re-key the runs stored before it
    (uat.spec.canonical); one whose default changes the method, lm's `revive` (renewing
    units, on by default since 0.3), must: the plain-LM runs stored before it keep their key
    and are never taken for renewed ones."""
    from uat import optim

    def key(spec):
        return study.Run("sin(freq=1.0)", "tanh", 4, 1, 0, optim.get(spec).name, 32, 64).key

    plain_before = "b443976e3b194a7c"  # lm(steps=30) before `revive` existed
    assert study.Run("sin(freq=1.0)", "tanh", 4, 1, 0, "lm(steps=30, tau=0.001, ftol=1e-10, "
                     "gtol=0.0)", 32, 64).key == plain_before
    assert key("lm(steps=30)") == key("lm(steps=30, revive=20)") == "a854398a77f91bdf"
    assert key("lm(steps=30, revive=0)") == "ac246adaa04565d1"
    assert key("lm(steps=30, scale=True)") != key("lm(steps=30)")


def test_depth_zero_runs_collapse_over_width(tmp_path):
    p = tmp_path / "d0.toml"
    p.write_text(TINY.replace("depth = [1]", "depth = [0, 1]"))
    runs = study.load(p).runs
    assert {r.width for r in runs if r.depth == 0} == {0}
    assert len(runs) == 32 + 16


def test_several_grids_and_their_own_scales(tmp_path):
    p = tmp_path / "multi.toml"
    p.write_text("""
[study]
name = "multi"
title = "two grids"
figure = "depth"
[[grid]]
target = ["sin"]
activation = ["relu"]
width = [1, 2]
depth = [1, 2, 3]
optimizer = ["lm(steps=10)"]
scale.smoke = { depth = [1] }
[[grid]]
target = ["bump(dim=2)"]
activation = ["tanh"]
width = [3]
optimizer = ["lm(steps=10)"]
n_train = 64
[data]
n_test = 100
""")
    full = study.load(p)
    assert len(full.runs) == 6 + 1
    assert {r.n_train for r in full.runs} == {256, 64}
    assert len(study.load(p, "smoke").runs) == 2 + 1


def test_set_overrides(tiny):
    s = study.load(tiny, overrides=["grid.width=[8]", "data.n_train=40"])
    assert {r.width for r in s.runs} == {8} and {r.n_train for r in s.runs} == {40}


BAD = {  # name: (replace this, with that) in TINY, and a word the message must contain
    "unknown section": ('[data]', '[datum]', "datum: unknown key"),
    "unknown study key": ('figure = "grid"', 'figure = "grid"\nauthor = "me"', "study.author"),
    "missing name": ('name = "tiny"\n', '', "study.name: missing"),
    "bad name": ('name = "tiny"', 'name = "Tiny Study"', "study.name"),
    "name not a string": ('name = "tiny"', 'name = 3', "study.name: must be a string"),
    "unknown figure": ('figure = "grid"', 'figure = "wdth"', "study.figure"),
    "no grid": ('[grid]', '[gird]', "gird: unknown key"),
    "unknown grid key": ('depth = [1]', 'depth = [1]\nwidths = [3]', "grid.widths"),
    "bad activation": ('"tanh", "relu"', '"tanh", "relux"', "grid.activation: unknown activation"),
    "bad activation key": ('"tanh", "relu"', '"leaky_relu(slop=0.1)"', "grid.activation"),
    "bad target": ('"sin(freq=1)"', '"sine"', "grid.target: unknown target 'sine'"),
    "bad target value": ('"sin(freq=1)"', '"sin(freq=-1)"', "grid.target"),
    "bad optimizer": ('"lm(steps=30)"', '"lm(steps=0)"', "grid.optimizer"),
    "unknown optimizer": ('"lm(steps=30)"', '"sgd"', "grid.optimizer: unknown optimizer"),
    "width zero": ('width = [2, 4]', 'width = [0, 4]', "grid.width: must be integers >= 1"),
    "width float": ('width = [2, 4]', 'width = [2.5]', "grid.width"),
    "width string": ('width = [2, 4]', 'width = ["2"]', "grid.width"),
    "empty list": ('width = [2, 4]', 'width = []', "grid.width: must not be an empty list"),
    "negative depth": ('depth = [1]', 'depth = [-1]', "grid.depth"),
    "negative seed": ('seed = [0, 1]', 'seed = [-3]', "grid.seed"),
    "missing activation": ('activation = ["tanh", "relu"]\n', '', "grid.activation: missing"),
    "bad n_train": ('n_train = 32', 'n_train = "many"', "n_train"),
    "unknown data key": ('n_test = 64', 'n_test = 64\nnoise = 0.1', "data.noise"),
    "unknown scale": ('[scale.smoke]', '[scale.tiny]', "scale.tiny: unknown scale"),
    "bad scale key": ('[scale.smoke]\nseed = [0]', '[scale.smoke]\nsed = [0]', "scale.smoke.sed"),
    "spec not a string": ('"abs"]', '3]', "grid.target"),
    "not toml": ('[data]', '[data', "not valid TOML"),
    "clashing grids": ("n_test = 64", "n_test = 65", "grid.n_test: "),
    "lm too large": ('width = [2, 4]', 'width = [2000]', "use adam"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_study_files_exit_2_with_one_line(case, tmp_path, capsys):
    old, new, word = BAD[case]
    assert old in TINY, "the test's own replacement must apply"
    path = tmp_path / "broken.toml"
    path.write_text(TINY.replace(old, new, 1))
    out = tmp_path / "out"
    code = cli.main(["run", str(path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert str(path) in err and word in err, err
    assert not out.exists(), "nothing may be written for a bad study"


def test_missing_file_and_bad_scale(tmp_path, tiny, capsys):
    assert cli.main(["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such study file" in capsys.readouterr().err
    with pytest.raises(StudyError, match="unknown scale 'huge'"):
        study.load(tiny, "huge")
    with pytest.raises(StudyError, match="--set"):
        study.load(tiny, overrides=["grid.width"])
    with pytest.raises(StudyError, match="cannot read"):
        study.load(tiny, overrides=["grid.activation=[tanh]"])

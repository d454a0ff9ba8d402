"""Issue #11: a fuzzer over what users type and what a table may hold. Mutated study files,
`--set` values and specs must end in 0 or one line and exit 2, never an exception, a hang or
a traceback; any line appended to a table must be read as a valid row or reported and kept out.

Hypothesis draws the cases, the same ones on every run (derandomized); `UAT_FUZZ_EXAMPLES`
raises the count and `UAT_FUZZ_RANDOM=1` draws new ones, for a long local search.
"""

import contextlib
import io
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uat import activations, cli, optim, store, targets
from uat.errors import UserError

from .conftest import TINY

STUDIES = Path(__file__).resolve().parents[1] / "studies"
EXAMPLES = int(os.environ.get("UAT_FUZZ_EXAMPLES", "60"))
settings.register_profile("uat", max_examples=EXAMPLES, deadline=10_000,
                          derandomize="UAT_FUZZ_RANDOM" not in os.environ,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile("uat")

VALUES = st.sampled_from([
    "0", "-1", "1", "3", "1e308", "-1e308", "inf", "nan", "1.5", "2147483648", "99999999",
    "10000000000000000000000", '""', '"x"', '"relu"', '"sin(freq=-2)"', '"poly(degree=0)"',
    '"poly(degree=100000)"', '"bump(dim=100000)"', '"lm(steps=0)"', '"adam(lr=nan)"',
    '"leaky_relu(slope=1e308)"', "[]", "[0]", "[[1]]", "[1, -1]", "true", "{}", "{a = 1}",
    '["sawtooth(teeth=0)"]', '["hanin_sellke(dim=2, domain=\\"cube\\")"]', '"\\u00e9"',
    "[" * 50 + "]" * 50, '"' + "a" * 300 + '"', "1979-05-27", '"nmr(noise=1e9)"',
])
TOKEN = re.compile(r'"[^"\n]*"|-?\d[\d._e+-]*|\[[^\[\]\n]*\]|true|false')


def _run(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(args)
    return code, err.getvalue()


def _mutate(text: str, data) -> str:
    """Replace some literals, drop or repeat some lines, add a stray key."""
    tokens = list(TOKEN.finditer(text))
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        kind = data.draw(st.sampled_from(["value", "drop", "repeat", "key"]), label="kind")
        lines = text.split("\n")
        if kind == "value" and tokens:
            m = tokens[data.draw(st.integers(0, len(tokens) - 1), label="token")]
            text = text[:m.start()] + data.draw(VALUES, label="value") + text[m.end():]
            tokens = list(TOKEN.finditer(text))
        elif kind == "drop":
            del lines[data.draw(st.integers(0, len(lines) - 1), label="line")]
            text = "\n".join(lines)
        elif kind == "repeat":
            i = data.draw(st.integers(0, len(lines) - 1), label="line")
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        else:
            key = data.draw(st.sampled_from(["width", "depth", "seed", "n_test", "figure",
                                             "scale", "grid", "n_train", "odd"]), label="key")
            lines.insert(data.draw(st.integers(0, len(lines)), label="at"),
                         f"{key} = {data.draw(VALUES, label='value')}")
            text = "\n".join(lines)
    return text


def _one_line_or_zero(code: int, err: str) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("base", ["tiny", "depth", "lecture"])
@given(data=st.data())
def test_mutated_study_files(base, data, tmp_path):
    text = TINY if base == "tiny" else (STUDIES / f"{base}.toml").read_text()
    path = tmp_path / "fuzzed.toml"
    path.write_text(_mutate(text, data))
    code, err = _run(["run", str(path), "--out", str(tmp_path / "o"), "--dry-run"])
    _one_line_or_zero(code, err)


@given(key=st.sampled_from(["grid.width", "grid.depth", "grid.target", "grid.activation",
                            "grid.optimizer", "data.n_test", "study.name", "study.figure",
                            "grid.seed", "grid", "grid.width.x", "scale.smoke", "data"]),
       value=VALUES)
def test_set_values(key, value, tiny, tmp_path):
    code, err = _run(["run", str(tiny), "--out", str(tmp_path / "o"), "--dry-run", "--set",
                      f"{key}={value}"])
    _one_line_or_zero(code, err)


@given(text=st.one_of(st.text(max_size=40),
                      st.builds(lambda n, k, v: f"{n}({k}={v})",
                                st.sampled_from(["relu", "poly", "leaky_relu", "elu", "sin",
                                                 "bump", "sawtooth", "lm", "adam", "nmr",
                                                 "hanin_sellke", "step"]),
                                st.sampled_from(["degree", "slope", "alpha", "freq", "dim",
                                                 "teeth", "steps", "lr", "noise", "domain",
                                                 "sharpness", "x"]),
                                VALUES)))
def test_specs(text):
    for get in (activations.get, targets.get, optim.get):
        try:
            get(text)
        except UserError as err:
            assert "\n" not in str(err)


@given(lines=st.lists(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
    st.builds(lambda i, v: ",".join(["k9"] + ["s"] + ["x"] * i + [v]),
              st.integers(0, 30), VALUES)), min_size=1, max_size=5))
def test_table_rows(lines, tmp_path_factory):
    out = tmp_path_factory.mktemp("table")
    row = {"key": "k0", "target": "sin(freq=1.0)", "activation": "tanh", "width": 4,
           "depth": 1, "seed": 0, "optimizer": "lm(steps=3)", "loss": "mse", "n_params": 13,
           "steps": 3, "test_mse": 0.5, "status": "ok", "n_train": 32, "n_test": 64}
    store.append(out, "s", [row], batch="b")
    path = store.table_path(out, "s")
    with open(path, "a", newline="") as fh:
        fh.write("\n".join(line.replace("\r", " ") for line in lines) + "\n")
    table, bad = store.inspect(out, "s")
    assert table["key"].is_unique and (table["status"].isin(store.STATUSES)).all()
    assert "k0" in set(table["key"])
    store.repair(out, "s")
    assert store.inspect(out, "s")[1] == []

"""uat.store: rows read back bit for bit, torn writes are cut off, keys are stored once."""

import numpy as np
import pytest

from uat import store
from uat.errors import UserError


def row(key, **kw):
    base = {"key": key, "target": "sin(freq=1.0)", "activation": "tanh", "width": 4, "depth": 1,
            "seed": 0, "optimizer": "lm(steps=3)", "loss": "mse", "n_params": 13, "steps": 3,
            "train_mse": 0.1 / 3, "test_mse": np.float64(2.0) / 7, "max_abs_err": float("nan"),
            "status": "ok", "stop": "max_steps", "n_train": 32, "n_test": 64}
    return {**base, **kw}


def test_round_trip_is_exact_and_params_are_kept(tmp_path):
    theta = np.random.default_rng(0).normal(size=13)
    assert store.append(tmp_path, "s", [row("a"), row("b", test_mse=1e-300)],
                        {"a": theta, "b": theta * 2}, batch="b1") == 2
    df = store.read(tmp_path, "s")
    assert list(df.columns) == list(store.COLUMNS)
    assert df.loc[0, "test_mse"] == 2.0 / 7 and df.loc[1, "test_mse"] == 1e-300
    assert np.isnan(df.loc[0, "max_abs_err"]) and df.loc[0, "study"] == "s"
    np.testing.assert_array_equal(store.load_params(tmp_path, "s", "b"), theta * 2)


def test_stored_keys_are_never_written_twice(tmp_path):
    store.append(tmp_path, "s", [row("a")], batch="1")
    assert store.append(tmp_path, "s", [row("a"), row("c")], batch="2") == 1
    assert list(store.read(tmp_path, "s")["key"]) == ["a", "c"]


def test_a_torn_last_line_is_ignored_and_cut_off(tmp_path):
    store.append(tmp_path, "s", [row("a")], batch="1")
    path = store.table_path(tmp_path, "s")
    with open(path, "a") as fh:
        fh.write("deadbeef,s,sin(freq=1.0),tanh,4,1,0,lm(st")  # a writer killed mid-line
    assert list(store.read(tmp_path, "s")["key"]) == ["a"]
    store.append(tmp_path, "s", [row("b")], batch="2")
    assert list(store.read(tmp_path, "s")["key"]) == ["a", "b"]
    assert path.read_text().count("\n") == 3  # header + 2 whole rows


def test_a_torn_header_is_cut_off_too(tmp_path):
    """A writer killed in the middle of the very first (header) line."""
    path = store.table_path(tmp_path, "s")
    path.parent.mkdir(parents=True)
    path.write_text("key,study,tar")
    store.append(tmp_path, "s", [row("a")], batch="1")
    assert list(store.read(tmp_path, "s")["key"]) == ["a"]


def test_meta_refuses_another_definition_and_fresh_moves_aside(tmp_path):
    store.check_meta(tmp_path, "s", {"study": "s", "key_scheme": 1})
    with pytest.raises(UserError, match="key_scheme"):
        store.check_meta(tmp_path, "s", {"study": "s", "key_scheme": 2})
    # a table from before the [W | B] row layout: its stored networks would be misread
    with pytest.raises(UserError, match="params_layout = None.*--fresh"):
        store.check_meta(tmp_path, "s", {"study": "s", "key_scheme": 1, "params_layout": 2})
    store.append(tmp_path, "s", [row("a")], {"a": np.arange(3.0)}, batch="1")
    with pytest.raises(UserError, match="params_layout = None.*--fresh"):
        store.load_params(tmp_path, "s", "a", layout=2)  # drawing it would misread it
    np.testing.assert_array_equal(store.load_params(tmp_path, "s", "a"), np.arange(3.0))
    moved = store.move_aside(tmp_path, "s")
    assert moved.exists() and (moved / "runs.csv").exists()
    assert store.read(tmp_path, "s").empty


def test_another_uat_version_table_is_refused(tmp_path):
    path = store.table_path(tmp_path, "s")
    path.parent.mkdir(parents=True)
    path.write_text("key,test_mse\nabc,0.1\n")
    with pytest.raises(UserError, match="columns differ"):
        store.read(tmp_path, "s")


def test_empty_table_has_every_column(tmp_path):
    df = store.read(tmp_path, "nothing")
    assert df.empty and list(df.columns) == list(store.COLUMNS)


# ----------------------------------------------------------------------------- bad rows


def _table(tmp_path, n=4):
    store.append(tmp_path, "s", [row(f"k{i}", seed=i) for i in range(n)], batch="b")
    return store.table_path(tmp_path, "s")


@pytest.mark.parametrize("edit, reason", [
    (lambda L: L.__setitem__(2, L[2].replace(repr(2.0 / 7), "", 1)), "`test_mse` is missing"),
    (lambda L: L.insert(3, L[2]), "its key is already on line 3"),
    (lambda L: L.insert(3, "garbage,line,with,few,fields"), "has 5 fields"),
    (lambda L: L.insert(3, '"an unclosed quote,' + L[2][1:]), "fields"),
    (lambda L: L.__setitem__(2, L[2].replace(",ok,", ",fine,")), "`status` 'fine'"),
    (lambda L: L.__setitem__(2, L[2].replace(",tanh,4,", ",tanh,four,")), "`width` 'four'"),
    (lambda L: L.__setitem__(2, L[2].replace(repr(2.0 / 7), "-1.0", 1)), "`test_mse` is negative"),
    (lambda L: L.__setitem__(2, L[2].replace(",s,", ",other,", 1)), "`study` is 'other'"),
], ids=["blank-mse", "duplicate", "garbage", "quote", "status", "width", "negative", "study"])
def test_a_bad_row_is_reported_by_line_and_never_counted(edit, reason, tmp_path, caplog):
    """Issue #11: rows are validated when read; a bad one is named with its line number and
    kept out of every figure, median and count; repair moves it aside and keeps the rest."""
    path = _table(tmp_path)
    lines = path.read_text().split("\n")[:-1]
    edit(lines)
    path.write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING", logger="uat.store"):
        df = store.read(tmp_path, "s")
    assert df["key"].is_unique and len(df) <= 4 and df["test_mse"].notna().all()
    table, bad = store.inspect(tmp_path, "s")
    assert len(bad) >= 1 and reason in bad[0].reason, bad
    assert any(f"line {bad[0].line}: " in r.getMessage() for r in caplog.records)
    gone = {b.line + i for b in bad for i in range(b.text.count("\n") + 1)}
    kept = [line for i, line in enumerate(lines[1:], start=2) if i not in gone]
    moved, aside = store.repair(tmp_path, "s")
    assert moved == len(bad) and aside.exists() and bad[0].text in aside.read_text()
    assert path.read_text() == "\n".join([lines[0], *kept]) + "\n"  # the rest, as written
    assert store.inspect(tmp_path, "s")[1] == []
    pd_equal = store.read(tmp_path, "s").reset_index(drop=True)
    assert pd_equal.equals(table.reset_index(drop=True))


def test_repair_without_bad_rows_changes_nothing(tmp_path):
    path = _table(tmp_path)
    before = path.read_bytes()
    assert store.repair(tmp_path, "s") == (0, None) and path.read_bytes() == before

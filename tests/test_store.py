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

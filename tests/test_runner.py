"""uat.runner and `uat run`: the same numbers on every backend and packing, nothing lost or
redone after a crash, concurrent runs, divergence as a status (issue #4)."""

import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import uat
from uat import cli, runner, store, study

from .conftest import TINY, uat_cmd, uat_popen

NUMBERS = ["train_loss", "train_mse", "test_mse", "max_abs_err", "steps", "status", "stop"]


def numbers(out, name="tiny") -> pd.DataFrame:
    return store.read(out, name).set_index("key").sort_index()[NUMBERS]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny study run in-process, one job, default packing."""
    d = tmp_path_factory.mktemp("ref")
    (d / "tiny.toml").write_text(TINY)
    runner.run_study(study.load(d / "tiny.toml"), d / "out", jobs=1)
    return numbers(d / "out")


@pytest.mark.parametrize("how", [
    ["--jobs", "2"],
    ["--jobs", "2", "--backend", "threading"],
    ["--jobs", "1", "--batch-size", "1"],
    ["--jobs", "2", "--batch-size", "3"],
    ["--jobs", "2", "--backend", "dask"],  # a real LocalCluster: 2 worker processes on 127.0.0.1
], ids=["loky2", "threading", "batch1", "loky2-batch3", "dask"])
def test_same_numbers_whatever_workers_backend_or_packing(how, tiny, tmp_path, reference):
    assert cli.main(["run", str(tiny), "--out", str(tmp_path / "o"), "--quiet", *how]) == 0
    pd.testing.assert_frame_equal(numbers(tmp_path / "o"), reference, check_exact=True)  # bits


def test_same_numbers_for_lm_on_a_wider_net_with_one_or_two_jobs(tmp_path):
    """P = 193, 256 points: multithreaded BLAS rounds J^T J differently, so --jobs 1 must pin
    it to one thread as the workers do (found in review)."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.replace("[2, 4]", "[64]").replace('"abs"', '"cos"').replace(
        '["adam(lr=1e-2, steps=100)", "lm(steps=30)"]', '["lm(steps=15)"]').replace(
        "n_train = 32", "n_train = 256").replace("seed = [0, 1]", "seed = [0]"))
    for jobs in ("1", "2"):
        assert cli.main(["run", str(path), "--out", str(tmp_path / jobs), "--quiet", "--jobs",
                         jobs]) == 0
    pd.testing.assert_frame_equal(numbers(tmp_path / "1"), numbers(tmp_path / "2"),
                                  check_exact=True)


def test_fresh_refused_by_yes_keeps_the_table(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main(["run", str(tiny), "--out", str(out), "--quiet", "--scale", "smoke"]) == 0
    code = cli.main(["run", str(tiny), "--out", str(out), "--fresh", "--set",
                     f"grid.seed={list(range(1600))}"])
    assert code == 2 and "add --yes" in capsys.readouterr().err
    assert len(store.read(out, "tiny")) == 16


def test_a_table_of_an_older_parameter_layout_is_refused_then_freshened(tiny, tmp_path,
                                                                          capsys):
    """After an upgrade that changes how networks are stored (uat.network.LAYOUT), a run on
    the old table stops with one line saying how to go on, and `--fresh` (make: FRESH=1)
    moves it aside; the Makefile passes FRESH=1 on as --fresh."""
    import json
    import subprocess

    out = tmp_path / "o"
    args = ["run", str(tiny), "--out", str(out), "--quiet", "--scale", "smoke"]
    assert cli.main(args) == 0
    meta = out / "tiny" / "meta.json"
    meta.write_text(json.dumps({k: v for k, v in json.loads(meta.read_text()).items()
                                if k != "params_layout"}))  # as written before layout 2
    capsys.readouterr()
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "params_layout = None" in err and "FRESH=1" in err and len(err.splitlines()) == 1
    assert cli.main([*args, "--fresh", "--yes"]) == 0
    assert len(store.read(out, "tiny")) == 16 and len(list(out.glob("tiny.old-*"))) == 1
    dry = subprocess.run(["make", "-n", "study-width", "FRESH=1", f"OUT={out}"],
                         cwd=Path(uat.__file__).parents[1], capture_output=True, text=True)
    assert "--fresh" in dry.stdout, dry.stdout + dry.stderr


def test_dask_with_an_external_scheduler(tiny, tmp_path, reference):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        code = cli.main(["run", str(tiny), "--out", str(tmp_path / "o"), "--quiet",
                         "--backend", "dask", "--scheduler", cluster.scheduler_address])
    assert code == 0
    pd.testing.assert_frame_equal(numbers(tmp_path / "o"), reference, check_exact=True)


SLOW = TINY.replace('optimizer = ["adam(lr=1e-2, steps=100)", "lm(steps=30)"]',
                    'optimizer = ["adam(lr=1e-2, steps=2500)"]').replace(
                    "seed = [0, 1]", "seed = [0, 1, 2, 3, 4]").replace("[2, 4]", "[8, 16]")


def start_and_wait_for_rows(tmp_path, *extra):
    """Write the slow study, start `uat run` on it (in its own process group, as a terminal
    would), return once two rows are stored: (study path, out folder, the running process)."""
    path, out = tmp_path / "tiny.toml", tmp_path / "out"
    path.write_text(SLOW)
    proc = uat_popen("run", path, "--out", out, "--quiet", "--batch-size", "1", *extra)
    table = store.table_path(out, "tiny")
    deadline = time.time() + 60
    while time.time() < deadline:
        if table.exists() and table.read_text().count("\n") >= 3:  # header + 2 rows
            return path, out, proc
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"no rows stored before the run ended: {proc.stderr.read()}")


def test_sigkill_then_resume_loses_and_redoes_nothing(tmp_path):
    path, out, proc = start_and_wait_for_rows(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = store.read(out, "tiny")
    total = len(study.load(path).runs)
    assert 2 <= len(before) < total, "killed after at least one batch and before the end"
    res = uat_cmd("run", path, "--out", out)
    assert res.returncode == 0, res.stderr
    assert f"{total - len(before)} runs trained" in res.stdout
    after = store.read(out, "tiny")
    assert sorted(after["key"]) == sorted(r.key for r in study.load(path).runs)  # each once
    kept = after.set_index("key").loc[before["key"]]
    assert (kept["finished_at"].values == before["finished_at"].values).all()  # not retrained
    clean = tmp_path / "clean"
    assert uat_cmd("run", path, "--out", clean, "--quiet").returncode == 0
    pd.testing.assert_frame_equal(numbers(out), numbers(clean), check_exact=True)


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    path, out, proc = start_and_wait_for_rows(tmp_path)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    stored = store.read(out, "tiny")
    assert len(stored) >= 2 and stored["key"].is_unique
    assert uat_cmd("run", path, "--out", out, "--quiet").returncode == 0
    assert len(store.read(out, "tiny")) == len(study.load(path).runs)


def test_two_concurrent_runs_share_one_table(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SLOW.replace("seed = [0, 1, 2, 3, 4]", "seed = [0, 1]"))
    out = tmp_path / "out"
    procs = [uat_popen("run", path, "--out", out, "--quiet", "--batch-size", "1")
             for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    table = store.read(out, "tiny")
    assert table["key"].is_unique
    assert sorted(table["key"]) == sorted(r.key for r in study.load(path).runs)


def test_a_diverging_configuration_is_stored_and_the_study_completes(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.replace('"lm(steps=30)"', '"adam(lr=1e3, steps=200)"'))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    df = store.read(tmp_path / "o", "tiny")
    wild = df[df["optimizer"].str.contains("lr=1000.0")]
    assert len(df) == 32 and (wild["status"] == "diverged").all()
    assert wild["test_mse"].isna().all() and (df.loc[~df.index.isin(wild.index), "status"]
                                               == "ok").all()


def test_a_huge_study_asks_for_yes_and_writes_nothing(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    code = cli.main(["run", str(tiny), "--out", str(out), "--set",
                     f"grid.seed={list(range(1600))}"])
    err = capsys.readouterr().err
    assert code == 2 and "add --yes" in err and "25,600 runs" in err
    assert not out.exists()


def test_python_api_mirrors_the_cli(tiny, tmp_path, reference):
    df = uat.run(tiny, out=tmp_path / "o", scale="smoke", jobs=1)
    assert len(df) == 16 and set(df["seed"]) == {0}
    assert len(uat.load(tiny, out=tmp_path / "o")) == 16
    assert len(uat.load(tiny, out=tmp_path / "o", scale="default")) == 16  # smoke is a subset
    np.testing.assert_array_equal(
        df.set_index("key").sort_index()["test_mse"],
        reference.loc[sorted(df["key"]), "test_mse"])
    with pytest.raises(uat.errors.UserError, match="no such study file"):
        uat.run(tmp_path / "missing.toml", out=tmp_path / "o")


def test_list_and_show(tiny, tmp_path, capsys):
    studies = tmp_path
    cli.main(["run", str(tiny), "--out", str(tmp_path / "o"), "--quiet", "--scale", "smoke"])
    capsys.readouterr()
    assert cli.main(["list", "--studies", str(studies), "--out", str(tmp_path / "o")]) == 0
    listing = capsys.readouterr().out
    assert "tiny" in listing and "16/16" in listing and "16/32" in listing
    assert cli.main(["show", str(tiny), "--scale", "smoke", "--out", str(tmp_path / "o")]) == 0
    shown = capsys.readouterr().out
    assert "best_test_mse" in shown and "16/16 runs stored" in shown


def test_plan_packs_by_shape_and_splits_for_workers(tiny):
    runs = study.load(tiny).runs
    batches = runner.plan(runs)
    assert sum(len(b.runs) for b in batches) == len(runs)
    assert all(len({r.batch_group for r in b.runs}) == 1 for b in batches)
    assert len(runner.plan(runs[:4], jobs=4)) >= 2
    assert all(len(b.runs) == 1 for b in runner.plan(runs, batch_size=1))


def lm_runs(widths, seeds):
    doc = {"study": {"name": "w3", "title": "w3", "figure": "none"},
           "grid": {"target": "sin(freq=1)", "activation": "tanh", "width": widths,
                    "depth": [1], "seed": list(range(seeds)), "optimizer": "lm(steps=300)"},
           "data": {"n_train": 256, "n_test": 512}}
    return study.parse(doc, "<test>").runs


def test_plan_splits_a_batch_longer_than_a_workers_share():
    """LM cost grows like P^2: width 64 is over half of widths 4-64, so on 2 workers it is
    split (one batch of it would leave the other worker idle); on 1 worker it is not."""
    runs = lm_runs([4, 8, 16, 64], 5)
    one, two = runner.plan(runs, jobs=1), runner.plan(runs, jobs=2)
    assert len(one) == 4
    total = sum(b.cost for b in two)
    assert max(b.cost for b in two) <= total / 2 < max(b.cost for b in one)
    assert sorted(r.key for b in two for r in b.runs) == sorted(r.key for r in runs)


@pytest.mark.parametrize("widths, seeds, jobs", [([32, 4], 3, 2), ([32, 4], 5, 4),
                                                 ([64, 8, 2], 7, 3), ([16], 1, 2)])
def test_no_batch_exceeds_a_workers_share_unless_it_is_one_run(widths, seeds, jobs):
    """Chunks of a group differ by one run: the largest one is what must fit."""
    runs = lm_runs(widths, seeds)
    batches = runner.plan(runs, jobs=jobs)
    share = sum(b.cost for b in batches) / jobs
    assert all(b.cost <= share * (1 + 1e-12) or len(b.runs) == 1 for b in batches)
    assert sorted(r.key for b in batches for r in b.runs) == sorted(r.key for r in runs)


def test_a_fixed_point_set_never_shares_a_batch_with_sampled_data(tmp_path):
    """xor is four fixed points whatever n_train; moons has n_train (found by the lecture study)."""
    path = tmp_path / "mix.toml"
    path.write_text(TINY.replace('target = ["sin(freq=1)", "abs"]', 'target = ["xor", "moons"]')
                    .replace('activation = ["tanh", "relu"]', 'activation = ["sigmoid"]'))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    df = store.read(tmp_path / "o", "tiny")
    assert len(df) == 16 and df["accuracy"].notna().all()

"""Issue #11: what users meet on long runs and shared folders gets one line and loses nothing:
corrupt tables, a full disk, a bad --out, deeply nested TOML, a closed pipe, SIGTERM; and the
command line does what it says (--set wins over --scale, `uat plot` with nothing to draw says
so, the Python API shows its signature)."""

import errno
import inspect
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import uat
from uat import cli, runner, store, study

from .conftest import TINY, uat_cmd
from .test_runner import start_and_wait_for_rows

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


def test_set_wins_over_the_scale_and_says_so(tiny, tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level("WARNING"):
        assert cli.main(["run", str(tiny), "--scale", "smoke", "--set", "grid.seed=[0, 1]",
                         "--out", str(out), "--quiet"]) == 0
    assert set(store.read(out, "tiny")["seed"]) == {0, 1}  # the smoke scale says seed = [0]
    assert "--set seed replaces scale smoke's value" in caplog.text
    s = study.load(tiny, "smoke", ["grid.seed=[0, 1]"])  # the Python API alike
    assert {r.seed for r in s.runs} == {0, 1}


def test_bad_out_is_one_line(tiny, tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for out, word in (("", "must name a folder"), (str(a_file), "is a file, not a folder")):
        assert cli.main(["run", str(tiny), "--out", out, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert one_line(err) and word in err, err
    # a folder that cannot be created (a file in its path) is the environment: exit 1
    assert cli.main(["run", str(tiny), "--out", str(a_file / "sub"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert one_line(err) and "Not a directory" in err, err


def test_full_disk_after_training_is_one_line_and_keeps_the_table(tiny, tmp_path, capsys,
                                                                   monkeypatch):
    """The disk fills while a batch is stored (the table's write fails with ENOSPC): exit 1,
    one line, and the rows stored before are intact."""
    out = tmp_path / "o"
    assert cli.main(["run", str(tiny), "--out", str(out), "--quiet", "--scale", "smoke"]) == 0
    before = store.table_path(out, "tiny").read_bytes()

    real_write = os.write
    calls = []

    def full(fd, data):  # the first write gets half its bytes on disk, then the disk is full
        calls.append(fd)
        if len(calls) == 1:
            return real_write(fd, bytes(data[:len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store.os, "write", full)
    assert cli.main(["run", str(tiny), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert one_line(err) and "No space left on device" in err, err
    assert "runs.csv" in err and "rerun the same command to resume" in err, err
    assert store.table_path(out, "tiny").read_bytes() == before  # the half line is cut off


def test_deeply_nested_toml_and_set_on_a_non_table(tmp_path, capsys):
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100000 + "]" * 100000 + "\n")
    assert cli.main(["run", str(deep), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "nested too deeply" in err, err
    odd = tmp_path / "odd.toml"
    odd.write_text("data = 5\n" + TINY.replace("[data]\nn_train = 32\nn_test = 64", ""))
    assert cli.main(["run", str(odd), "--set", "data.n_train=10", "--out",
                     str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "data: must be a table" in err, err


def test_a_closed_pipe_is_not_a_traceback(tiny, tmp_path):
    res = subprocess.run(f"{sys.executable} -m uat list --studies {tiny.parent} | head -0",
                         shell=True, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr, res.stderr


def test_sigterm_exits_143_with_one_line_and_keeps_the_batches(tmp_path):
    path, out, proc = start_and_wait_for_rows(tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert one_line(err) and err.startswith("terminated: "), err
    assert "run the same command again to resume" in err, err
    assert store.read(out, "tiny")["key"].is_unique


def test_ctrl_c_is_one_line(tmp_path):
    """A terminal's Ctrl-C reaches the whole process group, workers too: they leave it to the
    parent, which prints one line (it printed a traceback per worker)."""
    path, out, proc = start_and_wait_for_rows(tmp_path, "--jobs", "2")
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and one_line(err), err


def test_plot_with_nothing_to_draw_says_so(tiny, tmp_path, capsys):
    assert cli.main(["plot", str(tiny), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert one_line(err) and "nothing to draw" in err and "uat run" in err, err


def test_python_api_shows_its_signature():
    params = inspect.signature(uat.run).parameters
    assert {"the_study", "scale", "jobs", "out", "overrides"} <= set(params)
    assert "out" in inspect.signature(uat.load).parameters and uat.load.__doc__


def test_a_corrupt_table_is_repaired_by_the_next_run(tiny, tmp_path, capsys, caplog):
    """A garbage line and a duplicated row: show and list count the valid rows, the next run
    moves the bad ones aside and trains only what is missing."""
    out = tmp_path / "o"
    assert cli.main(["run", str(tiny), "--out", str(out), "--quiet", "--scale", "smoke"]) == 0
    path = store.table_path(out, "tiny")
    lines = path.read_text().split("\n")[:-1]
    first_key = lines[1].split(",")[0]
    lines[2] = lines[2].split(",")[0] + ",garbage"  # its run is lost and must be retrained
    lines.append(lines[1])  # a duplicate
    path.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    with caplog.at_level("WARNING"):
        assert cli.main(["show", str(tiny), "--scale", "smoke", "--out", str(out)]) == 0
        assert "15/16 runs stored" in capsys.readouterr().out and "line 3:" in caplog.text
        assert cli.main(["run", str(tiny), "--out", str(out), "--scale", "smoke"]) == 0
    assert "1 runs trained" in capsys.readouterr().out
    assert "moved 2 bad row(s) aside" in caplog.text
    table = store.read(out, "tiny")
    assert len(table) == 16 and table["key"].is_unique and first_key in set(table["key"])
    assert len(list((out / "tiny").glob("runs.rejected-*.txt"))) == 1


def test_uat_repair_command(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main(["run", str(tiny), "--out", str(out), "--quiet", "--scale", "smoke"]) == 0
    path = store.table_path(out, "tiny")
    path.write_text(path.read_text() + "not,a,row\n")
    assert cli.main(["repair", str(tiny), "--out", str(out)]) == 0
    assert "moved 1 bad row(s)" in capsys.readouterr().out
    assert cli.main(["repair", str(tiny), "--out", str(out)]) == 0
    assert "no bad rows" in capsys.readouterr().out
    assert uat_cmd("repair", "nosuch", "--out", out).returncode == 2


# ----------------------------------------------------------------------------- limits, estimates


@pytest.mark.parametrize("replace, word", [
    (("depth = [1]", "depth = [2147483648]"), "grid.depth: must be integers from 0 to 256"),
    (("n_test = 64", "n_test = 99999999"), "n_test: must be integers from 1 to 4,194,304"),
    (('"tanh", "relu"', '"poly(degree=100000)"'), "'degree' must be an integer from 1 to 64"),
    (('"sin(freq=1)", "abs"', '"bump(dim=100000)"'), "'dim' must be an integer from 1 to 32"),
    (("seed = [0, 1]", f"seed = {list(range(20000))}"), "has 20,000 values; at most 10,000"),
    (("seed = [0, 1]", f"seed = {list(range(9000))}\nwidth = {list(range(1, 9001))}"),
     "a study has at most 1,000,000"),
], ids=["depth", "n_test", "degree", "dim", "long-list", "cross-product"])
def test_oversized_study_values_are_refused_at_once(replace, word, tmp_path, capsys):
    """Issue #11: sizes, degrees and lengths have limits checked before anything is built, so
    a bad study file fails in one line at once instead of hanging or filling the memory."""
    import time

    path = tmp_path / "big.toml"
    text = TINY.replace(*replace, 1)
    if replace[0] == "seed = [0, 1]" and "width = [" in replace[1]:  # no scale: no LM check
        text = text.replace("width = [2, 4]\n", "").replace("[scale.smoke]\nseed = [0]", "")
    path.write_text(text)
    start = time.perf_counter()
    assert cli.main(["run", str(path), "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and word in err, err
    assert time.perf_counter() - start < 10


def test_every_scale_is_checked_before_anything_runs(tiny, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("[scale.smoke]\nseed = [0]", "[scale.full]\nwidth = [0]"))
    assert cli.main(["run", str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "grid.width: must be integers >= 1" in err
    assert not (tmp_path / "o").exists()


def test_dry_run_prints_runs_batches_memory_and_time(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main(["run", str(tiny), "--out", str(out), "--dry-run", "--jobs", "2"]) == 0
    said = capsys.readouterr().out
    assert "valid at every scale" in said and "32 runs, 0 stored, 32 to train" in said
    assert "largest batch about" in said and "on 2 worker(s)" in said
    assert not out.exists()


def test_a_network_too_large_for_memory_is_refused_and_batches_are_split(tiny, tmp_path,
                                                                          capsys, monkeypatch):
    out = tmp_path / "o"
    assert cli.main(["run", str(tiny), "--out", str(out), "--memory-limit", "100k"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "needs about" in err and "--memory-limit" in err, err
    # a limit that fits one network per batch splits the batches, and changes no number
    from uat import runner

    one = max(runner.batch_bytes([r]) for r in study.load(tiny).runs)
    monkeypatch.setenv("UAT_MEMORY_LIMIT", str(int(one * 1.001)))
    assert cli.main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    monkeypatch.delenv("UAT_MEMORY_LIMIT")
    assert cli.main(["run", str(tiny), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    a = store.read(out, "tiny").set_index("key").sort_index()
    b = store.read(tmp_path / "p", "tiny").set_index("key").sort_index()
    assert a["batch"].nunique() > b["batch"].nunique()
    pd.testing.assert_series_equal(a["test_mse"], b["test_mse"], check_exact=True)
    assert cli.main(["run", str(tiny), "--out", str(out), "--memory-limit", "lots"]) == 2
    assert "must be a size like 8G" in capsys.readouterr().err


def test_time_estimate_of_the_default_studies_is_within_2x():
    """The batched cost model against what the default studies took on the reference machine
    (make all, 2 workers): width 87 s, depth 10 s, activation 5 s, separation 4 s, lecture
    8 s. A machine twice as fast or slow moves all of them alike; this pins the model."""
    from uat import runner

    took = {"width": 86.6, "depth": 9.9, "activation": 4.8, "separation": 4.1, "lecture": 8.4}
    for name, seconds in took.items():
        s = study.load(STUDIES / f"{name}.toml")
        estimate = runner.estimate_wall(runner.plan(list(s.runs), None, 2), 2)
        assert seconds / 2 <= estimate <= seconds * 2, (name, estimate, seconds)


# ----------------------------------------------------------------------------- lost workers


def _workers(pid: int) -> list:
    import psutil

    return psutil.Process(pid).children(recursive=True)


def test_a_killed_worker_is_retried_and_nothing_is_lost_or_doubled(tmp_path):
    """kill -9 of a loky worker mid-run: the batches left are trained again, the run ends 0,
    every run is stored once, and the numbers are those of an undisturbed run."""
    path, out, proc = start_and_wait_for_rows(tmp_path, "--jobs", "2")
    workers = [p for p in _workers(proc.pid) if "popen_loky_posix" in " ".join(p.cmdline())]
    assert workers, "no loky worker to kill"
    workers[0].kill()
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert "a worker died" in err and "Traceback" not in err
    table = store.read(out, "tiny")
    assert sorted(table["key"]) == sorted(r.key for r in study.load(path).runs)
    clean = tmp_path / "clean"
    assert uat_cmd("run", path, "--out", clean, "--quiet", "--jobs", "2").returncode == 0
    a = table.set_index("key").sort_index()["test_mse"]
    b = store.read(clean, "tiny").set_index("key").sort_index()["test_mse"]
    pd.testing.assert_series_equal(a, b, check_exact=True)


def test_a_batch_that_kills_its_worker_twice_is_recorded_failed(tiny, tmp_path):
    """A run whose batch always kills its worker (UAT_FAULT_KILL, as the OOM killer would):
    retried once, then set aside in failed.csv with the reason; every other run is stored;
    exit 1 with what failed and how to go on; the next run tries it again."""
    victim = study.load(tiny).runs[3]
    out = tmp_path / "o"
    res = subprocess.run([sys.executable, "-m", "uat", "run", str(tiny), "--out", str(out),
                          "--quiet", "--jobs", "2", "--batch-size", "2"], capture_output=True,
                         text=True, timeout=300, env={**os.environ,
                                                      "UAT_FAULT_KILL": victim.key})
    assert res.returncode == 1, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert "runs failed (its worker died twice" in last and "run the same command again" in last
    assert "Traceback" not in res.stderr
    table = store.read(out, "tiny")
    failed = pd.read_csv(out / "tiny" / "failed.csv")
    assert victim.key in set(failed["key"]) and victim.key not in set(table["key"])
    assert len(table) + len(failed) == len(study.load(tiny).runs)
    assert uat_cmd("run", tiny, "--out", out, "--quiet").returncode == 0  # the fault is gone
    assert len(store.read(out, "tiny")) == len(study.load(tiny).runs)


def test_killing_the_parent_leaves_no_worker_behind(tmp_path):
    import psutil

    path, out, proc = start_and_wait_for_rows(tmp_path, "--jobs", "2")
    children = _workers(proc.pid)
    assert children
    proc.kill()
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.cmdline() for p in alive]


def test_dask_one_thread_cluster_is_used_and_bad_schedulers_are_one_line(tiny, tmp_path,
                                                                         capsys):
    from dask.distributed import Client, LocalCluster, get_task_stream

    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with get_task_stream(client) as ts:
            assert cli.main(["run", str(tiny), "--out", str(tmp_path / "o"), "--quiet",
                             "--scale", "smoke", "--backend", "dask", "--scheduler",
                             cluster.scheduler_address]) == 0
        assert len(ts.data) > 0, "the one-thread cluster trained nothing"
    assert cli.main(["run", str(tiny), "--out", str(tmp_path / "p"), "--backend", "dask",
                     "--scheduler", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "must be an address like tcp://HOST:PORT" in err
    os.environ["UAT_DASK_CONNECT"] = "2s"
    try:
        assert cli.main(["run", str(tiny), "--out", str(tmp_path / "p"), "--backend", "dask",
                         "--scheduler", "tcp://127.0.0.1:9"]) == 1
    finally:
        del os.environ["UAT_DASK_CONNECT"]
    err = capsys.readouterr().err
    assert one_line(err) and "cannot reach the dask scheduler" in err, err


def test_losing_every_dask_worker_ends_the_run(tmp_path):
    """The cluster's only worker goes away mid-run: after UAT_DASK_TIMEOUT seconds the run
    ends with one line and exit 1 (it waited forever), keeping what finished."""
    from dask.distributed import LocalCluster

    from .test_runner import SLOW

    path, out = tmp_path / "slow.toml", tmp_path / "out"
    path.write_text(SLOW)
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uat", "run", str(path), "--out", str(out), "--quiet",
             "--batch-size", "1", "--backend", "dask", "--scheduler", cluster.scheduler_address],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "UAT_DASK_TIMEOUT": "3"})
        table = store.table_path(out, "tiny")
        import time

        deadline = time.time() + 60
        while time.time() < deadline and not (table.exists() and
                                              table.read_text().count("\n") >= 2):
            time.sleep(0.05)
        cluster.scale(0)
        _, err = proc.communicate(timeout=90)
    assert proc.returncode == 1, err
    assert "has been gone for 3 s" in err and "Traceback" not in err, err
    assert store.read(out, "tiny")["key"].is_unique


# ----------------------------------------------------------------------------- concurrent runs


def test_two_concurrent_runs_share_the_work(tmp_path):
    """Two `uat run`s of one study into one folder claim runs before training them: together
    they train each run once, and their summaries add up to the study."""
    import re

    from .conftest import uat_popen
    from .test_runner import SLOW

    path = tmp_path / "tiny.toml"
    path.write_text(SLOW)
    out = tmp_path / "out"
    procs = [uat_popen("run", path, "--out", out, "--batch-size", "1") for _ in range(2)]
    trained = []
    for p in procs:
        said, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        trained.append(int(re.search(r"(\d+) runs trained", said).group(1)))
    total = len(study.load(path).runs)
    assert sum(trained) == total and min(trained) > 0, (trained, total)  # shared, once each
    table = store.read(out, "tiny")
    assert table["key"].is_unique and len(table) == total
    assert not (out / "tiny" / "claims.csv").exists()  # both released theirs


def test_claims_of_a_dead_run_are_taken_over(tiny, tmp_path):
    """A run killed with SIGKILL cannot release its claims: the next run takes them over."""
    me = store.owner()
    dead = "deadhost-is-this-one:999999999:0".replace("deadhost-is-this-one",
                                                      me.split(":")[0])
    keys = [r.key for r in study.load(tiny).runs]
    assert store.claim(tmp_path, "tiny", keys[:3], dead) == keys[:3]
    assert store.claim(tmp_path, "tiny", keys[:5], me) == keys[:5]  # pid 999999999 is gone
    other = f"{me.split(':')[0]}:{os.getppid()}:{store._started(os.getppid())}"  # alive
    assert store.claim(tmp_path, "tiny", keys[5:8], other) == keys[5:8]
    assert store.claim(tmp_path, "tiny", keys[:8], me) == keys[:5]
    store.release(tmp_path, "tiny", me)
    assert store.claim(tmp_path, "tiny", keys[:8], other) == keys[:8]


def test_runs_made_with_set_are_visible(tiny, tmp_path, capsys):
    """Issue #11: after `uat run --set ...` into a folder, show, list, plot, verdict and report
    see those runs (each row holds the configuration that defines it)."""
    out = tmp_path / "o"
    assert cli.main(["run", str(tiny), "--set", "grid.width=[3]", "--set", "grid.seed=[7]",
                     "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["show", str(tiny), "--out", str(out)]) == 0
    assert "[tiny, stored: 8/8 runs stored]" in capsys.readouterr().out
    assert cli.main(["list", "--studies", str(tiny.parent), "--out", str(out)]) == 0
    assert re.search(r"tiny .* 0/16 +0/32 +0/32 +8 ", capsys.readouterr().out)
    assert cli.main(["plot", str(tiny), "--out", str(out)]) == 0
    assert (out / "tiny" / "tiny.png").exists()
    capsys.readouterr()
    assert cli.main(["verdict", str(tiny), "--out", str(out), "--studies",
                     str(tiny.parent)]) == 0
    assert capsys.readouterr().out.startswith("tiny (stored, 8/8 runs)")
    from uat import report

    html = report.write(out, tiny.parent).report.read_text()
    assert "Reported at scale <strong>stored</strong>: 8 of 8 runs stored" in html


def test_built_in_studies_are_found_from_any_folder(tmp_path, monkeypatch, capsys):
    """The studies ship with the package (pyproject maps uat.studies to studies/), so `uat run
    width` works outside the repository; here, from the source tree."""
    monkeypatch.chdir(tmp_path)
    from uat import api

    assert api.find_study("width").name == "width.toml"
    assert cli.main(["run", "depth", "--dry-run", "--out", str(tmp_path / "o")]) == 0
    assert "valid at every scale" in capsys.readouterr().out
    assert cli.main(["list", "--out", str(tmp_path / "o")]) == 0
    assert "separation" in capsys.readouterr().out


def test_a_killed_dask_worker_loses_nothing(tmp_path):
    """kill -9 of one of a LocalCluster's two worker processes mid-run: the scheduler gives
    its tasks to the other (and the nanny restarts it); every run is stored once."""
    import time

    import psutil
    from dask.distributed import LocalCluster

    from .test_runner import SLOW

    path, out = tmp_path / "slow.toml", tmp_path / "out"
    path.write_text(SLOW)
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uat", "run", str(path), "--out", str(out), "--quiet",
             "--batch-size", "1", "--backend", "dask", "--scheduler", cluster.scheduler_address],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        table = store.table_path(out, "tiny")
        deadline = time.time() + 60
        while time.time() < deadline and not (table.exists() and
                                              table.read_text().count("\n") >= 3):
            time.sleep(0.05)
        workers = [p for p in psutil.Process().children(recursive=True)
                   if "spawn_main" in " ".join(p.cmdline())]
        assert workers
        workers[-1].kill()
        _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    stored = store.read(out, "tiny")
    assert stored["key"].is_unique and len(stored) == len(study.load(path).runs)


def test_no_numerical_warning_reaches_the_user(tmp_path):
    """A diverging configuration overflows: a status in the table, not a RuntimeWarning."""
    path = tmp_path / "wild.toml"
    path.write_text(TINY.replace('"lm(steps=30)"', '"adam(lr=1e3, steps=200)"'))
    res = uat_cmd("run", path, "--out", tmp_path / "o", "--jobs", "2")
    assert res.returncode == 0 and "Warning" not in res.stderr, res.stderr
    assert (store.read(tmp_path / "o", "tiny")["status"] == "diverged").any()


def test_a_sigterm_whose_raise_was_swallowed_stops_at_the_next_batch(tiny, tmp_path,
                                                                     monkeypatch):
    """The SIGTERM handler's raise can land in a finalizer (a file lock's __del__), which
    swallows it; the flag it set stops the run at the next stored batch, keeping it."""
    from uat import errors

    monkeypatch.setitem(errors.TERMINATING, "now", True)
    s = study.load(tiny, "default")
    with pytest.raises(runner.Interrupted, match="^terminated: "):
        runner.run_study(s, tmp_path / "o", jobs=1, batch_size=1)
    stored = store.read(tmp_path / "o", s.name)
    assert 1 <= len(stored) < len(s.runs) and stored["key"].is_unique

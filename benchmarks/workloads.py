"""Workloads W1, W2, W3 and the scaling runs: what is trained, by which sides, how timed.

A `Work` is one uat study in miniature (target, activation, widths x depths, seeds,
optimizer). Its groups carry uat's run seeds and initial parameters, so every side starts
every network from the same theta0 as `uat run` would. Each side runs in a freshly spawned
process, is warmed up once on a two-step version of the work, then timed once with
time.perf_counter under pinned threads.
"""

import contextlib
import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np
from threadpoolctl import threadpool_limits

import uat
from benchmarks import sides
from uat import network, optim, runner, study, targets, train


def uat_source() -> str:
    """sha256 (12 hex) over uat/**/*.py: which engine was measured (it is being optimised)."""
    root = Path(uat.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]


class Group(NamedTuple):
    """The k members of one shape: uat's run seeds and initial parameters (float64)."""

    label: str  # "w=8" or "d=4": the column of the error table
    width: int
    depth: int
    shape: network.Shape
    seeds: list[int]  # uat's rng_seed of each run (from its key)
    theta0: np.ndarray  # (k, P) float64: the parameters train.train_batch starts from


@dataclass(frozen=True)
class Work:
    """One workload: a grid of shapes x seeds, its data and its optimizer."""

    name: str
    target: str  # target spec
    activation: str
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    seeds: int  # members per shape
    optimizer: str  # uat's spec of the float64 run; it also fixes the run keys, so the seeds
    steps: int  # optimizer steps (Adam) or trial steps (LM)
    lr: float = 1e-2
    n_train: int = 256
    n_test: int = 2048
    by: str = "width"  # which axis labels the error table's columns

    def study_doc(self, optimizer: str | None = None) -> dict:
        return {
            "study": {"name": f"bench-{self.name.lower()}", "title": self.name, "figure": "none"},
            "grid": {"target": self.target, "activation": self.activation,
                     "width": list(self.widths), "depth": list(self.depths),
                     "seed": list(range(self.seeds)), "optimizer": optimizer or self.optimizer},
            "data": {"n_train": self.n_train, "n_test": self.n_test},
        }

    @cached_property
    def data(self) -> targets.Data:
        return targets.sample(targets.get(self.target), self.n_train, self.n_test)

    @cached_property
    def groups(self) -> list[Group]:
        runs = study.parse(self.study_doc(), "<benchmark>").runs
        out = []
        for width in self.widths:
            for depth in self.depths:
                members = [r for r in runs if r.width == width and r.depth == depth]
                shape, seeds = members[0].shape, [r.rng_seed for r in members]
                label = f"d={depth}" if self.by == "depth" else f"w={width}"
                theta0 = initial_parameters(shape, seeds, self.data)
                out.append(Group(label, width, depth, shape, seeds, theta0))
        return out

    def tiny(self) -> "Work":
        """A two-step run of the first shape: the warm-up."""
        return replace(self, widths=self.widths[:1], depths=self.depths[:1], steps=2,
                       optimizer=self.optimizer.replace(f"steps={self.steps}", "steps=2"))

    def flops(self, lm: bool = False) -> float:
        """Useful floating-point work of the whole workload (the same count for every side).

        Adam: 6 n_s sum_l n_l n_{l-1} per network and step (2 flops per multiply-add; forward
        W A, backward W^T delta and delta A^T). LM: 2 n_s P^2 (J^T J) + 2/3 P^3 (the solve)
        per network and trial step.
        """
        total = 0.0
        for g in self.groups:
            sizes, P = g.shape.sizes, g.shape.n_params
            macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
            per = 2 * self.n_train * P**2 + 2 / 3 * P**3 if lm else 6 * self.n_train * macs
            total += per * len(g.seeds) * self.steps
        return total


def initial_parameters(shape: network.Shape, seeds: list[int], data) -> np.ndarray:
    """theta0 exactly as uat's train.train_batch draws it, captured from a 1-step call.

    Why a spy and not a call to network.init: uat's initialisation may depend on the data
    (and its signature on uat's version); capturing it keeps every side on uat's start.
    """
    seen = []

    def spy(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    real = network.init
    with mock.patch.object(network, "init", spy):  # float64: Adam's default is float32
        train.train_batch(shape, "adam(steps=1, dtype='float64')", seeds, [data] * len(seeds))
    if len(seen) != 1:
        raise RuntimeError(f"train_batch called network.init {len(seen)} times; expected 1")
    if seen[0].dtype != np.float64:
        raise RuntimeError(f"captured {seen[0].dtype} initial parameters; expected float64")
    return seen[0]


class Side(NamedTuple):
    """One row of a comparison: which function of benchmarks.sides, on how many threads."""

    name: str
    dtype: str
    fn: str  # a function of benchmarks.sides: fn(work, groups, data, **kwargs) -> errors
    kwargs: dict | None = None  # keyword arguments of fn
    threads: int = 1  # BLAS threads (and torch threads) of the process
    procs: int = 1  # worker processes (uat --jobs, joblib n_jobs)
    torch: bool = False  # also pin torch's intra-op threads

    @property
    def cores(self) -> int:
        return self.threads * self.procs

    @property
    def thread_text(self) -> str:
        what = "torch+BLAS" if self.torch else "BLAS"
        return f"{self.procs} procs x 1 BLAS" if self.procs > 1 else f"{what} {self.threads}"


# glibc malloc without dynamic mmap/trim thresholds: freed activations stay in the heap
MALLOC_TUNED = {"MALLOC_MMAP_THRESHOLD_": str(2**28), "MALLOC_TRIM_THRESHOLD_": str(2**30)}


def in_fresh_process(fn, *args, env: dict | None = None):
    """fn(*args) in a newly spawned Python process, with `env` added to its environment.

    Why: a side must not inherit another side's state. glibc's malloc, in particular, tunes
    its mmap and trim thresholds to the largest blocks freed so far, so the same NumPy loop can
    page-fault on every step in a fresh process and not at all after a big matmul.
    """
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            return pool.submit(fn, *args).result()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def pinned(side: Side):
    """BLAS threads via threadpoolctl, and torch's intra-op threads, for the side's duration."""
    if side.torch:
        import torch

        torch.set_num_threads(side.threads)
    with threadpool_limits(side.threads):
        yield


def busy_seconds() -> float:
    """CPU-seconds all cores of the machine have been busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU-seconds of this process and of its live children (loky workers), from /proc."""
    total, me = time.process_time(), os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # fields after "(comm)"
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == me:  # ppid; utime and stime are fields 14 and 15 of stat
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wait_quiet(limit: float = 30.0, share: float = 0.25) -> float:
    """Wait (up to `limit` s) until other processes use under `share` of a core; seconds
    waited. The machine may be shared, and a 2-core box has no spare core for them."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        busy = busy_seconds()
        time.sleep(0.5)
        if (busy_seconds() - busy) / 0.5 < share:
            break
    return time.perf_counter() - start


def measure(work: Work, side: Side) -> dict:
    """Warm up on work.tiny(), then train the whole work once, timed (in this process).

    Besides wall seconds: the CPU seconds of this process and its workers, and `others`, the
    cores other processes of the machine used meanwhile (/proc/stat's busy time minus ours):
    above ~0.1 the row was slowed down by someone else.
    """
    fn, tiny = getattr(sides, side.fn), work.tiny()
    with pinned(side):
        kwargs = side.kwargs or {}
        fn(tiny, tiny.groups, tiny.data, **kwargs)
        start, cpu, busy = time.perf_counter(), own_seconds(), busy_seconds()
        out = fn(work, work.groups, work.data, **kwargs)
        out["seconds"] = time.perf_counter() - start
        out["cpu"] = own_seconds() - cpu
        out["others"] = max(0.0, busy_seconds() - busy - out["cpu"]) / out["seconds"]
    if side.procs > 1:
        stop_workers()
    out["side"] = side
    return out


def stop_workers() -> None:
    """End loky's reusable workers now: idle ones live on until loky's idle timeout (300 s),
    and this process's exit would wait for them."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor(kill_workers=True).shutdown(wait=True, kill_workers=True)


def run_side(work: Work, side: Side, retry_below: float = 20.0) -> dict:
    """`measure` in a fresh process (no side sees another's imports, threads or heap), once
    the machine is quiet; a row that other processes slowed down (others > 0.2 cores) and
    that takes under `retry_below` seconds is measured once more, and the cleaner run kept."""
    waited = wait_quiet()
    out = in_fresh_process(measure, work, side) | {"waited": waited, "runs": 1}
    if out["others"] > 0.2 and out["seconds"] < retry_below:
        waited = wait_quiet()
        again = in_fresh_process(measure, work, side) | {"waited": waited, "runs": 2}
        out = min(out, again, key=lambda r: r["others"]) | {"runs": 2}
    return out


def adam_spec(steps: int, lr: float = 1e-2) -> str:
    return optim.get(f"adam(lr={lr}, steps={steps}, dtype='float64')").name


def w1(quick: bool) -> Work:
    steps = 100 if quick else 2000
    return Work("W1", "sin(freq=2)", "tanh", (1, 2, 4, 8, 16, 32, 64, 128), (1,), 5,
                adam_spec(steps), steps)


def w2(quick: bool) -> Work:
    steps = 100 if quick else 2000
    return Work("W2", "bump(dim=2, scale=0.3)", "relu", (3,), (1, 2, 4, 8), 5, adam_spec(steps),
                steps, n_train=1024, n_test=4096, by="depth")


def w3(quick: bool, steps: int = 300) -> Work:
    steps = 20 if quick else steps
    return Work("W3", "sin(freq=1)", "tanh", (4, 8, 16, 32), (1,), 5,
                optim.get(f"lm(steps={steps}, ftol=0)").name, steps)


def adam_sides(torch_sides: bool) -> list[Side]:
    """The first side is the baseline: the scikit-learn loop on one core."""
    out = [Side("scikit-learn loop", "float64", "sklearn_loop"),
           Side("scikit-learn loop, joblib", "float64", "sklearn_loop", {"jobs": 2}, procs=2)]
    if torch_sides:
        # 2 threads did not speed up the per-network loop (tiny tensors) in a trial
        out += [Side("torch loop (nn.Sequential)", dt, "torch_loop", {"dtype": dt}, torch=True)
                for dt in ("float32", "float64")]
        out += [Side("torch batched (baddbmm)", dt, "torch_batched", {"dtype": dt}, threads=t,
                     torch=True) for t in (1, 2) for dt in ("float32", "float64")]
    out += [Side("uat jobs 1 (train_batch)", dt, "uat_batches", {"dtype": dt}, threads=t)
            for t in (1, 2) for dt in ("float64", "float32")]
    # float32 runs have their own run keys, hence their own seeds (same distribution)
    out += [Side("uat jobs 2 (run_study)", dt, "uat_study", {"dtype": dt, "jobs": 2}, procs=2)
            for dt in ("float64", "float32")]
    return out


def lm_sides() -> list[Side]:
    """uat's default lm, and lm(scale=True) (Moré's damping scale, as MINPACK's): the same
    seeds and initial parameters in both (train_batch takes them from the work's run keys)."""
    return [
        Side("SciPy least_squares(lm) loop", "float64", "scipy_lm"),
        Side("uat jobs 1 (train_batch)", "float64", "uat_batches"),
        Side("uat jobs 1 (train_batch)", "float64", "uat_batches", threads=2),
        Side("uat jobs 2 (run_study)", "float64", "uat_study", {"jobs": 2}, procs=2),
        Side("uat jobs 1 (train_batch), lm(scale=True)", "float64", "uat_batches",
             {"options": "scale=True"}),
    ]


def loky_startup() -> float:
    """Seconds of the first `run_study(..., jobs=2)` of a process, on a 1-step study: loky
    starts 2 workers that import uat. (Each jobs-2 row starts its own in its warm-up.)"""
    work = Work("startup", "sin(freq=1)", "tanh", (1,), (1,), 4, adam_spec(1), 1)
    start = time.perf_counter()
    sides.uat_study(work, work.groups, work.data, jobs=2)
    seconds = time.perf_counter() - start
    stop_workers()
    return seconds


def scaling(quick: bool) -> dict:
    """uat seconds vs networks (width 16, n_s 256) and vs n_s (k = 32), Adam 200 steps, as
    `uat run --jobs 1` trains them (runner.plan + runner.execute_batch in this process, BLAS
    1 thread, no store), with the log-log slope of each series."""
    steps = 20 if quick else 200
    ks = (10, 30, 100) if quick else (10, 30, 100, 300, 1000)
    ns = (64, 256, 1024) if quick else (64, 256, 1024, 4096)

    def seconds(k: int, n_s: int, batch_size: int | None = None) -> float:
        work = Work("scaling", "sin(freq=2)", "tanh", (16,), (1,), k, adam_spec(steps), steps,
                    n_train=n_s)
        runs = study.parse(work.study_doc(), "<benchmark>").runs
        batches = runner.plan(runs, batch_size, jobs=1)
        start = time.perf_counter()
        for b in batches:
            runner.execute_batch(b, 1)
        return time.perf_counter() - start

    seconds(4, 64)  # warm-up
    out = {"steps": steps}
    for name, xs, call in (("networks", ks, lambda x: seconds(x, 256)),
                           ("n_s", ns, lambda x: seconds(32, x))):
        ts = [call(x) for x in xs]
        slope = np.polyfit(np.log(xs), np.log(ts), 1)[0]
        upper = np.polyfit(np.log(xs[-3:]), np.log(ts[-3:]), 1)[0]
        out[name] = {"x": xs, "seconds": ts, "slope": slope, "slope_upper": upper}
    out["split"] = {b: seconds(32, ns[-1], b) for b in (16, 8, 4)}  # cache-sized batches?
    return out

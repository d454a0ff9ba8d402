"""Runs -> batches -> workers -> store.

Runs that share a shape, optimizer and data size are packed into batches (the ensemble axis:
one batched matmul serves all members). Batches go to joblib `Parallel`: `loky` processes by
default (true parallelism for NumPy code that holds the GIL between small calls), `threading`
for tiny studies or debugging, `dask` for a cluster (a `distributed` scheduler, or a
LocalCluster on 127.0.0.1). BLAS is limited to one thread per worker when several workers run
(threadpoolctl), so k workers never oversubscribe k cores. The parent process stores each batch
as soon as it finishes, so an interrupted study loses only the batches in flight. Numbers do
not depend on any of this: each member's random stream comes from its run key (uat.study).
"""

import contextlib
import hashlib
import logging
import os
import signal
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import joblib
import numpy as np
from threadpoolctl import threadpool_limits

from uat import network, optim, study, targets, train
from uat.errors import UserError

log = logging.getLogger("uat.runner")

BACKENDS = ("loky", "threading", "dask")
MEMBER_BUDGET = 2**23  # floats of LM Jacobian per batch: ~64 MB in float64
# Adam: activations (units x samples, summed over members and layers) per batch. Measured
# (tanh, one hidden layer, 32 nets, float32): past ~2^20 a batch runs out of cache, and halves
# train 8-20% faster (widths 16-256 at 256-4096 samples); below it one batch is fastest.
ACTIVATION_BUDGET = 2**20
MAX_MEMBERS = 64  # more members per batch buy little once the per-call overhead is shared


@dataclass(frozen=True)
class Batch:
    """Runs trained together by one worker: same shape, optimizer and data size."""

    id: str  # hash of the member keys: the same members always make the same batch id
    runs: tuple[study.Run, ...]  # the members, in key order

    @property
    def cost(self) -> float:
        return sum(estimate_seconds(r) for r in self.runs)


def estimate_seconds(run: study.Run) -> float:
    """A rough single-core cost model of one run (for ETAs, batch order and --yes), measured
    on a 2-core reference machine: a fixed cost per step plus a cost per multiply-add."""
    shape = run.shape
    p, n = shape.n_params, run.n_train * shape.n_out
    steps = optim.get(run.optimizer).steps
    if run.optimizer.startswith("lm("):
        return steps * (2e-5 + 1.5e-9 * n * p * p + 3e-10 * p**3)
    return steps * (4e-6 + 4e-9 * run.n_train * sum(shape.sizes) * max(shape.sizes))


def members_per_batch(run: study.Run) -> int:
    """How many members of this shape fit one batch: LM's memory budget, Adam's cache one."""
    shape = run.shape
    if run.optimizer.startswith("lm("):
        per_member = (run.n_train * max(sum(shape.sizes), shape.n_out * shape.n_params)
                      + 2 * shape.n_params**2)
        budget = MEMBER_BUDGET
    else:
        per_member, budget = run.n_train * sum(shape.sizes[1:]), ACTIVATION_BUDGET
    return int(max(1, min(MAX_MEMBERS, budget // per_member)))


def plan(runs: Sequence[study.Run], batch_size: int | None = None, jobs: int = 1) -> list[Batch]:
    """Pack runs into batches of one shape, largest cost first.

    batch_size caps the members per batch (None: from the memory budget). Groups are split
    evenly, and further while there are fewer batches than 2 x jobs, or while a batch would
    cost more than 1/jobs of the whole (estimate_seconds), so workers stay busy. Packing never
    changes numbers (tests check it).
    """
    groups = defaultdict(list)
    for run in runs:
        groups[run.batch_group].append(run)
    sized = []  # per group: [members, number of chunks, cost of all members]
    for members in groups.values():
        members.sort(key=lambda r: r.key)
        cap = batch_size or members_per_batch(members[0])
        sized.append([members, -(-len(members) // cap), sum(map(estimate_seconds, members))])
    share = sum(s[2] for s in sized) / jobs  # one worker's fair share of the work

    def largest(s) -> float:  # cost of the group's largest chunk (chunks differ by one run)
        members, n, cost = s
        return cost / len(members) * -(-len(members) // n)

    while batch_size is None:
        splittable = [s for s in sized if s[1] < len(s[0])]
        if not splittable:
            break
        if sum(s[1] for s in sized) < 2 * jobs:  # too few batches: split the largest group
            max(splittable, key=lambda s: len(s[0]) / s[1])[1] += 1
        elif jobs > 1 and largest(big := max(splittable, key=largest)) > share:
            big[1] += 1  # a batch longer than a worker's share would leave the others idle
        else:
            break
    batches = []
    for members, n, _ in sized:
        for chunk in np.array_split(np.arange(len(members)), n):
            chunk_runs = tuple(members[i] for i in chunk)
            digest = hashlib.sha256("".join(r.key for r in chunk_runs).encode()).hexdigest()
            batches.append(Batch(digest[:12], chunk_runs))
    return sorted(batches, key=lambda b: -b.cost)


def _quiet_worker(parent: int) -> None:
    """In a worker process: leave Ctrl-C to the parent (which stores what finished and says
    how to resume in one line) instead of printing a traceback per worker."""
    if os.getpid() != parent and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def execute_batch(batch: Batch, blas_threads: int | None,
                  parent: int | None = None) -> tuple[str, list[dict], dict]:
    """Train one batch (in a worker) -> (batch id, result rows, {key: final parameters}).
    Overflow and invalid values are statuses (diverged), not warnings."""
    if parent is not None:
        _quiet_worker(parent)
    limit = threadpool_limits(blas_threads) if blas_threads else contextlib.nullcontext()
    with limit, np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first = batch.runs[0]
        data, cache = [], {}
        for run in batch.runs:
            if run.target not in cache:
                cache[run.target] = targets.sample(targets.get(run.target), run.n_train,
                                                   run.n_test)
            data.append(cache[run.target])
        results = train.train_batch(first.shape, first.optimizer,
                                    [r.rng_seed for r in batch.runs], data)
    rows, params = [], {}
    shape = first.shape
    for run, res in zip(batch.runs, results, strict=True):
        row = {**run.config(), "key": run.key, "loss": shape.loss, "n_params": shape.n_params,
               "n_in": shape.n_in, "n_out": shape.n_out}
        row.update({f: getattr(res, f) for f in res._fields if f != "theta"})
        rows.append(row)
        params[run.key] = res.theta
    log.info("batch %s: %d x %s done", batch.id, len(rows), first.optimizer)
    return batch.id, rows, params


class Interrupted(UserError):
    """Ctrl-C during a run: finished batches are stored; the message says how to resume."""


@contextlib.contextmanager
def _backend(backend: str, jobs: int, scheduler: str | None):
    """joblib's parallel_config for the backend; for dask, a Client (and LocalCluster)."""
    if backend not in BACKENDS:
        raise UserError(f"`--backend` must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend != "dask":
        with joblib.parallel_config(backend=backend, n_jobs=jobs):
            yield
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UserError("--backend dask needs dask[distributed]: pip install 'uat[dask]'") from None
    quiet = logging.INFO if log.isEnabledFor(logging.INFO) else logging.WARNING
    logging.getLogger("distributed").setLevel(quiet)  # it logs every connection at INFO
    with contextlib.ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(Client(scheduler, timeout="20s"))
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=quiet))
            client = stack.enter_context(Client(cluster))
        log.info("dask: %s", client)
        with joblib.parallel_config(backend="dask", n_jobs=-1):
            yield


def run_study(
    the_study: study.Study,
    out="results",
    jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> dict:
    """Train every run of the study not stored yet; store batches as they finish.

    Returns a summary dict (runs total/stored/trained, batches, seconds). Raises Interrupted on
    Ctrl-C, after the finished batches are safely stored.
    """
    from uat import store  # pandas: needed here, not in the workers that import this module

    if jobs < 1:
        raise UserError(f"`--jobs` must be >= 1; got {jobs}")
    name = the_study.name
    store.check_meta(out, name, {"study": name, "key_scheme": study.KEY_SCHEME,
                                 "params_layout": network.LAYOUT})
    store.check_writable(out, name)  # before training anything it could not store
    moved, aside = store.repair(out, name)  # bad rows would be trained again, not trusted
    if moved:
        log.warning("%s: moved %d bad row(s) aside to %s; their runs are trained again",
                    store.table_path(out, name), moved, aside)
    table = store.read(out, name)
    store.check_configs(table, the_study.runs)
    done = set(table["key"])
    pending = [r for r in the_study.runs if r.key not in done]
    summary = {"study": name, "runs": len(the_study.runs), "already": len(the_study.runs) -
               len(pending), "trained": 0, "batches": 0, "seconds": 0.0}
    if not pending:
        return summary
    batches = plan(pending, batch_size, jobs)
    # one BLAS thread per worker, and for --jobs 1 too: multithreaded OpenBLAS dgemm rounds
    # J^T J differently once P >~ 100, which would make numbers depend on --jobs
    blas = 1
    start = time.perf_counter()
    bar = _progress(len(pending), name, progress)
    try:
        with _backend(backend, jobs, scheduler):
            if backend == "threading":
                stack = threadpool_limits(1)  # process-wide: set once, here
            else:
                stack = contextlib.nullcontext()
            with stack:
                parallel = joblib.Parallel(return_as="generator_unordered")
                calls = (joblib.delayed(execute_batch)(
                    b, None if backend == "threading" else blas, os.getpid()) for b in batches)
                for batch_id, rows, params in parallel(calls):
                    summary["trained"] += store.append(out, name, rows, params, batch_id)
                    summary["batches"] += 1
                    bar.update(len(rows))
    except KeyboardInterrupt:
        bar.close()
        stored = summary["already"] + summary["trained"]
        raise Interrupted(
            f"interrupted: {stored} of {len(the_study.runs)} runs of '{name}' are stored in "
            f"{store.table_path(out, name)}; run the same command again to resume"
        ) from None
    bar.close()
    summary["seconds"] = time.perf_counter() - start
    return summary


def _progress(total: int, name: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="run", disable=not enabled, dynamic_ncols=True,
                smoothing=0.05)


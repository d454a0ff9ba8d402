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
import re
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
from uat.errors import TERMINATING, Terminated, UserError

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
        """Estimated seconds on one core: the batch's fixed cost per step and its members'."""
        first = self.runs[0]
        fixed = LM_STEP if first.optimizer.startswith("lm(") else ADAM_STEP
        return optim.get(first.optimizer).steps * fixed + sum(map(estimate_seconds, self.runs))

    @property
    def bytes(self) -> int:
        return batch_bytes(self.runs)


# The batched cost model: a batch of m members costs steps x (a fixed cost per step + m x a
# cost per member and step). Fitted (least squares) to the 393 batches of the default studies
# on the 2-core reference machine, with the step budgets (LM often stops earlier; that is in
# the constants): each study's total within 1.7x of what it took (docs/reliability.md).
LM_STEP = 1.9e-4  # seconds per LM step of a batch
LM_NPP, LM_NP = 6.2e-11, 8.8e-10  # per member and step: x n P^2 (J^T J) and x n P (J)
ADAM_STEP = 3.4e-5  # seconds per Adam step of a batch
ADAM_ACT = 1.3e-9  # per member and step: x units x samples (float32; float64 twice that)


def estimate_seconds(run: study.Run) -> float:
    """One member's share of its batch's time on one core (the cost model above)."""
    shape = run.shape
    p, n = shape.n_params, run.n_train * shape.n_out
    cfg = optim.get(run.optimizer)
    if run.optimizer.startswith("lm("):
        return cfg.steps * (LM_NPP * n * p * p + LM_NP * n * p)
    acts = run.n_train * sum(shape.sizes[1:])
    return cfg.steps * ADAM_ACT * acts * (2 if cfg.dtype == "float64" else 1)


def batch_bytes(runs: Sequence[study.Run]) -> int:
    """Peak memory of training these runs as one batch, in bytes: a model fitted to
    tracemalloc's peaks of 60 batches (LM and Adam, widths 2-256, depths 1-6, 256-2048
    points, 4-16 members) and scaled to lie above them (LM 1.0x to 2.4x of the peak, Adam
    1.1x): the Jacobian (n P), J^T J (P^2) and the activations per layer (n units (L + 1))
    per member; the test set, evaluated in float64 in chunks of train.TEST_CHUNK."""
    from uat.train import TEST_CHUNK

    first = runs[0]
    shape, m = first.shape, len(runs)
    p, n, units = shape.n_params, first.n_train * shape.n_out, sum(shape.sizes)
    layers = first.n_train * units * (shape.depth + 1)
    per_test = max(shape.sizes) * first.n_test * (shape.depth + 1)  # activations per member
    test = 16 * per_test * min(m, max(1, TEST_CHUNK // per_test))
    if first.optimizer.startswith("lm("):
        member = 19.3 * n * p + 14 * p * p + 1.8 * layers
    else:
        wide = 2 if optim.get(first.optimizer).dtype == "float64" else 1
        member = wide * (15 * first.n_train * units + 1.5 * layers) + 28 * p
    return int(m * member + test + 2**19)


def memory_limit() -> int:
    """Bytes one batch may take: UAT_MEMORY_LIMIT (e.g. "8G", "512M", bytes), else half the
    machine's memory (each worker holds one batch; the limit is divided by the workers)."""
    text = os.environ.get("UAT_MEMORY_LIMIT", "").strip()
    if text:
        return parse_bytes(text, "UAT_MEMORY_LIMIT")
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):  # not a POSIX system: assume 8 GB
        return 8 * 2**30


def parse_bytes(text: str, where: str) -> int:
    """ "8G", "512M", "64k" or a number of bytes -> bytes."""
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    t = text.strip().upper().removesuffix("B")
    number, unit = (t[:-1], t[-1]) if t and t[-1] in units else (t, "")
    try:
        value = float(number) * units[unit]
    except ValueError:
        raise UserError(f"`{where}` must be a size like 8G, 512M or a number of bytes; got "
                        f"{text!r}") from None
    if not value > 0:
        raise UserError(f"`{where}` must be positive; got {text!r}")
    return int(value)


def human(n: float) -> str:
    """Bytes for people: 1.5 GB, 320 MB."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def fit_memory(batches: list["Batch"], limit: int, jobs: int) -> list["Batch"]:
    """Split every batch whose estimated memory times the workers running at once would pass
    `limit`; refuse (UserError, one line) a study with a single network over it."""
    per_worker = limit // max(1, jobs)
    out = []
    for b in batches:
        if b.bytes <= per_worker:
            out.append(b)
            continue
        one = batch_bytes(b.runs[:1])
        if one > per_worker:
            r = b.runs[0]
            kind = r.optimizer.split('(')[0]
            fix = "fewer points or a narrower network" if kind == "adam" else "fewer points or adam"
            raise UserError(
                f"one network of {r.activation} width {r.width} depth {r.depth} on {r.n_train} "
                f"points ({kind}) needs about {human(one)}, more than the "
                f"{human(per_worker)} a worker may use ({human(limit)} / {jobs} jobs; set "
                f"--memory-limit or UAT_MEMORY_LIMIT, or use {fix})")
        per = max(1, per_worker // one)
        for i in range(0, len(b.runs), per):
            chunk = b.runs[i:i + per]
            digest = hashlib.sha256("".join(r.key for r in chunk).encode()).hexdigest()
            out.append(Batch(digest[:12], chunk))
    return sorted(out, key=lambda b: -b.cost)


def estimate_wall(batches: Sequence["Batch"], jobs: int) -> float:
    """Seconds the batches take on `jobs` workers: the work shared out, but never less than
    the longest batch."""
    costs = [b.cost for b in batches]
    return max(sum(costs) / max(1, jobs), max(costs, default=0.0))


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
        if os.getpid() != parent:
            _watch_parent(parent)
    _fault(batch)
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


class ClusterLost(OSError):
    """Every dask worker gone for longer than the timeout: the run ends (exit 1)."""


def _lost_errors() -> tuple[type[BaseException], ...]:
    """What a pool raises when a worker process dies (killed by the OS, a segfault, kill -9)."""
    from joblib.externals.loky.process_executor import BrokenProcessPool

    errors: list[type[BaseException]] = [BrokenProcessPool]
    try:
        from distributed.scheduler import KilledWorker

        errors.append(KilledWorker)
    except ImportError:
        pass
    return tuple(errors)


def _fault(batch: Batch) -> None:
    """Fault injection for the tests (docs/reliability.md): a worker whose batch holds a run
    key listed in UAT_FAULT_KILL kills itself with SIGKILL, as the OS's out-of-memory killer
    would."""
    keys = os.environ.get("UAT_FAULT_KILL", "")
    if keys and any(r.key in keys.split(",") for r in batch.runs):
        os.kill(os.getpid(), signal.SIGKILL)


def _watch_parent(parent: int) -> None:
    """In a worker process: exit as soon as the parent is gone (killed with SIGKILL it cannot
    stop its pool), instead of idling for minutes with its memory."""
    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent and not _alive(parent):
                os._exit(1)

    if not getattr(_watch_parent, "started", False):
        _watch_parent.started = True
        threading.Thread(target=watch, daemon=True, name="uat-parent-watch").start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _backend(backend: str, jobs: int, scheduler: str | None):
    """joblib's parallel_config for the backend; for dask, a Client (and LocalCluster) and a
    watchdog that ends the run when every worker has been gone for UAT_DASK_TIMEOUT seconds
    (default 60)."""
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
    logging.getLogger("distributed").setLevel(logging.CRITICAL if quiet == logging.WARNING
                                              else quiet)  # it logs every connection
    with contextlib.ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(_connect(Client, scheduler))
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=quiet))
            client = stack.enter_context(Client(cluster))
        log.info("dask: %s", client)
        watch = _ClusterWatch(client, float(os.environ.get("UAT_DASK_TIMEOUT", "60")))
        stack.callback(watch.stop)
        with joblib.parallel_config(backend=_dask_backend(), n_jobs=-1):
            try:
                yield
            except KeyboardInterrupt:
                if watch.lost:
                    raise ClusterLost(
                        f"every dask worker of {client.scheduler.address} has been gone for "
                        f"{watch.timeout:g} s; the finished batches are stored, run again when "
                        f"workers are back") from None
                raise


def _dask_backend() -> str:
    """joblib's dask backend, except that a cluster with a single worker thread is used too:
    joblib counts the cluster's threads as its n_jobs and runs everything in this process
    when that is 1 (the log said dask while the client trained). Registered once."""
    if "uat-dask" not in joblib.parallel.BACKENDS:
        from joblib._dask import DaskDistributedBackend  # joblib's own (a private module)

        class OneThreadToo(DaskDistributedBackend):
            def effective_n_jobs(self, n_jobs):
                return max(2, super().effective_n_jobs(n_jobs))

        joblib.register_parallel_backend("uat-dask", OneThreadToo)
    return "uat-dask"


def _connect(Client, scheduler: str):
    """A Client of the scheduler at `scheduler`; a malformed address is the user's error
    (exit 2), one that cannot be reached the environment's (exit 1), one line each."""
    if "://" not in scheduler or not scheduler.split("://", 1)[1]:
        raise UserError(f"`--scheduler` must be an address like tcp://HOST:PORT; got "
                        f"{scheduler!r}")
    try:
        return Client(scheduler, timeout=os.environ.get("UAT_DASK_CONNECT", "20s"))
    except (OSError, TimeoutError) as err:
        raise ClusterLost(f"cannot reach the dask scheduler at {scheduler}: "
                          f"{type(err).__name__}: {str(err).splitlines()[0][:120]}") from None
    except ValueError as err:
        raise UserError(f"`--scheduler` {scheduler!r}: {err}") from None


class _ClusterWatch:
    """A thread that interrupts the main thread when the cluster has had no worker for
    `timeout` seconds (joblib would wait for one forever)."""

    def __init__(self, client, timeout: float):
        import _thread

        self.timeout, self.lost, self._stop = timeout, False, threading.Event()

        def run():
            empty_since = None
            while not self._stop.wait(1.0):
                try:
                    n = len(client.scheduler_info()["workers"])
                except Exception:  # noqa: BLE001 - a scheduler gone is a cluster lost too
                    n = 0
                empty_since = None if n else (empty_since or time.monotonic())
                if empty_since is not None and time.monotonic() - empty_since > timeout:
                    self.lost = True
                    _thread.interrupt_main()
                    return

        threading.Thread(target=run, daemon=True, name="uat-cluster-watch").start()

    def stop(self):
        self._stop.set()


def run_study(
    the_study: study.Study,
    out="results",
    jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
    batch_size: int | None = None,
    progress: bool = False,
    memory: int | None = None,
) -> dict:
    """Train every run of the study not stored yet; store batches as they finish.

    `memory`: bytes all workers' batches may take at once (default `memory_limit()`); larger
    batches are split, a single network over it is refused. Returns a summary dict (runs
    total/stored/trained, batches, seconds). Raises Interrupted on Ctrl-C, after the finished
    batches are safely stored.
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
               len(pending), "trained": 0, "batches": 0, "seconds": 0.0, "failed": 0,
               "failures": [], "elsewhere": 0}
    if not pending:
        return summary
    batches = fit_memory(plan(pending, batch_size, jobs), memory or memory_limit(), jobs)
    # one BLAS thread per worker, and for --jobs 1 too: multithreaded OpenBLAS dgemm rounds
    # J^T J differently once P >~ 100, which would make numbers depend on --jobs
    blas = 1
    start = time.perf_counter()
    bar = _progress(len(pending), name, progress)
    left = {b.id: b for b in batches}
    me = store.owner()

    def claimed(todo: list[Batch]):
        """The batches of `todo` cut down to the runs this process claims now (another run of
        the same study into the same folder trains the rest): lazily, as workers free up."""
        for b in todo:
            mine = set(store.claim(out, name, [r.key for r in b.runs], me))
            left.pop(b.id, None)
            if not mine:
                continue
            if len(mine) < len(b.runs):
                runs = tuple(r for r in b.runs if r.key in mine)
                b = Batch(hashlib.sha256("".join(r.key for r in runs).encode()).hexdigest()[:12],
                          runs)
            left[b.id] = b
            yield b

    def train(todo: list[Batch], n_jobs: int) -> None:
        """Train `todo`, storing each batch as it finishes (and dropping it from `left`)."""
        with _backend(backend, n_jobs, scheduler):
            stack = threadpool_limits(1) if backend == "threading" else contextlib.nullcontext()
            with stack:  # threading: process-wide, set once here; workers set their own
                parallel = joblib.Parallel(return_as="generator_unordered")
                calls = (joblib.delayed(execute_batch)(
                    b, None if backend == "threading" else blas, os.getpid())
                    for b in claimed(todo))
                for batch_id, rows, params in parallel(calls):
                    summary["trained"] += store.append(out, name, rows, params, batch_id)
                    summary["batches"] += 1
                    left.pop(batch_id, None)
                    bar.update(len(rows))
                    if TERMINATING["now"]:  # a SIGTERM whose raise a finalizer swallowed
                        raise Terminated

    lost = _lost_errors()
    failed: list[tuple[Batch, str]] = []
    try:
        try:
            train(list(left.values()), jobs)
            while True:  # runs another run had claimed and left (it stopped): ours now
                keys = store.stored_keys(out, name)
                orphans = [r for r in pending if r.key not in keys]
                if not orphans or not store.claim(out, name, [r.key for r in orphans], me):
                    break
                left.update({b.id: b for b in fit_memory(plan(orphans, batch_size, jobs),
                                                           memory or memory_limit(), jobs)})
                train(list(left.values()), jobs)
        except lost as err:  # a worker died: the OS, a segfault, kill -9. Once more, all of it
            log.warning("%s: a worker died (%s); training the %d batches left again", name,
                        _why(err), len(left))
            try:
                train(list(left.values()), jobs)
            except lost as err2:  # again: each batch alone, so one that kills its worker is
                log.warning("%s: a worker died again (%s); training the %d batches left one "
                            "at a time", name, _why(err2), len(left))  # found and set aside
                for b in list(left.values()):
                    try:
                        train([b], max(2, jobs) if backend == "loky" else jobs)
                    except lost as err3:
                        failed.append((b, f"its worker died twice ({_why(err3)})"))
                        store.record_failed(out, name, [r.key for r in b.runs], b.id,
                                            failed[-1][1])
                        left.pop(b.id, None)
    except KeyboardInterrupt as stop:
        bar.close()
        stored = len(store.stored_keys(out, name) & {r.key for r in the_study.runs})
        word = "terminated" if isinstance(stop, Terminated) else "interrupted"
        raise Interrupted(
            f"{word}: {stored} of {len(the_study.runs)} runs of '{name}' are stored in "
            f"{store.table_path(out, name)}; run the same command again to resume"
        ) from None
    finally:
        store.release(out, name, me)
    bar.close()
    keys = store.stored_keys(out, name)
    summary["elsewhere"] = sum(r.key not in keys for r in pending) - sum(
        len(b.runs) for b, _ in failed)  # claimed by another run of the study, still going
    summary["seconds"] = time.perf_counter() - start
    summary["failed"] = sum(len(b.runs) for b, _ in failed)
    summary["failures"] = sorted({why for _, why in failed})
    return summary


def _why(err: BaseException) -> str:
    """A worker-loss exception in a few words (loky's message is a paragraph whose last line
    gives the exit codes, e.g. {SIGKILL(-9)})."""
    text = str(err).strip()
    match = re.search(r"exit codes of the workers are \{([^}]*)\}", text)
    if match:
        return f"killed: {match.group(1)}"
    return f"{type(err).__name__}: {text.splitlines()[0][:60]}" if text else type(err).__name__


def _progress(total: int, name: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="run", disable=not enabled, dynamic_ncols=True,
                smoothing=0.05)


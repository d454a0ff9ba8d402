"""The results table: `<out>/<study>/runs.csv`, one row per trained network, append-only.

Why append-only CSV: it is readable by anything (pandas, a spreadsheet, `grep`), resuming is
"skip the keys already there", and appending one batch is one `write` of whole lines under a
file lock. A process killed in the middle of that write leaves at most a torn last line, which
`read` ignores and the next `append` cuts off; two processes appending to one table take turns
at the lock, and a key that is already stored is never written twice. Floats are written with
`repr`, so numbers read back bit for bit. Each batch's final parameters go to
`params/<batch>.npz`, written (atomically) before the rows that point to it.
"""

import contextlib
import csv
import io
import json
import logging
import math
import os
import re
import socket
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from filelock import FileLock

from uat import __version__, custom
from uat.errors import UserError

log = logging.getLogger("uat.store")

COLUMNS = (
    "key", "study", "target", "activation", "width", "depth", "seed", "optimizer", "loss",
    "n_params", "steps", "train_loss", "train_mse", "test_mse", "max_abs_err", "accuracy",
    "test_ce", "seconds", "status", "stop", "n_in", "n_out", "n_train", "n_test", "batch",
    "uat_version", "finished_at", "dead_start", "dead_end", "pieces",
)
# tables written before the diagnostics columns (uat.diagnose) read as if those were empty;
# the next run that stores into one rewrites it with the full header first
OLDER = {COLUMNS[:-3]: 3}
CONFIG = ("target", "activation", "width", "depth", "seed", "optimizer", "n_train", "n_test")
DTYPES = {"key": str, "study": str, "target": str, "activation": str, "optimizer": str,
          "loss": str, "status": str, "stop": str, "batch": str, "uat_version": str,
          "finished_at": str}


# floats must read back bit for bit: pandas >= 3 does so by default (and deprecates the option)
_EXACT = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def study_dir(out, study: str) -> Path:
    return Path(out) / study


def table_path(out, study: str) -> Path:
    return study_dir(out, study) / "runs.csv"


def check_writable(out, study: str) -> None:
    """Raise OSError now (one line at the command line) if the study's folder cannot be
    created or written, rather than after training a batch that could not be stored."""
    d = study_dir(out, study)
    d.mkdir(parents=True, exist_ok=True)
    probe = d / f".write-test.{os.getpid()}"
    with open(probe, "wb") as fh:
        fh.write(b"uat")
    probe.unlink()


def _lock(out, study: str) -> FileLock:
    d = study_dir(out, study)
    d.mkdir(parents=True, exist_ok=True)
    return FileLock(str(d / ".runs.lock"))


def _whole_lines(path: Path) -> str:
    """The file's text up to its last newline: a torn last line (a killed write) is dropped."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return ""
    return text[: text.rfind("\n") + 1]


class Bad(NamedTuple):
    """A row of the table that is not a row uat wrote: where it is and what is wrong."""

    line: int  # 1-based line number in runs.csv (the header is line 1)
    reason: str
    text: str  # the line as it is in the file


STATUSES = ("ok", "diverged", "failed")
INTEGERS = ("width", "depth", "seed", "n_params", "steps", "n_in", "n_out", "n_train",
            "n_test", "dead_start", "dead_end")
FLOATS = ("train_loss", "train_mse", "test_mse", "max_abs_err", "accuracy", "test_ce",
          "seconds", "pieces")
NONNEGATIVE = ("train_mse", "test_mse", "max_abs_err", "test_ce", "seconds", "pieces")
REQUIRED = ("key", "study", "target", "activation", "optimizer", "loss", "status", "width",
            "depth", "seed")
_KEY = re.compile(r"[A-Za-z0-9_-]+")
_reported: set[tuple] = set()  # (path, size, line): each bad row is reported once per state


def _problem(fields: list[str], study: str) -> str | None:
    """What is wrong with one parsed row, or None: types, ranges, missing values."""
    if len(fields) != len(COLUMNS):
        return f"has {len(fields)} fields, the table has {len(COLUMNS)}"
    row = dict(zip(COLUMNS, fields, strict=True))
    for c in REQUIRED:
        if not row[c]:
            return f"`{c}` is empty"
    if not _KEY.fullmatch(row["key"]):
        return f"`key` {row['key'][:20]!r} is not a run key"
    if row["study"] != study:
        return f"`study` is {row['study'][:20]!r}, not {study!r}"
    if row["status"] not in STATUSES:
        return f"`status` {row['status'][:20]!r} is not one of {', '.join(STATUSES)}"
    if row["loss"] not in ("mse", "bce"):
        return f"`loss` {row['loss'][:20]!r} is not mse or bce"
    for c in INTEGERS:
        if row[c] and not (row[c].isdigit() and len(row[c]) < 12):
            return f"`{c}` {row[c][:20]!r} is not a whole number >= 0"
    for c in FLOATS:
        if not row[c]:
            continue
        try:
            v = float(row[c])
        except ValueError:
            return f"`{c}` {row[c][:20]!r} is not a number"
        if c in NONNEGATIVE and v < 0:
            return f"`{c}` is negative ({v:g})"
        if c == "accuracy" and not (0 <= v <= 1 or math.isnan(v)):
            return f"`accuracy` {v:g} is not between 0 and 1"
    if row["status"] == "ok" and not (row["test_mse"] and math.isfinite(float(row["test_mse"]))):
        return "`test_mse` is missing or not finite in a run whose status is ok"
    return None


def inspect(out, study: str) -> tuple[pd.DataFrame, list[Bad]]:
    """The stored table's valid rows and the rows that are not (with line numbers).

    A row is bad when it does not parse into the table's columns, a value has the wrong type
    or range, a value a run always has is missing, or its key is already on an earlier line
    (the first one counts). Bad rows never enter a figure, a median or a count; `uat repair`
    (or the next `uat run`) moves them aside. The header must be this uat's (one-line error
    otherwise). A torn last line (a killed write) is not a row at all.
    """
    header, good, bad = _scan(out, study)
    if not good:
        return _empty(), bad
    table = pd.read_csv(io.StringIO("\n".join([header, *good]) + "\n"), dtype=DTYPES,
                        keep_default_na=False, na_values=["nan", ""], **_EXACT)
    return table, bad


def _scan(out, study: str, order: list | None = None) -> tuple[str, list[str], list[Bad]]:
    """(header line, the valid rows' lines as written, the bad rows) of the stored table;
    `order` (a list) receives every row's text in file order, good rows as they read."""
    path = table_path(out, study)
    text = _whole_lines(path)
    if not text:
        return ",".join(COLUMNS), [], []
    header = text[: text.index("\n")]
    pad = OLDER.get(tuple(header.split(",")), 0)
    if pad:
        header = ",".join(COLUMNS)
    elif tuple(header.split(",")) != COLUMNS:
        raise UserError(
            f"{path}: written by another uat version (columns differ); move it away or run "
            f"with --fresh"
        )
    lines = text.split("\n")  # not splitlines: a stray \f or \r in a field is not a line end
    good, bad, seen = [], [], {}
    reader = csv.reader(io.StringIO(text))
    next(reader)
    start = 2
    try:
        for fields in reader:
            end = reader.line_num
            raw = "\n".join(lines[start - 1:end])
            if pad and len(fields) != len(COLUMNS) - pad:  # counted against its own header
                reason = f"has {len(fields)} fields, the table has {len(COLUMNS) - pad}"
            else:
                reason = _problem(fields + [""] * pad, study)
            if reason is None and fields[0] in seen:
                reason = f"its key is already on line {seen[fields[0]]}"
            if reason is None:
                seen[fields[0]] = start
                good.append(raw + "," * pad)  # an older row, as the full header reads it
            else:
                bad.append(Bad(start, reason, raw))  # kept as it is in the file
            if order is not None:
                order.append(good[-1] if reason is None else raw)
            start = end + 1
    except csv.Error as err:  # e.g. a stray quote: the rest of the file is one field
        bad.append(Bad(start, f"cannot be read as CSV ({err})", "\n".join(lines[start - 1:])))
        if order is not None:
            order.append(bad[-1].text)
    return header, good, bad


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=DTYPES.get(c, float)) for c in COLUMNS})


def read(out, study: str) -> pd.DataFrame:
    """The stored table's valid rows (empty, with every column, when nothing is stored yet);
    each bad row is reported once as a warning naming its line (see `inspect`)."""
    table, bad = inspect(out, study)
    path = table_path(out, study)
    for b in bad:
        mark = (str(path), path.stat().st_size, b.line)
        if mark not in _reported:
            _reported.add(mark)
            log.warning("%s line %d: %s; the row is ignored (uat repair %s moves it aside)",
                        path, b.line, b.reason, study)
    return table


def repair(out, study: str) -> tuple[int, Path | None]:
    """Move the table's bad rows aside: they go, with their line numbers and reasons, to
    `<study>/runs.rejected-<time>.txt`, and runs.csv keeps the valid rows exactly as they were
    written (rewritten atomically under the table's lock). Returns (rows moved, that file)."""
    path = table_path(out, study)
    with _lock(out, study):
        header, good, bad = _scan(out, study)
        if not bad:
            return 0, None
        aside = path.with_name(f"runs.rejected-{time.strftime('%Y%m%d-%H%M%S')}.txt")
        n = 1
        while aside.exists():
            aside = aside.with_name(f"runs.rejected-{time.strftime('%Y%m%d-%H%M%S')}-{n}.txt")
            n += 1
        note = "".join(f"# line {b.line}: {b.reason}\n{b.text}\n" for b in bad)
        atomic_write(aside, note.encode())
        atomic_write(path, ("\n".join([header, *good]) + "\n").encode())
    return len(bad), aside


def stored_keys(out, study: str) -> set[str]:
    return set(read(out, study)["key"])


def read_meta(out, study: str) -> dict:
    """The study's meta.json ({} before its first run)."""
    path = study_dir(out, study) / "meta.json"
    return json.loads(path.read_text()) if path.exists() else {}


def check_meta(out, study: str, meta: Mapping) -> None:
    """Refuse a table whose runs were written under another study definition, key scheme or
    parameter layout (its stored networks would be read wrongly).

    `meta` = {"study": name, "key_scheme": int, "params_layout": int}; the first run writes it
    to meta.json.
    """
    path = study_dir(out, study) / "meta.json"
    if path.exists():
        stored = read_meta(out, study)
        for field in meta:
            if stored.get(field) != meta[field]:
                raise UserError(
                    f"{path.parent}: stored runs have {field} = {stored.get(field)!r}, this "
                    f"study has {meta[field]!r}; run with --fresh (make: FRESH=1) to move the "
                    f"old table aside"
                )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (json.dumps(dict(meta), indent=1) + "\n").encode())


def check_configs(table: pd.DataFrame, runs: Iterable) -> None:
    """Every stored row whose key is one of `runs` must have that run's configuration."""
    by_key = {r.key: r for r in runs}
    rows = table[table["key"].isin(list(by_key))]
    for row in rows.itertuples(index=False):
        run = by_key[row.key]
        for field in CONFIG:
            stored, defined = str(getattr(row, field)), str(getattr(run, field))
            if field == "target":  # a data file moved with its project: same hash, same run
                stored, defined = custom.key_form(stored), custom.key_form(defined)
            if stored != defined:
                raise UserError(
                    f"stored run {row.key} has {field} = {getattr(row, field)!r} but the study "
                    f"defines {getattr(run, field)!r} for that key; run with --fresh"
                )


def atomic_write(path: Path, payload: bytes) -> None:
    """Write a file so that readers see the old or the new content, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, str(path)) from err


def _csv(rows: Iterable[Mapping], header: bool) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in COLUMNS])
    return buf.getvalue().encode()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return repr(float(value))  # shortest text that reads back to the same double
    if isinstance(value, np.integer):
        return int(value)
    return value


def append(out, study: str, rows: list[dict], params: Mapping[str, np.ndarray] | None = None,
           batch: str = "") -> int:
    """Store one finished batch; returns how many rows were new (stored keys are skipped).

    Each row gets `study`, `batch`, `uat_version` and `finished_at`. Under the lock: the
    parameters are written first, then the new rows in one write at the end of the table.
    """
    path = table_path(out, study)
    with _lock(out, study):
        text = _whole_lines(path)
        if path.exists() and os.path.getsize(path) != len(text.encode()):
            with open(path, "r+b") as fh:  # cut off a torn last line left by a killed writer
                fh.truncate(len(text.encode()))
        have = set(read(out, study)["key"]) if text else set()
        new = [r for r in rows if r["key"] not in have]
        if not new:
            return 0
        if text and tuple(text[: text.index("\n")].split(",")) in OLDER:
            in_order: list[str] = []  # rewrite an older table with the full header, in place
            header, _, _ = _scan(out, study, in_order)
            text = "\n".join([header, *in_order]) + "\n"
            atomic_write(path, text.encode())
        if params:
            pdir = study_dir(out, study) / "params"
            pdir.mkdir(exist_ok=True)
            buf = io.BytesIO()
            np.savez(buf, **{r["key"]: params[r["key"]] for r in new if r["key"] in params})
            atomic_write(pdir / f"{batch}.npz", buf.getvalue())
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        extra = {"study": study, "batch": batch, "uat_version": __version__, "finished_at": stamp}
        payload = _csv(({**r, **extra} for r in new), header=not text)
        size = len(text.encode())
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError as err:  # a full disk: leave the table as it was, name the file
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise OSError(err.errno, err.strerror, str(path)) from err
        finally:
            os.close(fd)
        return len(new)


def owner() -> str:
    """This process, for claims: host, pid and the process's start time (a pid may be reused
    once the process is gone; its start time is not)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_started(os.getpid())}"


def _started(pid: int) -> str:
    """A process's start time in clock ticks (Linux /proc), "" where unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _live(who: str) -> bool:
    """Whether the process behind a claim still runs: on this host its pid and start time must
    match; a claim from another host is taken as live (it is released when that run ends)."""
    host, pid, start = (who.split(":") + ["", "", ""])[:3]
    if host != socket.gethostname():
        return True
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not start or _started(int(pid)) == start


def claim(out, study: str, keys: list[str], me: str) -> list[str]:
    """Claim runs to train: of `keys`, those neither stored nor claimed by another live run are
    written to `<study>/claims.csv` under the table's lock and returned. Two runs of one study
    into one folder thus share the work instead of each training all of it."""
    path = study_dir(out, study) / "claims.csv"
    with _lock(out, study):
        stored = {line.split(",", 1)[0] for line in _whole_lines(table_path(out, study))
                  .split("\n")[1:] if line}
        held = {}
        if path.exists():
            for line in path.read_text().split("\n"):
                key, _, who = line.partition(",")
                if key and who:
                    held[key] = who
        alive = {who: who == me or _live(who) for who in set(held.values())}
        mine = [k for k in keys if k not in stored and (k not in held or held[k] == me or
                                                        not alive[held[k]])]
        keep = {k: w for k, w in held.items() if alive[w] and k not in stored}
        keep.update({k: me for k in mine})
        atomic_write(path, "".join(f"{k},{w}\n" for k, w in keep.items()).encode())
    return mine


def release(out, study: str, me: str) -> None:
    """Drop this run's claims (when it ends, finished or not)."""
    path = study_dir(out, study) / "claims.csv"
    if not path.exists():
        return
    with _lock(out, study):
        lines = [line for line in path.read_text().split("\n")
                 if line and line.partition(",")[2] != me]
        if lines:
            atomic_write(path, ("\n".join(lines) + "\n").encode())
        else:
            path.unlink(missing_ok=True)


FAILED = ("key", "batch", "reason", "at")


def record_failed(out, study: str, keys: list[str], batch: str, reason: str) -> None:
    """Note runs that could not be trained (their worker died twice) in `<study>/failed.csv`:
    the table itself only holds trained networks, and the next run tries them again."""
    path = study_dir(out, study) / "failed.csv"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    with _lock(out, study):
        if not path.exists():
            writer.writerow(FAILED)
        for key in keys:
            writer.writerow([key, batch, reason, stamp])
        with open(path, "a") as fh:
            fh.write(buf.getvalue())


def load_params(out, study: str, key: str, layout: int | None = None) -> np.ndarray:
    """The final parameters (P,) of the run `key`, as trained. With `layout`, refuse a table
    whose meta.json records another parameter layout (uat.network.LAYOUT): its networks
    would be read wrongly."""
    if layout is not None and (stored := read_meta(out, study).get("params_layout")) != layout:
        raise UserError(
            f"{study_dir(out, study)}: stored networks have params_layout = {stored!r}, this uat "
            f"reads {layout!r}; run the study again with --fresh (make: FRESH=1) to retrain them")
    table = read(out, study)
    match = table.loc[table["key"] == key, "batch"]
    if match.empty:
        raise UserError(f"{table_path(out, study)}: no run with key {key}")
    with np.load(study_dir(out, study) / "params" / f"{match.iloc[0]}.npz") as npz:
        return npz[key]


def move_aside(out, study: str) -> Path | None:
    """`--fresh`: rename the study's folder to <study>.old-<time>; never delete anything."""
    d = study_dir(out, study)
    if not d.exists():
        return None
    with _lock(out, study):
        target = d.with_name(f"{d.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while target.exists():
            target = target.with_name(f"{d.name}.old-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
            n += 1
        d.rename(target)
    return target

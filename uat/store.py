"""The results table: `<out>/<study>/runs.csv`, one row per trained network, append-only.

Why append-only CSV: it is readable by anything (pandas, a spreadsheet, `grep`), resuming is
"skip the keys already there", and appending one batch is one `write` of whole lines under a
file lock. A process killed in the middle of that write leaves at most a torn last line, which
`read` ignores and the next `append` cuts off; two processes appending to one table take turns
at the lock, and a key that is already stored is never written twice. Floats are written with
`repr`, so numbers read back bit for bit. Each batch's final parameters go to
`params/<batch>.npz`, written (atomically) before the rows that point to it.
"""

import csv
import io
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from filelock import FileLock

from uat import __version__
from uat.errors import UserError

COLUMNS = (
    "key", "study", "target", "activation", "width", "depth", "seed", "optimizer", "loss",
    "n_params", "steps", "train_loss", "train_mse", "test_mse", "max_abs_err", "accuracy",
    "test_ce", "seconds", "status", "stop", "n_in", "n_out", "n_train", "n_test", "batch",
    "uat_version", "finished_at",
)
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


def read(out, study: str) -> pd.DataFrame:
    """The stored table (empty, with every column, when nothing is stored yet)."""
    text = _whole_lines(table_path(out, study))
    if not text:
        return pd.DataFrame({c: pd.Series(dtype=DTYPES.get(c, float)) for c in COLUMNS})
    header = text[: text.index("\n")].split(",")
    if tuple(header) != COLUMNS:
        raise UserError(
            f"{table_path(out, study)}: written by another uat version (columns differ); "
            f"move it away or run with --fresh"
        )
    return pd.read_csv(io.StringIO(text), dtype=DTYPES, keep_default_na=False,
                       na_values=["nan", ""], **_EXACT)


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
            if str(getattr(row, field)) != str(getattr(run, field)):
                raise UserError(
                    f"stored run {row.key} has {field} = {getattr(row, field)!r} but the study "
                    f"defines {getattr(run, field)!r} for that key; run with --fresh"
                )


def atomic_write(path: Path, payload: bytes) -> None:
    """Write a file so that readers see the old or the new content, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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
        if params:
            pdir = study_dir(out, study) / "params"
            pdir.mkdir(exist_ok=True)
            buf = io.BytesIO()
            np.savez(buf, **{r["key"]: params[r["key"]] for r in new if r["key"] in params})
            atomic_write(pdir / f"{batch}.npz", buf.getvalue())
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        extra = {"study": study, "batch": batch, "uat_version": __version__, "finished_at": stamp}
        payload = _csv(({**r, **extra} for r in new), header=not text)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        return len(new)


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

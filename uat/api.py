"""The Python API for notebooks, mirroring the CLI: `uat.run(...)` and `uat.load(...)`."""

import dataclasses
import logging
from pathlib import Path

import pandas as pd

from uat import custom, runner, store, study, targets
from uat.errors import UserError

STUDIES_DIR = Path("studies")
log = logging.getLogger("uat.api")


def studies(studies_dir=STUDIES_DIR) -> Path:
    """The folder of study files: `studies_dir` when it exists, else the studies uat ships
    (so an installed uat runs `uat run width` from any folder)."""
    if Path(studies_dir).is_dir():
        return Path(studies_dir)
    here = Path(__file__).resolve().parent
    for folder in (here / "studies", here.parent / "studies"):  # installed; a source tree
        if folder.is_dir():
            return folder
    return Path(studies_dir)


def find_study(name_or_path, studies_dir=STUDIES_DIR) -> Path:
    """A study file from a path, or from a name such as "width" (studies/width.toml, or the
    built-in one when there is no such folder here)."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    folder = studies(studies_dir)
    candidate = folder / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    known = sorted(f.stem for f in folder.glob("*.toml"))
    raise UserError(f"{name_or_path}: no such study file (known in {studies_dir}/: "
                    f"{', '.join(known) or 'none'})")


def run(the_study, scale: str = "default", jobs: int = 1, backend: str = "loky",
        scheduler: str | None = None, out="results", fresh: bool = False, overrides=(),
        batch_size: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Train what is not stored yet and return the study's table (its runs at `scale`).

    the_study: a study name ("width"), a path to a study file, or a uat.study.Study.
    Raises the same one-line UserErrors as `uat run`.
    """
    s = the_study if isinstance(the_study, study.Study) else study.load(
        find_study(the_study), scale, overrides)
    if fresh:
        store.move_aside(out, s.name)
    runner.run_study(s, out, jobs, backend, scheduler, batch_size, progress)
    return table(s, out)


def stored(s: study.Study, out="results") -> study.Study:
    """The study as it is stored: every run of its table, whichever scale or `--set` made it
    (each row holds the configuration that defines it), as a Study at scale "stored"."""
    df = store.read(out, s.name)
    fields = list(study.Run.__dataclass_fields__)
    here = {custom.key_form(r.target): r.target for r in s.runs}  # a moved data file
    runs, gone = {}, set()
    for row in df[fields].drop_duplicates().itertuples(index=False):
        config = {f: (int(v) if f in ("width", "depth", "seed", "n_train", "n_test") else v)
                  for f, v in zip(fields, row, strict=True)}
        config["target"] = here.get(custom.key_form(config["target"]), config["target"])
        if config["target"] not in here.values() and custom.short(config["target"]):
            try:  # a file that is gone, or was edited since: those runs cannot be redrawn
                targets.get(config["target"])
            except UserError:
                gone.add(custom.short(config["target"]))
                continue
        run = study.Run(**config)
        runs.setdefault(run.key, run)
    for label in sorted(gone):
        log.warning("%s: stored runs on %s are left out: that file is gone or has changed "
                    "since they were trained", s.name, label)
    return dataclasses.replace(s, scale="stored", runs=tuple(runs.values()))


def reading(path, scale: str, out="results") -> study.Study:
    """The study to show, plot or judge: at `scale`, or as stored ("stored", or when the scale
    has nothing stored but the table has runs, e.g. made with --set)."""
    s = study.load(path, "default" if scale == "stored" else scale)
    if scale == "stored" or (table(s, out).empty and not store.read(out, s.name).empty):
        return stored(s, out)
    return s


def table(s: study.Study, out="results") -> pd.DataFrame:
    """The stored rows of the study's runs (at the scale it was loaded with)."""
    df = store.read(out, s.name)
    by_key = {r.key: r.target for r in s.runs}
    df = df[df["key"].isin(by_key)].reset_index(drop=True)
    df["target"] = df["key"].map(by_key)  # a moved data file: the study says where it is now
    return df


def load(the_study, out="results", scale: str | None = None) -> pd.DataFrame:
    """A stored table. With `scale`, only the rows of the study's runs at that scale;
    without, every stored row (the table may also hold runs of other scales)."""
    if isinstance(the_study, study.Study):
        return table(the_study, out)
    if scale is not None:
        return table(study.load(find_study(the_study), scale), out)
    try:
        name = study.load(find_study(the_study)).name
    except UserError:
        name = str(the_study)  # a study stored under `out` whose file is elsewhere
    path = store.table_path(out, name)
    if not path.exists():
        raise UserError(f"{path}: nothing stored for study '{name}' yet; run it first")
    return store.read(out, name)

"""The Python API for notebooks, mirroring the CLI: `uat.run(...)` and `uat.load(...)`."""

from pathlib import Path

import pandas as pd

from uat import runner, store, study
from uat.errors import UserError

STUDIES_DIR = Path("studies")


def find_study(name_or_path, studies_dir=STUDIES_DIR) -> Path:
    """A study file from a path, or from a name such as "width" (studies/width.toml)."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    candidate = Path(studies_dir) / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    known = sorted(f.stem for f in Path(studies_dir).glob("*.toml"))
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


def table(s: study.Study, out="results") -> pd.DataFrame:
    """The stored rows of the study's runs (at the scale it was loaded with)."""
    df = store.read(out, s.name)
    return df[df["key"].isin({r.key for r in s.runs})].reset_index(drop=True)


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

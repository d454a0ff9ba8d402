"""One figure per theorem, drawn from a study's results table joined with its theory table.

Each figure module (`width`, `depth`, `activation`, `separation`, `lecture`) has
`figure(joined, study) -> matplotlib Figure` and `findings(joined, study) -> Findings`: what a
reader should see, computed from the numbers (never hard-coded). Conventions everywhere:
the median over seeds as a line with a min-max band, theory dashed and labelled, log axes
where errors span decades.
"""

import importlib
from pathlib import Path
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, safe in workers and CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from uat import store  # noqa: E402
from uat.theory import table as floors

FIGURE_MODULES = ("width", "depth", "activation", "separation", "lecture")
THEORY = dict(color="0.15", linestyle="--", linewidth=1.2)  # theory lines: dashed, dark
FLOOR_TINY = 1e-16  # errors are clipped here on log axes (an exact 0 has no log)


class Findings(NamedTuple):
    """What a figure shows, in numbers, for the report."""

    caption: str  # one paragraph with the measured numbers
    table: pd.DataFrame  # a small table of the key numbers
    verdict: str  # one sentence: what a reader should see, and whether the data show it
    confirmed: bool | None  # True/False when the theory makes a checkable claim, else None


def style() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "axes.titlesize": 10,
                         "legend.fontsize": 7.5, "legend.title_fontsize": 8})


def band(ax, df: pd.DataFrame, x: str, y: str, label: str, color, marker="o",
         linestyle="-", clip: float = FLOOR_TINY) -> pd.DataFrame:
    """Median over seeds as a line, min-max over seeds as a band; returns the summary."""
    s = df.groupby(x)[y].agg(["median", "min", "max", "size"]).reset_index()
    s[["median", "min", "max"]] = s[["median", "min", "max"]].clip(lower=clip)
    ax.fill_between(s[x], s["min"], s["max"], color=color, alpha=0.18, linewidth=0)
    ax.plot(s[x], s["median"], color=color, marker=marker, markersize=3.5, linestyle=linestyle,
            linewidth=1.4, label=label)
    return s


def log2_width_axis(ax, values) -> None:
    ax.set_xscale("log", base=2)
    ticks = sorted(set(int(v) for v in values))
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.minorticks_off()


def joined(the_study, out="results") -> pd.DataFrame:
    """The study's stored runs with the theory columns (floors cached under `out`)."""
    from uat import api

    j = floors.join(api.table(the_study, out), floors.for_study(the_study, out))
    j.attrs["out"] = str(out)  # figures that redraw trained nets load their parameters there
    return j


def trained_output(out, row: pd.Series, X: np.ndarray) -> np.ndarray:
    """The stored network of one results row evaluated at X: (n, n_s) -> (m, n_s)."""
    from uat import network, study

    run = study.Run(**{f: row[f] for f in study.Run.__dataclass_fields__})
    theta = store.load_params(out, row["study"], row["key"], network.LAYOUT)[None]
    return network.predict(theta, X, run.shape)[0]


def module(the_study):
    if the_study.figure not in FIGURE_MODULES:
        return None
    return importlib.import_module(f"uat.plots.{the_study.figure}")


def save(fig, out, name: str) -> list[Path]:
    """`<out>/<name>/<name>.png` and `.pdf` (vector, for papers and slides)."""
    d = store.study_dir(out, name)
    d.mkdir(parents=True, exist_ok=True)
    paths = [d / f"{name}.png", d / f"{name}.pdf"]
    for p in paths:
        fig.savefig(p, bbox_inches="tight")
    plt.close(fig)
    return paths


def draw(the_study, out="results", table: pd.DataFrame | None = None) -> list[Path]:
    """Draw and save the study's figure; returns the files (none for figure = "none").
    `table`: the study's joined table if the caller has it already (see `joined`)."""
    mod = module(the_study)
    if mod is None:
        return []
    j = joined(the_study, out) if table is None else table
    if j.empty:
        return []
    style()
    return save(mod.figure(j, the_study), out, the_study.name)


"""One figure per theorem, drawn from a study's results table joined with its theory table.

Each figure module (`width`, `depth`, `activation`, `separation`, `lecture`, and `grid` for
any grid) has `misfit(runs) -> str | None` (why the grid does not fit it, checked before a
run), `figure(joined, study) -> matplotlib Figure` and `findings(joined, study) -> Findings`:
what a reader should see, computed from the numbers (never hard-coded); the verdicts are computed
separately (uat.theory.checks). Conventions everywhere: a line is the median over seeds and its
band the range over seeds (min to max), and every legend says so; floors of theory are dashed
and labelled "exact" only when some network attains them ("lower bound" otherwise); colours
are fixed per activation and panels ordered by a fixed target order, whatever the row order;
legends sit below the panels, off the data. Styles are set inside `rc_context`, so importing
uat in a notebook changes nothing.
"""

import hashlib
import importlib
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from uat import spec, store
from uat.errors import UserError
from uat.theory import table as floors

FIGURE_MODULES = ("width", "depth", "activation", "separation", "lecture", "grid")
THEORY = dict(color="0.15", linestyle="--", linewidth=1.2)  # exact floors: dashed, dark
BOUND = dict(color="0.15", linestyle=":", linewidth=1.4)  # lower bounds: dotted
UPPER = dict(color="0.4", linestyle="-.", linewidth=1.0)  # upper bounds and ceilings
FLOOR_TINY = 1e-16  # errors are clipped here on log axes (an exact 0 has no log)
FONT = 9.5  # points; figures are at most MAX_WIDTH inches wide, so text stays >= 10 px in the
MAX_WIDTH = 12.0  # report's 60em (960 px) column: 9.5 pt * 960 / (72 * 12) = 10.6 px
RC = {"figure.dpi": 110, "savefig.dpi": 150, "font.size": FONT, "axes.titlesize": FONT,
      "axes.labelsize": FONT, "xtick.labelsize": FONT - 1, "ytick.labelsize": FONT - 1,
      "legend.fontsize": FONT, "legend.title_fontsize": FONT}
_TAB, _DARK = sns.color_palette("tab10", 10), sns.color_palette("dark", 10)
ACTIVATION_COLORS = {  # fixed per activation, whatever the study's order; reds are polynomials
    "tanh": _TAB[0], "sigmoid": _TAB[1], "relu": _TAB[2], "gaussian": _TAB[4],
    "softplus": _TAB[5], "sin": _TAB[6], "cos": _TAB[8], "elu": _TAB[9], "gelu": _TAB[7],
    "swish": _DARK[0], "leaky_relu": _DARK[2],
}
TARGET_ORDER = ["sin", "cos", "abs", "step", "square", "sign", "sawtooth", "nmr", "circle",
                "bump", "hanin_sellke", "product", "paraboloid", "xor", "moons", "circles",
                "disk"]


class Findings(NamedTuple):
    """What a figure shows, in numbers, for the report (the verdict is uat.theory.checks')."""

    caption: str  # one paragraph with the measured numbers, naming the statistic
    table: pd.DataFrame  # a small table of the key numbers


@contextmanager
def style():
    """Matplotlib and seaborn settings for uat's figures, undone on exit."""
    with plt.rc_context(RC), sns.axes_style("whitegrid"):
        yield


def color(activation: str):
    """The fixed colour of an activation: a named one, a red by degree for polynomials and
    the identity, else one picked by a hash of the name (stable across runs and studies)."""
    from uat import activations

    act = activations.get(activation)
    if act.poly_degree is not None:  # reds, darker with the degree (identity: grey)
        d = act.poly_degree
        shade = 2 if d == 2 else 3 if d == 3 else 4 if d == 4 else 5 if d <= 8 else \
            6 if d <= 16 else 7
        return "0.45" if d == 1 else sns.color_palette("Reds", 8)[shade]
    name = spec.parse(act.name)[0]
    if name in ACTIVATION_COLORS:
        return ACTIVATION_COLORS[name]
    h = int(hashlib.sha256(act.name.encode()).hexdigest(), 16)
    return sns.color_palette("husl", 16)[h % 16]


def ordered(names) -> list[str]:
    """Target (or activation) names in uat's fixed order: known families first, then by name."""
    def rank(t: str):
        fam = t.split("(")[0].strip()  # labels of data targets are not specs
        return (TARGET_ORDER.index(fam) if fam in TARGET_ORDER else len(TARGET_ORDER), t)
    return sorted(dict.fromkeys(names), key=rank)


def activations_ordered(names) -> list[str]:
    """Activations: the non-polynomial ones in ACTIVATION_COLORS order, then polynomials by
    degree."""
    from uat import activations

    def rank(a: str):
        act = activations.get(a)
        name = spec.parse(act.name)[0]
        if act.poly_degree is not None:
            return (2, act.poly_degree, a)
        keys = list(ACTIVATION_COLORS)
        return (0, keys.index(name), a) if name in keys else (1, 0, a)
    return sorted(dict.fromkeys(names), key=rank)


def seeds_text(df: pd.DataFrame, by: list[str]) -> str:
    """"5 seeds" or "3 to 10 seeds": how many seeds each line's median is over."""
    n = df.groupby(by).size()
    lo, hi = (int(n.min()), int(n.max())) if len(n) else (0, 0)
    return f"{lo} seeds" if lo == hi else f"{lo} to {hi} seeds"


def stat_title(df: pd.DataFrame, by: list[str]) -> str:
    """The legend title that says what a line and a band are."""
    return f"lines: median over {seeds_text(df, by)}; bands: min to max"


def floor_word(exact: bool) -> str:
    """How a floor is labelled: "exact floor" only when some network attains it."""
    return "exact floor" if exact else "lower bound"


def floor_line(ax, x, y, exact: bool, label: str, color=None, **kw) -> None:
    """A floor of theory: dashed when exact (attained), dotted when only a lower bound; the
    label ends with which one it is."""
    style = dict(THEORY if exact else BOUND)
    if color is not None:
        style["color"] = color
    ax.plot(x, np.clip(np.asarray(y, float), FLOOR_TINY, None), **{**style, **kw},
            label=f"{label}: {floor_word(exact)}")


def legend_below(fig, axes, title: str, ncol: int = 4) -> None:
    """One legend for the figure, below its panels (off the data), every distinct label once."""
    handles, labels = [], []
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels and not lab.startswith("_"):
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
               frameon=False, title=title)


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


def check_fit(the_study) -> None:
    """UserError (one line) when the study's grid does not fit its figure: a theorem figure
    drawn on a grid it was not made for would show nonsense without a word."""
    mod = module(the_study)
    why = mod.misfit(the_study.runs) if mod is not None else None
    if why:
        raise UserError(f"{the_study.path}: study.figure: '{the_study.figure}' {why}; use "
                        f"figure = \"grid\" (any grid) or change the grid")


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
    check_fit(the_study)
    j = floors.joined(the_study, out) if table is None else table
    if j.empty:
        return []
    with style():
        return save(mod.figure(j, the_study), out, the_study.name)


"""A figure for any grid: test error against the axis the grid varies (width, else depth, else
activation), one panel per target (and per value of the other of width and depth when it
varies too), one colour per activation, the floors and ceilings of theory overlaid where they
exist; and for each 1-D target its fits, in its own units (a data file's x mapped back). The
default figure of a study that names none, e.g. a user's own function."""

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from uat import summary, targets
from uat.errors import UserError
from uat.plots import (
    UPPER,
    Findings,
    activations_ordered,
    band,
    color,
    floor_line,
    legend_below,
    log2_width_axis,
    ordered,
    stat_title,
    trained_output,
)
from uat.theory import table as floors

LINES = ["-", "--", ":", "-."]  # one per optimizer
MAX_FITS = 4  # 1-D targets whose fits are drawn (more: error panels only)


def axes_of(df: pd.DataFrame) -> tuple[str, str | None]:
    """(x axis, row axis or None): width if it varies, else depth, else activation."""
    varies = [a for a in ("width", "depth") if df[a].nunique() > 1]
    if not varies:
        return "activation", None
    return varies[0], (varies[1] if len(varies) > 1 else None)


def metric(df: pd.DataFrame) -> tuple[str, str]:
    """(column, label): test MSE for regression, test cross-entropy for classification."""
    return ("test_ce", "test cross-entropy") if (df["loss"] == "bce").all() else (
        "test_mse", "test MSE")


def misfit(runs) -> str | None:
    """Any grid fits this figure."""
    return None


def figure(joined: pd.DataFrame, the_study):
    df = summary.label(joined)
    df["spec"] = joined["target"].to_numpy()  # labels of data targets are not specs
    x, row = axes_of(df)
    opts = list(dict.fromkeys(df["optimizer"]))
    panels = [(t, r) for t in ordered(df["target"])
              for r in (sorted(df.loc[df["target"] == t, row].unique()) if row else [None])]
    fits = [t for t in ordered(df["target"]) if _one_d(df.loc[df["target"] == t, "spec"])]
    fits = fits if len(fits) <= MAX_FITS else []
    ncol = min(3, len(panels) + len(fits))
    nrow = -(-(len(panels) + len(fits)) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.0 * ncol, 3.2 * nrow), squeeze=False)
    for ax, target in zip(axes.flat[len(panels):], fits, strict=False):
        _fit(ax, df[df["target"] == target], joined.attrs.get("out", "results"))
    for ax, (target, r) in zip(axes.flat, panels, strict=False):
        d = df[(df["target"] == target) & ((df[row] == r) if row else True)]
        col, ylabel = metric(d)
        if x == "activation":
            _by_activation(ax, d, col)
        else:
            for act in activations_ordered(d["activation"]):
                for i, opt in enumerate(opts):
                    a = d[(d["activation"] == act) & (d["optimizer"] == opt)]
                    if a.empty:
                        continue
                    name = act if len(opts) == 1 else f"{act}, {opt}"
                    band(ax, a, x, col, name, color(act), linestyle=LINES[i % len(LINES)])
                    if col == "test_mse":
                        _theory(ax, a, x, color(act))
            if x == "width" and (d["width"] > 0).all():
                log2_width_axis(ax, d["width"])
            ax.set_xlabel("width (hidden units)" if x == "width" else "depth (hidden layers)")
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.set_title(target if row is None else f"{target}, {row} {r}")
    for ax in axes.flat[len(panels) + len(fits):]:
        ax.axis("off")
    fig.suptitle(the_study.title)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))  # room for the title
    legend_below(fig, axes, stat_title(joined, ["target", "activation", "width", "depth",
                                                "optimizer"]), ncol=3)
    for handle, text in zip(fig.legends[0].legend_handles, fig.legends[0].get_texts(),
                            strict=True):
        if text.get_text().startswith("theory"):  # drawn in each line's colour; grey here
            handle.set_color("0.3")
    return fig


def _theory(ax, a: pd.DataFrame, x: str, colour) -> None:
    """The floor (dashed when attained, dotted when a lower bound) and the ceiling of theory
    for one line, where the oracles give them."""
    th = a.groupby(x)[["floor", "floor_exact", "floor_kind", "ceiling", "ceiling_kind"]].first()
    fl = th[np.isfinite(th["floor"].astype(float))]
    for exact in (True, False):  # in the line's colour; the findings table names each kind
        part = fl[fl["floor_exact"].astype(bool) == exact]
        if not part.empty:
            floor_line(ax, part.index, part["floor"], exact, "theory", colour, linewidth=1.0,
                       marker="_", markersize=9)  # a floor at one width is a tick
    ce = th[np.isfinite(th["ceiling"].astype(float))]
    if not ce.empty:
        ax.plot(ce.index, np.clip(ce["ceiling"].astype(float), 1e-16, None),
                **{**UPPER, "color": colour}, alpha=0.7, label="theory: ceiling (some net)")


def _one_d(specs: pd.Series) -> bool:
    t = targets.get(specs.iloc[0])
    return t.kind == "regression" and t.dim == 1 and t.n_out == 1


def _fit(ax, d: pd.DataFrame, out) -> None:
    """The target on its test points, in its own units (a data file's x mapped back), and per
    activation the median seed of the configuration with the lowest median test MSE."""
    first = d.iloc[0]
    t = targets.get(first["spec"])
    data = targets.sample(t, int(first["n_train"]), int(first["n_test"]))
    lo, hi = t.x_range[0] if t.x_range else (t.lo, t.hi)
    X = data.X_test[0]
    units = lo + (X - t.lo) / (t.hi - t.lo) * (hi - lo)
    ax.plot(units, data.Y_test[0], color="0.2", linewidth=1.4, label="target (test points)")
    drawn = 0
    for act in activations_ordered(d["activation"]):
        a = d[(d["activation"] == act) & d["status"].eq("ok")]
        if a.empty:
            continue
        keys = ["width", "depth", "optimizer"]
        best = a.groupby(keys)["test_mse"].median().idxmin()
        cfg = a.set_index(keys).loc[[best]].reset_index().sort_values("test_mse")
        median = cfg.iloc[(len(cfg) - 1) // 2].copy()
        median["target"] = median["spec"]
        try:
            Y = trained_output(out, median, data.X_test)[0]
        except (OSError, UserError):  # the table without its networks (e.g. copied alone)
            continue
        ax.plot(units, Y, color=color(act), linewidth=1.0, linestyle="--",
                label=f"{act}: its best width and depth, median seed")
        drawn += 1
    ax.set_xlabel(t.labels[0][0] if t.labels else "x")
    ax.set_ylabel(t.labels[1][0] if t.labels else "f(x)")
    ax.set_title(f"{first['target']}: the fits" + ("" if drawn else " (networks not stored)"))


def _by_activation(ax, d: pd.DataFrame, col: str) -> None:
    """One column per activation: seeds as points, the median as a bar, floors as ticks."""
    acts = activations_ordered(d["activation"])
    for i, act in enumerate(acts):
        a = d[d["activation"] == act]
        vals = np.clip(a[col].to_numpy(float), 1e-16, None)
        ax.scatter(np.full(len(vals), i), vals, color=color(act), s=12, alpha=0.6)
        ax.plot([i - 0.3, i + 0.3], [np.nanmedian(vals)] * 2, color=color(act), linewidth=2,
                label=act)
        fl = a["floor"].astype(float).dropna()
        if col == "test_mse" and len(fl):
            floor_line(ax, [i - 0.4, i + 0.4], [fl.iloc[0]] * 2,
                       bool(a["floor_exact"].iloc[0]), "theory", "0.15")
    ax.set_xticks(range(len(acts)))
    ax.set_xticklabels(acts, rotation=20, ha="right")


def findings(joined: pd.DataFrame, the_study) -> Findings:
    df = summary.label(joined)
    x, row = axes_of(df)
    col, what = metric(df)
    keys = ["target", "activation", "width", "depth", "optimizer"]
    g = df.groupby(keys, dropna=False)
    table = g.agg(seeds=("key", "size"), median=(col, "median"), best=(col, "min"),
                  floor=("floor", "first"), floor_kind=("floor_kind", "first"),
                  exact=("floor_exact", "first"), ceiling=("ceiling", "first")).reset_index()
    table["median / floor"] = table["median"] / table["floor"]
    # a trained error below a floor is a bug; cross-entropy floors bound the train loss
    error = np.where(df["floor_kind"].astype(str).str.startswith("cross-entropy"),
                     df["train_loss"], df["test_mse"])
    below = int(floors.below(error, df["floor"], df["variance"]).sum())
    best = table.loc[table.groupby("target")["median"].idxmin()]
    parts = [f"{r.target}: {r.median:.3g} ({r.activation}, width {r.width}, depth {r.depth})"
             for r in best.itertuples()]
    with_floor = table["floor"].notna().sum()
    caption = (
        f"Lines are medians of the {what} over seeds (bands: min to max) against {x}"
        + (f", one row per {row}" if row else "") + ". Lowest median per target: "
        + "; ".join(parts) + f". {with_floor} of {len(table)} configurations have a floor of "
        f"theory on their test points; {below} trained networks are below theirs"
        + (" (a bug: report it)." if below else ".")
    )
    return Findings(caption, table.drop(columns=["exact"]))

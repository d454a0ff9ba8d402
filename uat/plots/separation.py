"""Deep narrow vs shallow wide ReLU nets on Telgarsky's sawtooth, at equal parameter counts
(Telgarsky 2016): what a net of p linear pieces can reach is a dynamic-programming floor, and a
width-2, depth-k net represents the 2^(k-1)-tooth sawtooth exactly."""

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from uat import activations, summary, targets, theory
from uat.plots import (
    ACTIVATION_COLORS,
    Findings,
    band,
    floor_line,
    legend_below,
    ordered,
    stat_title,
)
from uat.theory.constructions import sawtooth_exact_errors

DEEP, SHALLOW = ACTIVATION_COLORS["tanh"], ACTIVATION_COLORS["sigmoid"]  # blue, orange


def _prepare(joined: pd.DataFrame) -> pd.DataFrame:
    df = summary.label(joined)
    df["params"] = df["n_params"]
    df["family"] = np.where(df["depth"] == 1, "shallow (depth 1)", "deep (width 2)")
    df.loc[(df["depth"] == 1) & (df["width"] == 2), "family"] = "both"
    return df


def misfit(runs) -> str | None:
    """Why this figure cannot draw the grid (None when it can): Telgarsky's sawtooth, deep
    width-2 against shallow depth-1 nets of a one-kink piecewise-linear activation."""
    other = next((r.target for r in runs if not r.target.startswith("sawtooth(")), None)
    if other:
        return f"draws Telgarsky's sawtooth only; the grid has target {other}"
    smooth = next((r.activation for r in runs
                   if activations.get(r.activation).kink_slopes is None), None)
    if smooth:
        return f"draws piecewise-linear nets (relu, leaky_relu); the grid has {smooth}"
    if not any(r.width == 2 and r.depth > 1 for r in runs) or not any(r.depth == 1
                                                                         for r in runs):
        return "compares deep width-2 nets with shallow depth-1 nets; the grid lacks one of them"
    return None


def figure(joined: pd.DataFrame, the_study):
    df = _prepare(joined)
    tlist = ordered(df["target"])
    fig, axes = plt.subplots(2, len(tlist), figsize=(min(12.0, 5.2 * len(tlist)), 6.6),
                             squeeze=False)
    for c, target in enumerate(tlist):
        d = df[df["target"] == target]
        full = joined[joined["target"] == targets.get(target).name]  # label -> canonical
        deep, shallow = d[d["width"] == 2], d[d["depth"] == 1]
        for r, metric in enumerate(["test_mse", "max_abs_err"]):
            ax = axes[r, c]
            band(ax, deep, "params", metric, "deep: width 2, depth L", DEEP)
            band(ax, shallow, "params", metric, "shallow: depth 1, width 2L", SHALLOW, "s")
            for fam, col in ((deep, DEEP), (shallow, SHALLOW)):
                col_floor = "floor" if metric == "test_mse" else "sup_floor"
                fl = fam.groupby("params")[[col_floor, "sup_exact"]].first()
                exact = fl["sup_exact"].astype(bool) & (metric == "max_abs_err")
                floor_line(ax, fl.index, fl[col_floor], False, "piece-count floor, " + (
                    "MSE" if metric == "test_mse" else "max |error|"), col, linewidth=1.1)
                if exact.any():  # 1/2 while the pieces are no more than the teeth: attained
                    floor_line(ax, fl.index[exact], fl.loc[exact, col_floor], True,
                               "max |error| 1/2 while pieces <= teeth", "0.15", marker="_",
                               markersize=14, linestyle="none")
            ex = sawtooth_exact_errors(full["target"].iloc[0], int(full["n_train"].iloc[0]),
                                       int(full["n_test"].iloc[0]))
            if ex is not None:
                k, mse, sup = ex
                y = max(mse if metric == "test_mse" else sup, 1e-16)
                ax.plot([6 * k + 1], [y], marker="*", markersize=13, color="k", linestyle="none",
                        label="hand-set width-2 net of depth log2(teeth) + 1 (it is the target)")
            ax.set_yscale("log")
            ax.set_xlabel("parameters (6L + 1 for both families)")
            ax.set_ylabel("test MSE" if metric == "test_mse" else "max |error|")
            ax.set_title(f"{target}: {'test MSE' if metric == 'test_mse' else 'max |error|'}")
    fig.suptitle(the_study.title)
    fig.tight_layout()
    legend_below(fig, axes, stat_title(df, ["target", "width", "depth"]), 2)
    return fig


def findings(joined: pd.DataFrame, the_study) -> Findings:
    """Median over seeds per family and size, with the floors for their piece counts."""
    df = _prepare(joined)
    rows = []
    for target in ordered(df["target"]):
        d = df[df["target"] == target]
        for fam, sub in (("deep", d[(d["width"] == 2) & (d["depth"] >= 2)]),
                         ("shallow", d[d["depth"] == 1])):
            for params, g in sub.groupby("params"):
                w, L = int(g["width"].iloc[0]), int(g["depth"].iloc[0])
                rows.append({"target": target, "family": fam, "parameters": params,
                             "shape": f"width {w}, depth {L}",
                             "max pieces": theory.relu_max_pieces([w] * L),
                             "median test MSE": g["test_mse"].median(),
                             "median max|err|": g["max_abs_err"].median(),
                             "MSE floor": g["floor"].iloc[0],
                             "sup floor": g["sup_floor"].iloc[0], "seeds": len(g)})
    table = pd.DataFrame(rows)
    caption = (
        "Lines are medians over seeds (bands: min to max) at equal parameter counts. Floors "
        "are for each shape's largest number of linear pieces (dynamic programming on the "
        "test points; max |error| 1/2 while the pieces are no more than the teeth, exact: "
        "the constant 1/2 attains it, and every apex is a test point). Stars: the hand-set "
        "width-2 net that is the sawtooth, a representation fact; the trained comparison is "
        "the theorem's evidence (verdict below)."
    )
    return Findings(caption, table)

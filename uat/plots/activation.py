"""Polynomial activations plateau on their computed floor, the others keep going (Leshno,
Lin, Pinkus & Schocken 1993); no activation (identity) is an affine map at any depth."""

import pandas as pd
from matplotlib import pyplot as plt

from uat import summary
from uat.plots import (
    Findings,
    activations_ordered,
    band,
    color,
    fit,
    floor_line,
    legend_below,
    log2_width_axis,
    ordered,
    stat_title,
)
from uat.theory.checks import width as rule
from uat.theory.checks.common import degree


def misfit(runs) -> str | None:
    """Why this figure cannot draw the grid (None when it can): regression error against
    width at depth 1 (deeper runs go to a depth panel)."""
    return fit.regression(runs) or fit.varies([r for r in runs if r.depth == 1], "width",
                                                "at depth 1")


def figure(joined: pd.DataFrame, the_study):
    df = summary.label(joined)
    tlist = ordered(df["target"])
    has_deep = (df["depth"] > 1).any()
    ncol = 2 if has_deep else 1
    fig, axes = plt.subplots(len(tlist), ncol, figsize=(12.0 if has_deep else 8.0,
                                                        3.4 * len(tlist)), squeeze=False,
                             gridspec_kw={"width_ratios": [1.6, 1][:ncol]})
    for r, target in enumerate(tlist):
        ax = axes[r, 0]
        d = df[(df["target"] == target) & (df["depth"] == 1)]
        for i, act in enumerate(activations_ordered(d["activation"])):
            da = d[d["activation"] == act]
            poly = degree(act) is not None
            band(ax, da, "width", "test_mse", act, color(act), "sDv^<>p"[i % 7] if poly else "o")
            if poly:
                fl = da[da["floor_exact"].astype(bool)].groupby("width")["floor"].first()
                floor_line(ax, fl.index, fl, True, "each polynomial's floor", color(act),
                           linewidth=1.0)
        ax.set_yscale("log")
        log2_width_axis(ax, d["width"])
        ax.set_xlabel("width (one hidden layer)")
        ax.set_ylabel("test MSE")
        ax.set_title(f"{target}: polynomials (reds, grey = identity) and the others")
        if has_deep:
            _depth_panel(axes[r, 1], df[df["target"] == target])
    fig.suptitle(the_study.title)
    fig.tight_layout()
    legend_below(fig, axes, stat_title(df, ["target", "activation", "width", "depth"]), 4)
    return fig


def _depth_panel(ax, d):
    deep = d[d["depth"] > 1]
    multi = d[d["activation"].isin(deep["activation"]) & d["width"].isin(deep["width"])]
    narrow = multi["width"].min()
    for (act, w), dw in multi.groupby(["activation", "width"], sort=False):
        band(ax, dw, "depth", "test_mse", f"{act}, width {w}", color(act),
             "s" if w == narrow else "D", "-" if w == narrow else ":")
        fl = dw.groupby("depth")[["floor", "floor_exact"]].first()
        for exact, part in fl.groupby("floor_exact"):
            floor_line(ax, part.index, part["floor"], bool(exact), "degree-d^L floor",
                       marker="_", markersize=10)
    ax.set_yscale("log")
    ax.set_xticks(sorted(multi["depth"].unique()))
    ax.set_xlabel("depth")
    ax.set_ylabel("test MSE")
    ax.set_title("depth L: a polynomial of degree d^L")


def findings(joined: pd.DataFrame, the_study) -> Findings:
    """The classification of every (target, activation) at one hidden layer, by the width
    study's rule, and the polynomial floors."""
    df = joined[joined["depth"] == 1]
    cls = rule.classify(df)
    shown = summary.label(cls.rename(columns={"best": "best median MSE", "sup": "its max|err|",
                                              "width": "at width", "cls": "class"}))
    caption = (
        "Lines are medians over seeds (bands: min to max). Polynomial activations stop on "
        "their exact floor (dashed, the best polynomial of their degree); the identity stays "
        "affine at every depth; every other activation goes below the lowest polynomial floor "
        "of the grid the measurement resolves (the table: the same classification rule as "
        "the width study, on medians over seeds)."
    )
    return Findings(caption, shown.drop(columns=["setter"]))

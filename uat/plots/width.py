"""Error vs width for one hidden layer (Cybenko 1989; Hornik, Stinchcombe & White 1989;
Hornik 1991; Leshno et al. 1993): every activation's median test error per width, the
polynomial controls with their exact floors, ReLU's free-knot lower bound and achievable
ceiling, and Barron's bound."""

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from uat import summary
from uat.plots import (
    UPPER,
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
from uat.theory.checks.common import is_poly


def misfit(runs) -> str | None:
    """Why this figure cannot draw the grid honestly (None when it can): it draws regression
    error against width for one hidden layer."""
    return fit.regression(runs) or fit.only_depth(runs, 1) or fit.varies(runs, "width")


def figure(joined: pd.DataFrame, the_study):
    df = summary.label(joined[joined["depth"] == 1])
    tlist = ordered(df["target"])
    acts = activations_ordered(df["activation"])
    styles = {o: ("-", "o") if o.startswith("lm") else ("--", "^")
              for o in sorted(dict.fromkeys(df["optimizer"]), key=lambda o: not o.startswith("lm"))}
    ncol = min(3, len(tlist))
    nrow = -(-len(tlist) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.0 * ncol, 3.3 * nrow), squeeze=False,
                             sharex=True)
    for ax, target in zip(axes.flat, tlist, strict=False):
        d = df[df["target"] == target]
        for act in acts:
            for opt, (linestyle, marker) in styles.items():
                a = d[(d["activation"] == act) & (d["optimizer"] == opt)]
                if not a.empty:
                    band(ax, a, "width", "test_mse", f"{act}, {opt}", color(act), marker,
                         linestyle)
        _theory(ax, d)
        ax.set_yscale("log")
        ax.set_title(target)
        log2_width_axis(ax, d["width"])
        ax.set_xlabel("width (hidden units)")
        ax.set_ylabel("test MSE")
    for ax in axes.flat[len(tlist):]:
        ax.axis("off")
    fig.suptitle(the_study.title)
    fig.tight_layout()
    legend_below(fig, axes, stat_title(df, ["target", "activation", "optimizer", "width"]), 3)
    return fig


def _theory(ax, d: pd.DataFrame) -> None:
    """Floors of the polynomial controls (exact), ReLU's free-knot lower bound and a ceiling
    some ReLU net reaches, Barron's bound, the constant fit."""
    t = d.groupby("width")[["barron", "variance"]].first()
    for act, a in d[d["activation"].map(is_poly)].groupby("activation"):
        fl = a[a["floor_exact"].astype(bool)].groupby("width")["floor"].first()
        if not fl.empty:
            floor_line(ax, fl.index, fl, True, "each polynomial control's floor", color(act),
                       linewidth=1.0)
    relu = d[d["activation"] == "relu"].groupby("width")[["floor", "ceiling"]].first()
    if not relu.empty and relu["floor"].notna().any():
        floor_line(ax, relu.index, relu["floor"], False, "ReLU free-knot floor")
        ax.plot(relu.index, relu["ceiling"], **UPPER,
                label="ReLU ceiling: a uniform-knot net reaches it")
    if t["barron"].notna().any():
        ax.plot(t.index, t["barron"], **{**UPPER, "linestyle": (0, (5, 2, 1, 2))},
                label="Barron's bound (2rC_f)^2/width: upper bound")
    ax.axhline(t["variance"].iloc[0], color="0.6", linewidth=0.8, linestyle="-",
               label="a constant (the variance)")
    lo = np.nanmin(d["test_mse"].clip(lower=1e-16))
    ax.set_ylim(max(lo / 5, 1e-16), t["variance"].iloc[0] * 3)


def findings(joined: pd.DataFrame, the_study) -> Findings:
    df = joined[joined["depth"] == 1]
    cls = rule.classify(df)
    shown = summary.label(cls.rename(columns={"best": "best median MSE", "sup": "its max|err|",
                                              "width": "at width", "cls": "class"}))
    shown = shown.drop(columns=["setter"])
    uni = cls[~cls["polynomial"]]
    poly = cls[cls["polynomial"]]
    n_uni, n_poly = int((uni["cls"] == "universal").sum()), int((poly["cls"] == "universal").sum())
    bars = rule.bars(df)
    caption = (
        "Lines are medians over seeds (bands: min to max); LM solid, Adam dashed. One rule "
        "classes every (target, activation) pair from its trained errors: universal when its "
        "median test MSE at its best width is below half the target's polynomial bar (the "
        "lowest exact floor of a polynomial control the measurement resolves: " + "; ".join(
            f"{t} {b.mse:.2g} by {b.control or 'none'}" for t, b in bars.items()) + "), and its "
        f"median max |error| below half the bar's sup floor. {n_uni} of {len(uni)} "
        f"non-polynomial pairs and {n_poly} of {len(poly)} polynomial pairs come out universal."
    )
    return Findings(caption, shown)

"""Error vs width for one hidden layer (Cybenko 1989; Hornik, Stinchcombe & White 1989;
Hornik 1991), with ReLU's exact free-knot floor and ceiling and Barron's 1/width bound."""

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import pyplot as plt

from uat import summary
from uat.plots import THEORY, Findings, band, log2_width_axis
from uat.theory import table as floors

DROP = 100.0  # "keeps falling": best error at the largest width at least this much below width 1


def figure(joined: pd.DataFrame, the_study):
    df = summary.label(joined[joined["depth"] == 1])
    tlist = list(dict.fromkeys(df["target"]))
    acts = list(dict.fromkeys(df["activation"]))
    colors = dict(zip(acts, sns.color_palette("deep", len(acts)), strict=True))
    styles = {o: ("-", "o") if o.startswith("lm") else ("--", "^")
              for o in dict.fromkeys(df["optimizer"])}
    ncol = min(3, len(tlist))
    nrow = -(-len(tlist) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.0 * ncol, 3.2 * nrow), squeeze=False,
                             sharex=True)
    for ax, target in zip(axes.flat, tlist, strict=False):
        d = df[df["target"] == target]
        for act in acts:
            for opt, (linestyle, marker) in styles.items():
                a = d[(d["activation"] == act) & (d["optimizer"] == opt)]
                if not a.empty:
                    band(ax, a, "width", "test_mse", f"{act}, {opt}", colors[act], marker,
                         linestyle)
        _theory(ax, d, colors.get("relu"))
        ax.set_yscale("log")
        ax.set_title(target)
        log2_width_axis(ax, d["width"])
        ax.set_xlabel("width (hidden units)")
        ax.set_ylabel("test MSE")
    for ax in axes.flat[len(tlist):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.1),
               frameon=False)
    fig.suptitle(the_study.title, fontsize=10)
    fig.tight_layout()
    return fig


def _theory(ax, d: pd.DataFrame, relu_color) -> None:
    t = d.groupby("width")[["floor", "ceiling", "barron", "variance"]].first()
    relu = d[d["activation"] == "relu"].groupby("width")[["floor", "ceiling"]].first()
    if not relu.empty and relu["floor"].notna().any():
        ax.fill_between(relu.index, relu["floor"].clip(lower=1e-16), relu["ceiling"],
                        color=relu_color or "0.5", alpha=0.12, hatch="///", linewidth=0,
                        label="ReLU: exact floor .. ceiling")
        ax.plot(relu.index, relu["floor"].clip(lower=1e-16), **THEORY)
    if t["barron"].notna().any():
        ax.plot(t.index, t["barron"], color="0.4", linestyle=":", linewidth=1.2,
                label="Barron bound (2rC_f)^2/width")
    ax.axhline(t["variance"].iloc[0], color="0.6", linewidth=0.8, linestyle="-.",
               label="constant fit (variance)")
    lo = np.nanmin(d["test_mse"].clip(lower=1e-16))
    ax.set_ylim(max(lo / 5, 1e-16), t["variance"].iloc[0] * 3)


def findings(joined: pd.DataFrame, the_study) -> Findings:
    df = summary.label(joined[joined["depth"] == 1])
    rows = []
    for (target, act), d in df.groupby(["target", "activation"], sort=False):
        best = d.groupby("width")["test_mse"].min()  # over seeds and optimizers
        w_best = best.idxmin()
        relu = d.groupby("width")[["floor", "ceiling"]].first()
        rows.append({
            "target": target, "activation": act, "width 1": best.iloc[0],
            "best": best.min(), "at width": int(w_best),
            "drop": best.iloc[0] / max(best.min(), 1e-300),
            "floor there": relu.loc[w_best, "floor"],
            "ceiling there": relu.loc[w_best, "ceiling"] if act == "relu" else np.nan,
        })
    table = pd.DataFrame(rows)
    exact = table["width 1"] < 1e-20  # the activation represents the target with one unit
    falls = exact | (table["drop"] >= DROP)
    below = joined[floors.below(joined["test_mse"], joined["floor"], joined["variance"])]
    relu = table[(table["activation"] == "relu") & table["ceiling there"].notna()]
    reached = relu[relu["best"] <= relu["ceiling there"] * floors.WITHIN]
    has_barron = joined[joined["barron"].notna() & (joined["depth"] == 1)]
    g = has_barron.groupby(["target", "activation", "width"])
    under = g["test_mse"].min().to_numpy() <= g["barron"].first().to_numpy()
    caption = (
        f"Best test MSE over seeds and optimizers falls by at least {DROP:.0f}x from width 1 "
        f"for {int(falls.sum() - exact.sum())} of {int((~exact).sum())} target/activation pairs "
        f"(median drop {np.median(table.loc[~exact, 'drop']):.3g}x; LM solid, Adam dashed); "
        f"{int(exact.sum())} pairs are represented exactly by a single unit (e.g. a sigmoid "
        f"or tanh unit is the logistic step). At its best width ReLU is within "
        f"{floors.WITHIN}x of its "
        f"uniform-knot ceiling (an achievable net) on {len(reached)} of {len(relu)} 1-D "
        f"targets. Barron's bound holds for {int(under.sum())} of {len(under)} "
        f"configurations where it applies; {len(below)} runs fell below an exact floor."
    )
    ok = bool(falls.all()) and below.empty
    problems = []
    if not falls.all():
        problems.append(f"the error does not fall {DROP:.0f}x for " + ", ".join(
            f"{r.activation} on {r.target}" for r in table[~falls].itertuples()) +
            " (an optimizer limit at these widths, not a counterexample)")
    if not below.empty:
        problems.append(f"{len(below)} runs fall below a floor of theory (a bug)")
    verdict = ("Every activation's error keeps falling with width on every target, as the "
               "theorems say." if ok else "Not met: " + "; ".join(problems) + ".")
    return Findings(caption, table, verdict, ok)

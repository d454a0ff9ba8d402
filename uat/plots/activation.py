"""Polynomial activations plateau on their computed floor, the others keep going (Leshno,
Lin, Pinkus & Schocken 1993); no activation (identity) is an affine map at any depth."""

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import pyplot as plt

from uat import activations, summary
from uat.plots import THEORY, Findings, band, log2_width_axis
from uat.theory import table as floors

ON_FLOOR = floors.WITHIN  # a plateau "on" its floor: best of seeds within this factor


def _degree(act: str):
    return activations.get(act).poly_degree


def _colors(acts):
    poly = [a for a in acts if _degree(a) is not None]
    other = [a for a in acts if _degree(a) is None]
    return {**dict(zip(poly, sns.color_palette("Reds_r", len(poly) + 1), strict=False)),
            **dict(zip(other, sns.color_palette("crest", len(other)), strict=False))}


def figure(joined: pd.DataFrame, the_study):
    df = summary.label(joined)
    tlist = list(dict.fromkeys(df["target"]))
    deep = df[df["depth"] > 1]
    ncol = 2 if not deep.empty else 1
    fig, axes = plt.subplots(len(tlist), ncol, figsize=(6.6 * ncol, 3.6 * len(tlist)),
                             squeeze=False, gridspec_kw={"width_ratios": [1.6, 1][:ncol]})
    colors = _colors(list(dict.fromkeys(df["activation"])))
    for r, target in enumerate(tlist):
        ax = axes[r, 0]
        d = df[(df["target"] == target) & (df["depth"] == 1)]
        for i, (act, da) in enumerate(d.groupby("activation", sort=False)):
            poly = _degree(act) is not None
            band(ax, da, "width", "test_mse", act, colors[act], "sDv^<>p"[i % 7] if poly else "o")
            if poly:
                fl = da.groupby("width")["floor"].first()
                ax.plot(fl.index, fl, color=colors[act], linestyle="--", linewidth=1.0)
        ax.plot([], [], **THEORY, label="dashed: that polynomial's exact floor")
        ax.set_yscale("log")
        log2_width_axis(ax, d["width"])
        ax.set_xlabel("width (one hidden layer)")
        ax.set_ylabel("test MSE")
        ax.set_title(f"{target}: polynomial (reds) vs non-polynomial activations")
        ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        if ncol == 2:
            _depth_panel(axes[r, 1], df[df["target"] == target], colors)
    fig.suptitle(the_study.title, fontsize=10)
    fig.tight_layout()
    return fig


def _depth_panel(ax, d, colors):
    deep = d[d["depth"] > 1]
    multi = d[d["activation"].isin(deep["activation"]) & d["width"].isin(deep["width"])]
    for (act, w), dw in multi.groupby(["activation", "width"], sort=False):
        band(ax, dw, "depth", "test_mse", f"{act}, width {w}", colors[act],
             "s" if w == multi["width"].min() else "D", "-" if w == multi["width"].min() else ":")
        fl = dw.groupby("depth")["floor"].first()
        ax.plot(fl.index, fl, **THEORY)
    ax.set_yscale("log")
    ax.set_xticks(sorted(multi["depth"].unique()))
    ax.set_xlabel("depth")
    ax.set_ylabel("test MSE")
    ax.set_title("depth L: degree d^L, floors dashed")
    ax.legend(fontsize=6.5)


def _lowest_polynomial_floor(df: pd.DataFrame, target: str) -> float:
    """The lowest exact floor any polynomial activation has on this target (depth 1)."""
    d = df[(df["target"] == target) & (df["depth"] == 1) & df["floor_exact"].astype(bool)]
    d = d[d["activation"].map(lambda a: _degree(a) is not None)]
    return float(d["floor"].min()) if not d.empty else float("nan")


def findings(joined: pd.DataFrame, the_study) -> Findings:
    df = summary.label(joined)
    rows = []
    for (target, act, depth), d in df.groupby(["target", "activation", "depth"], sort=False):
        g = d.groupby("width")
        best = g["test_mse"].min()
        fl, exact = g["floor"].first(), g["floor_exact"].first().astype(bool)
        degree = _degree(act)
        row = {"target": target, "activation": act, "depth": depth,
               "degree": "-" if degree is None else degree ** depth,
               "best (smallest width)": best.iloc[0], "best (largest width)": best.iloc[-1],
               "floor": fl.iloc[-1]}
        if degree is not None:
            on = exact & (best <= fl * ON_FLOOR)
            row["widths on the exact floor"] = f"{int(on.sum())} of {int(exact.sum())}"
            row["below floor"] = int(floors.below(best, fl, d["variance"].iloc[0]).sum())
            row["claim"] = ("plateau on its floor" if on.sum() == exact.sum() and exact.any()
                            else "off its floor" if exact.any()
                            else f"never below its floor (ratio {best.iloc[-1] / fl.iloc[-1]:.4g})"
                            if row["below floor"] == 0 else "BELOW its floor")
        elif best.iloc[0] < 1e-20:
            row["claim"] = "exact with one unit"  # e.g. the sin activation on sin(pi x)
        else:  # Leshno: it goes below every polynomial activation's floor, given width
            plateau = _lowest_polynomial_floor(df, target)
            row["claim"] = (
                f"below every polynomial floor ({best.iloc[-1]:.2g} < {plateau:.2g})"
                if best.iloc[-1] < plateau else
                f"not below the polynomial floor {plateau:.2g}" if np.isfinite(plateau) else
                "keeps falling" if best.iloc[-1] < best.iloc[0] / 100 else "falls < 100x")
        rows.append(row)
    table = pd.DataFrame(rows)
    poly = table[table["degree"] != "-"]
    other = table[table["degree"] == "-"]
    below = int(poly["below floor"].sum()) if not poly.empty else 0
    plateau = poly[poly["claim"] == "plateau on its floor"]
    checkable = poly[~poly["claim"].str.startswith("never below")]
    fall = other[other["claim"].str.startswith(("below every", "keeps falling", "exact"))]
    caption = (
        f"Polynomial activations (including the identity, degree 1) sit within {ON_FLOOR}x of "
        f"their exact best-polynomial floor at every width where it is attainable for "
        f"{len(plateau)} of {len(checkable)} activation/target/depth cases, and {below} runs "
        f"fall below a floor. At their largest width, non-polynomial activations go below "
        f"every polynomial activation's floor on the same target in {len(fall)} of "
        f"{len(other)} cases (e.g. " +
        ", ".join(f"{r.activation} on {r.target}: {r['best (largest width)']:.2g}"
                  for _, r in other.head(3).iterrows()) + ")."
    )
    ok = len(plateau) == len(checkable) and below == 0 and len(fall) == len(other)
    verdict = ("Every polynomial activation stops on its computed floor while every "
               "non-polynomial one keeps improving: Leshno et al.'s dichotomy." if ok else
               "The dichotomy is not fully visible; see the table for the cases that miss "
               "(below a floor would be a bug, off a floor an optimizer limit).")
    return Findings(caption, table, verdict, ok)

"""Error vs depth per width (Hanin & Sellke 2017; Johnson 2019; Kidger & Lyons 2020): width
<= n stays on an exact floor at every depth, width n + 1 goes down."""

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import pyplot as plt

from uat import activations, summary
from uat.plots import THEORY, Findings, band
from uat.theory import table as floors

SITS = floors.WITHIN  # "on its floor": best of seeds within this factor of the floor
SUP_SLACK = 1e-3  # a sup floor is a continuum bound; grid-measured errors may dip this little


def _is_poly(act: str) -> bool:
    return activations.get(act).is_polynomial


def _panels(df: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(n_in, activation or 'polynomial', metric) for each panel, row by input dimension."""
    out = []
    for n in sorted(df["n_in"].unique()):
        d = df[df["n_in"] == n]
        acts = [a for a in dict.fromkeys(d["activation"]) if not _is_poly(a)]
        metric = "test_mse" if n == 1 else "max_abs_err"
        out += [(n, a, metric) for a in acts]
        if n > 1:
            out.append((n, "all", "test_mse"))
        if any(_is_poly(a) for a in d["activation"]):
            out.append((n, "polynomial", "test_mse"))
    return out


def figure(joined: pd.DataFrame, the_study):
    df = summary.label(joined)
    panels = _panels(df)
    rows = sorted(df["n_in"].unique())
    ncol = max(sum(p[0] == n for p in panels) for n in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(3.9 * ncol, 3.3 * len(rows)),
                             squeeze=False)
    widths = sorted(df["width"].unique())
    colors = dict(zip(widths, sns.color_palette("viridis_r", len(widths)), strict=True))
    for r, n in enumerate(rows):
        mine = [p for p in panels if p[0] == n]
        for c, (_, act, metric) in enumerate(mine):
            ax = axes[r, c]
            d = df[df["n_in"] == n]
            if act == "polynomial":
                _polynomial(ax, d[d["activation"].map(_is_poly)])
            elif act == "all":
                _mse_both(ax, d[~d["activation"].map(_is_poly)], colors)
            else:
                _by_width(ax, d[d["activation"] == act], metric, colors, n)
                ax.set_title(f"n = {n}: {act}, {d['target'].iloc[0]}")
            ax.set_yscale("log")
            ax.set_xlabel("depth (hidden layers)")
        for ax in axes[r, len(mine):]:
            ax.axis("off")
    fig.suptitle(the_study.title, fontsize=10)
    fig.tight_layout()
    return fig


def _by_width(ax, d, metric, colors, n):
    for w, dw in d.groupby("width"):
        band(ax, dw, "depth", metric, f"width {w}" + (" (= n)" if w == n else ""), colors[w])
    narrow = d[d["width"] <= n]
    if metric == "test_mse":
        for w, dw in narrow.groupby("width"):
            fl = dw.groupby("depth")[["floor", "floor_kind"]].first()
            if fl["floor"].notna().any():
                kinds = " / ".join(dict.fromkeys(fl["floor_kind"]))
                ax.plot(fl.index, fl["floor"], **THEORY, label=f"floor, width {w}: {kinds}")
        ax.set_ylabel("test MSE")
    else:
        sup = narrow.groupby("depth")["sup_floor"].max()
        if sup.notna().any():
            ax.plot(sup.index, sup, **THEORY, label=f"sup floor, width <= {n} (Johnson)")
        ax.set_ylabel("max |error| on the test grid")
    ax.legend(loc="best")


def _mse_both(ax, d, colors):
    n = int(d["n_in"].iloc[0])
    for (act, w), dw in d[d["width"].isin([n, n + 1])].groupby(["activation", "width"]):
        band(ax, dw, "depth", "test_mse", f"{act}, width {w}", colors[w],
             linestyle="-" if act == "relu" else "--", marker="o" if act == "relu" else "s")
    ax.set_title(f"n = {n}: MSE has no width-{n} floor (Kim-Min-Park)")
    ax.set_ylabel("test MSE")
    ax.legend(loc="best")


def _polynomial(ax, d):
    for (act, w), dw in d.groupby(["activation", "width"]):
        band(ax, dw, "depth", "test_mse", f"{act}, width {w}", "C3")
        fl = dw.groupby("depth")["floor"].first()
        ax.plot(fl.index, fl, **THEORY, marker="_", markersize=12,
                label="best polynomial of degree d^L")
    ax.set_title(f"polynomial activation (Kidger-Lyons), {d['target'].iloc[0]}")
    ax.set_ylabel("test MSE")
    ax.set_xticks(sorted(d["depth"].unique()))
    ax.legend(loc="best")


def findings(joined: pd.DataFrame, the_study) -> Findings:
    df = summary.label(joined)
    rows, ok = [], True
    for (n, act, w), d in df.groupby(["n_in", "activation", "width"]):
        g = d.groupby("depth")
        best_mse, best_sup = g["test_mse"].min(), g["max_abs_err"].min()
        fl, sup = g["floor"].first(), g["sup_floor"].max()
        row = {"n": n, "activation": act, "width": w, "depths": len(best_mse),
               "best MSE (deepest)": best_mse.iloc[-1], "best MSE (any depth)": best_mse.min(),
               "best max|err| (any depth)": best_sup.min()}
        claim = ""
        if _is_poly(act):  # Kidger-Lyons: universal with depth; degree-d^L floors bound it
            row["max best/floor"] = (best_mse / fl).max()
            falls = bool((np.diff(best_mse.to_numpy()) < 0).all())
            above = not floors.below(best_mse, fl, d["variance"].iloc[0]).any()
            good = falls and above
            claim = ("falls with depth, never below its degree-d^L floor" if good else
                     "does not fall with depth" if above else "BELOW its polynomial floor")
            ok &= good
        elif w <= n and n == 1:
            ratio = (best_mse / fl).max()
            row["max best/floor"] = ratio
            under = floors.below(best_mse, fl, d["variance"].iloc[0]).any()
            good = bool(ratio <= SITS and not under)
            claim = "on its floor at every depth" if good else "off its floor"
            ok &= good
        elif w <= n:
            margin = (best_sup / sup).min()
            row["min max|err|/sup floor"] = margin
            good = bool(margin >= 1 - SUP_SLACK)
            claim = "at or above the sup floor at every depth" if good else "BELOW the sup floor"
            ok &= good
        elif w == n + 1:
            narrow = df[(df["n_in"] == n) & (df["activation"] == act) & (df["width"] == n)]
            if n == 1:
                ref = narrow["floor"].min()
                good = bool(best_mse.min() < ref / 10)
                claim = (f"{ref / best_mse.min():.3g}x below the width-{n} floor" if good
                         else "not below the width-n floor")
            else:
                ref = narrow["sup_floor"].max()
                good = bool(best_sup.min() < ref / 2)
                claim = (f"max|err| {best_sup.min():.3g} < sup floor {ref:.3g}" if good
                         else "max|err| not below the sup floor")
            ok &= good
        row["theory says"] = claim
        rows.append(row)
    table = pd.DataFrame(rows)
    narrow = table[table["theory says"].str.contains("at every|polynomial|degree")]
    wide = table[table["width"] == table["n"] + 1]
    caption = (
        "Best of seeds per depth. " +
        " ".join(f"n = {r.n}, {r.activation}, width {r.width}: {r['theory says']}"
                 f" (best MSE {r['best MSE (any depth)']:.3g}, best max|err| "
                 f"{r['best max|err| (any depth)']:.3g})." for _, r in
                 pd.concat([narrow, wide]).iterrows())
    )
    missed = table[table["theory says"].str.contains("off|not |BELOW|does not", regex=True)]
    verdict = ("Width n stays on its floor at every depth and width n + 1 goes below it, as "
               "the minimum-width theorems say." if ok else
               "Not met: " + "; ".join(f"n = {r.n}, {r.activation}, width {r.width}: "
                                       f"{r['theory says']}" for _, r in missed.iterrows()) +
               " (below a floor would be a bug; staying high is an optimizer limit).")
    return Findings(caption, table, verdict, ok)


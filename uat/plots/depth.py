"""Error vs depth per width (Hanin & Sellke 2017; Johnson 2019; Kidger & Lyons 2020): width
<= n stays above a floor at every depth, width n + 1 goes below it; in the theorems' own norm
(max |error|) wherever a sup floor binds width n."""

import pandas as pd
import seaborn as sns
from matplotlib import pyplot as plt

from uat import summary
from uat.plots import Findings, band, fit, floor_line, legend_below, ordered, stat_title
from uat.theory.checks.common import is_poly


def misfit(runs) -> str | None:
    """Why this figure cannot draw the grid (None when it can): regression error against
    depth."""
    return fit.regression(runs) or fit.varies(runs, "depth")


def metric_for(n: int, target: str) -> str:
    """The panel's statistic: max |error| where a sup floor binds width n (n >= 2, Hanin &
    Sellke's witness), test MSE in 1-D otherwise (exact clamp and ramp floors)."""
    return "max_abs_err" if n >= 2 or target.startswith("hanin_sellke") else "test_mse"


def _panels(df: pd.DataFrame) -> list[tuple[int, str, str, str]]:
    """(n_in, target, activation or "polynomial" or "mse", metric) per panel, by dimension."""
    out = []
    for n in sorted(df["n_in"].unique()):
        d = df[df["n_in"] == n]
        for target in ordered(d["target"]):
            dt = d[d["target"] == target]
            acts = sorted(a for a in dict.fromkeys(dt["activation"]) if not is_poly(a))
            out += [(n, target, a, metric_for(n, target)) for a in acts]
            if n > 1 and len(acts) > 1:
                out.append((n, target, "mse", "test_mse"))
            if any(is_poly(a) for a in dt["activation"]):
                out.append((n, target, "polynomial", "test_mse"))
    return out


def figure(joined: pd.DataFrame, the_study):
    df = summary.label(joined)
    panels = _panels(df)
    rows = sorted(df["n_in"].unique())
    ncol = max(sum(p[0] == n for p in panels) for n in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(min(12.0, 3.0 * ncol), 3.0 * len(rows)),
                             squeeze=False)
    widths = sorted(df["width"].unique())
    colors = dict(zip(widths, sns.color_palette("viridis_r", len(widths)), strict=True))
    for r, n in enumerate(rows):
        mine = [p for p in panels if p[0] == n]
        for c, (_, target, act, metric) in enumerate(mine):
            ax = axes[r, c]
            d = df[(df["n_in"] == n) & (df["target"] == target)]
            if act == "polynomial":
                _polynomial(ax, d[d["activation"].map(is_poly)])
            elif act == "mse":
                _mse_both(ax, d[~d["activation"].map(is_poly)], colors, n)
            else:
                _by_width(ax, d[d["activation"] == act], metric, colors, n)
            ax.set_yscale("log")
            ax.set_xlabel("depth (hidden layers)")
        for ax in axes[r, len(mine):]:
            ax.axis("off")
    fig.suptitle(the_study.title)
    fig.tight_layout()
    legend_below(fig, axes, stat_title(df, ["target", "activation", "width", "depth"]), 3)
    return fig


def _by_width(ax, d, metric, colors, n):
    for w, dw in d.groupby("width"):
        band(ax, dw, "depth", metric, f"width {w}", colors[w])
    narrow = d[d["width"] <= n]
    if metric == "test_mse":
        for w, dw in narrow.groupby("width"):
            fl = dw.groupby("depth")[["floor", "floor_exact"]].first()
            for exact, part in fl.groupby("floor_exact"):
                floor_line(ax, part.index, part["floor"], bool(exact), f"width-{w} floor, MSE",
                           marker="_" if len(part) == 1 else "")
        ax.set_ylabel("test MSE")
    else:
        sup = narrow.groupby("depth")[["sup_floor", "sup_exact"]].max()
        if sup["sup_floor"].notna().any():
            floor_line(ax, sup.index, sup["sup_floor"], bool(sup["sup_exact"].all()),
                       f"width-<={n} floor, max |error|")
        ax.set_ylabel("max |error| on the test points")
    ax.set_title(f"{d['activation'].iloc[0]} on {d['target'].iloc[0]} (n = {n})")


def _mse_both(ax, d, colors, n):
    for (act, w), dw in d[d["width"].isin([n, n + 1])].groupby(["activation", "width"]):
        band(ax, dw, "depth", "test_mse", f"{act}, width {w}", colors[w],
             linestyle="-" if act == "relu" else "--", marker="o" if act == "relu" else "s")
    ax.set_title(f"test MSE on {d['target'].iloc[0]}: no width-{n} floor")
    ax.set_ylabel("test MSE")


def _polynomial(ax, d):
    from uat.plots import color

    for (act, w), dw in d.groupby(["activation", "width"]):
        band(ax, dw, "depth", "test_mse", f"{act}, width {w}", color(act))
        fl = dw.groupby("depth")["floor"].first()
        floor_line(ax, fl.index, fl, False, "best polynomial of degree d^L", marker="_",
                   markersize=12)
    ax.set_title(f"{d['activation'].iloc[0]} (Kidger-Lyons) on {d['target'].iloc[0]}")
    ax.set_ylabel("test MSE")
    ax.set_xticks(sorted(d["depth"].unique()))


def findings(joined: pd.DataFrame, the_study) -> Findings:
    """Per (target, activation, width): median over seeds at each depth, in the panel's
    statistic, against the width-n floor."""
    df = summary.label(joined)
    rows = []
    for (n, target, act, w), d in df.groupby(["n_in", "target", "activation", "width"]):
        metric = "test_mse" if is_poly(act) else metric_for(n, target)
        med = d.groupby("depth")[metric].median()
        floor = (d["floor"] if metric == "test_mse" else d["sup_floor"]).max()
        rows.append({"n": n, "target": target, "activation": act, "width": w,
                     "statistic": "median MSE" if metric == "test_mse" else "median max|err|",
                     "depth 1": med.iloc[0], "deepest": med.iloc[-1], "best": med.min(),
                     "at depth": int(med.idxmin()),
                     "width-n floor": floor if w <= n or is_poly(act) else float("nan")})
    table = pd.DataFrame(rows)
    caption = (
        "Lines are medians over seeds (bands: min to max) per depth. Where a sup floor binds "
        "width n (Johnson; Hanin & Sellke's witness, exactly 1/8 on their ball and on [0, 1]) "
        "the panels show max |error|, the theorems' norm; in 1-D on sin(pi x) test MSE against "
        "the exact width-1 floors. The table gives the same medians."
    )
    return Findings(caption, table)

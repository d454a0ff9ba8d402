"""Deep narrow vs shallow wide ReLU nets on Telgarsky's sawtooth, at equal parameter counts
(Telgarsky 2016): what a net of p linear pieces can reach is an exact dynamic-programming
floor, and a width-2, depth-k net represents the 2^(k-1)-tooth sawtooth exactly."""


import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from uat import summary, targets, theory
from uat.plots import THEORY, Findings, band
from uat.theory import table as floors
from uat.theory.constructions import sawtooth_exact_errors, teeth


def _prepare(joined: pd.DataFrame) -> pd.DataFrame:
    df = summary.label(joined)
    df["params"] = df["n_params"]
    df["family"] = np.where(df["depth"] == 1, "shallow (depth 1)", "deep (width 2)")
    df.loc[(df["depth"] == 1) & (df["width"] == 2), "family"] = "both"
    return df


def figure(joined: pd.DataFrame, the_study):
    df = _prepare(joined)
    tlist = list(dict.fromkeys(df["target"]))
    fig, axes = plt.subplots(2, len(tlist), figsize=(max(12.0, 5.0 * len(tlist)), 6.4),
                             squeeze=False)
    for c, target in enumerate(tlist):
        d = df[df["target"] == target]
        full = joined[joined["target"] == targets.get(target).name]  # label -> canonical
        for r, metric in enumerate(["test_mse", "max_abs_err"]):
            ax = axes[r, c]
            deep = d[(d["width"] == 2)]
            shallow = d[d["depth"] == 1]
            band(ax, deep, "params", metric, "deep: width 2, depth L", "C0")
            band(ax, shallow, "params", metric, "shallow: depth 1, width 2L", "C3", "s")
            if metric == "test_mse":
                for fam, color, style in ((deep, "C0", ":"), (shallow, "C3", "--")):
                    fl = fam.groupby("params")["floor"].first()
                    ax.plot(fl.index, fl.clip(lower=1e-16), color=color, linestyle=style,
                            linewidth=1.1, label="exact floor for its piece count")
                ax.set_ylabel("test MSE")
            else:
                ax.axhline(0.5, **THEORY, label="1/2: sup error while pieces <= teeth")
                ax.set_ylabel("max |error|")
            n_train, n_test = int(full["n_train"].iloc[0]), int(full["n_test"].iloc[0])
            ex = sawtooth_exact_errors(full["target"].iloc[0], n_train, n_test)
            if ex is not None:
                k, mse, sup = ex
                y = max(mse if metric == "test_mse" else sup, 1e-16)
                ax.plot([6 * k + 1], [y], marker="*", markersize=13, color="k", linestyle="none",
                        label=f"hand-set width-2 depth-{k} net (exact)")
            ax.set_yscale("log")
            ax.set_xlabel("parameters (6L + 1 for both families)")
            ax.set_title(f"{target}: {metric.replace('_', ' ')}")
            ax.legend(fontsize=6.5, loc="lower left")
    fig.suptitle(the_study.title, fontsize=10)
    fig.tight_layout()
    return fig


def findings(joined: pd.DataFrame, the_study) -> Findings:
    df = _prepare(joined)
    rows, ok = [], True
    for target, d in df.groupby("target", sort=False):
        full = joined[joined["target"] == targets.get(target).name]
        ex = sawtooth_exact_errors(full["target"].iloc[0], int(full["n_train"].iloc[0]),
                          int(full["n_test"].iloc[0]))
        for fam, sub in (("deep", d[d["width"] == 2]), ("shallow", d[d["depth"] == 1])):
            g = sub.groupby("params")
            best, fl = g["test_mse"].min(), g["floor"].first()
            sup = g["max_abs_err"].min()
            pieces = [theory.relu_max_pieces([w] * L) for w, L in
                      g[["width", "depth"]].first().itertuples(index=False)]
            below = int(floors.below(best, fl, sub["variance"].iloc[0]).sum())
            ok &= below == 0
            rows.append({"target": target, "family": fam, "params": list(best.index),
                         "max pieces": pieces, "best test MSE": [f"{v:.2g}" for v in best],
                         "best max|err|": [f"{v:.2g}" for v in sup], "below floor": below})
            if fam == "shallow":  # fewer pieces than the sawtooth: a floor above 0 (Telgarsky)
                short = [f for f, p in zip(fl, pieces, strict=True) if p < 2 * teeth(target)]
                ok &= all(f > 0 for f in short)
        if ex is not None:
            k, mse, sup = ex
            ok &= mse < 1e-20 * full["variance"].iloc[0]  # the hand-set net is the sawtooth
            rows.append({"target": target, "family": f"hand-set depth {k}", "params": [6 * k + 1],
                         "max pieces": [2**k], "best test MSE": [f"{mse:.2g}"],
                         "best max|err|": [f"{sup:.2g}"], "below floor": 0})
    table = pd.DataFrame(rows)
    deep, shallow = df[df["width"] == 2], df[df["depth"] == 1]
    at = sorted(set(deep["params"]) & set(shallow["params"]))
    wins = sum(deep.loc[deep["params"] == p, "test_mse"].min() <
               shallow.loc[shallow["params"] == p, "test_mse"].min() for p in at
               for _ in [0]) if at else 0
    caption = (
        f"Best of seeds at equal parameter counts: the trained deep narrow net beats the "
        f"trained shallow wide one at {wins} of {len(at)} (target, size) points. "
        f"The sawtooth is exactly a width-2 net of depth log2(teeth) + 1 (stars: hand-set "
        f"weights, error at rounding level); training from random starts rarely finds it, "
        f"while every trained net stays above the exact floor for its number of linear "
        f"pieces ({int(table['below floor'].sum())} runs below)."
    )
    verdict = ("Depth buys pieces: a width-2 net of depth k represents the 2^(k-1)-tooth "
               "sawtooth exactly, which no shallow net of equal size can (its floor stays "
               "above 0); no trained net beats its floor." if ok else
               "Some trained net fell below the exact floor for its piece count: a bug.")
    return Findings(caption, table, verdict, ok)

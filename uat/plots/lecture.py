"""The lecture's examples: logistic regression vs "two logistic regressions combined" on data
a line cannot separate (XOR's best cross-entropy for logistic regression is exactly ln 2),
and a fit of the ethyl-acetate 1H NMR spectrum vs width."""

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import pyplot as plt

from uat import summary, targets
from uat.plots import THEORY, Findings, band, log2_width_axis, trained_output
from uat.theory import table as floors

LN2 = floors.LN2


def _model(row) -> str:
    return "logistic regression" if row["depth"] == 0 else f"{row['width']} hidden units"


def _split(joined: pd.DataFrame):
    df = summary.label(joined)
    df["model"] = df.apply(_model, axis=1)
    return df[df["loss"] == "bce"], df[df["loss"] == "mse"]


def figure(joined: pd.DataFrame, the_study):
    out = joined.attrs.get("out", "results")
    cls, reg = _split(joined)
    fig = plt.figure(figsize=(13.5, 7.2))
    grid = fig.add_gridspec(2, 3)
    if not cls.empty:
        _bars(fig.add_subplot(grid[0, 0]), cls, "accuracy", "test accuracy (best of seeds)")
        ax = fig.add_subplot(grid[0, 1])
        _bars(ax, cls, "train_loss", "train cross-entropy (best of seeds)")
        xor = [i for i, t in enumerate(dict.fromkeys(cls["target"])) if t.startswith("xor")]
        for i in xor:
            ax.plot([i - 0.4, i + 0.4], [LN2, LN2], **THEORY, label="ln 2: best logistic on XOR")
        ax.legend(fontsize=7)
        _regions(fig.add_subplot(grid[0, 2]), cls, out)
    if not reg.empty:
        _nmr_error(fig.add_subplot(grid[1, 0]), reg)
        _nmr_fit(fig.add_subplot(grid[1, 1:]), reg, out)
    fig.suptitle(the_study.title, fontsize=10)
    fig.tight_layout()
    return fig


def _bars(ax, cls, metric, label):
    agg = "max" if metric == "accuracy" else "min"
    t = cls.groupby(["target", "model"], sort=False)[metric].agg(agg).reset_index()
    sns.barplot(data=t, x="target", y=metric, hue="model", ax=ax, palette="deep")
    ax.set_ylabel(label)
    ax.set_xlabel("")
    if metric != "accuracy":  # separable sets drive the loss to 0: show down to 1e-12
        ax.set_yscale("log")
        ax.set_ylim(1e-12, 3)
    ax.legend(fontsize=7, title=None)


def _regions(ax, cls, out):
    """Decision regions of the best logistic regression and the best 2-unit net on one set."""
    name = next((t for t in dict.fromkeys(cls["target"]) if t.startswith("moons")),
                cls["target"].iloc[0])
    d = cls[cls["target"] == name]
    t = targets.get(name)  # labels are specs too
    full = d.iloc[0]
    data = targets.sample(targets.get(name), int(full["n_train"]),
                          int(full["n_test"]))
    g = np.linspace(t.lo, t.hi, 160)
    GX = np.stack(np.meshgrid(g, g)).reshape(2, -1)
    y = data.Y_test[0]
    ax.scatter(data.X_test[0], data.X_test[1], c=np.where(y > 0.5, "C1", "C0"), s=4, alpha=0.5)
    for model, color in (("logistic regression", "C2"), ("2 hidden units", "k")):
        m = d[d["model"] == model]
        if m.empty:
            continue
        best = m.loc[m["train_loss"].idxmin()]
        p = trained_output(out, best, GX)[0].reshape(len(g), len(g))
        ax.contour(g, g, p, levels=[0.5], colors=[color], linewidths=1.5)
        ax.plot([], [], color=color, label=f"{model}: p = 1/2 (acc {best['accuracy']:.2f})")
    ax.set_title(f"{name}: decision boundaries (test points)")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_aspect("equal")


def _nmr_error(ax, reg):
    colors = dict(zip(dict.fromkeys(reg["activation"]), sns.color_palette("deep"),
                      strict=False))
    for act, d in reg.groupby("activation", sort=False):
        d = d.assign(rel=d["test_mse"] / d["variance"])
        band(ax, d, "width", "rel", act, colors[act])
    relu = reg[reg["activation"] == "relu"].groupby("width")[["floor", "variance"]].first()
    if not relu.empty and relu["floor"].notna().any():
        ax.plot(relu.index, relu["floor"] / relu["variance"], **THEORY,
                label="ReLU exact floor (free-knot PL)")
    ax.set_yscale("log")
    log2_width_axis(ax, reg["width"])
    ax.set_xlabel("width (one hidden layer)")
    ax.set_ylabel("test MSE / variance of the spectrum")
    ax.set_title("NMR spectrum (ethyl acetate, 60 MHz): error vs width")
    ax.legend(fontsize=7)


def _nmr_fit(ax, reg, out):
    first = reg.iloc[0]
    t = targets.get(first["target"])
    data = targets.sample(t, int(first["n_train"]), int(first["n_test"]))
    ppm = 2.75 + 2.25 * data.X_test[0]  # x in [-1, 1] <-> 0.5 .. 5.0 ppm (uat.targets.nmr)
    ax.plot(ppm, data.Y_test[0], color="0.2", linewidth=1.6, label="spectrum (target)")
    w_max = reg["width"].max()
    for i, (act, d) in enumerate(reg[reg["width"] == w_max].groupby("activation", sort=False)):
        best = d.loc[d["test_mse"].idxmin()]
        ax.plot(ppm, trained_output(out, best, data.X_test)[0], color=f"C{i}", linewidth=1.0,
                linestyle="--", label=f"{act}, width {w_max} (best of seeds)")
    ax.invert_xaxis()  # NMR convention: ppm decreases to the right
    ax.set_xlabel("chemical shift (ppm)")
    ax.set_ylabel("intensity")
    ax.set_title("the spectrum and the best fits at the largest width")
    ax.legend(fontsize=7)


def findings(joined: pd.DataFrame, the_study) -> Findings:
    cls, reg = _split(joined)
    rows, claims = [], []
    for (target, model), d in cls.groupby(["target", "model"], sort=False):
        rows.append({"target": target, "model": model, "best test accuracy": d["accuracy"].max(),
                     "best train cross-entropy": d["train_loss"].min(), "seeds": len(d)})
    xor = cls[cls["target"].str.startswith("xor")]
    if not xor.empty:
        lr = xor[xor["depth"] == 0]
        hid = xor[xor["depth"] > 0]
        ce = lr["train_loss"].min()
        claims.append(bool(abs(ce - LN2) <= 1e-6 * LN2 and lr["accuracy"].max() <= 0.75))
        claims.append(bool(hid["accuracy"].max() == 1.0))
    for (act, w), d in reg.groupby(["activation", "width"], sort=False):
        rows.append({"target": d["target"].iloc[0], "model": f"{act}, width {w}",
                     "best test MSE / variance": (d["test_mse"] / d["variance"]).min(),
                     "seeds": len(d)})
    table = pd.DataFrame(rows)
    parts = []
    if not xor.empty:
        parts.append(f"On XOR logistic regression's best cross-entropy is {ce:.7f} "
                     f"(ln 2 = {LN2:.7f}) with accuracy at most {lr['accuracy'].max():.2f}; two "
                     f"hidden sigmoid units reach accuracy {hid['accuracy'].max():.2f}.")
    if not reg.empty:
        w_max = reg["width"].max()
        best = reg[reg["width"] == w_max].groupby("activation")["test_mse"].min() / \
            reg["variance"].iloc[0]
        parts.append("NMR spectrum at width " + str(w_max) + ": best test MSE / variance " +
                     ", ".join(f"{a} {v:.2g}" for a, v in best.items()) + ".")
    ok = all(claims) if claims else None
    verdict = ("A line cannot separate XOR (logistic regression stops exactly at ln 2, every "
               "prediction 1/2); two logistic regressions combined can." if ok else
               "XOR does not behave as the lecture says; see the table." if ok is False else
               "No checkable claim in the stored runs.")
    return Findings(" ".join(parts), table, verdict, ok)

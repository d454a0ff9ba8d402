"""The lecture's examples: logistic regression vs "two logistic regressions combined" on data
a line cannot separate (XOR's best cross-entropy for logistic regression is exactly ln 2),
and a fit of the ethyl-acetate 1H NMR spectrum vs width."""

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from uat import summary, targets
from uat.plots import (
    THEORY,
    Findings,
    band,
    color,
    floor_line,
    legend_below,
    log2_width_axis,
    stat_title,
    trained_output,
)
from uat.theory import table as floors

LN2 = floors.LN2
MODELS = {"logistic regression": "0.45", "2 hidden units": "C0", "4 hidden units": "C1"}


def _model(row) -> str:
    return "logistic regression" if row["depth"] == 0 else f"{row['width']} hidden units"


def misfit(runs) -> str | None:
    """Why this figure cannot draw the grid (None when it can): the lecture's examples,
    decision regions of 2-D classification targets and the fit of the NMR spectrum (a
    spectrum of your own: the generic figure, which maps a data file's x back to its units)."""
    for r in runs:
        t = targets.get(r.target)
        if t.kind == "classification" and t.dim != 2:
            return f"draws 2-D classification targets; {r.target} is {t.dim}-D"
        if t.kind == "regression" and not r.target.startswith("nmr("):
            return f"draws the NMR spectrum as its regression target; the grid has {r.target}"
    return None


def _split(joined: pd.DataFrame):
    df = summary.label(joined)
    df["model"] = df.apply(_model, axis=1)
    return df[df["loss"] == "bce"], df[df["loss"] == "mse"]


def figure(joined: pd.DataFrame, the_study):
    out = joined.attrs.get("out", "results")
    cls, reg = _split(joined)
    fig = plt.figure(figsize=(12.0, 7.6))
    grid = fig.add_gridspec(2, 3)
    axes = []
    if not cls.empty:
        axes.append(fig.add_subplot(grid[0, 0]))
        _bars(axes[-1], cls, "accuracy", "test accuracy")
        axes.append(fig.add_subplot(grid[0, 1]))
        _bars(axes[-1], cls, "train_loss", "train cross-entropy")
        xor = [i for i, t in enumerate(dict.fromkeys(cls["target"])) if t.startswith("xor")]
        for i in xor:
            axes[-1].plot([i - 0.4, i + 0.4], [LN2, LN2], **THEORY,
                          label="ln 2: exact floor of logistic regression on XOR")
        axes.append(fig.add_subplot(grid[0, 2]))
        _regions(axes[-1], cls, out)
    if not reg.empty:
        axes.append(fig.add_subplot(grid[1, 0]))
        _nmr_error(axes[-1], reg)
        axes.append(fig.add_subplot(grid[1, 1:]))
        _nmr_fit(axes[-1], reg, out)
    fig.suptitle(the_study.title)
    fig.tight_layout()
    legend_below(fig, np.array(axes), stat_title(joined, ["target", "activation", "width",
                                                          "depth"]) +
                 "; bars: median, whiskers: min to max", 3)
    return fig


def _bars(ax, cls, metric, label):
    """Median over seeds per (target, model) as a bar, min to max as a whisker."""
    t = cls.groupby(["target", "model"], sort=False)[metric].agg(["median", "min", "max"])
    tl = list(dict.fromkeys(cls["target"]))
    models = [m for m in MODELS if m in set(cls["model"])]
    w = 0.8 / len(models)
    for j, model in enumerate(models):
        x = [i - 0.4 + w * (j + 0.5) for i, target in enumerate(tl) if (target, model) in t.index]
        v = t.loc[[(target, model) for target in tl if (target, model) in t.index]]
        ax.bar(x, v["median"], width=w, color=MODELS[model], label=model)
        ax.errorbar(x, v["median"], yerr=[v["median"] - v["min"], v["max"] - v["median"]],
                    fmt="none", ecolor="0.2", capsize=0, linewidth=1.0)
    ax.set_xticks(range(len(tl)))
    ax.set_xticklabels([t.split("(")[0] for t in tl])
    ax.set_ylabel(f"{label} (median over seeds)")
    if metric != "accuracy":  # separable sets drive the loss to 0: show down to 1e-12
        ax.set_yscale("log")
        ax.set_ylim(1e-12, 3)


def _regions(ax, cls, out):
    """Decision regions of the median seed (by train loss) of logistic regression and of the
    2-unit net on one set."""
    name = next((t for t in dict.fromkeys(cls["target"]) if t.startswith("moons")),
                cls["target"].iloc[0])
    d = cls[cls["target"] == name]
    t = targets.get(name)  # labels are specs too
    data = targets.sample(t, int(d["n_train"].iloc[0]), int(d["n_test"].iloc[0]))
    g = np.linspace(t.lo, t.hi, 160)
    GX = np.stack(np.meshgrid(g, g)).reshape(2, -1)
    y = data.Y_test[0]
    ax.scatter(data.X_test[0], data.X_test[1], c=np.where(y > 0.5, "C1", "C0"), s=4, alpha=0.5)
    for model in ("logistic regression", "2 hidden units"):
        m = d[d["model"] == model].sort_values("train_loss")
        if m.empty:
            continue
        median = m.iloc[(len(m) - 1) // 2]
        p = trained_output(out, median, GX)[0].reshape(len(g), len(g))
        ax.contour(g, g, p, levels=[0.5], colors=[MODELS[model]], linewidths=1.5)
        ax.plot([], [], color=MODELS[model],
                label=f"{model}, median seed: p = 1/2 (accuracy {median['accuracy']:.2f})")
    ax.set_title(f"{name}: decision boundaries, test points")
    ax.set_aspect("equal")


def _nmr_error(ax, reg):
    for act, d in reg.groupby("activation", sort=False):
        band(ax, d.assign(rel=d["test_mse"] / d["variance"]), "width", "rel", act, color(act))
    relu = reg[reg["activation"] == "relu"].groupby("width")[["floor", "variance"]].first()
    if not relu.empty and relu["floor"].notna().any():
        floor_line(ax, relu.index, relu["floor"] / relu["variance"], False,
                   "ReLU free-knot floor")
    ax.set_yscale("log")
    log2_width_axis(ax, reg["width"])
    ax.set_xlabel("width (one hidden layer)")
    ax.set_ylabel("test MSE / variance")
    ax.set_title("NMR spectrum: error vs width")


def _nmr_fit(ax, reg, out):
    first = reg.iloc[0]
    t = targets.get(first["target"])
    data = targets.sample(t, int(first["n_train"]), int(first["n_test"]))
    ppm = 2.75 + 2.25 * data.X_test[0]  # x in [-1, 1] <-> 0.5 .. 5.0 ppm (uat.targets.nmr)
    ax.plot(ppm, data.Y_test[0], color="0.2", linewidth=1.6, label="spectrum (target)")
    w_max = reg["width"].max()
    for act, d in reg[reg["width"] == w_max].groupby("activation", sort=False):
        median = d.sort_values("test_mse").iloc[(len(d) - 1) // 2]
        ax.plot(ppm, trained_output(out, median, data.X_test)[0], color=color(act),
                linewidth=1.0, linestyle="--", label=f"{act}, width {w_max}, median seed")
    ax.invert_xaxis()  # NMR convention: ppm decreases to the right
    ax.set_xlabel("chemical shift (ppm)")
    ax.set_ylabel("intensity")
    ax.set_title("ethyl acetate, 60 MHz: the spectrum and the median fits")


def findings(joined: pd.DataFrame, the_study) -> Findings:
    cls, reg = _split(joined)
    rows = []
    for (target, model), d in cls.groupby(["target", "model"], sort=False):
        rows.append({"target": target, "model": model,
                     "median test accuracy": d["accuracy"].median(),
                     "median train cross-entropy": d["train_loss"].median(), "seeds": len(d)})
    for (act, w), d in reg.groupby(["activation", "width"], sort=False):
        rows.append({"target": d["target"].iloc[0], "model": f"{act}, width {w}",
                     "median test MSE / variance": (d["test_mse"] / d["variance"]).median(),
                     "seeds": len(d)})
    parts = ["Bars and lines are medians over seeds (whiskers and bands: min to max)."]
    xor = cls[cls["target"].str.startswith("xor")]
    if not xor.empty:
        lr, hid = xor[xor["depth"] == 0], xor[xor["depth"] > 0]
        parts.append(f"On XOR logistic regression's median cross-entropy is "
                     f"{lr['train_loss'].median():.7f} (ln 2 = {LN2:.7f}), accuracy at most "
                     f"{lr['accuracy'].max():.2f}; with hidden sigmoid units the median "
                     f"accuracy is {hid['accuracy'].median():.2f}.")
    if not reg.empty:
        w_max = reg["width"].max()
        med = reg[reg["width"] == w_max].groupby("activation")["test_mse"].median() / \
            reg["variance"].iloc[0]
        parts.append(f"NMR spectrum at width {w_max}: median test MSE / variance " +
                     ", ".join(f"{a} {v:.2g}" for a, v in med.items()) + ".")
    return Findings(" ".join(parts), pd.DataFrame(rows))

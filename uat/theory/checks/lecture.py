"""The lecture's examples, tested on trained networks: logistic regression (no hidden layer)
cannot separate XOR and stops exactly at cross-entropy ln 2; two logistic regressions combined
(two hidden sigmoid units) separate it; hidden units beat a line on moons and circles; and the
NMR spectrum's error falls with width."""

import pandas as pd

from uat.theory import table as theory_table
from uat.theory.checks.common import ALPHA, decreasing, falls, floor_check, fmt, ok_rows, tally
from uat.theory.verdict import Check, all_of, at_most, fraction

LN2 = theory_table.LN2
ON_LN2 = 1e-6  # relative: logistic regression's cross-entropy "is" ln 2
MOST = 0.5


def _cls(df: pd.DataFrame) -> pd.DataFrame:
    return ok_rows(df[df["loss"] == "bce"])


def checks(joined: pd.DataFrame) -> list[Check]:
    cls, reg = _cls(joined), ok_rows(joined[joined["loss"] == "mse"])
    xor = cls[cls["target"].str.startswith("xor")]
    line, hidden = xor[xor["depth"] == 0], xor[xor["depth"] > 0]
    on = (line["train_loss"] - LN2).abs() <= ON_LN2 * LN2
    at_ln2 = fraction(
        check="logistic-regression-at-ln2", kind="prediction",
        claim="Logistic regression on the four XOR points stops exactly at its floor, mean "
              "cross-entropy ln 2 (every prediction 1/2).",
        statistic=f"fraction of depth-0 seeds with train cross-entropy within {ON_LN2:g} "
                  f"(relative) of ln 2; 95% Wilson interval",
        k=int(on.sum()), n=len(line), threshold=MOST,
        detail=f"median {line['train_loss'].median():.7f} (ln 2 = {LN2:.7f})" if len(line)
        else "")
    out = [floor_check(joined, at_ln2, "cross-entropy ln 2 for logistic regression on XOR"),
           at_ln2]
    out.append(at_most(
        check="a-line-cannot-separate-xor", kind="floor",
        claim="No logistic regression classifies more than 3 of the 4 XOR points correctly.",
        statistic="depth-0 seeds with test accuracy above 3/4",
        observed=int((line["accuracy"] > 0.75).sum()), n=len(line), threshold=0,
        power=at_ln2))  # logistic regression that reached ln 2 is as good as a line gets
    solved = hidden["accuracy"] >= 1.0
    out.append(fraction(
        check="two-units-separate-xor", kind="prediction",
        claim="Two logistic regressions combined (a hidden layer of sigmoid units) separate "
              "XOR: all four points right.",
        statistic="fraction of hidden-layer seeds with test accuracy 1; 95% Wilson interval",
        k=int(solved.sum()), n=len(hidden), threshold=MOST))
    states, notes = [], []
    for target, d in cls[~cls["target"].str.startswith("xor")].groupby("target", sort=False):
        lr, hid = d[d["depth"] == 0], d[d["depth"] > 0]
        if lr.empty or hid.empty:
            continue
        r = falls(-hid["accuracy"], -lr["accuracy"])  # hidden accuracy above the line's
        states.append(r.state)
        notes.append(f"{target}: median accuracy {hid['accuracy'].median():.3f} vs "
                     f"{lr['accuracy'].median():.3f}, p = {r.p:.2g} ({r.state})")
    out.append(all_of(
        check="hidden-units-beat-a-line", kind="prediction",
        claim="On data a line cannot separate (moons, circles), hidden units classify better "
              "than logistic regression.",
        statistic=f"targets whose hidden-layer seeds have higher test accuracy than the "
                  f"depth-0 seeds (one-sided Mann-Whitney, p < {ALPHA})",
        **tally(states), detail="; ".join(notes)))
    states, notes = [], []
    for act, d in reg.groupby("activation", sort=False):
        if d["width"].nunique() < 2:
            continue
        r = decreasing(d["width"], d["test_mse"])
        states.append(r.state)
        med = d.groupby("width")["test_mse"].median() / d["variance"].iloc[0]
        notes.append(f"{act}: median {fmt(med.iloc[0])} of the variance at width "
                     f"{med.index[0]}, {fmt(med.iloc[-1])} at {med.index[-1]}, p = {r.p:.2g} "
                     f"({r.state})")
    out.append(all_of(
        check="nmr-error-falls-with-width", kind="prediction",
        claim="The NMR spectrum's fit improves with width for every activation.",
        statistic=f"activations whose test MSE falls with width (Kendall's tau over seeds, "
                  f"one-sided p < {ALPHA})",
        **tally(states), detail="; ".join(notes)))
    return out

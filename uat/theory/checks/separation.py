"""Depth separation on Telgarsky's sawtooth, tested on trained networks (Telgarsky 2016):
deep narrow ReLU nets against shallow wide ones with the same number of parameters.

The theorem's evidence is the trained comparison at equal size; that a hand-set width-2 net
of depth k *is* the sawtooth is a representation fact, reported as its own check.
"""

import pandas as pd

from uat.theory.checks.common import (
    ALPHA,
    MIN_SEEDS,
    falls,
    floor_check,
    fmt,
    ok_rows,
    reach_floor,
    tally,
    usage,
)
from uat.theory.constructions import sawtooth_depth, sawtooth_exact_errors, teeth
from uat.theory.verdict import Check, all_of

EXACT = 1e-20  # x the variance: the hand-set net's test MSE is rounding
NEAR = 1.5  # power: a run within this factor of its piece-count floor presses against it
REACH = 0.05  # power: at least this share of the runs do (each one tests the floor)


def _families(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(deep: width 2 and depth >= 2, shallow: depth 1), each with its parameter count."""
    return df[(df["width"] == 2) & (df["depth"] >= 2)], df[df["depth"] == 1]


def _deep_beats_shallow(df: pd.DataFrame) -> Check:
    """Per (target, parameter count) where the deep net is at least the sawtooth's depth k (so
    it can be exact) and the shallow net's exact floor is above 0 (so it cannot): deep seeds
    below shallow seeds. Other sizes are reported, not judged."""
    deep, shallow = _families(ok_rows(df))
    states, notes = [], []
    for target, d in deep.groupby("target", sort=False):
        k = sawtooth_depth(target)
        s = shallow[shallow["target"] == target]
        for params, dd in d.groupby("n_params"):
            ss = s[s["n_params"] == params]
            if ss.empty:
                continue
            r = falls(dd["test_mse"], ss["test_mse"])
            lower = dd["test_mse"].median() < ss["test_mse"].median()
            few = min(len(dd), len(ss)) < MIN_SEEDS
            state = ("undecided" if few else r.state if lower or r.state != "pass"
                     else "undecided")  # a significant test must agree with the medians
            depth, width = int(dd["depth"].iloc[0]), int(ss["width"].iloc[0])
            decisive = k is not None and depth >= k and ss["floor"].iloc[0] > 0
            used = usage(dd, 2 * teeth(target)) if decisive else ""
            notes.append(f"{target}, {params} parameters (depth {depth} vs width {width}): "
                         f"median {fmt(dd['test_mse'].median())} vs "
                         f"{fmt(ss['test_mse'].median())}, p = {r.p:.2g} "
                         + (f"({state})" if decisive else "(not decisive)")
                         + (f"; deep nets: {used}" if used else ""))
            if decisive:
                states.append(state)
    return all_of(
        check="deep-beats-shallow", kind="prediction",
        claim="At every size where a width-2 net is deep enough to be the sawtooth exactly "
              "(depth >= log2(teeth) + 1) and a shallow net of the same parameter count "
              "cannot be (its piece-count floor is above 0), trained deep nets beat trained "
              "shallow ones.",
        statistic=f"decisive (target, parameter count) points whose deep seeds are below the "
                  f"shallow seeds (one-sided Mann-Whitney, p < {ALPHA}) with the lower median",
        **tally(states), detail="; ".join(notes))


def _hand_set(df: pd.DataFrame) -> Check:
    rows = []
    for target, d in df.groupby("target", sort=False):
        ex = sawtooth_exact_errors(target, int(d["n_train"].iloc[0]), int(d["n_test"].iloc[0]))
        if ex is not None:
            rows.append((target, *ex, float(d["variance"].iloc[0])))
    ok = [mse <= EXACT * var for _, _, mse, _, var in rows]
    return all_of(
        check="hand-set-net-is-exact", kind="representation",
        claim="A width-2 ReLU net of depth k with hand-set weights is the sawtooth with "
              "2^(k-1) teeth (a representation fact, not evidence from training).",
        statistic=f"targets whose hand-set net has test MSE <= {EXACT:g} x the variance",
        passed=sum(ok), failed=len(ok) - sum(ok),
        detail="; ".join(f"{t}: depth {k}, MSE {fmt(mse)}, max |error| {fmt(sup)}"
                         for t, k, mse, sup, _ in rows))


def _shallow_cannot(df: pd.DataFrame) -> Check:
    """The exact piece-count floor of a shallow net is above 0 exactly when it has fewer
    pieces (width + 1) than the sawtooth (2 teeth), by dynamic programming on the test
    points: depth 1 needs about 2^k units where depth k needs 2 per layer."""
    _, shallow = _families(df)
    fl = shallow.groupby(["target", "width"])["floor"].first()
    ok = [(v > 0) == (w + 1 < 2 * teeth(t)) for (t, w), v in fl.items()]
    return all_of(
        check="shallow-needs-the-pieces", kind="representation",
        claim="A shallow net is at a positive distance from the sawtooth exactly when it has "
              "fewer linear pieces than the sawtooth (width + 1 < 2 x teeth).",
        statistic="(target, width) of depth 1 whose exact free-knot floor is > 0 exactly when "
                  "width + 1 < 2 x teeth",
        passed=sum(ok), failed=len(ok) - sum(ok),
        detail="; ".join(f"{t} width {w}: {fmt(v)}" for (t, w), v in fl.items()))


def checks(joined: pd.DataFrame) -> list[Check]:
    power = reach_floor(ok_rows(joined), check="nets-reach-their-floor",
                        who="trained nets (floor: the one for their number of pieces)",
                        near=NEAR, share=REACH)
    return [floor_check(joined, power, "in mean square, and sup error 1/2 while the pieces "
                        "are no more than the teeth"), power, _deep_beats_shallow(joined),
            _hand_set(joined), _shallow_cannot(joined)]

"""Width: one hidden layer is universal iff the activation is not a polynomial (Cybenko 1989;
Hornik, Stinchcombe & White 1989; Hornik 1991; Leshno et al. 1993), tested on trained networks.

Every (target, activation) pair is classed by one rule that does not look at the activation's
name: *universal* when its median test error (over seeds, at its best width and optimizer) goes
below half the target's *polynomial bar*, and in sup norm below half the bar's sup version.
The bar is the lowest exact floor among the grid's polynomial controls that the measurement
can resolve (at least RESOLVE times the lowest median any pair reaches on the target, and at
least MEASURE times its variance, what LM resolves at all): a level
no polynomial net of that degree can beat, proven, and low enough that the experiment can show
an activation going under it. Non-polynomial activations must come out universal; every
polynomial must not, or the test cannot tell the two apart.
"""

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from uat.theory.checks.common import (
    ALPHA,
    MIN_SEEDS,
    decreasing,
    floor_check,
    fmt,
    is_poly,
    medians,
    ok_rows,
    tally,
)
from uat.theory.verdict import Check, all_of

RESOLVE = 10.0  # a control floor is a usable bar when >= this x the target's best median
BAR_MARGIN = 2.0  # universal: median below the bar / this
REACHED = 1.5  # a control "reaches" its floor: its median within this factor of it
AT_FLOOR = 10.0  # trend: within this factor of the target's best median is the floor ...
MEASURE = 1e-9  # ... and so is a test MSE below this x the variance (LM's ftol is 1e-10)


class Bar(NamedTuple):
    """A target's polynomial bar: the MSE level, its sup-norm version, and who sets it."""

    mse: float  # the control's exact MSE floor (NaN: no control is resolvable)
    sup: float  # its sup floor (minimax in 1-D; the root of the MSE floor in n-D)
    control: str  # the polynomial activation that sets it


def bars(df: pd.DataFrame) -> dict[str, Bar]:
    """Per target, its polynomial bar. df: one hidden layer, joined with theory."""
    best = medians(df, ["target", "activation", "optimizer", "width"]).groupby("target")[
        "median"].min()
    out = {}
    for target, d in df.groupby("target", sort=False):
        ctl = d[d["activation"].map(is_poly) & d["floor_exact"].astype(bool)]
        ctl = ctl[(ctl["floor"] >= RESOLVE * best[target])
                  & (ctl["floor"] >= MEASURE * d["variance"].iloc[0])]
        if ctl.empty:
            out[target] = Bar(math.nan, math.nan, "")
            continue
        row = ctl.loc[ctl["floor"].idxmin()]
        sup = row["sup_floor"] if np.isfinite(row["sup_floor"]) else math.sqrt(row["floor"])
        out[target] = Bar(float(row["floor"]), float(sup), row["activation"])
    return out


def classify(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (target, activation): the best median test MSE (`best`) and where
    (`width`, `optimizer`), the median max |error| there (`sup`), the target's bar, and the
    class (`cls`): universal, not universal, untested (below), or undecided (no bar on the
    target; fewer than
    MIN_SEEDS seeds in the best cell; or the pair's own floor still falls over the top quarter
    of the widths yet stays above the bar at every width of the grid: wider nets might go
    under, these cannot). A pair whose floor of theory does not fall with width and lies
    under half the bar is untested: going under the bar shows nothing (a degree-16 polynomial
    against a degree-8 bar), so it is left out of the counts and named in the detail. The
    rule reads no activation's name; the escapes need
    a floor of theory for the pair, which exists for ReLU-type activations (free-knot floors)
    and polynomials (whose floors do not fall with width), not for the smooth ones."""
    bar = bars(df)
    m = medians(df, ["target", "activation", "optimizer", "width"])
    sup = medians(df, ["target", "activation", "optimizer", "width"], "max_abs_err")
    sup = sup.set_index(["target", "activation", "optimizer", "width"])["median"]
    rows = []
    for (target, act), d in m.groupby(["target", "activation"], sort=False):
        best = d.loc[d["median"].idxmin()]
        b = bar[target]
        few = best["size"] < MIN_SEEDS  # a median of fewer seeds decides nothing
        at = (target, act, best["optimizer"], best["width"])
        own = df[(df["target"] == target) & (df["activation"] == act)].groupby("width")[
            "floor"].first().dropna()
        quarter = own[own.index <= own.index.max() // 4]
        shrinking = not quarter.empty and own.iloc[-1] < quarter.iloc[-1] * (1 - 1e-9)
        # a floor of theory at two or more widths, the largest included, that width keeps
        widths = df.loc[(df["target"] == target) & (df["activation"] == act), "width"]
        fixed = (len(own) >= 2 and own.index.max() == widths.max()
                 and own.min() >= own.max() * (1 - 1e-9))
        if not math.isfinite(b.mse) or few:
            cls = "undecided"
        elif fixed and 0 < own.min() < b.mse / BAR_MARGIN:
            cls = "untested"  # its own proven floor is under the bar: the bar cannot class it
        elif best["median"] < b.mse / BAR_MARGIN and sup[at] < b.sup / BAR_MARGIN:
            cls = "universal"
        elif shrinking and own.min() >= b.mse / BAR_MARGIN:
            cls = "undecided"
        else:
            cls = "not universal"
        rows.append({"target": target, "activation": act, "polynomial": is_poly(act),
                     "best": best["median"], "sup": sup[at], "width": int(best["width"]),
                     "optimizer": best["optimizer"], "bar": b.mse, "sup_bar": b.sup,
                     "setter": b.control, "cls": cls})
    return pd.DataFrame(rows)


def keeps_falling(df: pd.DataFrame) -> pd.DataFrame:
    """Per non-polynomial pair, on the optimizer of its best cell: does the test MSE fall with
    width over the top of the grid (widths from a quarter of the largest up; Kendall's tau over
    every seed, one-sided p < ALPHA), or sit at the measurement's floor there (median at the
    largest width within AT_FLOOR of the lowest median any pair reaches on the target, or below
    MEASURE x the variance)?"""
    m = medians(df, ["target", "activation", "optimizer", "width"])
    best_on_target = m.groupby("target")["median"].min()
    var = df.groupby("target")["variance"].first()
    runs = ok_rows(df)
    rows = []
    for (target, act), d in m.groupby(["target", "activation"], sort=False):
        if is_poly(act):
            continue
        opt = d.loc[d["median"].idxmin(), "optimizer"]
        series = d[d["optimizer"] == opt].set_index("width")["median"]
        w_top = int(series.index.max())
        w_low = int(min((w for w in series.index if w >= w_top / 4), default=w_top))
        top, low = series[w_top], series[w_low]
        floor = max(best_on_target[target] * AT_FLOOR, MEASURE * var[target])
        sel = runs[(runs["target"] == target) & (runs["activation"] == act)
                   & (runs["optimizer"] == opt) & (runs["width"] >= w_low)]
        r = decreasing(np.log2(sel["width"]), sel["test_mse"])
        state = "pass" if top <= floor else r.state
        rows.append({"target": target, "activation": act, "optimizer": opt, "w_low": w_low,
                     "w_top": w_top, "low": low, "top": top, "p": r.p, "state": state})
    return pd.DataFrame(rows, columns=["target", "activation", "optimizer", "w_low", "w_top",
                                       "low", "top", "p", "state"])


def _listing(rows: pd.DataFrame) -> str:
    return "; ".join(f"{r.activation} on {r.target} ({r.cls}): MSE {fmt(r.best)} vs bar "
                     f"{fmt(r.bar)}, max |error| {fmt(r.sup)} vs {fmt(r.sup_bar)}"
                     for r in rows.itertuples())


def checks(joined: pd.DataFrame) -> list[Check]:
    df = joined[joined["depth"] == 1]
    cls = classify(df)
    poly, other = cls[cls["polynomial"]], cls[~cls["polynomial"]]
    m = medians(df[df["activation"].map(is_poly) & df["floor_exact"].astype(bool)],
                ["target", "activation", "optimizer", "width"])
    fl = df.groupby(["target", "activation", "width"])["floor"].first()
    reached = {r.target for r in m.itertuples()
               if r.median <= fl[(r.target, r.activation, r.width)] * REACHED}
    targets = list(dict.fromkeys(df["target"]))
    power = all_of(
        check="controls-reach-their-floor", kind="power",
        claim="On every target some polynomial control reaches its exact floor in training: "
              "the optimizer resolves polynomial floors, so a plateau on one is the theorem, "
              "not the optimizer.",
        statistic=f"targets where a polynomial control's median test MSE comes within "
                  f"{REACHED}x of its exact floor at some width",
        passed=len(reached), failed=0, undecided=len(targets) - len(reached),
        detail=", ".join(t for t in targets if t not in reached) and
        "none reached on " + ", ".join(t for t in targets if t not in reached))
    bar = bars(df)
    out = [floor_check(df, power), power]
    uni = other["cls"] == "universal"
    out.append(all_of(
        check="universal-below-polynomial-bar", kind="prediction",
        claim="Every non-polynomial activation, trained, goes below what a polynomial net can "
              "reach: at its best width its median test MSE is under half the target's "
              "polynomial bar, and its median max |error| under half the bar's sup floor.",
        statistic="non-polynomial (target, activation) pairs classed universal (median over "
                  "seeds at the best width and optimizer; bars: " + "; ".join(
                      f"{t} {fmt(b.mse)} / sup {fmt(b.sup)} by {b.control or 'none'}"
                      for t, b in bar.items()) + ")",
        passed=int(uni.sum()), failed=int((other["cls"] == "not universal").sum()),
        undecided=int((other["cls"] == "undecided").sum()),
        detail=_listing(other[~uni]) or f"all {len(other)} pairs below their bar"))
    untested = poly[poly["cls"] == "untested"]
    poly = poly[poly["cls"] != "untested"]
    wrong = poly["cls"] == "universal"
    out.append(all_of(
        check="polynomials-not-universal", kind="control",
        claim="The same rule classes every polynomial activation as not universal (Leshno et "
              "al.: a polynomial net is a polynomial of bounded degree).",
        statistic="polynomial (target, activation) pairs classed not universal",
        passed=int((poly["cls"] == "not universal").sum()), failed=int(wrong.sum()),
        undecided=int((poly["cls"] == "undecided").sum()),
        detail=(_listing(poly[wrong]) or f"{len(poly)} pairs of "
                + ", ".join(sorted(set(poly["activation"]))))
        + (f"; not tested (own floor under half the bar): {_listing(untested)}"
           if len(untested) else "")))
    t = keeps_falling(df)
    bad = t[t["state"] != "pass"]
    out.append(all_of(
        check="keeps-falling", kind="prediction",
        claim="A non-polynomial activation's test error keeps falling with width until it "
              "reaches the floor of the measurement.",
        statistic=f"non-polynomial pairs whose test MSE falls with width from a quarter of the "
                  f"largest width up (Kendall's tau over seeds, one-sided p < {ALPHA}), or whose "
                  f"median at the largest width is within {AT_FLOOR:g}x of the target's lowest "
                  f"median or below {MEASURE:g} x its variance (optimizer of the best cell)",
        **tally(t["state"]),
        detail="; ".join(f"{r.activation} on {r.target}: median {fmt(r.low)} at width "
                         f"{r.w_low}, {fmt(r.top)} at {r.w_top}, p = {r.p:.2g} ({r.state})"
                         for r in bad.itertuples())
        or f"all {len(t)} pairs"))
    barron = df[df["barron"].notna() & (df["barron"] < df["variance"])]
    return out + ([_barron(barron)] if not barron.empty else [])  # only where it applies


def _barron(d: pd.DataFrame) -> Check:
    """Barron 1993: some net of width w is within (2 r C_f)^2 / w in mean square; where that is
    below the variance (not vacuous: the configurations in d), the median trained sigmoidal
    net must be too."""
    m = medians(d, ["target", "activation", "optimizer", "width"])
    bound = d.groupby(["target", "activation", "optimizer", "width"])["barron"].first()
    states = ["undecided" if r.size < MIN_SEEDS else
              "pass" if r.median <= bound[(r.target, r.activation, r.optimizer, r.width)]
              else "fail" for r in m.itertuples()]
    return all_of(
        check="below-barron-bound", kind="prediction",
        claim="Where Barron's bound (2rC_f)^2/width is below the variance (not vacuous), the "
              "median trained sigmoidal net of that width is below it.",
        statistic="configurations (target, activation, optimizer, width) whose median test MSE "
                  "is at or below the bound",
        **tally(states), detail=f"{len(states)} non-vacuous configurations")


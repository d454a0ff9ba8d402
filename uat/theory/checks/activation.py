"""Activation family, tested on trained networks (Leshno, Lin, Pinkus & Schocken 1993): one
hidden layer is universal iff the activation is not a polynomial; a degree-d polynomial net is
a polynomial of degree d (d^L at depth L) and stops on that degree's exact floor; no activation
at all (the identity) is an affine map at any width and depth.

The universal / not-universal rule is the width study's (uat.theory.checks.width): the same
statistic classes every pair, and the polynomials are its controls.
"""

import numpy as np
import pandas as pd

from uat.theory.checks import width
from uat.theory.checks.common import (
    ALPHA,
    MIN_SEEDS,
    decreasing,
    degree,
    floor_check,
    fmt,
    is_poly,
    medians,
    ok_rows,
    reach_floor,
    tally,
)
from uat.theory.verdict import Check, all_of

ON_FLOOR = 1.10  # "on its floor": the median within this factor of it
REACH = 0.5  # power: at least this share of polynomial runs on their floor


def _attainable(df: pd.DataFrame) -> pd.DataFrame:
    """Polynomial configurations with an attainable (exact) floor, in the upper half of their
    attainable widths: at least the width that reaches the floor and half the largest width,
    where a generic hidden layer spans the polynomials with room to spare."""
    d = df[df["activation"].map(is_poly) & df["floor_exact"].astype(bool)]
    first = d.groupby(["target", "activation", "depth"])["width"].transform("min")
    top = d.groupby(["target", "activation", "depth"])["width"].transform("max")
    return d[d["width"] >= np.maximum(first, top / 2)]


def _on_floor(df: pd.DataFrame) -> tuple[Check, Check]:
    """Polynomial activations plateau on their floor: the power check (a share of the seeds
    on it) and the prediction (the median on it in every configuration)."""
    d = _attainable(df)
    power = reach_floor(ok_rows(d), check="polynomial-nets-reach-their-floor",
                        who="polynomial nets (upper half of the attainable widths)",
                        near=ON_FLOOR, share=REACH)
    m = medians(d, ["target", "activation", "width", "depth"])
    fl = d.groupby(["target", "activation", "width", "depth"])["floor"].first()
    ratio = [r.median / fl[(r.target, r.activation, r.width, r.depth)] for r in m.itertuples()]
    states = ["undecided" if r.size < MIN_SEEDS else "pass" if ratio[i] <= ON_FLOOR else "fail"
              for i, r in enumerate(m.itertuples())]
    bad = [f"{r.activation} width {r.width} depth {r.depth} on {r.target}: {ratio[i]:.3g}x "
           f"({states[i]})" for i, r in enumerate(m.itertuples()) if states[i] != "pass"]
    plateau = all_of(
        check="polynomials-on-their-floor", kind="prediction",
        claim="A polynomial activation (the identity included) plateaus exactly on its "
              "computed floor, the best polynomial of its degree: the plateau is the "
              "theorem's, not the optimizer's.",
        statistic=f"(target, activation, width, depth) in the upper half of the widths where "
                  f"the floor is attainable whose median test MSE is within {ON_FLOOR}x of it",
        **tally(states),
        detail="; ".join(bad) or (f"{len(ratio)} configurations, worst {max(ratio):.4g}x"
                                  if ratio else ""))
    return power, plateau


def _deeper(df: pd.DataFrame) -> list[Check]:
    """Depth with a polynomial activation: degree d^L, so the error falls with depth; without
    an activation (identity) every depth is the same affine map (the control)."""
    runs = ok_rows(df)
    grown, flat = [], []
    for (target, act, w), g in runs.groupby(["target", "activation", "width"], sort=False):
        if g["depth"].nunique() < 2 or not is_poly(act):
            continue
        med = g.groupby("depth")["test_mse"].median()
        if degree(act) == 1:  # the identity: an affine map at every depth
            state = ("undecided" if g.groupby("depth").size().min() < MIN_SEEDS else
                     "pass" if med.max() <= med.min() * ON_FLOOR else "fail")
            flat.append((target, act, w, state, med))
        else:
            r = decreasing(g["depth"], g["test_mse"])
            grown.append((target, act, w, r.state, med, r.p))
    return [
        all_of(check="depth-raises-the-degree", kind="prediction",
               claim="A polynomial activation at depth L is a polynomial of degree d^L: its "
                     "error falls with depth (never below the degree-d^L floor).",
               statistic=f"(target, activation, width) whose test MSE falls with depth "
                         f"(Kendall's tau over seeds, one-sided p < {ALPHA})",
               **tally(c[3] for c in grown),
               detail="; ".join(f"{a} width {w} on {t}: median {fmt(m.iloc[0])} at depth "
                                f"{m.index[0]}, {fmt(m.iloc[-1])} at {m.index[-1]}, p = {p:.2g}"
                                for t, a, w, _, m, p in grown)),
        all_of(check="identity-stays-affine", kind="control",
               claim="Without an activation depth changes nothing: every depth is the same "
                     "affine map.",
               statistic=f"(target, width) whose median test MSE is the same within "
                         f"{ON_FLOOR}x at every depth",
               **tally(c[3] for c in flat),
               detail="; ".join(f"width {w} on {t}: {fmt(m.min())} .. {fmt(m.max())}"
                                for t, _, w, _, m in flat)),
    ]


def checks(joined: pd.DataFrame) -> list[Check]:
    power, plateau = _on_floor(joined)
    out = [floor_check(joined, power), power, plateau]
    for c in width.checks(joined[joined["depth"] == 1]):  # the same rule and trend
        if c.check in ("universal-below-polynomial-bar", "polynomials-not-universal",
                       "keeps-falling"):
            out.append(c)
    deep = joined[joined.groupby(["target", "activation", "width"])["depth"]
                  .transform("nunique") > 1]
    return out + _deeper(deep)

"""Depth at narrow width, tested on trained networks: width <= n fails at every depth, width
n + 1 approximates with depth (Hanin & Sellke 2017; Johnson 2019), and a polynomial activation
at width n + m + 2 is universal with depth (Kidger & Lyons 2020).

Every statistic is per target (two targets of one input dimension are never mixed) and in the
theorems' own norm where they are uniform: max |error| against the sup floor of width n.
"""

import math

import numpy as np
import pandas as pd

from uat.theory.checks.common import (
    ALPHA,
    MIN_SEEDS,
    falls,
    floor_check,
    fmt,
    is_poly,
    ok_rows,
    reach_floor,
    tally,
    usage,
)
from uat.theory.verdict import Check, all_of, fraction

ON_FLOOR = 1.10  # "on its floor": the median within this factor of it
LEARNED = 0.5  # a narrow net "learned" when its test MSE is below this x the target's variance
DEAD = 1e-3  # a net within this (relative) of the variance is a constant: it never moved
REACH = 0.05  # 1-D power: at least this share of width-1 nets reach their floor
BEATS = 2.0  # width n + 1 beats width n when its max |error| is below the sup floor / this
MOST = 0.5  # "most seeds": a fraction whose whole 95% interval is at or above this
DEEP = 10.0  # Kidger-Lyons: the deepest square net below the shallow plateau / this


def _narrow(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of width <= n with a non-polynomial activation (where Johnson / Hanin-Sellke say
    every depth fails)."""
    return df[(df["width"] <= df["n_in"]) & ~df["activation"].map(is_poly)]


def _learned(df: pd.DataFrame, n: int) -> Check:
    """Power for the sup floors of n-D narrow nets: the width-<=n nets fit the target well in
    mean square, so their sup error staying above the floor is a constraint MSE does not
    explain, not a net that never moved (at 83% of the variance a sup floor tests nothing)."""
    d = ok_rows(_narrow(df))
    d = d[d["n_in"] == n]
    return fraction(
        check=f"narrow-nets-learned-n{n}", kind="power",
        claim=f"The width <= {n} nets on {n}-D targets fit well in mean square (test MSE "
              f"below {LEARNED:g} x the target's variance), so their sup error staying above "
              f"the floor tests the theorem.",
        statistic=f"fraction of width <= n runs (all depths, activations, targets) with test "
                  f"MSE < {LEARNED:g} x variance; 95% Wilson interval",
        k=int((d["test_mse"] < LEARNED * d["variance"]).sum()), n=len(d), threshold=MOST,
        detail=_median_share(d))


def _median_share(d: pd.DataFrame) -> str:
    share = (d["test_mse"] / d["variance"]).groupby([d["target"], d["activation"], d["width"]])
    return "; ".join(f"{a} width {w} on {t}: median {fmt(v)} of the variance"
                     for (t, a, w), v in share.median().items())


def _moved(d: pd.DataFrame) -> pd.Series:
    """Runs better than a constant (a dead net, constant on the data, has MSE = variance)."""
    return d["test_mse"] < (1 - DEAD) * d["variance"]


def _reach_floor(df: pd.DataFrame) -> Check:
    """Power for 1-D: enough width-1 nets press against their floor to test it."""
    d = ok_rows(_narrow(df))
    return reach_floor(d[(d["n_in"] == 1) & d["floor"].notna()],
                       check="narrow-nets-reach-floor-n1", who="1-D width-1 nets",
                       near=ON_FLOOR, share=REACH)


def _on_floor(df: pd.DataFrame) -> Check:
    """1-D, width 1: the nets that moved stop on the floor at every depth (exact clamp/ramp
    floors of ReLU; the isotonic infimum of monotone activations)."""
    d = ok_rows(_narrow(df))
    d = d[(d["n_in"] == 1) & d["floor"].notna()]
    passed, failed, undecided, bad = 0, 0, 0, []
    for (t, a, depth), g in d.groupby(["target", "activation", "depth"], sort=True):
        live = g[_moved(g)]
        if len(live) < MIN_SEEDS:
            undecided += 1
            bad.append(f"{a} on {t}, depth {depth}: {len(live)} of {len(g)} seeds moved")
            continue
        ratio = live["test_mse"].median() / g["floor"].iloc[0]
        ok = ratio <= ON_FLOOR
        passed, failed = passed + ok, failed + (not ok)
        if not ok:
            bad.append(f"{a} on {t}, depth {depth}: {ratio:.3g}x ({len(live)} of {len(g)} "
                       f"seeds moved)")
    return all_of(
        check="width-n-on-its-floor", kind="prediction",
        claim="In 1-D a width-1 net that learns stops on its floor at every depth (a clamp or "
              "ramp for ReLU, a monotone fit otherwise): more depth buys nothing.",
        statistic=f"(target, activation, depth) whose median test MSE over the seeds that beat "
                  f"a constant is within {ON_FLOOR}x of the width-1 floor (fewer than "
                  f"{MIN_SEEDS} such seeds: undecided)",
        passed=passed, failed=failed, undecided=undecided,
        detail="; ".join(bad) or f"{passed} configurations")


def _wider_beats(df: pd.DataFrame) -> Check:
    """Width n + 1 goes below what width n can reach, in sup norm: per (target, activation),
    the fraction of width-(n + 1) seeds at depths >= 2 with max |error| under the width-n sup
    floor / BEATS; each pair decided by its 95% interval against MOST."""
    passed, failed, undecided, notes = 0, 0, 0, []
    for (target, act), d in ok_rows(df).groupby(["target", "activation"], sort=False):
        n = int(d["n_in"].iloc[0])
        floor = d.loc[d["width"] <= n, "sup_floor"].max()
        wide = d[(d["width"] == n + 1) & (d["depth"] >= 2)]
        if is_poly(act) or wide.empty or not math.isfinite(floor):
            continue
        c = fraction(check="", kind="prediction", claim="", statistic="",
                     k=int((wide["max_abs_err"] < floor / BEATS).sum()), n=len(wide),
                     threshold=MOST)
        passed += c.outcome == "confirmed"
        failed += c.outcome == "contradicted"
        undecided += c.outcome == "inconclusive"
        used = usage(wide) if c.outcome != "confirmed" else ""
        notes.append(f"{act} width {n + 1} on {target}: {c.observed:.0%} of {c.n} "
                     f"[{c.low:.0%}, {c.high:.0%}] below {fmt(floor / BEATS)} ({c.outcome})"
                     + (f"; {used}" if used else ""))
    return all_of(
        check="width-n+1-beats-width-n", kind="prediction",
        claim="Width n + 1 approximates what width n cannot: most width-(n + 1) nets of depth "
              ">= 2 have max |error| under half the sup floor that binds every width-n net.",
        statistic=f"(target, activation) pairs whose fraction of width-(n + 1) seeds at depth "
                  f">= 2 below the width-n sup floor / {BEATS:g} has its 95% Wilson interval "
                  f"at or above {MOST:g} (contradicted: entirely below)",
        passed=passed, failed=failed, undecided=undecided, detail="; ".join(notes))


def _depth_helps(df: pd.DataFrame) -> Check:
    """Width n + 1: the seeds of every depth >= 2, pooled, below those of depth 1 (one-sided
    Mann-Whitney; no depth picked after the fact)."""
    states, notes = [], []
    for (target, act), d in ok_rows(df).groupby(["target", "activation"], sort=False):
        n = int(d["n_in"].iloc[0])
        wide = d[d["width"] == n + 1]
        if is_poly(act) or wide.empty or 1 not in set(wide["depth"]):
            continue
        deeper, shallow = wide[wide["depth"] >= 2], wide[wide["depth"] == 1]
        r = falls(deeper["test_mse"], shallow["test_mse"])
        few = min(len(deeper), len(shallow)) < MIN_SEEDS
        states.append("undecided" if few else r.state)
        notes.append(f"{act} width {n + 1} on {target}: median {fmt(deeper['test_mse'].median())}"
                     f" at depth >= 2 vs {fmt(shallow['test_mse'].median())} at depth 1, "
                     f"p = {r.p:.2g} ({states[-1]})")
    return all_of(
        check="depth-helps-width-n+1", kind="prediction",
        claim="At width n + 1 depth helps: nets with two or more hidden layers are better than "
              "nets with one.",
        statistic=f"(target, activation) pairs whose seeds at every depth >= 2, pooled, are "
                  f"below those at depth 1 (one-sided Mann-Whitney, p < {ALPHA})",
        **tally(states), detail="; ".join(notes))


def _kidger_lyons(df: pd.DataFrame) -> list[Check]:
    """The square activation at width n + m + 2: error falls with depth, below the plateau that
    one hidden layer of any width is stuck on (the degree-2 floor)."""
    out = []
    d = ok_rows(df[df["activation"].map(is_poly)])
    for (target, act, w), g in d.groupby(["target", "activation", "width"], sort=False):
        shallow = g[g["depth"] == 1]
        if shallow.empty or g["depth"].nunique() < 2:
            continue
        plateau = float(shallow["floor"].iloc[0])
        deepest = int(g["depth"].max())
        med = g.groupby("depth")["test_mse"].median()
        r = falls(g.loc[g["depth"] == deepest, "test_mse"], shallow["test_mse"])
        few = min(len(shallow), int((g["depth"] == deepest).sum())) < MIN_SEEDS
        state = ("undecided" if few or not np.isfinite(plateau) else
                 "fail" if not med[deepest] < plateau / DEEP else r.state)
        out.append(all_of(
            check=f"kidger-lyons-{act}-width-{w}", kind="prediction",
            claim=f"{act} at width {w} (n + m + 2 for n = m = 1: Kidger & Lyons, an upper bound) "
                  f"is universal with depth: the deepest nets go far below the degree "
                  f"floor one hidden layer is stuck on.",
            statistic=f"median test MSE at depth {deepest} below the depth-1 floor / {DEEP:g}, "
                      f"and its seeds below depth 1's (one-sided Mann-Whitney, p < {ALPHA})",
            **tally([state]),
            detail=f"on {target}: median {fmt(med[deepest])} at depth {deepest}, depth-1 floor "
                   f"{fmt(plateau)}, p = {r.p:.2g}"))
        on = ("undecided" if len(shallow) < MIN_SEEDS or not np.isfinite(plateau) else
              "pass" if shallow["test_mse"].median() <= plateau * ON_FLOOR else "fail")
        out.append(all_of(
            check=f"shallow-{act}-on-its-floor", kind="control",
            claim=f"With one hidden layer {act} sits on its polynomial floor (Leshno: it "
                  f"cannot go further at any width); only depth moves it.",
            statistic=f"median test MSE at depth 1 within {ON_FLOOR}x of the degree floor",
            **tally([on]),
            detail=f"on {target}: {fmt(shallow['test_mse'].median())} vs {fmt(plateau)}"))
    return out


def checks(joined: pd.DataFrame) -> list[Check]:
    out = []
    for n in sorted(int(n) for n in joined["n_in"].unique()):
        power = _reach_floor(joined) if n == 1 else _learned(joined, n)
        out += [floor_check(joined[joined["n_in"] == n], power, f"{n}-D targets", f"-n{n}"),
                power]
    out += [_on_floor(joined), _wider_beats(joined), _depth_helps(joined)]
    return out + _kidger_lyons(joined)

"""What every theorem's checks share: per-configuration statistics over seeds, the floor checks,
and one-sided rank tests between groups of seeds."""

import itertools
import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from uat import activations
from uat.theory import table
from uat.theory.verdict import Check, at_most, fraction

ALPHA = 0.05  # one-sided significance of every rank test
POWERED = ALPHA / 5  # a test "has power" when its group sizes could reach this p-value
MIN_SEEDS = 3  # a median over fewer seeds decides nothing
SUP_RTOL = 1e-9  # a sup floor is computed on the test points themselves: rounding only


def is_poly(activation: str) -> bool:
    return activations.get(activation).is_polynomial


def degree(activation: str) -> int | None:
    return activations.get(activation).poly_degree


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of networks that trained to the end (diverged rows have NaN errors)."""
    return df[df["status"] == "ok"]


def medians(df: pd.DataFrame, by: list[str], metric: str = "test_mse") -> pd.DataFrame:
    """Median, min, max and count over seeds of `metric` per configuration `by`."""
    return (ok_rows(df).groupby(by, sort=True)[metric]
            .agg(["median", "min", "max", "size"]).reset_index())


class Rank(NamedTuple):
    """A one-sided rank test of a claim ("below", "decreasing"): its p-value, the p-value of the
    opposite claim, and the smallest p-value the design (the group sizes, the ties in x)
    allows: a flat series tested with a design that could have shown a trend is evidence
    against the trend."""

    p: float
    p_reverse: float
    p_min: float

    @property
    def state(self) -> str:
        """"pass" (p < ALPHA); "fail" when the data go against the claim: the opposite is
        significant, or they do not even lean its way (p >= 1/2) though the test could have
        shown it clearly (p_min <= POWERED); "undecided" otherwise (too few seeds, or a lean
        that is not significant)."""
        if self.p < ALPHA:
            return "pass"
        if self.p_reverse < ALPHA or (self.p >= 0.5 and self.p_min <= POWERED):
            return "fail"
        return "undecided"


PERMUTATIONS = 4000  # random permutations of a rank test (p >= 1/4001) past the exact sizes
EXACT_UP_TO = 64  # points: permutation tests up to here, SciPy's normal approximation above
NONE = (1.0, 1.0, 1.0)  # a test without data


def _rng(n: int) -> np.random.Generator:
    return np.random.default_rng(n)  # seeded by the size alone: the same on every machine


def _p(count: int, size: int, exact: bool) -> float:
    """A permutation p-value from the count of arrangements as extreme: exact over all of
    them, (1 + count) / (R + 1) over R random ones."""
    return count / size if exact else (1 + count) / (size + 1)


def _rank(observed: int, null: np.ndarray, p_min: float, exact: bool) -> Rank:
    """One-sided p-values that an integer statistic is this small (the claim) and this large
    (the opposite) under `null`, the statistic over every arrangement (exact) or over
    PERMUTATIONS random ones."""
    return Rank(_p(int(np.count_nonzero(null <= observed)), null.size, exact),
                _p(int(np.count_nonzero(null >= observed)), null.size, exact), p_min)


def falls(better, worse) -> Rank:
    """One-sided test that `better` is stochastically below `worse`: the Mann-Whitney count of
    pairs (b, w) with b > w minus those with b < w, against its distribution over every split
    of the pooled values into the two group sizes (all of them when there are at most
    PERMUTATIONS, else that many random ones; SciPy's normal approximation past EXACT_UP_TO
    points). Ties count 0."""
    better, worse = np.asarray(better, float), np.asarray(worse, float)
    better, worse = better[np.isfinite(better)], worse[np.isfinite(worse)]
    m, n = better.size, worse.size
    if m == 0 or n == 0:
        return Rank(*NONE)
    if m + n > EXACT_UP_TO:
        from scipy import stats  # 0.8 s to import: only where verdicts are computed

        def p_of(a, b):
            return float(stats.mannwhitneyu(a, b, alternative="less").pvalue)
        return Rank(p_of(better, worse), p_of(worse, better), 1 / math.comb(m + n, m))
    pooled = np.concatenate([better, worse])
    cmp = np.sign(pooled[None, :] - pooled[:, None]).astype(np.int64)  # +1: column larger
    exact = math.comb(m + n, m) <= PERMUTATIONS
    if exact:
        groups = np.array(list(itertools.combinations(range(m + n), m)))
    else:
        groups = _rng(m + n).permuted(np.tile(np.arange(m + n), (PERMUTATIONS, 1)),
                                      axis=1)[:, :m]

    def statistic(M):  # (R, N) membership of the first group -> (R,) its excess of "above"
        return -np.sum((M @ cmp) * (1 - M), axis=1)

    member = np.zeros((len(groups), m + n), np.int64)
    np.put_along_axis(member, groups, 1, axis=1)
    first = np.zeros((1, m + n), np.int64)
    first[0, :m] = 1
    p_min = 1 / math.comb(m + n, m) if exact else 1 / (PERMUTATIONS + 1)  # no ties: one split
    return _rank(int(statistic(first)[0]), statistic(member), p_min, exact)


def decreasing(x, y) -> Rank:
    """One-sided test that y decreases with x: Kendall's S = sum over pairs of
    sign(x_j - x_i) sign(y_j - y_i) (tied x or y count 0), against its distribution over the
    arrangements of y (all of them up to 6 points, else PERMUTATIONS random ones; SciPy's
    tau-b approximation past EXACT_UP_TO points). The points are the seeds at several widths
    or depths."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 3 or np.unique(x).size < 2:
        return Rank(*NONE)
    if x.size > EXACT_UP_TO:
        from scipy import stats

        def p_of(v, alternative="less"):
            p = stats.kendalltau(x, v, alternative=alternative).pvalue
            return 1.0 if not np.isfinite(p) else float(p)

        return Rank(p_of(y), p_of(y, "greater"), p_of(-x))
    sx = np.triu(np.sign(x[None, :] - x[:, None])).astype(np.int8)  # (n, n), pairs i < j

    def s_of(v):  # (R, n) -> (R,) Kendall's S, in integers
        return np.einsum("ij,rij->r", sx, np.sign(v[:, None, :] - v[:, :, None]).astype(
            np.int8), dtype=np.int64)

    exact = math.factorial(x.size) <= PERMUTATIONS
    order = (np.array(list(itertools.permutations(range(x.size)))) if exact else
             _rng(x.size).permuted(np.tile(np.arange(x.size), (PERMUTATIONS, 1)), axis=1))
    design = s_of(np.arange(x.size, dtype=float)[order])  # distinct values: the design's null
    p_min = _p(int(np.count_nonzero(design <= int(s_of(-x[None])[0]))), design.size, exact)
    return _rank(int(s_of(y[None])[0]), s_of(y[order]), p_min, exact)


def tally(states) -> dict:
    """Counts of "pass", "fail" and "undecided" states as all_of's keyword arguments."""
    states = list(states)
    return {"passed": states.count("pass"), "failed": states.count("fail"),
            "undecided": states.count("undecided")}


def below_counts(df: pd.DataFrame) -> tuple[int, int, list[str]]:
    """(runs below an MSE or cross-entropy floor or a sup floor, runs with a floor, examples)."""
    error = np.where(df["loss"] == "bce", df["train_loss"], df["test_mse"])  # classification
    has_floor = df["floor"].notna() & np.isfinite(error)
    mse_below = has_floor & table.below(error, df["floor"].fillna(-np.inf), df["variance"])
    has_sup = df["sup_floor"].notna() & df["max_abs_err"].notna()
    sup_below = has_sup & (df["max_abs_err"] < df["sup_floor"] * (1 - SUP_RTOL))
    bad = df[mse_below | sup_below]
    examples = [f"{r.activation} width {r.width} depth {r.depth} on {r.target}, seed {r.seed}"
                for r in bad.head(3).itertuples()]
    return int(len(bad)), int((has_floor | has_sup).sum()), examples


def floor_check(df: pd.DataFrame, power: Check | None, what: str = "any network",
                suffix: str = "") -> Check:
    """No trained network below a floor of theory (MSE, cross-entropy or sup norm): a bug if
    one is; untested (inconclusive) when `power` says the nets never came near."""
    k, n, examples = below_counts(df)
    return at_most(
        check=f"no-run-below-a-floor{suffix}", kind="floor",
        claim=f"No trained network beats a proven floor for its shape ({what}), in mean "
              "square or sup norm.",
        statistic="runs with test MSE below the MSE floor (relative 1e-9) or max |error| below "
                  "the sup floor, of the runs that have a floor",
        observed=k, n=n, threshold=0, power=power,
        detail="; ".join(examples) if examples else f"{n} runs checked")


def reach_floor(runs: pd.DataFrame, *, check: str, who: str, near: float,
                share: float) -> Check:
    """Power for a floor check: the share of `runs` (rows that trained to the end) within
    `near` x their floor must be at least `share` (95% Wilson interval): each such net could
    have gone below the floor if it were wrong, so none doing so is evidence."""
    runs = runs[runs["floor"] > 0]  # a zero floor is met only by an exact net: no test of it
    k = int((runs["test_mse"] <= near * runs["floor"]).sum())
    return fraction(
        check=check, kind="power",
        claim=f"Enough {who} come within {near}x of their floor in training that none going "
              f"below it is evidence.",
        statistic=f"fraction of {who} with test MSE within {near}x of the floor; 95% Wilson "
                  f"interval",
        k=k, n=len(runs), threshold=share, detail=f"{k} of {len(runs)} runs")


def usage(runs: pd.DataFrame, needed: int | None = None) -> str:
    """What training used of the shape in these runs (uat.diagnose): how many ended with a
    dead unit, and for 1-D piecewise-linear nets the median linear pieces (of `needed`). It
    tells a contradicted prediction's optimizer failure from a shape that cannot: "" for a
    table stored without the diagnostics."""
    parts = []
    dead = runs["dead_end"].dropna() if "dead_end" in runs else pd.Series(dtype=float)
    if len(dead):
        parts.append(f"{int((dead > 0).sum())} of {len(dead)} ended with a dead unit")
    pieces = runs["pieces"].dropna() if "pieces" in runs else pd.Series(dtype=float)
    if len(pieces):
        parts.append(f"median {pieces.median():g} linear pieces"
                     + (f" of the {needed} needed" if needed else ""))
    return "; ".join(parts)


def fmt(value: float) -> str:
    """A number for a sentence: 3 significant digits, or 'n/a'."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}"

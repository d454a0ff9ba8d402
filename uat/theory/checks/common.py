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
    """A one-sided rank test: its p-value, and the smallest p-value the same group sizes
    could give (a test that cannot reach POWERED decides nothing)."""

    p: float
    p_min: float

    @property
    def state(self) -> str:
        """"pass" (p < ALPHA), "fail" (it could have passed clearly, and did not), or
        "undecided" (too few seeds for the test to tell)."""
        if self.p < ALPHA:
            return "pass"
        return "fail" if self.p_min <= POWERED else "undecided"


PERMUTATIONS = 4000  # random permutations of a rank test (p >= 1/4001) past the exact sizes
EXACT_UP_TO = 64  # points: permutation tests up to here, SciPy's normal approximation above


def _rng(n: int) -> np.random.Generator:
    return np.random.default_rng(n)  # seeded by the size alone: the same on every machine


def _perm_p(observed: float, null: np.ndarray, exact: bool) -> float:
    """One-sided p-value that the statistic is this small under `null`, the statistic over
    every arrangement (exact) or over PERMUTATIONS random ones ((1 + count) / (R + 1));
    integer statistics, so the counts are exact."""
    count = int(np.count_nonzero(null <= observed))
    return count / null.size if exact else (1 + count) / (null.size + 1)


def falls(better, worse) -> Rank:
    """One-sided test that `better` is stochastically below `worse`: the Mann-Whitney count of
    pairs (b, w) with b < w minus those with b > w, against its distribution over every split
    of the pooled values into the two group sizes (all of them when there are at most
    PERMUTATIONS, else that many random ones; SciPy's normal approximation past EXACT_UP_TO
    points). Ties count 0."""
    better, worse = np.asarray(better, float), np.asarray(worse, float)
    better, worse = better[np.isfinite(better)], worse[np.isfinite(worse)]
    m, n = better.size, worse.size
    if m == 0 or n == 0:
        return Rank(1.0, 1.0)
    if m + n > EXACT_UP_TO:
        from scipy import stats  # 0.8 s to import: only where verdicts are computed

        p = float(stats.mannwhitneyu(better, worse, alternative="less").pvalue)
        return Rank(p, 1 / math.comb(m + n, m))
    pooled = np.concatenate([better, worse])
    cmp = np.sign(pooled[None, :] - pooled[:, None]).astype(np.int64)  # +1: column larger
    exact = math.comb(m + n, m) <= PERMUTATIONS
    if exact:
        groups = np.array(list(itertools.combinations(range(m + n), m)))
    else:
        groups = _rng(m + n).permuted(np.tile(np.arange(m + n), (PERMUTATIONS, 1)),
                                      axis=1)[:, :m]
    member = np.zeros((len(groups), m + n), np.int64)
    np.put_along_axis(member, groups, 1, axis=1)

    def lower(M):  # (R, N) membership -> (R,) pairs with the group below minus above, negated
        return -np.sum((M @ cmp) * (1 - M), axis=1)

    null = lower(member)
    first = np.zeros((1, m + n), np.int64)
    first[0, :m] = 1
    smallest = np.zeros((1, m + n), np.int64)
    smallest[0, np.argsort(pooled, kind="stable")[:m]] = 1
    return Rank(_perm_p(lower(first)[0], null, exact), _perm_p(lower(smallest)[0], null, exact))


def decreasing(x, y) -> Rank:
    """One-sided test that y decreases with x: Kendall's S = sum over pairs of
    sign(x_j - x_i) sign(y_j - y_i) (tied x count 0), against its distribution over the
    arrangements of y (all of them up to 7 points, else PERMUTATIONS random ones; SciPy's
    tau-b approximation past EXACT_UP_TO points). The points are the seeds at several widths
    or depths."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 3 or np.unique(x).size < 2:
        return Rank(1.0, 1.0)
    if x.size > EXACT_UP_TO:
        from scipy import stats

        def p_of(v):
            p = stats.kendalltau(x, v, alternative="less").pvalue
            return 1.0 if not np.isfinite(p) else float(p)

        return Rank(p_of(y), p_of(-x))
    sx = np.triu(np.sign(x[None, :] - x[:, None])).astype(np.int8)  # (n, n), pairs i < j

    def s_of(v):  # (R, n) -> (R,) Kendall's S, in integers
        return np.einsum("ij,rij->r", sx, np.sign(v[:, None, :] - v[:, :, None]).astype(
            np.int8), dtype=np.int64)

    exact = math.factorial(x.size) <= PERMUTATIONS
    order = (np.array(list(itertools.permutations(range(x.size)))) if exact else
             _rng(x.size).permuted(np.tile(np.arange(x.size), (PERMUTATIONS, 1)), axis=1))
    null = s_of(y[order])
    return Rank(_perm_p(int(s_of(y[None])[0]), null, exact),
                _perm_p(int(s_of(-x[None])[0]), null, exact))


def tally(states) -> dict:
    """Counts of "pass", "fail" and "undecided" states as all_of's keyword arguments."""
    states = list(states)
    return {"passed": states.count("pass"), "failed": states.count("fail"),
            "undecided": states.count("undecided")}


def below_counts(df: pd.DataFrame) -> tuple[int, int, list[str]]:
    """(runs below an MSE or cross-entropy floor or a sup floor, runs with a floor, examples)."""
    ce = df["floor_kind"].fillna("").str.startswith("cross-entropy")
    error = np.where(ce, df["train_loss"], df["test_mse"])
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
    k = int((runs["test_mse"] <= near * runs["floor"]).sum())
    return fraction(
        check=check, kind="power",
        claim=f"Enough {who} come within {near}x of their floor in training that none going "
              f"below it is evidence.",
        statistic=f"fraction of {who} with test MSE within {near}x of the floor; 95% Wilson "
                  f"interval",
        k=k, n=len(runs), threshold=share, detail=f"{k} of {len(runs)} runs")


def fmt(value: float) -> str:
    """A number for a sentence: 3 significant digits, or 'n/a'."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}"

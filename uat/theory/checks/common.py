"""What every theorem's checks share: per-configuration statistics over seeds, the floor checks,
and one-sided rank tests between groups of seeds."""

import math

import numpy as np
import pandas as pd

from uat import activations
from uat.theory import table
from uat.theory.verdict import Check, at_most

ALPHA = 0.05  # one-sided significance of every rank test
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


def falls(better: np.ndarray, worse: np.ndarray) -> float:
    """One-sided Mann-Whitney p-value that `better` is stochastically below `worse`
    (the exact distribution for small groups; 1.0 when either group is empty)."""
    better, worse = np.asarray(better, float), np.asarray(worse, float)
    better, worse = better[np.isfinite(better)], worse[np.isfinite(worse)]
    if better.size == 0 or worse.size == 0:
        return 1.0
    from scipy import stats  # 0.8 s to import: only where verdicts are computed

    return float(stats.mannwhitneyu(better, worse, alternative="less").pvalue)


def decreasing(x, y) -> float:
    """One-sided p-value that y decreases with x: Kendall's tau-b over all (x, y) pairs (seeds
    at several widths or depths), alternative "less"; 1.0 with fewer than 3 finite points."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.unique(x[keep]).size < 2:
        return 1.0
    from scipy import stats

    p = stats.kendalltau(x[keep], y[keep], alternative="less").pvalue
    return 1.0 if not np.isfinite(p) else float(p)


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


def fmt(value: float) -> str:
    """A number for a sentence: 3 significant digits, or 'n/a'."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}"

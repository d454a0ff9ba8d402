"""uat.theory.verdict and the rank tests of uat.theory.checks.common (issue #10): intervals
against SciPy, outcomes at the edges, the theorem's verdict computed from its checks."""

import math

import numpy as np
import pytest
from scipy import stats

from uat.theory.checks import common
from uat.theory.verdict import (
    COLUMNS,
    REASONS,
    Check,
    all_of,
    at_most,
    fraction,
    overall,
    wilson,
    words,
)


@pytest.mark.parametrize("k, n", [(0, 5), (1, 5), (3, 5), (5, 5), (9, 10), (12, 24), (0, 1)])
def test_wilson_matches_scipy(k, n):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_without_data():
    assert all(math.isnan(v) for v in wilson(0, 0))


def _f(k, n, threshold=0.5):
    return fraction(check="c", kind="prediction", claim="", statistic="", k=k, n=n,
                    threshold=threshold).outcome


def test_fraction_outcomes_follow_the_interval():
    assert _f(5, 5) == "confirmed"  # [0.57, 1]
    assert _f(4, 5) == "inconclusive"  # [0.38, 0.96]
    assert _f(0, 5) == "contradicted"  # [0, 0.43]
    assert _f(0, 0) == "inconclusive"
    assert _f(9, 10, 0.9) == "inconclusive" and _f(100, 100, 0.9) == "confirmed"


def test_at_most_needs_power():
    power_ok = Check(check="p", kind="power", claim="", statistic="", observed=1, threshold=1,
                     outcome="confirmed")
    power_no = Check(check="p", kind="power", claim="", statistic="", observed=0, threshold=1,
                     outcome="contradicted")
    kw = dict(check="f", kind="floor", claim="", statistic="", n=10, threshold=0)
    assert at_most(observed=0, power=power_ok, **kw).outcome == "confirmed"
    assert at_most(observed=0, power=power_no, **kw).outcome == "inconclusive"
    assert "not tested: p is contradicted" in at_most(observed=0, power=power_no, **kw).detail
    assert at_most(observed=1, power=power_no, **kw).outcome == "contradicted"  # a bug anyway
    assert at_most(observed=0, **kw).outcome == "confirmed"
    assert at_most(observed=math.nan, **kw).outcome == "inconclusive"


def test_all_of():
    kw = dict(check="a", kind="prediction", claim="", statistic="")
    assert all_of(passed=3, failed=0, **kw).outcome == "confirmed"
    assert all_of(passed=3, failed=1, undecided=2, **kw).outcome == "contradicted"
    assert all_of(passed=3, failed=0, undecided=1, **kw).outcome == "inconclusive"
    assert all_of(passed=0, failed=0, **kw).outcome == "inconclusive"
    assert all_of(passed=3, failed=1, **kw).observed == 0.75


def _c(kind, outcome, name="x"):
    return Check(check=name, kind=kind, claim="", statistic="", observed=0, threshold=0,
                 outcome=outcome)


@pytest.mark.parametrize("checks, outcome, reason", [
    ([_c("prediction", "confirmed"), _c("floor", "confirmed")], "confirmed", "all"),
    ([_c("prediction", "contradicted"), _c("floor", "contradicted")], "contradicted", "bug"),
    ([_c("prediction", "confirmed"), _c("representation", "contradicted")], "contradicted", "bug"),
    ([_c("prediction", "contradicted"), _c("control", "contradicted")], "inconclusive",
     "control"),
    ([_c("prediction", "contradicted"), _c("floor", "inconclusive")], "contradicted", "training"),
    ([_c("prediction", "confirmed"), _c("floor", "inconclusive")], "inconclusive", "undecided"),
    ([_c("floor", "confirmed"), _c("control", "confirmed")], "inconclusive", "untested"),
    ([_c("prediction", "confirmed"), _c("power", "contradicted")], "confirmed", "all"),
    ([], "inconclusive", "untested"),
])
def test_overall(checks, outcome, reason):
    v = overall(checks, "claim")
    assert (v.outcome, v.reason, v.check) == (outcome, reason, "overall")
    assert v.detail.startswith(REASONS[reason])


def test_words_and_columns():
    v = overall([_c("prediction", "contradicted", "p")], "claim")
    assert words(v) == "not confirmed by training" and "(contradicted: p)" in v.detail
    assert words(overall([_c("floor", "contradicted")], "c")) == "contradicted"
    assert list(v.row()) == [c for c in Check.__dataclass_fields__]
    assert set(COLUMNS) == set(Check.__dataclass_fields__)


def test_check_refuses_unknown_kind_and_outcome():
    with pytest.raises(AssertionError):
        _c("opinion", "confirmed")
    with pytest.raises(AssertionError):
        _c("floor", "maybe")


# ----------------------------------------------------------------------------- rank tests


def test_falls_exact_and_power():
    r = common.falls([1, 2, 3], [4, 5, 6])
    assert r.p == pytest.approx(1 / 20) and r.p_min == pytest.approx(1 / 20)
    assert r.state == "undecided"  # 3 vs 3 cannot reach p = 0.01
    r = common.falls(np.arange(5), np.arange(5) + 10)
    assert r.p == pytest.approx(1 / 252) and r.state == "pass"
    a, b = np.linspace(0, 1, 12), np.linspace(0.5, 1.5, 12)  # random splits past 4000
    assert common.falls(a, b).p == pytest.approx(
        stats.mannwhitneyu(a, b, alternative="less", method="exact").pvalue, abs=0.01)
    assert common.falls(np.arange(5) + 10, np.arange(5)).state == "fail"  # the opposite holds
    lean = common.falls([1, 2, 3, 4, 12, 13], [5, 6, 7, 8, 9, 10])  # leans, not significant
    assert 0.05 < lean.p < 0.5 and lean.state == "undecided"
    flat = common.falls([1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16])
    assert flat.p >= 0.05 and flat.p_reverse >= 0.05
    assert common.falls([], [1, 2]).state == "undecided"


def test_decreasing_kendall_with_ties_in_x():
    x = np.repeat([1, 2, 4, 8], 5)
    y = 10.0 ** -np.log2(x) * (1 + 0.01 * np.tile(np.arange(5), 4))
    r = common.decreasing(x, y)
    assert r.state == "pass" and r.p == 1 / (common.PERMUTATIONS + 1)  # none as extreme
    big = np.repeat([1, 2, 4, 8, 16, 32, 64, 128], 10)  # past EXACT_UP_TO: SciPy's tau-b
    yb = 10.0 ** -np.log2(big) * (1 + 0.01 * np.tile(np.arange(10), 8))
    assert common.decreasing(big, yb).p == pytest.approx(
        stats.kendalltau(big, yb, alternative="less").pvalue)
    # exact below 8 points: Kendall's distribution for 5 distinct points, S = -10 has 1 / 120
    r = common.decreasing([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
    assert r.p == pytest.approx(1 / 120)
    assert common.decreasing(x, y[::-1]).state == "fail"
    assert common.decreasing([1, 2], [2, 1]).state == "undecided"  # too few points
    r = common.decreasing([1, 1, 2, 2], [2, 2, 1, 1])  # 2 + 2 seeds: 4 of 24 as extreme
    assert r.p == pytest.approx(4 / 24) and r.state == "undecided"
    # a flat series, tested with a design that could have shown a trend: evidence against it
    flat = common.decreasing(np.repeat([1, 2, 4], 5), np.ones(15))
    assert flat.p == 1.0 and flat.p_min < 0.01 and flat.state == "fail"
    r = common.decreasing([1, 2, 3, 4], [2, 2, 1, 1])  # exact: p_min over distinct values
    assert r.p_min == pytest.approx(1 / 24) and 0 < r.p <= 1

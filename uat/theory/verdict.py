"""A theorem's verdict as data: a list of checks, each a record, and the verdict computed from them.

A check states a prediction about trained networks, names the statistic that tests it, and
records what was observed (with a 95% Wilson interval when it is a fraction of seeds), the
threshold and the outcome: `confirmed`, `contradicted`, or `inconclusive` when the experiment did
not test the claim. Captions and tables are formatted from these records; no code reads a
sentence back.

Kinds of check, and what each does to the theorem's verdict (`overall`):

* `floor`: a bound every network obeys. Contradicted (a trained net below it) means a bug, and
  the theorem's verdict is contradicted. A floor that no trained net came near proves nothing:
  its constructor takes the `power` check that says whether the nets learned, and is
  inconclusive without it.
* `prediction`: what trained networks show when the theorem holds and training finds what it
  says exists. Contradicted: the verdict reads "not confirmed by training".
* `control`: a case the theory says must come out the other way. If it does not, the statistic
  cannot tell the two apart and the verdict is inconclusive.
* `power`: whether the experiment could show an effect at all (guards the checks built on it).
* `representation`: a fact about a hand-set network (exact constructions); a failure is a bug.
"""

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

OUTCOMES = ("confirmed", "contradicted", "inconclusive")
KINDS = ("floor", "prediction", "control", "power", "representation")
COLUMNS = ["study", "check", "kind", "claim", "statistic", "observed", "low", "high", "n",
           "threshold", "outcome", "reason", "detail"]
REASONS = {  # why the theorem's verdict (`overall`) came out as it did: code -> words
    "bug": "a network beat a proven bound: a bug",
    "control": "a control came out like the claim: the test cannot tell them apart",
    "training": "not confirmed by training",
    "untested": "no prediction about trained networks was tested",
    "undecided": "some checks could not be decided",
    "all": "every check confirmed",
}


@dataclass(frozen=True, kw_only=True)
class Check:
    """One prediction about the trained networks of a study, and how it came out."""

    check: str  # short stable id, e.g. "universal-below-polynomials" ("overall" for the verdict)
    kind: str  # one of KINDS
    claim: str  # the prediction in words
    statistic: str  # what `observed` is and how it is computed
    observed: float  # the statistic's value (NaN: nothing to compute it from)
    threshold: float  # what `observed` is compared with (see `statistic`)
    outcome: str  # one of OUTCOMES
    low: float = math.nan  # 95% interval of `observed` when it is a fraction of seeds
    high: float = math.nan
    n: int = 0  # how many units (seeds, runs, configurations) the statistic counts
    detail: str = ""  # the cases behind the number (formatted from numbers, for people)
    reason: str = ""  # overall only: a REASONS code
    study: str = ""  # filled in by uat.theory.checks

    def __post_init__(self):
        assert self.kind in KINDS and self.outcome in OUTCOMES, (self.kind, self.outcome)

    def row(self) -> dict:
        return asdict(self)


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a binomial fraction k / n (NaNs for n = 0).

    Why Wilson: with the 5 to 24 seeds a study has, the normal interval leaves [0, 1] and
    Clopper-Pearson is needlessly wide (Brown, Cai, DasGupta 2001, Statist. Sci. 16(2))."""
    if n == 0:
        return math.nan, math.nan
    z = 1.959963984540054  # the normal 97.5% quantile
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def fraction(*, check: str, kind: str, claim: str, statistic: str, k: int, n: int,
             threshold: float, detail: str = "") -> Check:
    """A fraction of seeds (or runs) k / n that the claim says is at least `threshold`:
    confirmed when the whole 95% interval is at or above it, contradicted when the whole
    interval is below it, inconclusive in between or without data."""
    low, high = wilson(k, n)
    if n == 0:
        outcome = "inconclusive"
    elif low >= threshold:
        outcome = "confirmed"
    elif high < threshold:
        outcome = "contradicted"
    else:
        outcome = "inconclusive"
    return Check(check=check, kind=kind, claim=claim, statistic=statistic,
                 observed=k / n if n else math.nan, low=low, high=high, n=n,
                 threshold=threshold, outcome=outcome, detail=detail)


def at_most(*, check: str, kind: str, claim: str, statistic: str, observed: float, n: int,
            threshold: float, detail: str = "", power: Check | None = None) -> Check:
    """A statistic the claim says is <= threshold (a count of violations: threshold 0).

    Contradicted above it; confirmed at or below it when `power` (if given) is confirmed,
    inconclusive otherwise: a floor nobody came near was not tested."""
    if n == 0 or not np.isfinite(observed):
        outcome = "inconclusive"
    elif observed > threshold:
        outcome = "contradicted"
    elif power is not None and power.outcome != "confirmed":
        outcome = "inconclusive"
        detail = (detail + "; " if detail else "") + f"not tested: {power.check} is {power.outcome}"
    else:
        outcome = "confirmed"
    return Check(check=check, kind=kind, claim=claim, statistic=statistic, observed=observed,
                 n=n, threshold=threshold, outcome=outcome, detail=detail)


def all_of(*, check: str, kind: str, claim: str, statistic: str, passed: int, failed: int,
           undecided: int = 0, detail: str = "") -> Check:
    """Every case must pass (a count over configurations, each decided by its own statistic):
    contradicted if any failed, inconclusive if some are undecided or there are none."""
    n = passed + failed + undecided
    outcome = ("contradicted" if failed else "inconclusive" if undecided or n == 0
               else "confirmed")
    return Check(check=check, kind=kind, claim=claim, statistic=statistic,
                 observed=passed / n if n else math.nan, n=n, threshold=1.0, outcome=outcome,
                 detail=detail)


def overall(checks: list[Check], claim: str) -> Check:
    """The theorem's verdict, computed from its checks (module docstring: what each kind does).

    Order: a floor or representation contradicted (a bug) > a control contradicted (the
    statistic cannot tell, inconclusive) > a prediction contradicted > anything inconclusive >
    confirmed. Power checks act through the checks they guard."""
    judged = [c for c in checks if c.kind != "power"]
    bad = {(c.kind, c.outcome) for c in judged}
    if any(k in ("floor", "representation") and o == "contradicted" for k, o in bad):
        outcome, reason = "contradicted", "bug"
    elif ("control", "contradicted") in bad:
        outcome, reason = "inconclusive", "control"
    elif ("prediction", "contradicted") in bad:
        outcome, reason = "contradicted", "training"
    elif not any(c.kind == "prediction" for c in judged):
        outcome, reason = "inconclusive", "untested"
    elif any(o == "inconclusive" for _, o in bad):
        outcome, reason = "inconclusive", "undecided"
    else:
        outcome, reason = "confirmed", "all"
    parts = [f"{o}: " + ", ".join(c.check for c in judged if c.outcome == o)
             for o in ("contradicted", "inconclusive") if any(c.outcome == o for c in judged)]
    detail = REASONS[reason] + (f" ({'; '.join(parts)})" if parts else "")
    confirmed = sum(c.outcome == "confirmed" for c in judged)
    return Check(check="overall", kind="prediction", claim=claim,
                 statistic="checks confirmed / checks (power checks act through the checks "
                           "they guard)",
                 observed=confirmed / len(judged) if judged else math.nan, n=len(judged),
                 threshold=1.0, outcome=outcome, reason=reason, detail=detail)


def words(c: Check) -> str:
    """The verdict's words for people: the outcome, or "not confirmed by training" for a
    theorem whose trained networks did not show what it predicts."""
    return REASONS["training"] if c.reason == "training" else c.outcome


def with_study(checks: list[Check], study: str) -> list[Check]:
    return [replace(c, study=study) for c in checks]

"""Each theorem's checks on its study's trained table (one module per figure), and the
theorem's verdict computed from them (uat.theory.verdict)."""

import importlib

import pandas as pd

from uat.theory.verdict import Check, overall, with_study

MODULES = ("width", "depth", "activation", "separation", "lecture", "grid")
CLAIMS = {  # the theorem each figure's study tests, for its overall row
    "width": "One hidden layer approximates any continuous function iff the activation is not "
             "a polynomial (Cybenko; Hornik, Stinchcombe & White; Hornik; Leshno et al.).",
    "depth": "Width n fails at every depth, width n + 1 approximates with depth (Hanin & "
             "Sellke; Johnson; Kidger & Lyons).",
    "activation": "Polynomial activations plateau on a computable floor, every other "
                  "activation keeps improving (Leshno, Lin, Pinkus & Schocken).",
    "separation": "Deep narrow ReLU nets beat shallow wide ones of equal size on the sawtooth "
                  "(Telgarsky).",
    "lecture": "Logistic regression cannot separate XOR (best cross-entropy ln 2); two "
               "logistic regressions combined can.",
    "grid": "The floors of theory hold on this grid: no trained network beats a proven floor "
            "for its shape on its own test points.",
}


def for_study(joined: pd.DataFrame, the_study) -> list[Check]:
    """The study's checks and, last, its `overall` verdict; [] for a figure without checks."""
    if the_study.figure not in MODULES or joined.empty:
        return []
    mod = importlib.import_module(f"uat.theory.checks.{the_study.figure}")
    checks = mod.checks(joined)
    return with_study(checks + [overall(checks, CLAIMS[the_study.figure])], the_study.name)


def table(checks: list[Check]) -> pd.DataFrame:
    """Checks as the verdicts table (uat.theory.verdict.COLUMNS)."""
    from uat.theory.verdict import COLUMNS

    return pd.DataFrame([c.row() for c in checks], columns=COLUMNS)

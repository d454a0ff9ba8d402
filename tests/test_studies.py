"""The theorem studies at smoke scale: approximation errors against stored reference numbers,
and the invariant that no trained network beats a floor of theory (issue #5).

Reference numbers (best test MSE over seeds per configuration) live in
tests/reference/smoke.csv. After an intended change to training, regenerate them with
`UAT_UPDATE_REFERENCE=1 .venv/bin/python -m pytest tests/test_studies.py -m slow` and say
why in the commit.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from uat import cli, plots, study
from uat.theory import table as floors

STUDIES = Path(__file__).parent.parent / "studies"
REFERENCE = Path(__file__).parent / "reference" / "smoke.csv"
KEY = ["study", "target", "activation", "width", "depth", "optimizer"]
# A regression is an error that grew. Best-of-seeds errors above 1e-6 must stay within a
# factor 1.5 (log10 0.18); tiny ones (at rounding or on an exact floor) within 100x or below
# 1e-6. These catch a broken optimizer or init, not a BLAS rounding difference.
FACTOR, TINY = 1.5, 1e-6


def run_smoke(names, out) -> pd.DataFrame:
    best = []
    for name in names:
        assert cli.main(["run", str(STUDIES / f"{name}.toml"), "--scale", "smoke", "--out",
                         str(out), "--jobs", "2", "--quiet"]) == 0
        s = study.load(STUDIES / f"{name}.toml", "smoke")
        j = plots.joined(s, out)
        check_floors(j)
        best.append(j.groupby(KEY, dropna=False)["test_mse"].min().reset_index())
    return pd.concat(best, ignore_index=True)


def check_floors(j: pd.DataFrame) -> None:
    """Every floor of theory is a lower bound: no trained test error below it by more than
    rounding (uat.theory.table.below). Classification floors are on the train cross-entropy."""
    ce = j["floor_kind"].fillna("").str.startswith("cross-entropy")
    error = np.where(ce, j["train_loss"], j["test_mse"])
    below = j[floors.below(error, j["floor"], j["variance"])]
    assert below.empty, below[["target", "activation", "width", "depth", "test_mse", "floor",
                               "floor_kind"]].to_string()
    sup_ok = j["sup_floor"].isna() | (j["max_abs_err"] >= j["sup_floor"] * (1 - 1e-3))
    assert sup_ok.all(), j.loc[~sup_ok, ["target", "width", "depth", "max_abs_err",
                                         "sup_floor"]].to_string()


def compare(best: pd.DataFrame) -> None:
    if os.environ.get("UAT_UPDATE_REFERENCE"):
        ref = pd.read_csv(REFERENCE) if REFERENCE.exists() else best.iloc[:0]
        keep = ref[~ref["study"].isin(best["study"])]
        pd.concat([keep, best]).sort_values(KEY).to_csv(REFERENCE, index=False,
                                                        float_format="%.6g")
        pytest.skip("reference numbers rewritten")
    ref = pd.read_csv(REFERENCE)
    m = best.merge(ref, on=KEY, how="left", suffixes=("", "_ref"), validate="one_to_one")
    assert m["test_mse_ref"].notna().all(), "configurations without reference numbers:\n" + \
        m.loc[m["test_mse_ref"].isna(), KEY].to_string()
    big = m["test_mse_ref"] > TINY
    worse = m[big & (m["test_mse"] > m["test_mse_ref"] * FACTOR)]
    worse_tiny = m[~big & (m["test_mse"] > np.maximum(m["test_mse_ref"] * 100, TINY))]
    bad = pd.concat([worse, worse_tiny])
    assert bad.empty, "approximation error regressed:\n" + bad[
        KEY + ["test_mse", "test_mse_ref"]].to_string()


def test_activation_study_against_reference(tmp_path):
    """Fast: Leshno's study at smoke scale (a few seconds): floors and reference numbers."""
    compare(run_smoke(["activation"], tmp_path))


@pytest.mark.slow
def test_every_study_against_reference(tmp_path):
    compare(run_smoke(["width", "depth", "separation", "lecture"], tmp_path))


@pytest.mark.slow
def test_exact_floors_are_reached_at_smoke_scale(tmp_path):
    """Issue #5: best of seeds within 1.10x of every exact floor (never below)."""
    rows = []
    for name in ["activation", "depth", "lecture"]:
        cli.main(["run", str(STUDIES / f"{name}.toml"), "--scale", "smoke", "--out",
                  str(tmp_path), "--jobs", "2", "--quiet"])
        rows.append(floors.acceptance(plots.joined(study.load(STUDIES / f"{name}.toml",
                                                              "smoke"), tmp_path)))
    acc = pd.concat(rows)
    assert len(acc) >= 20
    assert (acc["ratio"] >= 1 - floors.BELOW_RTOL).all(), acc.to_string()
    assert (acc["ratio"] <= floors.WITHIN).all(), acc.to_string()

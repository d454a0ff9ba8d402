"""Regenerate the smoke references the tests compare with (`make reference`).

Trains every study at smoke scale into a temporary folder, then writes
* tests/reference/smoke.csv: per configuration the median, min and max test MSE over seeds
  (the regression tests allow what the spread says, tests/test_studies.py);
* tests/reference/smoke/<study>/: the runs table, its meta.json and theory table, and for the
  lecture the networks its figure redraws (tests/test_figures.py draws every figure from these);
* tests/reference/verdicts-smoke.csv: the verdicts of those tables (CI compares a fresh smoke
  run with them: `uat verdict --scale smoke --expect`).

Run it after an intended change to training, and say why in the commit.
"""

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from uat import cli, study
from uat.theory import checks
from uat.theory import table as theory_table

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies"
REFERENCE = ROOT / "tests" / "reference"
NAMES = ("width", "depth", "activation", "separation", "lecture")
KEY = ["study", "target", "activation", "width", "depth", "optimizer"]


def summary(joined: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: median, min, max test MSE over seeds, seeds, the target's variance."""
    ok = joined[joined["status"] == "ok"]
    g = ok.groupby(KEY, dropna=False)
    out = g["test_mse"].agg(median="median", low="min", high="max", seeds="size")
    out["variance"] = g["variance"].first()
    return out.reset_index()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows, verdicts = [], []
        for name in NAMES:
            assert cli.main(["run", str(STUDIES / f"{name}.toml"), "--scale", "smoke", "--out",
                             tmp, "--jobs", "2", "--quiet", "--yes"]) == 0
            s = study.load(STUDIES / f"{name}.toml", "smoke")
            joined = theory_table.joined(s, tmp)
            rows.append(summary(joined))
            verdicts += checks.for_study(joined, s)
            src, dst = Path(tmp) / name, REFERENCE / "smoke" / name
            shutil.rmtree(dst, ignore_errors=True)
            dst.mkdir(parents=True)
            for f in ("runs.csv", "meta.json", "theory.csv"):
                shutil.copy(src / f, dst / f)
            if name == "lecture":  # its figure redraws trained networks
                shutil.copytree(src / "params", dst / "params")
        pd.concat(rows).to_csv(REFERENCE / "smoke.csv", index=False, float_format="%.6g")
        checks.table(verdicts).to_csv(REFERENCE / "verdicts-smoke.csv", index=False)
    print(f"wrote {REFERENCE}/smoke.csv, smoke/, verdicts-smoke.csv")


if __name__ == "__main__":
    main()

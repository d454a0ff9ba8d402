"""Issue #12: the README's "Fit your own function" examples, run as a user would (the
commands in a fresh process, at smoke scale): a CSV spectrum and a formula with a formula
activation train, draw their figure with its fits, and get their floor checks."""

import pandas as pd
import pytest

from .conftest import uat_cmd


@pytest.mark.parametrize("name, target", [
    ("spectrum", "csv(path="), ("formula", "expr(f='exp(-x ** 2) * cos(3 * x)'"),
])
def test_the_examples_run_as_the_readme_says(name, target, tmp_path):
    out = tmp_path / "my-results"
    run = uat_cmd("run", f"examples/{name}", "--scale", "smoke", "--out", out, "--jobs", "2")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    table = pd.read_csv(out / name / "runs.csv")
    assert table["target"].str.startswith(target).all() and (table["status"] == "ok").all()
    plot = uat_cmd("plot", f"examples/{name}", "--scale", "smoke", "--out", out)
    assert plot.returncode == 0, plot.stderr
    assert (out / name / f"{name}.png").stat().st_size > 10_000
    verdict = uat_cmd("verdict", f"examples/{name}", "--scale", "smoke", "--out", out)
    assert verdict.returncode == 0 and "no-run-below-a-floor" in verdict.stdout, verdict.stderr
    assert "contradicted floor" not in verdict.stdout  # no trained net beats a floor

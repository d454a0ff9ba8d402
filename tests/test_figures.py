"""Every figure, findings and verdict of every study, run on the stored smoke reference
(tests/reference/smoke, `make reference`), with what issue #10 asks of a figure: the legend says
which statistic a line is, its text is readable at the report's width and sits off the data,
and every line drawn has a legend entry; and the verdicts of those stored tables are the
expected ones (computed from stored numbers: the same on every machine)."""

import shutil
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from uat import plots, study
from uat.theory import checks
from uat.theory import table as theory_table

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "tests" / "reference" / "smoke"
EXPECTED = ROOT / "tests" / "reference" / "verdicts-smoke.csv"
REPORT_PX = 960  # the report's column (60em at 16 px): figures are scaled to it
MIN_PX = 9.0  # legend and tick text at least this tall there


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("smoke")
    shutil.copytree(SMOKE, out, dirs_exist_ok=True)
    return out


def _joined(name: str, out: Path):
    s = study.load(ROOT / "studies" / f"{name}.toml", "smoke")
    return s, theory_table.joined(s, out)


THEOREMS = [m for m in plots.FIGURE_MODULES if m != "grid"]  # each has a built-in study


@pytest.mark.parametrize("name", THEOREMS)
def test_figure_says_what_it_shows(name, stored):
    s, j = _joined(name, stored)
    assert len(j) > 0 and j["floor"].notna().any()
    _says_what_it_shows(plots.module(s), j, s, name, stored)


@pytest.mark.parametrize("name", THEOREMS)
def test_the_generic_figure_draws_every_study(name, stored):
    """Issue #12: the figure for any grid draws each theorem's table too (width, depth,
    activations as categories, classification), with the same promises."""
    s, j = _joined(name, stored)
    import uat.plots.grid as generic

    _says_what_it_shows(generic, j, s, f"grid-{name}", stored)
    f = generic.findings(j, s)
    assert "median" in f.caption and "0 trained networks are below theirs" in f.caption, f.caption


def _says_what_it_shows(mod, j, s, name, stored):
    with plots.style():
        fig = mod.figure(j, s)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        assert len(fig.legends) == 1, "one legend for the figure"
        legend = fig.legends[0]
        title = legend.get_title().get_text()
        assert "median over" in title and "min to max" in title, title
        labels = {t.get_text() for t in legend.get_texts()}
        width_in = fig.get_tightbbox(renderer).width  # what savefig(bbox_inches="tight") keeps
        px_per_pt = REPORT_PX / (72 * width_in)
        for text in legend.get_texts():
            assert text.get_fontsize() * px_per_pt >= MIN_PX, (name, text.get_fontsize(),
                                                               width_in)
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible() and ax.axison:
                assert not box.overlaps(ax.get_window_extent(renderer)), "legend on the data"
            for line in ax.get_lines():
                if isinstance(line, Line2D) and len(line.get_xdata()) and line.get_visible():
                    label = line.get_label()
                    assert not label.startswith("_") and label in labels, (name, label)
        paths = plots.save(fig, stored, f"{name}-test")
        assert all(p.stat().st_size > 0 for p in paths)
    assert matplotlib.rcParams["font.size"] != plots.FONT or plots.FONT == 10.0  # rc undone
    plt.close("all")


@pytest.mark.parametrize("name", THEOREMS)
def test_findings_use_medians(name, stored):
    s, j = _joined(name, stored)
    f = plots.module(s).findings(j, s)
    assert "median" in f.caption and not f.table.empty
    assert "best of seeds" not in f.caption.lower()


def test_stored_smoke_tables_give_the_expected_verdicts(stored):
    """The verdicts of the stored smoke tables, computed here, are verdicts-smoke.csv (CI
    compares a fresh smoke run with the same file: `uat verdict --expect`)."""
    got = []
    for name in THEOREMS:
        s, j = _joined(name, stored)
        got += checks.for_study(j, s)
    got = checks.table(got)[["study", "check", "outcome"]]
    want = pd.read_csv(EXPECTED)[["study", "check", "outcome"]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert (want["check"] == "overall").sum() == len(THEOREMS)

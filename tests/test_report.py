"""uat.report: the HTML is self-contained and escaped, broken parts become error sections, and
the real report opens in headless Chromium with no console errors and every figure visible
(issue #5, acceptance)."""

import errno
import logging
import os
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from uat import cli, plots, report, store
from uat.plots import Findings
from uat.theory.verdict import COLUMNS

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies"
REAL = ("activation", "separation", "lecture")  # smoke-scale studies the browser sees drawn
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
EVIL = '<script>alert("x")</script> & "quotes"'  # must appear escaped, never raw
IMG_SRC = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]*)\"")

TINY = f"""
[study]
name = "tiny"
title = '{EVIL}'
figure = "width"
description = "A tiny study & its <description>."

[grid]
target = ["sin(freq=1)"]
activation = ["tanh", "identity"]
width = [1, 2]
seed = [0, 1]
optimizer = ["lm(steps=20)"]

[data]
n_train = 32
n_test = 64
"""


class FakeFigure:
    """A figure module that draws a real (small) figure and reports text needing escapes."""

    @staticmethod
    def misfit(runs):
        return None

    @staticmethod
    def figure(joined, the_study):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot(joined["width"], joined["test_mse"], "o")
        return fig

    @staticmethod
    def findings(joined, the_study):
        table = pd.DataFrame({"activation <a>": ["tanh"], "best": [1.23456e-7], "n": [3]})
        return Findings("caption with <b>tags</b> & numbers 1e-7", table)


class BrokenFigure:
    @staticmethod
    def misfit(runs):
        return None

    @staticmethod
    def figure(joined, the_study):
        raise RuntimeError("figure exploded <here>")

    @staticmethod
    def findings(joined, the_study):
        raise ValueError("findings exploded")


def _run(study_file, out) -> None:
    assert cli.main(["run", str(study_file), "--scale", "smoke", "--out", str(out),
                     "--quiet"]) == 0


@pytest.fixture
def tiny_dir(tmp_path) -> Path:
    d = tmp_path / "studies"
    d.mkdir()
    (d / "tiny.toml").write_text(TINY)
    return d


# ---------------------------------------------------------------- fast, no browser


def test_choose_scale_most_runs_then_most_complete():
    assert report.choose_scale({"smoke": (4, 4), "default": (2, 40), "full": (0, 90)}) == "smoke"
    assert report.choose_scale({"smoke": (4, 4), "default": (4, 40), "full": (0, 90)}) == "smoke"
    # a finished default run also counts toward full (a superset): report default, complete
    assert report.choose_scale({"smoke": (9, 9), "default": (540, 540), "full": (540, 1260)}) \
        == "default"
    assert report.choose_scale({"smoke": (9, 9), "default": (540, 540),
                                "full": (1260, 1260)}) == "full"
    assert report.choose_scale({"smoke": (0, 4), "default": (0, 40), "full": (0, 90)}) == ""


def test_fmt_cells():
    assert report.fmt(3) == "3"
    assert report.fmt(np.float64(1.23456e-7)) == "1.23e-07"
    assert report.fmt(float("nan")) == "–"
    assert report.fmt(np.inf) == "∞"
    assert report.fmt(2.0) == "2"


def test_floors_summary_is_computed():
    acc = pd.DataFrame({"ratio": [1.0, 1.05, 1.2, 0.5, np.nan]})
    text = report.floors_summary(acc)
    assert text.startswith("2 of 5 configurations within 1.10x of their exact floor; 1 below")
    assert "1 without a finite ratio" in text
    assert "none below it" in report.floors_summary(pd.DataFrame({"ratio": [1.0, 1.01]}))


def test_not_run_yet(tiny_dir, tmp_path):
    html = report.write(tmp_path / "empty", tiny_dir).report.read_text()
    assert 'id="study-tiny"' in html
    assert "Not run yet" in html and "make study-tiny" in html
    assert "○ not run yet" in html
    assert "No stored configuration has an exact floor yet." in html


def test_self_contained_and_escaped(tiny_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _run(tiny_dir / "tiny.toml", out)
    monkeypatch.setattr(plots, "module", lambda s: FakeFigure)
    written = report.write(out, tiny_dir)
    html = written.report.read_text()
    srcs = IMG_SRC.findall(html)
    assert len(srcs) == 1 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.replace(
        'href="https://arxiv.org', "").replace('href="https://doi.org', ""))
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert EVIL not in html and html.count(
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;") >= 2
    assert "caption with &lt;b&gt;tags&lt;/b&gt; &amp; numbers" in html
    assert "activation &lt;a&gt;" in html and "1.23e-07" in html
    # the verdict comes from uat.theory.checks, with every check it is computed from
    verdicts = pd.read_csv(written.verdicts)
    assert list(verdicts.columns) == COLUMNS and written.errors == ()
    mine = verdicts[verdicts["study"] == "tiny"]
    assert mine["check"].iloc[-1] == "overall" and len(mine) >= 4
    assert set(mine["outcome"]) <= {"confirmed", "contradicted", "inconclusive"}
    assert 'class="verdict' in html and "Computed from the" in html
    for check in mine["check"].iloc[:-1]:
        assert f"<code>{check}</code>" in html
    assert "A tiny study &amp; its &lt;description&gt;." in html
    # the identity activation has an exact (affine) floor: the floors table lists it
    assert 'id="floors"' in html and "configurations within 1.10x" in html
    assert (out / "tiny" / "tiny.png").exists() and (out / "tiny" / "tiny.pdf").exists()


@pytest.mark.parametrize("broken", ["raises", "missing"])
def test_broken_figure_gives_error_section(broken, tiny_dir, tmp_path, monkeypatch, caplog):
    out = tmp_path / "out"
    _run(tiny_dir / "tiny.toml", out)

    def missing(s):
        raise ModuleNotFoundError("No module named 'uat.plots.width'")

    monkeypatch.setattr(plots, "module", (lambda s: BrokenFigure) if broken == "raises"
                        else missing)
    with caplog.at_level(logging.WARNING, logger="uat.report"):
        written = report.write(out, tiny_dir)
    html = written.report.read_text()
    assert written.errors and all(e.startswith("tiny: ") for e in written.errors)
    assert 'class="error"' in html and "<img" not in html
    if broken == "raises":
        assert "RuntimeError: figure exploded &lt;here&gt;" in html
        assert "ValueError: findings exploded" in html
    else:
        assert "ModuleNotFoundError: No module named" in html
    assert "Stored results, best and median test error" in html  # the fallback table
    assert 'id="floors"' in html  # the rest of the report is still written
    assert any("tiny" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- the real report, in Chromium


def _browser_check(html_path: Path, shot: Path) -> dict:
    """Open the report in headless Chromium; what it saw (errors, requests, images)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser check needs playwright: pip install playwright "
                    "(only the Python package; the browser is Debian's chromium)")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: the report's browser check needs Chromium; install "
                    "it with `apt-get install chromium` (Debian/Ubuntu, as root)")
    seen = {"console": [], "pageerror": [], "requests": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: m.type == "error" and seen["console"].append(m.text))
            page.on("pageerror", lambda e: seen["pageerror"].append(str(e)))
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            seen["images"] = page.eval_on_selector_all("img", """els => els.map(e => {
                const r = e.getBoundingClientRect();
                return {alt: e.alt, complete: e.complete, natural: e.naturalWidth,
                        area: r.width * r.height, src: e.src.slice(0, 22)}; })""")
            seen["sections"] = page.eval_on_selector_all(
                "section", "els => els.map(e => [e.id, e.getBoundingClientRect().height])")
            seen["errors"] = page.eval_on_selector_all(
                "section .error", "els => els.map(e => e.closest('section').id + ': ' "
                "+ e.innerText)")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    return seen


def test_report_in_headless_chromium(tmp_path):
    for name in REAL:
        _run(STUDIES / f"{name}.toml", tmp_path)
    path = report.write(tmp_path, STUDIES).report
    seen = _browser_check(path, tmp_path / "report.png")

    assert seen["console"] == [] and seen["pageerror"] == []
    assert all(u.startswith(("file:", "data:")) for u in seen["requests"]), seen["requests"]
    sections = dict(seen["sections"])
    for f in STUDIES.glob("*.toml"):  # every study file has its section, run or not
        assert sections.get(f"study-{f.stem}", 0) > 0, f.stem
    assert sections.get("floors", 0) > 0
    assert seen["errors"] == []  # the studies run here draw and judge without failing
    assert len(seen["images"]) == len(REAL)
    for img in seen["images"]:
        assert img["complete"] and img["natural"] > 0 and img["area"] > 0, img
        assert img["src"] == "data:image/png;base64,"
    assert (tmp_path / "report.png").stat().st_size > 0


def test_uat_report_exits_1_when_a_section_fails(tiny_dir, tmp_path, monkeypatch, capsys):
    """Issue #10: a report with a broken section is not a whole report; the exit code says so."""
    out = tmp_path / "out"
    _run(tiny_dir / "tiny.toml", out)
    assert cli.main(["report", "--out", str(out), "--studies", str(tiny_dir)]) == 0
    monkeypatch.setattr(plots, "module", lambda s: BrokenFigure)
    assert cli.main(["report", "--out", str(out), "--studies", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert "uat report: section failed: tiny:" in err and "figure exploded" in err


def test_a_wrong_study_file_is_one_line_exit_2_and_the_rest_is_reported(tiny_dir, tmp_path,
                                                                         capsys):
    """A study file with a wrong value among the studies: one line naming the file, the key
    and the allowed values, no traceback, no internal location; exit 2 (the user's input);
    the other studies still get their sections and the page says what is wrong."""
    out = tmp_path / "out"
    _run(tiny_dir / "tiny.toml", out)
    capsys.readouterr()
    bad = tiny_dir / "bad.toml"
    bad.write_text((tiny_dir / "tiny.toml").read_text().replace('name = "tiny"', 'name = "bad"')
                   .replace('"tanh"', '"relux"'))
    assert '"relux"' in bad.read_text()
    assert cli.main(["report", "--out", str(out), "--studies", str(tiny_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"uat report: {bad}: grid.activation: unknown activation 'relux'"), err
    assert "allowed: " in err and "section failed" not in err and "uat/" not in err, err
    page = (out / "report.html").read_text()
    assert "unknown activation" in page and "tiny" in page


def test_a_read_only_results_folder_is_one_line(tiny_dir, tmp_path, monkeypatch, capsys):
    """Issue #11: a folder that cannot be written (read-only, full) ends the report with one
    line naming the file, not an error section per study plus a second message; the theory
    table is a cache, so `uat verdict` still reads such a folder."""
    out = tmp_path / "out"
    _run(tiny_dir / "tiny.toml", out)
    for f in out.glob("tiny/theory.csv"):
        f.unlink()

    def read_only(path, payload):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(store, "atomic_write", read_only)
    monkeypatch.setattr(plt.Figure, "savefig", lambda self, path, **kw: read_only(path, b""))
    assert cli.main(["verdict", "tiny", "--out", str(out), "--studies", str(tiny_dir)]) == 0
    capsys.readouterr()
    assert cli.main(["report", "--out", str(out), "--studies", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Read-only file system" in err, err


def test_uat_verdict_prints_and_compares(tiny_dir, tmp_path, capsys):
    """`uat verdict` prints each theorem's checks; with --expect it exits 1 on any outcome
    that differs from the expected table, naming it."""
    out = tmp_path / "out"
    _run(tiny_dir / "tiny.toml", out)
    args = ["verdict", "--out", str(out), "--studies", str(tiny_dir), "--scale", "smoke"]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("tiny (smoke, ") and "no-run-below-a-floor" in printed
    written = report.write(out, tiny_dir)
    expected = pd.read_csv(written.verdicts)
    expected.to_csv(tmp_path / "same.csv", index=False)
    assert cli.main(args + ["--expect", str(tmp_path / "same.csv")]) == 0
    assert "verdicts match" in capsys.readouterr().out
    flipped = expected.copy()
    flipped.loc[0, "outcome"] = "contradicted" if flipped.loc[0, "outcome"] != \
        "contradicted" else "confirmed"
    flipped.to_csv(tmp_path / "other.csv", index=False)
    assert cli.main(args + ["--expect", str(tmp_path / "other.csv")]) == 1
    assert f"differs: tiny {flipped.loc[0, 'check']}" in capsys.readouterr().err
    assert cli.main(["verdict", "nosuch", "--studies", str(tiny_dir)]) == 2
    assert "nosuch: no such study file" in capsys.readouterr().err

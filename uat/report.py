"""Results -> `<out>/report.html` and `<out>/verdicts.csv`: every theorem with its figure,
numbers and verdict.

One self-contained file (inline CSS, figures as base64 PNG data URIs, no script, nothing
fetched), so it can be mailed, archived or opened offline. Per study: the theorem in a few
lines with its citation, the figure, the caption and table computed by the figure module's
`findings`, and the theorem's verdict with the table of checks it is computed from
(uat.theory.checks); then one table over all studies of trained error vs exact floor. The
checks of every study go to `verdicts.csv`. Gathering (reading tables, drawing, judging) is
separate from rendering (pure functions of the gathered `Entry`s), and a study whose figure,
findings or checks fail gets a section with the error: one broken figure never costs the whole
report, and `uat report` exits 1 so that nobody mistakes it for a whole one.
"""

import base64
import errno
import html
import logging
import math
import os
import platform
import traceback
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from uat import __version__, api, plots, store, study, summary
from uat.errors import UserError
from uat.theory import checks
from uat.theory import table as floors
from uat.theory.verdict import Check, words

log = logging.getLogger(__name__)

WITHIN = floors.WITHIN  # best of seeds within this factor of an exact floor ...
BELOW = floors.BELOW_RTOL  # ... and never below it (relative): below would be a bug
# errors of the results folder, not of a section: they end the report with one line
UNWRITABLE = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT}
FALLBACK_ROWS = 30  # rows of the plain results table shown when a figure fails
ORDER = (*study.SCALES, "stored")  # "stored": every stored run, when some are of no scale


class Theorem(NamedTuple):
    """What a figure tests: a short statement in our words and its sources."""

    statement: str  # two or three sentences
    citations: tuple[tuple[str, str], ...]  # (reference, link or "")


def _arxiv(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


THEOREMS = {  # keyed by study.figure; references as in docs/theory.md
    "width": Theorem(
        "With one hidden layer and enough units, a network approximates any continuous "
        "function on a compact set uniformly: for any continuous sigmoidal activation "
        "(Cybenko), any squashing function (Hornik, Stinchcombe & White), any bounded "
        "non-constant continuous one (Hornik). So the error must keep falling as the width "
        "grows; Barron bounds the mean squared error by (2rC_f)²/width.",
        (("G. Cybenko, Approximation by superpositions of a sigmoidal function, Mathematics "
          "of Control, Signals and Systems 2(4):303–314, 1989.", ""),
         ("K. Hornik, M. Stinchcombe, H. White, Multilayer feedforward networks are universal "
          "approximators, Neural Networks 2(5):359–366, 1989.",
          "https://doi.org/10.1016/0893-6080(89)90020-8"),
         ("K. Hornik, Approximation capabilities of multilayer feedforward networks, Neural "
          "Networks 4(2):251–257, 1991.", ""),
         ("A. R. Barron, Universal approximation bounds for superpositions of a sigmoidal "
          "function, IEEE Trans. Information Theory 39(3):930–945, 1993.", ""))),
    "depth": Theorem(
        "Depth cannot replace width. With n inputs, ReLU networks of width n+1 and enough "
        "depth approximate every continuous function on [0,1]ⁿ uniformly, width n does not "
        "(Hanin & Sellke); for ReLU, tanh, sigmoid and the like, every net of width ≤ n has "
        "unbounded level sets, so none comes uniformly close to a bump at any depth (Johnson). "
        "Width n+m+2 suffices for any non-affine activation with a nonzero derivative "
        "somewhere, polynomials included (Kidger & Lyons).",
        (("B. Hanin, M. Sellke, Approximating continuous functions by ReLU nets of minimal "
          "width, 2017, arXiv:1710.11278.", _arxiv("1710.11278")),
         ("J. Johnson, Deep, skinny neural networks are not universal approximators, ICLR "
          "2019, arXiv:1810.00393.", _arxiv("1810.00393")),
         ("P. Kidger, T. Lyons, Universal approximation with deep narrow networks, COLT 2020, "
          "PMLR 125.", ""))),
    "activation": Theorem(
        "One hidden layer with a locally bounded, piecewise continuous activation (and biases) "
        "approximates every continuous function uniformly on compact sets if and only if the "
        "activation is not a polynomial. A degree-d polynomial activation gives a polynomial "
        "of degree d (dᴸ at depth L), so its error stops at the best polynomial fit of that "
        "degree; the identity collapses any network to an affine map.",
        (("M. Leshno, V. Ya. Lin, A. Pinkus, S. Schocken, Multilayer feedforward networks with "
          "a nonpolynomial activation function can approximate any function, Neural Networks "
          "6(6):861–867, 1993.", ""),
         ("A. Pinkus, Approximation theory of the MLP model in neural networks, Acta Numerica "
          "8:143–195, 1999.", ""))),
    "separation": Theorem(
        "Depth buys exponentially many linear pieces: some ReLU networks with Θ(k³) layers of "
        "Θ(1) units cannot be approximated by networks with O(k) layers unless these have "
        "Ω(2ᵏ) units. The sawtooth with 2ᵏ⁻¹ teeth is exactly a width-2, depth-k ReLU net, "
        "while any net with at most 2ᵏ⁻¹ linear pieces has sup error exactly ½ on it and a "
        "mean squared error no lower than the best fit with that many pieces.",
        (("M. Telgarsky, Benefits of depth in neural networks, COLT 2016, PMLR 49:1517–1539, "
          "arXiv:1602.04485.", _arxiv("1602.04485")),)),
    "lecture": Theorem(
        "Logistic regression draws one straight boundary, so it cannot separate XOR: its "
        "smallest mean cross-entropy on the four XOR points is exactly ln 2, every prediction "
        "½ (convexity and the symmetry x ↦ 1−x force zero weights). Two logistic regressions "
        "combined in a hidden layer (OR and NAND, then AND) separate it. A real signal, the "
        "60 MHz ¹H NMR spectrum of ethyl acetate (seven Lorentzian lines), is fitted by "
        "networks of growing width.",
        (("The lecture's examples; the ln 2 floor is derived in docs/theory.md.", ""),
         ("Chemical shifts: H. E. Gottlieb, V. Kotlyar, A. Nudelman, J. Org. Chem. "
          "62:7512–7515, 1997.", ""))),
}

OUTCOME_MARK = {"confirmed": ("✓", "ok"), "contradicted": ("✗", "bad"),
                "inconclusive": ("?", "none")}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 max-width:60em;margin:2em auto;padding:0 1.2em;line-height:1.5;color:#1d1f21;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2.4em;
 border-top:1px solid #ddd;padding-top:1em}
.meta,.cite,.about{color:#555;font-size:.9em}.cite{margin:.2em 0 0 1.2em;padding:0}
.statement{margin-bottom:.3em}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;display:block;margin:auto}
figcaption{font-size:.9em;color:#333;margin-top:.5em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.8em;margin:.8em 0;font-variant-numeric:tabular-nums}
th,td{padding:.2em .6em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{background:#f4f4f4;vertical-align:bottom}td.num{text-align:right;white-space:nowrap}
tr.flag td{background:#fde4e4}
.verdict{border-left:4px solid #999;padding:.4em .8em;background:#f8f8f8;margin:1em 0}
.verdict.ok{border-color:#2a8a3e}.verdict.bad{border-color:#c0392b}
.mark.ok{color:#2a8a3e}.mark.bad{color:#c0392b}.mark{font-weight:bold}
.error{border-left:4px solid #c0392b;background:#fdf0f0;padding:.4em .8em;margin:1em 0}
.error pre{white-space:pre-wrap;margin:.3em 0;font-size:.85em}
code{font-size:.9em;background:#f2f2f2;padding:0 .2em}
.check{border-left:3px solid #ccc;padding:.1em .8em;margin:.5em 0;font-size:.9em}
.check.ok{border-color:#2a8a3e}.check.bad{border-color:#c0392b}.check p{margin:.2em 0}
.check .stat{color:#444}.check details{color:#555}.check summary{cursor:pointer}
ul.summary li{margin:.2em 0}h2.toc{border:0;margin-top:1.5em}
"""


class Entry(NamedTuple):
    """Everything the report says about one study file, gathered before rendering."""

    name: str  # study name (or the file stem when the file does not load)
    title: str
    figure: str  # study.figure: which theorem/figure
    path: str  # the study file
    description: str
    scale: str  # the scale reported ("" when nothing is stored)
    counts: dict  # {scale: (runs stored, runs in the grid)}
    diverged: int  # diverged runs at `scale`
    image: bytes | None  # the figure as PNG
    findings: plots.Findings | None
    acceptance: pd.DataFrame | None  # floors.acceptance rows (with a `study` column)
    errors: tuple[str, ...]  # what failed, one message each
    fallback: pd.DataFrame | None = None  # plain results table when there are no findings
    checks: tuple[Check, ...] = ()  # the theorem's checks, its verdict (check "overall") last
    bad_input: bool = False  # `errors` is the user's mistake (a wrong study file), not uat's


# ---------------------------------------------------------------- gathering (reads, draws)


def scales(path, out) -> dict:
    """The study file at every scale, and as "stored" when its table holds runs of no scale
    (made with --set): {scale: Study}."""
    loaded = {sc: study.load(path, sc) for sc in study.SCALES}
    keys = store.stored_keys(out, loaded["default"].name)
    if keys - {r.key for s in loaded.values() for r in s.runs}:
        loaded["stored"] = api.stored(loaded["default"], out)
    return loaded


def choose_scale(counts: dict) -> str:
    """The scale with the most stored runs; on a tie the most complete one (a smaller scale's
    runs are usually part of the larger one's, so its runs count there too), then the default
    scale (two scales with the same runs), then the larger one; "" when nothing is stored.
    counts: {scale: (stored, total)}."""
    def rank(sc):
        stored, total = counts.get(sc, (0, 0))
        return stored, stored / total if total else 0.0, sc == "default", ORDER.index(sc)

    best = max(counts or study.SCALES, key=rank)
    return best if counts.get(best, (0, 0))[0] > 0 else ""


def _failure(what: str, name: str, err: BaseException) -> str:
    """A one-line message for the page, saying where in uat it failed; logged as a warning
    (the traceback at debug level)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith("<")]
    ours = [f for f in frames if f"{os.sep}uat{os.sep}" in f.filename] or frames
    where = ""
    if ours:
        name_in_uat = ours[-1].filename.rpartition(f"{os.sep}uat{os.sep}")
        shown = "uat/" + name_in_uat[2] if name_in_uat[1] else Path(ours[-1].filename).name
        where = f" (at {shown}:{ours[-1].lineno})"
    message = f"{what} failed: {type(err).__name__}: {err}{where}"
    log.warning("%s: %s", name, message)
    log.debug("%s: %s failed", name, what, exc_info=err)
    return message


def _shown(path: Path) -> str:
    """A study file's path as a user would type it: relative to the working directory when
    it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _png(paths: list[Path]) -> bytes | None:
    pngs = [p for p in paths if Path(p).suffix == ".png"]
    return Path(pngs[0]).read_bytes() if pngs else None


def gather(path: Path, out) -> Entry:
    """Load one study file at every scale, pick the scale to report, draw and judge it."""
    try:
        loaded = scales(path, out)
        keys = store.stored_keys(out, loaded["default"].name)
    except UserError as err:  # a wrong study file: its own one-line message, as `uat run` says
        return Entry(path.stem, path.stem, "", _shown(path), "", "", {}, 0, None, None, None,
                     (str(err),), bad_input=True)
    except Exception as err:  # noqa: BLE001 - a broken file or table becomes an error section
        return Entry(path.stem, path.stem, "", _shown(path), "", "", {}, 0, None, None, None,
                     (_failure("reading the study file and its table", path.stem, err),))
    first = loaded["default"]
    counts = {sc: (sum(r.key in keys for r in s.runs), len(s.runs)) for sc, s in loaded.items()}
    scale = choose_scale(counts)
    entry = Entry(first.name, first.title, first.figure, _shown(path), first.description, scale,
                  counts, 0, None, None, None, ())
    if not scale:
        return entry
    s = loaded[scale]
    errors: list[str] = []
    runs = api.table(s, out)
    joined = _attempt(errors, s.name, "joining the runs with their theory (uat.theory.table)",
                      floors.joined, s, out)
    accepted = findings = image = None
    if joined is not None:
        accepted = _attempt(errors, s.name, "floors.acceptance", _acceptance, joined, s.name)
    mod = _attempt(errors, s.name, f"importing uat.plots.{s.figure}", plots.module, s)
    if mod is not None:
        if joined is not None and not joined.empty:
            image = _attempt(errors, s.name, f"drawing the '{s.figure}' figure", _draw, mod,
                             joined, s, out)
            findings = _attempt(errors, s.name, f"uat.plots.{s.figure}.findings", mod.findings,
                                joined, s)
    judged = None
    if joined is not None:
        judged = _attempt(errors, s.name, f"uat.theory.checks.{s.figure}", checks.for_study,
                          joined, s)
    fallback = summary.by_config(runs) if findings is None else None
    return entry._replace(diverged=int((runs["status"] == "diverged").sum()), image=image,
                          findings=findings, acceptance=accepted, errors=tuple(errors),
                          fallback=fallback, checks=tuple(judged or ()))


def _attempt(errors: list, name: str, what: str, fn, *args):
    """fn(*args), or None with a message appended to `errors` when it raises."""
    try:
        return fn(*args)
    except OSError as err:
        if err.errno in UNWRITABLE:  # the folder, not the section: the report cannot be written
            raise
        errors.append(_failure(what, name, err))
        return None
    except Exception as err:  # noqa: BLE001 - one broken part must not cost the report
        errors.append(_failure(what, name, err))
        return None


def _acceptance(joined: pd.DataFrame, name: str) -> pd.DataFrame:
    acc = floors.acceptance(joined)
    acc.insert(0, "study", name)
    return acc


def _draw(mod, joined: pd.DataFrame, s: study.Study, out) -> bytes:
    """The study's figure as PNG bytes, saved as PNG and PDF like `uat plot` (the joined
    table is computed once for figure, findings and floors)."""
    try:
        return _png(plots.draw(s, out, table=joined))
    finally:
        plt.close("all")  # also a figure left half drawn by a failure


def _order(paths) -> list[Path]:
    """Study files in the theorems' order (plots.FIGURE_MODULES), then by name."""
    def rank(p: Path):
        try:
            fig = study.read_doc(p).get("study", {}).get("figure", "")
        except Exception:  # noqa: BLE001 - gather() reports it
            fig = ""
        figures = list(plots.FIGURE_MODULES)
        return (figures.index(fig) if fig in figures else len(figures), p.name)
    return sorted(paths, key=rank)


def machine() -> str:
    return (f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy "
            f"{np.__version__}, pandas {pd.__version__}, {platform.system()} "
            f"{platform.machine()}")


class Written(NamedTuple):
    """What `write` produced, and what went wrong on the way."""

    report: Path  # <out>/report.html
    verdicts: Path  # <out>/verdicts.csv
    errors: tuple[str, ...]  # "study: message" for every part that failed
    bad_input: tuple[str, ...] = ()  # one line per wrong study file (named in the line)


def write(out="results", studies_dir="studies") -> Written:
    """Write `<out>/report.html` and `<out>/verdicts.csv` from whatever is stored."""
    files = _order(Path(studies_dir).glob("*.toml"))
    if not files:
        log.warning("no study files in %s/", studies_dir)
    entries = [gather(f, out) for f in files]
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    target = Path(out) / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    store.atomic_write(target, page(entries, stamp, machine()).encode("utf-8"))
    verdicts = Path(out) / "verdicts.csv"
    rows = checks.table([c for e in entries for c in e.checks])
    store.atomic_write(verdicts, rows.to_csv(index=False).encode("utf-8"))
    log.info("report: %s (%d studies)", target, len(entries))
    errors = tuple(f"{e.name}: {m}" for e in entries if not e.bad_input for m in e.errors)
    bad_input = tuple(m for e in entries if e.bad_input for m in e.errors)
    return Written(target, verdicts, errors, bad_input)


# ---------------------------------------------------------------- rendering (pure)


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def fmt(value) -> str:
    """A table cell: integers as they are, floats to 3 significant digits, missing as –."""
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(value)
    if isinstance(value, float | np.floating):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:.0f}" if value.is_integer() and abs(value) < 1e6 else f"{value:.3g}"
    return str(value)


def table_html(df: pd.DataFrame, flag: pd.Series | None = None) -> str:
    """A small HTML table, every cell formatted and escaped; rows where `flag` is true get
    class "flag" (highlighted)."""
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    flags = [False] * len(df) if flag is None else list(flag.fillna(True).astype(bool))
    rows = []
    for values, flagged in zip(df.itertuples(index=False), flags, strict=True):
        cells = "".join(f'<td class="num">{esc(fmt(v))}</td>' if num else f"<td>{esc(fmt(v))}</td>"
                        for v, num in zip(values, numeric, strict=True))
        rows.append(f'<tr class="flag">{cells}</tr>' if flagged else f"<tr>{cells}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def theorem_html(figure: str) -> str:
    t = THEOREMS.get(figure)
    if t is None:
        return ""
    refs = "".join(f'<li><a href="{esc(url)}">{esc(ref)}</a></li>' if url else
                   f"<li>{esc(ref)}</li>" for ref, url in t.citations)
    return f'<p class="statement">{esc(t.statement)}</p><ul class="cite">{refs}</ul>'


def verdict_of(e: Entry) -> Check | None:
    """The study's `overall` check, if it was judged."""
    return next((c for c in e.checks if c.check == "overall"), None)


def status(e: Entry) -> tuple[str, str, str]:
    """(mark, words, css class) for the summary list."""
    if not e.scale and not e.errors:
        return ("○", "not run yet", "none")
    v = verdict_of(e)
    if v is None:
        return ("!", "error" if e.errors else "no verdict", "bad" if e.errors else "none")
    mark, css = OUTCOME_MARK[v.outcome]
    return (mark, f"{words(v)}, with an error", "bad") if e.errors else (mark, words(v), css)


def check_html(c: Check) -> str:
    """One check: outcome, id and kind, the claim, the statistic with what was observed, and
    the cases behind the number folded away."""
    mark, css = OUTCOME_MARK[c.outcome]
    interval = f", 95% interval [{c.low:.2f}, {c.high:.2f}]" if np.isfinite(c.low) else ""
    detail = (f"<details><summary>cases</summary><p>{esc(c.detail)}</p></details>"
              if c.detail else "")
    return (f'<div class="check {css}"><p><span class="mark {css}">{mark} {esc(c.outcome)}'
            f"</span> <code>{esc(c.check)}</code> ({esc(c.kind)}): {esc(c.claim)}</p>"
            f'<p class="stat">Statistic: {esc(c.statistic)}. Observed {esc(fmt(c.observed))}'
            f"{esc(interval)} (n = {c.n}; threshold {esc(fmt(c.threshold))}).</p>{detail}</div>")


def checks_html(items: tuple[Check, ...]) -> str:
    """The theorem's verdict as a headline and the checks it is computed from."""
    v = next((c for c in items if c.check == "overall"), None)
    if v is None:
        return ""
    mark, css = OUTCOME_MARK[v.outcome]
    head = (f'<p class="verdict {css}"><span class="mark {css}">{mark} {esc(words(v))}.</span> '
            f"{esc(v.claim)} Computed from the {v.n} checks below: {esc(v.detail)}.</p>")
    return head + "".join(check_html(c) for c in items if c.check != "overall")


def _counts_text(e: Entry) -> str:
    return ", ".join(f"{sc} {n}/{total}" for sc, (n, total) in e.counts.items())


def section_html(e: Entry) -> str:
    """One study: heading, theorem, figure with caption, table, verdict, what was run."""
    parts = [f'<section id="study-{esc(e.name)}"><h2>{esc(e.title)}</h2>', theorem_html(e.figure)]
    for message in e.errors:
        parts.append(f'<div class="error"><strong>Could not complete this section.</strong>'
                     f"<pre>{esc(message)}</pre></div>")
    if not e.scale and e.counts:
        parts.append(f'<p class="verdict">Not run yet: <code>make study-{esc(e.name)}</code> '
                     f"(or <code>uat run {esc(e.path)} --scale smoke</code> to try it small)."
                     f"</p>")
    f = e.findings
    if e.image is not None:
        data = base64.b64encode(e.image).decode("ascii")
        caption = f"<figcaption>{esc(f.caption)}</figcaption>" if f is not None else ""
        parts.append(f'<figure><img src="data:image/png;base64,{data}" '
                     f'alt="{esc("Figure: " + e.title)}">{caption}</figure>')
    elif f is not None:
        parts.append(f"<p>{esc(f.caption)}</p>")
    if f is not None and f.table is not None and not f.table.empty:
        parts.append(table_html(f.table))
    parts.append(checks_html(e.checks))
    if e.fallback is not None and not e.fallback.empty:
        more = len(e.fallback) - FALLBACK_ROWS
        parts.append("<p>Stored results, best and median test error per configuration"
                     + (f" (first {FALLBACK_ROWS} of {len(e.fallback)}):" if more > 0 else ":")
                     + "</p>" + table_html(e.fallback.head(FALLBACK_ROWS)))
    if e.scale:
        n, total = e.counts[e.scale]
        diverged = f", {e.diverged} diverged" if e.diverged else ""
        parts.append(f'<p class="about">{esc(e.description)} Study file <code>{esc(e.path)}'
                     f"</code>, figure <code>{esc(e.figure)}</code>. Reported at scale "
                     f"<strong>{esc(e.scale)}</strong>: {n} of {total} runs stored{diverged} "
                     f"(all scales: {esc(_counts_text(e))}).</p>")
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def floors_summary(acc: pd.DataFrame) -> str:
    """The computed one-line verdict on trained error vs exact floor."""
    m = len(acc)
    if m == 0:
        return "No stored configuration has an exact floor yet."
    ratio = acc["ratio"].astype(float)
    within = int(((ratio <= WITHIN) & (ratio >= 1 - BELOW)).sum())
    below = int((ratio < 1 - BELOW).sum())
    missing = int((~np.isfinite(ratio)).sum())
    text = f"{within} of {m} configurations within {WITHIN:.2f}x of their exact floor; "
    text += "none below it" if below == 0 else (
        f"{below} below it (a trained error cannot beat an exact floor: a bug)")
    if missing:
        text += f"; {missing} without a finite ratio (every seed diverged, or a zero floor)"
    return text + "."


def floors_html(acc: pd.DataFrame | None) -> str:
    parts = ['<section id="floors"><h2>Exact floors: trained vs theory</h2>',
             "<p>For every configuration where theory gives an exact floor (the best error any "
             "network of that shape can reach on these test points), the best test error over "
             "seeds divided by that floor. The trainer passes when the ratio lies between 1 "
             f"and {WITHIN:.2f}; a ratio below 1 would be a bug. Highlighted rows are outside "
             "that range. Classification rows compare the training cross-entropy.</p>"]
    if acc is None or acc.empty:
        parts.append(f"<p><strong>{esc(floors_summary(pd.DataFrame(columns=['ratio'])))}"
                     "</strong></p>")
    else:
        ratio = acc["ratio"].astype(float)
        flag = ~((ratio <= WITHIN) & (ratio >= 1 - BELOW))
        shown = summary.label(acc).rename(columns={"floor_kind": "floor kind"})
        shown["ratio"] = [f"{r:.4f}" if np.isfinite(r) else fmt(r) for r in ratio]
        parts.append(f"<p><strong>{esc(floors_summary(acc))}</strong></p>")
        parts.append(table_html(shown.reset_index(drop=True), flag.reset_index(drop=True)))
    parts.append("</section>")
    return "\n".join(parts)


def summary_html(entries: list[Entry]) -> str:
    items = []
    for e in entries:
        mark, word, css = status(e)
        where = f" — {esc(e.scale)}, {e.counts[e.scale][0]} runs" if e.scale else ""
        items.append(f'<li><span class="mark {css}">{esc(mark)} {esc(word)}</span>: '
                     f'<a href="#study-{esc(e.name)}">{esc(e.title)}</a>{where}</li>')
    if not items:
        return "<p>No study files found.</p>"
    return ('<h2 class="toc">Theorems</h2><ul class="summary">'
            + "".join(items) + '<li><a href="#floors">Exact floors: trained vs theory</a></li>'
            "</ul>")


def page(entries: list[Entry], stamp: str, machine_text: str) -> str:
    """The whole report as one HTML document."""
    tables = [e.acceptance for e in entries if e.acceptance is not None]
    acc = pd.concat(tables, ignore_index=True) if tables else None
    body = "\n".join(section_html(e) for e in entries)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>uat: universal approximation theorems, put to the test</title>
<style>{CSS}</style></head>
<body><header><h1>Universal approximation theorems, put to the test</h1>
<p class="meta">Generated {esc(stamp)} by uat {esc(__version__)} on {esc(machine_text)}.
Each section states a theorem, shows trained networks next to what the theory predicts, and
gives the theorem's verdict with the checks it is computed from: each a prediction about the
trained networks, its statistic, the observed value and the outcome (confirmed, contradicted,
or inconclusive when the experiment did not test it). The same checks are in
<code>verdicts.csv</code>.</p></header>
{summary_html(entries)}
{body}
{floors_html(acc)}
</body></html>
"""

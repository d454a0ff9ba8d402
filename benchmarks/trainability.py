"""Does training find what theory says exists? Success fractions of training methods, side by side.

`python -m benchmarks.trainability [--quick] [--only CASES] [--methods M,...] [--out FILE]`

Each case takes the runs of a shipped study (its targets, points and seeds, so the plain
method reproduces the study's numbers), trains every network once per method from the same
initial parameters, and measures against the theory's own values on the test points:

- sawtooth: ReLU width 2, 3, 4 at depth 3 on sawtooth(teeth=4) (the separation study's
  points), more seeds than the study: the fraction below MSE 1e-6 (a width-2 depth-3 net
  computes it exactly).
- narrow: ReLU width 2 and 3, depths 2-6 on sin(pi x) (the depth study's points): the
  fraction below the width-1 clamp floor and below a tenth of it; dead units; linear pieces.
- nmr: ReLU width 32 on the lecture's NMR spectrum: median MSE against the free-knot lower
  bound for the 33 pieces a width-32 net can have.
- width: shallow ReLU on the width study's 1-D targets: median MSE against the achievable
  free-knot ceiling, per width.
- separation: trained deep (width 2, depth L) against trained shallow (width 2L) nets of
  equal parameter count: at how many sizes the deep median is lower.

Fractions carry 95% Wilson intervals. Compute is seconds and optimizer steps per network
(a method that trains longer pays for it here). Methods never see the target's construction.
"""

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from benchmarks import markdown
from uat import network, optim, study, targets, train
from uat.theory import pl
from uat.theory.checks.width import MEASURE  # x the variance: what LM resolves (ftol 1e-10)
from uat.theory.verdict import wilson

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("trainability.md")
def _with(spec: str, revive: int) -> str:
    """A study's lm(...) spec with `revive` set (0: plain Levenberg-Marquardt)."""
    cfg = optim.get(spec)
    return optim.lm(steps=cfg.steps, tau=cfg.tau, ftol=cfg.ftol, gtol=cfg.gtol, scale=cfg.scale,
                    revive=revive).name


METHODS = {  # name -> (what it is, how to turn a study's lm(...) spec into it)
    "lm": ("plain Levenberg-Marquardt (`revive=0`), the study's steps",
           lambda s: _with(s, 0)),
    "lm+revive": ("the same with `revive=20` (uat.revive: dead units re-placed, the least "
                  "useful last-layer unit exchanged, when a net stops or stalls)",
                  lambda s: _with(s, 20)),
}


class Cell(NamedTuple):
    """One shape on one target, trained by one method: per-seed numbers."""

    label: str
    method: str
    test_mse: np.ndarray  # (n_seeds,)
    dead_end: np.ndarray  # (n_seeds,) dead hidden units at the end
    pieces: np.ndarray  # (n_seeds,) linear pieces (NaN where not defined)
    steps: np.ndarray  # (n_seeds,)
    seconds: float  # per network


def runs_of(path: str, keep: Callable, scale: str = "default") -> list:
    """The runs of a shipped study that `keep(run)` selects."""
    return [r for r in study.load(ROOT / "studies" / path, scale, warn=False).runs if keep(r)]


def groups(runs: list) -> dict:
    """Runs by (target, width, depth, optimizer, n_train, n_test): one batch each."""
    out: dict = {}
    for r in runs:
        out.setdefault((r.target, r.width, r.depth, r.optimizer, r.n_train, r.n_test), []).append(r)
    return out


def more_seeds(runs: list, n: int) -> list[int]:
    """The runs' own seeds, then more drawn from them (deterministic) up to n."""
    seeds = [r.rng_seed for r in runs]
    rng = np.random.default_rng(seeds)
    return (seeds + [int(s) for s in rng.integers(0, 2**63 - 1, max(0, n - len(seeds)))])[:n]


def data_of(target: str, n_train: int, n_test: int) -> targets.Data:
    return targets.sample(targets.get(target), n_train, n_test)


def train_cell(key: tuple, seeds: list[int], method: str, label: str) -> Cell:
    """Train one batch: the study's shape and data, its seeds, the method's optimizer."""
    target, width, depth, optimizer, n_train, n_test = key
    shape = network.Shape(1, width, depth, activation="relu")
    data = data_of(target, n_train, n_test)
    start = time.perf_counter()
    res = train.train_batch(shape, METHODS[method][1](optimizer), seeds, [data] * len(seeds))
    seconds = (time.perf_counter() - start) / len(seeds)
    return Cell(label, method, np.array([m.test_mse for m in res]),
                np.array([m.dead_end for m in res]), np.array([m.pieces for m in res]),
                np.array([m.steps for m in res]), seconds)


def share(mask: np.ndarray) -> str:
    """k/n as a fraction with its 95% Wilson interval."""
    k, n = int(np.sum(mask)), int(np.size(mask))
    low, high = wilson(k, n)
    return f"{k / n:.2f} [{low:.2f}, {high:.2f}]"


def fmt(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.3g}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [*markdown.table(header, rows), ""]


def compute(c: Cell) -> str:
    return f"{c.seconds * 1e3:.0f} ms, {np.median(c.steps):.0f}"


# ------------------------------------------------------------------------------------ cases


def sawtooth(methods, quick: bool) -> list[str]:
    runs = runs_of("separation.toml", lambda r: r.target == "sawtooth(teeth=4)" and r.depth == 3)
    key0 = next(iter(groups(runs)))
    n = 24 if quick else 200
    seeds = more_seeds(runs, n)
    rows = []
    for width in (2, 3, 4):
        key = (key0[0], width, 3, *key0[3:])
        for m in methods:
            c = train_cell(key, seeds, m, f"width {width}")
            rows.append([c.label, m, share(c.test_mse < 1e-6), fmt(np.min(c.test_mse)),
                         fmt(np.median(c.test_mse)), share(c.dead_end > 0),
                         fmt(np.median(c.pieces)), compute(c)])
    return [f"### sawtooth(teeth=4), ReLU depth 3, {n} seeds, `{key0[3]}` (the separation study's "
            f"points: {key0[4]} train, {key0[5]} test)", "",
            *table(["shape", "method", "share < 1e-6", "best", "median", "with a dead unit",
                    "median pieces (8 needed)", "per net: time, steps"], rows)]


def narrow(methods, quick: bool) -> list[str]:
    depths = (2, 4, 6) if quick else (2, 3, 4, 5, 6)
    runs = runs_of("depth.toml", lambda r: r.target == "sin(freq=1.0)" and r.width == 1
                   and r.depth == 1 and r.activation == "relu")
    key0 = next(iter(groups(runs)))
    n = 20 if quick else 40
    seeds = more_seeds(runs, n)
    data = data_of(key0[0], key0[4], key0[5])
    floor = pl.clamp_floor(data.X_test[0], data.Y_test[0])
    rows, dead = [], {m: [] for m in methods}
    for width in (2, 3):
        for depth in depths:
            for m in methods:
                c = train_cell((key0[0], width, depth, *key0[3:]), seeds, m,
                               f"width {width}, depth {depth}")
                dead[m].append(c.dead_end > 0)
                rows.append([c.label, m, share(c.test_mse < floor),
                             share(c.test_mse < floor / 10), fmt(np.median(c.test_mse)),
                             share(c.dead_end > 0), fmt(np.median(c.pieces)), compute(c)])
    out = [f"### sin(pi x), ReLU width 2 and 3, {n} seeds per shape, `{key0[3]}` (the depth "
           f"study's points: {key0[4]} train, {key0[5]} test); width-1 clamp floor "
           f"{floor:.4g} on the test points", "",
           *table(["shape", "method", "share < floor", "share < floor/10", "median",
                   "with a dead unit", "median pieces", "per net: time, steps"], rows)]
    for m in methods:
        out.append(f"- {m}: nets ending with a dead unit, all shapes: "
                   f"{share(np.concatenate(dead[m]))}")
    return [*out, ""]


def nmr(methods, quick: bool) -> list[str]:
    runs = runs_of("lecture.toml", lambda r: r.target.startswith("nmr"))
    key0 = next(iter(groups(runs)))
    target, n_train, n_test = key0[0], key0[4], key0[5]
    optimizer = "lm(steps=400)"
    data = data_of(target, n_train, n_test)
    x, y = data.X_test[0], data.Y_test[0]
    variance, rows = float(np.var(y)), []
    widths = (32,) if quick else (8, 32)
    n = 4 if quick else 10
    for width in widths:
        bound = pl.free_knot_floor(x, y, width + 1)
        ceiling = pl.free_knot_ceiling(x, y, width)
        for m in methods:
            c = train_cell((target, width, 1, optimizer, n_train, n_test),
                           more_seeds(runs, n), m, f"width {width}")
            med = float(np.median(c.test_mse))
            rows.append([c.label, m, fmt(med), f"{med / variance:.3g}", fmt(bound),
                         f"{med / bound:.3g}", fmt(ceiling), share(c.dead_end > 0),
                         compute(c)])
    return [f"### {target}, shallow ReLU, {n} seeds, `{optimizer}` ({n_train} train, {n_test} "
            f"test points; test variance {variance:.4g})", "",
            *table(["shape", "method", "median MSE", "/ variance", "free-knot lower bound",
                    "median / bound", "free-knot ceiling", "with a dead unit",
                    "per net: time, steps"], rows)]


def width(methods, quick: bool) -> list[str]:
    runs = runs_of("width.toml", lambda r: r.activation == "relu" and r.optimizer.startswith("lm")
                   and not r.target.startswith("bump"))
    by = groups(runs)
    if quick:
        by = {k: v for k, v in by.items() if k[0] == "sin(freq=4.0)" and k[1] in (4, 16)}
    rows, worst = [], {m: {} for m in methods}
    for key, members in by.items():
        target, w = key[0], key[1]
        data = data_of(target, key[4], key[5])
        # an exact fit (ceiling ~ 0) is reached at LM's measurement floor, as the checks say
        ceiling = max(pl.free_knot_ceiling(data.X_test[0], data.Y_test[0], w),
                      MEASURE * float(np.var(data.Y_test)))
        for m in methods:
            c = train_cell(key, [r.rng_seed for r in members], m, f"{target} w{w}")
            ratio = float(np.median(c.test_mse)) / ceiling
            worst[m][target] = max(worst[m].get(target, 0.0), ratio)
            rows.append([target, str(w), m, fmt(np.median(c.test_mse)), fmt(ceiling),
                         f"{ratio:.3g}", share(c.dead_end > 0), compute(c)])
    summary = [f"- {m}: worst median / ceiling per target: " + ", ".join(
        f"{t} {r:.3g}" for t, r in worst[m].items()) for m in methods]
    return ["### Shallow ReLU, the width study's 1-D targets (its points, seeds and "
            "`lm(steps=400)`), median over 5 seeds against the free-knot ceiling (or 1e-9 x "
            "the variance where the ceiling is lower: the measurement's floor)", "",
            *table(["target", "width", "method", "median", "ceiling", "median / ceiling",
                    "with a dead unit", "per net: time, steps"], rows), *summary, ""]


def separation(methods, quick: bool) -> list[str]:
    runs = runs_of("separation.toml", lambda r: True)
    by = groups(runs)
    rows, wins = [], {m: 0 for m in methods}
    sizes = [(t, L) for t in ("sawtooth(teeth=4)", "sawtooth(teeth=8)") for L in range(1, 7)]
    if quick:
        sizes = [("sawtooth(teeth=4)", 3)]
    for target, L in sizes:
        deep = next(k for k in by if k[0] == target and k[1] == 2 and k[2] == L)
        shallow = next(k for k in by if k[0] == target and k[1] == 2 * L and k[2] == 1)
        for m in methods:
            d = train_cell(deep, [r.rng_seed for r in by[deep]], m, "deep")
            s = train_cell(shallow, [r.rng_seed for r in by[shallow]], m, "shallow")
            dm, sm = float(np.median(d.test_mse)), float(np.median(s.test_mse))
            wins[m] += dm < sm
            rows.append([target, str(L), m, fmt(dm), fmt(sm), "deep" if dm < sm else "shallow",
                         share(d.test_mse < 1e-6), compute(d)])
    return [f"### Depth separation, the separation study's runs ({len(by[deep])} seeds, "
            f"`{deep[3]}`): median test MSE, deep width 2 depth L against shallow width 2L", "",
            *table(["target", "L", "method", "deep", "shallow", "lower", "deep share < 1e-6",
                    "deep per net: time, steps"], rows),
            *(f"- {m}: deep lower at {wins[m]} of {len(sizes)} sizes" for m in methods), ""]


CASES = {"sawtooth": sawtooth, "narrow": narrow, "nmr": nmr, "width": width,
         "separation": separation}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.trainability", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer seeds and shapes (< 1 minute)")
    ap.add_argument("--only", default=",".join(CASES), help=f"comma list of {', '.join(CASES)}")
    ap.add_argument("--methods", default=",".join(METHODS),
                    help=f"comma list of {', '.join(METHODS)}")
    ap.add_argument("--out", type=Path, help=f"markdown file (default {RESULTS.name}; "
                    "with --quick, none)")
    args = ap.parse_args(argv)
    only = [c.strip() for c in args.only.split(",")]
    methods = [m.strip() for m in args.methods.split(",")]
    if bad := [c for c in only if c not in CASES] + [m for m in methods if m not in METHODS]:
        ap.error(f"unknown {bad}; cases: {', '.join(CASES)}; methods: {', '.join(METHODS)}")
    start = time.perf_counter()
    body = []
    for name in only:
        t = time.perf_counter()
        part = CASES[name](methods, args.quick)
        body += [*part, f"({name}: {time.perf_counter() - t:.0f} s)", ""]
        print("\n".join(part), flush=True)
    total = time.perf_counter() - start
    command = (f"python -m benchmarks.trainability{' --quick' if args.quick else ''} "
               f"--only {','.join(only)} --methods {','.join(methods)}")
    head = ["# Trainability: what training finds against what exists", "", f"`{command}`", "",
            f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S')}; {os.cpu_count()} logical cores; "
            f"{total:.0f} s in all", "- methods: " + "; ".join(
                f"**{m}**: {METHODS[m][0]}" for m in methods),
            "- shares: fraction of seeds, with a 95% Wilson interval; medians over seeds; "
            "per net: wall time of its batch / members, median optimizer steps", ""]
    text = "\n".join([*head, *body])
    out = args.out or (None if args.quick else RESULTS)
    if out:
        out.write_text(text)
    print(f"done in {total:.0f} s" + (f"; wrote {out}" if out else ""))


if __name__ == "__main__":
    main()

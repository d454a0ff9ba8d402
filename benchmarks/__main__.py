"""`python -m benchmarks [--quick] [--only W1,W2,W3,scaling,profile,WP] [--out FILE]`: uat
against scikit-learn, PyTorch and SciPy on the same work, in one run; prints markdown tables
and writes benchmarks/results.md (--quick, a < 1 minute smoke test, writes nothing unless
--out is given). WP, the work-precision diagram, also writes work_precision.png next to the
markdown file. Speed is measured here, never asserted in a test (issue 6).
"""

import argparse
import datetime
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks import markdown, profile, work_precision, workloads
from benchmarks.workloads import uat_source

PARTS = ("W1", "W2", "W3", "scaling", "profile", "WP")
RESULTS = Path(__file__).with_name("results.md")
SAME = "<= 1.05 (equal within 5%, or better)"
# W1 on one core with the issue's prototypes (issue 6): (row name prefix, dtype, seconds)
ISSUE_W1 = (("scikit-learn loop", "float64", 12.9), ("torch loop", "float32", 16.0),
            ("torch batched", "float32", 5.9), ("uat jobs 1", "float64", 2.2),
            ("uat jobs 1", "float32", 1.05))


def matmul_peak() -> dict:
    """GFLOP/s of np.matmul on 1024 x 1024 matrices, by (dtype, BLAS threads): best of 3."""
    rng, peak = np.random.default_rng(0), {}
    for dtype in ("float64", "float32"):
        A, B = (rng.standard_normal((1024, 1024)).astype(dtype) for _ in range(2))
        for threads in (1, 2):
            with threadpool_limits(threads):
                A @ B
                best = min(_timed(lambda A=A, B=B: A @ B) for _ in range(3))
            peak[dtype, threads] = 2 * 1024**3 / best / 1e9
    return peak


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _caches() -> str:
    """L1d/L2/L3 sizes of cpu0 from sysfs ("" where unknown)."""
    out = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        level, kind = (index / "level").read_text().strip(), (index / "type").read_text()
        if "Instruction" not in kind:
            out.append(f"L{level} {(index / 'size').read_text().strip()}")
    return ", ".join(out)


def machine(peak: dict, startup: float | None) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    libs = ", ".join(f"{p} {version(p)}" for p in ("numpy", "scipy", "scikit-learn", "torch",
                                                      "uat", "joblib", "threadpoolctl"))
    blas = ", ".join(sorted({f"{i['internal_api']} {i['version']} ({i.get('architecture')})"
                             for i in threadpool_info() if i["user_api"] == "blas"}))
    lines = [
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {cpu}, {os.cpu_count()} logical cores ({_caches()} per core), "
        f"Python {platform.python_version()}",
        f"- libraries: {libs}; NumPy/SciPy BLAS: {blas}; uat source sha256 {uat_source()}",
        "- np.matmul peak (1024 x 1024), GFLOP/s: " + ", ".join(
            f"{dt} {t} thread{'s' * (t > 1)} {v:.1f}" for (dt, t), v in peak.items()),
        f"- load average at start (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    if startup is not None:
        lines.append(f"- loky start-up (first `run_study(jobs=2)` of a process, a 1-step "
                     f"study): {startup:.2f} s; not in the jobs-2 rows below, whose process "
                     f"starts its workers in the untimed warm-up")
    return lines


METHOD = """\
## Method

- Every side trains the same networks: uat's points (`uat.targets.sample`), uat's run seeds
  (from the run keys of the float64 study) and uat's initial parameters (captured from
  `train.train_batch`; scikit-learn gets them through an `_init_coef` override, torch by copy).
- Every row runs in its own freshly spawned Python process (no shared heap, imports or thread
  pools), is warmed up on a 2-step run of the first shape, then timed once with
  `time.perf_counter`. BLAS threads are pinned with threadpoolctl, torch's with
  `torch.set_num_threads`.
- scikit-learn: `MLPRegressor(solver='adam', batch_size=n_train, shuffle=False, alpha=0,
  tol=0, n_iter_no_change=steps + 1, early_stopping=False)`, one epoch = one full-batch step.
  torch loop: `nn.Sequential` + `torch.optim.Adam` per network. torch batched: stacked
  (k, n_l, n_{l-1}) parameters per shape, `torch.baddbmm`, one Adam, loss = sum of the
  members' MSEs, on 1 and on 2 threads (the loop on 1: 2 threads gave no gain in a trial).
- uat jobs 1 = one `train.train_batch` per shape in the process (no store); uat jobs 2 =
  `runner.run_study(study, tmpdir, jobs=2)`: planning, 2 loky workers with 1 BLAS thread
  each, the CSV store.
- W3: SciPy `least_squares(method='lm', jac=...)` per network, residual = uat's forward pass
  on a k = 1 slice, Jacobian = `uat.network.output_jacobian` on it; `max_nfev = steps + 1`
  (MINPACK counts the first evaluation; uat counts trial steps), all tolerances at machine
  epsilon (the smallest 'lm' accepts); uat `lm(steps=S, ftol=0)`.
- GFLOP/s counts useful work only, the same for every side: Adam 6 n_s sum_l n_l n_{l-1} flops
  per network and step (forward W A, backward W^T delta and delta A^T, 2 flops per
  multiply-add); LM 2 n_s P^2 + 2/3 P^3 per network and trial step (J^T J and the solve).
"""


def _fmt(x: float) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{x:.2e}"


def report(work, results: list[dict], peak: dict, lm: bool = False) -> list[str]:
    """Timing table and error tables of one workload; ratio = baseline seconds / seconds."""
    base, flops = results[0]["seconds"], work.flops(lm)
    rows = []
    for r in results:
        s = r["side"]
        gflops = flops / r["seconds"] / 1e9
        cap = peak[s.dtype, min(s.cores, 2)]
        flag = " (2nd run)" if r["runs"] > 1 else ""
        rows.append([s.name, s.dtype, s.thread_text, f"{r['seconds']:.2f}{flag}",
                     f"{r['cpu']:.2f}", f"{r['others']:.2f}",
                     f"{base / r['seconds']:.1f}x", f"{gflops:.2f}", f"{100 * gflops / cap:.1f}%"])
    out = [f"### {work.name}: {work.target}, {work.activation}, widths {list(work.widths)}, "
           f"depths {list(work.depths)}, {work.seeds} seeds, n_train {work.n_train}, "
           f"n_test {work.n_test}, `{work.optimizer}`", "",
           *markdown.table(["side", "dtype", "threads", "wall s", "CPU s", "others", "speed-up",
                    "GFLOP/s", "% of peak"], rows), "",
           "speed-up = first row's wall s / this row's. CPU s = CPU time of the row's process "
           "and its workers. others = cores used meanwhile by other processes of the machine "
           "(/proc/stat busy time minus ours, / wall s): above ~0.1 someone else slowed the row "
           "down (rows under 20 s are then run a 2nd time, the cleaner run kept). % of peak: "
           "against np.matmul on as many cores. uat jobs 2 float32 runs have their own run "
           "keys, hence their own seeds.", ""]
    labels = [g.label for g in work.groups]
    tables = [("median test MSE", "test", np.median)]
    if lm:
        tables += [("median train MSE", "train", np.median), ("best train MSE", "train", np.min)]
    for title, key, stat in tables:
        out += [f"{title} per {work.by}:", "", *markdown.table(
            ["side", "dtype", "threads", *labels],
            [[r["side"].name, r["side"].dtype, r["side"].thread_text,
              *(_fmt(stat(r[key][lab])) for lab in labels)] for r in results]), ""]
    return out


def run_workload(work, sides: list) -> list[dict]:
    results = []
    for side in sides:
        start = time.perf_counter()
        results.append(workloads.run_side(work, side))
        print(f"  {work.name} {side.name} {side.dtype} {side.thread_text}: "
              f"{results[-1]['seconds']:.2f} s (with process start and warm-up "
              f"{time.perf_counter() - start:.2f} s)", flush=True)
    return results


def _ratio(results, base_pick, pick) -> tuple[float, str]:
    """Speed-up of the fastest row `pick` selects over the fastest row base_pick selects."""
    base = min(r["seconds"] for r in results if base_pick(r["side"]))
    best = min((r for r in results if pick(r["side"])), key=lambda r: r["seconds"])
    return base / best["seconds"], f"{best['side'].name} {best['side'].dtype}"


def error_ratio(results, a_pick, b_pick, key: str = "test") -> tuple[float, float]:
    """Geometric mean and max over groups of median(error of a) / median(error of b)."""
    a = next(r for r in results if a_pick(r["side"]))
    b = next(r for r in results if b_pick(r["side"]))
    ratios = np.array([np.median(a[key][k]) / np.median(b[key][k]) for k in a[key]])
    return float(np.exp(np.mean(np.log(ratios)))), float(ratios.max())


def is_uat(side) -> bool:
    return side.name.startswith("uat")


def is_jobs2_f64(side) -> bool:
    return is_uat(side) and "jobs 2" in side.name and side.dtype == "float64"


def named(prefix: str, dtype: str | None = None):
    return lambda side: side.name.startswith(prefix) and dtype in (None, side.dtype)


def targets_section(res: dict, total: float, quick: bool) -> list[str]:
    lines = ["(--quick: a smoke test; these verdicts mean nothing)", ""] if quick else []

    def check(what, value, goal, ok):
        verdict = "info" if ok is None else "met" if ok else "NOT met"
        lines.append(f"| {what} | {value} | {goal} | {verdict} |")

    lines += ["| target | measured | goal | |", "|---|---|---|---|"]
    def is_sklearn(side) -> bool:  # the one-core loop, not its joblib variant
        return side.name == "scikit-learn loop"


    def check_error(name, results, a_pick, b_pick, key, a_label="uat jobs 2 float64"):
        mean, worst = error_ratio(results, a_pick, b_pick, key)
        b = next(r["side"].name for r in results if b_pick(r["side"]))
        check(f"{name} {a_label} / {b} median {key} MSE, geometric mean over "
              f"{'depths' if name == 'W2' else 'widths'} (worst)", f"{mean:.3g} ({worst:.3g})",
              SAME, mean <= 1.05)
    if "W1" in res:
        r = res["W1"]
        for label, pick in (("uat jobs 2 float64", is_jobs2_f64), ("fastest uat row", is_uat)):
            x, who = _ratio(r, is_sklearn, pick)
            check(f"W1 {label} ({who}) vs scikit-learn loop (1 core)", f"{x:.1f}x", ">= 30x",
                  x >= 30)
            x, _ = _ratio(r, named("scikit-learn loop, joblib"), pick)
            check(f"W1 {label} vs scikit-learn loop on 2 processes", f"{x:.1f}x", "-", None)
            x, _ = _ratio(r, named("torch batched"), pick)
            check(f"W1 {label} vs fastest batched torch (1 or 2 threads)", f"{x:.1f}x",
                  ">= 10x", x >= 10)
        check_error("W1", r, is_jobs2_f64, is_sklearn, "test")
        is_torch = named("torch loop", "float64")
        if any(is_torch(x["side"]) for x in r):  # how far two competitors differ, for scale
            mean, worst = error_ratio(r, is_torch, is_sklearn)
            lines.append(f"| (scale) W1 torch loop float64 / sklearn median test MSE | geo-mean "
                         f"{mean:.3f}, worst {worst:.3f} | - | - |")
    if "W2" in res:
        for label, pick in (("uat jobs 2 float64", is_jobs2_f64), ("fastest uat row", is_uat)):
            x, who = _ratio(res["W2"], is_sklearn, pick)
            check(f"W2 {label} ({who}) vs scikit-learn loop (1 core)", f"{x:.1f}x", ">= 10x",
                  x >= 10)
        check_error("W2", res["W2"], is_jobs2_f64, is_sklearn, "test")
    if "W3" in res:
        x, who = _ratio(res["W3"], named("SciPy"), lambda s: is_uat(s) and "scale" not in s.name)
        check(f"W3 fastest uat default-LM row ({who}) vs SciPy loop (1 core)", f"{x:.1f}x",
              ">= 10x", x >= 10)
        check_error("W3", res["W3"], is_jobs2_f64, named("SciPy"), "train")
        scaled = named("uat jobs 1 (train_batch), lm(scale=True)")
        if any(scaled(r["side"]) for r in res["W3"]):
            x, who = _ratio(res["W3"], named("SciPy"), scaled)
            check(f"W3 {who} vs SciPy loop (1 core)", f"{x:.1f}x", ">= 10x", x >= 10)
            check_error("W3", res["W3"], scaled, named("SciPy"), "train",
                        "uat lm(scale=True) jobs 1")
    if "WP" in res:
        wp = res["WP"]
        for g in wp["work"].groups:
            ok, why = work_precision.goal(wp["results"], g.label)
            check(f"WP {g.label}: {work_precision.GOAL}", "; ".join(why[-1:]) or "-", "yes", ok)
    if "scaling" in res:
        for name in ("networks", "n_s"):
            s = res["scaling"][name]["slope"]
            check(f"scaling exponent vs {name} (all points)", f"{s:.2f}", "0.9-1.1",
                  0.9 <= s <= 1.1)
    check("benchmark wall time", f"{total / 60:.1f} min", "<= 10 min", total <= 600)
    if "W1" in res and not quick:
        lines += ["", "W1 against the issue's one-core reference times (uat rows: the issue's "
                  "batched NumPy prototype):", "",
                  "| side | dtype | issue s | here s (1 core) |", "|---|---|---|---|"]
        for name, dtype, ref in ISSUE_W1:
            here = [r["seconds"] for r in res["W1"] if r["side"].name.startswith(name)
                    and r["side"].dtype == dtype and r["side"].cores == 1]
            lines.append(f"| {name} | {dtype} | {ref} | {min(here):.2f} |")
    return lines


def scaling_section(sc: dict) -> list[str]:
    out = [f"uat `runner.plan` + `execute_batch` in-process (what `uat run --jobs 1` does, minus "
           f"the CSV store), tanh width 16, Adam {sc['steps']} steps, BLAS 1 thread.", ""]
    for name, fixed in (("networks", "n_s = 256"), ("n_s", "k = 32 networks")):
        s = sc[name]
        out += [f"vs {name} ({fixed}): slope {s['slope']:.2f} over all points, "
                f"{s['slope_upper']:.2f} over the last three", "",
                *markdown.table([name, *map(str, s["x"])],
                        [["seconds", *(f"{t:.2f}" for t in s["seconds"])]]), ""]
    n_s, whole = sc["n_s"]["x"][-1], sc["n_s"]["seconds"][-1]
    out += [f"k = 32 at n_s = {n_s} in smaller batches (`runner.plan(batch_size=b)`): " + ", ".join(
        f"b = {b}: {t:.2f} s" for b, t in sc["split"].items()) + f" (one batch: {whole:.2f} s)", ""]
    return out


def profile_section(prof: dict, tuned: dict) -> list[str]:
    for dt, rows in prof["rows"].items():
        for w, row in rows.items():
            row["tuned"], row["faults, tuned"] = tuned[dt][w]["step"], tuned[dt][w]["faults"]
    keys = ["step", "faults", "tuned", "faults, tuned", "fixed", "Z", "tanh", "tanh'", "out",
            "back", "adam", "1 op", "rest"]
    out = [profile.__doc__.strip(), "", "Microseconds (fixed: ms; faults: per step):", ""]
    for dt, rows in prof["rows"].items():
        out += [f"{dt}:", "", *markdown.table(["width", *keys], [
            [str(w), *(f"{row[k]:.1f}" for k in keys)] for w, row in rows.items()]), ""]
    sep, packed = prof["packed"]
    out += [*profile.suggestions(prof),
            f"- cProfile: {prof['calls']:.0f} Python-level calls per Adam step at width 1.",
            f"- widths 1, 2, 4, 8, 16 as 5 separate k = 5 batches: {sep:.0f} µs per step; "
            f"as one k = 25 batch at width 16 (packing by padding): {packed:.0f} µs.", ""]
    return out


def work_precision_part(quick: bool, out: Path | None, command: str, res: dict,
                        head: list[str]) -> list[str]:
    """Part WP: collect every side's ladder, draw the figure next to `out` (none without),
    and return the section, with the run's `head` (machine, libraries) so that it can stand
    in a report of other parts' run; res["WP"] = {"work", "results"} for the targets table."""
    start, load, source = time.perf_counter(), os.getloadavg()[0], uat_source()
    work = work_precision.work(quick)
    results = work_precision.collect(work, work_precision.ladders(quick),  # quick: no waiting
                                     cap=3.0 if quick else 30.0, wait=0.0 if quick else 10.0)
    res["WP"] = {"work": work, "results": results}
    name = None
    if out:
        work_precision.figure(work, results, out.parent / work_precision.FIGURE)
        name = work_precision.FIGURE
    provenance = (f"`{command}`, {datetime.datetime.now().isoformat(timespec='seconds')}, uat "
                  f"source sha256 {source}; this part took "
                  f"{time.perf_counter() - start:.0f} s, load average (1 min) before/after "
                  f"{load:.2f} / {os.getloadavg()[0]:.2f}. Its run:\n\n" + "\n".join(head))
    return work_precision.section(work, results, name, quick, provenance)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smoke test: few steps (< 1 minute)")
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}")
    ap.add_argument("--out", type=Path, help=f"markdown file to write (default: {RESULTS}; "
                    "with --quick, none)")
    args = ap.parse_args(argv)
    only = [p.strip() for p in args.only.split(",")]
    if unknown := set(only) - set(PARTS):
        ap.error(f"--only: unknown {sorted(unknown)}; choose from {', '.join(PARTS)}")
    out = args.out or (None if args.quick else RESULTS)
    start = time.perf_counter()
    peak = matmul_peak()
    jobs2 = any(p in only for p in ("W1", "W2", "W3"))
    startup = workloads.in_fresh_process(workloads.loky_startup) if jobs2 else None
    head = machine(peak, startup)
    print("\n".join(head), flush=True)
    res, body = {}, []
    plan = {"W1": (workloads.w1, workloads.adam_sides(torch_sides=True), False),
            "W2": (workloads.w2, workloads.adam_sides(torch_sides=False), False),
            "W3": (workloads.w3, workloads.lm_sides(), True)}
    for name in (p for p in PARTS[:3] if p in only):
        make, sides, lm = plan[name]
        work = make(args.quick)
        load = os.getloadavg()[0]
        if args.quick:  # the smoke test skips variants: BLAS 2 threads, torch float64
            sides = [s for s in sides if s.threads == 1 and not (s.torch and s.dtype == "float64")]
        res[name] = run_workload(work, sides)
        body += report(work, res[name], peak, lm)
        body += [f"load average (1 min) before/after: {load:.2f} / {os.getloadavg()[0]:.2f}", ""]
        if lm:
            nfev, steps = res[name][0]["nfev"], res[name][1]["steps"]
            body += [f"Budgets used: SciPy nfev per network min {min(nfev)}, max {max(nfev)} "
                     f"(max_nfev {work.steps + 1}, it stops early at xtol/ftol = eps); uat "
                     f"trial steps min {min(steps)}, max {max(steps)} (budget {work.steps}).",
                     ""]
    if "scaling" in only:
        res["scaling"] = workloads.in_fresh_process(workloads.scaling, args.quick)
        body += ["### Scaling", "", *scaling_section(res["scaling"])]
    if "profile" in only:
        body += ["### Where uat's W1 step spends its time", "",
                 *profile_section(workloads.in_fresh_process(profile.profile, args.quick),
                                  workloads.in_fresh_process(profile.steps_only, args.quick,
                                                             env=workloads.MALLOC_TUNED))]
    command = f"python -m benchmarks{' --quick' if args.quick else ''} --only {','.join(only)}"
    if "WP" in only:
        body += work_precision_part(args.quick, out, command, res, head)
    total = time.perf_counter() - start
    text = "\n".join(["# uat benchmarks" + (" (--quick)" if args.quick else ""), "",
                      f"`{command}`", "", *head, "",
                      *([METHOD] if any(p in only for p in PARTS[:3]) else []), *body,
                      "## Targets (issue 6)", "",
                      *targets_section(res, total, args.quick), ""])
    print(text)
    if out:
        out.write_text(text)
    print(f"done in {total:.0f} s" + (f"; wrote {out}" if out else ""))


if __name__ == "__main__":
    main()

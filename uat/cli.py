"""`uat run | list | show | plot | verdict | repair | report`: the command line (also
`python -m uat`).

User errors print one line and exit 2 (no traceback); Ctrl-C during a run exits 130 after
saying how to resume; a report with a failed section, or verdicts that differ from the
expected ones (`uat verdict --expect`), exit 1.
"""

import argparse
import logging
import os
import signal
import sys
import warnings
from pathlib import Path

from uat import __version__, api, errors, plots, runner, store, study
from uat.errors import Terminated, UserError

READ_SCALES = (*study.SCALES, "stored")  # what show, plot and verdict can read
CONFIRM_RUNS = 5000  # above this many runs (or CONFIRM_SECONDS of work) `uat run` wants --yes
CONFIRM_SECONDS = 3600.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="uat", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"uat {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="train a study's runs that are not stored yet")
    r.add_argument("study", help="study file, or a name in studies/ (e.g. width)")
    r.add_argument("--scale", default="default", choices=study.SCALES)
    r.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1)")
    r.add_argument("--backend", default="loky", choices=runner.BACKENDS)
    r.add_argument("--scheduler", help="dask scheduler address tcp://HOST:PORT (default: a "
                   "LocalCluster on 127.0.0.1 with --jobs workers)")
    r.add_argument("--out", default="results", help="results folder (default results)")
    r.add_argument("--fresh", action="store_true",
                   help="move the stored table aside (never deleted) and start over")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a study key, e.g. --set grid.width=[1,2,4] (TOML value)")
    r.add_argument("--batch-size", type=int, help="max networks per batch (default: by memory)")
    r.add_argument("--memory-limit", metavar="SIZE",
                   help="memory all workers' batches may use at once, e.g. 8G (default: "
                        "UAT_MEMORY_LIMIT, else half the machine's)")
    r.add_argument("--dry-run", action="store_true",
                   help="check the study at every scale and print its runs, batches, memory "
                        "and time; train nothing")
    r.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    r.add_argument("--yes", action="store_true", help="start even a very large study")
    r.add_argument("-v", "--verbose", action="store_true", help="log every batch")

    ls = sub.add_parser("list", help="studies with runs stored / total per scale")
    ls.add_argument("--studies", default="studies", help="folder of study files")
    ls.add_argument("--out", default="results")

    sh = sub.add_parser("show", help="best and median test error per configuration")
    sh.add_argument("study")
    sh.add_argument("--scale", default="default", choices=READ_SCALES,
                    help="the runs of a scale, or 'stored': every stored run (default: "
                         "default, else what is stored)")
    sh.add_argument("--out", default="results")

    pl = sub.add_parser("plot", help="redraw one study's figure from its table")
    pl.add_argument("study")
    pl.add_argument("--scale", default="default", choices=READ_SCALES)
    pl.add_argument("--out", default="results")

    rr = sub.add_parser("repair", help="move a table's bad rows aside (kept in a file), keep "
                        "the rest")
    rr.add_argument("study")
    rr.add_argument("--out", default="results")

    vd = sub.add_parser("verdict", help="the theorems' checks and verdicts on the stored runs")
    vd.add_argument("study", nargs="*", help="study files or names (default: every study)")
    vd.add_argument("--scale", choices=READ_SCALES,
                    help="judge the runs of this scale (default: the scale the report shows)")
    vd.add_argument("--out", default="results")
    vd.add_argument("--studies", default="studies", help="folder of study files")
    vd.add_argument("--expect", metavar="CSV",
                    help="compare (study, check, outcome) with this verdicts table; exit 1 on a "
                         "difference")

    rp = sub.add_parser("report", help="write <out>/report.html and verdicts.csv")
    rp.add_argument("--out", default="results")
    rp.add_argument("--studies", default="studies", help="folder of study files")
    return p


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _confirm(s: study.Study, pending: list, seconds: float, jobs: int) -> None:
    if len(pending) > CONFIRM_RUNS or seconds > CONFIRM_SECONDS:
        raise UserError(
            f"{s.path}: {len(pending):,} runs to train, about {_duration(seconds)} on {jobs} "
            f"worker(s); add --yes to start (or --scale smoke to try it small)"
        )


def _out(args) -> None:
    """`--out` must name a folder (created when missing), never a file or nothing."""
    if not str(args.out).strip():
        raise UserError("`--out` must name a folder; got an empty string")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"`--out` {args.out}: is a file, not a folder")


def cmd_run(args) -> int:
    _out(args)
    path = api.find_study(args.study)
    for scale in study.SCALES:  # a bad value at any scale is an error now, not later
        loaded = study.load(path, scale, args.overrides, warn=scale == args.scale)
        plots.check_fit(loaded)  # a theorem figure on a grid it cannot draw: say so now
        if scale == args.scale:
            s = loaded
    if args.batch_size is not None and args.batch_size < 1:
        raise UserError(f"`--batch-size` must be >= 1; got {args.batch_size}")
    if args.jobs < 1:
        raise UserError(f"`--jobs` must be >= 1; got {args.jobs}")
    if args.scheduler and args.backend != "dask":
        raise UserError("`--scheduler` needs `--backend dask`")
    limit = (runner.parse_bytes(args.memory_limit, "--memory-limit") if args.memory_limit
             else runner.memory_limit())
    done = set() if args.fresh else store.stored_keys(args.out, s.name)
    pending = [r for r in s.runs if r.key not in done]
    batches = runner.fit_memory(runner.plan(pending, args.batch_size, args.jobs), limit,
                                args.jobs) if pending else []
    seconds = runner.estimate_wall(batches, args.jobs)
    if args.dry_run:
        peak = max((b.bytes for b in batches), default=0)
        print(f"{s.path} ({args.scale}): valid at every scale ({', '.join(study.SCALES)}); "
              f"{len(s.runs):,} runs, {len(s.runs) - len(pending):,} stored, {len(pending):,} "
              f"to train in {len(batches):,} batches; largest batch about {runner.human(peak)} "
              f"(limit {runner.human(limit // args.jobs)} per worker); about "
              f"{_duration(seconds)} on {args.jobs} worker(s)")
        return 0
    if not args.yes:
        _confirm(s, pending, seconds, args.jobs)  # before --fresh moves anything
    if args.fresh:
        moved = store.move_aside(args.out, s.name)
        if moved and not args.quiet:
            print(f"moved the old results to {moved}")
    summary = runner.run_study(s, args.out, args.jobs, args.backend, args.scheduler,
                               args.batch_size, progress=not args.quiet and sys.stderr.isatty(),
                               memory=limit)
    if not args.quiet:
        print(f"{s.name} ({args.scale}): {summary['trained']} runs trained in "
              f"{summary['batches']} batches ({summary['seconds']:.1f} s), "
              f"{summary['already']} already stored; table: {store.table_path(args.out, s.name)}")
    if summary["elsewhere"] and not args.quiet:
        print(f"{summary['elsewhere']} runs are being trained by another `uat run` of this "
              f"study into {args.out}; it stores them")
    if summary["failed"]:
        print(f"uat run: {summary['failed']} runs failed ({'; '.join(summary['failures'])}); "
              f"listed in {store.study_dir(args.out, s.name) / 'failed.csv'}; run the same "
              f"command again to try them again", file=sys.stderr)
        return 1
    return 0


def cmd_list(args) -> int:
    files = sorted(api.studies(args.studies).glob("*.toml"))
    if not files:
        print(f"no study files in {args.studies}/")
        return 0
    print(f"{'study':<12} {'figure':<11} " + " ".join(f"{sc:>15}" for sc in study.SCALES)
          + f" {'other':>7}  title")
    for f in files:
        try:
            loaded = {sc: study.load(f, sc) for sc in study.SCALES}
        except UserError as err:
            print(f"{f.stem:<12} invalid: {err}")
            continue
        first = loaded["default"]
        keys = store.stored_keys(args.out, first.name)
        counts = [f"{sum(r.key in keys for r in s.runs)}/{len(s.runs)}" for s in loaded.values()]
        other = len(keys - {r.key for s in loaded.values() for r in s.runs})  # from --set
        print(f"{first.name:<12} {first.figure:<11} " + " ".join(f"{c:>15}" for c in counts)
              + f" {other:>7}  {first.title}")
    return 0


def cmd_show(args) -> int:
    from uat import summary

    s = api.reading(api.find_study(args.study), args.scale, args.out)
    df = api.table(s, args.out)
    if df.empty:
        print(f"{s.name} ({args.scale}): nothing stored yet; uat run {args.study} "
              f"--scale {args.scale}")
        return 0
    print(f"{s.title}  [{s.name}, {s.scale}: {len(df)}/{len(s.runs)} runs stored]")
    print(summary.by_config(df).to_string(index=False))
    return 0


def cmd_plot(args) -> int:
    from uat import plots

    _out(args)
    s = api.reading(api.find_study(args.study), args.scale, args.out)
    paths = plots.draw(s, args.out)
    for path in paths:
        print(path)
    if not paths:
        print(f"uat plot: nothing to draw for {s.name} at scale {args.scale} in {args.out} "
              f"(figure {s.figure!r}, {len(api.table(s, args.out))} runs stored); run "
              f"`uat run {args.study} --scale "
              f"{'default' if args.scale == 'stored' else args.scale}` first", file=sys.stderr)
        return 1
    return 0


def cmd_repair(args) -> int:
    try:
        name = study.load(api.find_study(args.study)).name
    except UserError:
        name = str(args.study)  # a table under --out whose study file is elsewhere
    if not store.table_path(args.out, name).exists():
        raise UserError(f"{store.table_path(args.out, name)}: no such table")
    moved, aside = store.repair(args.out, name)
    print(f"{store.table_path(args.out, name)}: " + (f"moved {moved} bad row(s) to {aside}"
                                                     if moved else "no bad rows"))
    return 0


def cmd_verdict(args) -> int:
    from uat import report
    from uat.theory import checks
    from uat.theory import table as theory_table
    from uat.theory.verdict import words

    paths = ([api.find_study(x, args.studies) for x in args.study] if args.study
             else sorted(api.studies(args.studies).glob("*.toml")))
    found = []
    for path in paths:
        loaded = report.scales(path, args.out)
        keys = store.stored_keys(args.out, loaded["default"].name)
        counts = {sc: (sum(r.key in keys for r in x.runs), len(x.runs))
                  for sc, x in loaded.items()}
        scale = args.scale or report.choose_scale(counts)
        s = loaded.get(scale or "default") or api.stored(loaded["default"], args.out)
        if scale == "stored" and scale not in counts:  # asked for: every stored run
            counts[scale] = (len(s.runs), len(s.runs))
        if not scale or counts[scale][0] == 0:
            print(f"{s.name}: nothing stored at scale {scale or 'any'}; run it first")
            continue
        judged = checks.for_study(theory_table.joined(s, args.out), s)
        found += judged
        overall = judged[-1] if judged else None
        print(f"{s.name} ({scale}, {counts[scale][0]}/{counts[scale][1]} runs): "
              + (words(overall).upper() if overall else "no checks") +
              (f" - {overall.detail}" if overall else ""))
        for c in judged[:-1]:
            interval = f" [{c.low:.2f}, {c.high:.2f}]" if c.low == c.low else ""
            print(f"  {c.outcome:<12} {c.kind:<14} {c.check}: {c.observed:.3g}{interval} "
                  f"(n = {c.n}, threshold {c.threshold:g})")
    if args.expect:
        return _compare(checks.table(found), args.expect)
    return 0


def _compare(got, expected_path) -> int:
    """Exit 1 when an expected (study, check) has another outcome or is missing, or a study
    of the expected table has checks it does not list."""
    import pandas as pd

    try:
        want = pd.read_csv(expected_path)[["study", "check", "outcome"]]
    except (OSError, KeyError, ValueError) as err:
        raise UserError(f"--expect {expected_path}: cannot read a verdicts table ({err})") from None
    merged = want.merge(got[["study", "check", "outcome"]], on=["study", "check"], how="outer",
                        suffixes=("_expected", "_got"), indicator=True)
    merged = merged[merged["study"].isin(set(want["study"]))]
    diff = merged[merged["outcome_expected"] != merged["outcome_got"]]
    for r in diff.itertuples():
        print(f"differs: {r.study} {r.check}: expected {r.outcome_expected}, got "
              f"{r.outcome_got}", file=sys.stderr)
    if diff.empty:
        print(f"verdicts match {expected_path} ({len(want)} checks)")
    return 1 if len(diff) else 0


def cmd_report(args) -> int:
    from uat import report

    written = report.write(args.out, api.studies(args.studies))
    print(written.report)
    print(written.verdicts)
    for message in written.bad_input:  # the user's to fix: exit 2, as for `uat run`
        print(f"uat report: {message}", file=sys.stderr)
    for message in written.errors:
        print(f"uat report: section failed: {message}", file=sys.stderr)
    return 2 if written.bad_input else 1 if written.errors else 0


COMMANDS = {"run": cmd_run, "list": cmd_list, "show": cmd_show, "plot": cmd_plot,
            "verdict": cmd_verdict, "repair": cmd_repair, "report": cmd_report}


def _sigterm(signum, frame):
    errors.TERMINATING["now"] = True
    raise Terminated


def main(argv=None) -> int:
    """Run one command; exit 0, 1 (the environment: disk, permissions, a failed section), 2
    (the user's input), 130 (Ctrl-C) or 143 (SIGTERM), always with one line of message."""
    args = _parser().parse_args(argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s: %(message)s" if verbose else
                        f"uat {args.command}: %(message)s")
    warnings.simplefilter("ignore", RuntimeWarning)  # numerical warnings are statuses here
    # joblib, on Ctrl-C: the batches in flight are lost and the one-line message says so
    warnings.filterwarnings("ignore", message=r"\d+ tasks which were still being processed",
                            category=UserWarning)
    signal.signal(signal.SIGTERM, _sigterm)
    code = 130
    try:
        return COMMANDS[args.command](args)
    except runner.Interrupted as err:
        code = 143 if isinstance(err.__context__, Terminated) else 130
        print(err, file=sys.stderr)
        return code
    except KeyboardInterrupt as err:
        print("terminated" if isinstance(err, Terminated) else "interrupted", file=sys.stderr)
        return 143 if isinstance(err, Terminated) else 130
    except UserError as err:
        print(f"uat {args.command}: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `uat list | head -1`: the reader has gone; so do we, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # the environment: a full disk, a read-only folder, permissions
        where = f"{err.filename}: " if err.filename else ""
        hint = ("; the finished runs are stored, rerun the same command to resume"
                if args.command == "run" else "")
        print(f"uat {args.command}: {where}{err.strerror or err}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Tables of results for people: best and median error per configuration across seeds."""

import pandas as pd

from uat import custom, optim, spec, targets

CONFIG = ["target", "activation", "width", "depth", "optimizer"]


def label(df: pd.DataFrame) -> pd.DataFrame:
    """Short optimizer/target labels (only non-default keys) for tables and legends."""
    out = df.copy()
    out["optimizer"] = [spec.short(o, optim.OPTIMIZERS) for o in out["optimizer"]]
    out["target"] = [custom.short(t) or spec.short(t, targets.TARGETS) for t in out["target"]]
    return out


def by_config(df: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: seeds, best/median test MSE, best max |err|, diverged, and
    what training used of the shape (uat.diagnose): runs that ended with a dead unit, and the
    median number of linear pieces where the net is 1-D piecewise linear."""
    g = label(df).groupby(CONFIG, sort=True, dropna=False)
    table = g.agg(
        seeds=("key", "size"),
        best_test_mse=("test_mse", "min"),
        median_test_mse=("test_mse", "median"),
        best_max_abs_err=("max_abs_err", "min"),
        diverged=("status", lambda s: int((s == "diverged").sum())),
        with_dead_unit=("dead_end", lambda s: int((s > 0).sum())),
        median_pieces=("pieces", "median"),
    ).reset_index()
    if df["dead_end"].isna().all():  # a table stored before the diagnostics
        table = table.drop(columns="with_dead_unit")
    if table["median_pieces"].isna().all():
        table = table.drop(columns="median_pieces")
    if "accuracy" in df and df["accuracy"].notna().any():
        table["best_accuracy"] = g["accuracy"].max().to_numpy()
    return table

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
    """One row per configuration: seeds, best/median test MSE, best max |err|, diverged."""
    g = label(df).groupby(CONFIG, sort=True, dropna=False)
    table = g.agg(
        seeds=("key", "size"),
        best_test_mse=("test_mse", "min"),
        median_test_mse=("test_mse", "median"),
        best_max_abs_err=("max_abs_err", "min"),
        diverged=("status", lambda s: int((s == "diverged").sum())),
    ).reset_index()
    if "accuracy" in df and df["accuracy"].notna().any():
        table["best_accuracy"] = g["accuracy"].max().to_numpy()
    return table

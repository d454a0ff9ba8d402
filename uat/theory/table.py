"""What theory says about every configuration of a study, as a table figures and report read.

For each (target, activation, width, depth, data) of a study, uat.theory's oracles are
evaluated on the study's own test points (docs/theory.md: the continuous reference values differ
from grid values in the 3rd-4th digit), so a trained `test_mse` can be compared with its floor
directly. The table is cached as `<out>/<study>/theory.csv`; rows are added for configurations
it does not hold yet, so growing a grid recomputes nothing.
"""

import contextlib
import math
from pathlib import Path

import numpy as np
import pandas as pd

from uat import __version__, activations, store, targets, theory
from uat.theory.constructions import sawtooth_sup_floor, teeth
from uat.theory.predict import max_pieces

CONFIG = ["target", "activation", "width", "depth", "n_train", "n_test"]
COLUMNS = CONFIG + ["floor", "floor_kind", "floor_exact", "ceiling", "ceiling_kind",
                    "sup_floor", "sup_kind", "sup_exact", "barron", "variance", "uat_version"]
LN2 = math.log(2)
WITHIN = 1.10  # "on" an exact floor: best of seeds within this factor of it
BELOW_RTOL = 1e-9  # an exactly attained least-squares floor is reached to ~1e-11 relative
BELOW_ATOL = 1e-24  # x the target's variance: floors of exactly representable targets are 0
#                    up to rounding (a PAVA fit of a monotone target gives ~1e-34, not 0)


def below(error, floor, variance):
    """True where a trained error is below a floor of theory by more than rounding: a bug."""
    return np.asarray(error) < (np.asarray(floor) * (1 - BELOW_RTOL)
                                - BELOW_ATOL * np.asarray(variance))


def _row(target: str, activation: str, width: int, depth: int, n_train: int,
         n_test: int) -> dict:
    t = targets.get(target)
    data = targets.sample(t, n_train, n_test)
    row = dict(zip(CONFIG, (target, activation, width, depth, n_train, n_test), strict=True))
    row.update(floor=np.nan, floor_kind="", floor_exact=False, ceiling=np.nan,
               ceiling_kind="", sup_floor=np.nan, sup_kind="", sup_exact=False, barron=np.nan,
               variance=float(np.mean(np.var(data.Y_test, axis=1))), uat_version=__version__)
    if t.kind == "classification":
        if depth == 0 and t.finite and target.startswith("xor"):
            # logistic regression on the 4 XOR points: min mean BCE = ln 2 (docs/theory.md)
            row.update(floor=LN2, floor_kind="cross-entropy ln 2", floor_exact=True)
        return row
    if depth == 0:  # an affine model; MSE averages over the outputs
        row.update(floor=float(np.mean([theory.affine_floor(data.X_test, y)
                                        for y in data.Y_test])),
                   floor_kind="affine", floor_exact=True)
        return row
    p = theory.predict(activation, width, depth, data.X_test, data.Y_test, n_out=t.n_out,
                       boundary=data.boundary)
    row.update(floor=_nan(p.mse_floor), floor_kind=p.floor_kind or "",
               floor_exact=bool(p.floor_exact), ceiling=_nan(p.mse_ceiling),
               ceiling_kind=p.ceiling_kind or "", sup_floor=_nan(p.sup_floor),
               sup_kind=p.sup_kind or "")
    act = activations.get(activation)
    if t.name.startswith("sawtooth(") and act.kink_slopes is not None:  # Telgarsky's 1/2
        pieces = max_pieces(act, width, depth)
        row.update(sup_floor=sawtooth_sup_floor(data.X_test[0], data.Y_test[0],
                                                teeth(t.name), pieces),
                   sup_kind=f"sawtooth, {pieces} pieces")
    if np.isfinite(row["sup_floor"]):  # attained when the best constant reaches it
        constant = float(np.max(np.ptp(data.Y_test, axis=1))) / 2
        row["sup_exact"] = bool(constant <= row["sup_floor"] * (1 + 1e-12))
    c_f = theory.barron_constant(target)
    if c_f is not None and depth == 1 and act.sigmoidal:  # Barron 1993
        radius = float(np.max(np.linalg.norm(data.X_test, axis=0)))  # domain inside B_r
        row["barron"] = theory.barron_bound(c_f, radius, width)
    return row


def _nan(value):
    return np.nan if value is None else float(value)


def for_study(the_study, out="results") -> pd.DataFrame:
    """The theory table of a study's configurations (cached under `out`)."""
    wanted = sorted({(r.target, r.activation, r.width, r.depth, r.n_train, r.n_test)
                     for r in the_study.runs})
    path = Path(store.study_dir(out, the_study.name)) / "theory.csv"
    cached = pd.read_csv(path, keep_default_na=False, na_values=[""]) if path.exists() else None
    have = set()
    if cached is not None and list(cached.columns) == COLUMNS:  # rows of older oracles go
        cached = cached[cached["uat_version"].astype(str) == __version__]
        have = set(map(tuple, cached[CONFIG].astype(object).itertuples(index=False)))
    else:
        cached = None
    new = [_row(*cfg) for cfg in wanted if cfg not in have]
    table = pd.concat([cached, pd.DataFrame(new, columns=COLUMNS)] if cached is not None
                      else [pd.DataFrame(new, columns=COLUMNS)], ignore_index=True)
    if new:  # a cache: a read-only or full results folder only costs the recomputation
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            store.atomic_write(path, table.to_csv(index=False).encode())
    numbers = ["floor", "ceiling", "sup_floor", "barron", "variance"]
    table[numbers] = table[numbers].apply(pd.to_numeric, errors="coerce").astype(float)
    for flag in ("floor_exact", "sup_exact"):
        table[flag] = table[flag].astype(str).str.lower().eq("true")
    keep = pd.MultiIndex.from_tuples(wanted, names=CONFIG)
    return table.set_index(CONFIG).loc[keep].reset_index()


def join(runs: pd.DataFrame, floors: pd.DataFrame) -> pd.DataFrame:
    """The runs table with each run's theory columns alongside."""
    return runs.merge(floors, on=CONFIG, how="left", validate="many_to_one")


def acceptance(joined: pd.DataFrame) -> pd.DataFrame:
    """Per configuration with an exact floor: best-of-seeds test error / floor (the trainer
    passes at 1 <= ratio <= 1.10; below 1 - 1e-9 would be a bug). Classification compares
    train BCE."""
    exact = joined[joined["floor_exact"].astype(bool)].copy()
    exact["error"] = np.where(exact["floor_kind"].str.startswith("cross-entropy"),
                              exact["train_loss"], exact["test_mse"])
    g = exact.groupby(["target", "activation", "width", "depth", "optimizer", "floor_kind"],
                      dropna=False)
    out = g.agg(best=("error", "min"), floor=("floor", "first"),
                seeds=("key", "size")).reset_index()
    out["ratio"] = out["best"] / out["floor"]
    return out


def joined(the_study, out="results") -> pd.DataFrame:
    """The study's stored runs (at its scale) with each run's theory columns alongside; the
    table every figure, finding and verdict reads. attrs["out"] says where it came from."""
    from uat import api

    j = join(api.table(the_study, out), for_study(the_study, out))
    j.attrs["out"] = str(out)  # figures that redraw trained nets load their parameters there
    return j

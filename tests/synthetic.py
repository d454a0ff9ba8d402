"""Synthetic results tables for the verdict tests (issue #10): every run of a small study gets
errors from a model of a world where the theorem holds, joined with the real theory table of
its configurations; tests then mutate the table into a world where it fails and watch the
verdict flip. Nothing here trains a network."""

import math
import tomllib
from collections.abc import Callable

import numpy as np
import pandas as pd

from uat import study
from uat.theory import checks
from uat.theory import table as theory_table

# Small grids: a few seconds of theory, enough seeds for the rank tests to have power.
WIDTH = """
[study]
name = "width"
title = "synthetic width"
figure = "width"
[[grid]]
target = ["sin(freq=1)", "abs"]
activation = ["tanh", "relu", "poly(degree=3)", "poly(degree=6)"]
width = [1, 2, 4, 8, 16, 32]
seed = [0, 1, 2, 3, 4]
optimizer = ["lm(steps=10)"]
[data]
n_train = 64
n_test = 256
"""

DEPTH = """
[study]
name = "depth"
title = "synthetic depth"
figure = "depth"
[[grid]]
target = ["sin(freq=1)"]
activation = ["relu", "tanh"]
width = [1, 2]
depth = [1, 2, 3, 4]
seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
optimizer = ["lm(steps=10)"]
[[grid]]
target = ["hanin_sellke(dim=2)"]
activation = ["relu"]
width = [2, 3]
depth = [1, 2, 3, 4]
seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
optimizer = ["lm(steps=10)"]
n_test = 400
[[grid]]
target = ["sin(freq=1)"]
activation = ["square"]
width = [4]
depth = [1, 2, 3]
seed = [0, 1, 2, 3, 4]
optimizer = ["lm(steps=10)"]
[data]
n_train = 64
n_test = 256
"""

ACTIVATION = """
[study]
name = "activation"
title = "synthetic activation"
figure = "activation"
[[grid]]
target = ["sin(freq=1)"]
activation = ["identity", "square", "cubic", "tanh", "sigmoid"]
width = [1, 2, 4, 8, 16]
seed = [0, 1, 2, 3, 4]
optimizer = ["lm(steps=10)"]
[[grid]]
target = ["sin(freq=1)"]
activation = ["poly(degree=2)", "identity"]
width = [4]
depth = [1, 2, 3]
seed = [0, 1, 2, 3, 4]
optimizer = ["lm(steps=10)"]
[data]
n_train = 64
n_test = 256
"""

SEPARATION = """
[study]
name = "separation"
title = "synthetic separation"
figure = "separation"
[[grid]]
target = ["sawtooth(teeth=4)"]
activation = ["relu"]
width = [2]
depth = [1, 2, 3, 4]
seed = [0, 1, 2, 3, 4, 5, 6, 7]
optimizer = ["lm(steps=10)"]
[[grid]]
target = ["sawtooth(teeth=4)"]
activation = ["relu"]
width = [2, 4, 6, 8]
depth = [1]
seed = [0, 1, 2, 3, 4, 5, 6, 7]
optimizer = ["lm(steps=10)"]
[data]
n_train = 128
n_test = 265  # 264 intervals: every valley and apex is a test point
"""

LECTURE = """
[study]
name = "lecture"
title = "synthetic lecture"
figure = "lecture"
[[grid]]
target = ["xor", "moons(noise=0.1)"]
activation = ["sigmoid"]
width = [2]
depth = [0, 1]
seed = [0, 1, 2, 3, 4]
optimizer = ["lm(steps=10)"]
n_train = 64
n_test = 64
[[grid]]
target = ["nmr"]
activation = ["tanh"]
width = [4, 8, 16]
seed = [0, 1, 2, 3, 4]
optimizer = ["lm(steps=10)"]
n_train = 256
n_test = 502
[data]
n_train = 64
n_test = 256
"""

STUDIES = {"width": WIDTH, "depth": DEPTH, "activation": ACTIVATION,
           "separation": SEPARATION, "lecture": LECTURE}


def theory(name: str, out) -> tuple[study.Study, pd.DataFrame]:
    """The small study and its real theory table (cached under `out`)."""
    s = study.parse(tomllib.loads(STUDIES[name]), f"<{name}>", "default")
    return s, theory_table.for_study(s, out)


def table(s: study.Study, theory: pd.DataFrame, model: Callable[[pd.Series], tuple]) -> \
        pd.DataFrame:
    """The joined table of every run of `s`, errors from `model(row) -> (test_mse, max_abs_err,
    train_loss, accuracy)`, with the theory columns (row: the run joined with its theory)."""
    runs = pd.DataFrame([{**r.config(), "key": r.key, "study": s.name, "status": "ok",
                          "n_params": r.shape.n_params, "n_in": r.shape.n_in,
                          "loss": "bce" if r.shape.output == "sigmoid" else "mse"}
                         for r in s.runs])
    j = theory_table.join(runs, theory)
    values = [model(row) for _, row in j.iterrows()]
    j["test_mse"], j["max_abs_err"], j["train_loss"], j["accuracy"] = map(list, zip(*values,
                                                                                     strict=True))
    return j


def verdict(s: study.Study, joined: pd.DataFrame) -> dict[str, str]:
    """{check: outcome} for the study, with "overall" the theorem's verdict."""
    return {c.check: c.outcome for c in checks.for_study(joined, s)}


def reason(s: study.Study, joined: pd.DataFrame) -> str:
    return checks.for_study(joined, s)[-1].reason


def jitter(row, spread: float = 0.02) -> float:
    """A seed's factor: 1 + spread * seed (the seeds of one configuration differ a little)."""
    return 1 + spread * row["seed"]


def falls_with(x: float, base: float = 10.0) -> float:
    """A model error that keeps falling: base^-x."""
    return base ** -x


def log2(x) -> float:
    return math.log2(x)


def clip(v: float, floor: float) -> float:
    """Never below a floor (a model of a correct world), by a margin."""
    return max(v, floor * 1.02) if np.isfinite(floor) else v

"""A study file -> a list of frozen `Run`s with stable keys, validated before anything runs.

A study file (TOML, read with tomllib) has `[study]` (name, title, figure), one grid (`[grid]`)
or several (`[[grid]]`, their runs united), `[data]` and optional `[scale.NAME]` tables whose
keys replace grid and data keys. A grid may carry its own `scale.NAME` sub-table and its own
`n_train`/`n_test`. Every spec goes through uat.spec, so "sin" and "sin(freq=1)" are one target.

A run's key is a hash of its normalised configuration alone (target, activation, width, depth,
seed, optimizer, data): reordering lists or adding values never changes an existing key, and
the run's random stream is derived from the key, so its numbers do not depend on which other
runs share its batch, which worker trains it, or in which order.
"""

import functools
import hashlib
import itertools
import json
import logging
import math
import re
import tomllib
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from uat import activations, custom, network, optim, targets
from uat.errors import StudyError, UserError

KEY_SCHEME = 1  # bump when a change to training makes stored numbers incomparable
FIGURES = ("width", "depth", "activation", "separation", "lecture", "grid", "none")
DEFAULT_FIGURE = "grid"  # any grid: error against what varies, floors overlaid
SCALES = ("smoke", "default", "full")
SECTIONS = {"study", "grid", "data", "scale"}
STUDY_KEYS = {"name": str, "title": str, "figure": str, "description": str}
GRID_KEYS = ("target", "activation", "width", "depth", "seed", "optimizer")
GRID_DEFAULTS = {"depth": [1], "seed": [0]}
DATA_KEYS = {"n_train": 256, "n_test": 2048}
MAX_LM_PARAMS = 3000  # LM solves a (P, P) system per member and step; past this use adam
LIMITS = {  # checked before anything is built, so validation itself stays cheap (README)
    "width": 2**16, "depth": 256, "seed": 2**31 - 1, "n_train": 2**22, "n_test": 2**22,
}
MAX_RUNS = 10**6  # runs of one study (a grid's cross product is sized before it is built)
MAX_AXIS = 10**4  # values in one list of a grid
NAME = re.compile(r"[a-z0-9_-]+")
log = logging.getLogger("uat.study")


@dataclass(frozen=True)
class Run:
    """One network to train: a point of the grid, with everything that defines its numbers."""

    target: str  # canonical target spec, e.g. "sin(freq=1.0)"
    activation: str  # canonical activation spec
    width: int  # nodes per hidden layer (0 for depth 0: an affine model has none)
    depth: int  # hidden layers
    seed: int  # the grid's seed value (the random stream itself comes from `key`)
    optimizer: str  # canonical optimizer spec
    n_train: int  # train points
    n_test: int  # test points

    def config(self) -> dict[str, Any]:
        return asdict(self)

    @cached_property
    def key(self) -> str:
        """16 hex digits of sha256 over the normalised configuration and KEY_SCHEME (a data
        file enters by its hash, not its folder: uat.custom.key_form)."""
        config = {**self.config(), "target": custom.key_form(self.target)}
        text = json.dumps({"scheme": KEY_SCHEME, **config}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def rng_seed(self) -> int:
        """The seed of this run's random stream: from the key alone."""
        return int(self.key, 16)

    @cached_property
    def shape(self) -> network.Shape:
        t = targets.get(self.target)
        output = "sigmoid" if t.kind == "classification" else "affine"
        return network.Shape(t.dim, self.width, self.depth, t.n_out, self.activation, output)

    @property
    def batch_group(self) -> tuple:
        """Runs with equal groups can be trained in one batch: same shape, optimizer, and
        numbers of points (a fixed point set such as xor has its own, whatever n_train)."""
        sizes = self.target if targets.get(self.target).finite else (self.n_train, self.n_test)
        return (self.shape, self.optimizer, sizes)


@dataclass(frozen=True)
class Study:
    """A parsed, validated study at one scale."""

    name: str  # results go to <out>/<name>/
    title: str  # one line for figures and the report
    figure: str  # which uat.plots figure draws it (one of FIGURES)
    description: str  # optional longer text for the report
    scale: str  # the scale the grid was expanded at
    path: str  # the file it came from
    runs: tuple[Run, ...]  # every run, deduplicated, in grid order


def _fail(path, where: str, message: str):
    raise StudyError(f"{path}: {where}: {message}")


def _type_name(value) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            dict: "table"}.get(type(value), type(value).__name__)


def _as_list(path, where, value) -> list:
    if isinstance(value, dict):
        _fail(path, where, "must be a list of values, e.g. [1, 2, 4]; got a table")
    values = value if isinstance(value, list) else [value]
    if not values:
        _fail(path, where, "must not be an empty list")
    if len(values) > MAX_AXIS:
        _fail(path, where, f"has {len(values):,} values; at most {MAX_AXIS:,}")
    return values


def _ints(path, where, value, low: int) -> list[int]:
    high = LIMITS.get(where.rsplit(".", 1)[-1])
    out = []
    for v in _as_list(path, where, value):
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            _fail(path, where, f"must be integers >= {low}; got {v!r} ({_type_name(v)})")
        if high is not None and v > high:
            _fail(path, where, f"must be integers from {low} to {high:,}; got {v:,}")
        out.append(v)
    return out


def _specs(path, where, value, resolve) -> list[str]:
    out = []
    for v in _as_list(path, where, value):
        if not isinstance(v, str):
            _fail(path, where, f"must be spec strings like \"name(key=value)\"; got {v!r}")
        try:
            out.append(resolve(v).name)
        except UserError as err:
            _fail(path, where, str(err))
    return out


def _check_keys(path, where, table: dict, allowed) -> None:
    for key in table:
        if key not in allowed:
            _fail(path, f"{where}.{key}" if where else key,
                  f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _grids(path, doc) -> list[dict]:
    if "grid" not in doc:
        _fail(path, "grid", "missing; add a [grid] table with target, activation, width, ...")
    grids = doc["grid"]
    if isinstance(grids, dict):
        return [grids]
    if isinstance(grids, list) and grids and all(isinstance(g, dict) for g in grids):
        return grids
    _fail(path, "grid", "must be a [grid] table or [[grid]] tables")


def _overrides(path, where: str, scales, scale: str, allowed) -> dict:
    """The keys that scale `scale` replaces, checked: scales is {scale name: {key: value}}."""
    if not isinstance(scales, dict):
        _fail(path, where, "must be tables like [scale.smoke] or scale.smoke = {width = [1]}")
    for name, table in scales.items():
        if name not in SCALES:
            _fail(path, f"{where}.{name}", f"unknown scale (allowed: {', '.join(SCALES)})")
        if not isinstance(table, dict):
            _fail(path, f"{where}.{name}", "must be a table of keys to replace")
        for key in table:
            if key not in allowed:
                _fail(path, f"{where}.{name}.{key}",
                      f"unknown key (allowed: {', '.join(sorted(allowed))})")
    return scales.get(scale, {})


def parse(doc: dict, path: str = "<study>", scale: str = "default", warn: bool = True) -> Study:
    """Validate a study document (tomllib's dict) and expand it at `scale` into runs.

    `--set` assignments of grid and data keys (under the document's "--set", from
    `set_value`) are applied last, over every scale: an explicit value wins, and a warning
    says when it replaces a scale's."""
    forced = {name: value for _, name, value in doc.get("--set", [])}
    doc = {k: v for k, v in doc.items() if k != "--set"}
    _check_keys(path, "", doc, SECTIONS)
    head = doc.get("study")
    if not isinstance(head, dict):
        _fail(path, "study", "missing; add [study] with name, title, figure")
    _check_keys(path, "study", head, STUDY_KEYS)
    head = {"figure": DEFAULT_FIGURE, **head}
    for key in ("name", "title"):
        if key not in head:
            _fail(path, f"study.{key}", "missing")
    for key, value in head.items():
        if not isinstance(value, STUDY_KEYS[key]):
            _fail(path, f"study.{key}", f"must be a string; got {_type_name(value)}")
    if not NAME.fullmatch(head["name"]):
        _fail(path, "study.name", f"only a-z, 0-9, '_' and '-' are allowed; got {head['name']!r}")
    if head["figure"] not in FIGURES:
        _fail(path, "study.figure", f"unknown figure {head['figure']!r} (allowed: "
              f"{', '.join(FIGURES)})")
    scales = doc.get("scale", {})
    if scale not in SCALES:
        raise StudyError(f"{path}: --scale: unknown scale {scale!r} (allowed: {', '.join(SCALES)})")
    data = doc.get("data", {})
    if not isinstance(data, dict):
        _fail(path, "data", "must be a table")
    _check_keys(path, "data", data, DATA_KEYS)
    allowed = set(GRID_KEYS) | set(DATA_KEYS)
    over = _overrides(path, "scale", scales, scale, allowed)

    runs: dict[str, Run] = {}
    replaced: dict[str, list[str]] = {}
    for i, grid in enumerate(_grids(path, doc)):
        where = "grid" if isinstance(doc["grid"], dict) else f"grid[{i}]"
        _check_keys(path, where, grid, allowed | {"scale"})
        grid_over = _overrides(path, f"{where}.scale", grid.get("scale", {}), scale, allowed)
        # later wins: defaults < [data] < the grid < [scale.X] < the grid's own scale.X < --set
        g = {**GRID_DEFAULTS, **DATA_KEYS, **data, **grid, **over, **grid_over}
        for key in forced:
            if key not in allowed:
                _fail(path, f"--set {key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
            if key in over or key in grid_over:
                replaced.setdefault(key, []).append(where)
        g.update(forced)
        for key in GRID_KEYS:
            if key not in g:
                _fail(path, f"{where}.{key}", "missing")
        axes = {
            "target": _specs(path, f"{where}.target", g["target"],
                             functools.partial(targets.get, base=Path(path).parent)),
            "activation": _specs(path, f"{where}.activation", g["activation"], activations.get),
            "width": _ints(path, f"{where}.width", g["width"], 1),
            "depth": _ints(path, f"{where}.depth", g["depth"], 0),
            "seed": _ints(path, f"{where}.seed", g["seed"], 0),
            "optimizer": _specs(path, f"{where}.optimizer", g["optimizer"], optim.get),
        }
        n_train = _ints(path, f"{where}.n_train", g["n_train"], 1)
        n_test = _ints(path, f"{where}.n_test", g["n_test"], 1)
        if len(n_train) > 1 or len(n_test) > 1:
            _fail(path, where, "n_train and n_test take one value each")
        size = math.prod(len(v) for v in axes.values())
        if size + len(runs) > MAX_RUNS:
            _fail(path, where, f"{size:,} runs in this grid ({len(runs):,} before it); a study "
                  f"has at most {MAX_RUNS:,}")
        for combo in itertools.product(*axes.values()):
            run = Run(**dict(zip(axes, combo, strict=True)), n_train=n_train[0], n_test=n_test[0])
            if run.depth == 0:  # an affine model has no hidden layer: width means nothing
                run = Run(**{**run.config(), "width": 0})
            runs.setdefault(run.key, (run, where))
    for run, where in runs.values():
        _check_run(path, run, where)
    if warn:
        for key, places in replaced.items():
            log.warning("%s: --set %s replaces scale %s's value (in %s)", path, key, scale,
                        ", ".join(places))
    return Study(head["name"], head["title"], head["figure"], head.get("description", ""),
                 scale, str(path), tuple(run for run, _ in runs.values()))


def _check_run(path, run: Run, where: str) -> None:
    shape = run.shape
    if run.optimizer.startswith("lm(") and shape.n_params > MAX_LM_PARAMS:
        _fail(path, f"{where}.optimizer",
              f"lm on width {run.width}, depth {run.depth} ({shape.n_params} parameters) would "
              f"solve a {shape.n_params}x{shape.n_params} system per step; use adam for "
              f"networks over {MAX_LM_PARAMS} parameters")
    try:
        _check_sample(run.target, run.n_train, run.n_test)
    except UserError as err:  # the message names the target
        _fail(path, f"{where}.n_test", str(err))


@functools.lru_cache(maxsize=256)
def _check_sample(target: str, n_train: int, n_test: int) -> None:
    targets.sample(targets.get(target), n_train, n_test)


def assignment(text: str, path: str = "<study>") -> tuple[str, str, Any]:
    """`--set grid.width=[1,2,4]` -> ("grid", "width", [1, 2, 4]); the value is TOML."""
    if "=" not in text:
        raise StudyError(f"{path}: --set: write KEY=VALUE, e.g. grid.width=[1,2,4]; got "
                         f"{text!r}")
    key, raw = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        raise StudyError(f"{path}: --set {key}: cannot read {raw[:40]!r} as a TOML value; "
                         f"strings need quotes, e.g. grid.activation=[\"tanh\"]") from None
    parts = key.split(".")
    if len(parts) != 2 or parts[0] not in ("study", "grid", "data") or not parts[1]:
        raise StudyError(f"{path}: --set: key must be study.KEY, grid.KEY or data.KEY; got "
                         f"{key!r}")
    return parts[0], parts[1], value


def set_value(doc: dict, text: str, path: str = "<study>") -> dict:
    """Apply `--set study.title="..."` to a study document (grid and data keys are applied by
    `parse`, after the scales, so that they win over them)."""
    section, name, value = assignment(text, path)
    if section != "study":
        return {**doc, "--set": [*doc.get("--set", []), (section, name, value)]}
    head = doc.get("study", {})
    if not isinstance(head, dict):
        _fail(path, "study", "must be a table")
    return {**doc, "study": {**head, name: value}}


def read_doc(path) -> dict:
    """The raw TOML document of a study file, with file errors as one-line StudyErrors."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise StudyError(f"{path}: no such study file") from None
    except IsADirectoryError:
        raise StudyError(f"{path}: is a directory, not a study file") from None
    except tomllib.TOMLDecodeError as err:
        raise StudyError(f"{path}: not valid TOML: {err}") from None
    except RecursionError:
        raise StudyError(f"{path}: not a study file: nested too deeply") from None
    except UnicodeDecodeError:
        raise StudyError(f"{path}: not a text file") from None


def load(path, scale: str = "default", overrides=(), warn: bool = True) -> Study:
    """Read, override (`--set` assignments, which win over the scale's values) and expand a
    study file at `scale`; `warn`: say when a `--set` replaces the scale's value."""
    doc = read_doc(path)
    for text in overrides:
        doc = set_value(doc, text, str(path))
    return parse(doc, str(path), scale, warn)

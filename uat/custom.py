"""Targets a user defines: a formula, a data file, a Python function.

    expr(f="exp(-x**2) * cos(3*x)")           a formula (uat.formula: no eval, a fixed list
    expr(f="x1 * x2", dim=2, lo=0, hi=1)      of functions); x in 1-D, x1..xn in n-D
    csv(path="spectrum.csv", x="ppm", y="intensity")    columns of a CSV file with a header
    npy(path="data.npz", x="x", y="y")        arrays of an .npz, or columns of a 2-D .npy
    py(path="funcs.py:bessel")                your own Python function: uat runs your code

Paths are relative to the study file (uat.study anchors them); the canonical spec holds the
absolute path and the file's SHA-256, and a run's key holds the hash but not the path
(`key_form`): editing the data re-trains, moving the folder does not.

Data files: inputs are mapped to [-1, 1] per coordinate (`Target.x_range` maps them back for
figures), outputs are kept in their units. The file's points are split, not sampled: in 1-D,
sorted by x, the test points are n_test evenly spaced ranks (the two ends among them: sup
errors live there) and the train points n_train evenly spaced ranks of the rest; in n-D the
same on a permutation seeded by the file's hash. n_train + n_test may not exceed the points
in the file.
"""

import hashlib
import importlib
import importlib.util
import math
import sys
import zipfile
from pathlib import Path

import numpy as np

from uat import formula, spec
from uat.errors import SpecError, UserError

Array = np.ndarray
PATHED = ("csv", "npy", "py")  # targets whose `path` is a file, anchored at the study file
MIN_POINTS = 8  # a data file needs at least this many points
MAX_FILE = 2**28  # bytes of a data file (256 MB)


def _targets():
    from uat import targets  # here: uat.targets registers the functions of this module

    return targets


def _fail(name: str, message: str):
    raise SpecError(f"target '{name}': {message}")


def _box(name: str, dim: int, lo: float, hi: float, domain: str) -> None:
    t = _targets()
    t._dim(name, dim)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        _fail(name, f"'lo' and 'hi' must be finite with lo < hi; got {lo}, {hi}")
    if domain not in ("box", "ball"):
        _fail(name, f"'domain' must be 'box' or 'ball'; got {domain!r}")


def _names(dim: int) -> tuple[str, ...]:
    return ("x",) if dim == 1 else tuple(f"x{i + 1}" for i in range(dim))


def expr(f: str, dim: int = 1, lo: float = -1.0, hi: float = 1.0,
         domain: str = "box") -> "object":
    """A target from a formula on [lo, hi]^dim (or the ball inscribed in it), e.g.
    expr(f="exp(-x**2) * cos(3*x)"). Variables: x in 1-D, x1..xn in n-D."""
    _box("expr", dim, lo, hi, domain)
    try:
        parsed = formula.parse(f, _names(dim))
    except SpecError as err:
        raise SpecError(f"target 'expr': {err}") from None
    names = parsed.variables

    def value(X: Array) -> Array:
        env = {v: X[..., i, :] for i, v in enumerate(names)}
        with np.errstate(all="ignore"):
            Y = formula.evaluate(parsed.tree, env)
        return np.broadcast_to(Y, X[..., 0, :].shape)[..., None, :].astype(np.float64)

    kwargs = {"f": parsed.text, "dim": dim, "lo": lo, "hi": hi, "domain": domain}
    return _targets()._regression("expr", kwargs, value, dim, lo=lo, hi=hi,
                                  ball=domain == "ball")


# ---------------------------------------------------------------- files


def digest(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _file(name: str, path: str, sha256: str) -> tuple[Path, str]:
    """The file behind a target, checked: it exists, is not huge, and has the pinned hash."""
    p = Path(path)
    if not p.is_absolute():
        _fail(name, f"'path' {path!r} is relative; give it in a study file (relative to it) "
                    f"or as an absolute path")
    if not p.is_file():
        raise UserError(f"target '{name}': {p}: no such file")
    if p.stat().st_size > MAX_FILE:
        raise UserError(f"target '{name}': {p}: {p.stat().st_size:,} bytes; at most "
                        f"{MAX_FILE:,}")
    got = digest(p)
    if sha256 and sha256 != got:
        raise UserError(f"target '{name}': {p} has changed since these runs were defined "
                        f"(sha256 {got}, not {sha256}); run the study again to train on it")
    return p, got


def _columns(spec_text: str, available: list[str], default: list[str], what: str,
             name: str, p: Path) -> list[str]:
    wanted = [c.strip() for c in spec_text.split(",")] if spec_text else default
    for c in wanted:
        if c not in available:
            raise UserError(f"target '{name}': {p}: no column {c!r} for '{what}' (columns: "
                            f"{', '.join(available)})")
    return wanted


def _disjoint(name: str, p: Path, xs: list[str], ys: list[str]) -> None:
    both = [c for c in xs if c in ys]
    if both or not xs:
        raise UserError(f"target '{name}': {p}: column {(both or ys)[0]!r} is both an input (x) "
                        f"and the output (y); name the inputs with x='...'")


def _read_csv(p: Path, x: str, y: str) -> tuple[Array, Array, list[str], list[str]]:
    import pandas as pd

    try:
        df = pd.read_csv(p, comment="#", skipinitialspace=True)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise UserError(f"target 'csv': {p}: not a CSV file with a header row "
                        f"({str(err).splitlines()[0]})") from None
    cols = [str(c) for c in df.columns]
    if len(cols) < 2:
        raise UserError(f"target 'csv': {p}: needs at least two columns (x and y); found "
                        f"{len(cols)}: {', '.join(cols)}")
    ys = _columns(y, cols, cols[-1:], "y", "csv", p)
    xs = _columns(x, cols, [c for c in cols if c not in ys], "x", "csv", p)
    _disjoint("csv", p, xs, ys)
    arrays = []
    for c in xs + ys:
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            cell = df[c].iloc[bad[0]]
            what = "is empty" if pd.isna(cell) else f"holds {str(cell)!r}, not a finite number"
            raise UserError(f"target 'csv': {p} line {_line(p, bad[0])}: column {c!r} {what}")
        arrays.append(v)
    A = np.stack(arrays) if arrays else np.empty((0, 0))
    return A[:len(xs)], A[len(xs):], xs, ys


def _line(p: Path, row: int) -> int:
    """The file's line number of data row `row` (0-based), counting the header and comments."""
    seen = -1
    with open(p, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if line.lstrip().startswith("#") or not line.strip():
                continue
            if seen == row:  # seen -1 is the header
                return number
            seen += 1
    return row + 2


def _read_npy(p: Path, x: str, y: str) -> tuple[Array, Array, list[str], list[str]]:
    try:
        if zipfile.is_zipfile(p):  # an .npz: its arrays' unpacked sizes, before unpacking
            with zipfile.ZipFile(p) as z:
                unpacked = sum(i.file_size for i in z.infolist())
            if unpacked > MAX_FILE:
                raise UserError(f"target 'npy': {p}: {unpacked:,} bytes unpacked; at most "
                                f"{MAX_FILE:,}")
        loaded = np.load(p, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                arrays = {k: loaded[k] for k in loaded.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise UserError(f"target 'npy': {p}: not a NumPy .npy or .npz file of numbers "
                        f"({(str(err).splitlines() or [type(err).__name__])[0]})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        names = list(arrays)
        if not names:
            raise UserError(f"target 'npy': {p}: the .npz file holds no arrays")
        ys = _columns(y, names, ["y"] if "y" in names else names[-1:], "y", "npy", p)
        rest = [n for n in names if n not in ys]
        xs = _columns(x, names, ["x"] if "x" in rest else rest, "x", "npy", p)
        _disjoint("npy", p, xs, ys)

        def rows(keys):
            out = []
            for k in keys:
                a = np.asarray(arrays[k])
                if a.ndim not in (1, 2) or not np.issubdtype(a.dtype, np.number) or \
                        np.iscomplexobj(a):
                    raise UserError(f"target 'npy': {p}: array {k!r} must be real numbers of "
                                    f"shape (n,) or (n, k); got {a.dtype} {a.shape}")
                out.extend(a[:, None].T if a.ndim == 1 else a.T)
            return np.asarray(out, np.float64)

        X, Y = rows(xs), rows(ys)
        if X.shape[1] != Y.shape[1]:
            raise UserError(f"target 'npy': {p}: x has {X.shape[1]} points, y {Y.shape[1]}")
    else:
        a = np.asarray(loaded)
        if a.ndim != 2 or a.shape[1] < 2 or not np.issubdtype(a.dtype, np.number) or \
                np.iscomplexobj(a):
            raise UserError(f"target 'npy': {p}: a .npy file must hold real numbers of shape "
                            f"(n, k >= 2), one column per variable; got {a.dtype} {a.shape}")
        cols = [str(i) for i in range(a.shape[1])]
        ys = _columns(y, cols, cols[-1:], "y", "npy", p)
        xs = _columns(x, cols, [c for c in cols if c not in ys], "x", "npy", p)
        _disjoint("npy", p, xs, ys)
        X = a[:, [int(c) for c in xs]].T.astype(np.float64)
        Y = a[:, [int(c) for c in ys]].T.astype(np.float64)
    for what, A in (("x", X), ("y", Y)):
        bad = np.argwhere(~np.isfinite(A))
        if bad.size:
            raise UserError(f"target 'npy': {p}: {what} is not a finite number at point "
                            f"{bad[0][1]}")
    return X, Y, xs, ys


def _data_target(name: str, path: str, x: str, y: str, sha256: str):
    p, got = _file(name, path, sha256)
    X, Y, xs, ys = (_read_csv if name == "csv" else _read_npy)(p, x, y)
    n = X.shape[1]
    if n < MIN_POINTS:
        raise UserError(f"target '{name}': {p}: {n} points; at least {MIN_POINTS} are needed")
    lo, hi = X.min(axis=1), X.max(axis=1)
    if np.any(hi <= lo):
        flat = xs[int(np.flatnonzero(hi <= lo)[0])] if len(xs) == len(lo) else "x"
        raise UserError(f"target '{name}': {p}: input {flat!r} takes one value only")
    U = 2 * (X - lo[:, None]) / (hi - lo)[:, None] - 1  # [-1, 1] per coordinate
    U[U > 1], U[U < -1] = 1.0, -1.0
    order = np.argsort(U[0], kind="stable") if len(U) == 1 else np.random.default_rng(
        int(got, 16)).permutation(n)
    kwargs = {"path": str(p), "x": ",".join(xs), "y": ",".join(ys), "sha256": got}
    canonical = spec.canonical(name, kwargs)
    points = _Split(U[:, order], Y[:, order], canonical)
    t = _targets()
    return t.Target(canonical, U.shape[0], Y.shape[0], "regression", -1.0, 1.0, None,
                    points=points, x_range=tuple(zip(lo.tolist(), hi.tolist(), strict=True)),
                    labels=(tuple(xs), tuple(ys)))


class _Split:
    """The train/test split of a file's points (module docstring), as a picklable callable:
    (n_train, n_test) -> Data."""

    def __init__(self, U: Array, Y: Array, name: str):
        self.U, self.Y, self.name = U, Y, name

    def __call__(self, n_train: int, n_test: int):
        n = self.U.shape[1]
        if n_train + n_test > n:
            test = max(2, n // 4)
            raise UserError(f"target '{short(self.name)}' has {n} points; n_train + n_test = "
                            f"{n_train + n_test} is more: set [data] n_train = {n - test} and "
                            f"n_test = {test}, or fewer")
        at = np.floor(np.arange(n_test) * (n - 1) / max(1, n_test - 1)).astype(int)
        rest = np.setdiff1d(np.arange(n), at)
        pick = rest[np.floor(np.arange(n_train) * len(rest) / n_train).astype(int)]
        U, Y = self.U, self.Y
        X_test = U[:, at]
        # the two ends in 1-D; in n-D none: scattered data do not sample the faces of their
        # box, and Johnson's sup floor (uat.theory.predict) rests on boundary points
        edge = (np.isin(at, [0, n - 1]) if len(U) == 1 else np.zeros(n_test, bool))
        return _targets().Data(U[:, pick], Y[:, pick], X_test, Y[:, at], edge)


def csv(path: str, x: str = "", y: str = "", sha256: str = ""):
    """Columns of a CSV file with a header row: x = input column(s), comma-separated (default:
    all but the last), y = output column(s) (default: the last). Lines starting with # are
    comments. `sha256` pins the file: a different file is refused."""
    return _data_target("csv", path, x, y, sha256)


def npy(path: str, x: str = "", y: str = "", sha256: str = ""):
    """Arrays of an .npz file (x, y: array names, default "x" and "y"; each (n,) or (n, k)) or
    columns of a 2-D .npy array (x, y: column numbers "0,1"; default all but the last, the
    last)."""
    return _data_target("npy", path, x, y, sha256)


# ---------------------------------------------------------------- Python functions


def _load_function(path: str):
    """The function named by "file.py:name" (an absolute file) or "package.module:name"."""
    where, _, attr = path.rpartition(":")
    if not where or not attr.isidentifier():
        _fail("py", f"'path' must be 'file.py:function' or 'module:function'; got {path!r}")
    if where.endswith(".py"):
        p = Path(where)
        if not p.is_file():
            raise UserError(f"target 'py': {p}: no such file")
        source = p
        module_name = f"uat_user_{hashlib.sha256(str(p).encode()).hexdigest()[:12]}"
        module = sys.modules.get(module_name)
        if module is None or getattr(module, "__uat_digest__", None) != digest(p):
            loader = importlib.util.spec_from_file_location(module_name, p)
            module = importlib.util.module_from_spec(loader)
            try:
                loader.loader.exec_module(module)
            except (Exception, SystemExit) as err:  # noqa: BLE001 - the user's code: one line
                raise UserError(f"target 'py': {p}: importing it raised "
                                f"{type(err).__name__}: {err}") from None
            module.__uat_digest__ = digest(p)
            sys.modules[module_name] = module
    else:
        try:
            module = importlib.import_module(where)
        except (Exception, SystemExit) as err:  # noqa: BLE001
            raise UserError(f"target 'py': cannot import {where!r}: {type(err).__name__}: "
                            f"{err}") from None
        source = Path(getattr(module, "__file__", "") or "")
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise UserError(f"target 'py': {where} has no function {attr!r}")
    return fn, source


class _Call:
    """A user's function as Target.f, picklable (workers load it again by path)."""

    def __init__(self, path: str, dim: int):
        self.path, self.dim = path, dim

    def __call__(self, X: Array) -> Array:
        fn, _ = _load_function(self.path)
        try:
            Y = np.asarray(fn(np.array(X, np.float64)), np.float64)
        except (Exception, SystemExit) as err:  # noqa: BLE001
            raise UserError(f"target 'py': {self.path} raised {type(err).__name__}: "
                            f"{err}") from None
        n_s = X.shape[-1]
        if Y.ndim == 1 and Y.shape[0] == n_s:
            Y = Y[None, :]
        if Y.ndim != 2 or Y.shape[1] != n_s:
            raise UserError(f"target 'py': {self.path} must return shape (n_s,) or (m, n_s) "
                            f"for X of shape ({self.dim}, n_s); got {Y.shape}")
        return Y


def py(path: str, dim: int = 1, lo: float = -1.0, hi: float = 1.0, domain: str = "box",
       sha256: str = ""):
    """Your own function f(X) -> Y, X: (dim, n_s) (samples as columns), Y: (n_s,) or
    (m, n_s), named "file.py:name" (relative to the study file) or "module:name" (importable).
    uat runs your code, in every worker; the source file's hash enters the run key."""
    _box("py", dim, lo, hi, domain)
    _, source = _load_function(path)
    got = digest(source) if source.is_file() else ""
    if sha256 and got and sha256 != got:
        raise UserError(f"target 'py': {source} has changed since these runs were defined "
                        f"(sha256 {got}, not {sha256}); run the study again to train on it")
    call = _Call(path, dim)
    probe = call(np.linspace(lo, hi, 5)[None, :].repeat(dim, axis=0))
    kwargs = {"path": path, "dim": dim, "lo": lo, "hi": hi, "domain": domain, "sha256": got}
    t = _targets()
    target = t._regression("py", kwargs, call, dim, probe.shape[0], lo=lo, hi=hi,
                           ball=domain == "ball")
    return target


TARGETS = {"expr": expr, "csv": csv, "npy": npy, "py": py}


def anchor(text: str, base: Path) -> str:
    """The spec with a relative `path` made absolute against `base` (the study's folder)."""
    name, kwargs = spec.parse(text)
    path = kwargs.get("path")
    if name not in PATHED or not isinstance(path, str):
        return text
    if name == "py":
        where, sep, attr = path.rpartition(":")
        if not where.endswith(".py") or Path(where).is_absolute():
            return text
        kwargs["path"] = f"{(base / where).resolve()}{sep}{attr}"
    elif not Path(path).is_absolute():
        kwargs["path"] = str((base / path).resolve())
    return spec.canonical(name, kwargs)


def short(text: str) -> str | None:
    """A label for a file-backed target ("csv(spectrum.csv, y=intensity)"), None for others."""
    if not text.startswith(PATHED):
        return None
    try:
        name, kwargs = spec.parse(text)
    except SpecError:
        return None
    if name not in PATHED:
        return None
    path, tag = str(kwargs.get("path", "")), str(kwargs.get("sha256", ""))[:6]
    version = f" {tag}" if tag else ""  # two files of one name, or two versions, stay apart
    if name == "py":
        where, _, fn = path.rpartition(":")
        shown = f"{Path(where).name}:{fn}" if where.endswith(".py") else path
        return f"py({shown}{version})"
    x, y = kwargs.get("x", ""), kwargs.get("y", "")
    return f"{name}({Path(path).name}{version}, {x} -> {y})"


def stamp(text: str):
    """What changes when the file behind a spec changes (its size and time), None when the
    spec names no file: a cache of resolved targets is keyed by it."""
    if not text.startswith(PATHED):
        return None
    try:
        name, kwargs = spec.parse(text)
        path = str(kwargs.get("path", ""))
    except SpecError:
        return None
    if name == "py":
        path = path.rpartition(":")[0]
    try:
        st = Path(path).stat()
    except (OSError, ValueError):
        return None
    return st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino  # ctime: no one can set it


def key_form(text: str) -> str:
    """What a run's key holds of a target: the spec without the folder of a hashed file, so
    that moving a project keeps its runs (the hash says which data they were trained on)."""
    if not text.startswith(PATHED):
        return text
    name, kwargs = spec.parse(text)
    if name not in PATHED or not kwargs.get("sha256"):
        return text
    path = kwargs.pop("path")
    if name == "py":  # "module:function" or "file.py:function": keep the function's name
        kwargs["function"] = Path(path).name
    return spec.canonical(name, kwargs)

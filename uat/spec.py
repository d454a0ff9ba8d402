"""One syntax for every named thing in uat: `name` or `name(key=value, ...)`.

Activations, targets and optimizers are all registries of plain functions; a spec names one
function and its keyword arguments. Values are Python/TOML literals parsed with `ast` (never
`eval`). Resolving a spec checks the name, the keys and the value types against the function's
signature, so every registry gets the same clear errors for free, and gives a canonical string
(defaults filled in, fixed key order) that makes run keys stable: "sin" and "sin(freq=1)" are one
target.
"""

import ast
import difflib
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from uat.errors import SpecError

_SCALARS = (bool, int, float, str)


class Resolved(NamedTuple):
    """A resolved spec: canonical text, the function's keyword arguments, the value built."""

    canonical: str  # e.g. "leaky_relu(slope=0.01)"; equal specs give equal strings
    kwargs: dict[str, Any]  # every parameter, defaults filled in
    value: Any  # what the registry function returned


def parse(text: str) -> tuple[str, dict[str, Any]]:
    """Split `name(key=value, ...)` into the name and a dict of literal values.

    Raises SpecError for anything else: positional arguments, expressions, calls as values.
    """
    if not isinstance(text, str):
        raise SpecError(f"a spec must be a string like 'name' or 'name(key=value)'; got {text!r}")
    try:
        with warnings.catch_warnings():  # "sin(freq=1x)": no SyntaxWarning before the error
            warnings.simplefilter("ignore", SyntaxWarning)
            node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        raise SpecError(
            f"cannot parse spec {text!r}; write 'name' or 'name(key=value, ...)'"
        ) from None
    if isinstance(node, ast.Name):
        return node.id, {}
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise SpecError(f"cannot parse spec {text!r}; write 'name' or 'name(key=value, ...)'")
    if node.args:
        raise SpecError(f"spec {text!r}: give arguments as key=value, e.g. '{node.func.id}(key=1)'")
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise SpecError(f"spec {text!r}: '**' is not allowed; give arguments as key=value")
        if kw.arg in kwargs:
            raise SpecError(f"spec {text!r}: key '{kw.arg}' is given twice")
        if isinstance(kw.value, ast.Name) and kw.value.id in ("true", "false"):
            kwargs[kw.arg] = kw.value.id == "true"  # TOML's spelling, in a TOML file
            continue
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise SpecError(
                f"spec {text!r}: value of '{kw.arg}' must be a literal number, string or boolean"
            ) from None
    return node.func.id, kwargs


def _allowed(names) -> str:
    return ", ".join(sorted(names))


def _suggest(word: str, names) -> str:
    close = difflib.get_close_matches(word, list(names), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _coerce(kind: str, name: str, key: str, value: Any, annotation: Any) -> Any:
    """Check a literal against the parameter's annotation; ints are accepted for floats."""
    if not isinstance(value, _SCALARS):
        raise SpecError(
            f"{kind} '{name}': '{key}' must be a number, string or boolean; got {value!r}"
        )
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > 2**1023:
            raise SpecError(f"{kind} '{name}': '{key}' is too large for a float; got "
                            f"{str(value)[:20]}...")
        return float(value)
    if annotation in _SCALARS and not (
        isinstance(value, annotation) and not (annotation is not bool and isinstance(value, bool))
    ):
        raise SpecError(
            f"{kind} '{name}': '{key}' must be {annotation.__name__}; got {value!r}"
        )
    return value


def format_value(value: Any) -> str:
    """The canonical text of one literal (repr, so 0.01 stays '0.01' and 'a' stays quoted)."""
    return repr(value)


def canonical(name: str, kwargs: Mapping[str, Any]) -> str:
    """`name` or `name(k1=v1, k2=v2)` in the given key order."""
    if not kwargs:
        return name
    return f"{name}(" + ", ".join(f"{k}={format_value(v)}" for k, v in kwargs.items()) + ")"


def resolve(text: str, registry: Mapping[str, Callable[..., Any]], kind: str) -> Resolved:
    """Parse `text`, check it against `registry[name]`'s signature, and call the function.

    Parameters
    ----------
    text : the spec, e.g. "leaky_relu(slope=0.1)".
    registry : name -> function taking keyword arguments with annotations and defaults.
    kind : what the registry holds ("activation", "target", "optimizer"), for messages.

    Raises SpecError naming the spec, the bad part and the allowed names or keys; a registry
    function may raise SpecError itself for values out of range.
    """
    name, given = parse(text)
    if name not in registry:
        raise SpecError(
            f"unknown {kind} '{name}'{_suggest(name, registry)} (allowed: {_allowed(registry)})"
        )
    params = inspect.signature(registry[name], eval_str=True).parameters
    for key in given:
        if key not in params:
            allowed = _allowed(params) if params else "none"
            raise SpecError(
                f"{kind} '{name}' has no parameter '{key}'{_suggest(key, params)} "
                f"(allowed: {allowed})"
            )
    kwargs: dict[str, Any] = {}
    for key, p in params.items():
        if key in given:
            kwargs[key] = _coerce(kind, name, key, given[key], p.annotation)
        elif p.default is inspect.Parameter.empty:
            raise SpecError(f"{kind} '{name}' needs '{key}', e.g. '{name}({key}=...)'")
        else:
            kwargs[key] = p.default
    value = registry[name](**kwargs)
    return Resolved(canonical(name, kwargs), kwargs, value)


def short(text: str, registry: Mapping[str, Callable[..., Any]]) -> str:
    """A spec with only its non-default keys, for labels: "adam(lr=0.01, steps=2000, b1=...)"
    -> "adam(steps=2000)" when lr is the default. Unknown names are returned unchanged."""
    name, given = parse(text)
    if name not in registry:
        return text
    params = inspect.signature(registry[name], eval_str=True).parameters
    keep = {k: v for k, v in given.items() if k not in params or params[k].default != v}
    return canonical(name, keep)

"""Formulas a user types into a study file, such as "exp(-x**2) * cos(3*x)": parsed into a
small expression tree, evaluated on arrays, differentiated symbolically, checked for being a
polynomial.

A formula may hold numbers, the variables it is given (x, or x1..xn), the constants pi and e,
+ - * / ** and the functions in `FUNCTIONS`; nothing else. It is parsed with `ast` and walked
by hand: never `eval` or `exec`, no attribute access, no subscripts, no calls outside the
list, no keywords. Every number is a float64, so `9**9**9**9` is inf at once, not a big
integer that takes forever to compute.
"""

import ast
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
from scipy import special

from uat.errors import SpecError

Array = np.ndarray
MAX_LENGTH = 2000  # characters of a formula
MAX_NODES = 400  # nodes of its tree (and of its derivative, which can grow)
MAX_DEPTH = 60  # nesting of its tree: the recursive walks here stay far from Python's limit
MAX_EXPONENT = 1e6  # x**c with |c| above this is not read as a polynomial

# name -> (numpy function, number of arguments)
FUNCTIONS: dict[str, tuple[Callable, int]] = {
    **{name: (getattr(np, name), 1) for name in (
        "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
        "arccosh", "arctanh", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt",
        "abs", "sign")},
    "erf": (special.erf, 1),
    "maximum": (np.maximum, 2),
    "minimum": (np.minimum, 2),
}
CONSTANTS = {"pi": math.pi, "e": math.e}
# real-analytic on all of R (no pole, no branch point): composed with + - * and whole powers
# they give a function analytic on R, so not a polynomial on any interval unless a polynomial
ANALYTIC = {"sin", "cos", "exp", "expm1", "sinh", "cosh", "tanh", "arctan", "arcsinh", "erf"}
_STEP = "_step"  # internal: 1.0 where u > 0 else 0.0 (the derivative of maximum, minimum)
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class Node(NamedTuple):
    """One node of a formula: op is "num", "var", "+", "-", "*", "/", "**", "neg" or a
    function name; args are child Nodes; value is the number or the variable's name."""

    op: str
    args: tuple = ()
    value: float | str | None = None


def _num(v: float) -> Node:
    return Node("num", (), float(v))


ZERO, ONE = _num(0.0), _num(1.0)


class Formula(NamedTuple):
    """A parsed formula: its canonical text, its tree and the variables it may use."""

    text: str  # canonical: ast.unparse of what was typed (spacing normalised)
    tree: Node
    variables: tuple[str, ...]


def _refuse(text: str, why: str, variables: Sequence[str]):
    names = ", ".join(variables)
    raise SpecError(
        f"formula {text!r}: {why} (allowed: numbers, {names}, pi, e, + - * / **, and "
        f"{', '.join(sorted(FUNCTIONS))})")


def parse(text: str, variables: Sequence[str] = ("x",)) -> Formula:
    """Parse `text` into a Formula over `variables`; SpecError (one line) for anything else."""
    if not isinstance(text, str) or not text.strip():
        _refuse(str(text), "must be a non-empty string", variables)
    if len(text) > MAX_LENGTH:
        _refuse(text[:40] + "...", f"is {len(text)} characters long; at most {MAX_LENGTH}",
                variables)
    try:
        with warnings.catch_warnings():  # "1x": a SyntaxWarning on stderr, then our error
            warnings.simplefilter("ignore", SyntaxWarning)
            body = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        _refuse(text, "is not a formula", variables)
    except (RecursionError, MemoryError):
        _refuse(text, "is nested too deeply", variables)
    count = [0]

    def walk(node, depth: int = 0) -> Node:
        count[0] += 1
        if count[0] > MAX_NODES:
            _refuse(text, f"has more than {MAX_NODES} parts", variables)
        if depth > MAX_DEPTH:
            _refuse(text, f"is nested more than {MAX_DEPTH} deep", variables)
        deeper = depth + 1
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                _refuse(text, f"{str(node.value)[:20]!r} is not a number", variables)
            try:
                return _num(node.value)
            except OverflowError:
                _refuse(text, "has a number too large for a float", variables)
        if isinstance(node, ast.Name):
            if node.id in variables:
                return Node("var", (), node.id)
            if node.id in CONSTANTS:
                return _num(CONSTANTS[node.id])
            why = (f"'{node.id}' is a function; call it, e.g. {node.id}(x)"
                   if node.id in FUNCTIONS else f"unknown name '{node.id}'")
            _refuse(text, why, variables)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _fold(Node(_OPS[type(node.op)], (walk(node.left, deeper),
                                                     walk(node.right, deeper))))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = walk(node.operand, deeper)
            return _fold(Node("neg", (inner,))) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in FUNCTIONS:
                why = (f"'{name}' is not an allowed function" if name else
                       "only the listed functions may be called")
                _refuse(text, why, variables)
            if node.keywords:
                _refuse(text, f"{name}() takes no keywords", variables)
            arity = FUNCTIONS[name][1]
            if len(node.args) != arity or any(isinstance(a, ast.Starred) for a in node.args):
                _refuse(text, f"{name}() takes {arity} argument{'s' * (arity > 1)}", variables)
            return _fold(Node(name, tuple(walk(a, deeper) for a in node.args)))
        what = type(node).__name__
        hint = {"Attribute": "attribute access", "Subscript": "a subscript",
                "Compare": "a comparison", "Lambda": "lambda", "BoolOp": "and/or",
                "IfExp": "an if-expression"}.get(what, f"'{ast.unparse(node)[:30]}'")
        _refuse(text, f"{hint} is not allowed", variables)

    try:
        tree = walk(body)
        canonical = ast.unparse(body)
    except RecursionError:
        _refuse(text, "is nested too deeply", variables)
    return Formula(canonical, tree, tuple(variables))


def _fold(node: Node) -> Node:
    """A part without variables is a number: 2*pi, x**(1+1) -> x**2.0 (so `degree` sees 2)."""
    if all(a.op == "num" for a in node.args):
        with np.errstate(all="ignore"):
            return _num(evaluate(node, {}))
    return node


def evaluate(tree: Node, env: Mapping[str, Array | float]) -> Array:
    """The formula's value on arrays: env maps each variable to an array (all of one shape)."""
    op, args = tree.op, tree.args
    if op == "num":
        return tree.value
    if op == "var":
        return env[tree.value]
    vals = [evaluate(a, env) for a in args]
    if op == "+":
        return np.add(*vals)
    if op == "-":
        return np.subtract(*vals)
    if op == "*":
        return np.multiply(*vals)
    if op == "/":
        return np.divide(*vals)
    if op == "**":
        return np.power(*vals)
    if op == "neg":
        return np.negative(vals[0])
    if op == _STEP:
        return np.greater(vals[0], 0).astype(float)
    return FUNCTIONS[op][0](*vals)


def variables_used(tree: Node) -> set[str]:
    if tree.op == "var":
        return {tree.value}
    return set().union(*(variables_used(a) for a in tree.args)) if tree.args else set()


# Building blocks that fold constants, so derivatives stay small.


def _add(a: Node, b: Node) -> Node:
    if a.op == "num" and b.op == "num":
        return _num(a.value + b.value)
    if a == ZERO:
        return b
    return a if b == ZERO else Node("+", (a, b))


def _sub(a: Node, b: Node) -> Node:
    if a.op == "num" and b.op == "num":
        return _num(a.value - b.value)
    if b == ZERO:
        return a
    return _neg(b) if a == ZERO else Node("-", (a, b))


def _mul(a: Node, b: Node) -> Node:
    if a.op == "num" and b.op == "num":
        return _num(a.value * b.value)
    if ZERO in (a, b):
        return ZERO
    if a == ONE:
        return b
    return a if b == ONE else Node("*", (a, b))


def _div(a: Node, b: Node) -> Node:
    if a == ZERO:
        return ZERO
    return a if b == ONE else Node("/", (a, b))


def _neg(a: Node) -> Node:
    return _num(-a.value) if a.op == "num" else Node("neg", (a,))


def _pow(a: Node, b: Node) -> Node:
    if b == ONE:
        return a
    return ONE if b == ZERO else Node("**", (a, b))


def _call(name: str, *args: Node) -> Node:
    return Node(name, args)


def _chain(name: str, u: Node) -> Node:
    """f'(u) for the one-argument functions, as a tree in u."""
    sq = _mul(u, u)
    return {
        "sin": lambda: _call("cos", u),
        "cos": lambda: _neg(_call("sin", u)),
        "tan": lambda: _add(ONE, _pow(_call("tan", u), _num(2))),
        "arcsin": lambda: _div(ONE, _call("sqrt", _sub(ONE, sq))),
        "arccos": lambda: _neg(_div(ONE, _call("sqrt", _sub(ONE, sq)))),
        "arctan": lambda: _div(ONE, _add(ONE, sq)),
        "sinh": lambda: _call("cosh", u),
        "cosh": lambda: _call("sinh", u),
        "tanh": lambda: _sub(ONE, _pow(_call("tanh", u), _num(2))),
        "arcsinh": lambda: _div(ONE, _call("sqrt", _add(sq, ONE))),
        "arccosh": lambda: _div(ONE, _call("sqrt", _sub(sq, ONE))),
        "arctanh": lambda: _div(ONE, _sub(ONE, sq)),
        "exp": lambda: _call("exp", u),
        "expm1": lambda: _call("exp", u),
        "log": lambda: _div(ONE, u),
        "log1p": lambda: _div(ONE, _add(ONE, u)),
        "log2": lambda: _div(ONE, _mul(u, _num(math.log(2)))),
        "log10": lambda: _div(ONE, _mul(u, _num(math.log(10)))),
        "sqrt": lambda: _div(_num(0.5), _call("sqrt", u)),
        "cbrt": lambda: _div(ONE, _mul(_num(3), _pow(_call("cbrt", u), _num(2)))),
        "abs": lambda: _call("sign", u),
        "sign": lambda: ZERO,
        "erf": lambda: _mul(_num(2 / math.sqrt(math.pi)), _call("exp", _neg(sq))),
        _STEP: lambda: ZERO,
    }[name]()


def derivative(tree: Node, var: str = "x") -> Node:
    """d tree / d var as a tree (the derivative of abs is sign, of sign 0: almost everywhere)."""
    op, args = tree.op, tree.args
    if op == "num":
        return ZERO
    if op == "var":
        return ONE if tree.value == var else ZERO
    d = [derivative(a, var) for a in args]
    if op == "+":
        return _add(*d)
    if op == "-":
        return _sub(*d)
    if op == "neg":
        return _neg(d[0])
    a = args[0]
    if op == "*":
        return _add(_mul(d[0], args[1]), _mul(a, d[1]))
    if op == "/":
        b = args[1]
        return _div(_sub(_mul(d[0], b), _mul(a, d[1])), _mul(b, b))
    if op == "**":
        b = args[1]
        if b.op == "num":  # c u^(c-1) u'
            return _mul(_mul(b, _pow(a, _num(b.value - 1))), d[0])
        # u^v (v' log u + v u' / u)
        return _mul(tree, _add(_mul(d[1], _call("log", a)), _div(_mul(b, d[0]), a)))
    if op in ("maximum", "minimum"):  # the derivative of the larger (smaller) argument
        s = _call(_STEP, _sub(args[0], args[1]) if op == "maximum" else _sub(args[1], args[0]))
        return _add(_mul(s, d[0]), _mul(_sub(ONE, s), d[1]))
    return _mul(_chain(op, a), d[0])


def analytic_on_r(tree: Node) -> bool:
    """Whether the formula is built only from functions analytic on all of R (`ANALYTIC`),
    + - * /, whole powers >= 0 and powers of a positive number: then it is real-analytic
    wherever it is finite. sqrt(x**2) = |x| and arccos(cos(x)) are not (branch points)."""
    op, args = tree.op, tree.args
    if op in ("num", "var"):
        return True
    if op == "**":
        b, e = args
        whole = e.op == "num" and e.value >= 0 and e.value == int(e.value)
        positive_base = b.op == "num" and b.value > 0
        if not (whole or positive_base):
            return False
    elif op not in ("+", "-", "*", "/", "neg") and op not in ANALYTIC:
        return False
    return all(analytic_on_r(a) for a in args)


def functions_used(tree: Node) -> set[str]:
    own = {tree.op} if tree.op in FUNCTIONS else set()
    return own.union(*(functions_used(a) for a in tree.args))


def size(tree: Node) -> int:
    return 1 + sum(size(a) for a in tree.args)


def coefficients(tree: Node, var: str = "x") -> np.ndarray | None:
    """The coefficients (c_0, ..., c_d) of a one-variable formula that is visibly a polynomial
    (numbers, `var`, + - *, division by a number, whole powers >= 0), expanded exactly as far
    as floats allow, so x**2 - x**2 + x is degree 1; None otherwise (sin(x)**2 + cos(x)**2 is
    1, but not visibly: no claim is made for it)."""
    P = np.polynomial.polynomial
    op, args = tree.op, tree.args
    if op == "num":
        return np.array([tree.value])
    if op == "var":
        return np.array([0.0, 1.0]) if tree.value == var else None
    if op == "**":
        base, e = coefficients(args[0], var), args[1]
        ok = e.op == "num" and 0 <= e.value <= MAX_DEGREE_EXPAND and e.value == int(e.value)
        return P.polypow(base, int(e.value)) if base is not None and ok else None
    sub = [coefficients(a, var) for a in args]
    if any(c is None for c in sub) or op not in ("+", "-", "*", "/", "neg"):
        return None
    if op == "neg":
        return -sub[0]
    if op == "/":
        return sub[0] / sub[1][0] if len(P.polytrim(sub[1])) == 1 and sub[1][0] != 0 else None
    return {"+": P.polyadd, "-": P.polysub, "*": P.polymul}[op](*sub)


MAX_DEGREE_EXPAND = 256  # whole powers expanded by `coefficients`


def degree(tree: Node) -> int | None:
    """The polynomial degree of a formula in its variables, or None when the formula is not
    visibly a polynomial (a function applied to a variable, a division by one, a power that is
    not a whole number >= 0). Symbolic, an upper bound: x**2 - x**2 + x reads as 2 here
    (`coefficients` expands it)."""
    op, args = tree.op, tree.args
    if op == "num":
        return 0
    if op == "var":
        return 1
    sub = [degree(a) for a in args]
    if None in sub:
        return None
    if op in ("+", "-"):
        return max(sub)
    if op == "neg":
        return sub[0]
    if op == "*":
        return sub[0] + sub[1]
    if op == "/":
        return sub[0] if sub[1] == 0 else None
    if op == "**":
        b = args[1]
        if sub[1] != 0 or b.op != "num":
            return None if sub[1] != 0 else (0 if sub[0] == 0 else None)
        if sub[0] == 0:
            return 0
        whole = 0 <= b.value <= MAX_EXPONENT and b.value == int(b.value)
        return int(b.value) * sub[0] if whole else None
    return 0 if max(sub) == 0 else None  # a function of constants is a constant

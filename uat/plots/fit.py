"""Whether a study's grid fits a theorem figure, from its runs alone (before training): each
rule returns why it does not, in words for a one-line error, or None."""

from collections import defaultdict

from uat import targets


def regression(runs) -> str | None:
    """Every target is a regression target."""
    for r in runs:
        if targets.get(r.target).kind != "regression":
            return f"draws regression error; {r.target} is a classification target"
    return None


def only_depth(runs, depth: int) -> str | None:
    """Every run has this depth (a figure that would drop the others)."""
    other = next((r.depth for r in runs if r.depth != depth), None)
    if other is not None:
        return f"draws depth {depth} only; the grid has depth {other}"
    return None


def varies(runs, axis: str, where: str = "") -> str | None:
    """Every target has at least two values of `axis` (the figure's x axis)."""
    values = defaultdict(set)
    for r in runs:
        values[r.target].add(getattr(r, axis))
    if not values:
        return f"draws error against {axis}; the grid has no runs {where}".rstrip()
    for target, seen in values.items():
        if len(seen) < 2:
            return f"draws error against {axis}; {target} has one {axis} {where}".rstrip()
    return None

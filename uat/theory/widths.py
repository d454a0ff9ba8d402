"""Minimum-width theorems: which widths can and cannot approximate, for any depth.

Each result is a record (who, which activations, which norm and domain, the width as a function
of the input and output dimensions, and whether it is a lower bound, an upper bound or exact);
`min_width_bounds` combines the ones that apply. docs/theory.md states each theorem.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from uat import activations as _activations
from uat.activations import Activation
from uat.theory.oracles import _check_int


@dataclass(frozen=True)
class WidthResult:
    """One minimum-width theorem (docs/theory.md)."""

    name: str  # short label
    citation: str  # authors, venue, arXiv id
    activation: str  # family covered: relu | relu_like | johnson | monotone | c1 | any
    norm: str  # "sup" or "L^p"
    domain: str  # "compact" or "R^n"
    width: Callable[[int, int], int | None]  # (n, m) -> width; None where the result is silent
    kind: str  # "exact" (= w_min), "lower" (narrower nets fail), "upper" (this width suffices)


MIN_WIDTH: tuple[WidthResult, ...] = (
    WidthResult("Hanin-Sellke lower", "Hanin, Sellke 2017, arXiv:1710.11278", "relu", "sup",
                "compact", lambda n, m: n + 1, "lower"),
    WidthResult("Hanin-Sellke upper", "Hanin, Sellke 2017, arXiv:1710.11278", "relu", "sup",
                "compact", lambda n, m: n + m, "upper"),
    WidthResult("Johnson", "Johnson, ICLR 2019, arXiv:1810.00393", "johnson", "sup", "compact",
                lambda n, m: n + 1 if n >= 2 else None, "lower"),
    WidthResult("Rochau-Chan-Gottschalk", "Rochau, Chan, Gottschalk 2024, arXiv:2411.08735",
                "monotone", "sup", "compact",
                lambda n, m: max(n, m) + 1 if m <= 2 * n else None, "lower"),
    WidthResult("Lu et al. upper", "Lu, Pu, Wang, Hu, Wang, NeurIPS 2017, arXiv:1709.02540",
                "relu", "L^p", "R^n", lambda n, m: n + 4 if m == 1 else None, "upper"),
    WidthResult("Lu et al. lower", "Lu, Pu, Wang, Hu, Wang, NeurIPS 2017, arXiv:1709.02540",
                "relu", "L^p", "R^n", lambda n, m: n + 1 if m == 1 else None, "lower"),
    WidthResult("Park-Yun-Lee-Shin", "Park, Yun, Lee, Shin, ICLR 2021, arXiv:2006.08859",
                "relu", "L^p", "R^n", lambda n, m: max(n + 1, m), "exact"),
    WidthResult("Kim-Min-Park L^p", "Kim, Min, Park, ICLR 2024, arXiv:2309.10402", "relu_like",
                "L^p", "compact", lambda n, m: max(n, m, 2), "exact"),
    WidthResult("Kim-Min-Park sup", "Kim, Min, Park, ICLR 2024, arXiv:2309.10402", "relu_like",
                "sup", "compact", lambda n, m: m + 1 if n < m <= 2 * n else None, "lower"),
    WidthResult("Kidger-Lyons", "Kidger, Lyons, COLT 2020, arXiv:1905.08539", "c1", "sup",
                "compact", lambda n, m: n + m + 2, "upper"),
    WidthResult("Cai", "Cai, ICLR 2023, arXiv:2209.11395", "any", "L^p", "compact",
                lambda n, m: max(n, m), "lower"),
    WidthResult("width-1 monotone", "docs/theory.md [D]: width-1 nets are then monotone",
                "monotone", "L^p", "compact", lambda n, m: 2, "lower"),
)


def families(act: Activation) -> set[str]:
    """The MIN_WIDTH activation families `act` belongs to, from its facts (affine: none)."""
    if act.poly_degree == 1:
        return set()
    out = {"any", "c1"}  # every non-affine registry entry is C^1 with f' != 0 somewhere
    out |= {"relu", "relu_like"} if act.is_relu else set()
    out |= {"relu_like"} if act.relu_like else set()
    out |= {"monotone"} if act.monotone else set()
    # uniformly continuous and monotone: uniform limits of injective maps (Johnson 2019)
    out |= {"johnson"} if act.monotone and act.lipschitz else set()
    return out


class WidthBounds(NamedTuple):
    """What the MIN_WIDTH theorems say about w_min for one setting."""

    lower: int  # every width below this fails (1: nothing is ruled out)
    upper: int | None  # this width suffices (None: no theorem in the table says so)
    sources: tuple[str, ...]  # names of the results used


def min_width_bounds(n: int, m: int = 1, norm: str = "sup", activation="relu",
                     domain: str = "compact") -> WidthBounds | None:
    """Bounds on the minimum width for universal approximation of R^n -> R^m maps, any depth.

    Lower bounds for L^p on a compact domain also hold for sup (sup approximation implies L^p
    there); upper bounds for sup on compacta or for L^p on R^n also hold for L^p on a compact
    domain. None for the identity (no width is universal). activation : spec or Activation.
    """
    n, m = _check_int("n", n, 1), _check_int("m", m, 1)
    if norm not in ("sup", "L^p") or domain not in ("compact", "R^n"):
        raise ValueError(f"`norm` must be 'sup' or 'L^p', `domain` 'compact' or 'R^n'; got "
                         f"{norm!r}, {domain!r}")
    act = _activations.get(activation) if isinstance(activation, str) else activation
    fam = families(act)
    if not fam:
        return None
    lower, upper, used = 1, None, []
    for r in MIN_WIDTH:
        w = r.width(n, m) if r.activation in fam else None
        if w is None:
            continue
        as_lower = r.kind != "upper" and (
            (r.norm, r.domain) == (norm, domain)
            or (norm, domain, r.norm, r.domain) == ("sup", "compact", "L^p", "compact"))
        as_upper = r.kind != "lower" and (
            (r.norm, r.domain) == (norm, domain) or (norm == "L^p" and domain == "compact"
                                                     and (r.norm, r.domain) != ("L^p", "compact")))
        if as_lower and w > lower:
            lower = w
        if as_upper and (upper is None or w < upper):
            upper = w
        if as_lower or as_upper:
            used.append(r.name)
    return WidthBounds(lower, upper, tuple(used))


def min_width(n: int, m: int = 1, norm: str = "sup", activation="relu",
              domain: str = "compact") -> int | None:
    """The width threshold the depth figure draws: the best proven lower bound on w_min.

    ReLU sup on a compact set: n + 1 for m = 1 (Hanin-Sellke, exact); monotone Lipschitz
    activations: n + 1 (Johnson); ReLU L^p on a compact set: max(n, m, 2) (Kim-Min-Park, exact).
    See `min_width_bounds` for the upper side and the sources; None for the identity.
    """
    b = min_width_bounds(n, m, norm, activation, domain)
    return None if b is None else b.lower

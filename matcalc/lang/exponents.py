"""A matrix power's exponent written with numbers alone, read as a number of halves: ``S ^ 0.5``,
``S ^ (-3/2)`` and LaTeX's ``S^{-1/2}`` are powers of the matrix square root ``sqrtm(S)``."""

from __future__ import annotations

import math

from ..core.ir import Node

_ARITHMETIC = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
               "mul": lambda a, b: a * b, "div": lambda a, b: a / b if b else math.nan}


def halves_of(exponent: Node) -> int | None:
    """A number written with numbers alone (``-3/2``, ``-(1/2)``) as a whole number of halves,
    else None."""
    value = _number_of(exponent, depth=0)
    if value is None or not math.isfinite(value) or value * 2 != int(value * 2):
        return None
    return int(value * 2)


def _number_of(node: Node, depth: int) -> float | None:
    if node.op == "const":
        return node.params[0]
    if depth > 8 or not (node.op == "neg" or node.op in _ARITHMETIC and node.is_scalar):
        return None
    values = [_number_of(arg, depth + 1) for arg in node.args]
    if None in values:
        return None
    return -values[0] if node.op == "neg" else _ARITHMETIC[node.op](*values)

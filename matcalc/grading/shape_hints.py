"""Hints for an answer whose shape is not the result's: its transpose is right (the layout is
the only mistake), or the shapes differ and the hint says how."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core import ir
from ..core.ir import Node
from ..core.program import Program
from ..engine.result import Result
from ..errors import MatcalcError
from .samples import KIND_NAMES, agrees


def _right_as(expected: Result, extended: Program, changed: Callable[[], Node]) -> bool:
    """Whether the answer as ``changed()`` makes it has the result's shape and is right."""
    try:
        candidate = changed()
        return candidate.shape == expected.result.shape and agrees(expected, extended, candidate)
    except (MatcalcError, np.linalg.LinAlgError):
        return False


def transposed_shape_hint(expected: Result, extended: Program, node: Node) -> str:
    """An answer of the transposed shape whose transpose is right: the layout is the only
    mistake (``h @ (yhat - y)'`` for ``(yhat - y) @ h'``), a transpose, not a wrong shape."""
    result = expected.result
    if node.shape != result.shape.T or node.shape == result.shape:
        return ""
    if not _right_as(expected, extended, lambda: ir.apply("transpose", node)):
        return ""
    what = KIND_NAMES[expected.kind]
    layout = (f"; the {what} of a scalar has the shape of {expected.wrt}"
              if expected.kind == "grad" else "")
    return (f"your answer is the transpose of the {what}: it is {node.shape} where the {what} "
            f"is {result.shape}{layout}")


def batch_shape_hint(expected: Result, extended: Program, node: Node) -> str:
    """A tensor answer, one result per batch entry, whose sum over the leading axes is right:
    the batch sum of a weight shared across the batch is missing (``X' @ G`` for
    ``sum(X' @ G, 0)``)."""
    result = expected.result
    extra = len(node.shape.lead) - len(result.shape.lead)
    if extra <= 0 or node.shape.lead[extra:] != result.shape.lead:
        return ""

    def summed() -> Node:
        candidate = node
        for _ in range(extra):
            candidate = ir.apply("axis_sum", candidate, params=(0,))
        return candidate

    if not _right_as(expected, extended, summed):
        return ""
    what = KIND_NAMES[expected.kind]
    return (f"your answer is {node.shape}, one term per batch entry; the {what} "
            f"({result.shape}) is their sum over the batch, sum(..., 0) (in LaTeX \\sum_b ...)")


def shape_hint(node: Node, result: Node, expected: Result) -> str:
    what = KIND_NAMES[expected.kind]
    if node.shape == result.shape.T:
        return (f"your answer is {node.shape}, the shape of the transpose of the {what} "
                f"({result.shape}); the {what} of a scalar has the shape of {expected.wrt}"
                if expected.kind == "grad" else
                f"your answer is {node.shape}, the shape of the transpose of the {what} "
                f"({result.shape})")
    return f"your answer is {node.shape}, but the {what} is {result.shape}"

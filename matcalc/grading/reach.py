"""Whether a derivation reaches the derivative it was asked for.

It does when a step that holds states the gradient: a gradient line (``df_dx = ...``,
``\\frac{\\partial f}{\\partial x} = ...``), or a side written as a differential that the
gradient is read off: ``G : dX``, ``tr(G @ dX)`` (G' is the gradient), ``g' @ dx``,
``dx' @ g``, their sums, differences and scalar multiples, and ``G : d vec(X)`` (G is
vec of the gradient) — where the G read off is the true gradient at the test points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..core import ir
from ..core.ir import Node, walk
from ..core.shapes import ONE

# a direction: the node written for dX, with the variable X and whether it stands for d vec(X)
Directions = Mapping[Node, tuple[str, bool]]


def gradient_terms(node: Node, directions: Directions, moving: Callable[[Node], bool]
                   ) -> dict[Node, Node] | None:
    """The coefficient G of each direction when ``node`` is a sum of terms ``G : dV``
    (``moving(n)`` says whether ``n`` holds a differential); None when it is not."""
    found = _terms(node, directions, moving)
    if not found:
        return None
    combined: dict[Node, Node] = {}
    for direction, coefficient in found:
        combined[direction] = ir.apply("add", combined[direction], coefficient) \
            if direction in combined else coefficient
    return combined


def _terms(node: Node, directions: Directions, moving: Callable[[Node], bool]
           ) -> list[tuple[Node, Node]] | None:
    def free(item: Node) -> bool:
        return not moving(item)

    op, args = node.op, node.args
    if op in ("add", "sub"):
        left, right = (_terms(arg, directions, moving) for arg in args)
        if left is None or right is None:
            return None
        if op == "sub":
            right = [(d, ir.apply("neg", g)) for d, g in right]
        return left + right
    if op == "neg":
        inner = _terms(args[0], directions, moving)
        return None if inner is None else [(d, ir.apply("neg", g)) for d, g in inner]
    if op in ("mul", "div"):
        scale, rest = (args[0], args[1]) if op == "mul" and args[0].is_scalar else \
            (args[1], args[0])
        inner = _terms(rest, directions, moving) if scale.is_scalar and free(scale) else None
        return None if inner is None else [(d, ir.apply(op, g, scale) if op == "div" else
                                            ir.apply("mul", scale, g)) for d, g in inner]
    if op == "frob":
        for direction, coefficient in (args, reversed(args)):
            if direction in directions and free(coefficient):
                return [(direction, coefficient)]
        return None
    if op == "matmul":  # g' @ dx, dx' @ g
        left, right = args
        if right in directions and left.shape.rows is ONE and free(left):
            return [(right, ir.apply("transpose", left))]
        if left.op == "transpose" and left.args[0] in directions and \
                right.shape.cols is ONE and free(right):
            return [(left.args[0], right)]
        return None
    if op == "tr" and args[0].op == "matmul":  # tr(G @ dX) = G' : dX, tr(dX @ G) = G' : dX
        first, second = args[0].args
        if second in directions and free(first):
            return [(second, ir.apply("transpose", first))]
        if first in directions and free(second):
            return [(first, ir.apply("transpose", second))]
    return None


def holds_differentials(node: Node, directions: Directions, differentials: set[str]) -> bool:
    """Whether ``node`` holds a direction or a differential (a name in ``differentials``)."""
    return any(item in directions or (item.op == "ref" and item.name in differentials)
               for item in walk(node))


__all__ = ["Directions", "gradient_terms", "holds_differentials"]

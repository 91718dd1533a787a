"""Repeating along a new axis: ``expand(G, a, n)`` of ones is ones, and a number scaling G scales
the repeated G, so that a gradient spread from a mean prints as the mean's number
(``expand(-ones(B, T) / (B*T), 2, V) * M`` is ``-M / (B*T)``)."""

from __future__ import annotations

from ..core import ir
from ..core.ir import Node
from ..core.shapes import Kind
from .facts import Facts
from .rewrite import apply, rule


@rule('expand-out', ops=('expand',),
      example="G : matrix(B, T); H : tensor(B, T, V)\nf = expand(-G / 2, 2, V) + H")
def expand_out(node: Node, facts: Facts) -> Node | None:
    """expand(ones, a, n) = ones, expand(-G) = -expand(G), expand(c G) = c expand(G) and
    expand(G / c) = expand(G) / c for a number c: repeating is linear."""
    (g,) = node.args
    axis, n = node.params
    if g.op == "ones":
        return ir.ones(node.shape.rows, node.shape.cols, Kind.TENSOR, node.shape.lead)
    if g.op == "neg":
        return apply("neg", apply("expand", g.args[0], params=(axis, n)))
    if g.op in ("mul", "div") and g.args[1].is_scalar:
        return apply(g.op, apply("expand", g.args[0], params=(axis, n)), g.args[1])
    if g.op == "mul" and g.args[0].is_scalar:
        return apply("mul", g.args[0], apply("expand", g.args[1], params=(axis, n)))
    return None

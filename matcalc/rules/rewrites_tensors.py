"""Repeating along a new axis: ``expand(G, a, n)`` of ones is ones, and a number scaling G scales
the repeated G, so that a gradient spread from a mean prints as the mean's number
(``expand(-ones(B, T) / (B*T), 2, V) * M`` is ``-M / (B*T)``); the sums along the last axis of
a tensor whose rows lie on the simplex are ones."""

from __future__ import annotations

from ..core import ir
from ..core.ir import Node
from ..core.shapes import Kind
from ..core.spreads import axis_length
from .facts import Facts
from .rewrite import apply, rule


@rule('expand-out', ops=('expand',),
      example="G : matrix(B, T); H : tensor(B, T, V)\nf = expand(-G / 2, 2, V) + H")
def expand_out(node: Node, facts: Facts) -> Node | None:
    """expand(ones, a, n) = ones (zeros likewise), expand(-G) = -expand(G), expand(c G) =
    c expand(G) and expand(G / c) = expand(G) / c for a number c: repeating is linear (a mean
    along an axis stays inside: expand(mean(X, a), b, n) is the broadcast mean)."""
    (g,) = node.args
    axis, n = node.params
    if _mean(g):
        return None  # expand(mean(X, a), b, n) stays the broadcast mean
    if g.op in ("ones", "zeros"):
        return (ir.ones if g.op == "ones" else ir.zeros)(node.shape.rows, node.shape.cols,
                                                         Kind.TENSOR, node.shape.lead)
    if g.op == "neg":
        return apply("neg", apply("expand", g.args[0], params=(axis, n)))
    if g.op in ("mul", "div") and g.args[1].is_scalar:
        return apply(g.op, apply("expand", g.args[0], params=(axis, n)), g.args[1])
    if g.op == "mul" and g.args[0].is_scalar:
        return apply("mul", g.args[0], apply("expand", g.args[1], params=(axis, n)))
    return None


def _mean(node: Node) -> bool:
    """Whether node is a sum along an axis divided by that axis' length (a mean along it)."""
    return node.op == "div" and node.args[1].op == "dimval" and \
        axis_length(node.args[0]) == node.args[1].params[0]


@rule('axis-sum-out', ops=('axis_sum',),
      example="X : tensor(B, T, d); c : scalar\nf = sum(-(c * X), 2)")
def axis_sum_out(node: Node, facts: Facts) -> Node | None:
    """sum(-X, a) = -sum(X, a), sum(c X, a) = c sum(X, a) and sum(X / c, a) = sum(X, a) / c
    for a scalar c: a sum along an axis is linear."""
    (x,) = node.args
    if x.op == "neg":
        return apply("neg", apply("axis_sum", x.args[0], params=node.params))
    if x.op in ("mul", "div") and x.args[1].is_scalar:
        return apply(x.op, apply("axis_sum", x.args[0], params=node.params), x.args[1])
    if x.op == "mul" and x.args[0].is_scalar:
        return apply("mul", x.args[0], apply("axis_sum", x.args[1], params=node.params))
    return None


@rule('axis-sums-of-simplex', ops=('axis_sum',), needs='simplex',
      example="Y : tensor(B, T, k) simplex; e : scalar\nf = sum((1 - e) * Y + e / k, 2)")
def axis_sums_of_simplex(node: Node, facts: Facts) -> Node | None:
    """sum(Y, last axis) = 1 when each last-axis row of the tensor Y is on the simplex (a
    softmax's, soft targets'); sum(a Y + b, last axis) = (a + b k) 1, an affine combination
    (label smoothing), as Y @ 1 = 1 for a matrix."""
    (y,) = node.args
    if y.kind is not Kind.TENSOR or node.params[0] != len(y.shape.dims) - 1:
        return None
    total = facts.row_sums(y)
    if total is None:
        return None
    shape = node.shape
    ones = ir.ones(shape.rows, shape.cols, node.kind, shape.lead)
    return ones if total.op == "const" and total.params[0] == 1.0 else \
        apply("mul", total, ones)

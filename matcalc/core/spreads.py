"""What repeats a value along an axis, in every form the language writes it.

A column spread over the columns (``v @ ones(m)'``), a row over the rows (``ones(n) @ r``) and a
tensor repeated along a new axis (``expand(G, a, n)``) are one idea: spreading copies entries, so
it commutes with every entrywise operation (``f(spread(v)) = spread(f(v))``, ``spread(a) *
spread(b) = spread(a * b)``).  The collector and the rules that read reductions along an axis
(row means, LayerNorm's backward pass) ask this module, so the matrix and the tensor forms share
one reading.
"""

from __future__ import annotations

from collections.abc import Callable

from . import ir
from .ir import Node
from .shapes import Dim, Kind

Spread = tuple[Node, Callable[[Node], Node]]  # (v, how v is spread: any node of v's shape alike)


def spread_of(node: Node, inner: Callable[[Node], bool] = lambda _: True) -> Spread | None:
    """(v, spread) for ``v @ ones(m)'`` (v a column), ``ones(n) @ v`` (v a row) and
    ``expand(v, a, n)``, where ``inner(v)`` holds; ``spread(u)`` repeats any u of v's shape the
    same way.  A spread of a spread is one (``expand(ones(T) @ r, 0, B)``: r's spread).  None
    for any other node."""
    found = _one_spread(node)
    if found is None:
        return None
    g, again = found
    if inner(g):
        return g, again
    below = spread_of(g, inner)
    if below is None:
        return None
    v, again_below = below
    return v, lambda u: again(again_below(u))


def _one_spread(node: Node) -> Spread | None:
    if node.op == "expand":
        return node.args[0], lambda u: ir.apply("expand", u, params=node.params)
    if node.op != "matmul":
        return None
    a, b = node.args
    if b.op == "transpose" and b.args[0].op == "ones" and b.args[0].kind is Kind.VECTOR and \
            a.kind is Kind.VECTOR:
        return a, lambda u: ir.apply("matmul", u, b)
    if a.op == "ones" and a.kind is Kind.VECTOR and b.kind is Kind.ROW:
        return b, lambda u: ir.apply("matmul", a, u)
    return None


def broadcast_operand(node: Node) -> Node:
    """What NumPy's broadcasting repeats as ``node`` does, for a tensor repeated along its
    leading axes: ``expand(M, 0, B)`` -> M (``expand(ones(T) @ r, 0, B)`` -> ``ones(T) @ r``,
    the form the language reads ``X - r`` of a tensor X and a row r with); ``node`` itself
    otherwise.  In an entrywise operation with a tensor of the full shape the two have the same
    value."""
    while node.op == "expand" and node.params[0] == 0 and node.kind is Kind.TENSOR:
        node = node.args[0]
    return node
def spread_inner(node: Node) -> Node | None:
    """v for what repeats v along an axis (``v @ ones(m)'``, ``ones(n) @ v``,
    ``expand(v, a, n)``); else None."""
    spread = spread_of(node)
    return spread[0] if spread is not None else None


def axis_length(node: Node) -> Dim | None:
    """The length summed over by ``X @ ones(m)`` (m), ``ones(n)' @ X`` (n) of a matrix X and
    ``sum(X, a)`` of a tensor (its axis a); else None."""
    if node.op == "axis_sum":
        return node.args[0].shape.dims[node.params[0]]
    if node.op != "matmul":
        return None
    a, b = node.args
    if b.op == "ones" and b.kind is Kind.VECTOR and a.kind is Kind.MATRIX:
        return b.shape.rows
    if a.op == "transpose" and a.args[0].op == "ones" and a.args[0].kind is Kind.VECTOR and \
            b.kind is Kind.MATRIX:
        return a.args[0].shape.rows
    return None

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
    same way.  None for any other node."""
    if node.op == "expand":
        (g,) = node.args
        return (g, lambda u: ir.apply("expand", u, params=node.params)) if inner(g) else None
    if node.op != "matmul":
        return None
    a, b = node.args
    if b.op == "transpose" and b.args[0].op == "ones" and b.args[0].kind is Kind.VECTOR and \
            a.kind is Kind.VECTOR and inner(a):
        return a, lambda u: ir.apply("matmul", u, b)
    if a.op == "ones" and a.kind is Kind.VECTOR and b.kind is Kind.ROW and inner(b):
        return b, lambda u: ir.apply("matmul", a, u)
    return None


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

"""The short form of NumPy-style broadcasting that the printers write back.

The reader (:mod:`matcalc.lang.broadcast`) expands a row r next to an n x m matrix into
``ones(n) @ r`` and a column c into ``c @ ones(m)'``; the printers write those products next to a
full matrix as r and c again (:func:`shown_operands`), which reads back as the same expression.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .shapes import Kind

if TYPE_CHECKING:
    from .expression import Expression as Node  # what it reads of core/ir.py's Node

ELEMENTWISE = frozenset({"add", "sub", "mul", "div"})


def _short(node: Node) -> Node | None:
    """The row or column a broadcast product spreads: ``ones(n) @ r`` -> r, ``c @ ones(m)'``
    -> c; None for any other node."""
    if node.op != "matmul" or node.kind is not Kind.MATRIX:
        return None
    a, b = node.args
    if a.op == "ones" and a.kind is Kind.VECTOR and b.kind is Kind.ROW:
        return b
    if b.op == "transpose" and b.args[0].op == "ones" and b.args[0].kind is Kind.VECTOR and \
            a.kind is Kind.VECTOR:
        return a
    return None


def shown_operands(op: str, left: Node, right: Node) -> tuple[Node, Node]:
    """The operands a printer writes for ``left op right``: a broadcast product next to a full
    matrix as its row or column (``X - ones(N) @ mu'`` as ``X - mu'``), an outer sum of a
    spread column and a spread row as the two (``c + r``); anything else as it is.  Each short
    form is one that :func:`expanded` reads back as the same expression."""
    if op not in ELEMENTWISE or left.is_scalar or right.is_scalar:
        return left, right
    short_left, short_right = _short(left), _short(right)
    if short_left is not None and short_right is not None:
        if short_left.kind is Kind.VECTOR and short_right.kind is Kind.ROW or \
                short_left.kind is Kind.ROW and short_right.kind is Kind.VECTOR:
            return short_left, short_right
        return left, right
    if short_left is not None:
        return short_left, right
    if short_right is not None:
        return left, short_right
    return left, right


def axis_mean(node: Node) -> tuple[Node, int] | None:
    """(X, 1) for ``(X @ ones(m)) / m`` and (X, 0) for ``(ones(n)' @ X) / n``: the means along
    an axis that ``mean(X, 1)`` and ``mean(X, 0)`` read as, printed by that name again; (X, a)
    for ``sum(X, a) / n`` of a tensor X whose axis a has length n (``mean(X, a)``)."""
    if node.op != "div" or node.args[1].op != "dimval":
        return None
    top, count = node.args[0], node.args[1].params[0]
    if top.op == "axis_sum" and top.args[0].shape.dims[top.params[0]] == count:
        return top.args[0], top.params[0]
    if top.op != "matmul":
        return None
    a, b = top.args
    if b.op == "ones" and b.kind is Kind.VECTOR and b.shape.rows == count and \
            a.kind is Kind.MATRIX:
        return a, 1
    if a.op == "transpose" and a.args[0].op == "ones" and a.args[0].kind is Kind.VECTOR and \
            a.args[0].shape.rows == count and b.kind is Kind.MATRIX:
        return b, 0
    return None


ROW_WISE = ("softmax", "log_softmax", "logsumexp")


def down_columns(node: Node) -> tuple[str, Node] | None:
    """(softmax, X) for ``softmax(X')'`` of a matrix X (log_softmax, logsumexp likewise): the
    function down each column that ``softmax(X, 0)`` reads as, printed so again."""
    if node.op != "transpose" or node.args[0].op not in ROW_WISE:
        return None
    inner = node.args[0].args[0]
    if inner.op != "transpose" or inner.args[0].kind is not Kind.MATRIX:
        return None
    return node.args[0].op, inner.args[0]


def summed_rows(node: Node) -> Node | None:
    """``M`` where ``node`` is the column of the sums of the rows of ``M`` (``M' @ ones(T)``,
    or ``(ones(T)' @ M)'``) and ``M`` a sum over a batch (``sum(Y, 0)`` of a tensor); None
    otherwise."""
    if node.op == "transpose" and node.args[0].op == "matmul":
        ones, summed = node.args[0].args
        ones = ones.args[0] if ones.op == "transpose" else None
    elif node.op == "matmul" and node.args[0].op == "transpose":
        summed, ones = node.args[0].args[0], node.args[1]
    else:
        return None
    if ones is None or ones.op != "ones" or ones.kind is not Kind.VECTOR or \
            summed.op != "axis_sum" or summed.kind is not Kind.MATRIX or \
            ones.shape.rows != summed.shape.rows:
        return None
    return summed


def spread_axis(short: Node, full: Node) -> int | None:
    """The one axis a of the tensor ``full`` without which its shape is ``short``'s (a matrix or
    tensor of one axis less): ``expand(short, a, n)`` is what a paper's ``X - \\mu`` means for
    a per-row ``\\mu``.  None where no axis or several do (``(B, T)`` next to ``(B, T, T)``:
    the shapes cannot tell the axis), and where NumPy broadcasts ``short`` as it is (over the
    leading axis)."""
    if full.kind is not Kind.TENSOR or short.kind not in (Kind.MATRIX, Kind.TENSOR):
        return None
    dims, kept = full.shape.dims, short.shape.dims
    if len(kept) != len(dims) - 1 or all(a is b for a, b in zip(dims[1:], kept, strict=True)):
        return None  # a matrix beside a batch of them broadcasts as NumPy does, unspread
    found = [axis for axis in range(len(dims))
             if all(a is b for a, b in zip(dims[:axis] + dims[axis + 1:], kept, strict=True))]
    return found[0] if len(found) == 1 else None


def shown_spreads(op: str, left: Node, right: Node) -> tuple[Node, Node]:
    """The operands the LaTeX printer writes for ``left op right``: a tensor spread along an
    axis (``expand(G, a, n)``) next to a tensor of its shape as G, where the shapes name the
    axis (:func:`spread_axis`), which the LaTeX reader spreads back; one side at most."""
    if op not in ELEMENTWISE or left.is_scalar or right.is_scalar:
        return left, right
    if right.op == "expand" and spread_axis(right.args[0], left) == right.params[0]:
        return left, right.args[0]
    if left.op == "expand" and spread_axis(left.args[0], right) == left.params[0]:
        return left.args[0], right
    return left, right

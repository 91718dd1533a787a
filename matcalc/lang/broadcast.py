"""NumPy-style broadcasting of rows and columns in ``+ - * /``, as products with ones.

A row r (1 x m) next to an n x m matrix stands for ``ones(n) @ r``, copied to every row; a
column c (n x 1) next to an n x m matrix stands for ``c @ ones(m)'``; a column next to a row gives
their outer sum (``c @ ones(m)' + ones(n) @ r``), as NumPy does.  The reader expands the short
form (:func:`expanded`); every stage then sees plain products, whose adjoint sums over the
broadcast axis (``ones(n)' @ G``), and the printers write the short form back
(:func:`matcalc.core.broadcast.shown_operands`).
"""

from __future__ import annotations

from ..core import ir
from ..core.broadcast import ELEMENTWISE
from ..core.ir import Node
from ..core.shapes import ONE, Dim, Kind
from ..core.unify import same
from ..errors import ShapeError


def _ones_column(n: Dim) -> Node:
    return ir.ones(n, ONE, Kind.VECTOR)


def _spread_rows(row: Node, n: Dim) -> Node:
    """``ones(n) @ row``: the row copied to n rows."""
    return ir.apply("matmul", _ones_column(n), row)


def _spread_columns(column: Node, m: Dim) -> Node:
    """``column @ ones(m)'``: the column copied to m columns."""
    return ir.apply("matmul", column, ir.apply("transpose", _ones_column(m)))


def _refuse(op: str, left: Node, right: Node) -> None:
    """A clear error when a vector or row meets a matrix it does not broadcast over."""
    symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[op]
    short, full = (left, right) if left.kind in (Kind.VECTOR, Kind.ROW) else (right, left)
    if short.kind not in (Kind.VECTOR, Kind.ROW) or full.kind is not Kind.MATRIX:
        return
    rows, cols = full.shape.rows, full.shape.cols
    flipped = short.args[0] if short.op == "transpose" else ir.apply("transpose", short)
    hint = f"; {flipped} would broadcast" if (flipped.shape.rows is ONE and
                                             same(flipped.shape.cols, cols)) or \
        (flipped.shape.cols is ONE and same(flipped.shape.rows, rows)) else ""
    raise ShapeError(f"{left} {symbol} {right}: {full} is {full.shape} and {short} is "
                     f"{short.shape}; NumPy would not broadcast them either (a column "
                     f"broadcasts over the columns of a matrix with as many rows, a row over "
                     f"the rows of a matrix with as many columns){hint}")


def expanded(op: str, left: Node, right: Node) -> tuple[Node, Node]:
    """The operands of ``left op right`` with a row or column broadcast written out; operands
    that need no broadcasting (or that NumPy would not broadcast) come back as they are, and
    the operation's own shape check then reports them."""
    if op not in ELEMENTWISE or left.is_scalar or right.is_scalar:
        return left, right
    (r1, c1), (r2, c2) = (left.shape.rows, left.shape.cols), (right.shape.rows, right.shape.cols)
    if same(r1, r2) and same(c1, c2):
        return left, right
    rows_ok = same(r1, r2) or r1 is ONE or r2 is ONE
    cols_ok = same(c1, c2) or c1 is ONE or c2 is ONE
    if not (rows_ok and cols_ok):
        _refuse(op, left, right)
        return left, right
    rows = r2 if r1 is ONE else r1
    cols = c2 if c1 is ONE else c1

    def spread(node: Node) -> Node:
        if node.shape.rows is ONE and rows is not ONE:
            node = _spread_rows(node, rows)
        if node.shape.cols is ONE and cols is not ONE:
            node = _spread_columns(node, cols)
        return node

    return spread(left), spread(right)


def refuse_matrix_times_vector(left: Node, right: Node) -> None:
    """In one-line input, ``*`` between a matrix and a vector (or row) is an error: names typed
    by convention are a matrix (capital) and a column vector, and ``x' * A * x`` means the
    matrix product, which is ``@``."""
    if not (isinstance(left, Node) and isinstance(right, Node)):  # a bare I: sized later
        return
    kinds = {left.kind, right.kind}
    if Kind.MATRIX in kinds and kinds & {Kind.VECTOR, Kind.ROW}:
        raise ShapeError(f"{left} * {right}: * multiplies entry by entry, and {left} is "
                         f"{_KIND_WORDS[left.kind]}, {right} {_KIND_WORDS[right.kind]}; for "
                         f"the matrix product write {left} @ {right}")


_KIND_WORDS = {Kind.MATRIX: "a matrix", Kind.VECTOR: "a column vector", Kind.ROW: "a row vector"}

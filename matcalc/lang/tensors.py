"""Reading the axis forms of the language: ``sum(X, axis)`` and ``mean(X, axis)`` (of a tensor
the axis removed, as NumPy's ``np.sum(X, axis=a)``; of a matrix a vector or a row), and
``expand(G, axis, n)`` (G repeated n times along a new axis: what the gradient of an axis sum
is written with)."""

from __future__ import annotations

from collections.abc import Callable

from lark import Tree

from ..core import ir
from ..core.ir import Node
from ..core.shapes import ONE, Dim, Kind
from ..core.tensor_shapes import normal_axis
from ..errors import Location, ShapeError

TENSOR_CALLS = frozenset({"expand"})


def axis_number(tree: Tree, what: str) -> int:
    """An axis written as an integer literal, possibly negative (``-1`` for the last)."""
    negative = tree.data == "neg"
    if negative:
        tree = tree.children[0]
    if tree.data != "number" or not str(tree.children[0]).isdigit():
        raise ShapeError(f"the axis of {what} is a whole number (0 for the first axis, -1 for "
                         f"the last), as in NumPy")
    value = int(str(tree.children[0]))
    return -value if negative else value


def along_axis(name: str, operand: Node, axis_tree: Tree, where: Location | None,
               source: str) -> Node:
    """``sum(X, a)`` / ``mean(X, a)``: of a tensor, the axis a removed (NumPy's
    ``np.sum(X, axis=a)``); of a matrix, ``sum(X, 1)`` = ``X @ ones(m)`` (row sums, a vector)
    and ``sum(X, 0)`` = ``ones(n)' @ X`` (column sums, a row vector); ``mean`` divides by the
    count."""
    if operand.kind is Kind.TENSOR:
        what = f"{name}({operand}, axis)"
        axis = normal_axis(axis_number(axis_tree, what), len(operand.shape.dims), what)
        total = ir.apply("axis_sum", operand, params=(axis,))
        counted = operand.shape.dims[axis]
        return ir.apply("div", total, ir.dimval(counted)) if name == "mean" else total
    try:
        written = axis_number(axis_tree, f"{name}(X, axis)")
    except ShapeError:  # not a whole number: the matrix's own message below, at its place
        written = None
    # as in NumPy, -1 is the last axis (along each row) and -2 the one before it
    axis = {0: "0", 1: "1", -1: "1", -2: "0"}.get(written)
    if axis is None:
        raise ShapeError(f"the axis of {name}(X, axis) is 0 (down each column) or 1 (along "
                         f"each row; -2 and -1 count from the last), as in NumPy", where,
                         source)
    if operand.is_scalar:
        return operand
    counted = operand.shape.cols if axis == "1" else operand.shape.rows
    if counted is ONE:
        return operand  # a vector summed along its one column (a row along its one row)
    ones = ir.ones(counted, ONE, Kind.VECTOR)
    total = ir.apply("matmul", operand, ones) if axis == "1" else \
        ir.apply("matmul", ir.apply("transpose", ones), operand)
    return ir.apply("div", total, ir.dimval(counted)) if name == "mean" else total


def tensor_call(name: str, argument_trees: list[Tree], expression: Callable[[Tree], Node],
                dimension: Callable[[Tree], Dim]) -> Node:
    """``expand(G, axis, n)`` of a matrix or tensor G."""
    if len(argument_trees) != 3:
        raise ShapeError(f"{name} takes 3 arguments (G, axis, n), not {len(argument_trees)}")
    operand = expression(argument_trees[0])
    if operand.kind not in (Kind.MATRIX, Kind.TENSOR):
        raise ShapeError(f"expand({operand}, ...) repeats a matrix or a tensor along a new "
                         f"axis, but {operand} is {operand.shape}")
    axis = axis_number(argument_trees[1], "expand(G, axis, n)")
    axis = normal_axis(axis, len(operand.shape.dims) + 1, "expand(G, axis, n)")
    return ir.apply("expand", operand, params=(axis, dimension(argument_trees[2])))

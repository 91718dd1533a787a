"""Calls whose arguments are more than operands: the triangles ``tril(X, k)``, ``triu(X, k)``
(k a whole number), ``where(C, A, B)`` (C a mask, a branch may be ``-inf``), and the functions
along an axis: ``softmax(X, axis)``, ``log_softmax``, ``logsumexp``, ``max``, ``min``, and the
indicators of their arg-max ``ismax``, ``ismin``.

Axes follow NumPy's: ``0`` down each column, ``1`` (or ``-1``, the default) along each row.
A vector or row vector has its one axis, a tensor any of its axes (``-1`` the last).  Along
axis 0 a row-wise function of a matrix is its transposes, ``softmax(X, 0) = softmax(X')'``, so
every stage already knows it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from lark import Tree

from ..core import ir
from ..core.ir import Node
from ..core.labels import MASK
from ..core.shapes import ONE, Kind
from ..errors import AssumptionError, ParseError, ShapeError
from .syntax import location_of

ROW_WISE = frozenset({"softmax", "log_softmax", "logsumexp"})
EXTREMA = frozenset({"max", "min", "ismax", "ismin"})
TRIANGLES = frozenset({"tril", "triu"})
CALLS = ROW_WISE | EXTREMA | TRIANGLES | {"where"}
INFINITY = "inf"  # -inf: a branch of where only
INFINITY_MISPLACED = ("-inf is a value only as a branch of where(C, A, -inf) (the entries a "
                      "mask hides from a softmax); write a finite number here")


def build_call(builder: Any, name: str, trees: list[Tree]) -> Node:
    """The node of ``name(trees...)`` for a name of :data:`CALLS`; ``builder`` is the
    :class:`matcalc.lang.build.Builder` building the expression."""
    if name == "where":
        return _where(builder, trees)
    counts = "1 or 2 arguments (X, or X and " + ("k)" if name in TRIANGLES else "an axis)")
    if len(trees) not in (1, 2):
        raise ShapeError(f"{name} takes {counts}, not {len(trees)}")
    operand = builder.expression(trees[0])
    if name in TRIANGLES:
        k = _whole(trees[1], builder.source, f"k of {name}(X, k)") if len(trees) == 2 else 0
        return ir.apply(name, operand, params=(k,))
    axis = None
    if len(trees) == 2:
        written = _whole(trees[1], builder.source, f"the axis of {name}(X, axis)")
        if operand.kind is Kind.TENSOR:
            return _along_tensor(name, operand, written, trees[1], builder.source)
        axis = _axis(operand, written, name, trees[1], builder.source)
    if name in ROW_WISE:
        if axis == 0:  # down each column: the function of the transpose's rows, transposed
            return ir.apply("transpose", ir.apply(name, ir.apply("transpose", operand)))
        return ir.apply(name, operand)
    if axis is None:  # max(X): over every entry; max(x, 0) of a vector too
        return ir.apply(name, operand)
    return ir.apply(f"axis_{name}", operand, params=(axis,))


def _whole(tree: Tree, source: str, what: str) -> int:
    """A whole number written as a literal: ``1``, ``-1``."""
    negative = tree.data == "neg"
    inner = tree.children[0] if negative else tree
    text = str(inner.children[0]) if isinstance(inner, Tree) and inner.data == "number" else ""
    if not text.isdigit():
        raise ShapeError(f"{what} is a whole number written as it is (0, 1, -1)",
                         location_of(tree, source), source)
    return -int(text) if negative else int(text)


def _axis(operand: Node, axis: int, name: str, tree: Tree, source: str) -> int | None:
    """The axis of a matrix (0 or 1), or None for the one axis of a vector or row vector."""
    place = location_of(tree, source)
    if operand.is_scalar:
        raise ShapeError(f"{name}(a, axis): a number has no axis; write {name}(a)", place,
                         source)
    if operand.kind in (Kind.VECTOR, Kind.ROW):
        along = (0, -1) if operand.kind is Kind.VECTOR else (1, -1)
        if axis in along:
            return None
        what = "a (column) vector: its axis is 0" if operand.kind is Kind.VECTOR else \
            "a row vector: its axis is 1"
        raise ShapeError(f"{operand} is {what} (or -1); write {name}({operand})", place,
                         source)
    if axis in (0, -2):
        return 0
    if axis in (1, -1):
        return 1
    raise ShapeError(f"the axis of {name}(X, axis) is 0 (down each column) or 1 (along each "
                     f"row; -1, the default), as in NumPy", place, source)


def _along_tensor(name: str, operand: Node, written: int, tree: Tree, source: str) -> Node:
    """``softmax(X, axis)`` (log_softmax, logsumexp, max, min, ismax, ismin) of a tensor along
    any of its axes (-1 the last, as NumPy's): the plain function along the last axis of a
    row-wise one, the operation ``axis_...`` with the axis otherwise."""
    ndim = len(operand.shape.dims)
    if not -ndim <= written < ndim:
        raise ShapeError(f"{name}({operand}, axis): the axis of a tensor of {ndim} axes is one "
                         f"of 0..{ndim - 1} (or -1 for the last), not {written}",
                         location_of(tree, source), source)
    axis = written % ndim
    if name in ROW_WISE and axis == ndim - 1:
        return ir.apply(name, operand)
    return ir.apply(f"axis_{name}", operand, params=(axis,))


def _where(builder: Any, trees: list[Tree]) -> Node:
    """where(C, A, B): C a mask, A and B expressions or -inf."""
    if len(trees) != 3:
        raise ShapeError(f"where takes 3 arguments (where(C, A, B)), not {len(trees)}")
    condition = builder.expression(trees[0])
    if not is_mask(condition, builder.definitions):
        raise AssumptionError(f"the first argument of where(C, A, B) is a mask, of entries 0 "
                              f"and 1: a variable declared 'mask', or built of tril, triu, ones "
                              f"and I; {condition} is not known to be one",
                              location_of(trees[0], builder.source), builder.source)
    branches = [_infinity(tree, builder.knows) or builder.expression(tree) for tree in trees[1:]]
    return ir.apply("where", condition, *branches)


def _infinity(tree: Tree, knows: Callable[[str], bool]) -> Node | None:
    """The number -inf (inf) when the branch is written so and no name inf is declared."""
    sign = 1.0
    if tree.data == "neg":
        sign, tree = -1.0, tree.children[0]
    if tree.data == "name" and str(tree.children[0]) == INFINITY and not knows(INFINITY):
        return ir.const(sign * math.inf, infinite=True)
    return None


def refuse_infinity() -> ParseError:
    """The error of ``inf`` written anywhere but a branch of where."""
    return ParseError(INFINITY_MISPLACED)


def is_mask(node: Node, definitions: Mapping[str, Any]) -> bool:
    """Whether every entry of ``node`` is 0 or 1 by construction: a variable declared ``mask``,
    ``ones``, ``zeros``, ``I``, their triangles and transposes, entrywise and outer products
    (and) and ``1 - C`` (not)."""
    if node.op == "ref":
        return is_mask(definitions[node.name].body, definitions)
    if node.op == "var":
        return MASK in node.params[1]
    if node.op in ("ones", "zeros", "identity"):
        return True
    if node.op in ("tril", "triu", "transpose"):
        return is_mask(node.args[0], definitions)
    outer = node.op == "matmul" and node.args[0].shape.cols is ONE  # u @ v' of masks
    if node.op == "mul" or outer:
        return all(is_mask(arg, definitions) for arg in node.args)
    if node.op == "sub":
        first, second = node.args
        one = first.op == "ones" or (first.op == "const" and first.params[0] == 1.0)
        return one and is_mask(second, definitions)
    return False

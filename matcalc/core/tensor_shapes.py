"""Shape rules for tensors: NumPy's broadcasting over leading (batch) axes.

A tensor's shape keeps its rows and columns as its last two axes and its batch axes in
``Shape.lead`` (:mod:`matcalc.core.shapes`).  As in NumPy, two operands' axes are aligned from
the right: a matrix next to a tensor is the same matrix in every batch entry, and so are the
leading axes of a tensor that another has more of (``tensor(B, H, T, d)`` next to
``tensor(H, T, d)``).  Vectors and rows meet tensors only through ``+ - * /``, where the reader
has already spread them to the matrix they broadcast to (:mod:`matcalc.lang.broadcast`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ShapeError, UnsupportedError
from .shapes import Dim, Kind, Shape, kind_of_shape
from .unify import same

if TYPE_CHECKING:
    from .expression import Expression as Node  # what it reads of core/ir.py's Node


def _text(node: Node) -> str:
    text = str(node)
    return text if len(text) <= 40 else text[:37] + "..."


def lead_of(a: Node, b: Node, what: object) -> tuple[Dim, ...]:
    """The leading axes of ``a`` and ``b`` broadcast together: one's must end the other's."""
    first, second = a.shape.lead, b.shape.lead
    longer, shorter = (first, second) if len(first) >= len(second) else (second, first)
    tail = longer[len(longer) - len(shorter):]
    if all(same(x, y) for x, y in zip(tail, shorter, strict=True)):
        return longer
    raise ShapeError(f"{what}: {_text(a)} is {a.shape} and {_text(b)} is {b.shape}; their "
                     f"leading axes do not broadcast (NumPy aligns the last axes)")


def tensor_result(rows: Dim, cols: Dim, lead: tuple[Dim, ...], kind: Kind) -> tuple[Shape, Kind]:
    """The shape and kind of a result: a tensor when it keeps leading axes."""
    shape = Shape(rows, cols, lead)
    return shape, Kind.TENSOR if lead else kind_of_shape(shape, kind)


def elementwise(a: Node, b: Node, what: object) -> tuple[Shape, Kind]:
    """``a op b`` entry by entry where one is a tensor: equal rows and columns, broadcast
    leading axes (a scalar was handled before)."""
    if not (same(a.shape.rows, b.shape.rows) and same(a.shape.cols, b.shape.cols)):
        _refuse_kept_axis(a, b, what)
        raise ShapeError(f"{what}: {_text(a)} is {a.shape} but {_text(b)} is {b.shape}; the "
                         f"last two axes must agree (or a row or column broadcast over them)")
    return tensor_result(a.shape.rows, a.shape.cols, lead_of(a, b, what), Kind.MATRIX)


def _refuse_kept_axis(a: Node, b: Node, what: object) -> None:
    """UnsupportedError when one operand is the other's shape with one axis removed (``X /
    sqrt(mean(X .^ 2, -1))``): NumPy broadcasts such a reduction back only when it keeps the
    axis (``keepdims=True``), which the language writes ``expand(r, axis, n)``."""
    (big, small) = (a, b) if len(a.shape.dims) > len(b.shape.dims) else (b, a)
    dims = big.shape.dims
    if len(dims) != len(small.shape.dims) + 1 or big.kind is not Kind.TENSOR:
        return
    axes = [axis for axis in range(len(dims))
            if all(same(x, y) for x, y in zip(dims[:axis] + dims[axis + 1:], small.shape.dims,
                                              strict=True))]
    if len(axes) == 1:
        axis, short = axes[0], len(str(small)) <= 40
        raise UnsupportedError(
            f"{what}: {_text(small)} is {small.shape}, {_text(big)} with its axis {axis} "
            f"removed; NumPy broadcasts a reduction back only with keepdims=True, which is not "
            f"supported: write expand({small if short else 'r'}, {axis}, {dims[axis]}) to "
            f"repeat it along that axis" + ("" if short else f" (r = {_text(small)})"))


def matmul(a: Node, b: Node, what: object) -> tuple[Shape, Kind]:
    """``a @ b`` with a tensor operand: NumPy's matmul, a product of the last two axes
    batched over the leading ones (broadcast)."""
    for operand in (a, b):
        if operand.kind in (Kind.VECTOR, Kind.ROW, Kind.SCALAR):
            raise UnsupportedError(f"{what}: a product of a tensor with a "
                                   f"{operand.kind.value} is not supported; write it with a "
                                   f"matrix (ones(d, 1) for a sum along the last axis) or use "
                                   f"sum(X, axis)")
    if not same(a.shape.cols, b.shape.rows):
        raise ShapeError(f"{what}: {_text(a)} is {a.shape} but {_text(b)} has {b.shape.rows} "
                         f"rows (the product runs over the last axis of the left and the "
                         f"second last of the right)")
    return tensor_result(a.shape.rows, b.shape.cols, lead_of(a, b, what), Kind.MATRIX)


def normal_axis(axis: int, ndim: int, what: str) -> int:
    """An axis 0..ndim-1, or -1 for the last, as the non-negative index."""
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{what}: the axis is one of 0..{ndim - 1} (or -1 for the last), "
                         f"not {axis}")
    return axis % ndim


def axis_removed(a: Node, axis: int) -> tuple[Shape, Kind]:
    """The shape of a reduction of the tensor ``a`` along ``axis`` (the axis removed)."""
    dims = list(a.shape.dims)
    del dims[axis]
    return tensor_result(dims[-2], dims[-1], tuple(dims[:-2]), Kind.MATRIX)


def _along(name: str, args: tuple[Node, ...], params: tuple) -> tuple[Node, int]:
    """The tensor and its axis (0..ndim-1) of ``name(X, axis)``."""
    (a,) = args
    if a.kind is not Kind.TENSOR:
        raise ShapeError(f"{name}({_text(a)}, {params[0]}) along an axis of a tensor, but it is "
                         f"{a.shape}")
    return a, normal_axis(params[0], len(a.shape.dims), f"{name}({_text(a)}, axis)")


def reduced_along(name: str) -> Callable[[tuple[Node, ...], tuple], tuple[Shape, Kind]]:
    """The shape rule of ``name(X, axis)`` of a tensor X: the axis removed (NumPy's
    ``np.sum(X, axis=a)``, ``np.max``, ``logsumexp``)."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        return axis_removed(*_along(name, args, params))

    return rule


def kept_along(name: str) -> Callable[[tuple[Node, ...], tuple], tuple[Shape, Kind]]:
    """The shape rule of ``name(X, axis)`` of a tensor X that keeps its shape (softmax)."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        a, _ = _along(name, args, params)
        return a.shape, a.kind

    return rule


axis_sum_shape = reduced_along("sum")


def expand_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """``expand(G, axis, n)``: G repeated n times along a new axis ``axis`` (the adjoint of a
    sum along that axis); the result has at least three axes."""
    (a,) = args
    axis, n = params
    if a.kind is not Kind.MATRIX and a.kind is not Kind.TENSOR:
        raise ShapeError(f"expand({_text(a)}, {axis}, {n}) repeats a matrix or a tensor, "
                         f"but it is {a.shape}")
    dims = list(a.shape.dims)
    if not 0 <= axis <= len(dims):
        raise ShapeError(f"expand({_text(a)}, {axis}, {n}): the new axis is one of "
                         f"0..{len(dims)}")
    dims.insert(axis, n)
    if len(dims) > 4:
        raise UnsupportedError("a tensor of more than four axes is not supported")
    return tensor_result(dims[-2], dims[-1], tuple(dims[:-2]), Kind.MATRIX)

"""Shape rules of the operations: ``rule(args, params) -> (shape, kind)``, raising ``ShapeError``
with the operands quoted when they misfit.

Each operation of :mod:`matcalc.ops` names its rule as its ``shape`` facet; the builders here
serve the rules that several operations share (a square matrix to a scalar, the same shape, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ShapeError, UnsupportedError
from . import tensor_shapes
from .shapes import ONE, SCALAR_SHAPE, Dim, Kind, Shape, kind_of_shape
from .unify import same

if TYPE_CHECKING:
    from .expression import Expression as Node  # what it reads of core/ir.py's Node

ShapeRule = Callable[[tuple["Node", ...], tuple], tuple[Shape, Kind]]


def _describe(node: Node) -> str:
    text = str(node)
    return text if len(text) <= 40 else text[:37] + "..."


_OPERATIONS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", ":": "frob"}


def _operation(symbol: str, a: Node, b: Node) -> str:
    """``a symbol b`` as text, quoted with the brackets that keep its meaning."""
    from .printer import operation_text

    text = operation_text(_OPERATIONS[symbol], a, b)
    return text if len(text) <= 90 else text[:87] + "..."


class _Later:
    """``a symbol b`` as text, written only when an error message prints it (a tensor's shape
    rule is asked at every node built, its messages seldom)."""

    def __init__(self, symbol: str, a: Node, b: Node):
        self.parts = symbol, a, b

    def __str__(self) -> str:
        return _operation(*self.parts)


def _mismatch(symbol: str, a: Node, b: Node, detail: str) -> ShapeError:
    """The error of ``a symbol b``, quoted with the brackets that keep its meaning."""
    return ShapeError(f"{_operation(symbol, a, b)}: {detail}")


def elementwise_shape(symbol: str) -> Callable:
    """Shape rule of an entrywise binary operation: equal shapes, or a scalar broadcast."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        a, b = args
        if a.is_scalar:
            return b.shape, b.kind
        if b.is_scalar:
            return a.shape, a.kind
        if Kind.TENSOR in (a.kind, b.kind):
            return tensor_shapes.elementwise(a, b, _Later(symbol, a, b))
        if not (same(a.shape.rows, b.shape.rows) and same(a.shape.cols, b.shape.cols)):
            raise _mismatch(
                symbol, a, b,
                f"{_describe(a)} is {a.shape} but {_describe(b)} is {b.shape}",
            )
        kind = a.kind if a.kind is b.kind else Kind.MATRIX
        return a.shape, kind

    return rule


def pairwise_shape(name: str) -> Callable:
    """Shape rule of an entrywise function of two arguments (a scalar one is broadcast)."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        a, b = args
        if a.is_scalar:
            return b.shape, b.kind
        if not b.is_scalar and Kind.TENSOR in (a.kind, b.kind):
            return tensor_shapes.elementwise(a, b, f"{name}({_describe(a)}, {_describe(b)})")
        if b.is_scalar or same(a.shape.rows, b.shape.rows) and same(a.shape.cols, b.shape.cols):
            return a.shape, a.kind if a.kind is b.kind or b.is_scalar else Kind.MATRIX
        raise ShapeError(f"{name}({_describe(a)}, {_describe(b)}): {_describe(a)} is "
                         f"{a.shape} but {_describe(b)} is {b.shape}")

    return rule


def matmul_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    a, b = args
    if Kind.TENSOR in (a.kind, b.kind):
        return tensor_shapes.matmul(a, b, _Later("@", a, b))
    if not same(a.shape.cols, b.shape.rows):
        raise _mismatch(
            "@", a, b,
            f"{_describe(a)} is {a.shape} but {_describe(b)} has {b.shape.rows} rows",
        )
    shape = Shape(a.shape.rows, b.shape.cols)
    if b.kind is Kind.VECTOR or (a.kind is Kind.VECTOR and b.is_scalar):
        kind = Kind.VECTOR
    elif a.kind is Kind.ROW or (a.is_scalar and b.kind is Kind.ROW):
        kind = Kind.ROW
    else:
        kind = Kind.MATRIX
    return shape, kind_of_shape(shape, kind)


def frob_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    a, b = args
    if not (same(a.shape.rows, b.shape.rows) and same(a.shape.cols, b.shape.cols)):
        raise _mismatch(":", a, b, f"{_describe(a)} is {a.shape} but {_describe(b)} is {b.shape}")
    return SCALAR_SHAPE, Kind.SCALAR


def same_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    return args[0].shape, args[0].kind


def transpose_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    flipped = {Kind.VECTOR: Kind.ROW, Kind.ROW: Kind.VECTOR}.get(a.kind, a.kind)
    return a.shape.T, flipped


def scalar_result(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    return SCALAR_SHAPE, Kind.SCALAR


def _require_square(op: str, a: Node) -> None:
    if not same(a.shape.rows, a.shape.cols):
        raise ShapeError(f"{op}({_describe(a)}): needs a square matrix, but it is {a.shape}")


def square_to_scalar(op: str) -> Callable:
    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        _require_square(op, args[0])
        return SCALAR_SHAPE, Kind.SCALAR

    return rule


def square_to_same(op: str) -> Callable:
    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        _require_square(op, args[0])
        return args[0].shape, args[0].kind

    return rule


def matrix_power_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    if a.kind is not Kind.MATRIX:
        raise ShapeError(f"{_describe(a)} ^ {params[0]}: a matrix power needs a square matrix")
    _require_square("^", a)
    return a.shape, a.kind


def pow_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    base, exponent = args
    if not exponent.is_scalar:
        raise ShapeError(
            f"{_describe(base)} .^ {_describe(exponent)}: the exponent must be a scalar, "
            f"but it is {exponent.shape}"
        )
    return base.shape, base.kind


def symbolic_power_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """``A ^ k`` for a square A and an integer-valued scalar expression k."""
    base, exponent = args
    if base.kind is not Kind.MATRIX or not base.shape.is_square or not exponent.is_scalar:
        raise ShapeError(f"{_describe(base)} ^ {_describe(exponent)} is the power of a square "
                         f"matrix by an integer, but {_describe(base)} is {base.shape}")
    return base.shape, base.kind


def trace_of_power_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """``tr(A ^ k)``: a scalar, of a power that must itself be well-formed."""
    symbolic_power_shape(args, params)
    return SCALAR_SHAPE, Kind.SCALAR


def logsumexp_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    if a.kind in (Kind.SCALAR, Kind.VECTOR, Kind.ROW):
        return SCALAR_SHAPE, Kind.SCALAR
    if a.kind is Kind.TENSOR:  # along the last axis, removed
        return tensor_shapes.axis_removed(a, len(a.shape.dims) - 1)
    shape = Shape(a.shape.rows, ONE)
    return shape, kind_of_shape(shape, Kind.VECTOR)


def norm2_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    if a.kind is Kind.MATRIX:
        raise ShapeError(
            f"norm2({_describe(a)}): norm2 is the Euclidean norm of a vector, but the argument "
            f"is a {a.shape} matrix; use norm(...) for the Frobenius norm"
        )
    return SCALAR_SHAPE, Kind.SCALAR


def diag_matrix_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    if a.kind is Kind.SCALAR:
        return SCALAR_SHAPE, Kind.SCALAR
    if a.kind is Kind.MATRIX:
        raise ShapeError(
            f"Diag({_describe(a)}): Diag builds a diagonal matrix from a vector, but the argument "
            f"is a {a.shape} matrix; diag(A) takes a matrix's diagonal"
        )
    n = a.shape.rows if a.kind is Kind.VECTOR else a.shape.cols
    return Shape(n, n), Kind.MATRIX


def diag_of_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    _require_square("diag", a)
    return Shape(a.shape.rows, ONE), kind_of_shape(Shape(a.shape.rows, ONE), Kind.VECTOR)


def vec_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    shape = Shape(a.shape.rows * a.shape.cols, ONE)
    return shape, kind_of_shape(shape, Kind.VECTOR)


def unvec_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    rows, cols = params
    if a.kind not in (Kind.VECTOR, Kind.SCALAR) or not same(a.shape.rows, rows * cols):
        raise ShapeError(f"unvec({_describe(a)}, {rows}, {cols}): needs a vector of "
                         f"{rows * cols} entries, but the argument is {a.shape}")
    shape = Shape(rows, cols)
    return shape, kind_of_shape(shape, Kind.VECTOR if cols is ONE else Kind.MATRIX)


def kron_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    a, b = args
    shape = Shape(a.shape.rows * b.shape.rows, a.shape.cols * b.shape.cols)
    if a.kind in (Kind.SCALAR, b.kind):
        kind = b.kind
    elif b.is_scalar:
        kind = a.kind
    else:
        kind = Kind.MATRIX
    return shape, kind_of_shape(shape, kind)


def concatenation_shape(side_by_side: bool) -> Callable:
    """Shape rule of ``hcat(A, B)`` (equal rows, columns added) or ``vcat(A, B)`` (equal
    columns, rows added): two rows side by side are a row, two columns stacked a column."""
    name = "hcat" if side_by_side else "vcat"

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        a, b = args
        along, across = ("rows", "cols") if side_by_side else ("cols", "rows")
        if not same(getattr(a.shape, along), getattr(b.shape, along)):
            raise ShapeError(f"{name}({a}, {b}) needs equal {along}: {_describe(a)} is "
                             f"{a.shape} but {_describe(b)} is {b.shape}")
        if side_by_side:
            shape = Shape(a.shape.rows, a.shape.cols + b.shape.cols)
            kind = Kind.ROW if shape.rows is ONE else Kind.MATRIX
        else:
            shape = Shape(a.shape.rows + b.shape.rows, a.shape.cols)
            kind = Kind.VECTOR if shape.cols is ONE else Kind.MATRIX
        return shape, kind

    return rule


def convolution_shape(full: bool) -> Callable:
    """Shape rule of ``conv1d(x, w)`` (n - k + 1 rows) and ``convolve(g, w)`` (m + k - 1): a
    vector pairs with every column of the other operand, two matrices pair column by column."""
    name = "convolve" if full else "conv1d"

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        a, b = args
        if any(arg.kind not in (Kind.VECTOR, Kind.MATRIX) for arg in args):
            raise ShapeError(f"{name}({a}, {b}) takes vectors, or matrices with a signal in each "
                             f"column: {_describe(a)} is {a.shape}, {_describe(b)} is {b.shape}")
        if a.kind is Kind.MATRIX and b.kind is Kind.MATRIX and \
                not same(a.shape.cols, b.shape.cols):
            raise ShapeError(f"{name}({a}, {b}) pairs the columns of two matrices, so they need "
                             f"as many: {a.shape} and {b.shape}")
        rows = a.shape.rows + b.shape.rows - ONE if full else a.shape.rows - b.shape.rows + ONE
        if rows.is_number and rows.coefficient < 1:
            raise ShapeError(f"{name}({a}, {b}): the kernel is longer than the signal")
        cols = a.shape.cols if a.kind is Kind.MATRIX else b.shape.cols
        return Shape(rows, cols), Kind.VECTOR if cols is ONE else Kind.MATRIX

    return rule




def matrix_function_shape(op: str, result: str = "same") -> Callable:
    """Shape rule of a function of square matrices (``chol``, ``expm``, ``expm_frechet(A, E)``):
    the argument's shape, or with ``result="vector"`` the vector of its size (``eigvalsh``).
    Two arguments are square matrices of one size; a scalar counts as a 1 x 1 matrix."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        for arg in args:
            if arg.kind not in (Kind.MATRIX, Kind.SCALAR):
                raise ShapeError(f"{op}({', '.join(_describe(a) for a in args)}) needs square "
                                 f"matrices, but {_describe(arg)} is a {arg.kind.value}")
            _require_square(op, arg)
        if len(args) == 2 and not same(args[0].shape.rows, args[1].shape.rows):
            raise ShapeError(f"{op}({_describe(args[0])}, {_describe(args[1])}) needs two "
                             f"matrices of one size: {args[0].shape} and {args[1].shape}")
        a = args[0]
        if result == "vector" and not a.is_scalar:
            return Shape(a.shape.rows, ONE), Kind.VECTOR
        return a.shape, a.kind

    return rule


def gap_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """``eiggap(l)``: the n x n matrix of the inverse gaps of an n-vector (a scalar's is 0)."""
    (a,) = args
    if a.is_scalar:
        return SCALAR_SHAPE, Kind.SCALAR
    if a.kind is not Kind.VECTOR:
        raise ShapeError(f"eiggap({_describe(a)}) needs a vector (of eigenvalues), but it is "
                         f"{a.shape}")
    shape = Shape(a.shape.rows, a.shape.rows)
    return shape, kind_of_shape(shape, Kind.MATRIX)


def smaller_side(op: str, a: Node) -> Dim:
    """min(rows, cols) of a matrix whose shape says which side is the smaller: a square one,
    sizes given as numbers, or sides whose difference is a sum of terms with non-negative
    coefficients (``matrix(n + k, n)``: n is the smaller whatever the sizes).  The language has
    no dimension min(m, n), so any other shape is refused by name."""
    rows, cols = a.shape.rows, a.shape.cols
    if rows.is_number and cols.is_number:
        return rows if rows.value({}) <= cols.value({}) else cols
    for larger, smaller in ((rows, cols), (cols, rows)):
        if all(coefficient >= 0 for _, coefficient in (larger - smaller).terms):
            return smaller
    raise UnsupportedError(
        f"{op}({_describe(a)}) of a {rows} x {cols} matrix: the shapes do not say which of {rows} "
        f"and {cols} is the smaller, and the result has min({rows}, {cols}) rows; declare the "
        f"sides so that they do (a square matrix, sizes as numbers, or matrix(n + k, n) for a "
        f"tall one and matrix(m, m + k) for a wide one)")


def singular_shape(op: str, result: str) -> Callable:
    """A function of a matrix's SVD ``X = U Diag(s) V'`` (thin, s descending): a ``scalar``
    (``norm_spec``, ``norm_nuc``), the ``same`` shape (``polar``), the vector of its ``rows``
    (``svd_u1``) or ``cols`` (``svd_v1``), the singular ``values`` s (``svdvals``, length
    min(rows, cols): see :func:`smaller_side`), or the factor ``U`` (rows x min) or ``V``
    (cols x min).  A number is a 1 x 1 matrix; a vector is refused (its norm is ``norm2``)."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        (a,) = args
        if a.kind not in (Kind.MATRIX, Kind.SCALAR):
            raise ShapeError(f"{op}({_describe(a)}) needs a matrix, but it is a "
                             f"{a.kind.value} (a vector's norm is norm2)")
        if result == "scalar" or a.is_scalar:
            return SCALAR_SHAPE, Kind.SCALAR
        if result == "same":
            return a.shape, a.kind
        if result in ("U", "V"):
            shape = Shape(a.shape.rows if result == "U" else a.shape.cols, smaller_side(op, a))
            return shape, kind_of_shape(shape, Kind.MATRIX)
        side = smaller_side(op, a) if result == "values" else getattr(a.shape, result)
        shape = Shape(side, ONE)
        return shape, kind_of_shape(shape, Kind.VECTOR)

    return rule


def _labels_argument(op: str, y: Node) -> None:
    from .labels import is_labels

    if not is_labels(y):
        raise ShapeError(f"{op}(...): the labels argument must be a variable declared "
                         f"labels(N, k), not {_describe(y)}")


def onehot_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """onehot(y) of ``y : labels(N, k)`` is N x k."""
    from .labels import classes

    (y,) = args
    _labels_argument("onehot", y)
    if y.kind is Kind.MATRIX:  # labels(B, T, k): onehot(y) is B x T x k
        return Shape(y.shape.cols, classes(y), (y.shape.rows,)), Kind.TENSOR
    return Shape(y.shape.rows, classes(y)), Kind.MATRIX


def pick_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """pick(P, y) of an N x k matrix and ``y : labels(N, k)`` is the vector of P[i, y[i]]."""
    from .labels import classes

    p, y = args
    _labels_argument("pick", y)
    if y.kind is Kind.MATRIX:  # labels(B, T, k): P is B x T x k, pick(P, y) B x T
        if p.shape != Shape(y.shape.cols, classes(y), (y.shape.rows,)):
            raise ShapeError(f"pick(P, y): P must be a {y.shape.rows} x {y.shape.cols} x "
                             f"{classes(y)} tensor, but it is {_describe(p)}")
        return y.shape, Kind.MATRIX
    if p.kind is not Kind.MATRIX or not same(p.shape.rows, y.shape.rows) \
            or not same(p.shape.cols, classes(y)):
        raise ShapeError(f"pick(P, y): P must be a {y.shape.rows} x {classes(y)} matrix (a row "
                         f"per label, a column per class), but it is {_describe(p)}")
    return Shape(y.shape.rows, ONE), Kind.VECTOR

"""The expression IR: interned, immutable nodes that carry their shape and kind.

A node is ``(op, args, params)`` with ``args`` child nodes and ``params`` hashable constants (a
name, a number, a dimension).  Nodes are hash-consed: building the same expression twice returns
the same object, so equality is identity and hashing is O(1).  The intern table holds nodes
weakly, so it does not grow forever.

Constructors are shallow: they check shapes (strictly, see :mod:`matcalc.shapes`), compute the
result's shape and kind, and rewrite nothing.  The shape rules, one per operation, live in
``SHAPE_RULES`` below; every other concern (evaluation, printing, SymPy, derivatives) keeps its own
table keyed by the same operation names.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from ..errors import ShapeError
from .functions import ELEMENTWISE_FUNCTIONS
from .shapes import ONE, SCALAR_SHAPE, Dim, Kind, Shape, kind_of_shape
from .unify import same

_INTERNED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class Node:
    """An immutable, interned expression node; build nodes with the functions of this module."""

    __slots__ = ("op", "args", "params", "shape", "kind", "_hash", "__weakref__")

    op: str
    args: tuple[Node, ...]
    params: tuple
    shape: Shape
    kind: Kind

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Node is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other

    def __reduce__(self):
        return (make, (self.op, self.args, self.params, self.shape, self.kind))

    @property
    def is_scalar(self) -> bool:
        return self.kind is Kind.SCALAR

    @property
    def name(self) -> str:
        """The name of a variable or definition reference."""
        if self.op not in ("var", "ref"):
            raise AttributeError(f"a {self.op} node has no name")
        return self.params[0]

    def __str__(self) -> str:
        from .printer import to_text

        return to_text(self)

    def __repr__(self) -> str:
        return f"<{self.kind.value} {self.shape}: {self}>"


def make(op: str, args: tuple[Node, ...], params: tuple, shape: Shape, kind: Kind) -> Node:
    """The unique node with these fields (created on first use)."""
    key = (op, args, params, shape, kind)
    found = _INTERNED.get(key)
    if found is not None:
        return found
    node = object.__new__(Node)
    for field, value in zip(Node.__slots__[:5], key, strict=True):
        object.__setattr__(node, field, value)
    object.__setattr__(node, "_hash", hash(key))
    _INTERNED[key] = node
    return node


def walk(root: Node):
    """Every node under ``root`` once, children before parents (iterative, no recursion)."""
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded:
            seen.add(id(node))
            yield node
            continue
        stack.append((node, True))
        for child in reversed(node.args):
            if id(child) not in seen:
                stack.append((child, False))


def replaced(root: Node, replace: Callable[[Node], Node | None]) -> Node:
    """``root`` rebuilt with every node for which ``replace`` gives a node replaced by it
    (the replacement is not searched further); shape-checked like any construction."""
    done: dict[Node, Node] = {}
    for node in walk(root):
        replacement = replace(node)
        if replacement is not None:
            done[node] = replacement
        elif not node.args:
            done[node] = node
        else:
            args = tuple(done[arg] for arg in node.args)
            done[node] = node if all(a is b for a, b in zip(args, node.args, strict=True)) \
                else apply(node.op, *args, params=node.params)
    return done[root]


_SIZES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def size(node: Node) -> int:
    """The number of nodes of the expression tree (shared subtrees counted each time); nodes
    are immutable, so sizes are remembered as long as the nodes live."""
    known = _SIZES.get(node)
    if known is not None:
        return known
    for item in walk(node):
        if item not in _SIZES:
            _SIZES[item] = 1 + sum(_SIZES[arg] for arg in item.args)
    return _SIZES[node]


# ---------------------------------------------------------------------------------------------
# Shape rules: op -> function(args, params) -> (shape, kind); raise ShapeError when they misfit.


def _describe(node: Node) -> str:
    text = str(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _shape_text(node: Node) -> str:
    return "a scalar" if node.is_scalar else str(node.shape)


_OPERATIONS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", ":": "frob"}


def _mismatch(symbol: str, a: Node, b: Node, detail: str) -> ShapeError:
    """The error of ``a symbol b``, quoted with the brackets that keep its meaning."""
    from .printer import operation_text

    text = operation_text(_OPERATIONS[symbol], a, b)
    return ShapeError(f"{text if len(text) <= 90 else text[:87] + '...'}: {detail}")


def _elementwise_shape(symbol: str) -> Callable:
    """Shape rule of an entrywise binary operation: equal shapes, or a scalar broadcast."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        a, b = args
        if a.is_scalar:
            return b.shape, b.kind
        if b.is_scalar:
            return a.shape, a.kind
        if not (same(a.shape.rows, b.shape.rows) and same(a.shape.cols, b.shape.cols)):
            raise _mismatch(
                symbol, a, b,
                f"{_describe(a)} is {a.shape} but {_describe(b)} is {b.shape}",
            )
        kind = a.kind if a.kind is b.kind else Kind.MATRIX
        return a.shape, kind

    return rule


def _pairwise_shape(name: str) -> Callable:
    """Shape rule of an entrywise function of two arguments (a scalar one is broadcast)."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        a, b = args
        if a.is_scalar:
            return b.shape, b.kind
        if b.is_scalar or same(a.shape.rows, b.shape.rows) and same(a.shape.cols, b.shape.cols):
            return a.shape, a.kind if a.kind is b.kind or b.is_scalar else Kind.MATRIX
        raise ShapeError(f"{name}({_describe(a)}, {_describe(b)}): {_describe(a)} is "
                         f"{a.shape} but {_describe(b)} is {b.shape}")

    return rule


def _matmul_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    a, b = args
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


def _frob_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    a, b = args
    if not (same(a.shape.rows, b.shape.rows) and same(a.shape.cols, b.shape.cols)):
        raise _mismatch(":", a, b, f"{_describe(a)} is {a.shape} but {_describe(b)} is {b.shape}")
    return SCALAR_SHAPE, Kind.SCALAR


def _same_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    return args[0].shape, args[0].kind


def _transpose_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    flipped = {Kind.VECTOR: Kind.ROW, Kind.ROW: Kind.VECTOR}.get(a.kind, a.kind)
    return a.shape.T, flipped


def _scalar_result(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    return SCALAR_SHAPE, Kind.SCALAR


def _require_square(op: str, a: Node) -> None:
    if not same(a.shape.rows, a.shape.cols):
        raise ShapeError(f"{op}({_describe(a)}): needs a square matrix, but it is {a.shape}")


def _square_to_scalar(op: str) -> Callable:
    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        _require_square(op, args[0])
        return SCALAR_SHAPE, Kind.SCALAR

    return rule


def _square_to_same(op: str) -> Callable:
    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        _require_square(op, args[0])
        return args[0].shape, args[0].kind

    return rule


def _matrix_power_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    if a.kind is not Kind.MATRIX:
        raise ShapeError(f"{_describe(a)} ^ {params[0]}: a matrix power needs a square matrix")
    _require_square("^", a)
    return a.shape, a.kind


def _pow_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    base, exponent = args
    if not exponent.is_scalar:
        raise ShapeError(
            f"{_describe(base)} .^ {_describe(exponent)}: the exponent must be a scalar, "
            f"but it is {exponent.shape}"
        )
    return base.shape, base.kind


def _symbolic_power_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """``A ^ k`` for a square A and an integer-valued scalar expression k."""
    base, exponent = args
    if base.kind is not Kind.MATRIX or not base.shape.is_square or not exponent.is_scalar:
        raise ShapeError(f"{_describe(base)} ^ {_describe(exponent)} is the power of a square "
                         f"matrix by an integer, but {_describe(base)} is {base.shape}")
    return base.shape, base.kind


def _trace_of_power_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """``tr(A ^ k)``: a scalar, of a power that must itself be well-formed."""
    _symbolic_power_shape(args, params)
    return SCALAR_SHAPE, Kind.SCALAR


def _logsumexp_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    if a.kind in (Kind.SCALAR, Kind.VECTOR, Kind.ROW):
        return SCALAR_SHAPE, Kind.SCALAR
    shape = Shape(a.shape.rows, ONE)
    return shape, kind_of_shape(shape, Kind.VECTOR)


def _norm2_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    if a.kind is Kind.MATRIX:
        raise ShapeError(
            f"norm2({_describe(a)}): norm2 is the Euclidean norm of a vector, but the argument "
            f"is a {a.shape} matrix; use norm(...) for the Frobenius norm"
        )
    return SCALAR_SHAPE, Kind.SCALAR


def _diag_matrix_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
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


def _diag_of_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    _require_square("diag", a)
    return Shape(a.shape.rows, ONE), kind_of_shape(Shape(a.shape.rows, ONE), Kind.VECTOR)


def _vec_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    shape = Shape(a.shape.rows * a.shape.cols, ONE)
    return shape, kind_of_shape(shape, Kind.VECTOR)


def _unvec_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    (a,) = args
    rows, cols = params
    if a.kind not in (Kind.VECTOR, Kind.SCALAR) or not same(a.shape.rows, rows * cols):
        raise ShapeError(f"unvec({_describe(a)}, {rows}, {cols}): needs a vector of "
                         f"{rows * cols} entries, but the argument is {a.shape}")
    shape = Shape(rows, cols)
    return shape, kind_of_shape(shape, Kind.VECTOR if cols is ONE else Kind.MATRIX)


def _kron_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    a, b = args
    shape = Shape(a.shape.rows * b.shape.rows, a.shape.cols * b.shape.cols)
    if a.kind in (Kind.SCALAR, b.kind):
        kind = b.kind
    elif b.is_scalar:
        kind = a.kind
    else:
        kind = Kind.MATRIX
    return shape, kind_of_shape(shape, kind)



def _concatenation_shape(side_by_side: bool) -> Callable:
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


def _convolution_shape(full: bool) -> Callable:
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


def _matrix_function_shape(op: str, result: str = "same") -> Callable:
    """Shape rule of a function of a square matrix (``chol``, ``expm``, ...): ``same`` shape,
    a ``vector`` of its size (``eigvalsh``); with two arguments (``expm_frechet(A, E)``) both
    square matrices of one shape.  A scalar is refused: ``expm(a)`` is ``exp(a)``."""

    def rule(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
        for arg in args:
            if arg.kind is not Kind.MATRIX:
                raise ShapeError(f"{op}({', '.join(_describe(a) for a in args)}) needs square "
                                 f"matrices, but {_describe(arg)} is a {arg.kind.value}")
            _require_square(op, arg)
        if len(args) == 2 and not same(args[0].shape.rows, args[1].shape.rows):
            raise ShapeError(f"{op}({_describe(args[0])}, {_describe(args[1])}) needs two "
                             f"matrices of one size: {args[0].shape} and {args[1].shape}")
        a = args[0]
        if result == "vector":
            return Shape(a.shape.rows, ONE), Kind.VECTOR
        return a.shape, a.kind

    return rule


def _gap_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """``eiggap(l)``: the n x n matrix of a vector's inverse gaps."""
    (a,) = args
    if a.kind is not Kind.VECTOR:
        raise ShapeError(f"eiggap({_describe(a)}) needs a vector (of eigenvalues)")
    shape = Shape(a.shape.rows, a.shape.rows)
    return shape, kind_of_shape(shape, Kind.MATRIX)


SHAPE_RULES: dict[str, Callable[[tuple[Node, ...], tuple], tuple[Shape, Kind]]] = {
    "add": _elementwise_shape("+"),
    "sub": _elementwise_shape("-"),
    "mul": _elementwise_shape("*"),
    "div": _elementwise_shape("/"),
    "matmul": _matmul_shape,
    "frob": _frob_shape,
    "neg": _same_shape,
    "transpose": _transpose_shape,
    "pow": _pow_shape,
    "mpowk": _symbolic_power_shape,
    "trpowk": _trace_of_power_shape,
    "mpow": _matrix_power_shape,
    **{name: _same_shape for name in ELEMENTWISE_FUNCTIONS},
    "softmax": _same_shape,
    "logsumexp": _logsumexp_shape,
    "sum": _scalar_result,
    "mean": _scalar_result,
    "tr": _square_to_scalar("tr"),
    "det": _square_to_scalar("det"),
    "logdet": _square_to_scalar("logdet"),
    "inv": _square_to_same("inv"),
    "norm2": _norm2_shape,
    "norm": _scalar_result,
    "Diag": _diag_matrix_shape,
    "diag": _diag_of_shape,
    "vec": _vec_shape,
    "unvec": _unvec_shape,
    "kron": _kron_shape,
    "hcat": _concatenation_shape(True),
    "conv1d": _convolution_shape(False),
    "convolve": _convolution_shape(True),
    "vcat": _concatenation_shape(False),
    "maximum": _pairwise_shape("maximum"),
    "minimum": _pairwise_shape("minimum"),
    **{op: _matrix_function_shape(op) for op in (
        "chol", "Phi", "eigvecsh", "expm", "logm", "sqrtm", "expm_frechet", "logm_frechet",
        "sylvester")},
    "eigvalsh": _matrix_function_shape("eigvalsh", "vector"),
    "eiggap": _gap_shape,
}

def apply(op: str, *args: Node, params: tuple = ()) -> Node:
    """The node ``op(args)``, shape-checked; raises ShapeError when the operands misfit."""
    shape, kind = SHAPE_RULES[op](args, params)
    return make(op, args, params, shape, kind)


# ---------------------------------------------------------------------------------------------
# Leaves.


def var(name: str, shape: Shape, kind: Kind, attributes: frozenset[str] = frozenset()) -> Node:
    """A declared variable."""
    return make("var", (), (name, attributes), shape, kind_of_shape(shape, kind))


def ref(name: str, definition: Node) -> Node:
    """A reference, by name, to a definition with the given body."""
    return make("ref", (), (name,), definition.shape, definition.kind)


def const(value: float) -> Node:
    """A number."""
    value = float(value)
    return make("const", (), (value,), SCALAR_SHAPE, Kind.SCALAR)


def dimval(d: Dim) -> Node:
    """The size of a dimension, used as a number (``sum(x) / n``)."""
    return make("dimval", (), (d,), SCALAR_SHAPE, Kind.SCALAR)


def identity(n: Dim) -> Node:
    """The n x n identity matrix."""
    shape = Shape(n, n)
    return make("identity", (), (n,), shape, kind_of_shape(shape, Kind.MATRIX))


def ones(rows: Dim, cols: Dim, kind: Kind) -> Node:
    """A matrix (or vector) of ones."""
    shape = Shape(rows, cols)
    return make("ones", (), (rows, cols), shape, kind_of_shape(shape, kind))


def zeros(rows: Dim, cols: Dim, kind: Kind) -> Node:
    """A matrix (or vector) of zeros."""
    shape = Shape(rows, cols)
    return make("zeros", (), (rows, cols), shape, kind_of_shape(shape, kind))


def commutation(m: Dim, n: Dim) -> Node:
    """The commutation matrix K with K @ vec(A) = vec(A') for A of size m x n."""
    shape = Shape(m * n, m * n)
    return make("commutation", (), (m, n), shape, kind_of_shape(shape, Kind.MATRIX))


LEAVES = ("var", "ref", "const", "dimval", "identity", "ones", "zeros", "commutation")


def matpow(base: Node, k: int) -> Node:
    """``base ^ k`` for a square matrix and an integer k >= 2."""
    return apply("mpow", base, params=(k,))

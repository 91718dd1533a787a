"""IR -> SymPy matrix expressions: the one place where matcalc meets SymPy (with the scalar
functions of :mod:`matcalc.core.sympy_functions`).

SymPy lacks some operations of the language; they are defined here as SymPy classes: the
elementwise application of a scalar function to a matrix (:class:`Elementwise`), the column and
row-wise softmax, logsumexp, the sum of all entries, the Frobenius norm, ``vec`` and the
commutation matrix.  Each knows its entries, so ``expr.subs(...).doit()`` on concrete matrices
gives explicit values.  An operation SymPy cannot build raises UnsupportedError naming it.

A scalar of the language becomes a scalar SymPy expression (a 1 x 1 product is taken at [0, 0]);
dimensions become positive integer symbols.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions import (
    DiagMatrix,
    DiagonalOf,
    HadamardPower,
    HadamardProduct,
    Identity,
    KroneckerProduct,
    MatPow,
    MatrixExpr,
    MatrixSymbol,
    OneMatrix,
    ZeroMatrix,
)
from sympy.matrices.expressions.determinant import Determinant
from sympy.matrices.expressions.inverse import Inverse
from sympy.matrices.expressions.trace import Trace

from ..errors import MatcalcError, UnsupportedError
from . import registry
from .constants import sympy_number
from .indices import _commutation_columns
from .ir import Node, refuse_tensor, walk
from .shapes import Dim
from .sympy_functions import SCALAR_FUNCTIONS, relu, sigmoid, step  # noqa: F401 - their home

if TYPE_CHECKING:
    from .expression import Defined as Program  # what it reads of core/program.py's Program

# ---------------------------------------------------------------------------------------------
# Matrix-valued operations SymPy lacks.


def _is_explicit(arg) -> bool:
    return isinstance(arg, sp.MatrixBase)


class _Concrete:
    """``doit`` gives an explicit matrix once every matrix argument is explicit."""

    def doit(self, **hints):
        args = [a.doit(**hints) if isinstance(a, sp.Basic) else a for a in self.args]
        new = self.func(*args)
        matrices = [a for a in args if isinstance(a, (MatrixExpr, sp.MatrixBase))]
        if all(_is_explicit(a) for a in matrices):
            return new._explicit()
        return new

    def _explicit(self):
        rows, cols = (int(d) for d in self.shape)
        return sp.ImmutableMatrix(rows, cols, lambda i, j: self._entry(i, j))


class Elementwise(_Concrete, MatrixExpr):
    """``f(X)`` applied to every entry of X."""

    def __new__(cls, name, x):
        return super().__new__(cls, Str(str(name)), x)

    @property
    def function(self):
        return SCALAR_FUNCTIONS[self.args[0].name]

    @property
    def shape(self):
        return self.args[1].shape

    def _entry(self, i, j, **kwargs):
        return self.function(self.args[1][i, j])

    def _sympystr(self, printer):
        return f"{self.args[0].name}({printer._print(self.args[1])})"


class Softmax(_Concrete, MatrixExpr):
    """softmax of a column vector: exp(x) / sum(exp(x))."""

    @property
    def shape(self):
        return self.args[0].shape

    def _entry(self, i, j, **kwargs):
        x = self.args[0]
        return sp.exp(x[i, 0]) / sp.Add(*(sp.exp(x[k, 0]) for k in range(int(x.shape[0]))))


class RowSoftmax(_Concrete, MatrixExpr):
    """softmax of each row of a matrix."""

    @property
    def shape(self):
        return self.args[0].shape

    def _entry(self, i, j, **kwargs):
        x = self.args[0]
        return sp.exp(x[i, j]) / sp.Add(*(sp.exp(x[i, k]) for k in range(int(x.shape[1]))))


class RowLogSumExp(_Concrete, MatrixExpr):
    """The column of log(sum(exp(row))) over the rows of a matrix."""

    @property
    def shape(self):
        return (self.args[0].shape[0], sp.Integer(1))

    def _entry(self, i, j, **kwargs):
        x = self.args[0]
        return sp.log(sp.Add(*(sp.exp(x[i, k]) for k in range(int(x.shape[1])))))


class Vec(_Concrete, MatrixExpr):
    """vec(X): the columns of X stacked into one column."""

    @property
    def shape(self):
        rows, cols = self.args[0].shape
        return (rows * cols, sp.Integer(1))

    def _entry(self, i, j, **kwargs):
        rows = int(self.args[0].shape[0])
        return self.args[0][int(i) % rows, int(i) // rows]


class Unvec(_Concrete, MatrixExpr):
    """unvec(v, m, n): the m x n matrix whose columns, stacked, are v."""

    @property
    def shape(self):
        return (self.args[1], self.args[2])

    def _entry(self, i, j, **kwargs):
        return self.args[0][int(j) * int(self.args[1]) + int(i), 0]


class Commutation(_Concrete, MatrixExpr):
    """The commutation matrix K(m, n): K @ vec(A) = vec(A') for A m x n, its entries from the
    one definition generated code and the interpreter build it from (core/indices.py)."""

    @property
    def shape(self):
        m, n = self.args
        return (m * n, m * n)

    def doit(self, **hints):
        if all(d.is_Integer for d in self.args):
            return self._explicit()
        return self

    def _entry(self, i, j, **kwargs):
        m, n = (int(d) for d in self.args)
        return sp.Integer(1) if int(j) == _commutation_columns(m, n)[int(i)] else sp.Integer(0)


class _ScalarOfMatrix(sp.Expr):
    """A scalar computed from the entries of a matrix argument: a number, so it commutes (an
    ``Expr`` over a matrix symbol would otherwise count as non-commutative, and SymPy refuses a
    non-commutative factor in a matrix product)."""

    is_commutative = True

    def doit(self, **hints):
        arg = self.args[0].doit(**hints)
        if isinstance(arg, MatrixExpr) and not arg.atoms(MatrixSymbol, DiagonalOf) and \
                all(isinstance(d, (int, sp.Integer)) for d in arg.shape):
            # a product of explicit matrices, a block matrix (SymPy 1.14's DiagonalOf cannot
            # spell itself out on an explicit matrix: it stays as it is)
            arg = arg.as_explicit()
        if _is_explicit(arg):
            return self._value(arg)
        return self.func(arg)

    def _sympystr(self, printer):
        return f"{self._name}({printer._print(self.args[0])})"


class EntrySum(_ScalarOfMatrix):
    """The sum of all entries of a matrix."""

    _name = "sum"

    def _value(self, x):
        return sp.Add(*x)


class LogSumExp(_ScalarOfMatrix):
    """log(sum(exp(x))) of a vector."""

    _name = "logsumexp"

    def _value(self, x):
        return sp.log(sp.Add(*(sp.exp(v) for v in x)))


class FrobeniusNorm(_ScalarOfMatrix):
    """sqrt(sum of squared entries); the Euclidean norm of a vector."""

    _name = "norm"

    def _value(self, x):
        return sp.sqrt(sp.Add(*(v**2 for v in x)))


# ---------------------------------------------------------------------------------------------
# Conversion.


def dim_to_sympy(d: Dim) -> sp.Expr:
    """A dimension as a SymPy integer polynomial in positive integer symbols."""
    return sp.Add(*(sp.Mul(sp.Integer(coefficient),
                           *(sp.Symbol(s, integer=True, positive=True) for s in symbols))
                    for symbols, coefficient in d.terms))


def _leaf(node: Node):
    op = node.op
    refuse_tensor(node, "SymPy's matrix expressions have no tensors")  # nor their operations
    if op in ("var", "ref"):
        if node.is_scalar:
            return sp.Symbol(node.params[0], real=True)
        return MatrixSymbol(node.params[0], *map(dim_to_sympy, (node.shape.rows, node.shape.cols)))
    if op == "const":  # 2, Rational(1, 2), 1 / sqrt(2 * pi), Float(0.1)
        return sympy_number(node.params[0], sp)
    if op == "dimval":
        return dim_to_sympy(node.params[0])
    rows, cols = dim_to_sympy(node.shape.rows), dim_to_sympy(node.shape.cols)
    if op == "identity":
        return Identity(rows)
    if op == "ones":
        return OneMatrix(rows, cols)
    if op == "zeros":
        return ZeroMatrix(rows, cols)
    if op == "commutation":
        return Commutation(*(dim_to_sympy(d) for d in node.params))
    raise AssertionError(f"no SymPy leaf for {op}")  # pragma: no cover


def broadcast(node: Node, value, other: Node):
    """A scalar value as a matrix of other's shape (SymPy does not broadcast)."""
    if node.is_scalar and not other.is_scalar:
        return value * OneMatrix(dim_to_sympy(other.shape.rows), dim_to_sympy(other.shape.cols))
    return value


def hadamard(node: Node, a, b):
    x, y = node.args
    if x.is_scalar or y.is_scalar:
        return a * b
    return HadamardProduct(a, b)


def divide(node: Node, a, b):
    x, y = node.args
    if y.is_scalar:
        return a / b
    return hadamard(node, a, HadamardPower(b, -1))


def matrix_product(node: Node, a, b):
    x, y = node.args
    product = a * b if (x.is_scalar or y.is_scalar) else a @ b
    return _scalar(node, product)


def _scalar(node: Node, value):
    """A 1 x 1 matrix expression for a scalar node becomes its single entry."""
    if node.is_scalar and isinstance(value, MatrixExpr):
        return value[0, 0]
    return value


def of_matrix(scalar_case, matrix_case):
    def convert(node: Node, a):
        return scalar_case(a) if node.args[0].is_scalar else matrix_case(a)

    return convert


def elementwise(name: str):
    def convert(node: Node, a):
        if node.is_scalar:
            return SCALAR_FUNCTIONS[name](a)
        return Elementwise(name, a)

    return convert


def softmax_form(node: Node, a):
    if node.is_scalar:
        return sp.Integer(1)
    return Softmax(a) if node.kind.value == "vector" else RowSoftmax(a)


def logsumexp_form(node: Node, a):
    if node.args[0].is_scalar:
        return a
    return LogSumExp(a) if node.is_scalar else RowLogSumExp(a)


def mean_form(node: Node, a):
    if node.args[0].is_scalar:
        return a
    shape = node.args[0].shape
    return EntrySum(a) / (dim_to_sympy(shape.rows) * dim_to_sympy(shape.cols))


def extremum(function, node: Node, a, b):
    """max / min of two scalars; entry by entry SymPy has no matrix form for it."""
    if not node.is_scalar:
        raise UnsupportedError(f"{node.op} of matrices has no SymPy form (SymPy's Max and Min "
                               "take scalars)")
    return function(a, b)


def no_form(node: Node):
    raise UnsupportedError(f"{node.op} has no SymPy matrix-expression form")


def concatenation(node: Node, a, b):
    """hcat / vcat as a SymPy BlockMatrix (a scalar block as a 1 x 1 matrix)."""
    blocks = [sp.Matrix([[x]]) if arg.is_scalar else x for x, arg in zip((a, b), node.args,
                                                                         strict=True)]
    return sp.BlockMatrix([blocks] if node.op == "hcat" else [[blocks[0]], [blocks[1]]])


same = lambda a: a  # noqa: E731



# what the operations' SymPy facets (matcalc/ops) build with, reached as attributes of this
# module (``s.Trace``): SymPy's classes, and the helpers above
VOCABULARY = (DiagMatrix, DiagonalOf, Determinant, HadamardPower, Inverse, KroneckerProduct,
              MatPow, Trace)


def converters() -> dict[str, object]:
    """Each operation's SymPy form, ``f(node, *args)``: its registry facet, called with this
    module, which holds the SymPy classes and helpers the facets build with."""
    if not _FROM_REGISTRY:
        module = sys.modules[__name__]
        _FROM_REGISTRY.update({name: functools.partial(rule, module)
                               for name, rule in registry.view("sympy").items()})
    return _FROM_REGISTRY


_FROM_REGISTRY: dict[str, object] = {}


def to_sympy(root: Node, inlined: dict[str, object] | None = None):
    """The SymPy expression of a node.

    References to definitions stay symbols named after them, except those that ``inlined`` maps
    to SymPy expressions.
    """
    inlined = inlined or {}
    table = converters()
    converted: dict[Node, object] = {}
    for node in walk(root):
        if node.op == "ref" and node.params[0] in inlined:
            converted[node] = inlined[node.params[0]]
        elif node.op in table:
            converted[node] = _converted(table[node.op], node,
                                         [converted[a] for a in node.args])
        else:
            converted[node] = _leaf(node)
    return converted[root]


def _converted(rule, node: Node, args: list):
    """One operation's SymPy form; where SymPy itself refuses to build it (a combination its
    matrix expressions do not support), an UnsupportedError naming the operation."""
    try:
        return rule(node, *args)
    except MatcalcError:
        raise
    except (NotImplementedError, TypeError, ValueError, AttributeError) as error:
        raise UnsupportedError(f"{node.op} in {_short(node)} has no SymPy form that SymPy "
                               f"accepts here ({type(error).__name__}: {error})") from None


def _short(node: Node, limit: int = 80) -> str:
    text = str(node)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def program_to_sympy(program: Program, inline: bool = False) -> dict[str, object]:
    """Each definition of the program as a SymPy expression, by name (inlined on request)."""
    result: dict[str, object] = {}
    for name, definition in program.definitions.items():
        result[name] = to_sympy(definition.body, result if inline else None)
    return result


def result_to_sympy(result: Node, where: dict[str, Node]) -> object:
    """A derived result as SymPy, its where-definitions inlined in order (the problem's own
    definitions stay symbols)."""
    inlined: dict[str, object] = {}
    for name, body in where.items():
        inlined[name] = to_sympy(body, inlined)
    return to_sympy(result, inlined)

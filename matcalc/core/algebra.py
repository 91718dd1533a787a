"""Constructors for the derivation rules: the IR's constructors plus the obvious local folds.

A missing (zero) term is ``None``: ``add(None, b)`` is ``b`` and ``mul(None, b)`` is ``None``, so
the rules never build ``0 * ...``.  Besides that, only identities that hold for every shape are
folded: ``1 * a = a``, ``-(-a) = a``, ``(a')' = a``, ``I @ a = a``, a scalar's transpose is itself,
constant arithmetic.  Everything else is the simplifier's job.
"""

from __future__ import annotations

from . import ir
from .ir import Node
from .shapes import ONE, Dim, Kind

Term = Node | None


def _is_const(node: Node, value: float | None = None) -> bool:
    return node.op == "const" and (value is None or node.params[0] == value)


def const(value: float) -> Node:
    return ir.const(value)


def add(a: Term, b: Term) -> Term:
    """a + b."""
    if a is None:
        return b
    if b is None:
        return a
    if _is_const(a) and _is_const(b):
        return ir.const(a.params[0] + b.params[0])
    if b.op == "neg":
        return ir.apply("sub", a, b.args[0])
    return ir.apply("add", a, b)


def sub(a: Term, b: Term) -> Term:
    """a - b."""
    if b is None:
        return a
    if a is None:
        return neg(b)
    if _is_const(a) and _is_const(b):
        return ir.const(a.params[0] - b.params[0])
    return ir.apply("sub", a, b)


def neg(a: Term) -> Term:
    """-a."""
    if a is None:
        return None
    if a.op == "neg":
        return a.args[0]
    if _is_const(a):
        return ir.const(-a.params[0], infinite=True)  # -(-inf) of a where branch
    return ir.apply("neg", a)


def mul(a: Term, b: Term) -> Term:
    """a * b (scalar or elementwise)."""
    if a is None or b is None:
        return None
    if _is_const(a) and _is_const(b):
        return ir.const(a.params[0] * b.params[0])
    if _is_const(a, 1.0):
        return b
    if _is_const(b, 1.0):
        return a
    if _is_const(a, -1.0):
        return neg(b)
    if _is_const(b, -1.0):
        return neg(a)
    return ir.apply("mul", a, b)


def div(a: Term, b: Node) -> Term:
    """a / b."""
    if a is None:
        return None
    if _is_const(b, 1.0):
        return a
    return ir.apply("div", a, b)


def matmul(a: Term, b: Term) -> Term:
    """a @ b."""
    if a is None or b is None:
        return None
    if a.op == "identity":
        return b
    if b.op == "identity":
        return a
    if (a.is_scalar and b.shape.rows is ONE) or (b.is_scalar and a.shape.cols is ONE):
        return mul(a, b)  # a 1 x 1 factor is a scalar factor
    return ir.apply("matmul", a, b)


def transpose(a: Term) -> Term:
    """a'."""
    if a is None:
        return None
    if a.is_scalar or a.op in ("identity",) or (a.op == "Diag"):
        return a
    if a.op == "transpose":
        return a.args[0]
    return ir.apply("transpose", a)


def frob(a: Term, b: Term) -> Term:
    """a : b."""
    if a is None or b is None:
        return None
    if a.is_scalar and b.is_scalar:
        return mul(a, b)
    return ir.apply("frob", a, b)


def call(name: str, *args: Node, params: tuple = ()) -> Node:
    """name(args): any function of the language."""
    return ir.apply(name, *args, params=params)


def kron(a: Node, b: Node) -> Node:
    """kron(a, b), a factor that is the number 1 or a 1 x 1 identity dropped."""
    for unit, other in ((a, b), (b, a)):
        if (unit.op == "identity" and unit.shape.rows is ONE) or _is_const(unit, 1.0):
            return other
    return ir.apply("kron", a, b)


def identity(n: Dim) -> Node:
    return ir.identity(n)


def ones_like(node: Node) -> Node:
    """A node of ones with the shape and kind of ``node``."""
    rows, cols = node.shape.rows, node.shape.cols
    if node.kind is Kind.SCALAR:
        return ir.const(1.0)
    if node.kind is Kind.VECTOR:
        return ir.ones(rows, ONE, Kind.VECTOR)
    if node.kind is Kind.ROW:
        return ir.apply("transpose", ir.ones(cols, ONE, Kind.VECTOR))
    return ir.ones(rows, cols, node.kind, node.shape.lead)


def ones_vector(n: Dim) -> Node:
    """The column of n ones (a scalar 1 when n is 1)."""
    return ir.ones(n, ONE, Kind.VECTOR) if n is not ONE else ir.const(1.0)


def size(node: Node) -> Dim:
    """The number of entries of a node, as a dimension."""
    total = node.shape.rows * node.shape.cols
    for axis in node.shape.lead:
        total = total * axis
    return total


def vec(a: Term) -> Term:
    """vec(a); the vec of a vector or scalar is itself, of a row its transpose."""
    if a is None:
        return None
    if a.kind in (Kind.SCALAR, Kind.VECTOR):
        return a
    if a.kind is Kind.ROW:
        return transpose(a)
    return ir.apply("vec", a)


def like(value: Term, target: Node) -> Term:
    """``value`` with the kind of ``target`` when their shapes agree (a matrix(n, 1) cotangent of
    a vector becomes a vector, and so on)."""
    if value is None:
        return value
    if len(value.shape.lead) > len(target.shape.lead):
        value = batch_sum(value, target)
    if value.kind is target.kind:
        return value
    if target.kind is Kind.VECTOR:
        return vec(value)
    if target.kind is Kind.ROW:
        return transpose(vec(transpose(value)))
    if target.kind is Kind.MATRIX and value.kind in (Kind.VECTOR, Kind.ROW):
        return ir.apply("unvec", vec(value), params=(target.shape.rows, target.shape.cols))
    return value


def sum_all(a: Term) -> Term:
    """sum(a), the sum of all entries (a itself for a scalar)."""
    if a is None:
        return None
    return a if a.is_scalar else ir.apply("sum", a)


def unbroadcast(g: Term, arg: Node) -> Term:
    """The cotangent of an operand that was broadcast: a scalar operand collects sum(G), an
    operand with fewer leading axes than G their sums (a weight shared across a batch)."""
    if g is None:
        return None
    if arg.is_scalar and not g.is_scalar:
        return sum_all(g)
    return like(g, arg)


def batch_sum(g: Node, target: Node) -> Node:
    """``g`` summed over its leading axes that ``target`` lacks: ``sum(G, 0)`` for a matrix
    shared across the batch of a tensor G (NumPy broadcasting aligns the last axes)."""
    while len(g.shape.lead) > len(target.shape.lead):
        g = ir.apply("axis_sum", g, params=(0,))
    return g


def matrix_power(a: Node, k: int) -> Node:
    """A^k for a square matrix and k >= 0: I, A, or a matrix power."""
    return identity(a.shape.rows) if k == 0 else a if k == 1 else ir.matpow(a, k)


def zeros_like(node: Node) -> Node:
    """The zero of node's shape: 0, or a zero vector or matrix."""
    if node.is_scalar:
        return ir.const(0.0)
    return ir.zeros(node.shape.rows, node.shape.cols, node.kind, node.shape.lead)


def chain(node: Node) -> list[Node]:
    """The factors of a matrix product, left to right, however it is bracketed."""
    if node.op == "matmul":
        return chain(node.args[0]) + chain(node.args[1])
    return [node]

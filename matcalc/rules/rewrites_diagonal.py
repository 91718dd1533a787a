"""Rewrites of diagonal matrices: Diag(v) times a vector, Diag of ones, of a number, sums and
products of Diag (diagonal matrices add and multiply entry by entry)."""

from __future__ import annotations

from collections.abc import Callable

from ..core import ir
from ..core.ir import Node
from ..core.shapes import ONE, Kind
from .facts import Facts
from .rewrite import apply, rule, same_shape


@rule('diag-times-vector', ops=('matmul',), example='a, b : vector(n)\nf = Diag(a) @ b')
def diag_times_vector(node: Node, facts: Facts) -> Node | None:
    """Diag(a) @ b = a * b; b' @ Diag(a) = (b * a)'."""
    a, b = node.args
    if a.op == "Diag" and a.args[0].kind is Kind.VECTOR and b.kind is Kind.VECTOR:
        return apply("mul", a.args[0], b)
    if b.op == "Diag" and b.args[0].kind is Kind.VECTOR and a.op == "transpose" and \
            a.args[0].kind is Kind.VECTOR:
        return apply("transpose", apply("mul", a.args[0], b.args[0]))
    return None


@rule('diag-of-ones', ops=('Diag', 'matmul'), example='B : matrix(n, m)\nf = Diag(ones(n)) @ B')
def diag_of_ones(node: Node, facts: Facts) -> Node | None:
    """Diag(1) = I; Diag(1) @ B = B, B @ Diag(1) = B; Diag(-a) @ B = -(Diag(a) @ B)"""
    if node.op == "Diag":
        inner = node.args[0]
        return ir.identity(node.shape.rows) if inner.op == "ones" and \
            inner.kind is Kind.VECTOR else None
    a, b = node.args
    if a.op == "Diag" and a.args[0].op == "ones":
        return b
    if b.op == "Diag" and b.args[0].op == "ones":
        return a
    if a.op == "Diag" and a.args[0].op == "neg":
        return apply("neg", apply("matmul", apply("Diag", a.args[0].args[0]), b))
    return None


@rule('diagonal-of-diag', ops=('diag',),
      example='x : vector(n)\nf = diag(Diag(x)) + diag(I(n))')
def diagonal_of_diag(node: Node, facts: Facts) -> Node | None:
    """diag(Diag(x)) = x; diag(I(n)) = ones(n)."""
    inner = node.args[0]
    if inner.op == "identity":
        return ir.ones(inner.shape.rows, ONE, Kind.VECTOR)
    return inner.args[0] if inner.op == "Diag" and inner.args[0].kind is Kind.VECTOR else None


@rule('diag-of-scalar', ops=('Diag',), example='s : scalar\nf = Diag(s)')
def diag_of_scalar(node: Node, facts: Facts) -> Node | None:
    """Diag(s) = s for a scalar s."""
    return node.args[0] if node.args[0].is_scalar else None


@rule('diag-sum', ops=('add', 'sub'), example='a, b : vector(n)\nf = Diag(a) - Diag(b)')
def diag_sum(node: Node, facts: Facts) -> Node | None:
    """Diag(a) + Diag(b) = Diag(a + b); Diag(a) - Diag(b) = Diag(a - b) (a, b vectors); a
    scalar multiple or quotient of a Diag is the Diag of one: Diag(a) - Diag(b) / s =
    Diag(a - b / s)."""
    a, b = _diagonal(node.args[0]), _diagonal(node.args[1])
    if a is not None and b is not None and a.kind is Kind.VECTOR and same_shape(a, b):
        return apply("Diag", apply(node.op, a, b))
    return None


def _diagonal(term: Node) -> Node | None:
    """v for Diag(v); s * v for s * Diag(v); v / s for Diag(v) / s (s a scalar)."""
    if term.op == "Diag":
        return term.args[0]
    if term.op == "mul" and term.args[0].is_scalar and term.args[1].op == "Diag":
        return apply("mul", term.args[0], term.args[1].args[0])
    if term.op == "div" and term.args[1].is_scalar and term.args[0].op == "Diag":
        return apply("div", term.args[0].args[0], term.args[1])
    return None


@rule('diag-product', ops=('matmul',),
      example='a, b : vector(n); C : matrix(m, n)\nf = C @ inv(Diag(a)) @ Diag(b)')
def diag_product(node: Node, facts: Facts) -> Node | None:
    """Diag(a) @ Diag(b) = Diag(a * b), Diag(a) @ inv(Diag(b)) = Diag(a / b), inv(Diag(a)) @
    Diag(b) = Diag(b / a), inv(Diag(a)) @ inv(Diag(b)) = inv(Diag(a * b)) (diagonal matrices
    multiply entry by entry; Diag(a) ^ k is Diag(a .^ k)); the same where they meet inside a
    chain of products: (C @ Diag(a)) @ ((Diag(b) @ D) @ E) = C @ ((Diag(a * b) @ D) @ E)."""
    last, before = _end_factor(node.args[0], 1)
    first, after = _end_factor(node.args[1], 0)
    joined = _diagonal_product(last, first)
    if joined is None:
        return None
    if before is None:
        return joined if after is None else after(joined)
    return before(joined) if after is None else apply("matmul", before(None), after(joined))


def _end_factor(node: Node, side: int) -> tuple[Node, Callable[[Node | None], Node] | None]:
    """The first (``side`` 0) or last (1) factor of a chain of matrix products, and how to
    build the chain again with another in its place, or without it (None); None: the chain is
    that factor."""
    if node.op != "matmul" or node.args[0].is_scalar or node.args[1].is_scalar:
        return node, None
    factor, rebuild = _end_factor(node.args[side], side)
    other = node.args[1 - side]

    def rebuilt(new: Node | None) -> Node:
        inner = new if rebuild is None else rebuild(new)
        if inner is None:
            return other
        return apply("matmul", *((inner, other) if side == 0 else (other, inner)))

    return factor, rebuilt


def _diagonal_product(a: Node, b: Node) -> Node | None:
    """The one diagonal matrix a @ b is, when each is Diag(v) or inv(Diag(v)) (v vectors)."""
    first, second = _diagonal_factor(a), _diagonal_factor(b)
    if first is None or second is None or not same_shape(first[0], second[0]):
        return None
    (x, x_inverted), (y, y_inverted) = first, second
    if x_inverted and y_inverted:
        return apply("inv", apply("Diag", apply("mul", x, y)))
    if x_inverted or y_inverted:
        above, below = (y, x) if x_inverted else (x, y)
        return apply("Diag", apply("div", above, below))
    return apply("Diag", apply("mul", x, y))


def _diagonal_factor(node: Node) -> tuple[Node, bool] | None:
    """(v, False) for Diag(v), (v, True) for inv(Diag(v)), v a vector; Diag(v) ^ k is
    Diag(v .^ k)."""
    inverted = node.op == "inv"
    inner = node.args[0] if inverted else node
    if inner.op == "mpow" and inner.args[0].op == "Diag":
        vector = inner.args[0].args[0]
        if vector.kind is Kind.VECTOR:
            return apply("pow", vector, ir.const(float(inner.params[0]))), inverted
    if inner.op == "Diag" and inner.args[0].kind is Kind.VECTOR:
        return inner.args[0], inverted
    return None

"""Rewrites of Kronecker products: the mixed product, a Kronecker product times a vec, Hadamard
products of Kronecker products, and a Kronecker product with a scalar (Magnus & Neudecker 2019,
ch. 2)."""

from __future__ import annotations

from ..core import ir
from ..core.algebra import chain, vec
from ..core.ir import Node
from ..core.shapes import ONE
from .facts import Facts
from .rewrite import apply, rule, same_shape, transposed


@rule(
    'kron-mixed-product',
    ops=('matmul',),
    example=('A : matrix(m, n); B : matrix(p, q); C : matrix(n, r); D : matrix(q, s)\n'
             'f = kron(A, B) @ kron(C, D)'),
)
def kron_mixed_product(node: Node, facts: Facts) -> Node | None:
    """kron(A, B) @ kron(C, D) = kron(A @ C, B @ D) (Magnus & Neudecker 2019, ch. 2)"""
    left, right = node.args
    if left.op != "kron" or right.op != "kron":
        return None
    a, b = left.args
    c, d = right.args
    if any(x.is_scalar for x in (a, b, c, d)) or a.shape.cols != c.shape.rows or \
            b.shape.cols != d.shape.rows:
        return None
    return apply("kron", apply("matmul", a, c), apply("matmul", b, d))


def _vec_operand(node: Node) -> tuple[Node, Node | None] | None:
    """``node`` as vec(X), or as c * vec(X) with c a scalar: (X, c or None)."""
    if node.op == "vec":
        return node.args[0], None
    if node.op == "mul":
        a, b = node.args
        if a.is_scalar and b.op == "vec":
            return b.args[0], a
        if b.is_scalar and a.op == "vec":
            return a.args[0], b
    return None


@rule(
    'kron-times-vec',
    ops=('matmul',),
    example='P : matrix(p, q); Q : matrix(r, s); X : matrix(s, q)\nf = kron(P, Q) @ vec(X)',
)
def kron_times_vec(node: Node, facts: Facts) -> Node | None:
    """kron(P, Q) @ vec(X) = vec(Q @ X @ P'), as vec(A X B) = kron(B', A) vec(X) (Magnus &
    Neudecker 2019, ch. 2); a scalar c times the vec comes out: c vec(Q @ X @ P')."""
    left, right = node.args
    operand = _vec_operand(right) if left.op == "kron" else None
    if operand is None:
        return None
    x, scale = operand
    p, q = left.args
    if p.is_scalar or q.is_scalar or x.shape.rows != q.shape.cols or \
            x.shape.cols != p.shape.cols:
        return None
    product = vec(apply("matmul", apply("matmul", q, x), transposed(p)))
    return product if scale is None else apply("mul", scale, product)


def _as_kron(node: Node, like: Node) -> tuple[Node, Node] | None:
    """``node`` as kron(C, D) with C and D the shapes of ``like``'s factors: itself when it is
    one, and I(mn) = kron(I(m), I(n)) when ``like``'s factors are square."""
    a, b = like.args
    if node.op == "kron":
        c, d = node.args
        return (c, d) if same_shape(a, c) and same_shape(b, d) else None
    if node.op == "identity" and a.shape.is_square and b.shape.is_square and \
            not a.is_scalar and not b.is_scalar:
        return ir.identity(a.shape.rows), ir.identity(b.shape.rows)
    return None


@rule('kron-hadamard', ops=('mul',),
      example='A : matrix(k, k); B : matrix(n, n)\nf = I(k*n) * kron(A, B)')
def kron_hadamard(node: Node, facts: Facts) -> Node | None:
    """kron(A, B) * kron(C, D) = kron(A * C, B * D) for A, C of one shape and B, D of one shape;
    I * kron(A, B) = kron(I * A, I * B) for square A and B, as I(mn) = kron(I(m), I(n))."""
    a, b = node.args
    if b.op != "kron":
        a, b = b, a
    if b.op != "kron" or any(factor.is_scalar for factor in b.args):
        return None
    pair = _as_kron(a, b)
    if pair is None:
        return None
    return apply("kron", apply("mul", pair[0], b.args[0]), apply("mul", pair[1], b.args[1]))


@rule('identity-hadamard', ops=('mul',), example='A : matrix(n, n)\nf = I(n) * A')
def identity_hadamard(node: Node, facts: Facts) -> Node | None:
    """I * A = Diag(diag(A)) = A * I: the Hadamard product with I keeps the diagonal."""
    a, b = node.args
    if b.op == "identity":
        a, b = b, a
    if a.op != "identity" or not same_shape(a, b) or a.is_scalar or \
            b.op in ("identity", "ones", "Diag"):
        return None
    return apply("Diag", apply("diag", b))


@rule('kron-of-scalar', ops=('kron',), example='x : vector(n); B : matrix(m, m)\n'
                                             'f = kron(x\' @ x, B)')
def kron_of_scalar(node: Node, facts: Facts) -> Node | None:
    """kron(s, B) = s B = kron(B, s) for a scalar s."""
    a, b = node.args
    if a.is_scalar:
        return apply("mul", a, b)
    if b.is_scalar:
        return apply("mul", b, a)
    return None


def _commuted(left: Node, right: Node) -> Node | None:
    """kron(A, B) @ commutation(n, q) = kron(B, A) for A m x n, B p x q with m = 1 or p = 1;
    commutation(p, m) @ kron(A, B) = kron(B, A) with n = 1 or q = 1: K(p, m) (A x B) K(n, q)
    = B x A, and K(1, k) = K(k, 1) = I (Magnus & Neudecker 2019, ch. 3, thm. 9)."""
    if left.op == "kron" and right.op == "commutation":
        a, b = left.args
        fits = right.params == (a.shape.cols, b.shape.cols)
        one_row = ONE in (a.shape.rows, b.shape.rows)
        return apply("kron", b, a) if fits and one_row else None
    if left.op == "commutation" and right.op == "kron":
        a, b = right.args
        fits = left.params == (b.shape.rows, a.shape.rows)
        one_column = ONE in (a.shape.cols, b.shape.cols)
        return apply("kron", b, a) if fits and one_column else None
    return None


@rule(
    'kron-chain',
    ops=('matmul',),
    example=('a : vector(N); S : matrix(n, n)\n'
             'f = kron(a\', S) @ commutation(N, n) @ kron(I(n), a)'),
)
def kron_chain(node: Node, facts: Facts) -> Node | None:
    """Neighbours in a product A @ ... @ Z, however it is bracketed, that meet as one factor:
    kron(A, B) @ kron(C, D) = kron(A @ C, B @ D); kron(A, B) @ commutation = kron(B, A) where
    one factor is a row (see _commuted)."""
    factors = chain(node)
    for index in range(len(factors) - 4):
        met = _hadamard_of_selection(factors[index:index + 5])
        if met is not None:
            return _product(factors[:index] + [met] + factors[index + 5:])
    for index in range(len(factors) - 1):
        left, right = factors[index], factors[index + 1]
        met = _commuted(left, right)
        if met is None and left.op == "kron" and right.op == "kron":
            met = kron_mixed_product(apply("matmul", left, right), facts)
        if met is not None:
            return _product(factors[:index] + [met] + factors[index + 2:])
    return None


def _product(factors: list[Node]) -> Node:
    product = factors[0]
    for factor in factors[1:]:
        product = apply("matmul", product, factor)
    return product


def _selection(node: Node) -> Node | None:
    """N for the N^2 x N matrix Diag(vec(I(N))) @ kron(ones(N), I(N)), whose column j is
    e_j x e_j, given as its two factors' pair [Diag(vec(I(N))), kron(ones(N), I(N))]."""
    if node.op != "kron" or node.args[0].op != "ones" or node.args[1].op != "identity":
        return None
    ones, identity = node.args
    size = identity.params[0]
    return size if ones.shape.rows == size and ones.shape.cols == ONE else None


def _hadamard_of_selection(factors: list[Node]) -> Node | None:
    """S' @ kron(A, B) @ S = A * B for S = Diag(vec(I(N))) @ kron(ones(N), I(N)) and A, B
    N x N: S e_j = e_j x e_j picks the entries A_ij B_ij (Magnus & Neudecker 2019, ch. 3)."""
    left, d1, middle, d2, right = factors
    if left.op != "transpose" or middle.op != "kron" or left.args[0] is not right:
        return None
    size = _selection(right)
    diagonal = ir.apply("Diag", ir.apply("vec", ir.identity(size))) if size is not None else None
    if diagonal is None or d1 is not diagonal or d2 is not diagonal:
        return None
    a, b = middle.args
    if not all(x.shape.rows == size and x.shape.cols == size for x in (a, b)):
        return None
    return apply("mul", a, b)


@rule('vec-hadamard', ops=('mul', 'div'), example='A, B : matrix(m, n)\nf = vec(A) * vec(B)')
def vec_hadamard(node: Node, facts: Facts) -> Node | None:
    """vec(A) * vec(B) = vec(A * B), vec(A) / vec(B) = vec(A / B): vec lists entries, and
    these act entry by entry (A, B of one shape)."""
    a, b = node.args
    if a.op == "vec" and b.op == "vec" and same_shape(a.args[0], b.args[0]):
        return vec(apply(node.op, a.args[0], b.args[0]))
    return None


@rule('vec-of-constant', ops=('vec',), example='A : matrix(m, n)\nf = vec(ones(m, n)) + vec(A)')
def vec_of_constant(node: Node, facts: Facts) -> Node | None:
    """vec(ones(m, n)) = ones(m n), vec(zeros(m, n)) = zeros(m n)."""
    inner = node.args[0]
    if inner.op not in ("ones", "zeros"):
        return None
    make = ir.ones if inner.op == "ones" else ir.zeros
    return make(node.shape.rows, ONE, node.kind)


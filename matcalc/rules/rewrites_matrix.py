"""Rewrites of matrix structure: transposes, identities, Diag, Kronecker products, factors."""

from __future__ import annotations

from .. import limits
from ..core import ir
from ..core.broadcast import axis_mean
from ..core.ir import Node
from ..core.shapes import ONE, Kind
from .facts import Facts
from .rewrite import (
    apply,
    out_of_matmul,
    rule,
    same_shape,
    transposed,
)


@rule('identity-product', ops=('matmul',), example='A : matrix(n, n)\nf = I(n) @ A')
def identity_product(node: Node, facts: Facts) -> Node | None:
    """I @ A = A = A @ I."""
    a, b = node.args
    if a.op == "identity":
        return b
    if b.op == "identity":
        return a
    return None


@rule('transpose-of-transpose', ops=('transpose',), example="A : matrix(m, n)\nf = A''")
def transpose_of_transpose(node: Node, facts: Facts) -> Node | None:
    """(A')' = A; a scalar, I and Diag(x) are their own transposes; zeros(n, m)' = zeros(m, n),
    ones(n, m)' = ones(m, n), and of a tensor its last two axes swapped (ones(B, n, m)' =
    ones(B, m, n))."""
    inner = node.args[0]
    if inner.op == "transpose":
        return inner.args[0]
    if inner.is_scalar or inner.op in ("identity", "Diag"):
        return inner
    if inner.op in ("zeros", "ones") and inner.kind in (Kind.MATRIX, Kind.TENSOR):
        rows, cols, *lead = inner.params
        return (ir.zeros if inner.op == "zeros" else ir.ones)(cols, rows, inner.kind, tuple(lead))
    return None


@rule(
    'transpose-of-symmetric',
    ops=('transpose',),
    needs='symmetric',
    example="S : matrix(n, n) symmetric\nf = S'",
)
def transpose_of_symmetric(node: Node, facts: Facts) -> Node | None:
    """S' = S for a symmetric S."""
    inner = node.args[0]
    if (
        inner.kind is Kind.MATRIX
        and facts.symmetric(inner)
        and inner.op not in ("identity", "Diag")
    ):
        return inner
    return None


@rule(
    'transpose-of-product',
    ops=('transpose',),
    example="A : matrix(m, n); x : vector(n)\nf = (A @ x)'",
)
def transpose_of_product(node: Node, facts: Facts) -> Node | None:
    """(A @ B)' = B' @ A'; (c A)' = c A'; (A / s)' = A' / s; (-A)' = -A'; (A * B')' = A' * B
    and (A / B')' = A' / B for matrices of one shape (one transpose fewer)."""
    inner = node.args[0]
    if inner.op == "matmul":
        a, b = inner.args
        return apply("matmul", transposed(b), transposed(a))
    if inner.op in ("mul", "div") and not inner.is_scalar and \
            (inner.args[1].is_scalar or (inner.op == "mul" and inner.args[0].is_scalar)):
        # (c * A)' = c * A' and (A / s)' = A' / s: a scalar is its own transpose; a Hadamard
        # product of two matrices keeps its one transpose, (A * B)'
        return apply(inner.op, transposed(inner.args[0]), transposed(inner.args[1]))
    if inner.op in ("mul", "div") and inner.kind is Kind.MATRIX and \
            inner.args[0].shape == inner.args[1].shape and \
            any(arg.op == "transpose" for arg in inner.args):
        # a Hadamard product or quotient with a transposed factor takes the outer transpose
        # into its factors: (y / P')' = y' / P, which can then cancel against P
        return apply(inner.op, transposed(inner.args[0]), transposed(inner.args[1]))
    if inner.op == "neg":
        return apply("neg", transposed(inner.args[0]))
    return None


@rule('transpose-out-of-sum', ops=('add', 'sub'), example="x, y : vector(n)\nf = x' - y'")
def transpose_out_of_sum(node: Node, facts: Facts) -> Node | None:
    """A' + B' = (A + B)'; A' - B' = (A - B)'."""
    a, b = node.args
    if a.op == "transpose" and b.op == "transpose" and not a.is_scalar:
        return apply("transpose", apply(node.op, a.args[0], b.args[0]))
    return None


@rule(
    'scalar-out-of-product',
    ops=('matmul',),
    example='A : matrix(m, n); x : vector(n); c : scalar\nf = A @ (c * x)',
)
def scalar_out_of_product(node: Node, facts: Facts) -> Node | None:
    """A @ (c B) = c (A @ B) = (c A) @ B for a scalar c."""
    return out_of_matmul(node, "mul")


@rule(
    'quotient-out-of-product',
    ops=('matmul', 'Diag'),
    example='A : matrix(m, n); x : vector(n); s : scalar\nf = A @ (x / s)',
)
def quotient_out_of_product(node: Node, facts: Facts) -> Node | None:
    """(A / s) @ B = (A @ B) / s = A @ (B / s); Diag(a / s) = Diag(a) / s, s a scalar (except
    a mean spread over a row, (v / s) @ 1', which prints as the broadcast mean(X, 1), and the
    sums of a mean, 1' @ (sum(X, 0) / B), which print as mean(mean(X, 0), 0))."""
    if node.op == "Diag":
        inner = node.args[0]
        if inner.op == "div" and inner.args[1].is_scalar and not inner.is_scalar:
            return apply("div", apply("Diag", inner.args[0]), inner.args[1])
        return None
    a, b = node.args
    if (axis_mean(a) is not None and b.op == "transpose" and b.args[0].op == "ones") or (
            _ones(a) and axis_mean(b) is not None):
        return None
    return out_of_matmul(node, "div")


def _ones(node: Node) -> bool:
    """ones(n) or ones(n)'."""
    return node.op == "ones" or (node.op == "transpose" and node.args[0].op == "ones")


@rule('inner-product-with-ones', ops=('matmul', 'sum'),
      example='A : matrix(n, n)\nf = ones(n)\' @ diag(A)')
def inner_product_with_ones(node: Node, facts: Facts) -> Node | None:
    """1' @ v = sum(v) = v' @ 1 for a vector v; sum(diag(A)) = tr(A)."""
    if node.op == "sum":
        inner = node.args[0]
        return apply("tr", inner.args[0]) if inner.op == "diag" else None
    a, b = node.args
    if a.op != "transpose" or a.args[0].kind is not Kind.VECTOR or b.kind is not Kind.VECTOR:
        return None
    if a.args[0].op == "ones":
        return apply("sum", b)
    if b.op == "ones":
        return apply("sum", a.args[0])
    return None


@rule(
    'inner-product-with-quotient',
    ops=('matmul',),
    needs='positive',
    example="a, b : vector(n) positive\nf = a' @ (b / a)",
)
def inner_product_with_quotient(node: Node, facts: Facts) -> Node | None:
    """a' @ (b / a) = sum(b) where a > 0."""
    a, b = node.args
    if (
        a.op == "transpose"
        and b.op == "div"
        and b.args[1] is a.args[0]
        and a.args[0].kind is Kind.VECTOR
        and same_shape(b.args[0], a.args[0])  # a scalar b would sum to n * b, not b
        and facts.positive(a.args[0])
    ):
        return apply("sum", b.args[0])
    return None


@rule(
    'row-sums-of-simplex',
    ops=('matmul',),
    needs='simplex',
    example='Y : matrix(m, n) simplex\nf = Y @ ones(n)',
)
def row_sums_of_simplex(node: Node, facts: Facts) -> Node | None:
    """Y @ 1 = 1 when each row of Y is on the simplex; (a Y + b) @ 1 = (a + b k) 1 for such a
    k-column Y, an affine combination (label smoothing's (1 - e) Y + e / k: rows sum to 1)."""
    a, b = node.args
    if b.op != "ones" or b.kind is not Kind.VECTOR or a.kind is Kind.TENSOR:
        return None
    rows = a.shape.rows
    ones = ir.ones(rows, ONE, Kind.VECTOR) if rows is not ONE else ir.const(1.0)
    if facts.row_simplex(a):
        return ones
    total = facts.row_sums(a)
    if total is None:
        return None
    return total if ones.is_scalar else apply("mul", total, ones)


@rule(
    'common-factor',
    ops=('add', 'sub'),
    example='A, B : matrix(n, n); x : vector(n)\nf = A @ x + B @ x',
)
def common_factor(node: Node, facts: Facts) -> Node | None:
    """A @ B + A @ C = A @ (B + C); B @ A + C @ A = (B + C) @ A; c a + c b = c (a + b); a
    scalar multiple or quotient of a product shares its factors as well: B @ A - (C @ A) / s =
    (B - C / s) @ A."""
    a, b = node.args
    if a.op == "mul" and b.op == "mul" and a.args[0] is b.args[0] and \
            same_shape(a.args[1], b.args[1]):
        return apply("mul", a.args[0], apply(node.op, a.args[1], b.args[1]))
    first, second = _scaled_product(a), _scaled_product(b)
    if first is None or second is None:
        return None
    (p, scale_p), (q, scale_q) = first, second
    if p.args[0] is q.args[0]:
        return apply("matmul", p.args[0], apply(node.op, scale_p(p.args[1]), scale_q(q.args[1])))
    if p.args[1] is q.args[1]:
        return apply("matmul", apply(node.op, scale_p(p.args[0]), scale_q(q.args[0])), p.args[1])
    return None


@rule(
    'common-factor-across',
    ops=('add', 'sub'),
    example="A : matrix(m, n); x, y : vector(n); u : vector(m)\nf = u - A @ x + A @ y",
)
def common_factor_across(node: Node, facts: Facts) -> Node | None:
    """(u - A @ x) + A @ y = u + A @ (y - x): two terms of a longer sum sharing a factor meet
    (the sum regrouped: (a + b) - c = a + (b - c), (a - b) + c = a - (b - c), ..., then
    common-factor)."""
    inner, last = node.args
    if inner.op not in ("add", "sub"):
        return None
    first, second = inner.args
    # the second term of the inner sum with the last: a op1 (b op c), signs carried over
    together_op = node.op if inner.op == "add" else ("sub" if node.op == "add" else "add")
    met = common_factor(apply(together_op, second, last), facts)
    if met is not None:
        return apply(inner.op, first, met)
    # the first term with the last, the second left as it was: (a op c) op1 b
    met = common_factor(apply(node.op, first, last), facts)
    if met is not None:
        return apply(inner.op, met, second)
    return None


def _scaled_product(term: Node):
    """(P, scale) for a matrix product P, s * P or P / s with a scalar s; scale(Q) is Q, s * Q
    or Q / s; None for anything else."""
    if term.op == "matmul":
        return term, lambda other: other
    if term.op == "mul" and term.args[0].is_scalar and term.args[1].op == "matmul":
        return term.args[1], lambda other: apply("mul", term.args[0], other)
    if term.op == "div" and term.args[1].is_scalar and term.args[0].op == "matmul":
        return term.args[0], lambda other: apply("div", other, term.args[1])
    return None


@rule('inverse-of-inverse', ops=('inv',), example='X : matrix(n, n) invertible\nf = inv(inv(X))')
def inverse_of_inverse(node: Node, facts: Facts) -> Node | None:
    """inv(inv(A)) = A."""
    inner = node.args[0]
    return inner.args[0] if inner.op == "inv" else None


def _chain(node: Node) -> list[Node]:
    """The factors of a matrix product, left to right."""
    if node.op == "matmul" and not node.args[0].is_scalar and not node.args[1].is_scalar:
        return _chain(node.args[0]) + _chain(node.args[1])
    return [node]


@rule('inverse-of-product', ops=('inv',),
      example='X, Y : matrix(n, n) invertible\nf = inv(X @ inv(Y))')
def inverse_of_product(node: Node, facts: Facts) -> Node | None:
    """inv(A @ B) = inv(B) @ inv(A) for square A and B, taken apart where no more inverses are
    written than before: inv(A @ inv(B)) = B @ inv(A), inv(inv(A) @ B @ inv(C)) = C @ inv(B) @
    A."""
    factors = _chain(node.args[0])
    if len(factors) < 2 or any(f.kind is not Kind.MATRIX or not f.shape.is_square
                               for f in factors):
        return None
    inverses = sum(f.op == "inv" for f in factors)
    if len(factors) - inverses > inverses + 1:
        return None
    product = None
    for factor in reversed(factors):
        inverse = factor.args[0] if factor.op == "inv" else apply("inv", factor)
        product = inverse if product is None else apply("matmul", product, inverse)
    return product


def inverse_pair(a: Node, b: Node) -> bool:
    """Whether a @ b = I: inv(B) @ B, B @ inv(B), or the same transposed."""
    if a.op == "transpose" and b.op == "transpose":
        a, b = a.args[0], b.args[0]
    return (a.op == "inv" and a.args[0] is b) or (b.op == "inv" and b.args[0] is a)


@rule('inverse-cancels', ops=('matmul',),
      example='X : matrix(n, n) invertible; B : matrix(n, m)\nf = inv(X) @ (X @ B)')
def inverse_cancels(node: Node, facts: Facts) -> Node | None:
    """inv(A) @ A = I = A @ inv(A) (and transposed); inv(A) @ (A @ B) = B; anywhere in a
    chain of products: C @ (inv(A)' @ (A' @ B)) ... = C @ B."""
    a, b = node.args
    if a.is_scalar or b.is_scalar:
        return None
    if inverse_pair(a, b):
        return ir.identity(a.shape.rows)
    if b.op == "matmul" and not b.args[0].is_scalar and inverse_pair(a, b.args[0]):
        return b.args[1]
    if a.op == "matmul" and not a.args[1].is_scalar and inverse_pair(a.args[1], b):
        return a.args[0]
    factors = _chain(node)
    for index in range(len(factors) - 1):
        if inverse_pair(factors[index], factors[index + 1]):
            return _dropped(node, {index, index + 1}, [0])
    return None


def _dropped(node: Node, positions: set[int], seen: list[int]) -> Node | None:
    """The chain ``node`` without its factors at ``positions`` (counted from the left), its
    other brackets kept; None when nothing is left."""
    if node.op == "matmul" and not node.args[0].is_scalar and not node.args[1].is_scalar:
        left = _dropped(node.args[0], positions, seen)
        right = _dropped(node.args[1], positions, seen)
        if left is None or right is None:
            return right if left is None else left
        return node if left is node.args[0] and right is node.args[1] else \
            apply("matmul", left, right)
    seen[0] += 1
    return None if seen[0] - 1 in positions else node


def _power(node: Node) -> tuple[Node, int]:
    """``node`` as base ^ k: k = 1 for a plain factor, negative for an inverse (``inv(A ^ k)``
    is A ^ -k)."""
    if node.op == "inv":
        base, k = _power(node.args[0])
        return base, -k
    if node.op == "mpow":
        return node.args[0], node.params[0]
    return node, 1


def raised(base: Node, k: int) -> Node:
    """base ^ k for any integer k: I, base, a power, or the inverse of one."""
    if k < 0:
        return ir.apply("inv", raised(base, -k))
    if k == 0:
        return ir.identity(base.shape.rows)
    return base if k == 1 else ir.matpow(base, k)


def _powers_joined(a: Node, b: Node) -> Node | None:
    """a @ b as one power when both are powers of one square matrix (or both transposed)."""
    if a.is_scalar or b.is_scalar or not a.shape.is_square or a.kind is not Kind.MATRIX:
        return None
    if a.op == "transpose" and b.op == "transpose":
        joined = _powers_joined(b.args[0], a.args[0])  # A' @ B' = (B @ A)'
        return ir.apply("transpose", joined) if joined is not None else None
    (base, j), (other, k) = _power(a), _power(b)
    if base is not other or base.op in ("identity", "transpose") or \
            abs(j + k) > limits.MAX_MATRIX_POWER:
        return None
    return raised(base, j + k)


@rule('powers-join', ops=('matmul',), example='X : matrix(n, n); B : matrix(n, m)\n'
                                             'f = X @ (X @ B)')
def powers_join(node: Node, facts: Facts) -> Node | None:
    """A^j @ A^k = A^(j + k) for integers j, k of any sign (inv(A^k) is A^-k), and
    (A^j)' @ (A^k)' = (A^(j + k))' (inside a product too)."""
    a, b = node.args
    joined = _powers_joined(a, b)
    if joined is not None:
        return joined
    if b.op == "matmul":
        joined = _powers_joined(a, b.args[0])
        if joined is not None:
            return ir.apply("matmul", joined, b.args[1])
    if a.op == "matmul":
        joined = _powers_joined(a.args[1], b)
        if joined is not None:
            return ir.apply("matmul", a.args[0], joined)
    return None


@rule('identity-frobenius', ops=('frob',), example='A : matrix(n, n)\nf = I(n) : A')
def identity_frobenius(node: Node, facts: Facts) -> Node | None:
    """I : A = tr(A) = A : I."""
    a, b = node.args
    if a.op == "identity" and not b.is_scalar:
        return apply("tr", b)
    if b.op == "identity" and not a.is_scalar:
        return apply("tr", a)
    return None


@rule('concatenation-transpose', ops=('transpose',),
      example="A : matrix(n, k); B : matrix(n, m)\nf = hcat(A, B)'")
def concatenation_transpose(node: Node, facts: Facts) -> Node | None:
    """hcat(A, B)' = vcat(A', B'); vcat(A, B)' = hcat(A', B')."""
    inner = node.args[0]
    if inner.op not in ("hcat", "vcat"):
        return None
    other = "vcat" if inner.op == "hcat" else "hcat"
    return apply(other, *(transposed(arg) for arg in inner.args))


@rule('block-product', ops=('matmul',),
      example='A : matrix(n, k); B : matrix(n, m); C : matrix(k, p); D : matrix(m, p)\n'
              'f = hcat(A, B) @ vcat(C, D)')
def block_product(node: Node, facts: Facts) -> Node | None:
    """hcat(A, B) @ vcat(C, D) = A @ C + B @ D when A's columns are C's rows (the product of
    conformal blocks)."""
    a, b = node.args
    if b.op == "matmul" and b.args[0].op == "vcat":  # hcat(A, B) @ (vcat(C, D) @ E)
        inner = _blocks_multiplied(a, b.args[0])
        return apply("matmul", inner, b.args[1]) if inner is not None else None
    if a.op == "matmul" and a.args[1].op == "hcat":  # (E @ hcat(A, B)) @ vcat(C, D)
        inner = _blocks_multiplied(a.args[1], b)
        return apply("matmul", a.args[0], inner) if inner is not None else None
    return _blocks_multiplied(a, b)


def _blocks_multiplied(a: Node, b: Node) -> Node | None:
    if a.op != "hcat" or b.op != "vcat":
        return None
    (first, second), (top, bottom) = a.args, b.args
    if first.is_scalar or top.is_scalar or first.shape.cols is not top.shape.rows:
        return None
    return apply("add", apply("matmul", first, top), apply("matmul", second, bottom))

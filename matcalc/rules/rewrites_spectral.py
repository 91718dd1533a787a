"""Rewrites of functions of a matrix: a spectral decomposition read back as the function it
computes, Fréchet derivatives in a direction that commutes with their point, and the Cholesky
factor's backward pass (Murray's Phi) where its argument is triangular or symmetric.

Sources: N. J. Higham, *Functions of Matrices* (2008), def. 1.2 (a primary matrix function
acts on the eigenvalues), thm. 1.3 (it is a polynomial in its argument) and sec. 3.1 (its
Fréchet derivative in a commuting direction); I. Murray, *Differentiation of the Cholesky
decomposition* (2016), sec. 2 (Phi).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from ..core import algebra, ir
from ..core.algebra import chain
from ..core.functions import FUNCTIONS
from ..core.ir import Node
from ..core.registry import view
from ..core.shapes import ONE, Kind, Shape
from .facts import Facts
from .rewrite import apply, rule, transposed
from .rewrites_matrix import inverse_pair, raised


@cache
def _matrix_functions() -> dict[str, str]:
    """The primary matrix function of each elementwise function that has one: exp -> expm (the
    operations' ``spectral`` facet)."""
    return {function: name for name, function in view("spectral").items() if function}


def matrix_form(g: Node, is_values: Callable[[Node], bool], matrix: Node) -> Node | None:
    """G = g(matrix) as a matrix function, for g an elementwise expression of the eigenvalues
    (``is_values`` tells them) built of numbers, sums, products, quotients, whole and half
    powers and functions with a matrix counterpart (exp, log, sqrt); None when g
    is anything else.  V Diag(g(l)) V' = g(S) for l, V the eigenvalues and eigenvectors of S."""
    n = matrix.shape.rows

    def lifted(node: Node) -> Node:  # a number c in a sum of matrices: c I
        return apply("mul", node, ir.identity(n)) if node.is_scalar else node

    def form(node: Node) -> Node | None:
        if is_values(node):
            return matrix
        if node.is_scalar:
            return node
        if node.op == "ones" and node.kind is Kind.VECTOR:
            return ir.identity(n)
        parts = [form(arg) for arg in node.args] if node.op != "pow" else [form(node.args[0])]
        if not node.args or any(part is None for part in parts):
            return None
        op = node.op
        if op in ("add", "sub"):
            return apply(op, *(lifted(part) for part in parts))
        if op == "neg":
            return apply("neg", parts[0])
        if op == "mul":
            a, b = parts
            if a.is_scalar or b.is_scalar:  # the number first: c * expm(c * S)
                return apply("mul", *((a, b) if a.is_scalar else (b, a)))
            return apply("matmul", a, b)
        if op == "div":
            a, b = parts
            if b.is_scalar:
                return apply("div", a, b)
            inverse = apply("inv", b)
            if a.is_scalar:
                return inverse if a.op == "const" and a.params[0] == 1.0 else \
                    apply("mul", a, inverse)
            return apply("matmul", a, inverse)
        if op == "pow" and node.args[1].op == "const":
            return _power(parts[0], node.args[1].params[0])
        if op in _matrix_functions() and not parts[0].is_scalar:
            return apply(_matrix_functions()[op], parts[0])
        return None

    result = form(g)
    return None if result is None or result.is_scalar else result


def _power(base: Node, k: float) -> Node | None:
    """base ^ k for a whole k, sqrtm(base) ^ 2k for a half-whole one."""
    if float(k).is_integer():
        return raised(base, int(k))
    if float(2 * k).is_integer():
        return raised(apply("sqrtm", base), int(2 * k))
    return None


def _eigenvectors_of(node: Node, facts: Facts) -> Node | None:
    """M when ``node`` is eigvecsh(M) (M's definition when M is a name)."""
    node = facts._resolve(node)
    return facts._resolve(node.args[0]) if node.op == "eigvecsh" else None


def _reconstructed(factors: list[Node], index: int, facts: Facts) -> tuple[Node, int] | None:
    """What factors[index:index + k] make when they are V @ V', V' @ V (I) or V @ Diag(g) @ V'
    (g(S)), with V = eigvecsh(S); and k."""
    matrix = _eigenvectors_of(factors[index], facts)
    follower = factors[index + 1] if index + 1 < len(factors) else None
    if follower is None:
        return None
    if follower.op == "transpose" and (matrix is not None and
                                       _eigenvectors_of(follower.args[0], facts) is matrix):
        return ir.identity(matrix.shape.rows), 2
    first = factors[index]
    if first.op == "transpose" and _eigenvectors_of(first.args[0], facts) is not None and \
            _eigenvectors_of(follower, facts) is _eigenvectors_of(first.args[0], facts):
        return ir.identity(first.shape.rows), 2
    if matrix is None or index + 2 >= len(factors) or follower.op != "Diag" or \
            follower.args[0].kind is not Kind.VECTOR:
        return None
    last = factors[index + 2]
    if last.op != "transpose" or _eigenvectors_of(last.args[0], facts) is not matrix:
        return None

    def is_values(node: Node) -> bool:
        node = facts._resolve(node)
        return node.op == "eigvalsh" and facts._resolve(node.args[0]) is matrix

    written = facts._resolve(factors[index]).args[0]  # M as the result writes it
    form = matrix_form(follower.args[0], is_values, apply("sym", written))
    return (form, 3) if form is not None else None


@rule('spectral-function', ops=('matmul',),
      example="S : matrix(n, n) symmetric\n"
              "f = eigvecsh(S) @ Diag(1 - eigvalsh(S) / 2) @ eigvecsh(S)'")
def spectral_function(node: Node, facts: Facts) -> Node | None:
    """V @ Diag(g(l)) @ V' = g(sym(S)) with l = eigvalsh(S), V = eigvecsh(S) (S = V Diag(l) V'),
    g built of numbers, sums, products, quotients, whole and half powers, exp, log and sqrt:
    V Diag(2 l) V' = 2 S, V Diag(1 / l) V' = inv(S), V Diag(exp(l)) V' = expm(S) (Higham 2008,
    def. 1.2); V @ V' = I = V' @ V (V is orthogonal)."""
    factors = chain(node)
    for index in range(len(factors) - 1):
        found = _reconstructed(factors, index, facts)
        if found is not None:
            form, taken = found
            return _rechained(factors, index, taken, form)
    return None


def _commuting_derivative(function: str, point: Node) -> Node | None:
    """f'(A) as a matrix function of A, for f the elementwise function of a primary matrix
    function (core/functions' derivative of f, written with A for x and f(A) for f(x))."""
    values = ir.var("_eigenvalues", Shape(point.shape.rows, ONE), Kind.VECTOR)
    derivative = FUNCTIONS[function].derivative(algebra, values, apply(function, values))
    if derivative is None:
        return None
    return matrix_form(derivative, lambda node: node is values, point)


@rule('frechet-commuting', ops=('expm_frechet', 'logm_frechet'),
      example="A : matrix(n, n) spd\nf = logm_frechet(A, 2 * A) + expm_frechet(A, I(n))")
def frechet_commuting(node: Node, facts: Facts) -> Node | None:
    """L_f(A, E) = f'(A) @ E when A @ E = E @ A (E a multiple of I, or both functions of one
    matrix): expm_frechet(A, E) = expm(A) @ E, logm_frechet(A, E) = inv(A) @ E (Higham 2008,
    sec. 3.1)."""
    point, direction = node.args
    if not facts.commutes(point, direction):
        return None
    function = view("spectral").get(node.op.removesuffix("_frechet"), "")
    derivative = _commuting_derivative(function, point) if function else None
    return None if derivative is None else apply("matmul", derivative, direction)


@rule('sylvester-commuting', ops=('sylvester',),
      example="S : matrix(n, n) spd\nf = sylvester(sqrtm(S), I(n)) + sylvester(S, 2 * S)")
def sylvester_commuting(node: Node, facts: Facts) -> Node | None:
    """sylvester(S, E) = inv(S) @ E / 2 when S @ E = E @ S: then S X + X S = E for X = inv(S) E
    / 2 (S is invertible where the solution is unique: S and -S share no eigenvalue)."""
    point, direction = node.args
    if not facts.commutes(point, direction):
        return None
    return apply("div", apply("matmul", apply("inv", point), direction), ir.const(2.0))


def _rechained(factors: list[Node], index: int, taken: int, replacement: Node) -> Node:
    """The product of ``factors`` with factors[index:index + taken] replaced."""
    return _chained(factors[:index] + [replacement] + factors[index + taken:])


def _cholesky_of(node: Node, facts: Facts) -> Node | None:
    """S when ``node`` is chol(S)."""
    node = facts._resolve(node)
    return node.args[0] if node.op == "chol" else None


def _inverse_cholesky_of(node: Node, facts: Facts, transposed: bool) -> Node | None:
    """S when ``node`` is inv(chol(S)) (``transposed``: inv(chol(S))' or inv(chol(S)'))."""
    node = facts._resolve(node)
    if transposed:
        if node.op == "transpose" and node.args[0].op == "inv":
            return _cholesky_of(node.args[0].args[0], facts)
        if node.op == "inv" and node.args[0].op == "transpose":
            return _cholesky_of(node.args[0].args[0], facts)
        return None
    return _cholesky_of(node.args[0], facts) if node.op == "inv" else None


@rule('cholesky-product', ops=('matmul',),
      example="S : matrix(n, n) spd; B : matrix(n, m)\n"
              "f = chol(S) @ chol(S)' @ B + inv(chol(S))' @ inv(chol(S)) @ B")
def cholesky_product(node: Node, facts: Facts) -> Node | None:
    """L @ L' = sym(S) and inv(L)' @ inv(L) = inv(L @ L') = inv(sym(S)) for L = chol(S), the
    factor of S's symmetric part."""
    factors = chain(node)
    for index, (first, second) in enumerate(zip(factors, factors[1:], strict=False)):
        matrix = _cholesky_of(first, facts)
        if matrix is not None and second.op == "transpose" and \
                _cholesky_of(second.args[0], facts) is matrix:
            return _rechained(factors, index, 2, apply("sym", matrix))
        matrix = _inverse_cholesky_of(first, facts, transposed=True)
        if matrix is not None and _inverse_cholesky_of(second, facts, False) is matrix:
            return _rechained(factors, index, 2, apply("inv", apply("sym", matrix)))
    return None


@rule('symmetric-part-of-symmetric', ops=('sym',), needs='symmetric',
      example="S : matrix(n, n) symmetric\nf = sym(S)")
def symmetric_part_of_symmetric(node: Node, facts: Facts) -> Node | None:
    """sym(S) = (S + S') / 2 = S for a symmetric S."""
    inner = node.args[0]
    return inner if not inner.is_scalar and facts.symmetric(inner) else None


@rule('symmetric-part-of-phi', ops=('sym',), needs='symmetric',
      example="A : matrix(n, m); P : matrix(n, n) symmetric; U : matrix(n, n) upper\n"
              "f = sym(A' @ Phi(P - U) @ A)")
def symmetric_part_of_phi(node: Node, facts: Facts) -> Node | None:
    """sym(A' @ Phi(P + U) @ A) = A' @ (P + Diag(diag(U))) @ A / 2 for a symmetric P and an
    upper triangular U: Phi(P) + Phi(P)' = P (the lower triangle, the upper one, and the
    diagonal halved in each), Phi(U) = Diag(diag(U)) / 2, and sym(A' X A) = A' sym(X) A; P + U
    is read as a sum of products, each symmetric or upper triangular (Murray 2016, sec. 2)."""
    factors = chain(node.args[0])
    middle = len(factors) // 2
    if len(factors) % 2 != 1 or factors[middle].op != "Phi" or factors[middle].args[0].is_scalar:
        return None
    if any(factors[-1 - index] is not transposed(factors[index]) for index in range(middle)):
        return None
    terms = _product_terms(factors[middle].args[0], facts)
    if terms is None:
        return None
    total = None
    for sign, scalings, product in terms:
        term = _chained(product)
        if facts.triangular(term) == "upper" or facts.diagonal(term):
            product = [apply("Diag", apply("diag", term))]
        elif not _symmetric(term, facts):
            return None
        part = _chained(_cancelled(factors[:middle] + product + factors[middle + 1:], facts))
        for op, number in scalings:
            part = apply(op, number, part) if op == "mul" else apply(op, part, number)
        part = apply("div", part, ir.const(2.0))
        total = (part if sign > 0 else apply("neg", part)) if total is None else \
            apply("add" if sign > 0 else "sub", total, part)
    return total


MAX_TERMS = 6
_EXPANDED = frozenset({"add", "sub", "neg", "mul", "div", "matmul", "transpose"})
Term = tuple[int, tuple[tuple[str, Node], ...], list[Node]]


def _product_terms(node: Node, facts: Facts) -> list[Term] | None:
    """``node`` as a sum of signed, scaled products (sign, scalings (("mul" or "div", number),
    ...), factors): matrix products distributed over sums of matrices, named matrices written
    out, transposes taken into sums and products, inverse pairs cancelled; None past MAX_TERMS
    terms or for a node of another kind (entry by entry products, numbers added to matrices)."""

    def terms(item: Node, flip: bool) -> list[Term] | None:
        if item.op == "ref" and item.kind is Kind.MATRIX and facts.body(item).op in _EXPANDED:
            return terms(facts.body(item), flip)  # a named sum or product (a delta)
        if item.op in ("add", "sub") and item.kind is Kind.MATRIX and \
                not any(arg.is_scalar for arg in item.args):
            first, second = terms(item.args[0], flip), terms(item.args[1], flip)
            if first is None or second is None:
                return None
            sign = -1 if item.op == "sub" else 1
            return first + [(sign * s, c, f) for s, c, f in second]
        if item.op == "neg":
            inner = terms(item.args[0], flip)
            return None if inner is None else [(-s, c, f) for s, c, f in inner]
        if item.op in ("mul", "div") and sum(arg.is_scalar for arg in item.args) == 1 and \
                (item.op == "mul" or item.args[1].is_scalar):
            number = next(arg for arg in item.args if arg.is_scalar)
            inner = terms(next(arg for arg in item.args if not arg.is_scalar), flip)
            return None if inner is None else [(s, c + ((item.op, number),), f)
                                               for s, c, f in inner]
        if item.op == "transpose" and item.kind is Kind.MATRIX:
            return terms(item.args[0], not flip)
        if item.op == "matmul" and not any(arg.is_scalar for arg in item.args):
            left, right = terms(item.args[0], flip), terms(item.args[1], flip)
            if left is None or right is None or len(left) * len(right) > MAX_TERMS:
                return None
            return [(a * b, c + d, (g + f) if flip else (f + g))
                    for a, c, f in left for b, d, g in right]
        return [(1, (), [transposed(item) if flip else item])]

    found = terms(node, False)
    if found is None or len(found) > MAX_TERMS:
        return None
    return [(sign, scalings, _cancelled(factors, facts)) for sign, scalings, factors in found]


def _cancelled(factors: list[Node], facts: Facts) -> list[Node]:
    """The factors with each adjacent inv(A), A (or A, inv(A), or both transposed) left out, and
    L' @ inv(S) = inv(L), inv(S) @ L = inv(L)' for L = chol(S) (S = L L')."""
    kept: list[Node] = []
    for factor in factors:
        if kept and inverse_pair(kept[-1], factor):
            kept.pop()
        elif kept and kept[-1].op == "transpose" and _factor_of(kept[-1].args[0], factor, facts):
            kept[-1] = apply("inv", kept[-1].args[0])
        elif kept and _factor_of(factor, kept[-1], facts):
            kept[-1] = transposed(apply("inv", factor))
        else:
            kept.append(factor)
    return kept or [ir.identity(factors[0].shape.rows)]


def _factor_of(factor: Node, inverse: Node, facts: Facts) -> bool:
    """Whether ``factor`` is chol(S) and ``inverse`` is inv(S) (or inv(sym(S)))."""
    body = facts.body(factor)
    if body.op != "chol" or inverse.op != "inv":
        return False
    matrix = facts.body(inverse.args[0])
    return matrix is facts.body(body.args[0]) or \
        (matrix.op == "sym" and facts.body(matrix.args[0]) is facts.body(body.args[0]))


def _chained(factors: list[Node]) -> Node:
    result = factors[0]
    for factor in factors[1:]:
        result = apply("matmul", result, factor)
    return result


def _symmetric(node: Node, facts: Facts) -> bool:
    """Symmetric by the facts, or as a product once the products it names are written out
    (a @ y' @ inv(L)' with a = inv(L) @ y)."""
    if facts.symmetric(node):
        return True
    factors = [part for factor in chain(node) for part in chain(facts._resolve(factor))]
    return len(factors) > 1 and facts._symmetric_product(factors)


@rule('phi-of-upper', ops=('Phi',), needs='upper', example="U : matrix(n, n) upper\nf = Phi(U)")
def phi_of_upper(node: Node, facts: Facts) -> Node | None:
    """Phi(U) = Diag(diag(U)) / 2 for an upper triangular U (Phi keeps the lower triangle with
    its diagonal halved: of U only the diagonal is left); Phi(D) = D / 2 for a diagonal D
    (Murray 2016, sec. 2)."""
    inner = node.args[0]
    if inner.is_scalar:
        return None
    if facts.diagonal(inner):
        return apply("div", inner, ir.const(2.0))
    if facts.triangular(inner) == "upper":
        return apply("div", apply("Diag", apply("diag", inner)), ir.const(2.0))
    return None


@rule('diagonal-of-product', ops=('diag',),
      example="L, M : matrix(n, n) lower; A : matrix(n, n); v : vector(n)\n"
              "f = diag(L @ M) + diag(A @ Diag(v)) + diag(A')")
def diagonal_of_product(node: Node, facts: Facts) -> Node | None:
    """diag(A @ B) = diag(A) * diag(B) when A or B is diagonal, or both are triangular on one
    side (lower or upper); diag(A') = diag(A)."""
    inner = node.args[0]
    if inner.op == "transpose" and inner.kind is Kind.MATRIX:
        return apply("diag", inner.args[0])
    if inner.op != "matmul" or inner.kind is not Kind.MATRIX:
        return None
    a, b = inner.args
    if a.kind is not Kind.MATRIX or not a.shape.is_square:
        return None
    if facts.diagonal(a) or facts.diagonal(b) or \
            facts.triangular(a) == facts.triangular(b) != "":
        return apply("mul", apply("diag", a), apply("diag", b))
    return None


@rule('diag-of-uniform', ops=('Diag',),
      example="x : vector(n); c : scalar\nf = Diag(c * ones(n)) @ x")
def diag_of_uniform(node: Node, facts: Facts) -> Node | None:
    """Diag(c * 1) = c * I: a diagonal of one number."""
    inner = node.args[0]
    if inner.op != "mul" or inner.kind is not Kind.VECTOR:
        return None
    scalar, vector = inner.args if inner.args[0].is_scalar else reversed(inner.args)
    if not scalar.is_scalar or vector.op != "ones":
        return None
    return apply("mul", scalar, ir.identity(inner.shape.rows))

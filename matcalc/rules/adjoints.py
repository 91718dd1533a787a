"""Adjoint (pullback) rules: how a cotangent G of an operation's output moves onto each argument.

For ``out = op(args)`` and a scalar J with ``dJ = G : d(out)``, the rule for argument i gives the
``G_i`` with ``G : d(out) = G_i : d(args[i])`` when only ``args[i]`` varies.  ``ADJOINTS[op]`` holds
one function per argument, ``rule(node, out, g) -> Term``, where ``out`` is the node itself or the
name the problem gave it (so results say ``h`` rather than ``sigmoid(r)``).  ``None`` is zero.

Sources: K. B. Petersen & M. S. Pedersen, *The Matrix Cookbook* (2012), cited by equation number;
J. R. Magnus & H. Neudecker, *Matrix Differential Calculus* (3rd ed.), cited by chapter.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import ir
from ..algebra import (
    Term,
    add,
    call,
    const,
    div,
    frob,
    identity,
    kron,
    like,
    matmul,
    matrix_power,
    mul,
    neg,
    ones_like,
    ones_vector,
    sub,
    transpose,
    unbroadcast,
)
from ..ir import ELEMENTWISE_FUNCTIONS, Node
from ..shapes import Kind

Rule = Callable[[Node, Node, Node], Term]


# -- elementwise functions: G : d f(X) = (G * f'(X)) : dX -------------------------------------


def derivative_of(name: str, a: Node, out: Node) -> Term:
    """f'(a) for an elementwise function f, written with its output where that is shorter."""
    return {
        "exp": lambda: out,  # exp' = exp
        "log": lambda: div(const(1.0), a),  # log'(a) = 1 / a
        "sin": lambda: call("cos", a),
        "cos": lambda: neg(call("sin", a)),
        "tanh": lambda: sub(const(1.0), mul(out, out)),  # tanh' = 1 - tanh^2
        "sigmoid": lambda: mul(out, sub(const(1.0), out)),  # sigma' = sigma (1 - sigma)
        "relu": lambda: call("step", a),  # relu' = step (CS224n notes, sec. 3)
        "step": lambda: None,  # zero away from the kink
        "sign": lambda: None,
        "sqrt": lambda: div(const(0.5), out),  # sqrt'(a) = 1 / (2 sqrt(a))
        "abs": lambda: call("sign", a),
    }[name]()


def _elementwise(name: str) -> Rule:
    def rule(node: Node, out: Node, g: Node) -> Term:
        """G : d f(X) = (G * f'(X)) : dX."""
        return like(mul(g, derivative_of(name, node.args[0], out)), node.args[0])

    rule.__doc__ = f"G : d {name}(X) = (G * {name}'(X)) : dX"
    return rule


# -- sums, products ---------------------------------------------------------------------------


def _sum_left(node, out, g):
    """G : (dA + dB) = G : dA; a broadcast scalar collects sum(G)."""
    return unbroadcast(g, node.args[0])


def _sum_right(node, out, g):
    """G : (dA + dB) = G : dB; a broadcast scalar collects sum(G)."""
    return unbroadcast(g, node.args[1])


def _difference_right(node, out, g):
    """G : (dA - dB) = -G : dB."""
    return neg(unbroadcast(g, node.args[1]))


def _hadamard(index: int) -> Rule:
    def rule(node: Node, out: Node, g: Node) -> Term:
        """G : (H * dX) = (G * H) : dX (Cookbook 2.2 / Magnus & Neudecker ch. 18); for a scalar
        factor a, G : (da * H) = (G : H) da."""
        arg, other = node.args[index], node.args[1 - index]
        if arg.is_scalar and not node.is_scalar:
            return frob(g, other)
        return like(mul(g, other), arg)

    return rule


def _quotient_left(node, out, g):
    """G : (dA / B) = (G / B) : dA."""
    return unbroadcast(div(g, node.args[1]), node.args[0])


def _quotient_right(node, out, g):
    """G : d(A / B) = -(G * A / B^2) : dB = -(G * out / B) : dB."""
    b = node.args[1]
    if b.is_scalar and not node.is_scalar:
        return neg(div(frob(g, out), b))
    return like(neg(div(mul(g, out), b)), b)


def _product_left(node, out, g):
    """G : (dA @ B) = (G @ B') : dA (Cookbook 2.5, Magnus & Neudecker ch. 9)."""
    return like(matmul(g, transpose(node.args[1])), node.args[0])


def _product_right(node, out, g):
    """G : (A @ dB) = (A' @ G) : dB."""
    return like(matmul(transpose(node.args[0]), g), node.args[1])


def _frobenius(index: int) -> Rule:
    def rule(node: Node, out: Node, g: Node) -> Term:
        """g (dA : B) = (g B) : dA, and likewise for B (g a scalar)."""
        return like(mul(g, node.args[1 - index]), node.args[index])

    return rule


def _negation(node, out, g):
    """G : (-dA) = (-G) : dA."""
    return neg(g)


def _transposition(node, out, g):
    """G : dA' = G' : dA (Cookbook 2.2)."""
    return like(transpose(g), node.args[0])


# -- powers -----------------------------------------------------------------------------------


def power(a: Node, exponent: Node) -> Term:
    """a ^ exponent (elementwise for arrays), with exponents 0 and 1 folded."""
    if exponent.op == "const" and exponent.params[0] == 1.0:
        return a
    if exponent.op == "const" and exponent.params[0] == 0.0:
        return const(1.0)
    return ir.apply("pow", a, exponent)


def _power_base(node, out, g):
    """G : d(A .^ e) = (G * e * A .^ (e - 1)) : dA."""
    a, e = node.args
    lowered = const(e.params[0] - 1) if e.op == "const" else sub(e, const(1.0))
    return like(mul(g, mul(e, power(a, lowered))), a)


def _power_exponent(node, out, g):
    """G : d(A .^ e) = (G : (A .^ e * log(A))) de."""
    a = node.args[0]
    return unbroadcast(mul(g, mul(out, call("log", a))), node.args[1])


def _matrix_power(node, out, g):
    """G : d(A^k) = sum_i ((A^i)' @ G @ (A^(k-1-i))') : dA (Cookbook eq. 90)."""
    a = node.args[0]
    k = node.params[0]

    total: Term = None
    for i in range(k):
        left, right = matrix_power(a, i), matrix_power(a, k - 1 - i)
        total = add(total, matmul(matmul(transpose(left), g), transpose(right)))
    return total


# -- softmax and logsumexp --------------------------------------------------------------------


def _softmax(node, out, g):
    """G : d softmax(x) = (s * (G - s' @ G)) : dx with d s = (Diag(s) - s @ s') dx; for each row
    of a matrix, (S * G - Diag((S * G) @ 1) @ S) : dX."""
    x = node.args[0]
    if x.is_scalar:
        return None
    if x.kind is Kind.VECTOR:
        return mul(out, sub(g, matmul(transpose(out), g)))
    weighted = mul(out, g)
    row_sums = matmul(weighted, ones_vector(x.shape.cols))
    return like(sub(weighted, matmul(call("Diag", row_sums), out)), x)


def _logsumexp(node, out, g):
    """g d logsumexp(x) = (g softmax(x)) : dx; for the rows of X, (Diag(G) @ softmax(X)) : dX."""
    x = node.args[0]
    if x.is_scalar:
        return g
    if x.kind is Kind.MATRIX:
        return matmul(call("Diag", g), call("softmax", x))
    return mul(g, call("softmax", x))


# -- reductions and matrix functions ----------------------------------------------------------


def _sum(node, out, g):
    """g sum(dA) = (g 1) : dA."""
    a = node.args[0]
    return g if a.is_scalar else mul(g, ones_like(a))


def _mean(node, out, g):
    """g mean(dA) = (g / (m n) 1) : dA."""
    a = node.args[0]
    if a.is_scalar:
        return g
    return div(mul(g, ones_like(a)), ir.dimval(a.shape.rows * a.shape.cols))


def _trace(node, out, g):
    """g tr(dA) = (g I) : dA (Cookbook eq. 100)."""
    a = node.args[0]
    return g if a.is_scalar else mul(g, identity(a.shape.rows))


def _determinant(node, out, g):
    """g d det(A) = (g det(A) inv(A)') : dA (Cookbook eq. 49)."""
    a = node.args[0]
    return g if a.is_scalar else mul(mul(g, out), transpose(call("inv", a)))


def _log_determinant(node, out, g):
    """g d logdet(A) = (g inv(A)') : dA (Cookbook eq. 57)."""
    a = node.args[0]
    return div(g, a) if a.is_scalar else mul(g, transpose(call("inv", a)))


def _inverse(node, out, g):
    """G : d inv(A) = -(inv(A)' @ G @ inv(A)') : dA, from d inv(A) = -inv(A) dA inv(A)
    (Cookbook eq. 59)."""
    if node.args[0].is_scalar:
        return neg(mul(g, mul(out, out)))
    return neg(matmul(matmul(transpose(out), g), transpose(out)))


def _norm(node, out, g):
    """g d norm(A) = (g A / norm(A)) : dA (Cookbook eq. 129)."""
    a = node.args[0]
    if a.is_scalar:
        return mul(g, call("sign", a))
    return mul(g, div(a, out))


# -- structure: Diag, diag, vec, unvec, kron --------------------------------------------------


def _diag_matrix(node, out, g):
    """G : Diag(dx) = diag(G) : dx."""
    x = node.args[0]
    return g if x.is_scalar else like(call("diag", g), x)


def _diagonal(node, out, g):
    """g : diag(dA) = Diag(g) : dA."""
    a = node.args[0]
    return g if a.is_scalar else call("Diag", g)


def _vec(node, out, g):
    """g : vec(dA) = unvec(g) : dA."""
    a = node.args[0]
    if a.kind is Kind.MATRIX:
        return call("unvec", g, params=(a.shape.rows, a.shape.cols))
    return like(g, a)


def _unvec(node, out, g):
    """G : unvec(dv) = vec(G) : dv."""
    return like(call("vec", g) if g.kind is Kind.MATRIX else g, node.args[0])


def _block_sums(m, n, p, q) -> tuple[Node, Node]:
    """(kron(I_m, 1_p'), kron(I_n, 1_q)): L @ M @ R sums the p x q blocks of an mp x nq M."""
    return kron(identity(m), transpose(ones_vector(p))), kron(identity(n), ones_vector(q))


def _kron_left(node, out, g):
    """G : kron(dA, B) = (kron(I, 1') @ (G * kron(1 1', B)) @ kron(I, 1)) : dA: each entry of
    dA meets one p x q block of G weighted by B (Magnus & Neudecker ch. 2)."""
    a, b = node.args
    if a.is_scalar:
        return frob(g, b)
    if b.is_scalar:
        return like(mul(g, b), a)
    (m, n), (p, q) = (a.shape.rows, a.shape.cols), (b.shape.rows, b.shape.cols)
    tiled = call("kron", ir.ones(m, n, Kind.MATRIX), b)
    left, right = _block_sums(m, n, p, q)
    return like(matmul(matmul(left, mul(g, tiled)), right), a)


def _kron_right(node, out, g):
    """G : kron(A, dB) = (kron(1', I) @ (G * kron(A, 1 1')) @ kron(1, I)) : dB: the sum of the
    blocks of G weighted by the entries of A."""
    a, b = node.args
    if b.is_scalar:
        return frob(g, a)
    if a.is_scalar:
        return like(mul(g, a), b)
    (m, n), (p, q) = (a.shape.rows, a.shape.cols), (b.shape.rows, b.shape.cols)
    spread = call("kron", a, ir.ones(p, q, Kind.MATRIX))
    left = kron(transpose(ones_vector(m)), identity(p))
    right = kron(ones_vector(n), identity(q))
    return like(matmul(matmul(left, mul(g, spread)), right), b)


ADJOINTS: dict[str, tuple[Rule, ...]] = {
    "add": (_sum_left, _sum_right),
    "sub": (_sum_left, _difference_right),
    "mul": (_hadamard(0), _hadamard(1)),
    "div": (_quotient_left, _quotient_right),
    "matmul": (_product_left, _product_right),
    "frob": (_frobenius(0), _frobenius(1)),
    "neg": (_negation,),
    "transpose": (_transposition,),
    "pow": (_power_base, _power_exponent),
    "mpow": (_matrix_power,),
    **{name: (_elementwise(name),) for name in ELEMENTWISE_FUNCTIONS},
    "softmax": (_softmax,),
    "logsumexp": (_logsumexp,),
    "sum": (_sum,),
    "mean": (_mean,),
    "tr": (_trace,),
    "det": (_determinant,),
    "logdet": (_log_determinant,),
    "inv": (_inverse,),
    "norm2": (_norm,),
    "norm": (_norm,),
    "Diag": (_diag_matrix,),
    "diag": (_diagonal,),
    "vec": (_vec,),
    "unvec": (_unvec,),
    "kron": (_kron_left, _kron_right),
}

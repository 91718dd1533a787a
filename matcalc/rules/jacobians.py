"""Forward rules in vec form: the Jacobian of an operation's output from its arguments' Jacobians.

With ``J_A = d vec(A) / d vec(X)'`` (column stacking; Magnus & Neudecker ch. 9), each rule gives
``J_out`` from the ``J`` of the arguments: ``vec(A dX B) = kron(B', A) vec(dX)`` (Magnus &
Neudecker ch. 2, Theorem 2; Cookbook eq. 520), ``vec(dA') = K vec(dA)`` with the commutation matrix
K, ``vec(H * dA) = Diag(vec(H)) vec(dA)``.  ``JACOBIANS[op]`` is ``rule(node, out, js) -> Term``
with ``js`` the arguments' Jacobians (``None`` for an argument that does not depend on X).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import ir
from ..algebra import (
    Term,
    add,
    call,
    const,
    div,
    identity,
    kron,
    matmul,
    matrix_power,
    mul,
    neg,
    ones_vector,
    size,
    sub,
    transpose,
    vec,
)
from ..ir import ELEMENTWISE_FUNCTIONS, Node
from ..shapes import ONE, Kind
from .adjoints import derivative_of, power

Rule = Callable[[Node, Node, Sequence[Term]], Term]


def _scale_rows(h: Node, j: Term) -> Term:
    """Diag(vec(h)) @ J: the Jacobian of h * A given the Jacobian J of A (h of A's shape)."""
    if j is None or h is None:
        return None
    if h.is_scalar:
        return mul(h, j)
    return matmul(call("Diag", vec(h)), j)


def _broadcast(arg: Node, node: Node, j: Term) -> Term:
    """The Jacobian of a scalar spread over node's shape: 1 @ J."""
    if j is None or not arg.is_scalar or node.is_scalar:
        return j
    return matmul(ones_vector(size(node)), j)


def _sum(node, out, js):
    """vec(d(A + B)) = vec(dA) + vec(dB); a scalar operand is spread: 1 @ J."""
    a, b = node.args
    return add(_broadcast(a, node, js[0]), _broadcast(b, node, js[1]))


def _difference(node, out, js):
    """vec(d(A - B)) = vec(dA) - vec(dB)."""
    a, b = node.args
    return sub(_broadcast(a, node, js[0]), _broadcast(b, node, js[1]))


def _hadamard(node, out, js):
    """vec(d(A * B)) = Diag(vec(B)) vec(dA) + Diag(vec(A)) vec(dB); a scalar factor a gives
    vec(B) da."""
    a, b = node.args
    return add(_factor(a, b, node, js[0]), _factor(b, a, node, js[1]))


def _factor(arg: Node, other: Node, node: Node, j: Term) -> Term:
    """The term of d(arg * other) from d(arg)."""
    if j is None:
        return None
    if arg.is_scalar and not node.is_scalar:
        return matmul(vec(other), j)
    return _scale_rows(other, j)


def _quotient(node, out, js):
    """d(A / B) = dA * (1 / B) - dB * (A / B) / B."""
    a, b = node.args
    return sub(_factor(a, div(const(1.0), b), node, js[0]), _factor(b, div(out, b), node, js[1]))


def _product(node, out, js):
    """vec(dA @ B) = kron(B', I) vec(dA), vec(A @ dB) = kron(I, A) vec(dB) (Cookbook eq. 520)."""
    a, b = node.args
    first = second = None
    if js[0] is not None:
        first = matmul(kron(transpose(b), identity(a.shape.rows)), js[0])
    if js[1] is not None:
        second = matmul(kron(identity(b.shape.cols), a), js[1])
    return add(first, second)


def _frobenius(node, out, js):
    """d(A : B) = vec(B)' vec(dA) + vec(A)' vec(dB)."""
    a, b = node.args
    first = matmul(transpose(vec(b)), js[0]) if js[0] is not None else None
    second = matmul(transpose(vec(a)), js[1]) if js[1] is not None else None
    return add(first, second)


def _negation(node, out, js):
    """vec(-dA) = -vec(dA)."""
    return neg(js[0])


def _transposition(node, out, js):
    """vec(dA') = K(m, n) vec(dA) for A m x n (Magnus & Neudecker ch. 3, sec. 7)."""
    a = node.args[0]
    if a.kind is not Kind.MATRIX or a.shape.rows is ONE or a.shape.cols is ONE:
        return js[0]
    return matmul(call_commutation(a), js[0])


def call_commutation(a: Node) -> Node:
    return ir.commutation(a.shape.rows, a.shape.cols)


def _power(node, out, js):
    """vec(d(A .^ e)) = Diag(vec(e * A .^ (e - 1))) vec(dA) + vec(A .^ e * log(A)) de."""
    a, e = node.args
    first = None
    if js[0] is not None:
        lowered = const(e.params[0] - 1) if e.op == "const" else sub(e, const(1.0))
        first = _scale_rows(mul(e, power(a, lowered)), js[0])
    second = _factor(e, mul(out, call("log", a)), node, js[1])
    return add(first, second)


def _matrix_power(node, out, js):
    """vec(d(A^k)) = sum_i kron((A^(k-1-i))', A^i) vec(dA) (Cookbook eq. 90)."""
    a = node.args[0]
    k = node.params[0]

    total: Term = None
    for i in range(k):
        left, right = matrix_power(a, i), matrix_power(a, k - 1 - i)
        total = add(total, matmul(call("kron", transpose(right), left), js[0]))
    return total


def _elementwise(name: str) -> Rule:
    def rule(node: Node, out: Node, js: Sequence[Term]) -> Term:
        return _scale_rows(derivative_of(name, node.args[0], out), js[0])

    rule.__doc__ = f"vec(d {name}(A)) = Diag(vec({name}'(A))) vec(dA)"
    return rule


def _softmax(node, out, js):
    """d s = (Diag(s) - s @ s') dx for a vector; for the rows of an m x n matrix,
    vec(dS) = Diag(vec(S)) (I - kron(1 1', I_m) Diag(vec(S))) vec(dX)."""
    x = node.args[0]
    if x.is_scalar:
        return None
    if x.kind in (Kind.VECTOR, Kind.ROW):
        s = vec(out)
        return matmul(sub(call("Diag", s), matmul(s, transpose(s))), js[0])
    m, n = x.shape.rows, x.shape.cols
    diag_s = call("Diag", vec(out))
    ones = ones_vector(n)
    spread = call("kron", matmul(ones, transpose(ones)), identity(m))
    return matmul(matmul(diag_s, sub(identity(m * n), matmul(spread, diag_s))), js[0])


def _logsumexp(node, out, js):
    """d logsumexp(x) = softmax(x)' dx; for the rows of X, d r = kron(1', I_m) Diag(vec(S))
    vec(dX) with S = softmax(X)."""
    x = node.args[0]
    if x.is_scalar:
        return js[0]
    s = call("softmax", x)
    if x.kind is not Kind.MATRIX:
        return matmul(transpose(vec(s)), js[0])
    row_sum = call("kron", transpose(ones_vector(x.shape.cols)), identity(x.shape.rows))
    return matmul(matmul(row_sum, call("Diag", vec(s))), js[0])


def _entry_sum(node, out, js):
    """d sum(A) = 1' vec(dA)."""
    a = node.args[0]
    return js[0] if a.is_scalar else matmul(transpose(ones_vector(size(a))), js[0])


def _mean(node, out, js):
    """d mean(A) = 1' vec(dA) / (m n)."""
    total = _entry_sum(node, out, js)
    a = node.args[0]
    return total if a.is_scalar else div(total, ir.dimval(size(a)))


def _trace(node, out, js):
    """d tr(A) = vec(I)' vec(dA)."""
    a = node.args[0]
    return js[0] if a.is_scalar else matmul(transpose(vec(identity(a.shape.rows))), js[0])


def _determinant(node, out, js):
    """d det(A) = det(A) vec(inv(A)')' vec(dA) (Cookbook eq. 49)."""
    a = node.args[0]
    if a.is_scalar:
        return js[0]
    return mul(out, matmul(transpose(vec(transpose(call("inv", a)))), js[0]))


def _log_determinant(node, out, js):
    """d logdet(A) = vec(inv(A)')' vec(dA) (Cookbook eq. 57)."""
    a = node.args[0]
    if a.is_scalar:
        return div(js[0], a)
    return matmul(transpose(vec(transpose(call("inv", a)))), js[0])


def _inverse(node, out, js):
    """vec(d inv(A)) = -kron(inv(A)', inv(A)) vec(dA) (Cookbook eq. 59 and 520)."""
    if node.args[0].is_scalar:
        return neg(mul(mul(out, out), js[0]))
    return neg(matmul(call("kron", transpose(out), out), js[0]))


def _norm(node, out, js):
    """d norm(A) = vec(A)' vec(dA) / norm(A)."""
    a = node.args[0]
    if a.is_scalar:
        return mul(call("sign", a), js[0])
    return div(matmul(transpose(vec(a)), js[0]), out)


def _diag_matrix(node, out, js):
    """vec(Diag(dx)) = Diag(vec(I)) kron(1, I) dx (the columns of Diag(dx) select dx)."""
    x = node.args[0]
    if x.is_scalar:
        return js[0]
    n = node.shape.rows
    select = matmul(call("Diag", vec(identity(n))), call("kron", ones_vector(n), identity(n)))
    return matmul(select, js[0])


def _diagonal(node, out, js):
    """diag(dA) = kron(1, I)' Diag(vec(I)) vec(dA)."""
    a = node.args[0]
    if a.is_scalar:
        return js[0]
    n = a.shape.rows
    select = matmul(transpose(call("kron", ones_vector(n), identity(n))),
                    call("Diag", vec(identity(n))))
    return matmul(select, js[0])


def _same(node, out, js):
    """vec(vec(dA)) = vec(dA); vec(unvec(dv)) = dv."""
    return js[0]


def _kron(node, out, js):
    """vec(kron(dA, B)) = P (I_mn kron vec(B)) vec(dA) and vec(kron(A, dB)) = P (vec(A) kron
    I_pq) vec(dB) with P = kron(I_n, K(q, m), I_p) (Magnus & Neudecker ch. 3, Theorem 10)."""
    a, b = node.args
    if a.is_scalar or b.is_scalar:
        return _hadamard(node, out, js)  # kron with a scalar factor is a scalar product
    (m, n), (p, q) = (a.shape.rows, a.shape.cols), (b.shape.rows, b.shape.cols)
    permute = call("kron", call("kron", identity(n), ir.commutation(q, m)), identity(p))
    first = second = None
    if js[0] is not None:
        first = matmul(permute, matmul(call("kron", identity(m * n), vec(b)), js[0]))
    if js[1] is not None:
        second = matmul(permute, matmul(call("kron", vec(a), identity(p * q)), js[1]))
    return add(first, second)


JACOBIANS: dict[str, Rule] = {
    "add": _sum,
    "sub": _difference,
    "mul": _hadamard,
    "div": _quotient,
    "matmul": _product,
    "frob": _frobenius,
    "neg": _negation,
    "transpose": _transposition,
    "pow": _power,
    "mpow": _matrix_power,
    **{name: _elementwise(name) for name in ELEMENTWISE_FUNCTIONS},
    "softmax": _softmax,
    "logsumexp": _logsumexp,
    "sum": _entry_sum,
    "mean": _mean,
    "tr": _trace,
    "det": _determinant,
    "logdet": _log_determinant,
    "inv": _inverse,
    "norm2": _norm,
    "norm": _norm,
    "Diag": _diag_matrix,
    "diag": _diagonal,
    "vec": _same,
    "unvec": _same,
    "kron": _kron,
}

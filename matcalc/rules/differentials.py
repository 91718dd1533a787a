"""Differentials in matrix form: d(out) from the arguments' differentials.

``DIFFERENTIALS[op]`` is ``rule(node, out, ds) -> Term`` with ``ds`` the arguments' differentials
(``None`` where an argument is constant).  These are the identities a hand derivation writes,
``d(A @ B) = dA @ B + A @ dB``, ``d inv(X) = -inv(X) @ dX @ inv(X)``, ``d softmax(x) =
(Diag(s) - s @ s') @ dx``; the engine uses them for directional derivatives (forward mode), and
they are the first line of each step of a derivation.

Sources: Petersen & Pedersen, *The Matrix Cookbook* (2012), eqs. 33-47 (first-order
differentials); Magnus & Neudecker, *Matrix Differential Calculus*, ch. 8-9.
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
    frob,
    matmul,
    matrix_power,
    mul,
    neg,
    ones_vector,
    sub,
    transpose,
)
from ..ir import ELEMENTWISE_FUNCTIONS, Node
from ..shapes import Kind
from .adjoints import derivative_of, power

Rule = Callable[[Node, Node, Sequence[Term]], Term]


def _sum(node, out, ds):
    """d(A + B) = dA + dB (Cookbook eq. 35)."""
    return add(ds[0], ds[1])


def _difference(node, out, ds):
    """d(A - B) = dA - dB."""
    return sub(ds[0], ds[1])


def _hadamard(node, out, ds):
    """d(A * B) = dA * B + A * dB (Cookbook eq. 38)."""
    a, b = node.args
    return add(mul(ds[0], b), mul(a, ds[1]))


def _quotient(node, out, ds):
    """d(A / B) = dA / B - (A / B) * dB / B."""
    b = node.args[1]
    return sub(div(ds[0], b) if ds[0] is not None else None,
               div(mul(out, ds[1]), b) if ds[1] is not None else None)


def _product(node, out, ds):
    """d(A @ B) = dA @ B + A @ dB (Cookbook eq. 37)."""
    a, b = node.args
    return add(matmul(ds[0], b), matmul(a, ds[1]))


def _frobenius(node, out, ds):
    """d(A : B) = dA : B + A : dB."""
    a, b = node.args
    return add(frob(ds[0], b), frob(a, ds[1]))


def _negation(node, out, ds):
    """d(-A) = -dA."""
    return neg(ds[0])


def _transposition(node, out, ds):
    """d(A') = (dA)' (Cookbook eq. 44)."""
    return transpose(ds[0])


def _power(node, out, ds):
    """d(A .^ e) = e * A .^ (e - 1) * dA + A .^ e * log(A) * de."""
    a, e = node.args
    first = None
    if ds[0] is not None:
        lowered = const(e.params[0] - 1) if e.op == "const" else sub(e, const(1.0))
        first = mul(mul(e, power(a, lowered)), ds[0])
    second = mul(mul(out, call("log", a)), ds[1]) if ds[1] is not None else None
    return add(first, second)


def _matrix_power(node, out, ds):
    """d(A^k) = sum_i A^i @ dA @ A^(k-1-i) (Cookbook eq. 90)."""
    a, k = node.args[0], node.params[0]

    total: Term = None
    for i in range(k):
        total = add(total, matmul(matmul(matrix_power(a, i), ds[0]), matrix_power(a, k - 1 - i)))
    return total


def _elementwise(name: str) -> Rule:
    def rule(node: Node, out: Node, ds: Sequence[Term]) -> Term:
        return mul(derivative_of(name, node.args[0], out), ds[0])

    rule.__doc__ = f"d {name}(A) = {name}'(A) * dA"
    return rule


def _softmax(node, out, ds):
    """d s = (Diag(s) - s @ s') @ dx = s * (dx - s' @ dx); for each row of a matrix,
    dS = S * dX - Diag((S * dX) @ 1) @ S."""
    x = node.args[0]
    if x.is_scalar:
        return None
    if x.kind is Kind.VECTOR:
        return mul(out, sub(ds[0], matmul(transpose(out), ds[0])))
    weighted = mul(out, ds[0])
    return sub(weighted, matmul(call("Diag", matmul(weighted, ones_vector(x.shape.cols))), out))


def _logsumexp(node, out, ds):
    """d logsumexp(x) = softmax(x) : dx; for the rows of X, (softmax(X) * dX) @ 1."""
    x = node.args[0]
    if x.is_scalar:
        return ds[0]
    if x.kind is Kind.MATRIX:
        return matmul(mul(call("softmax", x), ds[0]), ones_vector(x.shape.cols))
    return frob(call("softmax", x), ds[0])


def _entry_sum(node, out, ds):
    """d sum(A) = sum(dA)."""
    return ds[0] if node.args[0].is_scalar else call("sum", ds[0])


def _mean(node, out, ds):
    """d mean(A) = mean(dA)."""
    return ds[0] if node.args[0].is_scalar else call("mean", ds[0])


def _trace(node, out, ds):
    """d tr(A) = tr(dA) (Cookbook eq. 36)."""
    return ds[0] if node.args[0].is_scalar else call("tr", ds[0])


def _determinant(node, out, ds):
    """d det(A) = det(A) tr(inv(A) @ dA) (Cookbook eq. 42)."""
    a = node.args[0]
    if a.is_scalar:
        return ds[0]
    return mul(out, call("tr", matmul(call("inv", a), ds[0])))


def _log_determinant(node, out, ds):
    """d logdet(A) = tr(inv(A) @ dA) (Cookbook eq. 43)."""
    a = node.args[0]
    if a.is_scalar:
        return div(ds[0], a)
    return call("tr", matmul(call("inv", a), ds[0]))


def _inverse(node, out, ds):
    """d inv(A) = -inv(A) @ dA @ inv(A) (Cookbook eq. 40)."""
    if node.args[0].is_scalar:
        return neg(mul(mul(out, out), ds[0]))
    return neg(matmul(matmul(out, ds[0]), out))


def _norm(node, out, ds):
    """d norm(A) = (A : dA) / norm(A)."""
    a = node.args[0]
    if a.is_scalar:
        return mul(call("sign", a), ds[0])
    return div(frob(a, ds[0]), out)


def _structural(op: str) -> Rule:
    def rule(node: Node, out: Node, ds: Sequence[Term]) -> Term:
        if node.args[0].is_scalar:
            return ds[0]
        return ir.apply(op, ds[0], params=node.params)

    rule.__doc__ = f"d {op}(A) = {op}(dA): {op} is linear"
    return rule


def _kron(node, out, ds):
    """d kron(A, B) = kron(dA, B) + kron(A, dB) (Cookbook eq. 39)."""
    a, b = node.args
    first = call("kron", ds[0], b) if ds[0] is not None else None
    second = call("kron", a, ds[1]) if ds[1] is not None else None
    return add(first, second)


DIFFERENTIALS: dict[str, Rule] = {
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
    "Diag": _structural("Diag"),
    "diag": _structural("diag"),
    "vec": _structural("vec"),
    "unvec": _structural("unvec"),
    "kron": _kron,
}

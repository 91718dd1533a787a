"""Elementwise powers A .^ e and matrix powers A^k.

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import (
    Term,
    add,
    call,
    const,
    like,
    matmul,
    matrix_power,
    mul,
    sub,
    transpose,
    unbroadcast,
)
from ..core.ir import Node
from ..core.registry import ATOM, POWER, Code, Latex, Syntax
from ..core.shape_rules import (
    matrix_power_shape,
    pow_shape,
    symbolic_power_shape,
    trace_of_power_shape,
)
from ..errors import UnsupportedError
from .common import vec_factor, vec_scale_rows
from .operation import define


def d_power(node, out, ds):
    """d(A .^ e) = e * A .^ (e - 1) * dA + A .^ e * log(A) * de."""
    a, e = node.args
    first = None
    if ds[0] is not None:
        lowered = const(e.params[0] - 1) if e.op == "const" else sub(e, const(1.0))
        first = mul(mul(e, power(a, lowered)), ds[0])
    second = mul(mul(out, call("log", a)), ds[1]) if ds[1] is not None else None
    return add(first, second)


def pull_power_base(node, out, g):
    """G : d(A .^ e) = (G * e * A .^ (e - 1)) : dA."""
    a, e = node.args
    lowered = const(e.params[0] - 1) if e.op == "const" else sub(e, const(1.0))
    return like(mul(g, mul(e, power(a, lowered))), a)


def power(a: Node, exponent: Node) -> Term:
    """a ^ exponent (elementwise for arrays), with exponents 0 and 1 folded."""
    if exponent.op == "const" and exponent.params[0] == 1.0:
        return a
    if exponent.op == "const" and exponent.params[0] == 0.0:
        return const(1.0)
    return ir.apply("pow", a, exponent)


def pull_power_exponent(node, out, g):
    """G : d(A .^ e) = (G : (A .^ e * log(A))) de."""
    a = node.args[0]
    return unbroadcast(mul(g, mul(out, call("log", a))), node.args[1])


def vec_power(node, out, js):
    """vec(d(A .^ e)) = Diag(vec(e * A .^ (e - 1))) vec(dA) + vec(A .^ e * log(A)) de."""
    a, e = node.args
    first = None
    if js[0] is not None:
        lowered = const(e.params[0] - 1) if e.op == "const" else sub(e, const(1.0))
        first = vec_scale_rows(mul(e, power(a, lowered)), js[0])
    second = vec_factor(e, mul(out, call("log", a)), node, js[1])
    return add(first, second)


def _over_splits(a, k: int, term) -> Term:
    """sum_i term(A^i, A^(k-1-i)) over i = 0 .. k-1: the k places dA takes in d(A^k)."""
    total: Term = None
    for i in range(k):
        total = add(total, term(matrix_power(a, i), matrix_power(a, k - 1 - i)))
    return total


def d_matrix_power(node, out, ds):
    """d(A^k) = sum_i A^i @ dA @ A^(k-1-i) (Cookbook eq. 90)."""
    return _over_splits(node.args[0], node.params[0],
                        lambda left, right: matmul(matmul(left, ds[0]), right))


def pull_matrix_power(node, out, g):
    """G : d(A^k) = sum_i ((A^i)' @ G @ (A^(k-1-i))') : dA (Cookbook eq. 90)."""
    return _over_splits(node.args[0], node.params[0],
                        lambda left, right: matmul(matmul(transpose(left), g), transpose(right)))


def vec_matrix_power(node, out, js):
    """vec(d(A^k)) = sum_i kron((A^(k-1-i))', A^i) vec(dA) (Cookbook eq. 90)."""
    return _over_splits(node.args[0], node.params[0],
                        lambda left, right: matmul(call("kron", transpose(right), left), js[0]))


define('pow',
       differential=d_power,
       adjoints=(pull_power_base, pull_power_exponent),
       jacobian=vec_power,
       shape=pow_shape,
       syntax=Syntax("pow", ".^", POWER), symmetry="scalars or arguments",
       latex=Latex(special=True),
       code=Code(numpy="np.power({0}, {1})", torch="torch.pow({0}, {1})"),
       sympy=lambda s, node, a, b: a**b if node.is_scalar else s.HadamardPower(a, b),
       stable=(),
       scalar="a .^ b = a ^ b",
       cost="cheap",
       tensors=True)
define('mpow',
       differential=d_matrix_power,
       adjoints=(pull_matrix_power,),
       jacobian=vec_matrix_power,
       shape=matrix_power_shape,
       syntax=Syntax("mpow", "^", POWER), symmetry="scalars or arguments",
       latex=Latex(special=True),
       code=Code(numpy="np.linalg.matrix_power({0}, {k})",
       torch="torch.linalg.matrix_power({0}, {k})", params=("k",)),
       sympy=lambda s, node, a: s.MatPow(a, node.params[0]),
       stable=(),
       scalar="a ^ k of a number is pow; mpow takes a square matrix",
       cost="costly")


_ONLY_IN_A_TRACE = ("has a closed form here only where what multiplies it commutes with the "
                    "matrix, as in tr(X ^ k) (Cookbook eq. 121-122); for a number k write it out")


def d_symbolic_power(node, out, ds):
    """d(A^k) = sum_i A^i dA A^(k-1-i) for an integer k, a sum of k terms: no closed form for a
    symbolic k (only its trace closes, see the adjoint)."""
    raise UnsupportedError(f"the differential of {node} for a symbolic integer power "
                           f"{_ONLY_IN_A_TRACE}")


def _scaled_identity(g: Node) -> bool:
    """Whether g is c I (it commutes with every matrix)."""
    if g.op == "identity":
        return True
    return g.op == "mul" and any(arg.is_scalar for arg in g.args) and \
        any(arg.op == "identity" for arg in g.args)


def pull_symbolic_power(node, out, g):
    """c I : d(A^k) = k c (A^(k-1))' : dA for an integer k, as tr(A^i dA A^(k-1-i)) =
    tr(A^(k-1) dA) for each of the k terms (Cookbook eq. 121-122: d tr(X^k) = k (X^(k-1))')."""
    a, k = node.args
    if not _scaled_identity(g):
        raise UnsupportedError(f"the derivative of {node} for a symbolic integer power "
                               f"{_ONLY_IN_A_TRACE}")
    scale = next(arg for arg in g.args if arg.is_scalar) if g.op == "mul" else const(1.0)
    lowered = call("mpowk", a, sub(k, const(1.0)))
    return like(mul(mul(k, scale), transpose(lowered)), a)


def pull_integer_exponent(node, out, g):
    """G : d(A^k) with respect to k: none, k = round(k) is an integer (a derivative of 0 would
    be silently wrong for a real k)."""
    raise UnsupportedError(f"{node.args[1]} in {node} is an integer: there is no derivative "
                           "with respect to it")


def vec_symbolic_power(node, out, js):
    """vec(d(A^k)) = sum_i kron((A^(k-1-i))', A^i) vec(dA): no closed form for a symbolic k."""
    raise UnsupportedError(f"the Jacobian of {node} for a symbolic integer power "
                           f"{_ONLY_IN_A_TRACE}")


define('mpowk',
       differential=d_symbolic_power,
       adjoints=(pull_symbolic_power, pull_integer_exponent),
       jacobian=vec_symbolic_power,
       shape=symbolic_power_shape,
       syntax=Syntax("mpowk", "^", POWER), symmetry="scalars or arguments",
       latex=Latex(special=True),
       code=Code(numpy="np.linalg.matrix_power({0}, int(round(float({1}))))",
                 torch="torch.linalg.matrix_power({0}, int(round(float({1}))))",
                 jax="_matrix_power_k({0}, {1})"),
       sympy=lambda s, node, a, k: s.MatPow(a, k),
       stable=(),
       scalar="A ^ k takes a square matrix and an integer k",
       cost="costly")


def d_trace_of_power(node, out, ds):
    """d tr(A^k) = k (A^(k-1))' : dA for an integer k (Cookbook eq. 121-122): the k terms
    tr(A^i dA A^(k-1-i)) of d(A^k) are equal under the trace."""
    a, k = node.args
    if ds[1] is not None:
        pull_integer_exponent(node, out, None)
    return call("frob", mul(k, transpose(call("mpowk", a, sub(k, const(1.0))))), ds[0])


def pull_trace_of_power(node, out, g):
    """g tr(d(A^k)) = (g k (A^(k-1))') : dA (Cookbook eq. 121-122)."""
    a, k = node.args
    return like(mul(mul(g, k), transpose(call("mpowk", a, sub(k, const(1.0))))), a)


define('trpowk',
       differential=d_trace_of_power,
       adjoints=(pull_trace_of_power, pull_integer_exponent),
       shape=trace_of_power_shape,
       syntax=Syntax("tr", "^", ATOM),
       latex=Latex(special=True),
       code=Code(numpy="np.trace(np.linalg.matrix_power({0}, int(round(float({1})))))",
                 torch="torch.trace(torch.linalg.matrix_power({0}, int(round(float({1})))))",
                 jax="np.trace(_matrix_power_k({0}, {1}))"),
       sympy=lambda s, node, a, k: s.Trace(s.MatPow(a, k)),
       stable=(),
       scalar="tr(A ^ k) takes a square matrix and an integer k",
       cost="costly")

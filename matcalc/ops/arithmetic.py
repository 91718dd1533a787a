"""Sums, differences, Hadamard products, quotients and negation.

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core.algebra import (
    Term,
    add,
    const,
    div,
    frob,
    like,
    matmul,
    mul,
    neg,
    ones_vector,
    size,
    sub,
    unbroadcast,
)
from ..core.ir import Node
from ..core.registry import PRODUCT, SUM, UNARY, Code, Latex, Stable, Syntax
from ..core.shape_rules import elementwise_shape, same_shape
from .common import vec_factor, vec_hadamard
from .operation import Rule, defbilinear, define


def d_sum(node, out, ds):
    """d(A + B) = dA + dB (Cookbook eq. 35)."""
    return add(ds[0], ds[1])


def pull_sum_left(node, out, g):
    """G : (dA + dB) = G : dA; a broadcast scalar collects sum(G)."""
    return unbroadcast(g, node.args[0])


def pull_sum_right(node, out, g):
    """G : (dA + dB) = G : dB; a broadcast scalar collects sum(G)."""
    return unbroadcast(g, node.args[1])


def vec_sum(node, out, js):
    """vec(d(A + B)) = vec(dA) + vec(dB); a scalar operand is spread: 1 @ J."""
    a, b = node.args
    return add(vec_broadcast(a, node, js[0]), vec_broadcast(b, node, js[1]))


def vec_broadcast(arg: Node, node: Node, j: Term) -> Term:
    """The Jacobian of a scalar spread over node's shape: 1 @ J."""
    if j is None or not arg.is_scalar or node.is_scalar:
        return j
    return matmul(ones_vector(size(node)), j)


def d_difference(node, out, ds):
    """d(A - B) = dA - dB."""
    return sub(ds[0], ds[1])


def pull_difference_right(node, out, g):
    """G : (dA - dB) = -G : dB."""
    return neg(unbroadcast(g, node.args[1]))


def vec_difference(node, out, js):
    """vec(d(A - B)) = vec(dA) - vec(dB)."""
    a, b = node.args
    return sub(vec_broadcast(a, node, js[0]), vec_broadcast(b, node, js[1]))


def pull_hadamard(index: int) -> Rule:
    def rule(node: Node, out: Node, g: Node) -> Term:
        """G : (H * dX) = (G * H) : dX (Cookbook 2.2 / Magnus & Neudecker ch. 18); for a scalar
        factor a, G : (da * H) = (G : H) da."""
        arg, other = node.args[index], node.args[1 - index]
        if arg.is_scalar and not node.is_scalar:
            return frob(g, other)
        return like(mul(g, other), arg)

    return rule


def d_quotient(node, out, ds):
    """d(A / B) = dA / B - (A / B) * dB / B."""
    b = node.args[1]
    return sub(div(ds[0], b) if ds[0] is not None else None,
               div(mul(out, ds[1]), b) if ds[1] is not None else None)


def pull_quotient_left(node, out, g):
    """G : (dA / B) = (G / B) : dA."""
    return unbroadcast(div(g, node.args[1]), node.args[0])


def pull_quotient_right(node, out, g):
    """G : d(A / B) = -(G * A / B^2) : dB = -(G * out / B) : dB."""
    b = node.args[1]
    if b.is_scalar and not node.is_scalar:
        return neg(div(frob(g, out), b))
    return like(neg(div(mul(g, out), b)), b)


def vec_quotient(node, out, js):
    """d(A / B) = dA * (1 / B) - dB * (A / B) / B."""
    a, b = node.args
    return sub(vec_factor(a, div(const(1.0), b), node, js[0]),
               vec_factor(b, div(out, b), node, js[1]))


def d_negation(node, out, ds):
    """d(-A) = -dA."""
    return neg(ds[0])


def pull_negation(node, out, g):
    """G : (-dA) = (-G) : dA."""
    return neg(g)


def vec_negation(node, out, js):
    """vec(-dA) = -vec(dA)."""
    return neg(js[0])


define('add',
       differential=d_sum,
       adjoints=(pull_sum_left, pull_sum_right),
       jacobian=vec_sum,
       shape=elementwise_shape("+"),
       syntax=Syntax("add", "+", SUM), symmetry="arguments",
       latex=Latex(special=True),
       code=Code(numpy="({0} + {1})", torch="({0} + {1})"),
       sympy=lambda s, node, a, b: (s.broadcast(node.args[0], a, node.args[1])
                                    + s.broadcast(node.args[1], b, node.args[0])),
       stable=(Stable("complement-of-erf", ("1 +", "erf")),
               Stable("twice-sigmoid-of-twice", ("1 +", "tanh"))),
       scalar="a + B adds a to every entry of B",
       cost="cheap",
       tensors=True)
define('sub',
       differential=d_difference,
       adjoints=(pull_sum_left, pull_difference_right),
       jacobian=vec_difference,
       shape=elementwise_shape("-"),
       syntax=Syntax("sub", "-", SUM), symmetry="arguments",
       latex=Latex(special=True),
       code=Code(numpy="({0} - {1})", torch="({0} - {1})"),
       sympy=lambda s, node, a, b: (s.broadcast(node.args[0], a, node.args[1])
                                    - s.broadcast(node.args[1], b, node.args[0])),
       stable=(Stable("sigmoid-of-negative", ("1 -", "sigmoid")),
               Stable("sech-squared", ("1 -", "square", "tanh"))),
       scalar="a - B subtracts every entry of B from a",
       cost="cheap",
       tensors=True)
defbilinear('mul',
            mul,
            'd(A * B) = dA * B + A * dB (Cookbook eq. 38).',
            adjoints=(pull_hadamard(0), pull_hadamard(1)),
            jacobian=vec_hadamard,
            shape=elementwise_shape("*"),
            syntax=Syntax("mul", "*", PRODUCT), symmetry="arguments",
            latex=Latex(special=True, reads=("odot", "circ")),
            code=Code(numpy="({0} * {1})", torch="({0} * {1})"),
            sympy=lambda s, node, a, b: s.hadamard(node, a, b),
            stable=(),
            scalar="a * B scales B by a",
            cost="cheap",
       tensors=True)
define('div',
       differential=d_quotient,
       adjoints=(pull_quotient_left, pull_quotient_right),
       jacobian=vec_quotient,
       shape=elementwise_shape("/"),
       syntax=Syntax("div", "/", PRODUCT), symmetry="scalars or arguments",
       latex=Latex(template=r"\frac{{{0}}}{{{1}}}", infix_reads=("oslash",)),
       code=Code(numpy="({0} / {1})", torch="({0} / {1})"),
       sympy=lambda s, node, a, b: s.divide(node, a, b),
       stable=(),
       scalar="B / a divides every entry of B by a",
       cost="cheap",
       tensors=True)
define('neg',
       differential=d_negation,
       adjoints=(pull_negation,),
       jacobian=vec_negation,
       shape=same_shape,
       syntax=Syntax("neg", "-", UNARY), symmetry="arguments",
       latex=Latex(special=True),
       code=Code(numpy="(-{0})", torch="(-{0})"),
       sympy=lambda s, node, a: -a,
       stable=(),
       scalar="-a is the negated number",
       cost="cheap",
       tensors=True)

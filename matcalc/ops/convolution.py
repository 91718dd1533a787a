"""1-D convolution as deep-learning frameworks define it, and the full convolution its adjoint
needs.  One entry per operation (see :mod:`matcalc.ops.operation`).

``conv1d(x, w)`` is the valid cross-correlation ``y[i] = sum_j w[j] x[i + j]`` (no kernel flip,
length n - k + 1: ``numpy.correlate(x, w, "valid")``, PyTorch's ``conv1d``); ``convolve(g, w)``
is the full convolution ``z[t] = sum_j w[j] g[t - j]`` (length m + k - 1, ``numpy.convolve``).
A matrix operand holds one signal (or kernel) per column: a vector pairs with every column of
the other operand, two matrices pair column by column (Goodfellow, Bengio & Courville, Deep
Learning (2016), sec. 9.1 and 9.5, for the adjoints).
"""

from __future__ import annotations

from ..core.algebra import add, call, identity, like, matmul, ones_vector
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import convolution_shape
from ..core.shapes import Kind
from ..errors import UnsupportedError
from .operation import defbilinear


def _summed_to(value: Node, argument: Node) -> Node:
    """A cotangent computed column by column, summed over the columns a vector argument was
    paired with (the vector met every column)."""
    if argument.kind is Kind.VECTOR and value.kind is Kind.MATRIX:
        return matmul(value, ones_vector(value.shape.cols))
    return like(value, argument)


def pull_signal(node, out, g):
    """G : conv1d(dx, w) = convolve(G, w) : dx, the full convolution of the cotangent with the
    kernel."""
    return _summed_to(call("convolve", g, node.args[1]), node.args[0])


def pull_kernel(node, out, g):
    """G : conv1d(x, dw) = conv1d(x, G) : dw, the valid correlation of the input with the
    cotangent."""
    return _summed_to(call("conv1d", node.args[0], g), node.args[1])


def pull_convolved(node, out, g):
    """G : convolve(dg, w) = conv1d(G, w) : dg."""
    return _summed_to(call("conv1d", g, node.args[1]), node.args[0])


def pull_convolving(node, out, g):
    """G : convolve(g, dw) = conv1d(G, g) : dw."""
    return _summed_to(call("conv1d", g, node.args[0]), node.args[1])


def _vectors_only(node: Node) -> None:
    if any(arg.kind is not Kind.VECTOR for arg in node.args):
        raise UnsupportedError(f"the Jacobian of {node.op} over several columns (channels) is "
                               f"not supported: {node}; ask for gradients, or use vectors")


def vec_convolution(node, out, js):
    """d conv1d(x, w) = conv1d(I, w) dx + conv1d(x, I) dw and d convolve(g, w) = convolve(I, w)
    dg + convolve(g, I) dw: the operation applied to each column of I is its matrix (Toeplitz
    for the signal, Hankel for the kernel)."""
    _vectors_only(node)
    a, b = node.args
    first = second = None
    if js[0] is not None:
        first = matmul(call(node.op, identity(a.shape.rows), b), js[0])
    if js[1] is not None:
        second = matmul(call(node.op, a, identity(b.shape.rows)), js[1])
    return add(first, second)


defbilinear('conv1d',
            lambda a, b: call("conv1d", a, b),
            'd conv1d(x, w) = conv1d(dx, w) + conv1d(x, dw): it is bilinear.',
            adjoints=(pull_signal, pull_kernel),
            jacobian=vec_convolution,
            shape=convolution_shape(False),
            syntax=Syntax("conv1d"),
            latex=Latex(template=r"\operatorname{{conv1d}}\left({0}, {1}\right)"),
            code=Code(numpy="_conv1d({0}, {1})", torch="_conv1d({0}, {1})", helpers=("_conv1d",)),
            sympy=lambda s, node, a, b: s.no_form(node),
            stable=(),
            scalar="conv1d takes vectors (a signal in each column), not numbers",
            cost="cheap")
defbilinear('convolve',
            lambda a, b: call("convolve", a, b),
            'd convolve(g, w) = convolve(dg, w) + convolve(g, dw): it is bilinear.',
            adjoints=(pull_convolved, pull_convolving),
            jacobian=vec_convolution,
            shape=convolution_shape(True),
            syntax=Syntax("convolve"),
            latex=Latex(template=r"\operatorname{{convolve}}\left({0}, {1}\right)"),
            code=Code(numpy="_convolve({0}, {1})", torch="_convolve({0}, {1})",
            helpers=("_convolve",)),
  sympy=lambda s, node, a, b: s.no_form(node),
  stable=(),
  scalar="convolve takes vectors (a signal in each column), not numbers",
  cost="cheap")

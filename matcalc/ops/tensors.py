"""Sums along an axis of a tensor, and their adjoint: repeating along a new axis.

``sum(X, a)`` of a tensor removes the axis ``a`` (NumPy's ``np.sum(X, axis=a)``); ``expand(G,
a, n)`` puts a new axis of n copies at position ``a`` (``np.expand_dims`` broadcast to n), the
cotangent a sum along that axis passes back.  The rules of softmax and logsumexp along the last
axis of a tensor are written with the two (:func:`softmax_pullback`, ...).  One entry per
operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import Term, call, mul, sub
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..core.shapes import Kind
from ..core.tensor_shapes import axis_sum_shape, expand_shape
from ..errors import UnsupportedError
from .operation import define


def axis_sum(x: Term, axis: int) -> Term:
    """sum(x, axis) of a tensor (None stays None)."""
    return None if x is None else ir.apply("axis_sum", x, params=(axis,))


def expand(g: Term, axis: int, n) -> Term:
    """expand(g, axis, n): g repeated n times along a new axis; of ones, ones, and a number
    scaling g scales the repeated g (expand(-ones / c) = -ones / c)."""
    if g is None:
        return None
    if g.op == "neg":
        return ir.apply("neg", expand(g.args[0], axis, n))
    if g.op in ("mul", "div") and g.args[1].is_scalar:
        return ir.apply(g.op, expand(g.args[0], axis, n), g.args[1])
    if g.op == "mul" and g.args[0].is_scalar:
        return ir.apply("mul", g.args[0], expand(g.args[1], axis, n))
    repeated = ir.apply("expand", g, params=(axis, n))
    if g.op == "ones":
        return ir.ones(repeated.shape.rows, repeated.shape.cols, Kind.TENSOR,
                       repeated.shape.lead)
    return repeated


def d_axis_sum(node, out, ds):
    """d sum(X, a) = sum(dX, a): a sum is linear."""
    return axis_sum(ds[0], node.params[0])


def pull_axis_sum(node, out, g):
    """G : sum(dX, a) = expand(G, a, n) : dX, n the length of axis a: each entry of dX meets
    the entry of G it was summed into."""
    axis = node.params[0]
    return expand(g, axis, node.args[0].shape.dims[axis])


def d_expand(node, out, ds):
    """d expand(G, a, n) = expand(dG, a, n): repeating is linear."""
    return expand(ds[0], *node.params)


def pull_expand(node, out, g):
    """H : expand(dG, a, n) = sum(H, a) : dG: the copies' cotangents add up."""
    return axis_sum(g, node.params[0])


def no_jacobian(node, out, js):
    """d vec(op(X)) = J : none here, Jacobians through tensors are not supported."""
    raise UnsupportedError("a Jacobian or Hessian through a tensor is not supported; "
                           "gradients of a scalar are")


def last_axis(x: Node) -> int:
    return len(x.shape.dims) - 1


def softmax_differential(x: Node, s: Node, dx: Term) -> Term:
    """d softmax(X) = S * (dX - expand(sum(S * dX, -1), -1, n)) along the last axis of a
    tensor (each row of each batch entry: d s = s * (dx - s' dx))."""
    axis = last_axis(x)
    return mul(s, sub(dx, expand(axis_sum(mul(s, dx), axis), axis, x.shape.cols)))


def softmax_pullback(x: Node, s: Node, g: Node) -> Term:
    """G : d softmax(X) = (S * (G - expand(sum(S * G, -1), -1, n))) : dX; for the cotangent
    G = expand(a, -1, k) * onehot(y) that pick(S, y) passes back, that is
    expand(a * pick(S, y), -1, k) * (onehot(y) - S), as sum(S * onehot(y), -1) = pick(S, y)."""
    axis = last_axis(x)
    if g.op == "mul" and g.args[0].op == "expand" and g.args[1].op == "onehot" and \
            g.args[0].params[0] == axis:
        a, onehot = g.args[0].args[0], g.args[1]
        picked = mul(a, call("pick", s, onehot.args[0]))
        return mul(expand(picked, axis, x.shape.cols), sub(onehot, s))
    return softmax_differential(x, s, g)


def logsumexp_differential(x: Node, dx: Term) -> Term:
    """d logsumexp(X) = sum(softmax(X) * dX, -1) along the last axis of a tensor."""
    return axis_sum(mul(call("softmax", x), dx), last_axis(x))


def logsumexp_pullback(x: Node, g: Node) -> Term:
    """G : d logsumexp(X) = (expand(G, -1, n) * softmax(X)) : dX for a tensor X (1 * S = S
    when G is ones)."""
    spread = expand(g, last_axis(x), x.shape.cols)
    return call("softmax", x) if spread.op == "ones" else mul(spread, call("softmax", x))


define('axis_sum',
       differential=d_axis_sum,
       adjoints=(pull_axis_sum,),
       jacobian=no_jacobian,
       shape=axis_sum_shape,
       syntax=Syntax("sum"),
       latex=Latex(special=True),
       code=Code(numpy="np.sum({0}, axis={axis})", torch="torch.sum({0}, dim={axis})",
                 params=("axis",)),
       sympy=lambda s, node, a: s.no_form(node),
       stable=(),
       scalar="sum(a, axis) = a",
       cost="cheap",
       tensors=True)
define('expand',
       differential=d_expand,
       adjoints=(pull_expand,),
       jacobian=no_jacobian,
       shape=expand_shape,
       syntax=Syntax("expand"),
       latex=Latex(special=True),
       code=Code(numpy="_expand({0}, {axis}, {n})", torch="_expand({0}, {axis}, {n})",
                 helpers=("_expand",), params=("axis", "n")),
       sympy=lambda s, node, a: s.no_form(node),
       stable=(),
       scalar="expand(a, axis, n) = a repeated",
       cost="cheap",
       tensors=True)

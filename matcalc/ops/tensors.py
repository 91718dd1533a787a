"""Sums along an axis of a tensor, their adjoint (repeating along a new axis), and softmax,
log_softmax and logsumexp along any axis of a tensor.

``sum(X, a)`` of a tensor removes the axis ``a`` (NumPy's ``np.sum(X, axis=a)``); ``expand(G,
a, n)`` puts a new axis of n copies at position ``a`` (``np.expand_dims`` broadcast to n), the
cotangent a sum along that axis passes back.  The rules of softmax, log_softmax and logsumexp of
a tensor are written with the two, for any axis (one set: :func:`d_softmax_along`, ...): the
plain operations use them along a tensor's last axis, ``axis_softmax``, ``axis_log_softmax`` and
``axis_logsumexp`` (``softmax(X, 0)``, the axis a parameter) along another.  One entry per
operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import Term, call, mul, sub
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..core.shapes import Kind
from ..core.tensor_shapes import axis_sum_shape, expand_shape, kept_along, reduced_along
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


def axis_of(node: Node) -> int:
    """The axis a softmax, log_softmax or logsumexp of a tensor runs along: its parameter
    (``softmax(X, 0)``), else the last."""
    return node.params[0] if node.params else len(node.args[0].shape.dims) - 1


def softmax_along(x: Node, axis: int) -> Node:
    """softmax(X, axis) of a tensor: the softmax along its last axis, axis_softmax along
    another."""
    if axis == len(x.shape.dims) - 1:
        return call("softmax", x)
    return call("axis_softmax", x, params=(axis,))


def _centred(s: Node, t: Term, x: Node, axis: int) -> Term:
    """t - expand(sum(S * t, a), a, n): t less its S-weighted sum along the axis a."""
    return sub(t, expand(axis_sum(mul(s, t), axis), axis, x.shape.dims[axis]))


def _spread(g: Term, x: Node, axis: int) -> Term:
    """expand(g, a, n) * softmax(X, a) (the softmax alone when g is ones)."""
    s = softmax_along(x, axis)
    spread = expand(g, axis, x.shape.dims[axis])
    return s if spread.op == "ones" else mul(spread, s)


def d_softmax_along(node, out, ds):
    """d softmax(X, a) = S * (dX - expand(sum(S * dX, a), a, n)): along each line of the axis
    a, d s = s * (dx - s' dx)."""
    return mul(out, _centred(out, ds[0], node.args[0], axis_of(node)))


def pull_softmax_along(node, out, g):
    """G : d softmax(X, a) = (S * (G - expand(sum(S * G, a), a, n))) : dX (the differential
    is self-adjoint); along the last axis, for the cotangent G = expand(c, -1, k) * onehot(y)
    that pick(S, y) passes back, that is expand(c * pick(S, y), -1, k) * (onehot(y) - S), as
    sum(S * onehot(y), -1) = pick(S, y)."""
    x, axis = node.args[0], axis_of(node)
    if axis == len(x.shape.dims) - 1 and g.op == "mul" and g.args[0].op == "expand" and \
            g.args[1].op == "onehot" and g.args[0].params[0] == axis:
        c, onehot = g.args[0].args[0], g.args[1]
        picked = mul(c, call("pick", out, onehot.args[0]))
        return mul(expand(picked, axis, x.shape.cols), sub(onehot, out))
    return mul(out, _centred(out, g, x, axis))


def d_log_softmax_along(node, out, ds):
    """d log_softmax(X, a) = dX - expand(sum(S * dX, a), a, n) with S = softmax(X, a)
    (log_softmax(X, a) = X - expand(logsumexp(X, a), a, n))."""
    x, axis = node.args[0], axis_of(node)
    return _centred(softmax_along(x, axis), ds[0], x, axis)


def pull_log_softmax_along(node, out, g):
    """G : d log_softmax(X, a) = (G - expand(sum(G, a), a, n) * S) : dX, S = softmax(X, a):
    each line's cotangent less its sum times the line's softmax."""
    x, axis = node.args[0], axis_of(node)
    return sub(g, _spread(axis_sum(g, axis), x, axis))


def d_logsumexp_along(node, out, ds):
    """d logsumexp(X, a) = sum(softmax(X, a) * dX, a): the axis a removed."""
    x, axis = node.args[0], axis_of(node)
    return axis_sum(mul(softmax_along(x, axis), ds[0]), axis)


def pull_logsumexp_along(node, out, g):
    """G : d logsumexp(X, a) = (expand(G, a, n) * softmax(X, a)) : dX."""
    return _spread(g, node.args[0], axis_of(node))


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
for _name, _differential, _adjoint, _shape, _code, _scalar in (
        ("softmax", d_softmax_along, pull_softmax_along, kept_along("softmax"),
         ("_softmax({0}, {axis})", "torch.softmax({0}, dim={axis})"), "softmax(a) = 1"),
        ("log_softmax", d_log_softmax_along, pull_log_softmax_along, kept_along("log_softmax"),
         ("_log_softmax({0}, {axis})", "torch.log_softmax({0}, dim={axis})"),
         "log_softmax(a) = 0"),
        ("logsumexp", d_logsumexp_along, pull_logsumexp_along, reduced_along("logsumexp"),
         ("_logsumexp({0}, {axis}, False)", "_logsumexp({0}, {axis}, False)"),
         "logsumexp(a) = a")):
    define(f"axis_{_name}",  # along an axis of a tensor other than its last
           differential=_differential,
           adjoints=(_adjoint,),
           jacobian=no_jacobian,
           shape=_shape,
           syntax=Syntax(_name, params=(None,)),
           latex=Latex(template=rf"\operatorname{{{{{_name.replace('_', chr(92) + '_')}}}}}"
                                r"\left({0}, {1}\right)"),
           code=Code(numpy=_code[0], torch=_code[1], helpers=(f"_{_name}",), params=("axis",)),
           sympy=lambda s, node, a: s.no_form(node),
           stable=(),
           scalar=_scalar + " (along an axis of a tensor)",
           cost="costly",
           tensors=True,
           values="unit" if _name == "softmax" else "real")

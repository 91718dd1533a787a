"""Class labels: onehot(y), the N x k indicator matrix of ``y : labels(N, k)``, and
pick(P, y), the vector of P[i, y[i]] (linear in P).  Labels are data: never differentiated.

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core.algebra import call, identity, like, matmul, mul, ones_vector, transpose, vec
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import onehot_shape, pick_shape
from ..core.shapes import Kind
from .operation import define
from .tensors import expand


def d_onehot(node, out, ds):
    """d onehot(y) = 0: labels do not move."""
    return None


def pull_onehot(node, out, g):
    """G : d onehot(y) = 0: labels get no gradient."""
    return None


def vec_onehot(node, out, js):
    """vec(d onehot(y)) = 0: labels do not move."""
    return None


def d_pick(node, out, ds):
    """d pick(P, y) = pick(dP, y): picking entries is linear in P."""
    return call("pick", ds[0], node.args[1]) if ds[0] is not None else None


def pull_picked(node, out, g):
    """g : pick(dP, y) = (Diag(g) @ onehot(y)) : dP, g spread to the picked entry of each row."""
    p, y = node.args
    if p.kind is Kind.TENSOR:  # a grid of labels: expand(g, -1, k) * onehot(y)
        return mul(expand(g, 2, p.shape.cols), call("onehot", y))
    return like(matmul(call("Diag", g), call("onehot", y)), p)


def pull_labels(node, out, g):
    """g : d pick(P, y) = 0 as y moves: labels get no gradient."""
    return None


def vec_pick(node, out, js):
    """vec(pick(dP, y)) = kron(1', I_N) Diag(vec(onehot(y))) vec(dP): the entries of onehot(y)
    select, the blocks of N add up."""
    p, y = node.args
    if js[0] is None:
        return None
    select = call("kron", transpose(ones_vector(p.shape.cols)), identity(p.shape.rows))
    return matmul(matmul(select, call("Diag", vec(call("onehot", y)))), js[0])


define('onehot',
       differential=d_onehot,
       adjoints=(pull_onehot,),
       jacobian=vec_onehot,
       shape=onehot_shape,
       syntax=Syntax("onehot"),
       latex=Latex(command=r"\operatorname{onehot}"),
       code=Code(numpy="_onehot({0}, {cols}, {keep}, _dtype)",
                 torch="_onehot({0}, {cols}, {keep}, _dtype)", helpers=("_onehot",)),
       sympy=lambda s, node, a: s.no_form(node),
       stable=(),
       scalar="onehot takes labels, not numbers",
       cost="cheap")
define('pick',
       differential=d_pick,
       adjoints=(pull_picked, pull_labels),
       jacobian=vec_pick,
       shape=pick_shape,
       syntax=Syntax("pick"),
       latex=Latex(template=r"\operatorname{{pick}}\left({0}, {1}\right)"),
       code=Code(numpy="_pick({0}, {1})", torch="_pick({0}, {1})", helpers=("_pick",)),
       sympy=lambda s, node, a, b: s.no_form(node),
       stable=(),
       scalar="pick takes a matrix and labels, not numbers",
       cost="cheap",
       tensors=True)

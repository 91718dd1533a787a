"""Reductions to a number: sum, mean and trace.

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import (
    call,
    div,
    identity,
    matmul,
    mul,
    ones_like,
    ones_vector,
    size,
    transpose,
    vec,
)
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import scalar_result, square_to_scalar
from .operation import define


def d_entry_sum(node, out, ds):
    """d sum(A) = sum(dA)."""
    return ds[0] if node.args[0].is_scalar else call("sum", ds[0])


def pull_sum(node, out, g):
    """g sum(dA) = (g 1) : dA."""
    a = node.args[0]
    return g if a.is_scalar else mul(g, ones_like(a))


def vec_entry_sum(node, out, js):
    """d sum(A) = 1' vec(dA)."""
    a = node.args[0]
    return js[0] if a.is_scalar else matmul(transpose(ones_vector(size(a))), js[0])


def d_mean(node, out, ds):
    """d mean(A) = mean(dA)."""
    return ds[0] if node.args[0].is_scalar else call("mean", ds[0])


def pull_mean(node, out, g):
    """g mean(dA) = (g / (m n) 1) : dA."""
    a = node.args[0]
    if a.is_scalar:
        return g
    return div(mul(g, ones_like(a)), ir.dimval(size(a)))


def vec_mean(node, out, js):
    """d mean(A) = 1' vec(dA) / (m n)."""
    total = vec_entry_sum(node, out, js)
    a = node.args[0]
    return total if a.is_scalar else div(total, ir.dimval(size(a)))


def d_trace(node, out, ds):
    """d tr(A) = tr(dA) (Cookbook eq. 36)."""
    return ds[0] if node.args[0].is_scalar else call("tr", ds[0])


def pull_trace(node, out, g):
    """g tr(dA) = (g I) : dA (Cookbook eq. 100)."""
    a = node.args[0]
    return g if a.is_scalar else mul(g, identity(a.shape.rows))


def vec_trace(node, out, js):
    """d tr(A) = vec(I)' vec(dA)."""
    a = node.args[0]
    return js[0] if a.is_scalar else matmul(transpose(vec(identity(a.shape.rows))), js[0])


define('sum',
       differential=d_entry_sum,
       adjoints=(pull_sum,),
       jacobian=vec_entry_sum,
       shape=scalar_result,
       syntax=Syntax("sum"),
       latex=Latex(command=r"\operatorname{sum}"),
       code=Code(numpy="np.sum({0})", torch="torch.sum({0})"),
       sympy=lambda s, node, a: a if node.args[0].is_scalar else s.EntrySum(a),
       stable=(),
       scalar="sum(a) = a",
       cost="cheap",
       tensors=True)
define('mean', differential=d_mean, adjoints=(pull_mean,), jacobian=vec_mean, shape=scalar_result,
       syntax=Syntax("mean"),
       latex=Latex(command=r"\operatorname{mean}"),
       code=Code(numpy="np.mean({0})", torch="torch.mean({0})"),
       sympy=lambda s, node, a: s.mean_form(node, a),
       stable=(),
       scalar="mean(a) = a",
       cost="cheap",
       tensors=True)
define('tr',
       differential=d_trace,
       adjoints=(pull_trace,),
       jacobian=vec_trace,
       shape=square_to_scalar("tr"),
       syntax=Syntax("tr"),
       latex=Latex(command=r"\operatorname{tr}", reads=("tr", "Tr")),
       code=Code(numpy="np.trace({0})", torch="torch.trace({0})", scalar="{0}"),
       sympy=lambda s, node, a: a if node.args[0].is_scalar else s.Trace(a),
       stable=(),
       scalar="tr(a) = a",
       cost="cheap")

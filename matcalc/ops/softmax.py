"""softmax, log_softmax and logsumexp, of a vector, of each row of a matrix, and along the last
axis of a tensor (ops/tensors.py has their rules along any axis of a tensor).

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core.algebra import (
    call,
    frob,
    identity,
    like,
    matmul,
    mul,
    ones_vector,
    sub,
    transpose,
    vec,
)
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import logsumexp_shape, same_shape
from ..core.shapes import Kind
from .operation import define
from .tensors import (
    d_log_softmax_along,
    d_logsumexp_along,
    d_softmax_along,
    pull_log_softmax_along,
    pull_logsumexp_along,
    pull_softmax_along,
)


def d_softmax(node, out, ds):
    """d s = (Diag(s) - s @ s') @ dx = s * (dx - s' @ dx); for each row of a matrix,
    dS = S * dX - Diag((S * dX) @ 1) @ S."""
    x = node.args[0]
    if x.is_scalar:
        return None
    if x.kind is Kind.TENSOR:  # along its last axis
        return d_softmax_along(node, out, ds)
    if x.kind is Kind.VECTOR:
        return mul(out, sub(ds[0], matmul(transpose(out), ds[0])))
    weighted = mul(out, ds[0])
    return sub(weighted, matmul(call("Diag", matmul(weighted, ones_vector(x.shape.cols))), out))


def pull_softmax(node, out, g):
    """G : d softmax(x) = (s * (G - s' @ G)) : dx with d s = (Diag(s) - s @ s') dx; for each row
    of a matrix, (S * G - Diag((S * G) @ 1) @ S) : dX."""
    x = node.args[0]
    if x.is_scalar:
        return None
    if x.kind is Kind.TENSOR:  # the differential is self-adjoint: S * (G - sum(S * G) ...)
        return pull_softmax_along(node, out, g)
    if x.kind is Kind.VECTOR:
        return mul(out, sub(g, matmul(transpose(out), g)))
    picked = _picked_cotangent(g)
    if picked is not None:  # G = Diag(a) @ onehot(y), from pick(softmax(X), y)
        a, onehot = picked
        return like(matmul(call("Diag", mul(a, call("pick", out, onehot.args[0]))),
                           sub(onehot, out)), x)
    weighted = mul(out, g)
    row_sums = matmul(weighted, ones_vector(x.shape.cols))
    return like(sub(weighted, matmul(call("Diag", row_sums), out)), x)


def _picked_cotangent(g):
    """``(a, onehot(y))`` when ``g`` is ``Diag(a) @ onehot(y)``, the cotangent that pick(S, y)
    passes back: then S * G - Diag((S * G) @ 1) @ S = Diag(a * pick(S, y)) @ (onehot(y) - S),
    as (S * onehot(y)) @ 1 = pick(S, y)."""
    if g.op != "matmul":
        return None
    left, right = g.args
    if left.op == "Diag" and right.op == "onehot":
        return left.args[0], right
    return None


def vec_softmax(node, out, js):
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


def _spread_rows(rows, x):
    """A number per row of x (a scalar for a vector or row vector) spread over x's entries."""
    return rows if rows.is_scalar or x.kind is Kind.VECTOR else \
        matmul(rows, transpose(ones_vector(x.shape.cols)))


def d_log_softmax(node, out, ds):
    """d log_softmax(x) = dx - softmax(x)' dx; for each row of a matrix, dX - ((S * dX) @ 1)
    @ 1' with S = softmax(X) (log_softmax(x) = x - logsumexp(x))."""
    x = node.args[0]
    if x.is_scalar:
        return None
    if x.kind is Kind.TENSOR:
        return d_log_softmax_along(node, out, ds)
    s = call("softmax", x)
    if x.kind is Kind.VECTOR:
        return sub(ds[0], frob(s, ds[0]))
    return sub(ds[0], _spread_rows(matmul(mul(s, ds[0]), ones_vector(x.shape.cols)), x))


def pull_log_softmax(node, out, g):
    """G : d log_softmax(X) = (G - softmax(X) * (G @ 1)) : dX, each row's cotangent less its
    sum times the row's softmax (for a vector, g - sum(g) softmax(x))."""
    x = node.args[0]
    if x.is_scalar:
        return None
    if x.kind is Kind.TENSOR:
        return pull_log_softmax_along(node, out, g)
    s = call("softmax", x)
    if x.kind in (Kind.VECTOR, Kind.ROW):
        return sub(g, mul(call("sum", g), s))
    return like(sub(g, matmul(call("Diag", matmul(g, ones_vector(x.shape.cols))), s)), x)


def d_logsumexp(node, out, ds):
    """d logsumexp(x) = softmax(x) : dx; for the rows of X, (softmax(X) * dX) @ 1."""
    x = node.args[0]
    if x.is_scalar:
        return ds[0]
    if x.kind is Kind.TENSOR:
        return d_logsumexp_along(node, out, ds)
    if x.kind is Kind.MATRIX:
        return matmul(mul(call("softmax", x), ds[0]), ones_vector(x.shape.cols))
    return frob(call("softmax", x), ds[0])


def pull_logsumexp(node, out, g):
    """g d logsumexp(x) = (g softmax(x)) : dx; for the rows of X, (Diag(G) @ softmax(X)) : dX."""
    x = node.args[0]
    if x.is_scalar:
        return g
    if x.kind is Kind.TENSOR:
        return pull_logsumexp_along(node, out, g)
    if x.kind is Kind.MATRIX:
        return matmul(call("Diag", g), call("softmax", x))
    return mul(g, call("softmax", x))


def vec_logsumexp(node, out, js):
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


define('softmax',
       differential=d_softmax,
       adjoints=(pull_softmax,),
       jacobian=vec_softmax,
       shape=same_shape,
       syntax=Syntax("softmax"),
       latex=Latex(command=r"\operatorname{softmax}"),
       code=Code(numpy="_softmax({0}, {axis})", torch="torch.softmax({0}, dim={axis})",
                 helpers=("_softmax",), scalar="1.0"),
       sympy=lambda s, node, a: s.softmax_form(node, a),
       stable=(),
       scalar="softmax(a) = 1",
       cost="costly",
       tensors=True,
       values="unit")
define('log_softmax',
       differential=d_log_softmax,
       adjoints=(pull_log_softmax,),
       shape=same_shape,
       syntax=Syntax("log_softmax"),
       latex=Latex(command=r"\operatorname{log\_softmax}"),
       code=Code(numpy="_log_softmax({0}, {axis})", torch="torch.log_softmax({0}, dim={axis})",
                 helpers=("_log_softmax",), scalar="0.0"),
       sympy=lambda s, node, a: s.no_form(node),
       stable=(),
       scalar="log_softmax(a) = 0",
       cost="costly",
       tensors=True)
define('logsumexp',
       differential=d_logsumexp,
       adjoints=(pull_logsumexp,),
       jacobian=vec_logsumexp,
       shape=logsumexp_shape,
       syntax=Syntax("logsumexp"),
       latex=Latex(command=r"\operatorname{logsumexp}"),
       code=Code(numpy="_logsumexp({0}, {axis}, {keep})", torch="_logsumexp({0}, {axis}, {keep})",
       helpers=("_logsumexp",), scalar="{0}"),
       sympy=lambda s, node, a: s.logsumexp_form(node, a),
       stable=(),
       scalar="logsumexp(a) = a",
       cost="costly",
       tensors=True)

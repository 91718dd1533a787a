"""Functions of a whole matrix: det, logdet, inv and the norms.

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core.algebra import (
    call,
    div,
    frob,
    matmul,
    mul,
    neg,
    transpose,
    vec,
)
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import norm2_shape, scalar_result, square_to_same, square_to_scalar
from .operation import define


def d_determinant(node, out, ds):
    """d det(A) = det(A) tr(inv(A) @ dA) (Cookbook eq. 42)."""
    a = node.args[0]
    if a.is_scalar:
        return ds[0]
    return mul(out, call("tr", matmul(call("inv", a), ds[0])))


def pull_determinant(node, out, g):
    """g d det(A) = (g det(A) inv(A)') : dA (Cookbook eq. 49)."""
    a = node.args[0]
    return g if a.is_scalar else mul(mul(g, out), transpose(call("inv", a)))


def vec_determinant(node, out, js):
    """d det(A) = det(A) vec(inv(A)')' vec(dA) (Cookbook eq. 49)."""
    a = node.args[0]
    if a.is_scalar:
        return js[0]
    return mul(out, matmul(transpose(vec(transpose(call("inv", a)))), js[0]))


def d_log_determinant(node, out, ds):
    """d logdet(A) = tr(inv(A) @ dA) (Cookbook eq. 43)."""
    a = node.args[0]
    if a.is_scalar:
        return div(ds[0], a)
    return call("tr", matmul(call("inv", a), ds[0]))


def pull_log_determinant(node, out, g):
    """g d logdet(A) = (g inv(A)') : dA (Cookbook eq. 57)."""
    a = node.args[0]
    return div(g, a) if a.is_scalar else mul(g, transpose(call("inv", a)))


def vec_log_determinant(node, out, js):
    """d logdet(A) = vec(inv(A)')' vec(dA) (Cookbook eq. 57)."""
    a = node.args[0]
    if a.is_scalar:
        return div(js[0], a)
    return matmul(transpose(vec(transpose(call("inv", a)))), js[0])


def d_inverse(node, out, ds):
    """d inv(A) = -inv(A) @ dA @ inv(A) (Cookbook eq. 40)."""
    if node.args[0].is_scalar:
        return neg(mul(mul(out, out), ds[0]))
    return neg(matmul(matmul(out, ds[0]), out))


def pull_inverse(node, out, g):
    """G : d inv(A) = -(inv(A)' @ G @ inv(A)') : dA, from d inv(A) = -inv(A) dA inv(A)
    (Cookbook eq. 59)."""
    if node.args[0].is_scalar:
        return neg(mul(g, mul(out, out)))
    return neg(matmul(matmul(transpose(out), g), transpose(out)))


def vec_inverse(node, out, js):
    """vec(d inv(A)) = -kron(inv(A)', inv(A)) vec(dA) (Cookbook eq. 59 and 520)."""
    if node.args[0].is_scalar:
        return neg(mul(mul(out, out), js[0]))
    return neg(matmul(call("kron", transpose(out), out), js[0]))


def d_norm(node, out, ds):
    """d norm(A) = (A : dA) / norm(A)."""
    a = node.args[0]
    if a.is_scalar:
        return mul(call("sign", a), ds[0])
    return div(frob(a, ds[0]), out)


def pull_norm(node, out, g):
    """g d norm(A) = (g A / norm(A)) : dA (Cookbook eq. 129)."""
    a = node.args[0]
    if a.is_scalar:
        return mul(g, call("sign", a))
    return mul(g, div(a, out))


def vec_norm(node, out, js):
    """d norm(A) = vec(A)' vec(dA) / norm(A)."""
    a = node.args[0]
    if a.is_scalar:
        return mul(call("sign", a), js[0])
    return div(matmul(transpose(vec(a)), js[0]), out)


define('det',
       differential=d_determinant,
       adjoints=(pull_determinant,),
       jacobian=vec_determinant,
       shape=square_to_scalar("det"),
       syntax=Syntax("det"),
       latex=Latex(command=r"\det", reads=("det",)),
       code=Code(numpy="np.linalg.det({0})", torch="torch.linalg.det({0})", scalar="{0}"),
       sympy=lambda s, node, a: a if node.args[0].is_scalar else s.Determinant(a),
       stable=(),
       scalar="det(a) = a",
       cost="costly")
define('logdet',
       differential=d_log_determinant,
       adjoints=(pull_log_determinant,),
       jacobian=vec_log_determinant,
       shape=square_to_scalar("logdet"),
       syntax=Syntax("logdet"),
       latex=Latex(command=r"\log\det"),  # read back as \log of \det (lang/latex.py)
       code=Code(numpy="_logdet({0})", torch="_logdet({0})", helpers=("_logdet",),
       scalar="np.log({0})"),
       sympy=lambda s, node, a: s.sp.log(a if node.args[0].is_scalar else s.Determinant(a)),
       stable=(),
       scalar="logdet(a) = log(a)",
       cost="costly",
       domain="invertible",
       check="conditioned")
define('inv',
       differential=d_inverse,
       adjoints=(pull_inverse,),
       jacobian=vec_inverse,
       shape=square_to_same("inv"),
       syntax=Syntax("inv"),
       latex=Latex(power="-1"),
       code=Code(numpy="np.linalg.inv({0})", torch="torch.linalg.inv({0})",
                 scalar="(1.0 / {0})"),
       sympy=lambda s, node, a: 1 / a if node.args[0].is_scalar else s.Inverse(a),
       stable=(),
       scalar="inv(a) = 1 / a",
       cost="costly",
       domain="invertible",
       check="conditioned",
       symmetry="arguments")  # inv(S)' = inv(S') = inv(S)
define('norm2', differential=d_norm, adjoints=(pull_norm,), jacobian=vec_norm, shape=norm2_shape,
       syntax=Syntax("norm2"),
       latex=Latex(template=r"\left\|{0}\right\|_2"),
       code=Code(numpy="np.linalg.norm({0})", torch="torch.linalg.norm({0})"),
       sympy=lambda s, node, a: s.sp.Abs(a) if node.args[0].is_scalar else s.FrobeniusNorm(a),
       stable=(),
       scalar="norm2(a) = abs(a)",
       cost="cheap",
       values="nonnegative")
define('norm', differential=d_norm, adjoints=(pull_norm,), jacobian=vec_norm, shape=scalar_result,
       syntax=Syntax("norm"),
       latex=Latex(template=r"\left\|{0}\right\|_F"),
       code=Code(numpy="np.linalg.norm({0})", torch="torch.linalg.norm({0})"),
       sympy=lambda s, node, a: s.sp.Abs(a) if node.args[0].is_scalar else s.FrobeniusNorm(a),
       stable=(),
       scalar="norm(a) = abs(a)",
       cost="cheap",
       values="nonnegative")

"""Functions of a symmetric matrix: the Cholesky factor and the symmetric eigenproblem.

``chol``, ``eigvalsh`` and ``eigvecsh`` are defined on symmetric matrices only; they act on the
symmetric part ``(S + S') / 2`` of their argument, so their differentials take ``(dS + dS') / 2``
and their gradients are symmetric: the gradient of ``f(chol((S + S') / 2))``, as ``jax.grad``
gives it (docs/guide.md, "Symmetric matrices").  Eigenvalues come ascending; each eigenvector
has its entry of largest magnitude positive (a sign convention: only uses that do not depend on
the signs, such as ``V @ Diag(f(l)) @ V'``, mean anything beyond it).

Sources: I. Murray, *Differentiation of the Cholesky decomposition* (2016), sec. 2 (``Phi``);
J. R. Magnus & H. Neudecker, *Matrix Differential Calculus* (3rd ed.), ch. 8 sec. 8-9 (the
eigenvalues and eigenvectors of a symmetric matrix).

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import (
    add,
    call,
    const,
    identity,
    matmul,
    mul,
    neg,
    ones_vector,
    sub,
    transpose,
    vec,
)
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import gap_shape, matrix_function_shape
from .operation import define


def symmetric_part(d: Node) -> Node:
    """sym(dS) = (dS + dS') / 2: the direction a function of a symmetric matrix sees."""
    return call("sym", d)


def d_sym(node, out, ds):
    """d sym(A) = sym(dA): sym is linear."""
    return call("sym", ds[0])


def pull_sym(node, out, g):
    """G : sym(dA) = sym(G) : dA: sym is its own adjoint (an orthogonal projection)."""
    return call("sym", g)


def vec_sym(node, out, js):
    """vec(sym(dA)) = (I + K) vec(dA) / 2, K the commutation matrix (Magnus & Neudecker,
    ch. 3 sec. 7)."""
    if node.is_scalar:
        return js[0]
    n = node.shape.rows
    return matmul(mul(const(0.5), add(identity(n * n), ir.commutation(n, n))), js[0])


def d_cholesky(node, out, ds):
    """d chol(S) = L @ Phi(inv(L) @ sym(dS) @ inv(L)'), L = chol(S), sym(dS) = (dS + dS') / 2
    (Murray 2016, sec. 2)."""
    inverse = call("inv", out)
    return matmul(out, call("Phi", matmul(matmul(inverse, symmetric_part(ds[0])),
                                          transpose(inverse))))


def d_phi(node, out, ds):
    """d Phi(A) = Phi(dA): Phi is linear (on a number, a / 2)."""
    return call("Phi", ds[0])


def pull_phi(node, out, g):
    """G : Phi(dA) = Phi(G) : dA: Phi scales each entry (by 1, 1/2 or 0), so it is its own
    adjoint."""
    return call("Phi", g)


def vec_phi(node, out, js):
    """vec(Phi(dA)) = Diag(vec(Phi(1 1'))) vec(dA)."""
    if node.is_scalar:
        return mul(const(0.5), js[0])
    n = node.shape.rows
    mask = call("Phi", matmul(ones_vector(n), transpose(ones_vector(n))))
    return matmul(call("Diag", vec(mask)), js[0])


def d_eigenvalues(node, out, ds):
    """d eigvalsh(S) = diag(V' @ dS @ V), V = eigvecsh(S) (Magnus & Neudecker, ch. 8 thm. 7)."""
    v = call("eigvecsh", node.args[0])
    return call("diag", matmul(matmul(transpose(v), ds[0]), v))


def d_eigenvectors(node, out, ds):
    """d eigvecsh(S) = V @ (F * (V' @ sym(dS) @ V)), F[i, j] = 1 / (l[j] - l[i]) off the
    diagonal, 0 on it, l = eigvalsh(S) (Magnus & Neudecker, ch. 8 thm. 8)."""
    gaps = call("eiggap", call("eigvalsh", node.args[0]))
    rotated = matmul(matmul(transpose(out), symmetric_part(ds[0])), out)
    return matmul(out, mul(gaps, rotated))


def d_gaps(node, out, ds):
    """d eiggap(l) = -(F * F) * (1 @ dl' - dl @ 1'), F = eiggap(l): d 1 / (l[j] - l[i]) =
    -(dl[j] - dl[i]) / (l[j] - l[i])^2."""
    if node.is_scalar:
        return None
    one = ones_vector(node.shape.rows)
    spread = sub(matmul(one, transpose(ds[0])), matmul(ds[0], transpose(one)))
    return neg(mul(mul(out, out), spread))


def _named(name: str) -> Latex:
    """\\operatorname{name}, read back as the operation."""
    return Latex(command=rf"\operatorname{{{name}}}", reads=(name,))


def _no_sympy(s, node, *args):
    return s.no_form(node)


define("sym", differential=d_sym, adjoints=(pull_sym,), jacobian=vec_sym,
       shape=matrix_function_shape("sym"), syntax=Syntax("sym"), latex=_named("sym"),
       code=Code(numpy="_sym({0})", torch="_sym({0})", helpers=("_sym",), scalar="{0}"),
       sympy=lambda s, node, a: a if node.is_scalar else (a + a.T) / 2, stable=(),
       scalar="sym(a) = a", cost="cheap")
define("chol", differential=d_cholesky, shape=matrix_function_shape("chol"),
       syntax=Syntax("chol"), latex=_named("chol"),
       code=Code(numpy="_chol({0})", torch="_chol({0})", helpers=("_chol",),
                 scalar="np.sqrt({0})"),
       sympy=_no_sympy, stable=(), scalar="chol(a) = sqrt(a)", cost="costly", domain="spd")
define("Phi", differential=d_phi, adjoints=(pull_phi,), jacobian=vec_phi,
       shape=matrix_function_shape("Phi"), syntax=Syntax("Phi"),
       latex=Latex(command=r"\Phi", reads=("Phi",)),
       code=Code(numpy="_phi({0})", torch="_phi({0})", helpers=("_phi",), scalar="(0.5 * {0})"),
       sympy=_no_sympy, stable=(), scalar="Phi(a) = a / 2", cost="cheap")
define("eigvalsh", differential=d_eigenvalues, shape=matrix_function_shape("eigvalsh", "vector"),
       syntax=Syntax("eigvalsh"), check="eigen gap", latex=_named("eigvalsh"),
       code=Code(numpy="_eigvalsh({0})", torch="_eigvalsh({0})", helpers=("_eigvalsh",),
                 scalar="{0}"),
       sympy=_no_sympy, stable=(), scalar="eigvalsh(a) = a", cost="costly",
       domain="symmetric")
define("eigvecsh", differential=d_eigenvectors, shape=matrix_function_shape("eigvecsh"),
       syntax=Syntax("eigvecsh"), check="eigen gap", latex=_named("eigvecsh"),
       code=Code(numpy="_eigvecsh({0})", torch="_eigvecsh({0})", helpers=("_eigvecsh",),
                 scalar="(0.0 * {0} + 1.0)"),
       sympy=_no_sympy, stable=(), scalar="eigvecsh(a) = 1", cost="costly",
       domain="symmetric")
define("eiggap", differential=d_gaps, shape=gap_shape, syntax=Syntax("eiggap"),
       latex=_named("eiggap"),
       code=Code(numpy="_eiggap({0})", torch="_eiggap({0})", helpers=("_eiggap",),
                 scalar="(0.0 * {0})"),
       sympy=_no_sympy, stable=(), scalar="eiggap(a) = 0", cost="costly")

"""Structure: Diag, diag, vec and unvec (all linear).

One entry per operation (see :mod:`matcalc.rules.operation`).
"""

from __future__ import annotations

from ...core.algebra import (
    call,
    identity,
    like,
    matmul,
    ones_vector,
    transpose,
    vec,
)
from ...core.shapes import Kind
from ..operation import deflinear


def pull_diag_matrix(node, out, g):
    """G : Diag(dx) = diag(G) : dx."""
    x = node.args[0]
    return g if x.is_scalar else like(call("diag", g), x)


def vec_diag_matrix(node, out, js):
    """vec(Diag(dx)) = Diag(vec(I)) kron(1, I) dx (the columns of Diag(dx) select dx)."""
    x = node.args[0]
    if x.is_scalar:
        return js[0]
    n = node.shape.rows
    select = matmul(call("Diag", vec(identity(n))), call("kron", ones_vector(n), identity(n)))
    return matmul(select, js[0])


def pull_diagonal(node, out, g):
    """g : diag(dA) = Diag(g) : dA."""
    a = node.args[0]
    return g if a.is_scalar else call("Diag", g)


def vec_diagonal(node, out, js):
    """diag(dA) = kron(1, I)' Diag(vec(I)) vec(dA)."""
    a = node.args[0]
    if a.is_scalar:
        return js[0]
    n = a.shape.rows
    select = matmul(transpose(call("kron", ones_vector(n), identity(n))),
                    call("Diag", vec(identity(n))))
    return matmul(select, js[0])


def pull_vec(node, out, g):
    """g : vec(dA) = unvec(g) : dA."""
    a = node.args[0]
    if a.kind is Kind.MATRIX:
        return call("unvec", g, params=(a.shape.rows, a.shape.cols))
    return like(g, a)


def vec_same(node, out, js):
    """vec(vec(dA)) = vec(dA); vec(unvec(dv)) = dv."""
    return js[0]


def pull_unvec(node, out, g):
    """G : unvec(dv) = vec(G) : dv."""
    return like(call("vec", g) if g.kind is Kind.MATRIX else g, node.args[0])


deflinear('Diag', adjoints=(pull_diag_matrix,), jacobian=vec_diag_matrix)
deflinear('diag', adjoints=(pull_diagonal,), jacobian=vec_diagonal)
deflinear('vec', adjoints=(pull_vec,), jacobian=vec_same)
deflinear('unvec', adjoints=(pull_unvec,), jacobian=vec_same)

"""Functions of a symmetric matrix: the Cholesky factor and the symmetric eigenproblem.

``chol``, ``eigvalsh`` and ``eigvecsh`` are defined on symmetric matrices only; they act on the
symmetric part ``(S + S') / 2`` of their argument, so their differentials take ``(dS + dS') / 2``
and their gradients are symmetric: the gradient of ``f(chol((S + S') / 2))``, as ``jax.grad``
gives it (docs/guide.md, "Symmetric matrices").

Sources: I. Murray, *Differentiation of the Cholesky decomposition* (2016), sec. 2 (``Phi``);
J. R. Magnus & H. Neudecker, *Matrix Differential Calculus* (3rd ed.), ch. 8 sec. 8-9 (the
eigenvalues and eigenvectors of a symmetric matrix).

One entry per operation (see :mod:`matcalc.rules.operation`).
"""

from __future__ import annotations

from ...core.algebra import (
    add,
    call,
    const,
    matmul,
    mul,
    neg,
    ones_vector,
    sub,
    transpose,
    vec,
)
from ...core.ir import Node
from ..operation import define, deflinear


def symmetric_part(d: Node) -> Node:
    """(dS + dS') / 2: the direction a function of a symmetric matrix sees."""
    return mul(const(0.5), add(d, transpose(d)))


def d_cholesky(node, out, ds):
    """d chol(S) = L @ Phi(inv(L) @ dS @ inv(L)'), L = chol(S), dS = (dS + dS') / 2
    (Murray 2016, sec. 2)."""
    inverse = call("inv", out)
    return matmul(out, call("Phi", matmul(matmul(inverse, symmetric_part(ds[0])),
                                          transpose(inverse))))


def pull_phi(node, out, g):
    """G : Phi(dA) = Phi(G) : dA: Phi scales each entry (by 1, 1/2 or 0), so it is its own
    adjoint."""
    return call("Phi", g)


def vec_phi(node, out, js):
    """vec(Phi(dA)) = Diag(vec(Phi(1 1'))) vec(dA)."""
    n = node.shape.rows
    mask = call("Phi", matmul(ones_vector(n), transpose(ones_vector(n))))
    return matmul(call("Diag", vec(mask)), js[0])


def d_eigenvalues(node, out, ds):
    """d eigvalsh(S) = diag(V' @ dS @ V), V = eigvecsh(S) (Magnus & Neudecker, ch. 8 thm. 7)."""
    v = call("eigvecsh", node.args[0])
    return call("diag", matmul(matmul(transpose(v), ds[0]), v))


def d_eigenvectors(node, out, ds):
    """d eigvecsh(S) = V @ (F * (V' @ dS @ V)), F[i, j] = 1 / (l[j] - l[i]) off the diagonal,
    0 on it, l = eigvalsh(S), dS = (dS + dS') / 2 (Magnus & Neudecker, ch. 8 thm. 8)."""
    gaps = call("eiggap", call("eigvalsh", node.args[0]))
    rotated = matmul(matmul(transpose(out), symmetric_part(ds[0])), out)
    return matmul(out, mul(gaps, rotated))


def d_gaps(node, out, ds):
    """d eiggap(l) = -(F * F) * (1 @ dl' - dl @ 1'), F = eiggap(l): d 1 / (l[j] - l[i]) =
    -(dl[j] - dl[i]) / (l[j] - l[i])^2."""
    n = node.shape.rows
    one = ones_vector(n)
    spread = sub(matmul(one, transpose(ds[0])), matmul(ds[0], transpose(one)))
    return neg(mul(mul(out, out), spread))


define("chol", differential=d_cholesky)
deflinear("Phi", adjoints=(pull_phi,), jacobian=vec_phi)
define("eigvalsh", differential=d_eigenvalues)
define("eigvecsh", differential=d_eigenvectors)
define("eiggap", differential=d_gaps)

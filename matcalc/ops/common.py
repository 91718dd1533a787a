"""Helpers the operations' Jacobian rules share.
"""

from __future__ import annotations

from ..core.algebra import (
    Term,
    add,
    call,
    matmul,
    mul,
    vec,
)
from ..core.ir import Node


def vec_hadamard(node, out, js):
    """vec(d(A * B)) = Diag(vec(B)) vec(dA) + Diag(vec(A)) vec(dB); a scalar factor a gives
    vec(B) da."""
    a, b = node.args
    return add(vec_factor(a, b, node, js[0]), vec_factor(b, a, node, js[1]))


def vec_factor(arg: Node, other: Node, node: Node, j: Term) -> Term:
    """The term of d(arg * other) from d(arg)."""
    if j is None:
        return None
    if arg.is_scalar and not node.is_scalar:
        return matmul(vec(other), j)
    return vec_scale_rows(other, j)


def vec_scale_rows(h: Node, j: Term) -> Term:
    """Diag(vec(h)) @ J: the Jacobian of h * A given the Jacobian J of A (h of A's shape)."""
    if j is None or h is None:
        return None
    if h.is_scalar:
        return mul(h, j)
    return matmul(call("Diag", vec(h)), j)




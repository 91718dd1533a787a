"""Rewrites of masks and triangles: a triangle of a triangle, a number out of a triangle, and a
mask that takes nothing away from what is already 0 behind it (a softmax of the masked scores
and its adjoint)."""

from __future__ import annotations

import math

from ..core.ir import Node
from .facts import Facts
from .rewrite import apply, rule


@rule('triangle-of-triangle', ops=('tril', 'triu'),
      example="A : matrix(n, n)\nf = tril(tril(A, 1), -1)")
def triangle_of_triangle(node: Node, facts: Facts) -> Node | None:
    """tril(tril(A, j), k) = tril(A, min(j, k)); triu(triu(A, j), k) = triu(A, max(j, k)):
    the entries kept by both."""
    inner = node.args[0]
    if inner.op != node.op:
        return None
    pick = min if node.op == "tril" else max
    return apply(node.op, inner.args[0], params=(pick(inner.params[0], node.params[0]),))


@rule('number-out-of-triangle', ops=('tril', 'triu'),
      example="A : matrix(n, n); c : scalar\nf = triu(c * A, 1)")
def number_out_of_triangle(node: Node, facts: Facts) -> Node | None:
    """tril(c * A, k) = c * tril(A, k) for a number c (triu likewise): a triangle is linear."""
    inner = node.args[0]
    if inner.op != "mul" or not inner.args[0].is_scalar or inner.args[1].is_scalar:
        return None
    return apply("mul", inner.args[0], apply(node.op, inner.args[1], params=node.params))


@rule('zero-behind-its-mask', ops=('where',),
      example="S, B : matrix(n, n)\nP = softmax(where(tril(ones(n, n)), S, -inf))\n"
              "f = where(tril(ones(n, n)), P * B - Diag((P * B) @ ones(n)) @ P, 0)")
def zero_behind_its_mask(node: Node, facts: Facts) -> Node | None:
    """where(C, A, 0) = A when A is 0 wherever C is: A = softmax(where(C, S, -inf)) (exp(-inf)
    = 0), or built of it by products, Diag scalings, sums and quotients by numbers (the
    softmax's adjoint P * G - Diag((P * G) @ 1) @ P)."""
    mask, taken, other = node.args
    if other.op != "const" or other.params[0] != 0.0:
        return None
    return taken if _zero_behind(taken, mask, facts, 0) else None


def _zero_behind(node: Node, mask: Node, facts: Facts, depth: int) -> bool:
    """Whether every entry of ``node`` where ``mask`` is 0 is 0 (for finite other factors)."""
    node = facts._resolve(node)
    if depth > 12:
        return False
    if node.op == "softmax":
        masked = facts._resolve(node.args[0])
        return masked.op == "where" and masked.args[0] is mask and \
            masked.args[2].op == "const" and masked.args[2].params[0] == -math.inf
    if node.op == "where":
        return node.args[0] is mask and node.args[2].op == "const" and \
            node.args[2].params[0] == 0.0
    if node.op == "mul":  # 0 * x = 0 for a finite x only
        a, b = node.args
        return (_zero_behind(a, mask, facts, depth + 1) and _finite(b, facts)) or \
            (_zero_behind(b, mask, facts, depth + 1) and _finite(a, facts))
    if node.op in ("add", "sub"):
        return all(_zero_behind(arg, mask, facts, depth + 1) for arg in node.args)
    if node.op in ("neg", "div"):
        return (node.op == "neg" or node.args[1].is_scalar) and \
            _zero_behind(node.args[0], mask, facts, depth + 1)
    if node.op == "matmul":  # Diag(v) @ A, A @ Diag(v): rows or columns scaled
        left, right = node.args
        return (left.op == "Diag" and _zero_behind(right, mask, facts, depth + 1)) or \
            (right.op == "Diag" and _zero_behind(left, mask, facts, depth + 1))
    return False


def _finite(node: Node, facts: Facts) -> bool:
    """Whether no infinity (the -inf branch of a where) enters ``node`` but through a softmax or
    logsumexp (finite), through its definitions too: where one could, 0 * x may be NaN, and the
    mask must stay."""
    # softmax and logsumexp are finite of -inf entries (a row has one)
    return not any(item.op == "const" and math.isinf(item.params[0]) for item in
                   facts.walked(node, into=lambda item: item.op not in ("softmax", "logsumexp")))

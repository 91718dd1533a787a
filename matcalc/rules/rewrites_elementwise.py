"""Elementwise (Hadamard) algebra in its textbook normal form: ones as the number 1, repeated
factors as powers, powers of powers joined."""

from __future__ import annotations

from ..core import ir
from ..core.ir import Node
from .facts import Facts
from .rewrite import apply, rule, same_shape


@rule('ones-as-one', ops=('add', 'sub', 'div'), example='y : vector(n)\nf = ones(n) - y')
def ones_as_one(node: Node, facts: Facts) -> Node | None:
    """ones + a = 1 + a; ones - a = 1 - a; a - ones = a - 1; ones / a = 1 / a, for an a of the
    shape of ones, itself not uniform and entry by entry (not a matrix product: ones(n, n) -
    A @ B stays, a sum of matrices)."""
    a, b = node.args
    if a.op == "ones" and _entrywise(b, node, facts):
        return apply(node.op, ir.const(1.0), b)
    if b.op == "ones" and _entrywise(a, node, facts) and node.op != "div":
        return apply(node.op, a, ir.const(1.0))
    return None


def _entrywise(operand: Node, node: Node, facts: Facts) -> bool:
    return same_shape(operand, node) and not facts.uniform(operand) and \
        operand.op not in ("matmul", "transpose", "kron", "identity", "Diag")

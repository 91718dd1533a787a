"""Code for tensor expressions that saves work: a batch sum of products as one product, the
softmax pullback without its temporaries.

``sum(A' @ M, 0)`` over the batch of two B x T x ... tensors is ``sum_b A_b' M_b``: the rows of
all batch entries stacked, one matrix product ``A_flat' @ M_flat`` (one GEMM of B*T rows instead
of B small ones and a sum), the way a weight shared across a batch collects its gradient.
``P * (D - expand(sum(P * D, a), a, n))``, the cotangent through a softmax P along axis a, is
computed as ``W = P * D; W -= P * sum(W, a)`` (two products of P's size, not four).
"""

from __future__ import annotations

from collections.abc import Callable

from ..core import ir
from ..core.algebra import chain
from ..core.ir import Node
from ..core.shapes import Kind

Value = Callable[[Node], str]  # the writer's code for a node (named when shared)
Inline = Callable[[Node], bool]  # whether a node is computed in one place only (not held)


def batch_sum_of_product(value: Value, node: Node) -> str:
    """``_batch_gram(A, M)`` for ``sum(A' @ M..., 0)`` of rank-3 tensors, or ""."""
    operands = batch_gram_operands(node)
    if operands is None:
        return ""
    return f"_batch_gram({value(operands[0])}, {value(operands[1])})"


def batch_gram_operands(node: Node) -> tuple[Node, Node] | None:
    """(A, M) of ``sum(A' @ M..., 0)`` of rank-3 tensors, with M the product of the factors
    after ``A'`` from left to right (the node the code computes), or None."""
    if node.op != "axis_sum" or node.params[0] != 0 or len(node.args[0].shape.dims) != 3:
        return None
    if node.args[0].op != "matmul":
        return None
    factors = chain(node.args[0])
    first, rest = factors[0], factors[1:]
    if first.op != "transpose" or first.args[0].kind is not Kind.TENSOR or \
            len(first.args[0].shape.lead) != 1:
        return None
    product = rest[0]
    for factor in rest[1:]:
        product = ir.apply("matmul", product, factor)
    if product.kind is not Kind.TENSOR or product.shape.lead != first.args[0].shape.lead:
        return None
    return first.args[0], product


def sized_number(node: Node) -> bool:
    """Whether ``node`` is a number made of sizes and constants alone (``sqrt(d)``): NumPy
    computes it as a float64 scalar, which would turn float32 arrays into float64."""
    return node.is_scalar and node.op not in ir.LEAVES and all(
        item.op in ("const", "dimval") for item in ir.walk(node) if not item.args)


def softmax_pullback(value: Value, node: Node, inline: Inline | None = None) -> str:
    """``_softmax_pullback(P, D, a)`` for ``P * (D - expand(sum(P * D, a), a, n))`` or the
    matrix form ``P * D - Diag((P * D) @ 1) @ P`` (rows), or ""; given ``inline`` (NumPy's
    helper takes a number), also for these times or divided by a number (``dS / sqrt(d)``)
    where the pullback itself is computed here only."""
    if inline is not None and node.op in ("mul", "div") and not node.is_scalar:
        number, inner = (node.args[1], node.args[0]) if node.args[1].is_scalar else \
            (node.args[0], node.args[1])
        if number.is_scalar and (node.op == "mul" or number is node.args[1]) and inline(inner):
            operands = _pullback_operands(inner)
            if operands:
                written = value(number)
                scale = f", {written}" if node.op == "mul" else f", (1 / {written})"
                p, d, axis = operands
                return f"_softmax_pullback({value(p)}, {value(d)}, {axis}{scale})"
    operands = _pullback_operands(node)
    if not operands:
        return ""
    p, d, axis = operands
    return f"_softmax_pullback({value(p)}, {value(d)}, {axis})"


def _spread_row_sums(node: Node) -> Node | None:
    """W for ``(W @ 1) @ 1'``, the row sums of a matrix W spread over its columns; else None."""
    if node.op != "matmul" or node.args[1].op != "transpose" or \
            node.args[1].args[0].op != "ones":
        return None
    sums = node.args[0]
    if sums.op != "matmul" or sums.args[1].op != "ones" or sums.args[0].kind is not Kind.MATRIX:
        return None
    return sums.args[0]


def _pullback_operands(node: Node) -> tuple[Node, Node, int] | None:
    """(P, D, axis) of ``P * (D - expand(sum(P * D, a), a, n))``, of ``P * (D - ((P * D) @ 1)
    @ 1')`` or of ``P * D - Diag((P * D) @ 1) @ P`` (axis 1), else None."""
    if node.op == "mul" and node.args[1].op == "sub":
        p, (d, spread) = node.args[0], node.args[1].args
        row_sums = _spread_row_sums(spread)
        if row_sums is not None:  # P * (D - ((P * D) @ 1) @ 1'), a matrix's rows
            return (p, d, 1) if row_sums.op == "mul" and row_sums.args == (p, d) else None
        if spread.op != "expand" or spread.args[0].op != "axis_sum":
            return None
        weighted = spread.args[0].args[0]
        axis = spread.params[0]
        if spread.args[0].params[0] != axis or weighted.op != "mul" or weighted.args != (p, d):
            return None
        return p, d, axis
    if node.op == "sub" and node.kind is Kind.MATRIX and node.args[0].op == "mul" and \
            node.args[1].op == "matmul":
        weighted, (diagonal, p) = node.args[0], node.args[1].args
        if diagonal.op != "Diag" or p not in weighted.args:
            return None
        sums = diagonal.args[0]
        if sums.op != "matmul" or sums.args[0] is not weighted or sums.args[1].op != "ones":
            return None
        d = weighted.args[1] if weighted.args[0] is p else weighted.args[0]
        return p, d, 1
    return None


def scaled_softmax(value: Value, node: Node, axis: int, inline: Inline) -> str:
    """``_softmax(t, a, s)`` for ``softmax(t * s)``, ``softmax(s * t)`` and ``softmax(t / c)``
    (s = 1 / c) with a number s, the scale applied in the helper's one array; "" otherwise, and
    where the scaled argument is needed elsewhere too."""
    argument = node.args[0]
    if argument.op not in ("mul", "div") or argument.is_scalar or not inline(argument):
        return ""
    a, b = argument.args
    if b.is_scalar and not a.is_scalar:
        scale = value(b) if argument.op == "mul" else f"(1 / {value(b)})"
        return f"_softmax({value(a)}, {axis}, {scale})"
    if a.is_scalar and argument.op == "mul":
        return f"_softmax({value(b)}, {axis}, {value(a)})"
    return ""

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


def batch_sum_of_product(value: Value, node: Node) -> str:
    """``_batch_gram(A, M)`` for ``sum(A' @ M..., 0)`` of rank-3 tensors, or ""."""
    if node.op != "axis_sum" or node.params[0] != 0 or len(node.args[0].shape.dims) != 3:
        return ""
    if node.args[0].op != "matmul":
        return ""
    factors = chain(node.args[0])
    first, rest = factors[0], factors[1:]
    if first.op != "transpose" or first.args[0].kind is not Kind.TENSOR or \
            len(first.args[0].shape.lead) != 1:
        return ""
    product = rest[0]
    for factor in rest[1:]:
        product = ir.apply("matmul", product, factor)
    if product.kind is not Kind.TENSOR or product.shape.lead != first.args[0].shape.lead:
        return ""
    return f"_batch_gram({value(first.args[0])}, {value(product)})"


def sized_number(node: Node) -> bool:
    """Whether ``node`` is a number made of sizes and constants alone (``sqrt(d)``): NumPy
    computes it as a float64 scalar, which would turn float32 arrays into float64."""
    return node.is_scalar and node.op not in ir.LEAVES and all(
        item.op in ("const", "dimval") for item in ir.walk(node) if not item.args)


def softmax_pullback(value: Value, node: Node) -> str:
    """``_softmax_pullback(P, D, a)`` for ``P * (D - expand(sum(P * D, a), a, n))``, or ""."""
    if node.op != "mul" or node.args[1].op != "sub":
        return ""
    p, (d, spread) = node.args[0], node.args[1].args
    if spread.op != "expand" or spread.args[0].op != "axis_sum":
        return ""
    weighted = spread.args[0].args[0]
    axis = spread.params[0]
    if spread.args[0].params[0] != axis or weighted.op != "mul" or weighted.args != (p, d):
        return ""
    return f"_softmax_pullback({value(p)}, {value(d)}, {axis})"

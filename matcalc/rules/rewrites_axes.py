"""Reductions along one axis: row sums of a batch centred on its row means, and a mean spread
back over a row (layer normalisation's backward pass: Ba, Kiros & Hinton 2016, eqs. 3-4)."""

from __future__ import annotations

from ..core import ir
from ..core.algebra import chain
from ..core.ir import Node
from ..core.shapes import Kind
from .facts import Facts
from .rewrite import apply, rule


@rule(
    'row-sums-of-centred',
    ops=('matmul',),
    example="X : matrix(N, d); c : vector(N)\nmu = mean(X, 1)\nf = (c * (X - mu)) @ ones(d)",
)
def row_sums_of_centred(node: Node, facts: Facts) -> Node | None:
    """(c * (X - mean(X, 1))) @ 1 = 0 for c the same along each row: rows centred on their
    means sum to 0."""
    a, b = node.args
    if b.op == "ones" and b.kind is Kind.VECTOR and facts.row_centred(a):
        return ir.zeros(node.shape.rows, node.shape.cols, node.kind)
    return None


@rule('spread-mean', ops=('div',),
      example="v : vector(N); X : matrix(N, d)\nf = (v @ ones(d)') / d")
def spread_mean(node: Node, facts: Facts) -> Node | None:
    """(v @ 1') / s = (v / s) @ 1' and (1 @ r) / s = 1 @ (r / s) for a scalar s: a column (row)
    divided, then spread over the rows (columns), printed as the broadcast of mean(X, 1)
    (mean(X, 0)) when v / s is one."""
    top, divisor = node.args
    if not divisor.is_scalar or top.op != "matmul":
        return None
    factors = chain(top)
    if len(factors) > 4:
        return None
    if factors[-1].op == "transpose" and factors[-1].args[0].op == "ones":
        column = _product(factors[:-1])
        if column.kind is Kind.VECTOR:
            return apply("matmul", apply("div", column, divisor), factors[-1])
    if factors[0].op == "ones" and factors[0].kind is Kind.VECTOR:  # 1 @ (r / s)
        row = _product(factors[1:])
        if row.kind is Kind.ROW:
            return apply("matmul", factors[0], apply("div", row, divisor))
    return None


def _product(factors: list[Node]) -> Node:
    product = factors[0]
    for factor in factors[1:]:
        product = apply("matmul", product, factor)
    return product

"""Matrix products and elementwise products written in the order papers write them."""

from __future__ import annotations

from ..core import ir
from ..core.algebra import chain
from ..core.ir import Node, walk
from ..core.shapes import Kind
from ..errors import ShapeError


def left_to_right(root: Node) -> Node:
    """Matrix products written as papers write them, A @ (B @ C) as A @ B @ C (the same value:
    the product is associative), except where C is a column vector, whose product from the
    right keeps every step a matrix-vector product (W' @ (U' @ d)); elementwise products and
    quotients likewise from the left, m * (s * t) as m * s * t and 2 * (A @ x / q) as
    2 * A @ x / q (Hadamard products and quotients associate: (a * b) / c = a * (b / c));
    -(X' @ v) as -X' @ v."""
    done: dict[Node, Node] = {}
    for node in walk(root):
        if not node.args:
            done[node] = node
            continue
        args = tuple(done[arg] for arg in node.args)
        if node.op == "matmul":
            done[node] = _chained(*args)
        elif node.op == "mul" and args[1].op in ("mul", "div") and \
                _leftmost(*args) is not None:
            done[node] = _leftmost(*args)
        elif node.op == "mul" and _scales_first_factor(*args):
            first, *rest = chain(args[1])
            product = ir.apply("mul", args[0], first)
            for factor in rest:
                product = ir.apply("matmul", product, factor)
            done[node] = product
        elif node.op == "neg" and _negates_first_factor(args[0]):
            first, *rest = chain(args[0])
            product = ir.apply("neg", first)
            for factor in rest:
                product = ir.apply("matmul", product, factor)
            done[node] = product
        elif all(new is old for new, old in zip(args, node.args, strict=True)):
            done[node] = node
        else:
            done[node] = ir.apply(node.op, *args, params=node.params)
    return done[root]


def _leftmost(first: Node, rest: Node) -> Node | None:
    """first * rest, where rest is a * b or a / b, as (first * a) * b or (first * a) / b, the
    same from the left within a, scaling a matrix product's first factor (2 * A @ x); None
    where the shapes do not allow it."""
    if rest.op not in ("mul", "div"):
        if _scales_first_factor(first, rest):
            head, *tail = chain(rest)
            product = ir.apply("mul", first, head)
            for factor in tail:
                product = ir.apply("matmul", product, factor)
            return product
        return ir.apply("mul", first, rest)
    if rest.op == "div" and not rest.args[1].is_scalar and not first.is_scalar:
        return None
    try:
        inner = _leftmost(first, rest.args[0])
        if inner is None or inner.shape != ir.apply("mul", first, rest.args[0]).shape:
            return None
        return ir.apply(rest.op, inner, rest.args[1])
    except ShapeError:
        return None


def _negates_first_factor(product: Node) -> bool:
    """Whether -(A @ B) is written -A @ B, as papers write it (-X' @ (y * e)): for a name or
    its transpose A, which the minus then reads as (the same value); not a commutation or
    identity matrix, which code and index forms read as structure."""
    if product.op != "matmul":
        return False
    first = chain(product)[0]
    if first.op == "transpose":
        first = first.args[0]
    return first.op in ("var", "ref") and not first.is_scalar


def _scales_first_factor(scalar: Node, product: Node) -> bool:
    """Whether c * (A @ B) is written c * A @ B, as papers write it (the same value): for a
    number or a name c (scaling A costs less than the product A @ B that reads it)."""
    if not scalar.is_scalar or product.op != "matmul" or scalar.op not in (
            "const", "var", "ref", "dimval"):
        return False
    first = chain(product)[0]
    return first.op not in ("mul", "div", "neg") and not first.is_scalar


def _chained(left: Node, right: Node) -> Node:
    if right.op == "matmul" and right.args[1].kind is not Kind.VECTOR:
        return ir.apply("matmul", _chained(left, right.args[0]), right.args[1])
    return ir.apply("matmul", left, right)

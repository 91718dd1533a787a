"""Matrices scaled by a spread vector, never formed where only sums and scalings read them.

A normalisation layer's ``Xn = (X - mu) / s`` (``s @ ones(d)'`` spread along the rows) is read
by its gradient in ``(G * Xn) @ ones(d)`` (a row mean), ``Xn * (m @ ones(d)')`` and, with the
function's value, ``G : Xn``.  Each reads ``X - mu`` just as well, with the vector ``s``
applied to the row sums or to ``m``: ``Xn`` itself, a pass over N x d memory, is not computed.
"""

from __future__ import annotations

from ..core import ir
from ..core.ir import Node, ref
from ..core.program import Program
from ..core.shapes import ONE, Kind
from .row_means import column_spread, full, spread_vector


def unscaled(statements: list[tuple[str, Node]], roots: list[Node], refs: dict[str, Node]
             ) -> tuple[list[tuple[str, Node]], list[Node]]:
    """The statements and roots (results, the function's value) without the definitions
    ``D = M / (v @ ones(d)')`` (or ``M * (v @ ones(d)')``, or a row ``ones(N) @ r`` spread
    down the columns) that are only read as ``(B * D) @ ones(d)``, ``D * (w @ ones(d)')`` and
    ``B : D``: those read ``(B * M) @ ones(d) / v``, ``M * ((w / v) @ ones(d)')`` and
    ``sum((B * M) @ ones(d) / v)``, and D is never computed, a pass over N x d memory saved
    (LayerNorm's ``Xn = (X - mu) / s``: its gradient scales ``X - mu`` once, by
    ``mean(G * Xn, 1) / s``)."""
    for name, body in list(statements):
        form = _scaling(body)
        if form is None or name not in refs:
            continue
        rewrite = _reading_unscaled(refs[name], *form)
        others = [(n, ir.replaced(b, rewrite)) for n, b in statements if n != name]
        rewritten = [ir.replaced(root, rewrite) for root in roots]
        left = {node for root in [b for _, b in others] + rewritten for node in ir.walk(root)}
        if refs[name] not in left and body not in left:
            statements, roots = others, rewritten
    return statements, roots


def unscaled_request(program: Program, where: dict[str, Node], statements: list[tuple[str, Node]],
              wanted: set[str], result_nodes: list[Node], value_node: Node | None
              ) -> tuple[list[tuple[str, Node]], list[Node], list[Node]]:
    """The wanted statements, the results and the value (a list of none or one) with the
    matrices scaled by spread vectors that only sums and scalings read left unformed
    (codegen/unscaled.py)."""
    refs = {n: program.definitions[n].ref for n, _ in statements if n in program.definitions}
    refs.update({n: ref(n, b) for n, b in where.items()})
    roots = [*result_nodes, *([value_node] if value_node is not None else [])]
    kept, roots = unscaled([(n, b) for n, b in statements if n in wanted], roots, refs)
    return kept, roots[:len(result_nodes)], roots[len(result_nodes):]


def _scaling(body: Node) -> tuple[Node, Node, Node, str] | None:
    """(M, the spread S, its vector v, "div" or "mul") of a body ``M / S`` or ``M * S``."""
    if body.op not in ("div", "mul") or body.kind is not Kind.MATRIX:
        return None
    for m, spread in ((body.args[0], body.args[1]), (body.args[1], body.args[0])):
        if full(m, body) and spread_vector(spread) is not None:
            return m, spread, spread_vector(spread), body.op
        if body.op == "div":
            return None
    return None


def _reading_unscaled(d: Node, m: Node, spread: Node, v: Node, op: str):
    """The replacement of each reading of D (= M op S) by one of M (``ir.replaced``)."""
    column = column_spread(spread)  # v @ ones(k)': each row scaled by v's entry

    def scaled(vector: Node) -> Node:
        return ir.apply(op, vector, v)

    def spread_of(vector: Node, like: Node) -> Node:
        return ir.apply("matmul", vector, like.args[1]) if column else \
            ir.apply("matmul", like.args[0], vector)

    def other(product: Node) -> Node | None:
        """B of the Hadamard product B * D (D * B), B not reading D; else None."""
        if product.op != "mul" or d not in product.args or product.args[0] is product.args[1]:
            return None
        b = product.args[1] if product.args[0] is d else product.args[0]
        return b if full(b, product) and d not in set(ir.walk(b)) else None

    def sums(b: Node, ones: Node) -> Node:
        return scaled(ir.apply("matmul", ir.apply("mul", b, m), ones) if column else
                      ir.apply("matmul", ones, ir.apply("mul", b, m)))

    def replace(node: Node) -> Node | None:
        if node.op == "frob" and d in node.args and node.args[0] is not node.args[1]:
            b = node.args[1] if node.args[0] is d else node.args[0]
            if d in set(ir.walk(b)):
                return None
            ones = ir.ones(m.shape.cols, ONE, Kind.VECTOR) if column else \
                ir.apply("transpose", ir.ones(m.shape.rows, ONE, Kind.VECTOR))
            return ir.apply("sum", sums(b, ones))
        if node.op == "matmul" and column and node.args[1].op == "ones" and \
                node.args[1].kind is Kind.VECTOR and other(node.args[0]) is not None:
            return sums(other(node.args[0]), node.args[1])
        if node.op == "matmul" and not column and node.args[0].op == "transpose" and \
                node.args[0].args[0].op == "ones" and other(node.args[1]) is not None:
            return sums(other(node.args[1]), node.args[0])
        if node.op == "mul" and d in node.args:
            s = node.args[1] if node.args[0] is d else node.args[0]
            w = spread_vector(s)
            if w is not None and column_spread(s) == column:  # w may read D: rewritten too
                return ir.apply("mul", m, spread_of(scaled(ir.replaced(w, replace)), s))
        return None

    return replace

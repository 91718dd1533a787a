"""Diagonal matrices kept as their diagonals in generated code.

The writer computes ``Diag(v) @ M`` as ``v * M`` (O(n^2)), but a diagonal matrix written any
other way, ``2 * Diag(v)``, ``Diag(u) @ Diag(v)``, ``Diag(v) ^ 4``, ``inv(Diag(v))``, was formed
dense and multiplied as a full matrix (O(n^3)), or formed in ``prepare`` to be held.  Before the
plan is made, every such node is rewritten as ``Diag`` of its diagonal:

    c Diag(v) = Diag(c v),  Diag(u) @ Diag(v) = Diag(u) * Diag(v) = Diag(u * v),
    Diag(u) +- Diag(v) = Diag(u +- v),  Diag(v)' = Diag(v),  Diag(v) ^ k = Diag(v .^ k),
    inv(Diag(v)) = Diag(1 / v)

so the writer sees one ``Diag`` of a vector and the plan never hoists a dense diagonal.
"""

from __future__ import annotations

from ..core import algebra
from ..core.ir import Node, apply, walk
from ..core.shapes import Kind


def diagonal_of(node: Node, known: dict[Node, Node | None]) -> Node | None:
    """The column vector v with ``node`` = Diag(v), or None; ``known`` holds the diagonals of
    ``node``'s arguments already found."""
    if node.op == "Diag":
        return node.args[0] if node.args[0].kind is Kind.VECTOR else None
    if node.kind is not Kind.MATRIX:
        return None
    inner = [known.get(arg) for arg in node.args]
    if node.op in ("transpose", "neg", "inv", "mpow") and inner[0] is not None:
        v = inner[0]
        return {"transpose": v, "neg": algebra.neg(v),
                "inv": apply("div", algebra.const(1.0), v) if node.op == "inv" else None,
                "mpow": apply("pow", v, algebra.const(float(node.params[0])))
                if node.op == "mpow" else None}[node.op]
    if len(node.args) != 2:
        return None
    (a, b), (u, v) = node.args, inner
    if node.op in ("mul", "div") and u is not None and b.is_scalar:
        return algebra.mul(u, b) if node.op == "mul" else algebra.div(u, b)
    if node.op == "mul" and v is not None and a.is_scalar:
        return algebra.mul(a, v)
    if u is None or v is None:
        return None
    if node.op in ("matmul", "mul"):  # a product or a Hadamard product of diagonals
        return algebra.mul(u, v)
    if node.op in ("add", "sub"):
        return algebra.add(u, v) if node.op == "add" else algebra.sub(u, v)
    return None


def with_diagonals(root: Node) -> Node:
    """``root`` with every diagonal matrix not written as ``Diag(v)`` rewritten as one."""
    done: dict[Node, Node] = {}
    known: dict[Node, Node | None] = {}
    for node in walk(root):
        args = tuple(done[arg] for arg in node.args)
        rebuilt = node if all(a is b for a, b in zip(args, node.args, strict=True)) else \
            apply(node.op, *args, params=node.params)
        diagonal = diagonal_of(rebuilt, known)
        if diagonal is not None and rebuilt.op != "Diag":
            rebuilt = apply("Diag", diagonal)
        known[rebuilt] = diagonal
        done[node] = rebuilt
    return done[root]

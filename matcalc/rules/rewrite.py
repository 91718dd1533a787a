"""Rewrite rules: one decorator a rule, the identity its docstring.

A rewrite looks at one node (its children already simplified) and returns the replacement, or
``None`` to decline.  A rule that needs an assumption (``positive``, ``simplex``, ``symmetric``)
names it, and its rewrite asks :class:`matcalc.rules.facts.Facts` before it fires.  Every rule's
``example`` is a problem on which it fires; the tests check that both sides agree numerically on
random points honouring the declarations, and that the rule does not fire once the assumption is
dropped from the declarations.  The order in which rules are tried is the explicit list in
:mod:`matcalc.rules.simplification`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core import ir
from ..core.ir import Node
from .facts import Facts

Rewrite = Callable[[Node, Facts], Node | None]


@dataclass(frozen=True)
class Rule:
    """One simplification: ``identity`` in words (the rewrite's docstring), ``rewrite`` in code."""

    name: str
    ops: tuple[str, ...]  # the operations it looks at
    identity: str
    rewrite: Rewrite
    needs: str | None
    example: str  # declarations and `f = ...` on which the rule fires


REWRITES: dict[str, Rule] = {}


def rule(name: str, ops: tuple[str, ...], example: str, needs: str | None = None
         ) -> Callable[[Rewrite], Rewrite]:
    """Register a rewrite under ``name``; its docstring is the identity it applies."""

    def register(rewrite: Rewrite) -> Rewrite:
        identity = " ".join((rewrite.__doc__ or "").split()).rstrip(".")
        if not identity:
            raise ValueError(f"the rule {name} states no identity")
        if name in REWRITES:
            raise ValueError(f"two rules are named {name}")
        REWRITES[name] = Rule(name, ops, identity, rewrite, needs, example)
        return rewrite

    return register


def const(node: Node, value: float | None = None) -> bool:
    return node.op == "const" and (value is None or node.params[0] == value)


def zero(node: Node) -> bool:
    return const(node, 0.0) or node.op == "zeros"


def same_shape(a: Node, b: Node) -> bool:
    return a.shape == b.shape and a.kind is b.kind


def apply(op: str, *args: Node, params: tuple = ()) -> Node:
    return ir.apply(op, *args, params=params)


def absorbed_negation(node: Node, numbers: bool = True) -> Node | None:
    """-node without a minus sign, when a difference (preferably) or a number inside a product
    takes it: -(x * (a - b)) = x * (b - a), -(c x) = (-c) x, -(a / s) = (-a) / s."""
    if node.op == "sub":
        return apply("sub", node.args[1], node.args[0])
    if node.op == "neg":
        return node.args[0]
    if node.op == "const":
        return ir.const(-node.params[0], infinite=True) if numbers else None
    if node.op in ("mul", "div", "matmul"):
        candidates = (0, 1) if node.op != "div" else (0,)
        for allow_numbers in ((False, True) if numbers else (False,)):
            for index in candidates:
                inner = absorbed_negation(node.args[index], allow_numbers)
                if inner is not None:
                    args = list(node.args)
                    args[index] = inner
                    return apply(node.op, *args)
    return None


def transposed(node: Node) -> Node:
    if node.op == "transpose":
        return node.args[0]
    if node.is_scalar or node.op in ("identity", "Diag"):
        return node
    return apply("transpose", node)


def scalar_factors(node: Node) -> list[Node]:
    if node.op == "mul" and node.is_scalar:
        return scalar_factors(node.args[0]) + scalar_factors(node.args[1])
    return [node]


def out_of_matmul(node: Node, op: str) -> Node | None:
    """A factor's scalar part (c in c * B, s in B / s) taken out of the product A @ B."""
    a, b = node.args
    for index, factor in enumerate((a, b)):
        if factor.op != op:
            continue
        scalar, matrix = factor.args if op == "mul" else reversed(factor.args)
        if scalar.is_scalar and not matrix.is_scalar:
            product = apply("matmul", *((matrix, b) if index == 0 else (a, matrix)))
            return apply("mul", scalar, product) if op == "mul" else \
                apply("div", product, scalar)
    return None

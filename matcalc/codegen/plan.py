"""The plan of a generated module: which work moves with the variables, which is done once.

Products are regrouped so that factors that stay fixed meet first (``C @ (B @ A)`` when only C
moves), and the largest fixed subexpressions worth the trouble go to ``prepare()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..core.ir import LEAVES, Node, apply, walk
from ..core.program import Program
from ..core.registry import view
from ..core.shapes import Kind

# operations worth computing once in prepare() when their inputs stay fixed: the registry's
# cost view
# worth computing once; structure (Diag) is folded into its products, never formed to be held
EXPENSIVE = frozenset(name for name, cost in view("cost").items()
                      if "costly" in cost and "structure" not in cost)


def mover(program: Program, where: dict[str, Node], wrt: set[str]) -> Callable[[Node], bool]:
    """Whether a node's value depends on the variables differentiated."""
    moving = set(where) | set(wrt)
    for name, definition in program.definitions.items():
        if any(n.op in ("var", "ref") and n.name in moving for n in walk(definition.body)):
            moving.add(name)
    memo: dict[Node, bool] = {}

    def moves(node: Node) -> bool:
        if node not in memo:
            memo[node] = any(n.op in ("var", "ref") and n.name in moving for n in walk(node))
        return memo[node]

    return moves


def constant_nodes(program: Program, where: dict[str, Node], wrt: set[str],
                    bodies: Sequence[Node]) -> set[Node]:
    """Nodes whose value does not depend on the variables differentiated."""
    moving_definitions: set[str] = set()
    for name, definition in program.definitions.items():
        if any((n.op == "var" and n.name in wrt) or (n.op == "ref" and n.name in
               moving_definitions) for n in walk(definition.body)):
            moving_definitions.add(name)
    for name in where:
        moving_definitions.add(name)  # where-definitions are computed in the function
    constant = set()
    for body in bodies:
        for node in walk(body):
            if node.op == "var" and node.name in wrt or node.op == "ref":
                continue
            if all(arg in constant or (arg.op in LEAVES and not (
                    arg.op == "var" and arg.name in wrt) and arg.op != "ref")
                   for arg in node.args):
                constant.add(node)
    return constant


def _factors(node: Node) -> list[Node]:
    """The factors of a product of matrices (no scalar factors), left to right."""
    if node.op == "matmul" and not any(arg.is_scalar for arg in node.args):
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def regrouped(root: Node, moving: Callable[[Node], bool]) -> Node:
    """Products of three or more matrices with the factors that do not move grouped:
    C @ B @ A -> C @ (B @ A) when only C moves, so B @ A can be computed once."""
    done: dict[Node, Node] = {}
    for node in walk(root):
        if node.op == "matmul" and not any(arg.is_scalar for arg in node.args):
            factors = [done[f] for f in _factors(node)]
            if len(factors) >= 3 and _has_constant_run(factors, moving):
                done[node] = _grouped(factors, moving)
                continue
        if not node.args:
            done[node] = node
            continue
        args = tuple(done[arg] for arg in node.args)
        done[node] = node if all(a is b for a, b in zip(args, node.args, strict=True)) else \
            apply(node.op, *args, params=node.params)
    return done[root]


def _has_constant_run(factors: list[Node], moving: Callable[[Node], bool]) -> bool:
    """Whether two neighbouring factors both stay fixed (and not all of them do)."""
    fixed = [not moving(f) and f.op != "Diag" for f in factors]
    return not all(fixed) and any(a and b for a, b in zip(fixed, fixed[1:], strict=False))


def _grouped(factors: list[Node], moving: Callable[[Node], bool]) -> Node:
    groups: list[list[Node]] = []
    for factor in factors:
        if groups and not moving(factor) and not moving(groups[-1][-1]) and \
                factor.op != "Diag" and groups[-1][-1].op != "Diag":
            groups[-1].append(factor)
        else:
            groups.append([factor])
    products = []
    for group in groups:
        if len(group) > 1 and all(f.op == "transpose" for f in group):
            # A' @ B' = (B @ A)': one product to share with B @ A elsewhere
            inner = [f.args[0] for f in reversed(group)]
            product = inner[0]
            for factor in inner[1:]:
                product = apply("matmul", product, factor)
            products.append(apply("transpose", product))
            continue
        product = group[0]
        for factor in group[1:]:
            product = apply("matmul", product, factor)
        products.append(product)
    result = products[0]
    for product in products[1:]:
        result = apply("matmul", result, product)
    return result


def hoisted(bodies: Sequence[Node], constant: set[Node],
            solved: set[Node] | frozenset = frozenset()) -> list[Node]:
    """The largest constant subexpressions worth computing once (products, inverses, ...);
    not an inverse that is only multiplied by (``solved``: its products are solves), nor a
    product of rank one (``u @ v'``: O(n^2) to compute, and its uses keep its structure)."""
    chosen: list[Node] = []
    seen: set[Node] = set()
    pending = list(bodies)
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in constant and node.op in EXPENSIVE and node not in solved and \
                not _rank_one(node):
            chosen.append(node)
            continue
        pending.extend(node.args)
    order = {node: index for index, node in enumerate(_topological(bodies))}
    return sorted(set(chosen), key=lambda n: order.get(n, 0))


def _rank_one(node: Node) -> bool:
    """A product of matrices with a column vector among its factors before the last."""
    return node.op == "matmul" and node.kind is Kind.MATRIX and \
        any(factor.kind is Kind.VECTOR for factor in _factors(node)[:-1])


def _topological(bodies: Sequence[Node]) -> list[Node]:
    ordered, seen = [], set()
    for body in bodies:
        for node in walk(body):
            if node not in seen:
                seen.add(node)
                ordered.append(node)
    return ordered

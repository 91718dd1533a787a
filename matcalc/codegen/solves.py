"""Inverses generated code never forms, and products associated from their vectors.

- An ``inv(A)`` whose every use is a factor of a matrix product (``inv(A) @ B``, ``B @ inv(A)``,
  either transposed) is a solve at each use: ``np.linalg.solve``, or a triangular solve (O(n^2)
  a column) when A is triangular; the inverse itself is never computed.  Forming an inverse to
  multiply by it costs more and is less accurate than solving (N. J. Higham, *Accuracy and
  Stability of Numerical Algorithms*, 2nd ed., 2002, sec. 14.1).
- A product with such an inverse among its factors and a column vector followed by a row (a
  rank-one matrix ``u @ w'`` in disguise, such as ``inv(L) @ y @ a' @ inv(L)``) is computed as
  ``(F1 @ (... @ u)) @ (w' @ ...)``: products with vectors and solves, O(n^2) where an n x n
  intermediate costs O(n^3).
- ``A @ (Diag(v) + R)`` with R of rank one is ``A @ Diag(v) + A @ R`` (either side, ``-`` too,
  the sum transposed too): a scaling of A's columns and a rank-one product, O(n^2) where the
  product with the sum costs O(n^3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..core.algebra import add, matmul, sub
from ..core.ir import Node
from ..core.shapes import Kind
from .triangular import transposed


def _product_use(parent: Node) -> bool:
    return parent.op == "matmul" and not any(arg.is_scalar for arg in parent.args)


def parents_of(roots: Sequence[Node], stop: set[Node] | frozenset = frozenset()
               ) -> dict[Node, list[Node]]:
    """The parents of each node in the DAG under roots, once per use (not looking inside
    ``stop``)."""
    parents: dict[Node, list[Node]] = {}
    seen: set[Node] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        for arg in node.args:
            parents.setdefault(arg, []).append(node)
            if arg not in stop:
                pending.append(arg)
    return parents


def solved_inverses(roots: Sequence[Node]) -> set[Node]:
    """The inverses of matrices under ``roots`` whose every use is a factor of a matrix
    product, directly or through a transpose (a root is a use of its own)."""
    parents = parents_of(roots)
    used_as_values = set(roots)

    def factor_only(node: Node) -> bool:
        return node not in used_as_values and all(_product_use(p) for p in parents[node])

    return {node for node in parents if node.op == "inv" and not node.is_scalar and
            node not in used_as_values and
            all(_product_use(p) or (p.op == "transpose" and factor_only(p))
                for p in parents[node])}


def product_factors(node: Node, inline: Callable[[Node], bool]) -> list[Node]:
    """The factors of a matrix product, through the products computed only here (``inline``);
    a product with a number stops it."""
    factors, pending = [], [node]
    while pending:
        item = pending.pop()
        if item.op == "matmul" and (item is node or inline(item)) and \
                not any(arg.is_scalar for arg in item.args):
            pending.extend([item.args[1], item.args[0]])
        else:
            factors.append(item)
    return factors


def rank_one_split(factors: list[Node]) -> int | None:
    """The index of the first column vector followed by more factors (the product is then
    (F1 ... Fk) (Fk+1 ...), a column times a row), or None."""
    return next((index for index, factor in enumerate(factors[:-1])
                 if factor.kind is Kind.VECTOR), None)


def columns_first(factors: list[Node]) -> list[Node]:
    """The factors of the transposed product: (F1 ... Fp)' = Fp' ... F1'."""
    return [transposed(factor) for factor in reversed(factors)]


def distributed(product: Node, inline: Callable[[Node], bool]) -> Node | None:
    """``A @ Diag(v) ± A @ R`` for ``A @ (Diag(v) ± R)`` (or ``(Diag(v) ± R) @ A``, or the sum
    transposed) when R is a product of rank one computed only here; None otherwise."""
    a, b = product.args
    for left, (m, s) in ((True, (a, b)), (False, (b, a))):
        flipped = s.op == "transpose" and inline(s)
        total = s.args[0] if flipped else s
        if m.kind is not Kind.MATRIX or total.op not in ("add", "sub") or not inline(total):
            continue
        first, second = total.args
        diagonal = first if first.op == "Diag" else second
        rest = second if diagonal is first else first
        if diagonal.op != "Diag" or diagonal.args[0].is_scalar or rest.op != "matmul" or \
                not inline(rest) or rank_one_split(product_factors(rest, inline)) is None:
            continue
        rest = transposed(rest) if flipped else rest
        terms = [matmul(m, part) if left else matmul(part, m) for part in (diagonal, rest)]
        if total.op == "add":
            return add(*terms)
        return sub(*terms) if diagonal is first else sub(terms[1], terms[0])
    return None

"""Structure of generated code around triangular matrices and symmetric sums.

- ``inv(T)`` of a triangular T (a Cholesky factor, a declared ``lower``/``upper`` matrix) is a
  triangular inverse, n^3 / 3 multiplications instead of an LU's n^3;
- ``inv(S)`` of a symmetric positive semidefinite S (rules/definite.py: declared ``spd``, a Gram
  form ``A' @ A + c I``, ...) is computed from its Cholesky factor L (LAPACK potrf, then potri:
  n^3 multiplications where an LU inverse takes 2 n^3), L taken where the code already computed
  ``chol(S)``; an invertible semidefinite matrix is positive definite, and where the factor
  fails (values outside the declarations) the LU inverse is computed; a solve with such a
  matrix (writer.solve) goes through the factor the same way (``_solve_spd``);
- products with a triangular factor (``L' @ M``, ``inv(T)' @ M @ inv(T)``) are triangular
  products (BLAS trmm), n^3 multiplications each where a general product takes 2 n^3;
- ``X + X'`` (the symmetric part of X, as written out by the transpose rules: ``A' @ M @ A +
  A' @ M' @ A``) computes X once.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.algebra import matmul, transpose
from ..core.ir import Node
from ..rules.definite import semidefinite
from ..rules.facts import Facts


def factors(node: Node) -> list[Node]:
    """The factors of a matrix product, however bracketed (a scalar factor stops it)."""
    if node.op == "matmul" and not any(arg.is_scalar for arg in node.args):
        return factors(node.args[0]) + factors(node.args[1])
    return [node]


def transposed(node: Node) -> Node:
    """node' with the transpose taken inside products: (A @ B)' = B' @ A', (A')' = A."""
    if node.op == "transpose":
        return node.args[0]
    parts = factors(node)
    if len(parts) > 1:
        result = transposed(parts[-1])
        for part in reversed(parts[:-1]):
            result = matmul(result, transposed(part))
        return result
    return transpose(node)


def is_transpose_of(first: Node, second: Node) -> bool:
    """Whether ``second`` is ``first'``, brackets of products aside."""
    if first.is_scalar or first.shape.rows is not first.shape.cols:
        return False
    mine = [transposed(part) for part in reversed(factors(first))]
    theirs = factors(second)
    return len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs, strict=True))


def inverse_congruence(node: Node) -> tuple[Node, Node] | None:
    """(inv(T), M) when node is inv(T)' @ M @ inv(T), brackets aside."""
    parts = factors(node)
    if len(parts) < 3:
        return None
    first, last = parts[0], parts[-1]
    if last.op != "inv" or first.op != "transpose" or first.args[0] is not last:
        return None
    middle = parts[1]
    for part in parts[2:-1]:
        middle = matmul(middle, part)
    return last, middle


def factored_inverse(node: Node, facts: Facts, names: dict[Node, str],
                     value: Callable[[Node], str]) -> str:
    """The code of ``node = inv(S)`` through a factor of S (a triangular S, or a semidefinite
    one: its Cholesky factor, the one named in ``names`` where chol(S) was computed), or ""."""
    matrix = node.args[0]
    if node.is_scalar:
        return ""
    side = facts.triangular(matrix)
    if side:
        return f"_inv_triangular({value(matrix)}, {side == 'lower'})"
    if not semidefinite(matrix, facts):
        return ""
    factor = next((name for known, name in names.items()
                   if known.op == "chol" and known.args[0] is matrix), "")  # S = L L'
    return f"_inv_cholesky({factor})" if factor else f"_inv_spd({value(matrix)})"

"""Which matrices their form shows to be symmetric positive semidefinite.

Generated code inverts such a matrix through its Cholesky factor (codegen/writer.py): an
invertible semidefinite matrix is positive definite, so wherever its inverse exists the Cholesky
factor does.  Each answer is proven from the declarations and the form, never guessed.
"""

from __future__ import annotations

from ..core.algebra import chain
from ..core.ir import Node
from ..core.shapes import Kind
from .facts import Facts

# functions whose value at a symmetric argument is positive definite (expm: exp of its
# eigenvalues) and those that keep a semidefinite argument semidefinite (the principal square
# root, an inverse where it exists, the symmetric part)
_DEFINITE_AT_SYMMETRIC = frozenset({"expm"})
_KEEPS_SEMIDEFINITE = frozenset({"sqrtm", "inv", "sym", "transpose"})


def semidefinite(node: Node, facts: Facts) -> bool:
    """Whether ``node`` is a symmetric positive semidefinite matrix by its form: a declared spd
    matrix, I, Diag of entries >= 0, a Gram form ``A' @ A`` / ``A @ A'`` / ``v @ v'`` and a
    congruence ``A' @ M @ A`` of a semidefinite M (products read from both ends), sums and
    entry-by-entry products of semidefinite matrices (the Schur product theorem: R. A. Horn &
    C. R. Johnson, *Matrix Analysis*, 2nd ed., 2013, thm 7.5.3), multiples by a number >= 0,
    ``expm`` of a symmetric matrix, and ``sqrtm``, ``inv``, ``sym`` of a semidefinite one."""
    node = facts.body(node)
    if node.kind is not Kind.MATRIX or node.shape.rows is not node.shape.cols:
        return False
    op, args = node.op, node.args
    if op == "var":
        return "spd" in facts.attributes(node)
    if op == "identity":
        return True
    if op == "Diag":
        return facts.nonnegative(args[0])
    if op in _DEFINITE_AT_SYMMETRIC:
        return facts.symmetric(args[0])
    if op in _KEEPS_SEMIDEFINITE:
        return semidefinite(args[0], facts)
    if op == "add":
        return all(semidefinite(arg, facts) for arg in args)
    if op == "div":  # M / c for c > 0
        return args[1].is_scalar and facts.positive(args[1]) and semidefinite(args[0], facts)
    if op == "mul":
        scalars = [arg for arg in args if arg.is_scalar]
        if not scalars:  # entry by entry: the Schur product of two semidefinite matrices
            return all(semidefinite(arg, facts) for arg in args)
        matrix = next(arg for arg in args if not arg.is_scalar)
        return facts.nonnegative(scalars[0]) and semidefinite(matrix, facts)
    if op == "matmul":
        return _congruence(chain(node), facts)
    return False


def _congruence(factors: list[Node], facts: Facts) -> bool:
    """A product equal to B' @ M @ B with M semidefinite or absent: each factor the transpose of
    its mirror (numbers >= 0 aside)."""
    scalars = [factor for factor in factors if factor.is_scalar]
    if not all(facts.nonnegative(scalar) for scalar in scalars):
        return False
    factors = [factor for factor in factors if not factor.is_scalar]
    while len(factors) > 1:
        first, last = factors[0], factors[-1]
        if not ((last.op == "transpose" and last.args[0] is first) or
                (first.op == "transpose" and first.args[0] is last)):
            return False
        factors = factors[1:-1]
    return not factors or semidefinite(factors[0], facts)

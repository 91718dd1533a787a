"""A bare ``I``: an identity matrix whose size the expression around it decides.

``I`` written without a size takes it from the sum, difference, product or Frobenius product it
stands in, looking through scalar factors and quotients first: in ``W @ W' + s2 * I`` the
identity is ``s2 * I(n)`` with n from ``W @ W'``.  Next to nothing but scalars (``s + I``,
``2 * I`` alone) its size cannot be told, and it is an error asking for ``I(n)``, never a 1 x 1
identity that would add ``s`` to every entry.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core import ir
from ..core.constants import exact
from ..core.ir import Node
from ..core.shapes import ONE, Dim, Kind, Shape
from ..errors import ShapeError
from .broadcast import expanded

NEEDS_SIZE = "cannot tell the size of I here; write I(n)"


class PendingIdentity:
    """``build(n)`` is the expression once I is n x n (``s2 * I`` -> ``s2 * I(n)``); ``needs``
    says what to write where nothing sizes it."""

    def __init__(self, build: Callable[[Dim], Node] = ir.identity, needs: str = NEEDS_SIZE,
                 side: str = ""):
        self.build, self.needs = build, needs
        self.side = side  # the one side of a matrix product that sizes it ("": either)


PENDING = PendingIdentity()
# a LaTeX answer's \mathbf{1} without its size: the ones vector whose length the other operand
# of the sum, Hadamard product or matrix product decides, as for I (\mathbf{1} - s, X \mathbf{1};
# beside a matrix in a sum, the column of ones broadcasts to the matrix of ones)
NEEDS_ONES = "cannot tell the length of \\mathbf{1} here; write \\mathbf{1}_n"
PENDING_ONES = PendingIdentity(lambda n: ir.ones(n, ONE, Kind.VECTOR), NEEDS_ONES, "right")


def transposed(value: PendingIdentity) -> PendingIdentity:
    """``\\mathbf{1}^\\top``: the pending row of ones, which a matrix product sizes from the
    left (``\\mathbf{1}^\\top x``) as the column is from the right (``X \\mathbf{1}``)."""
    side = {"right": "left", "left": "right"}.get(value.side, "")
    return PendingIdentity(lambda n: ir.apply("transpose", value.build(n)), value.needs, side)


def _wrapped(value: PendingIdentity, build: Callable[[Dim], Node]) -> PendingIdentity:
    return PendingIdentity(build, value.needs, value.side)


def is_pending(value: object) -> bool:
    return isinstance(value, PendingIdentity)


def negated(value: Node | PendingIdentity) -> Node | PendingIdentity:
    """-I stays an identity waiting for its size."""
    if is_pending(value):
        return _wrapped(value, lambda n: ir.apply("neg", value.build(n)))
    return ir.apply("neg", value)


def combine(op: str, left: Node | PendingIdentity, right: Node | PendingIdentity
            ) -> Node | PendingIdentity:
    """``left op right`` where either side may be a bare I."""
    left_pending, right_pending = is_pending(left), is_pending(right)
    if not left_pending and not right_pending:
        if op == "div" and left.op == right.op == "const" and right.params[0] != 0 and \
                exact(left.params[0] / right.params[0]) is not None:
            return ir.const(left.params[0] / right.params[0])  # 1/2: the number printed so
        return ir.apply(op, *expanded(op, left, right))
    if left_pending and right_pending:
        raise ShapeError(left.needs)
    pending, other = (left, right) if left_pending else (right, left)
    if other.is_scalar:
        if op == "mul" or (op == "div" and left_pending):
            # s * I, I * s, I / s: a scaled identity, still waiting for its size
            def scaled(n: Dim) -> Node:
                built = pending.build(n)
                return ir.apply(op, built, other) if left_pending else \
                    ir.apply(op, other, built)

            return _wrapped(pending, scaled)
        raise ShapeError(f"{pending.needs}: next to a scalar alone it would be 1 x 1")
    if op == "matmul":
        if pending.side and pending.side != ("left" if left_pending else "right"):
            raise ShapeError(pending.needs)  # ones(m) @ x': nothing tells m
        size = other.shape.rows if left_pending else other.shape.cols
    else:
        size = other.shape.rows
    built = pending.build(size)  # beside a matrix, a column of ones broadcasts
    operands = (built, right) if left_pending else (left, built)
    return ir.apply(op, *(operands if op == "matmul" else expanded(op, *operands)))


def kron_operands(left: Node | PendingIdentity, right: Node | PendingIdentity,
                  result: Shape | None) -> tuple[Node, Node]:
    """The operands of ``kron(left, right)`` where one may be a bare I: ``I \\otimes A`` in an
    answer whose result is ``result`` is ``I_p`` with p the factor the result leaves, its rows
    over the other operand's rows and its columns over its columns alike (``I_k`` for a
    kn x kn Hessian and an n x n A; ``x' (x) I_m`` for an m x mn Jacobian)."""
    if not is_pending(left) and not is_pending(right):
        return left, right
    if is_pending(left) and is_pending(right):
        raise ShapeError(NEEDS_SIZE)
    other = right if is_pending(left) else left
    size = _quotient(result.rows, other.shape.rows) if result is not None else None
    if size is None or _quotient(result.cols, other.shape.cols) is not size:
        raise ShapeError(f"{NEEDS_SIZE}: in a Kronecker product the size of I is not that of "
                         "the other operand")
    pending = left if is_pending(left) else right
    return (pending.build(size), right) if pending is left else (left, pending.build(size))


def _quotient(whole: Dim, part: Dim) -> Dim | None:
    """``whole / part`` for two products of symbols (``k*n`` / ``n`` = ``k``), else None."""
    if not (whole.is_monomial and part.is_monomial) or not part.coefficient or \
            whole.coefficient % part.coefficient:
        return None
    left = list(whole.symbols)
    for symbol in part.symbols:
        if symbol not in left:
            return None
        left.remove(symbol)
    return Dim(whole.coefficient // part.coefficient, tuple(left))

"""``einsum("ij,jk->ik", A, B)`` read: the spec in quotes, then the operands.  An error in the
spec points at its place inside the quotes (matcalc/core/einsum_spec.py); the operation itself
is :func:`matcalc.ops.einsum.einsum`."""

from __future__ import annotations

from typing import Protocol

from lark import Tree

from ..core.ir import Node
from ..errors import Location, MatcalcError, ParseError
from ..ops.einsum import einsum


class Builder(Protocol):
    """What is read of lang/build.py's Builder: the source and how it builds an operand."""

    source: str

    def expression(self, tree: Tree) -> Node: ...

USAGE = 'einsum takes its spec in quotes first, then the operands: einsum("ij,jk->ik", A, B)'


def einsum_call(builder: Builder, argument_trees: list[Tree]) -> Node:
    """The einsum of a call's arguments (the first a string)."""
    if not argument_trees or argument_trees[0].data != "string":
        first = argument_trees[0].meta if argument_trees else None
        where = Location(first.line, first.column) if first and not first.empty else None
        raise ParseError(USAGE, where, builder.source)
    token = argument_trees[0].children[0]
    if len(argument_trees) == 1:
        raise ParseError(f"einsum has no operands; {USAGE}")
    operands = [builder.expression(tree) for tree in argument_trees[1:]]
    try:
        return einsum(str(token)[1:-1], *operands)
    except MatcalcError as error:
        place = getattr(error, "spec_place", None)
        if place is None or token.line is None:
            raise
        where = Location(token.line, token.column + 1 + place.offset, place.length)
        raise error.at(where, builder.source) from None


def string_outside_einsum(builder: Builder, tree: Tree) -> Node:
    """A string anywhere but as einsum's spec: an error (the builder places it)."""
    raise ParseError(f"a string in quotes is only einsum's spec; {USAGE}")

"""Sums with indices in LaTeX answers, built: an index sum (``\\sum_{i} x_i y_i``, an einsum) or
a batch sum (``\\sum_{b} X_b^\\top \\delta_b``, ``sum(X' @ delta, 0)``).

The reader (:mod:`matcalc.lang.latex_indices`) gives the letters, the upper bound when one is
written and the product after the sum, its entries and slices marked ``indexed``.  Which it is
follows from the shapes: a product of entries with a letter per axis of each is an index sum;
otherwise every marked name is a slice of a tensor along its leading axes (and with one more
letter, its rows), and the product an expression of slices (:mod:`matcalc.core.batch_sums`).
"""

from __future__ import annotations

from collections.abc import Callable

from lark import Tree

from ..core import ir
from ..core.algebra import matmul, ones_vector, transpose
from ..core.batch_sums import ENTRYWISE, SLICEWISE, not_slicewise
from ..core.einsum_spec import axes, parse_spec, sizes
from ..core.ir import Node, walk
from ..core.shapes import ONE, Dim, Kind, Shape
from ..core.unify import same
from ..errors import ParseError, ShapeError, UnsupportedError
from ..ops.einsum import einsum

POWER_OF_ENTRY = ("an index sum of products of entries is read (\\sum_{k} A_{ik} B_{kj}); a "
                  "power or transpose of an entry is not: write it in matrix form")


class Slices:
    """The slices met while a batch sum's product is built, each a stand-in variable of the
    slice's shape (``X[b]``: no name of the language has brackets), so that the product is
    checked as the reader wrote it, on slices."""

    def __init__(self, summed: str) -> None:
        self.summed = summed
        self.taken: list[tuple[Node, Node]] = []  # (operand, stand-in)

    def stand_in(self, operand: Node, letters: str) -> Node:
        summed = self.summed
        if operand.kind is not Kind.TENSOR:
            raise UnsupportedError(f"{operand}_{{{letters}}}: {operand} is a {operand.kind.value}"
                                   f", not a tensor; {POWER_OF_ENTRY}")
        if letters != summed:
            raise ParseError(f"{operand}_{{{letters}}}: inside \\sum_{{{summed}}} a slice "
                             f"carries the summed indices, {operand}_{{{summed}}}")
        lead = operand.shape.lead
        first = self.taken[0][0] if self.taken else operand
        if len(summed) > len(lead) + 1 or lead != first.shape.lead:
            raise ShapeError(f"{operand}_{{{summed}}}: {operand} is {operand.shape}; the slices "
                             f"of one batch sum are of tensors with the same leading axes, one "
                             f"index for each (and one more for the rows)")
        if len(summed) > len(lead):  # a row of every entry, as a column
            shape, kind = Shape(operand.shape.cols, ONE), Kind.VECTOR
        else:
            rest = lead[len(summed):]
            shape = Shape(operand.shape.rows, operand.shape.cols, lead=rest)
            kind = Kind.TENSOR if rest else Kind.MATRIX
        node = ir.var(f"{operand}[{letters}]", shape, kind)
        self.taken.append((operand, node))
        return node


def index_sum(tree: Tree, build: Callable[[Tree], Node], slices: list[Slices],
              dimension: Callable[[Tree], Dim]) -> Node:
    """The node of an ``index_sum`` tree; ``build`` builds a subtree, ``slices`` is the
    builder's stack of batch sums being built, ``dimension`` reads a size."""
    letters_token, bounds, body = tree.children
    summed = str(letters_token)
    bound = dimension(bounds.children[0]) if bounds.children else None
    factors = _product(body)
    if factors is not None:
        operands = [build(factor.children[0]) for factor in factors]
        terms = [str(factor.children[1]) for factor in factors]
        if all(len(axes(operand)) == len(term) for operand, term in zip(operands, terms,
                                                                         strict=True)):
            return _einsum(summed, terms, operands, bound)
    taken = Slices(summed)
    slices.append(taken)
    try:
        built = build(body)
    finally:
        slices.pop()
    return _batch_sum(summed, built, taken, bound)


def _product(body: Tree) -> list[Tree] | None:
    """The factors of a product of entries (``x_i y_i``), or None when it is something else."""
    if body.data == "indexed":
        return [body]
    if body.data == "juxtapose":
        left, right = (_product(child) for child in body.children)
        return None if left is None or right is None else left + right
    return None


def _einsum(summed: str, terms: list[str], operands: list[Node], bound: Dim | None) -> Node:
    used = "".join(terms)
    free = "".join(dict.fromkeys(letter for letter in used if letter not in summed))
    if free:
        raise ParseError(f"the index sum leaves {', '.join(free)} free: put it in brackets with "
                         f"the result's indices, \\left[\\sum_{{{summed}}} ..."
                         f"\\right]_{{{free}}}")
    _check_summed(summed, used)
    spec = f"{','.join(terms)}->"
    if bound is not None:
        found = sizes(parse_spec(spec), tuple(operands))
        _check_bound(summed, [found[letter] for letter in summed], bound)
    return einsum(spec, *operands)


def _batch_sum(summed: str, built: Node, taken: Slices, bound: Dim | None) -> Node:
    if not taken.taken:
        raise UnsupportedError(f"\\sum_{{{summed}}} sums slices of tensors "
                               f"(\\sum_{{{summed}}} X_{{{summed}}}^\\top G_{{{summed}}}), and "
                               "nothing after it carries those indices")
    first = taken.taken[0][0]
    rows = len(summed) == len(first.shape.lead) + 1
    stand_ins = {node: operand for operand, node in taken.taken}
    first_kind = taken.taken[0][1].kind  # a matrix, or a tensor of the axes not summed
    allowed = ENTRYWISE if rows else SLICEWISE
    sliced: set[Node] = set(stand_ins)
    for node in walk(built):
        if node.op in ("var", "ref") and node.kind is Kind.TENSOR and node not in stand_ins:
            raise UnsupportedError(f"{node} is a tensor: inside \\sum_{{{summed}}} write its "
                                   f"slice {node}_{{{summed}}}")
        if any(arg in sliced for arg in node.args):
            sliced.add(node)
            if not rows and node.kind is not first_kind:
                raise UnsupportedError(f"{node} is a {node.kind.value} of slices: a batch sum "
                                       f"is read over {first_kind.value}s of slices "
                                       f"(\\sum_b X_b^\\top G_b); write it with sum(X, 0)")
        if node.args and node.op not in allowed:
            raise UnsupportedError(f"a batch sum is read over an expression of slices (\\sum_b "
                                   f"X_b^\\top G_b, \\sum_{{b,t}} \\delta_{{bt}}): here "
                                   f"{node.op} does not act on each slice alone; write it with "
                                   "sum(X, 0)")
    result = ir.replaced(built, stand_ins.get)
    why = not_slicewise(result, first.shape.lead + ((first.shape.rows,) if rows else ()), rows)
    if why is not None:
        raise UnsupportedError(f"a batch sum is read over an expression of slices: here {why}; "
                               "write it with sum(X, 0)")
    if bound is not None:
        axes_summed = first.shape.lead[:len(summed) - rows] + \
            ((first.shape.rows,) if rows else ())
        _check_bound(summed, list(axes_summed), bound)
    for _ in range(len(summed) - rows):
        result = ir.apply("axis_sum", result, params=(0,))
    if rows:  # the rows of every entry summed, as a column: M' @ 1
        result = matmul(transpose(result), ones_vector(result.shape.rows))
    return result


def _check_summed(summed: str, used: str) -> None:
    unused = [letter for letter in summed if letter not in used]
    if unused:
        raise ParseError(f"the index {unused[0]} is summed, and nothing after the sum carries "
                         "it")


def _check_bound(summed: str, found: list[Dim], bound: Dim) -> None:
    for letter, size in zip(summed, found, strict=True):
        if not same(size, bound):
            raise ShapeError(f"the index {letter} runs to {bound}, and the axis it indexes has "
                             f"{size} entries")

"""LaTeX answers as statements (``\\delta_1 = \\hat{y} - y; \\delta_1 h^\\top``), built into IR."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lark import Tree

from ..core import ir
from ..core.broadcast import spread_axis
from ..core.ir import Node, walk
from ..core.program import dependencies
from ..core.shapes import Kind
from ..errors import (
    Location,
    MatcalcError,
    ParseError,
    UnsupportedError,
)
from .build import Builder
from .latex import LatexReader
from .latex_sums import index_sum
from .latex_tokens import (
    LatexToken,
    line_column,
    tokens,
)
from .pending import NEEDS_ONES, PENDING_ONES, PendingIdentity, combine, is_pending, transposed


@dataclass(frozen=True)
class Statement:
    """One statement of a LaTeX answer: ``name = expression`` (name may be empty)."""

    name: str
    tree: Tree
    start: LatexToken


def statements(source: str, known: Callable[[str], bool]) -> Iterable[Statement]:
    """The statements of a LaTeX answer, split at ``;``, ``\\\\`` and new lines.

    A leading ``\\frac{\\partial J}{\\partial W} =`` (or any left side with \\partial/\\nabla)
    of the last statement is dropped; an earlier statement's left side must be a name, which
    later statements may use.  ``known`` is consulted when each statement is read, so names
    defined by earlier statements resolve.
    """
    items = tokens(source)
    groups: list[list[LatexToken]] = [[]]
    for token in items[:-1]:
        if token.kind == "sym" and token.text == ";":
            groups.append([])
        else:
            groups[-1].append(token)
    groups = [_strip_punctuation(group) for group in groups]
    groups = [group for group in groups if group]
    if not groups:
        raise ParseError("the answer is empty")
    end = items[-1]
    for index, group in enumerate(groups):
        last = index == len(groups) - 1
        equals = _top_level_equals(group)
        name = ""
        body = group
        if equals:
            left, body = group[:equals[0]], group[equals[-1] + 1:]
            if not body:
                raise ParseError("nothing after '='", Location(
                    *line_column(source, group[equals[-1]].offset)), source)
            if not last and not left:
                raise ParseError("nothing before '='", Location(
                    *line_column(source, group[equals[0]].offset)), source)
            if last and left and not _is_derivative_notation(left) and (
                    any(token.kind == "sym" and token.text == "," for token in left) or
                    name_written(source[left[0].offset:group[equals[0]].offset]) is None):
                raise ParseError("a definition after the answer (answer, d = ...) is not read: "
                                 "write the definitions first, each ending with ';' "
                                 "(d = x - \\mu; ...), and the answer last",
                                 Location(*line_column(source, left[0].offset)), source)
            if not last and _is_derivative_notation(left):
                raise UnsupportedError("only the last statement may be the derivative itself; "
                                       "earlier ones define names")
            if not last:
                name = _left_name(source, left)
        reader = LatexReader(source, [*body, LatexToken("end", "", _end_offset(body, end))],
                             known)
        tree = reader.expression()
        if not reader.at("end"):
            raise reader.error(f"unexpected '{reader.current.text}'")
        yield Statement("" if last else name, tree, body[0])


def _top_level_equals(group: list[LatexToken]) -> list[int]:
    """Where ``=`` stands outside braces (``\\sum_{i=1}^{n}`` keeps its own)."""
    found, depth = [], 0
    for index, token in enumerate(group):
        if token.kind == "sym" and token.text in ("{", "}"):
            depth += 1 if token.text == "{" else -1
        elif token.kind == "sym" and token.text == "=" and depth == 0:
            found.append(index)
    return found


def _end_offset(body: list[LatexToken], end: LatexToken) -> int:
    last = body[-1]
    return min(last.offset + last.length, end.offset)


def _strip_punctuation(group: list[LatexToken]) -> list[LatexToken]:
    while group and group[-1].kind == "sym" and group[-1].text in (",", "."):
        group = group[:-1]
    return group


def _is_derivative_notation(left: list[LatexToken]) -> bool:
    return any(token.kind == "cmd" and token.text in ("partial", "nabla") for token in left)


def _left_name(source: str, left: list[LatexToken]) -> str:
    reader = LatexReader(source, [*left, LatexToken("end", "", left[-1].offset + 1)],
                         lambda name: True)
    tree = reader.atom()
    if not reader.at("end") or tree.data != "name":
        raise ParseError("the left side of '=' must be a name (\\delta_1 = ...)",
                         Location(*line_column(source, left[0].offset)), source)
    return str(tree.children[0])


def name_written(text: str) -> str | None:
    """The name a LaTeX text writes when it is a single name (``\\delta_1`` -> ``delta1``,
    ``\\hat{y}`` -> ``yhat``), else None."""
    try:
        items = tokens(text)
        if len(items) < 2:
            return None
        reader = LatexReader(text, items, lambda name: True)
        tree = reader.atom()
    except MatcalcError:
        return None
    if not reader.at("end") or tree.data != "name":
        return None
    return str(tree.children[0])


class LatexBuilder(Builder):
    """The language's builder, with the trees only LaTeX produces."""

    def spread(self, op: str, left: Node | PendingIdentity, right: Node | PendingIdentity
               ) -> tuple[Node | PendingIdentity, Node | PendingIdentity]:
        """A matrix or tensor next to a tensor of one axis more is spread along the one axis
        the shapes name, as papers write ``X - \\mu`` for a per-row mean (the LaTeX printer
        writes ``expand(G, a, n)`` so: core/broadcast.shown_spreads)."""
        if op not in ("add", "sub", "mul", "div") or is_pending(left) or is_pending(right):
            return left, right
        axis = spread_axis(right, left)
        if axis is not None:
            return left, ir.apply("expand", right, params=(axis, left.shape.dims[axis]))
        axis = spread_axis(left, right)
        if axis is not None:
            return ir.apply("expand", left, params=(axis, right.shape.dims[axis])), right
        return left, right

    def _e_juxtapose(self, tree: Tree) -> Node | PendingIdentity:
        left, right = self.operands(tree)
        scalar = any(not is_pending(side) and side.is_scalar for side in (left, right))
        return combine("mul" if scalar else "matmul", left, right)

    def _e_applied(self, tree: Tree) -> Node | PendingIdentity:
        """``f(w)``: the definition f where it depends on each name in the brackets (function
        notation), else the product of the name and the bracket, as juxtaposition reads it."""
        head, *arguments = tree.children
        function = self.expression(head)
        values = [self.expression(argument) for argument in arguments]
        if function.op == "ref" and all(value.op in ("var", "ref") for value in values):
            body_of = self.definitions.__getitem__
            needed = dependencies(body_of(function.name).body, lambda n: body_of(n).body)
            used = {node.name for name in needed | {function.name}
                    for node in walk(body_of(name).body) if node.op == "var"} | needed
            if all(value.name in used for value in values):
                return function
        if len(arguments) != 1:
            raise ParseError(f"{head.children[0]}(...) with {len(arguments)} arguments: "
                             f"{head.children[0]} is not a function of them")
        return self._e_juxtapose(Tree("juxtapose", [head, arguments[0]], tree.meta))

    def _e_index_sum(self, tree: Tree) -> Node:
        """``\\sum_{i} x_i y_i`` (an einsum) or ``\\sum_{b} X_b^\\top G_b`` (a batch sum)."""
        slices = self.__dict__.setdefault("batch_slices", [])
        return index_sum(tree, self.expression, slices, self._dimension_argument)

    def _e_indexed(self, tree: Tree) -> Node:
        """A slice ``X_b`` inside a batch sum: a stand-in until the sum is built."""
        operand_tree, letters = tree.children
        slices = self.__dict__.get("batch_slices")
        if not slices:  # pragma: no cover - the reader marks entries inside sums only
            raise ParseError("an entry X_{ij} is read inside an index sum only")
        return slices[-1].stand_in(self.expression(operand_tree), str(letters))

    def _e_pending_ones(self, tree: Tree) -> PendingIdentity:
        """``\\mathbf{1}`` without its size: sized by what it meets (lang/pending.py)."""
        return PENDING_ONES

    def _e_transpose(self, tree: Tree) -> Node | PendingIdentity:
        value = self._expr(tree.children[0])
        if is_pending(value) and value.needs == NEEDS_ONES:
            return transposed(value)
        return ir.apply("transpose", self._sized(value, tree.children[0]))

    def _e_pow(self, tree: Tree) -> Node:
        """``r^2``, ``\\mu^{-1/2}``: a power of a vector or of a matrix that is not square is
        entrywise, its one reading (LaTeX has no ``.^``); a square matrix's is the matrix
        power (``A^{\\circ 2}`` is entrywise)."""
        base_tree, exponent_tree = tree.children
        base = self.expression(base_tree)
        if base.is_scalar or (base.kind is Kind.MATRIX and base.shape.is_square):
            return self.power(base, exponent_tree)
        return ir.apply("pow", base, self.expression(exponent_tree))

    def _e_dot(self, tree: Tree) -> Node:
        left_tree, right_tree = tree.children
        left, right = self.expression(left_tree), self.expression(right_tree)
        if left.kind is Kind.VECTOR and right.kind is Kind.VECTOR:
            return ir.apply("matmul", ir.apply("transpose", left), right)
        op = "mul" if left.is_scalar or right.is_scalar else "matmul"
        return ir.apply(op, left, right)

    def _e_norm(self, tree: Tree) -> Node:
        which, inner_tree = tree.children
        inner = self.expression(inner_tree)
        if inner.kind is Kind.MATRIX:
            matrix_norms = {"F": "norm", "2": "norm_spec", "*": "norm_nuc"}
            if str(which) not in matrix_norms:
                raise UnsupportedError(f"\\|{inner}\\|_{which or '?'} of a matrix: say which norm: "
                                       "\\|X\\|_F (Frobenius), \\|X\\|_2 (spectral) or "
                                       "\\|X\\|_* (nuclear)")
            return ir.apply(matrix_norms[str(which)], inner)
        if str(which) == "F":
            return ir.apply("norm", inner)
        return ir.apply("norm2", inner)

    def _e_derivative(self, tree: Tree) -> Node:
        function, argument_tree = tree.children
        argument = self.expression(argument_tree)
        name = str(function)
        one = ir.const(1.0)
        if name == "sigmoid":
            s = ir.apply("sigmoid", argument)
            return ir.apply("mul", s, ir.apply("sub", one, s))
        if name == "relu":
            return ir.apply("step", argument)
        if name == "tanh":
            t = ir.apply("tanh", argument)
            return ir.apply("sub", one, ir.apply("mul", t, t))
        if name == "exp":
            return ir.apply("exp", argument)
        return ir.apply("div", one, argument)  # log


__all__ = ["LatexBuilder", "Statement", "statements"]

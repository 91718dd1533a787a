"""einsum's subscripts: ``"btk,bsk->bts"`` read, checked against the operands, and its shape.

The spec follows NumPy's ``einsum`` with an explicit ``->``: one term of lower-case letters per
operand, separated by commas, then ``->`` and the output's letters.  A letter names one axis;
a letter in two terms pairs their axes (their sizes must agree), and a letter missing from the
output is summed over.  Letters in parentheses in the output make one axis:
``"ni,ij,na,nb->(ia)(jb)"`` is a (k d) x (k d) matrix whose row i*d + a is the index pair (i, a)
(NumPy's reshape in C order: the layout of vec of a d x k matrix); a letter is still output
once.  Spaces are ignored.  An operand has as many letters as axes: a number
none, a vector (column or row) one, a matrix two, a tensor three or four (:func:`axes`).

Errors point into the spec: :class:`SpecPlace` on the error (``error.spec_place``) gives the
offset and length within the spec's text, which the reader turns into a line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ..errors import MatcalcError, ParseError, ShapeError, UnsupportedError
from .shapes import ONE, SCALAR_SHAPE, Dim, Kind, Shape, kind_of_shape
from .unify import same

if TYPE_CHECKING:
    from .expression import Expression as Node

LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_OPERANDS = 32  # NumPy's einsum takes at most 32 operands
MAX_AXES = 4  # a tensor has three or four axes


@dataclass(frozen=True)
class SpecPlace:
    """Where in the spec's text an error is: 0-based offset and length."""

    offset: int
    length: int = 1


@dataclass(frozen=True)
class Spec:
    """A checked spec: the operands' terms and the output's letters (``"ij,jk->ik"``)."""

    terms: tuple[str, ...]
    output: str
    offsets: tuple[int, ...]  # where each term starts in the text it was read from
    output_offset: int
    groups: tuple[str, ...] = ()  # the output's axes where letters are grouped: ("ia", "jb")

    @property
    def output_text(self) -> str:
        """The output as written: its letters, a group of them in parentheses (``(ia)(jb)``:
        one axis whose index runs over i, then a within each i, as NumPy's reshape in C
        order)."""
        if not self.groups:
            return self.output
        return "".join(group if len(group) == 1 else f"({group})" for group in self.groups)

    @property
    def text(self) -> str:
        """The spec without spaces, as it is printed."""
        return f"{','.join(self.terms)}->{self.output_text}"

    def letters(self) -> tuple[str, ...]:
        """Every letter in the order of first appearance (terms, then output)."""
        seen: dict[str, None] = {}
        for term in (*self.terms, self.output):
            for letter in term:
                seen.setdefault(letter)
        return tuple(seen)

    def summed(self) -> tuple[str, ...]:
        """The letters summed over: in some term, not in the output."""
        return tuple(letter for letter in self.letters() if letter not in self.output)


def placed(error: MatcalcError, offset: int, length: int = 1) -> MatcalcError:
    """``error`` marked with its place in the spec's text."""
    error.spec_place = SpecPlace(offset, max(1, length))  # type: ignore[attr-defined]
    return error


@cache
def parse_spec(text: str) -> Spec:
    """The spec read from ``text``; ParseError (with its place) when it is malformed."""
    arrow = text.find("->")
    if arrow < 0:
        raise placed(ParseError(f'einsum\'s spec "{text}" needs an explicit "->" followed by '
                                'the output\'s letters, as in "ij,jk->ik"'), len(text))
    if text.find("->", arrow + 2) >= 0:
        raise placed(ParseError('einsum\'s spec has one "->"'), text.find("->", arrow + 2), 2)
    terms, offsets, current, start = [], [], "", None
    for offset, character in enumerate(text[:arrow] + ","):
        if character == ",":
            terms.append(current)
            offsets.append(offset if start is None else start)
            current, start = "", None
            continue
        if character != " ":
            _check_letter(character, offset)
            start = offset if start is None else start
            current += character
    output, groups, group = "", [], None
    output_offset = arrow + 2
    _check_groups(text, output_offset)
    for offset in range(arrow + 2, len(text)):
        character = text[offset]
        if character == " ":
            continue
        if character == "(":  # a group opens, then closes (_check_groups: well formed)
            group = ""
            continue
        if character == ")":
            groups.append(group)
            group = None
            continue
        _check_letter(character, offset)
        if group is None:
            groups.append(character)
        else:
            group += character
        if character in output:
            raise placed(ParseError(f"the letter {character} is repeated in einsum's output: "
                                    "each output axis has its own letter"), offset)
        if not any(character in term for term in terms):
            raise placed(ParseError(f"the output letter {character} is in no operand's term"),
                         offset)
        output += character
    if len(terms) > MAX_OPERANDS:
        raise placed(UnsupportedError(f"einsum takes at most {MAX_OPERANDS} operands"), 0,
                     len(text))
    grouped = tuple(groups) if any(len(g) > 1 for g in groups) else ()
    return Spec(tuple(terms), output, tuple(offsets), output_offset, grouped)


def _check_groups(text: str, start: int) -> None:
    """ParseError at the bracket where the output's groups (from ``start``) are not well
    formed: nested, empty, closed without being opened, or opened and never closed."""
    opened, empty = None, True
    for offset in range(start, len(text)):
        character = text[offset]
        if character == "(":
            if opened is not None:
                raise placed(ParseError("groups of output letters do not nest"), offset)
            opened, empty = offset, True
        elif character == ")":
            if opened is None:
                raise placed(ParseError("a ) closes no group of output letters"), offset)
            if empty:
                raise placed(ParseError("an empty group of output letters"), offset)
            opened = None
        elif character != " ":
            empty = False
    if opened is not None:
        raise placed(ParseError("a group of output letters opened with ( is never closed"),
                     opened)


def _check_letter(character: str, offset: int) -> None:
    if character in LETTERS:
        return
    if character == ".":
        raise placed(UnsupportedError("'...' (broadcasting over unnamed axes) is not supported "
                                      "in einsum: give every axis a letter"), offset)
    if character.isalpha() and character.lower() in LETTERS:
        raise placed(ParseError(f"einsum's indices are lower-case letters: write "
                                f"{character.lower()}, not {character}"), offset)
    raise placed(ParseError(f"'{character}' is not an index of einsum (lower-case letters a-z, "
                            "',' between operands, '->' before the output)"), offset)


def axes(node: Node) -> tuple[Dim, ...]:
    """The sizes of a node's axes as einsum numbers them: none for a number, one for a vector
    (a column or a row: its entries), two for a matrix (rows, columns), every axis of a tensor
    in NumPy's order."""
    if node.kind is Kind.TENSOR:
        return node.shape.dims
    if node.kind is Kind.SCALAR:
        return ()
    if node.kind is Kind.VECTOR:
        return (node.shape.rows,)
    if node.kind is Kind.ROW:
        return (node.shape.cols,)
    return (node.shape.rows, node.shape.cols)


def _rank_word(node: Node) -> str:
    count = len(axes(node))
    return {0: "a number (no letters)", 1: f"a {node.kind.value} (one letter)",
            2: "a matrix (two letters)"}.get(count, f"a tensor of {count} axes")


def sizes(spec: Spec, operands: tuple[Node, ...]) -> dict[str, Dim]:
    """Each letter's size, checked: one term per operand, a letter per axis, and the axes a
    letter pairs of one size (ShapeError or ParseError with the place in the spec)."""
    if len(operands) != len(spec.terms):
        raise placed(ShapeError(f"einsum's spec \"{spec.text}\" has {len(spec.terms)} "
                                f"term{'s' if len(spec.terms) != 1 else ''} but "
                                f"{len(operands)} operand{'s' if len(operands) != 1 else ''} "
                                "follow it"), 0, spec.output_offset)
    found: dict[str, tuple[Dim, int]] = {}
    for index, (term, operand) in enumerate(zip(spec.terms, operands, strict=True)):
        dims = axes(operand)
        if len(term) != len(dims):
            raise placed(ShapeError(f"einsum's term '{term}' (operand {index + 1}, {operand}) "
                                    f"has {len(term)} letter{'s' if len(term) != 1 else ''}, "
                                    f"but {operand} is {_rank_word(operand)}"),
                         spec.offsets[index], len(term))
        for position, (letter, size) in enumerate(zip(term, dims, strict=True)):
            if letter not in found:
                found[letter] = (size, index)
            elif not same(found[letter][0], size):
                other = operands[found[letter][1]]
                raise placed(ShapeError(
                    f"einsum's letter {letter} pairs axes of different sizes: {found[letter][0]} "
                    f"in {other} and {size} in {operand}"), spec.offsets[index] + position)
    return {letter: size for letter, (size, _) in found.items()}


def einsum_shape(args: tuple[Node, ...], params: tuple) -> tuple[Shape, Kind]:
    """Shape rule of ``einsum(spec, ...)``: a number, a column vector or a matrix, from the
    output's letters."""
    spec = parse_spec(params[0])
    size = sizes(spec, args)
    out = [size[letter] for letter in spec.output]
    if spec.groups:  # an axis of several letters has the product of their sizes
        out = [_product([size[letter] for letter in group]) for group in spec.groups]
        if len(out) > 2:
            raise placed(UnsupportedError("an einsum whose output groups letters is a vector "
                                          "or a matrix: at most two groups"),
                         spec.output_offset, len(spec.output_text))
    if not out:
        return SCALAR_SHAPE, Kind.SCALAR
    if len(out) == 1:
        shape = Shape(out[0], ONE)
        return shape, kind_of_shape(shape, Kind.VECTOR)
    if len(out) == 2:
        shape = Shape(out[0], out[1])
        return shape, kind_of_shape(shape, Kind.MATRIX)
    if len(out) <= MAX_AXES:
        return Shape(out[-2], out[-1], tuple(out[:-2])), Kind.TENSOR
    raise placed(UnsupportedError(f"einsum's output '{spec.output}' has {len(out)} axes; "
                                  f"tensors have at most {MAX_AXES}"),
                 spec.output_offset, len(spec.output))


def _product(dims: list[Dim]) -> Dim:
    result = dims[0]
    for d in dims[1:]:
        result = result * d
    return result

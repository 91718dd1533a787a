"""Text -> lark parse tree, with errors that point at the offending place.

The grammar is the data file ``grammar.lark`` beside this module, parsed by lark's LALR parser.
Before parsing, one linear scan checks brackets (an unclosed or stray bracket gets its own
message) and the nesting depth (a :class:`LimitError` beyond ``MAX_NESTING``).
"""

from __future__ import annotations

import decimal
import math
from bisect import bisect_left
from collections.abc import Iterable
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from ..core.ir import Node
from ..errors import LimitError, Location, MatcalcError, ParseError, UnsupportedError, did_you_mean
from . import parser_tables

MAX_NESTING = 100  # brackets inside brackets
MAX_LENGTH = 1_000_000  # characters of input

_OPENERS = {"(": ")"}
_CLOSERS = {")": "("}

_READABLE = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string in quotes",
    "INT": "an integer",
    "_NEWLINE": "a new line",
    "$END": "the end of the input",
    "REQUEST_KIND": "grad, jacobian or hessian",
}


_TYPES = ("scalar", "vector", "matrix", "tensor")
_TYPE_TERMINALS = frozenset(name.upper() for name in _TYPES)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return parser_tables.parser()  # from the tables saved beside the grammar when current


@lru_cache(maxsize=1)
def _terminal_text() -> dict[str, str]:
    texts = dict(_READABLE)
    for terminal in _parser().terminals:
        if isinstance(terminal.pattern, PatternStr):
            texts.setdefault(terminal.name, f"'{terminal.pattern.value}'")
    return texts


@lru_cache(maxsize=8)
def _newlines(source: str) -> list[int]:
    """The offsets of the line breaks of a source (found once: a reader asks for many places)."""
    return [offset for offset, char in enumerate(source) if char == "\n"]


def location_of(item: Tree | Token, source: str) -> Location | None:
    """Where a tree or token starts, spanning it on its first line."""
    if isinstance(item, Token):
        return Location(item.line, item.column, max(1, len(str(item))))
    meta = item.meta
    if meta.empty:
        return None
    end = meta.end_column if meta.end_line == meta.line else meta.column + 1
    return Location(meta.line, meta.column, max(1, end - meta.column))


def location_at(source: str, offset: int, length: int = 1) -> Location:
    """The line/column location of a character offset (a binary search, not a count)."""
    breaks = _newlines(source)
    before = bisect_left(breaks, offset)
    start = breaks[before - 1] + 1 if before else 0
    return Location(before + 1, offset - start + 1, length)


_OPERAND_ENDS = frozenset(")]}'._")  # a ' after these (or a letter or digit) is a transpose


def string_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each string in quotes of ``text`` (einsum's spec), from its opening quote
    to after its closing one, or to the line's end where it is never closed.  A ``'`` after an
    operand is a transpose, not a quote; a ``#`` starts a comment, to the line's end."""
    spans: list[tuple[int, int]] = []
    previous, index = "", 0
    while index < len(text):
        char = text[index]
        line_end = text.find("\n", index)
        line_end = len(text) if line_end < 0 else line_end
        if char == "#":
            index = line_end
            continue
        if char == '"' or char == "'" and not (previous.isalnum() or previous in _OPERAND_ENDS):
            close = text.find(char, index + 1, line_end)
            end = close + 1 if close >= 0 else line_end
            spans.append((index, end))
            previous, index = char, end
            continue
        if not char.isspace():
            previous = char
        index += 1
    return spans


def strings_blanked(text: str) -> str:
    """``text`` with the inside of every string in quotes blanked, offsets kept: brackets, ``=``
    and ``#`` there are the string's own text, not the language's."""
    chars = list(text)
    for start, end in string_spans(text):
        chars[start + 1:end] = " " * (end - start - 1)
    return "".join(chars)


def check_brackets(source: str) -> None:
    """Raise ParseError for an unbalanced bracket, LimitError for nesting beyond MAX_NESTING.
    Brackets inside a string in quotes (einsum's spec) or a comment are text, not brackets:
    the string's reader places its own errors.  A string never closed on its line is an error
    at its opening quote."""
    for start, end in string_spans(source):
        if end - start < 2 or source[end - 1] != source[start]:
            raise ParseError(f"the string opened with {source[start]} is never closed on its "
                             "line", location_at(source, start), source)
    stack: list[int] = []
    in_comment = False
    for offset, char in enumerate(strings_blanked(source)):
        if in_comment or char == "#":
            in_comment = char != "\n"
        elif char in _OPENERS:
            stack.append(offset)
            if len(stack) > MAX_NESTING:
                raise LimitError(
                    f"brackets nested more than {MAX_NESTING} deep "
                    "(matcalc.lang.syntax.MAX_NESTING sets the limit)",
                    location_at(source, offset), source,
                )
        elif char in _CLOSERS:
            if not stack:
                raise ParseError(f"'{char}' without a matching '('", location_at(source, offset),
                                 source)
            stack.pop()
    if stack:
        raise ParseError("'(' is never closed", location_at(source, stack[-1]), source)


def parse_tree(source: str, start: str) -> Tree:
    """Parse ``source`` from ``start`` ('program' or 'expression') into a lark tree."""
    if len(source) > MAX_LENGTH:
        raise LimitError(
            f"the input has {len(source)} characters, more than {MAX_LENGTH} "
            "(matcalc.lang.syntax.MAX_LENGTH sets the limit)"
        )
    check_brackets(source)
    try:
        return _parser().parse(source, start=start)
    except UnexpectedInput as error:
        raise _parse_error(error, source) from None
    except LarkError as error:  # pragma: no cover - lark's other errors are grammar bugs
        raise ParseError(f"cannot parse the input ({error})") from None
    except RecursionError:
        raise LimitError("the input is nested too deeply to parse") from None


def _parse_error(error: UnexpectedInput, source: str) -> ParseError:
    if isinstance(error, UnexpectedCharacters):
        char = source[error.pos_in_stream]
        where = location_at(source, error.pos_in_stream)
        hint = " (a transpose is written A' or A.T)" if char == "`" else ""
        return ParseError(f"unexpected character {char!r}{hint}", where, source)
    if isinstance(error, UnexpectedToken):
        token: Token = error.token
        texts = _terminal_text()
        expected = sorted({texts.get(name, name) for name in error.expected})
        wanted = f"; expected {_one_of(expected)}" if expected else ""
        if token.type == "$END":
            where = location_at(source, len(source.rstrip()) or 0)
            return ParseError(f"the input ends too early{wanted}", where, source)
        shown = "a new line" if token.type == "_NEWLINE" else f"'{token.value}'"
        where = Location(token.line, token.column, max(1, len(str(token.value).rstrip("\n"))))
        if token.type == "NAME" and _TYPE_TERMINALS <= set(error.expected):
            return ParseError(f"unknown type '{token.value}'"
                              f"{did_you_mean(str(token.value), _TYPES)}; a type is scalar, "
                              "vector(n), matrix(m, n) or tensor(b, m, n)", where, source)
        return ParseError(f"unexpected {shown}{wanted}", where, source)
    return ParseError("cannot parse the input", None, source)  # pragma: no cover


def _one_of(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    if len(items) > 8:
        return "one of " + ", ".join(items[:8]) + ", ..."
    return "one of " + ", ".join(items)


def number(text: str) -> float:
    """A literal's value; one beyond float64's range (1e400) is an error, not infinity, as is
    one with more significant digits than float64 holds, which it would round (two could
    round to one: 0.1000000000000000001 - 0.1 would be 0)."""
    value = float(text)
    if not math.isfinite(value):
        raise LimitError(f"the number {text} is too large (float64 reaches about 1.8e308)")
    exact = decimal.Decimal(text)
    if len(exact.normalize().as_tuple().digits) > 17 and decimal.Decimal(value) != exact:
        raise UnsupportedError(f"the number {text} has more significant digits than float64 "
                               f"holds (17): it would be read as {value!r}")
    return value


def tree_depth(tree: Tree) -> int:
    """The depth of a parse tree (iteratively: deep trees must not overflow the stack)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return deepest


def as_written(error: MatcalcError, operands: Iterable[tuple[object, Tree]],
               source: str) -> MatcalcError:
    """``error`` quoting each operand as the user wrote it (the source text of its tree) where
    its message prints the operand's normal form: ``mean(X .^ 2, -1)``, not ``sum(X .^ 2, 2) /
    d`` (also in a form shortened to 40 characters)."""
    message = error.message
    pairs = [(str(node), tree) for node, tree in operands if isinstance(node, Node)]
    for printed, tree in sorted(pairs, key=lambda pair: -len(pair[0])):
        meta = tree.meta  # the LaTeX reader's trees have no offsets: its text is not the language
        start, end = getattr(meta, "start_pos", None), getattr(meta, "end_pos", None)
        written = "" if meta.empty or start is None else source[start:end]
        if len(printed) < 4 or not written or written == printed or "\n" in written:
            continue
        message = message.replace(printed, written)
        if len(printed) > 40:
            message = message.replace(_shortened(printed), _shortened(written))
    error.message = message
    return error.at(None, None)


def _shortened(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."

"""A hand derivation's text as steps: lines, markup, connectives and the sides of each ``=``.

A derivation is written in the language or in LaTeX, one step a line.  This module is the one
place that reads its layout: environments (``align*``), ``&``, ``\\\\`` and ``\\cr``, comments,
the markup of an align block (``\\label{...}``, ``\\tag{...}``, ``\\nonumber``, ``\\notag``),
connectives (``\\Rightarrow``, ``\\implies``, ``\\therefore``, ``\\intertext{hence}``, a lone
``hence``) and a trailing ``, \\qquad z = Wx``, which starts a statement of its own.  Every piece
keeps its place in the file (line and column), so an error inside it points there.

Derivative notation on a left side, and differentials, are read by
:mod:`matcalc.lang.derivative_notation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import LimitError, Location, MatcalcError
from .syntax import MAX_NESTING, strings_blanked

MAX_DERIVATION_LENGTH = 200_000  # characters of one derivation; a longer one is refused at once
MAX_DERIVATION_LINES = 2_000  # steps' lines of one derivation

# prose between steps: skipped where it stands alone (``hence``) or in \text{...} / \intertext
CONNECTIVES = frozenset({"hence", "thus", "so", "therefore", "then", "and", "since", "because",
                         "i.e.", "ie", "i.e", "giving", "gives", "we", "get", "have", "obtain",
                         "or", "now", "finally", "similarly", "also", "that", "is"})
DEFINING_WORDS = frozenset({"where", "with", "let"})
# commands that end one statement and start the next (what they say is not checked)
CONNECTIVE_COMMANDS = frozenset({"Rightarrow", "implies", "therefore", "Longrightarrow",
                                 "Leftrightarrow", "iff", "because", "hence", "to",
                                 "longrightarrow", "Longleftrightarrow"})
# align markup: dropped, with its braced argument for the first group
MARKUP = {"label": 1, "tag": 1, "nonumber": 0, "notag": 0, "eqref": 1, "displaybreak": 0,
          "allowbreak": 0, "nobreak": 0, "noindent": 0, "hfill": 0, "hspace": 1, "vspace": 1,
          "phantom": 1, "hphantom": 1, "vphantom": 1}
# an equality annotated above (\stackrel{(a)}{=}, \overset{\text{def}}{=}): an =, the note dropped
ANNOTATED = frozenset({"stackrel", "overset"})
_PROSE = frozenset({"intertext", "shortintertext"})  # \intertext{...}: prose between steps
_TEXT = frozenset({"text", "textrm", "mbox", "textit", "textnormal", "mathrm"})
_SPACES = frozenset({"quad", "qquad", ",", ";", ":", "!", " "})
_MATRICES = frozenset({"matrix", "bmatrix", "pmatrix", "vmatrix", "Bmatrix", "smallmatrix"})
_COMMAND = re.compile(r"\\([A-Za-z]+\*?|.)")
_BRACED = re.compile(r"\s*\{([^{}]*)\}")
_BRACED_NESTED = re.compile(r"\s*\{(?:[^{}]|\{[^{}]*\})*\}")  # one level of braces inside
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_SPACING_ONLY = re.compile(r"(?:\s|\\(?:quad|qquad|[,;:! ]))+")


@dataclass(frozen=True)
class Side:
    """One side of an ``=``: its text and the file line and column (1-based) it starts at."""

    text: str
    line: int
    column: int

    def place(self, error: MatcalcError, source: str) -> MatcalcError:
        """``error``, raised reading this side alone, with its place in the whole file."""
        location = error.location
        if location is None or location.line != 1:
            line, column = self.line, self.column
        else:
            line, column = self.line, self.column + location.column - 1
        error.location = Location(line, column, location.length if location else 1)
        error.source = source
        error.args = (error._render(),)
        return error


@dataclass(frozen=True)
class Step:
    """One statement of a derivation: its file line, its text, the sides of its ``=`` signs,
    whether it defines a name (``where t = ...``, ``let``, ``with``, ``\\text{where}``), and
    whether it trails the statement before it on its line (``..., \\qquad z = Wx``: a definition
    there may be used by that statement)."""

    line: int
    text: str
    sides: tuple[Side, ...]
    defining: bool = False
    trailing: bool = False


def derivation_steps(text: str) -> list[Step]:
    """The statements of a derivation, in order, each with its place in the file."""
    if len(text) > MAX_DERIVATION_LENGTH:
        raise LimitError(f"the derivation has {len(text):,} characters, more than "
                         f"{MAX_DERIVATION_LENGTH:,} (matcalc.lang.derivation_text."
                         "MAX_DERIVATION_LENGTH)")
    lines = text.splitlines()
    if len(lines) > MAX_DERIVATION_LINES:
        raise LimitError(f"the derivation has {len(lines):,} lines, more than "
                         f"{MAX_DERIVATION_LINES:,} (matcalc.lang.derivation_text."
                         "MAX_DERIVATION_LINES)")
    found: list[Step] = []
    in_math = False  # inside $$ ... $$ (or \[ ... \]) opened on an earlier line
    for number, raw in enumerate(lines, 1):
        if raw.lstrip().startswith("#"):
            continue  # a comment of the language
        raw, in_math = _prose_blanked(raw, in_math)
        for start, piece, follows in _pieces(number, raw):
            step = _step(number, start, piece, follows)
            if step is not None:
                found.append(step)
    return found


_DELIMITER = re.compile(r"\$\$|\$|\\\[|\\\]|\\\(|\\\)")


def _prose_blanked(raw: str, in_math: bool) -> tuple[str, bool]:
    """The line with its math delimiters (``$``, ``$$``, ``\\[``, ``\\(``) blanked and, on a
    line that has some, the prose outside them blanked too (``We have $x = y$ and so ...``),
    each stretch of prose replaced by a ``\\\\`` that separates the statements around it; and
    whether math is still open at its end."""
    delimiters = list(_DELIMITER.finditer(raw.split("%", 1)[0]))
    if not delimiters:
        return raw, in_math
    chars = list(raw)
    position = 0
    for match in [*delimiters, None]:
        end = match.start() if match else len(raw)
        if not in_math and end > position:
            prose = raw[position:end]
            chars[position:end] = list(_separator(prose))
        if match:
            chars[match.start():match.end()] = " " * (match.end() - match.start())
            position = match.end()
            in_math = not in_math
    return "".join(chars), in_math


def _separator(prose: str) -> str:
    """A stretch of prose as spaces with a statement break (``\\\\``) where it has words;
    a defining word (``where``, ``let``) is kept so the next statement defines a name."""
    words = prose.strip().rstrip(":,.").split()
    if not words:
        return " " * len(prose)
    kept = words[-1] if words[-1].lower() in DEFINING_WORDS else ""
    text = "\\\\ " + kept
    return (text + " " * len(prose))[:len(prose)] if len(prose) >= len(text) else \
        " " * len(prose)


def _pieces(number: int, raw: str) -> Iterator[tuple[int, str, str]]:
    """(column offset, text, how it follows the one before) of each statement of one physical
    line: the markup that is not mathematics blanked out (so offsets hold), split at ``\\\\``,
    ``\\cr``, connectives and a ``,`` before spacing."""
    chars = list(raw)
    # (offset, how the next piece follows: "" a new statement, "after" a trailing one after a
    # comma, "where" a trailing definition)
    cuts: list[tuple[int, str]] = []
    depth = matrices = 0
    index = 0
    scanned = strings_blanked(raw)  # a bracket or % inside einsum's spec is the spec's

    def blank(start: int, end: int) -> None:
        chars[start:end] = " " * (end - start)

    while index < len(raw):
        char = scanned[index]
        if char == "%":
            blank(index, len(raw))
            break
        if char in "({[":
            depth += 1
            if depth > MAX_NESTING:
                raise LimitError(f"brackets nested more than {MAX_NESTING} deep "
                                 "(matcalc.lang.syntax.MAX_NESTING sets the limit)",
                                 Location(number, index + 1))
        elif char in ")}]":
            depth -= 1
        elif char == "&" and not matrices:
            chars[index] = " "
        elif char == "," and depth == 0 and not matrices and _spacing_follows(raw, index + 1):
            chars[index] = " "
            cuts.append((index, "after"))
        elif char == ";" and depth == 0 and not matrices and \
                _defining_follows(raw, index + 1):
            chars[index] = " "
            cuts.append((index, "after"))
        if char != "\\":
            index += 1
            continue
        match = _COMMAND.match(raw, index)
        name = match.group(1) if match else ""
        end = match.end() if match else index + 1
        if name == "\\" or name == "cr":
            if not matrices:
                blank(index, end)
                cuts.append((index, ""))
        elif name in ("begin", "end"):
            braced = _BRACED.match(raw, end)
            environment = braced.group(1).strip() if braced else ""
            if braced and environment.rstrip("*") in _MATRICES:
                matrices += 1 if name == "begin" else -1 if matrices else 0
                depth += 0
                end = braced.end()
            else:
                end = braced.end() if braced else end
                blank(index, end)
        elif name in ANNOTATED and _annotated_equals(raw, end) is not None:
            equals, end = _annotated_equals(raw, end)  # \stackrel{(a)}{=}: the = alone
            blank(index, equals)
            blank(equals + 1, end)
        elif name in MARKUP:
            braced = _BRACED.match(raw, end) if MARKUP[name] else None
            end = braced.end() if braced else end
            blank(index, end)
        elif name in CONNECTIVE_COMMANDS:
            blank(index, end)
            cuts.append((index, ""))
        elif name in _PROSE or (name in _TEXT and _prose_braced(raw, end)):
            braced = _BRACED.match(raw, end)
            words = braced.group(1).strip().lower() if braced else ""
            end = braced.end() if braced else end
            blank(index, end)
            cuts.append((index, "where" if words in DEFINING_WORDS else ""))
        index = end
    text = "".join(chars)
    bounds = [(0, ""), *cuts, (len(text), "")]
    for (start, follows), (end, _) in zip(bounds, bounds[1:], strict=False):
        yield start, text[start:end], follows


def _annotated_equals(raw: str, end: int) -> tuple[int, int] | None:
    """For ``\\stackrel{note}{=}`` whose command ends at ``end``: the offset of its ``=`` and
    the end of the whole; None when the second group is not an ``=`` alone."""
    note = _BRACED_NESTED.match(raw, end)
    symbol = _BRACED.match(raw, note.end()) if note else None
    if symbol is None or symbol.group(1).strip() != "=":
        return None
    return symbol.start(1) + symbol.group(1).index("="), symbol.end()


def _spacing_follows(raw: str, index: int) -> bool:
    """Whether a ``,`` at ``index - 1`` is followed by wide spacing or words (``, \\qquad z =
    Wx``, ``, \\text{where}``): it then ends a statement."""
    rest = raw[index:index + 12].lstrip()
    return rest.startswith(("\\quad", "\\qquad", "\\text{", "\\mbox{", "\\textrm{",
                            "\\mathrm{where", "\\hspace"))


def _defining_follows(raw: str, index: int) -> bool:
    rest = raw[index:].lstrip()
    word = _IDENTIFIER.match(rest)
    return bool(word) and word.group().lower() in DEFINING_WORDS


def _prose_braced(raw: str, end: int) -> bool:
    """Whether ``\\text{...}`` at ``end`` holds prose (``hence``, ``where``) rather than a
    name (``\\mathrm{d}``, ``\\text{softmax}``)."""
    braced = _BRACED.match(raw, end)
    if not braced:
        return False
    words = braced.group(1).strip().lower().rstrip(",.:")
    return bool(words) and all(word in CONNECTIVES or word in DEFINING_WORDS
                               for word in words.replace(",", " ").split())


def _step(number: int, start: int, piece: str, follows: str) -> Step | None:
    """The statement of one piece, or None when it holds nothing but prose."""
    defining, trailing = follows == "where", follows != ""
    stripped = piece.strip().rstrip(",.;").rstrip()
    if not _SPACING_ONLY.sub("", stripped):
        return (Step(number, piece.strip(), (), True, trailing) if defining else None)
    offset = start + piece.index(stripped[0])
    spacing = _SPACING_ONLY.match(stripped)  # ``\\qquad z = Wx`` after a comma
    if spacing:
        offset += spacing.end()
        stripped = stripped[spacing.end():]
    words = stripped.replace(",", " ").split()
    if all(word.lower() in CONNECTIVES for word in words):
        return None  # ``hence``, ``so that``: prose between steps
    first = _IDENTIFIER.match(stripped)
    if first and first.group().lower() in DEFINING_WORDS and \
            not stripped[first.end():first.end() + 1].isalnum() and \
            stripped[first.end():].lstrip()[:1] not in ("=", "(", "^", "_", "'"):
        defining = True
        rest = stripped[first.end():]
        offset += first.end() + len(rest) - len(rest.lstrip())
        stripped = rest.strip()
        if not stripped:
            return Step(number, first.group(), (), True, trailing)
    sides = tuple(Side(text, number, offset + at + 1) for at, text in _sides(stripped))
    return Step(number, " ".join(stripped.split()), sides, defining, trailing)


def _sides(line: str) -> list[tuple[int, str]]:
    """(offset, text) of the line's parts between its top-level ``=`` signs (``:=`` is one)."""
    found, depth, start = [], 0, 0
    for index, char in enumerate(strings_blanked(line)):  # brackets in quotes are not counted
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char == "=" and depth == 0:
            end = index - 1 if index and line[index - 1] == ":" else index
            found.append((start, line[start:end]))
            start = index + 1
    found.append((start, line[start:]))
    result = []
    for offset, text in found:
        stripped = text.strip()
        result.append((offset + (text.index(stripped[0]) if stripped else 0), stripped))
    return result


def plain_name(text: str) -> str | None:
    """``text`` when it is an identifier of the language, else None."""
    return text if _IDENTIFIER.fullmatch(text) else None


__all__ = ["MAX_DERIVATION_LENGTH", "MAX_DERIVATION_LINES", "Side", "Step", "derivation_steps",
           "plain_name"]

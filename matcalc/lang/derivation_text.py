"""A hand derivation's text as steps: lines, the sides of each ``=``, and derivative notation.

A derivation is written in the language or in LaTeX, one step a line.  This module is the one
place that reads its layout: environments (``align*``), ``&``, ``\\\\`` and ``\\cr``, comments,
the markup of an align block (``\\label{...}``, ``\\tag{...}``, ``\\nonumber``, ``\\notag``),
connectives (``\\Rightarrow``, ``\\implies``, ``\\therefore``, ``\\intertext{hence}``, a lone
``hence``) and a trailing ``, \\qquad z = Wx``, which starts a statement of its own.  Every piece
keeps its place in the file (line and column), so an error inside it points there.

It also reads the left sides that name a derivative: ``\\frac{\\partial f}{\\partial w}``,
``\\frac{df}{dw}``, ``\\frac{\\mathrm{d}f}{\\mathrm{d}w}``, ``\\frac{\\partial}{\\partial w} f``,
``\\nabla_w f``, ``\\nabla_{w} f(w)``, ``\\nabla_w``, ``\\partial f / \\partial w``, ``dJ_dw``
and ``dJ/dw``; and finds the differentials a derivation writes (``dX``, ``\\mathrm{d}X``) and the
differential operator before a bracket (``d(...)``, ``\\mathrm{d}\\,\\log\\det(X)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import LimitError, Location, MatcalcError
from .latex_tokens import LatexToken, tokens
from .syntax import MAX_NESTING

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
_PROSE = frozenset({"intertext", "shortintertext"})  # \intertext{...}: prose between steps
_TEXT = frozenset({"text", "textrm", "mbox", "textit", "textnormal", "mathrm"})
_SPACES = frozenset({"quad", "qquad", ",", ";", ":", "!", " "})
_MATRICES = frozenset({"matrix", "bmatrix", "pmatrix", "vmatrix", "Bmatrix", "smallmatrix"})
_COMMAND = re.compile(r"\\([A-Za-z]+\*?|.)")
_BRACED = re.compile(r"\s*\{([^{}]*)\}")
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

    def blank(start: int, end: int) -> None:
        chars[start:end] = " " * (end - start)

    while index < len(raw):
        char = raw[index]
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
    for index, char in enumerate(line):
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


# -- derivative notation on a left side ------------------------------------------------------

@dataclass(frozen=True)
class DerivativeWritten:
    """A left side that names a derivative: the function's text (None: the problem's) and the
    variable's; ``certain`` when written with ``\\partial`` or ``\\nabla`` (``\\frac{df}{dw}``
    names a derivative only when f and w are names)."""

    of: str | None
    wrt: str
    certain: bool


_TEXT_GRADIENT = re.compile(r"d([A-Za-z_][A-Za-z0-9]*)\s*(?:/|_)\s*d([A-Za-z_]\w*)")


def derivative_written(text: str) -> DerivativeWritten | None:
    """The derivative a left side writes (see the module's docstring), else None."""
    text = text.strip()
    plain = _TEXT_GRADIENT.fullmatch(text)
    if plain:
        return DerivativeWritten(plain.group(1), plain.group(2), True)
    if "\\" not in text and "/" not in text:
        return None
    try:
        items = tokens(text)[:-1]
    except MatcalcError:
        return None
    return _nabla(text, items) or _fraction(text, items) or _slashed(text, items)


def _nabla(text: str, items: list[LatexToken]) -> DerivativeWritten | None:
    """``\\nabla_w f``, ``\\nabla_{w} f(w)``, ``\\partial_W J``, ``\\nabla_w``."""
    if len(items) < 3 or not _is(items[0], "cmd", "nabla", "partial") or \
            not _is(items[1], "sym", "_"):
        return None
    end = _group_end(items, 2)
    if end is None:
        return None
    wrt = _between(text, items, 2, end)
    of = text[items[end].offset:].strip() if end < len(items) else ""
    return DerivativeWritten(of or None, wrt, True)


def _fraction(text: str, items: list[LatexToken]) -> DerivativeWritten | None:
    """``\\frac{\\partial f}{\\partial w}``, ``\\frac{df}{dw}``, ``\\frac{\\mathrm{d} f}
    {\\mathrm{d} w}``, ``\\frac{\\partial}{\\partial w} f``."""
    if not items or not _is(items[0], "cmd", "frac", "dfrac", "tfrac") or len(items) < 2 or \
            not _is(items[1], "sym", "{"):
        return None
    top_end = _group_end(items, 1)
    if top_end is None or top_end >= len(items) or not _is(items[top_end], "sym", "{"):
        return None
    bottom_end = _group_end(items, top_end)
    if bottom_end is None:
        return None
    top = _after_d(text, items[2:top_end - 1])
    bottom = _after_d(text, items[top_end + 1:bottom_end - 1])
    if top is None or bottom is None or not bottom[0]:
        return None
    (of, partial), (wrt, partial_below) = top, bottom
    if partial != partial_below:
        return None
    rest = text[items[bottom_end].offset:].strip() if bottom_end < len(items) else ""
    if of and rest:
        return None
    return DerivativeWritten(of or rest or None, wrt, partial)


def _slashed(text: str, items: list[LatexToken]) -> DerivativeWritten | None:
    """``\\partial f / \\partial w``."""
    slashes = [i for i, token in enumerate(items) if _is(token, "sym", "/")]
    if len(slashes) != 1:
        return None
    top = _after_d(text, items[:slashes[0]])
    bottom = _after_d(text, items[slashes[0] + 1:])
    if top is None or bottom is None or not top[0] or not bottom[0] or not top[1] or \
            not bottom[1]:
        return None
    return DerivativeWritten(top[0], bottom[0], True)


def _after_d(text: str, items: list[LatexToken]) -> tuple[str, bool] | None:
    """The text after a leading ``\\partial``, ``d``, ``\\mathrm{d}`` (and whether it was
    ``\\partial``), or None when the tokens do not start with one."""
    if not items:
        return None
    first = items[0]
    if _is(first, "cmd", "partial"):
        return _rest(text, items, 1), True
    if first.kind == "word" and first.text.startswith("d"):
        if first.text == "d":
            return _rest(text, items, 1), False
        return text[first.offset + 1:_end(items)].strip(), False
    if _is(first, "cmd", "mathrm", "operatorname", "text", "mathit") and len(items) >= 4 and \
            _is(items[1], "sym", "{") and _is(items[2], "word", "d") and \
            _is(items[3], "sym", "}"):
        return _rest(text, items, 4), False
    return None


def _rest(text: str, items: list[LatexToken], start: int) -> str:
    return text[items[start].offset:_end(items)].strip() if start < len(items) else ""


def _end(items: list[LatexToken]) -> int:
    last = items[-1]
    return last.offset + last.length


def _between(text: str, items: list[LatexToken], start: int, end: int) -> str:
    """The text of the group ``items[start:end]`` without its outer braces."""
    if _is(items[start], "sym", "{") and end - start >= 2:
        inner = items[start + 1:end - 1]
        return text[inner[0].offset:_end(inner)].strip() if inner else ""
    return text[items[start].offset:_end(items[start:end])].strip()


def _group_end(items: list[LatexToken], start: int) -> int | None:
    """The index after the group starting at ``items[start]``: a braced group, or one token
    (with its own subscript: ``\\nabla_W``, ``\\nabla_\\theta``)."""
    if start >= len(items):
        return None
    if not _is(items[start], "sym", "{"):
        return start + 1
    depth = 0
    for index in range(start, len(items)):
        if _is(items[index], "sym", "{"):
            depth += 1
        elif _is(items[index], "sym", "}"):
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _is(token: LatexToken, kind: str, *texts: str) -> bool:
    return token.kind == kind and (not texts or token.text in texts)


# -- differentials ---------------------------------------------------------------------------

_WRITTEN_DIFFERENTIAL = re.compile(
    r"(?:\\mathrm\{d\}\s*\\?(?:mathbf\{)?|(?<![A-Za-z0-9_\\])d)([A-Za-z_]\w*)")
# The differential operator before a bracket or a function: ``d(...)``, ``\mathrm{d}\,\log\det(X)``,
# ``d tr(...)``.  A bare ``d`` counts only when the problem has no name ``d``.
_OPERATOR_D = re.compile(
    r"(?:\\(?:mathrm|operatorname|text)\{d\}|(?P<bare>(?<![\w\\])d))(?:\s|\\[,;!])*"
    r"(?=(?P<head>\\operatorname\{(?:tr|Tr|logdet|sum)\}|\\mathrm\{(?:tr|Tr)\}|\\log\s*\\det|"
    r"\\det|\\log|\\ln|\\exp|\\tr|tr|det|logdet|log|exp|sum)?\s*(?:\\left\s*)?[(\[])")


def differentials_written(text: str) -> set[str]:
    """The names whose differential the text writes: ``dX``, ``\\mathrm{d}X``, ``\\mathrm{d}
    \\mathbf{w}``."""
    return {match.group(1) for match in _WRITTEN_DIFFERENTIAL.finditer(text)}


@dataclass(frozen=True)
class OperatorD:
    """A differential operator applied to a bracket: ``text[start:end]`` is the whole
    ``d(...)``, ``text[inner:end]`` what it applies to."""

    start: int
    inner: int
    end: int


def operators_d(text: str, bare: bool) -> Iterator[OperatorD]:
    """The outermost ``d(...)`` in ``text``, left to right; ``bare``: whether a plain ``d``
    (not ``\\mathrm{d}``) is the operator (it is not when the problem has a name d)."""
    start = 0
    while match := _OPERATOR_D.search(text, start):
        if match.group("bare") and not bare:
            start = match.end()
            continue
        opening = match.end() + len(match.group("head") or "")
        end = _closing_bracket(text, opening)
        yield OperatorD(match.start(), match.end(), end)
        start = end


def _closing_bracket(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        if text[index] in "([{":
            depth += 1
        elif text[index] in ")]}":
            depth -= 1
            if depth == 0:
                return index + 1
    from ..errors import ParseError

    raise ParseError(f"d(...) without its closing bracket: {text[opening:]}")


def plain_name(text: str) -> str | None:
    """``text`` when it is an identifier of the language, else None."""
    return text if _IDENTIFIER.fullmatch(text) else None


__all__ = ["DerivativeWritten", "MAX_DERIVATION_LENGTH", "OperatorD", "Side", "Step",
           "derivation_steps", "derivative_written", "differentials_written", "operators_d",
           "plain_name"]

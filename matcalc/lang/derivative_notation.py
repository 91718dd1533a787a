"""Derivative notation in a derivation: the left sides that name a derivative and the
differentials a step writes.

Left sides: ``\\frac{\\partial f}{\\partial w}``, ``\\frac{df}{dw}``, ``\\frac{\\mathrm{d}f}
{\\mathrm{d}w}``, ``\\frac{\\partial}{\\partial w} f``, ``\\nabla_w f``, ``\\nabla_{w} f(w)``,
``\\nabla_w``, ``\\partial f / \\partial w``, ``dJ_dw`` and ``dJ/dw``.  Differentials: the names
whose differential a step writes (``dX``, ``\\mathrm{d}X``) and the differential operator before a
bracket (``d(...)``, ``\\mathrm{d}\\,\\log\\det(X)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import MatcalcError, ParseError
from .latex_tokens import LatexToken, tokens
from .syntax import strings_blanked

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
    if not items or (len(items) > 1 and _is(items[1], "sym", "^")):
        return None  # a second derivative (\partial^2 f): the reader names it as refused
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
    depth, scanned = 0, strings_blanked(text)  # a bracket inside einsum's spec is the spec's
    for index in range(opening, len(text)):
        if scanned[index] in "([{":
            depth += 1
        elif scanned[index] in ")]}":
            depth -= 1
            if depth == 0:
                return index + 1
    raise ParseError(f"d(...) without its closing bracket: {text[opening:]}")


__all__ = ["DerivativeWritten", "OperatorD", "derivative_written", "differentials_written",
           "operators_d"]

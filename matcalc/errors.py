"""The exceptions matcalc raises for bad or unsupported input.

Every error is a :class:`MatcalcError`; each subclass also derives from the builtin exception a
Python user would expect (``ValueError`` for bad values, ``NotImplementedError`` for unsupported
input, ...), so ``except ValueError`` keeps working.  An error that knows where in the source text
it happened carries the line, the column and a caret under the offending text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a source text: 1-based line and column, and the span's length."""

    line: int
    column: int
    length: int = 1

    def excerpt(self, source: str) -> str:
        """The source line with a caret line under the located span."""
        lines = source.splitlines() or [""]
        if not 1 <= self.line <= len(lines):
            return ""
        text = lines[self.line - 1].expandtabs(1)
        width = max(1, min(self.length, len(text) - self.column + 1))
        return f"  {text}\n  {' ' * (self.column - 1)}{'^' * width}"


class CheckWarning(UserWarning):
    """A derived result failed the quick numeric check ``derive`` runs by default (a defect of
    matcalc: the result is not to be trusted; ``Derivative.checked`` says how far off it is)."""


class MatcalcError(Exception):
    """Root of every error matcalc raises for bad input."""

    def __init__(self, message: str, location: Location | None = None, source: str | None = None):
        self.message = message
        self.location = location
        self.source = source
        super().__init__(self._render())

    @property
    def line(self) -> int | None:
        return self.location.line if self.location else None

    @property
    def column(self) -> int | None:
        return self.location.column if self.location else None

    def _render(self) -> str:
        if self.location is None:
            return self.message
        where = f"line {self.location.line}, column {self.location.column}: {self.message}"
        if self.source:
            excerpt = self.location.excerpt(self.source)
            if excerpt:
                return f"{where}\n{excerpt}"
        return where

    def at(self, location: Location | None, source: str | None) -> MatcalcError:
        """This error with a location filled in (when it had none)."""
        if self.location is None and location is not None:
            self.location = location
        if self.source is None:
            self.source = source
        self.args = (self._render(),)
        return self

    def __str__(self) -> str:
        return self._render()


class ParseError(MatcalcError, ValueError):
    """The text does not follow the grammar of the language."""


class ShapeError(MatcalcError, ValueError):
    """Operand shapes do not fit an operation, or arrays do not fit their declarations."""


class UnknownNameError(MatcalcError, NameError):
    """A name or function the problem does not know."""


class DeclarationError(MatcalcError, ValueError):
    """A declaration or definition that contradicts another one."""


class AssumptionError(MatcalcError, ValueError):
    """An attribute that does not apply, or an array that violates its declared attributes."""


class DomainError(MatcalcError, ValueError):
    """A value outside a function's domain (log of a negative number, ...)."""


class UnsupportedError(MatcalcError, NotImplementedError):
    """Valid input that matcalc cannot handle (yet); the message names what."""


class LimitError(MatcalcError, RuntimeError):
    """A resource limit (depth, size, time) was reached; the message names it."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix naming the closest candidate, or ''."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""

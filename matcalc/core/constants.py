"""Numbers written exactly, as books write them: ``1/2`` for 0.5, ``pi``, ``1 / sqrt(2 * pi)``.

A number of the IR is a float.  The printers ask :func:`exact` whether it is a simple fraction
(a denominator of 2, 3, 4, 6, 8 or 12, between -1 and 1) or one of the constants of pi and
square roots that derivatives bring in (the Gaussian's ``1 / sqrt(2 * pi)`` in GELU's derivative,
``2 / sqrt(pi)`` in erf's), and write it as that; every reader reads the form back (``pi`` in the
language when no variable takes the name, ``\\pi`` in LaTeX, SymPy's ``pi``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

DENOMINATORS = (2, 3, 4, 6, 8, 12)
PRODUCT, ATOM = "product", "atom"  # how the form binds: like a quotient, or like a name


@dataclass(frozen=True)
class Exact:
    """A number's exact form: in the language, in LaTeX, how it binds, and its SymPy value
    (built from the SymPy module passed in)."""

    text: str
    latex: str
    binds: str  # PRODUCT, ATOM, or NEGATIVE (a minus sign before an atom)
    sympy: Callable[[Any], Any]


NEGATIVE = "negative"

_FORMS = (  # (value, text, LaTeX, binds, SymPy)
    (math.pi, "pi", r"\pi", ATOM, lambda s: s.pi),
    (2 * math.pi, "2 * pi", r"2 \pi", PRODUCT, lambda s: 2 * s.pi),
    (math.pi / 2, "pi / 2", r"\frac{\pi}{2}", PRODUCT, lambda s: s.pi / 2),
    (1 / math.pi, "1 / pi", r"\frac{1}{\pi}", PRODUCT, lambda s: 1 / s.pi),
    (math.sqrt(math.pi), "sqrt(pi)", r"\sqrt{\pi}", ATOM, lambda s: s.sqrt(s.pi)),
    (1 / math.sqrt(math.pi), "1 / sqrt(pi)", r"\frac{1}{\sqrt{\pi}}", PRODUCT,
     lambda s: 1 / s.sqrt(s.pi)),
    (2 / math.sqrt(math.pi), "2 / sqrt(pi)", r"\frac{2}{\sqrt{\pi}}", PRODUCT,
     lambda s: 2 / s.sqrt(s.pi)),
    (math.sqrt(2 * math.pi), "sqrt(2 * pi)", r"\sqrt{2 \pi}", ATOM,
     lambda s: s.sqrt(2 * s.pi)),
    (1 / math.sqrt(2 * math.pi), "1 / sqrt(2 * pi)", r"\frac{1}{\sqrt{2 \pi}}", PRODUCT,
     lambda s: 1 / s.sqrt(2 * s.pi)),
    (math.sqrt(2 / math.pi), "sqrt(2 / pi)", r"\sqrt{\frac{2}{\pi}}", ATOM,
     lambda s: s.sqrt(2 / s.pi)),
    (math.sqrt(2), "sqrt(2)", r"\sqrt{2}", ATOM, lambda s: s.sqrt(2)),
    (1 / math.sqrt(2), "1 / sqrt(2)", r"\frac{1}{\sqrt{2}}", PRODUCT,
     lambda s: 1 / s.sqrt(2)),
)


_PI_TAKEN: ContextVar[bool] = ContextVar("pi_taken", default=False)


@contextmanager
def names_taken(names: Iterable[str]) -> Iterator[None]:
    """Printing for a problem with these names: where one of them is ``pi``, the constant is
    written as its number (``pi`` would read back as the problem's own pi)."""
    token = _PI_TAKEN.set("pi" in set(names))
    try:
        yield
    finally:
        _PI_TAKEN.reset(token)


def is_whole(value: float) -> bool:
    """Whether a number is a whole number: 2.0 is, 2.5 is not, and neither are inf and nan
    (which ``value == int(value)`` would raise on: a huge exponent doubled, 1e308 * 10)."""
    return float(value).is_integer()


def number_power(base: float, k: float) -> float:
    """``base ** k``, an infinity where it overflows (Python raises; ``ir.const`` then refuses
    the number with a message)."""
    try:
        return base ** k
    except OverflowError:
        return math.inf if base > 0 or is_whole(k / 2) else -math.inf


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 4e-16 * abs(b)  # a few units in the last place


def exact(value: float, pi_taken: bool | None = None) -> Exact | None:
    """The exact form of ``value``, or None for a number printed as it is; ``pi_taken``: the
    problem names something pi (None: as :func:`names_taken` says), so pi is not written."""
    if value == 0 or not math.isfinite(value):
        return None
    magnitude = abs(value)
    taken = _PI_TAKEN.get() if pi_taken is None else pi_taken
    found = _fraction(magnitude) or _constant(magnitude, taken)
    if found is None or value > 0:
        return found
    inner = found.sympy
    return Exact("-" + found.text, "-" + found.latex,
                 PRODUCT if found.binds == PRODUCT else NEGATIVE, lambda s: -inner(s))


def _fraction(magnitude: float) -> Exact | None:
    if magnitude >= 1:
        return None
    for q in DENOMINATORS:  # the smallest denominator first: the fraction in lowest terms
        p = round(magnitude * q)
        if p and p / q == magnitude:
            return Exact(f"{p}/{q}", f"\\frac{{{p}}}{{{q}}}", PRODUCT,
                         lambda s, p=p, q=q: s.Rational(p, q))
    return None


def _constant(magnitude: float, pi_taken: bool) -> Exact | None:
    for value, text, latex, binds, sympy in _FORMS:
        if _close(magnitude, value) and not ("pi" in text and pi_taken):
            return Exact(text, latex, binds, sympy)
    return None


def sympy_number(value: float, sympy: Any) -> Any:
    """The number in SymPy (the module passed in): an Integer, its exact form, or a Float."""
    if is_whole(value):
        return sympy.Integer(int(value))
    written = exact(value)
    return written.sympy(sympy) if written is not None else sympy.Float(value)

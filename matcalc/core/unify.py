"""Dimension equality, strict by default, with unification while inferring undeclared shapes.

Shape rules ask :func:`same` whether two dimensions agree.  Normally that is identity: ``n`` and
``m`` differ even if they could take the same size.  While the types of undeclared names are
inferred (one-line expressions), an :class:`Inference` is active: its *flexible* dimensions unify
with anything by union-find, and the rules themselves are what drives the inference.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from itertools import count

from ..errors import UnsupportedError
from .shapes import Dim

_FLEXIBLE_PREFIX = "?"


class Inference:
    """Union-find over dimensions; flexible dimensions bind to whatever they meet."""

    def __init__(self) -> None:
        self._parent: dict[Dim, Dim] = {}
        self._counter = count(1)

    def fresh(self) -> Dim:
        """A new flexible dimension."""
        return Dim(1, (f"{_FLEXIBLE_PREFIX}{next(self._counter)}",))

    @staticmethod
    def is_flexible(d: Dim) -> bool:
        return d.is_symbol and d.symbols[0].startswith(_FLEXIBLE_PREFIX)

    def find(self, d: Dim) -> Dim:
        root = d
        while root in self._parent:
            root = self._parent[root]
        while d in self._parent and self._parent[d] is not root:
            self._parent[d], d = root, self._parent[d]
        return root

    def resolve(self, d: Dim) -> Dim:
        """``d`` with every flexible symbol replaced by what it is bound to."""
        d = self.find(d)
        if d.is_number or d.is_symbol:
            return d
        result = Dim(0)
        for symbols, coefficient in d.terms:
            term = Dim(coefficient)
            for symbol in symbols:
                term = term * self.find(Dim(1, (symbol,)))
            result = result + term
        return result

    def unify(self, a: Dim, b: Dim) -> bool:
        """Bind flexible dimensions to what they meet; never to 1: a name typed by convention
        (a matrix, a vector) is never silently retyped as a row, a column or a scalar (the
        operation then reports its own shape error, or broadcasts)."""
        a, b = self.resolve(a), self.resolve(b)
        if a is b:
            return True
        if (self.is_flexible(a) and b.is_number and b.coefficient == 1) or \
                (self.is_flexible(b) and a.is_number and a.coefficient == 1):
            return False
        if self.is_flexible(a):
            self._parent[a] = b
            return True
        if self.is_flexible(b):
            self._parent[b] = a
            return True
        if self._has_flexible(a) or self._has_flexible(b):
            shown = " vs ".join(re.sub(r"\?\d+", "?", str(d)) for d in (a, b))
            raise UnsupportedError(
                f"cannot infer dimensions that are products ({shown}); declare the names, "
                "e.g. --let \"A : matrix(m, n)\""
            )
        return False

    @staticmethod
    def _has_flexible(d: Dim) -> bool:
        return any(symbol.startswith(_FLEXIBLE_PREFIX) for symbol in d.symbols)


_active: list[Inference] = []


def same(a: Dim, b: Dim) -> bool:
    """Whether two dimensions agree (unifying flexible ones while inferring)."""
    if a is b:
        return True
    return _active[-1].unify(a, b) if _active else False


@contextmanager
def inferring(inference: Inference):
    """Make ``inference`` decide dimension equality inside the block."""
    _active.append(inference)
    try:
        yield inference
    finally:
        _active.pop()

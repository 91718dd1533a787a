"""Dimensions, shapes and kinds.

A dimension is a sum of products of integers and dimension symbols (``n``, ``Dh``, ``m*n`` for
the rows of ``vec(A)``, ``k + m`` for a concatenation, ``n - k + 1`` for a valid convolution).
Dimensions are interned: one object per value, so equality is identity and two dimensions are
equal exactly when they are the same polynomial (``dh + dh`` is ``2*dh``; ``n`` and ``m`` never
unify unless they are the same symbol).  A shape is a (rows, cols) pair, with the leading
(batch) axes of a tensor before them; the *kind* tells scalars, column vectors, row vectors,
matrices and tensors apart, because it decides what ``softmax`` means.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

Term = tuple[tuple[str, ...], int]  # (symbols, coefficient): coefficient * product(symbols)

_DIMS: dict[tuple[Term, ...], Dim] = {}


def _canonical(terms) -> tuple[Term, ...]:
    """Like terms collected, zero terms dropped, the highest degree first and the number last
    (``n - k + 1``)."""
    collected: dict[tuple[str, ...], int] = {}
    for symbols, coefficient in terms:
        key = tuple(sorted(symbols))
        collected[key] = collected.get(key, 0) + coefficient
    kept = [(symbols, c) for symbols, c in collected.items() if c != 0]
    return tuple(sorted(kept, key=lambda term: (-len(term[0]), term[1] < 0, term[0])))


class Dim:
    """A dimension: a sum of terms ``coefficient * product(symbols)``, such as ``n``, ``m*n``,
    ``2*dh`` or ``n - k + 1``; build with :func:`dim` and ``+ - *``.  Interned: equal sums are
    the same object (``dh + dh`` is ``2*dh``)."""

    __slots__ = ("terms", "_hash")

    terms: tuple[Term, ...]

    def __new__(cls, coefficient: int = 1, symbols: tuple[str, ...] = ()) -> Dim:
        return cls.of_terms(((tuple(symbols), coefficient),))

    @classmethod
    def of_terms(cls, terms) -> Dim:
        key = _canonical(terms)
        found = _DIMS.get(key)
        if found is not None:
            return found
        self = object.__new__(cls)
        object.__setattr__(self, "terms", key)
        object.__setattr__(self, "_hash", hash(key))
        _DIMS[key] = self
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Dim is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other

    def __reduce__(self):
        return (Dim.of_terms, (self.terms,))

    @property
    def is_number(self) -> bool:
        return all(not symbols for symbols, _ in self.terms)

    @property
    def is_symbol(self) -> bool:
        return len(self.terms) == 1 and self.terms[0][1] == 1 and len(self.terms[0][0]) == 1

    @property
    def is_monomial(self) -> bool:
        """One term: a number, a symbol or a product (``2*dh``), not a sum."""
        return len(self.terms) <= 1

    @property
    def coefficient(self) -> int:
        """The number of a monomial (``2`` of ``2*dh``, ``3`` of ``3``)."""
        if not self.terms:
            return 0
        if len(self.terms) > 1:
            raise ValueError(f"the sum {self} has no single coefficient")
        return self.terms[0][1]

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols of a monomial in order; of a sum, every symbol it uses."""
        if len(self.terms) == 1:
            return self.terms[0][0]
        return tuple(sorted({symbol for symbols, _ in self.terms for symbol in symbols}))

    def __mul__(self, other: Dim) -> Dim:
        return Dim.of_terms((a + b, c * d) for a, c in self.terms for b, d in other.terms)

    def __add__(self, other: Dim) -> Dim:
        return Dim.of_terms(self.terms + other.terms)

    def __sub__(self, other: Dim) -> Dim:
        return Dim.of_terms(self.terms + tuple((s, -c) for s, c in other.terms))

    def isolated(self, symbol: str) -> tuple[int, Dim] | None:
        """(c, rest) with ``self = c * symbol + rest`` and ``symbol`` not in rest, or None when
        ``symbol`` stands in a product (``m*n``) or not at all: what solving for it needs."""
        coefficient, rest = 0, []
        for symbols, c in self.terms:
            if symbols == (symbol,):
                coefficient = c
            elif symbol in symbols:
                return None
            else:
                rest.append((symbols, c))
        return (coefficient, Dim.of_terms(rest)) if coefficient else None

    def value(self, sizes: dict[str, int]) -> int:
        """The integer this dimension takes when each symbol has the size given."""
        total = 0
        for symbols, coefficient in self.terms:
            term = coefficient
            for symbol in symbols:
                term *= sizes[symbol]
            total += term
        return total

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        text = ""
        for index, (symbols, coefficient) in enumerate(self.terms):
            size = abs(coefficient)
            parts = [] if size == 1 and symbols else [str(size)]
            term = "*".join(parts + list(symbols))
            if index == 0:
                text = term if coefficient > 0 else f"-{term}"
            else:
                text += f" {'+' if coefficient > 0 else '-'} {term}"
        return text

    def __repr__(self) -> str:
        return f"dim({str(self)!r})"


def dim(value: int | str | Dim) -> Dim:
    """The dimension named by an integer or a symbol (the one factory for every name)."""
    if isinstance(value, Dim):
        return value
    if isinstance(value, bool):
        raise TypeError("a dimension is an integer or a name")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"a dimension must be positive, not {value}")
        return Dim(value, ())
    if isinstance(value, str) and value.isidentifier():
        return Dim(1, (value,))
    raise TypeError(f"a dimension is a positive integer or a name, not {value!r}")


ONE = dim(1)


class Kind(enum.Enum):
    """What an expression is: it decides the meaning of softmax and the NumPy layout."""

    SCALAR = "scalar"
    VECTOR = "vector"  # a column vector, n x 1; a 1-D array in NumPy
    ROW = "row vector"  # a transposed vector, 1 x n
    MATRIX = "matrix"
    TENSOR = "tensor"  # three or four axes: leading (batch) axes, then rows and columns


@dataclass(frozen=True)
class Shape:
    """A (rows, cols) pair of dimensions; a tensor's leading axes come first in ``lead``
    (``tensor(B, T, d)`` is ``Shape(T, d, lead=(B,))``), so rows and columns are always its last
    two axes, the ones ``@`` multiplies and ``'`` swaps."""

    rows: Dim
    cols: Dim
    lead: tuple[Dim, ...] = ()

    @property
    def is_scalar(self) -> bool:
        return self.rows is ONE and self.cols is ONE and not self.lead

    @property
    def dims(self) -> tuple[Dim, ...]:
        """Every axis in NumPy's order: the leading ones, then rows and columns."""
        return self.lead + (self.rows, self.cols)

    @property
    def is_square(self) -> bool:
        return self.rows is self.cols

    @property
    def T(self) -> Shape:  # noqa: N802 - mirrors the transpose notation
        return Shape(self.cols, self.rows, self.lead)

    def __str__(self) -> str:
        return " x ".join(str(d) if d.is_monomial else f"({d})" for d in self.dims)


SCALAR_SHAPE = Shape(ONE, ONE)


def describe(kind: Kind, shape: Shape) -> str:
    """A type as the user declares it: ``scalar``, ``vector(n)``, ``matrix(m, n)``."""
    if kind is Kind.SCALAR:
        return "scalar"
    if kind is Kind.VECTOR:
        return f"vector({shape.rows})"
    if kind is Kind.ROW:
        cols = str(shape.cols) if shape.cols.is_monomial else f"({shape.cols})"
        return f"row vector(1 x {cols})"
    if kind is Kind.TENSOR:
        return f"tensor({', '.join(map(str, shape.dims))})"
    return f"matrix({shape.rows}, {shape.cols})"


def kind_of_shape(shape: Shape, preferred: Kind) -> Kind:
    """The kind of a result of this shape: a 1 x 1 result is always a scalar."""
    if shape.is_scalar:
        return Kind.SCALAR
    return preferred

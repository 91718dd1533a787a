"""Dimensions, shapes and kinds.

A dimension is a product of an integer and dimension symbols (``n``, ``Dh``, ``m*n`` for the rows
of ``vec(A)``).  Dimensions are interned: one object per value, so equality is identity and two
dimensions are equal exactly when they are the same product (``n`` and ``m`` never unify unless
they are the same symbol).  A shape is a (rows, cols) pair; the *kind* tells scalars, column
vectors, row vectors and matrices apart, because it decides what ``softmax`` means.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

_DIMS: dict[tuple[int, tuple[str, ...]], Dim] = {}


class Dim:
    """A dimension: ``coefficient * product(symbols)``; build with :func:`dim`."""

    __slots__ = ("coefficient", "symbols", "_hash")

    coefficient: int
    symbols: tuple[str, ...]

    def __new__(cls, coefficient: int, symbols: tuple[str, ...]) -> Dim:
        key = (coefficient, symbols)
        found = _DIMS.get(key)
        if found is not None:
            return found
        self = super().__new__(cls)
        object.__setattr__(self, "coefficient", coefficient)
        object.__setattr__(self, "symbols", symbols)
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
        return (Dim, (self.coefficient, self.symbols))

    @property
    def is_number(self) -> bool:
        return not self.symbols

    @property
    def is_symbol(self) -> bool:
        return self.coefficient == 1 and len(self.symbols) == 1

    def __mul__(self, other: Dim) -> Dim:
        symbols = tuple(sorted(self.symbols + other.symbols))
        return Dim(self.coefficient * other.coefficient, symbols)

    def value(self, sizes: dict[str, int]) -> int:
        """The integer this dimension takes when each symbol has the size given."""
        result = self.coefficient
        for symbol in self.symbols:
            result *= sizes[symbol]
        return result

    def __str__(self) -> str:
        parts = [] if self.coefficient == 1 and self.symbols else [str(self.coefficient)]
        return "*".join(parts + list(self.symbols))

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


@dataclass(frozen=True)
class Shape:
    """A (rows, cols) pair of dimensions."""

    rows: Dim
    cols: Dim

    @property
    def is_scalar(self) -> bool:
        return self.rows is ONE and self.cols is ONE

    @property
    def is_square(self) -> bool:
        return self.rows is self.cols

    @property
    def T(self) -> Shape:  # noqa: N802 - mirrors the transpose notation
        return Shape(self.cols, self.rows)

    def __str__(self) -> str:
        return f"{self.rows} x {self.cols}"


SCALAR_SHAPE = Shape(ONE, ONE)


def describe(kind: Kind, shape: Shape) -> str:
    """A type as the user declares it: ``scalar``, ``vector(n)``, ``matrix(m, n)``."""
    if kind is Kind.SCALAR:
        return "scalar"
    if kind is Kind.VECTOR:
        return f"vector({shape.rows})"
    if kind is Kind.ROW:
        return f"row vector(1 x {shape.cols})"
    return f"matrix({shape.rows}, {shape.cols})"


def kind_of_shape(shape: Shape, preferred: Kind) -> Kind:
    """The kind of a result of this shape: a 1 x 1 result is always a scalar."""
    if shape.is_scalar:
        return Kind.SCALAR
    return preferred

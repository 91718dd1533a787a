"""What the text printer, the shape rules and the SymPy bridge read of an expression and of a
program, as protocols: they describe :class:`matcalc.core.ir.Node` and
:class:`matcalc.core.program.Program` without importing the modules that define them, which
import those readers (so the import graph has no circle, not even for type checkers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .shapes import Kind, Shape


class Expression(Protocol):
    """An interned expression node (core/ir.py ``Node``)."""

    op: str
    args: tuple[Expression, ...]
    params: tuple
    shape: Shape
    kind: Kind

    @property
    def is_scalar(self) -> bool: ...


class Defined(Protocol):
    """A program's definitions by name, each with its ``body`` (core/program.py ``Program``)."""

    definitions: Mapping[str, Any]

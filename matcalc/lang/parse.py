"""The entry point of the language: text -> typed :class:`Program`.

A source is either a *program* (declarations, definitions, requests; see docs/language.md) or a
*one-line expression* such as ``x' @ A @ x``.  In an expression, undeclared names are typed by
convention (an upper-case first letter is a matrix, anything else a column vector), their
dimensions found by unification, and the expression becomes the definition ``f``; ``let``
declarations override the convention.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import count

from ..core.program import Program
from ..core.shapes import Dim, Shape, dim
from ..core.unify import Inference, inferring
from ..errors import DeclarationError, ParseError, UnsupportedError, did_you_mean
from .build import Builder
from .syntax import parse_tree

_PROGRAM_START = re.compile(
    r"^\s*((grad|jacobian|hessian)\b|[A-Za-z_]\w*\s*(,\s*[A-Za-z_]\w*\s*)*:\s*(scalar|vector|matrix)\b)"
)
_DIMENSION_NAMES = ("n", "m", "k", "p", "q", "r", "l", "d")


_DECLARATION_LIKE = re.compile(r"^\s*[A-Za-z_]\w*\s*(,\s*[A-Za-z_]\w*\s*)*:\s*([A-Za-z_]\w*)")
_TYPES = ("scalar", "vector", "matrix")


def looks_like_program(source: str) -> bool:
    """Whether ``source`` is a program rather than a single expression.

    A declaration with a misspelt type (``x : vectr(n)``) counts as a program, so that the error
    is about the type rather than about an unknown function.
    """
    code = re.sub(r"#[^\n]*", "", source).strip()
    if any(mark in code for mark in ("\n", ";", "=")) or _PROGRAM_START.match(code):
        return True
    declaration = _DECLARATION_LIKE.match(code)
    return bool(declaration and did_you_mean(declaration.group(2), _TYPES))


def parse(source: str, let: str | Sequence[str] | None = None) -> Program:
    """Parse and type-check a program or a one-line expression.

    ``let`` holds extra declarations (``"A : matrix(n, n) symmetric"``), one a string or
    separated by ``;`` or new lines; they come before the source's own statements.
    """
    if not isinstance(source, str):
        raise ParseError(f"a problem is text, not {type(source).__name__}")
    let_source = _let_text(let)
    if not re.sub(r"#[^\n]*", "", source).strip():
        raise ParseError("the problem is empty: write declarations, definitions and requests, "
                         "or one expression such as \"x' @ A @ x\"")
    if looks_like_program(source):
        builder = Builder(source)
        _declare_let(builder, let_source)
        return builder.program(parse_tree(source, "program"))
    return _parse_expression(source, let_source)


def _let_text(let: str | Sequence[str] | None) -> str:
    if let is None:
        return ""
    if isinstance(let, str):
        return let
    return "\n".join(let)


def _declare_let(builder: Builder, let_source: str) -> None:
    """Run the ``let`` declarations in ``builder`` (their errors point into the let text)."""
    if not let_source.strip():
        return
    tree = parse_tree(let_source, "program")
    saved, builder.source = builder.source, let_source
    try:
        for statement in tree.children:
            if statement.data != "declaration":
                raise DeclarationError("--let takes declarations only, like 'A : matrix(n, n)'",
                                       None, let_source)
            builder.statement(statement)
    finally:
        builder.source = saved


def _parse_expression(source: str, let_source: str) -> Program:
    tree = parse_tree(source, "expression")
    inference = Inference()
    first = Builder(source, inference)
    _declare_let(first, let_source)
    with inferring(inference):
        first.expression(tree)
    names = _name_dimensions(first, inference)

    second = Builder(source)
    _declare_let(second, let_source)
    second.dimensions.update(first.dimensions)
    second.dimensions.update({d.symbols[0]: d for d in names.values()})
    for name in first.inferred:
        node = first.variables[name]
        shape = Shape(_final_dim(name, node.shape.rows, inference, names),
                      _final_dim(name, node.shape.cols, inference, names))
        second.declare(name, node.kind, shape, frozenset())
        second.inferred.append(name)
    body = second.expression(tree)
    second.define(_result_name(second), body)
    return second.result()


def _name_dimensions(builder: Builder, inference: Inference) -> dict[Dim, Dim]:
    """Readable names (n, m, k, ...) for the dimensions inference left open."""
    taken = set(builder.variables) | set(builder.dimensions)
    fresh = (name for name in _candidate_names() if name not in taken)
    names: dict[Dim, Dim] = {}
    for variable in builder.inferred:
        shape = builder.variables[variable].shape
        for d in (shape.rows, shape.cols):
            root = inference.resolve(d)
            if Inference.is_flexible(root) and root not in names:
                names[root] = dim(next(fresh))
    return names


def _candidate_names():
    yield from _DIMENSION_NAMES
    for i in count(1):
        yield f"n{i}"


def _final_dim(variable: str, d: Dim, inference: Inference, names: dict[Dim, Dim]) -> Dim:
    root = inference.resolve(d)
    if Inference.is_flexible(root):
        return names[root]
    if any(symbol.startswith("?") for symbol in root.symbols) or not (root.is_symbol or
                                                                        root.is_number):
        raise UnsupportedError(f"cannot infer the shape of '{variable}'; declare it, "
                               f"e.g. --let \"{variable} : matrix(m, n)\"")
    return root


def _result_name(builder: Builder) -> str:
    taken = set(builder.variables) | set(builder.dimensions)
    return next(name for name in ("f", "F", "g", "h") + tuple(f"f{i}" for i in range(1, 99))
                if name not in taken)

"""The sizes generated code reads: which dimensions a function uses, where its arguments show
them (``X.shape[1]``, or a size solved from ``2 * k`` as ``X.shape[0] // 2``), and which of a
function's setup lines (arguments, sizes, the dtype) its body uses."""

from __future__ import annotations

import re

from ..core.ir import Node, walk
from ..core.program import Program
from ..core.shapes import Dim, Kind
from .names import identifier


def missing_sizes(program: Program, variables: list[str], bodies: list[Node]) -> bool:
    """Whether the bodies use a dimension no argument shows (the function takes sizes=)."""
    return bool(used_dims(bodies) - set(sizes_shown(program, variables)))


def used_dims(bodies: list[Node]) -> set[str]:
    """The dimensions the bodies read as numbers (sizes of I, ones, dimvals...)."""
    return {s for body in bodies for n in walk(body) for s in dims_of(n)}


def sizes_shown(program: Program, variables: list[str]) -> dict[str, str]:
    """Each dimension an argument shows, with the Python expression reading it off."""
    sizes: dict[str, str] = {}
    for variable in variables:
        node = program.variables[variable]
        if node.kind is Kind.SCALAR:
            continue
        for axis, d in enumerate(node.shape.dims):
            if d.is_symbol and d.symbols[0] not in sizes:
                sizes[d.symbols[0]] = f"{identifier(variable)}.shape[{axis}]"
    for variable in variables:  # 2*dh, k + 1: one symbol read off a size, when alone
        node = program.variables[variable]
        for axis, d in enumerate(node.shape.dims):
            solved = solved_size(d, f"{identifier(variable)}.shape[{axis}]")
            if node.kind is not Kind.SCALAR and solved and solved[0] not in sizes:
                sizes[solved[0]] = solved[1]
    return sizes


def dims_of(node: Node) -> set[str]:
    dims: list[Dim] = []
    if node.op in ("dimval", "identity"):
        dims.append(node.params[0])
    elif node.op in ("ones", "zeros", "unvec"):
        dims += list(node.shape.dims)
    elif node.op == "commutation":
        dims += list(node.params)
    return {symbol for d in dims for symbol in d.symbols}


def solved_size(d: Dim, size: str) -> tuple[str, str] | None:
    """(symbol, Python expression) when ``d`` is c * s + r for one symbol s and a number r:
    s = (size - r) // c."""
    if d.is_symbol or len(d.symbols) != 1:
        return None
    (symbol,) = d.symbols
    isolated = d.isolated(symbol)
    if isolated is None or not isolated[1].is_number:
        return None
    coefficient, rest = isolated
    shifted = f"({size} - {rest.value({})})" if rest.terms else size
    return symbol, f"{shifted} // {coefficient}" if coefficient != 1 else shifted

def used_setup(setup: list[str], rest: str) -> list[str]:
    """The setup lines a function body uses: every argument's conversion (which checks it), a
    size or the dtype only where a later line reads it (each is a cost on every call)."""
    kept: list[str] = []
    for line in reversed(setup):
        name = line.split(" = ", 1)[0]
        if not name.startswith("_") or re.search(rf"(?<![\w.]){re.escape(name)}\b",
                                                 rest + "\n".join(kept)):
            kept.insert(0, line)
    return kept

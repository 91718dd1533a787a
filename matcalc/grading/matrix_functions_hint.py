"""A hint for an entrywise function of a square matrix where a paper means the matrix function.

Papers write ``\\log S``, ``\\exp A`` and ``\\sqrt{S}`` for the matrix logarithm, exponential and
square root of a square matrix; the language and its LaTeX reader read ``log(S)``, ``\\log S``
entry by entry (NumPy's ``np.log``), and the matrix functions are ``logm``, ``expm`` and
``sqrtm`` (``\\operatorname{logm}``).  When an answer judged wrong would be right with those calls
read as the matrix functions (each alone, or all of them), the hint says so; the verdict stays
what it is: the answer, as read, is not the derivative.
"""

from __future__ import annotations

from ..core import ir
from ..core.ir import Node, walk
from ..core.program import Program
from ..core.shapes import Kind
from ..engine.result import Result
from ..errors import MatcalcError
from .samples import agrees

MATRIX_FUNCTIONS = {"log": "logm", "exp": "expm", "sqrt": "sqrtm"}


def matrix_function_hint(expected: Result, extended: Program, node: Node,
                         samples: object = None) -> str:
    """The hint when reading the answer's entrywise log/exp/sqrt of square matrices as the
    matrix functions makes it right, else ""."""
    calls = [item for item in dict.fromkeys(walk(node)) if item.op in MATRIX_FUNCTIONS and
             item.kind is Kind.MATRIX and item.shape.is_square]
    tries = [[call] for call in calls] + ([calls] if len(calls) > 1 else [])
    for chosen in tries:
        try:
            swap = {call: _matrix_function(call) for call in chosen}
            candidate = ir.replaced(node, swap.get)
            right = agrees(expected, extended, candidate)
        except MatcalcError:
            continue
        if right:
            return _text(chosen)
    return ""


def _matrix_function(call: Node) -> Node:
    return ir.apply(MATRIX_FUNCTIONS[call.op], call.args[0])


def _text(calls: list[Node]) -> str:
    read = ", ".join(str(call) for call in calls)
    meant = ", ".join(str(_matrix_function(call)) for call in calls)
    commands = ", ".join(dict.fromkeys(f"\\operatorname{{{MATRIX_FUNCTIONS[call.op]}}}"
                                       for call in calls))
    return (f"your answer is read with {read} entry by entry (so is LaTeX \\log, \\exp, \\sqrt "
            f"of a matrix); with the matrix function, {meant}, it would be right: write "
            f"{meant} (LaTeX {commands})")

"""Arrays of generated NumPy code that nothing reads any more lend their memory to the next.

The writer records each call it writes that allocates a new array (``_np.multiply(t, v,
dtype=_dtype)``: entrywise chains, codegen/row_means.py); once a function's lines are written,
an allocation writes into an operand of its shape instead (``out=t``) where that operand is an
array an earlier allocation made, nothing but new arrays was computed from it (no view, no
alias) and no later line reads it.  LayerNorm's gradient then needs one N x d array.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Allocation:
    """A call allocating a new array of its result's shape and the dtype ``_dtype``:
    ``_np.<ufunc>(*operands, dtype=_dtype)``; ``full`` names the operands of that shape."""

    ufunc: str
    operands: tuple[str, ...]
    full: tuple[str, ...]


# calls whose result never shares memory with an argument (a view would: reshape, .T, ...)
_FRESH = re.compile(r"_(row|column)_(sums|dots)|_np\.(add|subtract|multiply|divide|negative|"
                    r"sqrt|exp|log|sum|mean|vdot|einsum|dot|matmul|maximum|minimum|where)")


def reuse_dead_arrays(lines: list[str], after: list[str],
                      allocations: dict[str, Allocation]) -> list[str]:
    """The lines of a function with each allocation (``x = _np.multiply(t, v, dtype=_dtype)``)
    writing into an operand of its shape, ``t``, instead, where ``t`` is an array an earlier
    allocation made, nothing but fresh results was computed from it (no view, no alias), and
    no later line (nor ``after``, the returned expressions) reads it.  ``Xn = (X - mu) / s``
    then reuses ``X - mu``'s memory, and a gradient the memory of ``Xn``."""
    arrays: set[str] = set()  # names holding arrays that allocations made, not yet shared
    rewritten = list(lines)
    for index, line in enumerate(lines):
        target, _, text = line.partition(" = ")
        later = lines[index + 1:] + after
        if text in arrays and target.isidentifier() and \
                not any(_mentioned(text, rest) for rest in later):
            arrays.discard(text)  # a name given to the array: the one that holds it now
            arrays.add(target)
            continue
        for name in list(arrays):
            if _mentioned(name, line) and not (target == name and text in allocations) and \
                    not _only_read(name, line):
                arrays.discard(name)  # a view or an alias of it may outlive it
        allocation = allocations.get(text) if target.isidentifier() else None
        if allocation is None:
            continue
        for operand in allocation.full:
            if operand in arrays and not any(_mentioned(operand, rest) for rest in later):
                rewritten[index] = f"{target} = _np.{allocation.ufunc}(" \
                                   f"{', '.join(allocation.operands)}, out={operand})"
                arrays.discard(operand)
                break
        arrays.add(target)
    return rewritten


def _mentioned(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w.'\"]){re.escape(name)}(?![\w'\"])", text) is not None


def _only_read(name: str, line: str) -> bool:
    """Whether every use of ``name`` in ``line`` is an operand of arithmetic or of a call
    whose result is new memory (never a view, an alias or an attribute)."""
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return False
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == name):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.keyword) and parent.arg == "out":
            continue  # written in place: still this array
        if isinstance(parent, ast.keyword):
            parent = parents.get(parent)
        if isinstance(parent, ast.BinOp | ast.UnaryOp):
            continue
        if isinstance(parent, ast.AugAssign) and parent.value is node:
            continue
        if isinstance(parent, ast.AugAssign) and parent.target is node:
            continue
        if isinstance(parent, ast.Call) and _FRESH.fullmatch(ast.unparse(parent.func)):
            continue
        return False
    return True

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
    mentions = [_names(line) for line in lines]
    last = {name: index for index, names in enumerate(mentions) for name in names}
    returned = set().union(*map(_names, after))

    def read_later(name: str, index: int) -> bool:  # by a line after ``index``, or returned
        return last.get(name, -1) > index or name in returned

    for index, line in enumerate(lines):
        target, _, text = line.partition(" = ")
        if text in arrays and target.isidentifier() and not read_later(text, index):
            arrays.discard(text)  # a name given to the array: the one that holds it now
            arrays.add(target)
            continue
        for name in arrays & mentions[index]:
            if not (target == name and text in allocations) and not _only_read(name, line):
                arrays.discard(name)  # a view or an alias of it may outlive it
        allocation = allocations.get(text) if target.isidentifier() else None
        if allocation is None:
            continue
        for operand in allocation.full:
            if operand in arrays and not read_later(operand, index):
                rewritten[index] = f"{target} = _np.{allocation.ufunc}(" \
                                   f"{', '.join(allocation.operands)}, out={operand})"
                arrays.discard(operand)
                break
        arrays.add(target)
    return rewritten


# a name as a whole word: not part of a longer name, an attribute (``.T``) or a string
_NAME = re.compile(r"(?<![\w.'\"])[A-Za-z_]\w*(?![\w'\"])")


def _names(text: str) -> set[str]:
    """The names ``text`` mentions (each line's, found once: a function of many thousand lines
    is rewritten in linear time, where searching the rest of it for each line was quadratic)."""
    return set(_NAME.findall(text))


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

"""Row-local gradients computed over blocks of rows, each block's arrays kept in cache.

A normalisation layer's gradient reads each row of its inputs on its own: row sums and row dot
products, columns spread along the rows, entrywise operations, products with matrices that do
not depend on the rows.  Its NumPy code makes about nine passes over N x d memory; over blocks
of rows small enough for the CPU's cache (``_in_row_blocks``, about 512 KiB an array) those
passes read the cache, not memory, as a compiler's fused loops do.  Each block writes its rows of
the results in place (``written_into``: the new array that becomes a result is its rows of the
result), and blocks are shared among threads (``MATCALC_THREADS``; NumPy's loops and BLAS release
the GIL), as XLA shares its fused loops among its threads.

A function is computed in blocks only where this analysis proves every value it writes
row-local (row i of each result depends on row i of the inputs alone: entrywise operations,
products with what does not depend on the rows, a diagonal matrix of the rows' numbers times a
matrix, and softmax, logsumexp, max and min along each row); anything else that depends on the
rows (a sum over them, a transpose, the number N itself) keeps the function whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..core.functions import FUNCTIONS
from ..core.ir import Node
from ..core.shapes import Dim, Kind
from .row_means import UFUNCS

ROWS, GLOBAL = "rows", "global"  # a value's rows follow the inputs' rows; it ignores them
DIAGONAL = "diagonal"  # Diag(v) of a vector of the rows, read only as Diag(v) @ M (v * M)
_ENTRYWISE = frozenset(UFUNCS) | frozenset(FUNCTIONS) | {"where", "maximum", "minimum"}
# along each row of a matrix (the axis of the axis_ operations given as 1 or -1)
ALONG_ROWS = frozenset({"softmax", "log_softmax", "logsumexp", "axis_max", "axis_min",
                        "axis_ismax", "axis_ismin"})


def row_blocked(results: list[Node], body_of: Callable[[str], Node | None], variables: dict,
                backend: str, hoisted: Sequence[Node] = ()) -> tuple[str, ...]:
    """The variables a NumPy function computing ``results`` slices into blocks of rows when
    every result has N rows and is row-local in N (N the first result's rows); () where not,
    and where ``prepare`` would compute work that does not depend on the rows (``hoisted``:
    ``B @ A`` of ``softmax(C @ B @ A)``), which each block would compute again."""
    if backend != "numpy" or not results or \
            any(r.kind not in (Kind.MATRIX, Kind.VECTOR) for r in results):
        return ()
    rows = results[0].shape.rows
    if not _names_in(rows) or any(not _names_in(rows) & {
            s for d in _dims(node.shape) for s in _names_in(d)} for node in hoisted):
        return ()  # a number of rows: nothing to block; or work prepare does once
    status = _status_of(rows, body_of, {})
    if any(status(r) != ROWS or r.shape.rows is not rows for r in results):
        return ()
    return tuple(name for name, v in variables.items()
                 if v.kind in (Kind.MATRIX, Kind.VECTOR) and v.shape.rows is rows)


def in_blocks(name: str, signature: str, doc: str, parameters: list[str],
              sliced: list[str]) -> str:
    """The source of ``name``, calling ``_<name>_rows`` (the same code) over blocks of the
    sliced arrays' rows, on up to MATCALC_THREADS threads (runtime/row_block_helpers.py)."""
    arrays = ", ".join(f"{p!r}: {p}" for p in parameters)
    return (f'def {name}{signature}:\n    """{doc}\n\n    Computed over blocks of rows, shared '
            "among threads where there are many:\n    the environment's MATCALC_THREADS "
            "threads (by default one);\n    the result is the "
            'same on any number of threads.\n    """\n    return '
            f"_in_row_blocks(_{name}_rows, {{{arrays}}}, {tuple(sliced)!r})\n\n\n")


def _dims(shape) -> list[Dim]:
    return [*shape.lead, shape.rows, shape.cols]


def _status_of(rows: Dim, body_of: Callable[[str], Node | None], seen: dict):
    """status(node): ROWS (row i of the value depends on row i of the inputs alone and the
    value has N rows), GLOBAL (the value does not depend on the rows at all), DIAGONAL or
    None."""

    def mentions(shape) -> bool:
        return any(rows is d or _names_in(rows) & _names_in(d) for d in _dims(shape))

    def inputs(node: Node) -> tuple[Node, ...]:
        if node.op == "ref":
            body = body_of(node.params[0])
            return () if body is None else (body,)
        return () if node.op in ("var", "ones", "zeros", "const", "dimval") else node.args

    def status(node: Node) -> str | None:
        """Iterative (a chain of hundreds of definitions is as deep): every input's status
        is found before the node's."""
        stack = [(node, False)]
        while stack:
            current, ready = stack.pop()
            if current in seen:
                continue
            if ready:
                seen[current] = _status(current)
                continue
            stack.append((current, True))
            stack.extend((arg, False) for arg in inputs(current) if arg not in seen)
        return seen[node]

    def _status(node: Node) -> str | None:
        op, args = node.op, node.args
        if op == "ref":
            body = body_of(node.params[0])
            return None if body is None else seen[body]
        if op in ("var", "ones", "zeros"):
            if not mentions(node.shape):
                return GLOBAL
            own = node.shape.rows is rows and not mentions_tail(node.shape)
            return ROWS if own and node.kind in (Kind.MATRIX, Kind.VECTOR) else None
        if op == "const":
            return GLOBAL
        if op == "dimval":
            return None if _names_in(rows) & _names_in(node.params[0]) else GLOBAL
        states = [seen[arg] for arg in args]
        if None in states:
            return None
        if all(state == GLOBAL for state in states):
            return None if mentions(node.shape) else GLOBAL
        if op == "Diag":
            return DIAGONAL if states == [ROWS] and args[0].kind is Kind.VECTOR else None
        if op == "matmul" and states == [DIAGONAL, ROWS]:  # each row scaled by its number
            return ROWS if node.shape.rows is rows else None
        if DIAGONAL in states:
            return None
        if op == "matmul":  # A @ B: A's rows, B not depending on the rows
            return ROWS if states == [ROWS, GLOBAL] and not mentions(args[1].shape) else None
        if op in ALONG_ROWS and args[0].kind is Kind.MATRIX and \
                (not op.startswith("axis_") or node.params[0] in (1, -1)):
            return ROWS if node.shape.rows is rows and not mentions_tail(node.shape) else None
        if op in _ENTRYWISE or op == "pow" and args[1].is_scalar:
            return ROWS if node.shape.rows is rows and not mentions_tail(node.shape) else None
        return None

    def mentions_tail(shape) -> bool:
        return any(_names_in(rows) & _names_in(d) for d in [*shape.lead, shape.cols])

    return status


def _names_in(d: Dim) -> set:
    return {symbol for symbols, _ in d.terms for symbol in symbols}


# an allocation of codegen/row_means.py (a new array), and a call writing into an earlier one
_ALLOCATION = re.compile(r"(_np\.(?:add|subtract|multiply|divide|negative)\(.*, dtype=_dtype)\)")
_WRITING_INTO = re.compile(r"_np\.\w+\(.*, out=(\w+)\)")


def written_into(lines: list[str], keys: list[str], results: list[str], group: list) -> list[str]:
    """The lines of a row function with the allocation whose array becomes a result (through
    the chain of operations writing into it in place, codegen/reuse.py) writing into the rows
    of that result given in ``_into`` (``out=_into.get(key)``; None: a new array), so that no
    block's result is copied.  ``results``: the code of each result of ``group`` (a matrix
    result is returned as it is)."""
    rewritten = list(lines)
    roots: set[int] = set()
    for key, name, derivative in zip(keys, results, group, strict=True):
        if derivative.result.kind is not Kind.MATRIX:
            continue
        index = len(lines)
        while name.isidentifier() and index > 0:
            index = next((i for i in range(index - 1, -1, -1)
                          if lines[i].partition(" = ")[0] == name), -1)
            text = lines[index].partition(" = ")[2] if index >= 0 else ""
            allocation, writing = _ALLOCATION.fullmatch(text), _WRITING_INTO.fullmatch(text)
            if allocation and index not in roots:
                roots.add(index)
                rewritten[index] = f"{name} = {allocation[1]}, out=_into.get({key!r}))"
            name = writing[1] if writing else text if text.isidentifier() else ""
    return rewritten

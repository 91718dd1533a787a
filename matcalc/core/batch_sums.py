"""Batch sums written over slices: ``sum(X' @ G, 0)`` is ``\\sum_b X_b^\\top G_b``.

A tensor ``Y`` of ``tensor(B, T, d)`` computed from tensors by operations that act on each batch
entry alone (NumPy's batched ``@``, ``'`` of the last two axes, ``+ - * /``, elementwise
functions and softmax along the last axis, matrices broadcast to every entry) has as its entry
``b`` the same expression of the operands' entries ``X_b``.  So
``sum(Y, 0) = \\sum_b Y(X_b, ...)``, and over two leading axes ``\\sum_{b,h}``.  With one more
letter, for the rows, the slices are vectors (the rows of every entry, as columns):
``sum(sum(Y, 0), 0)' = \\sum_{b,t} Y(x_{bt}, ...)``, which holds for entrywise operations only
(a row of a product is no product of rows).

The LaTeX printer writes such sums this way and the LaTeX reader reads them back; both ask
:func:`not_slicewise` whether an expression qualifies.
"""

from __future__ import annotations

from .broadcast import summed_rows
from .functions import ELEMENTWISE_FUNCTIONS
from .ir import Node, walk
from .shapes import Dim, Kind

ENTRYWISE = frozenset({"add", "sub", "mul", "div", "neg", "pow", *ELEMENTWISE_FUNCTIONS})
# softmax and log_softmax without an axis are along the last axis, a slice's rows
SLICEWISE = ENTRYWISE | {"matmul", "transpose", "softmax", "log_softmax"}
_LEAVES = frozenset({"var", "ref", "const", "dimval", "ones", "zeros", "identity"})


def not_slicewise(body: Node, axes: tuple[Dim, ...], rows: bool) -> str | None:
    """Why ``body`` is no expression of slices along ``axes`` (the leading axes of every tensor
    in it; with ``rows``, also the rows), or None when it is: every operation acts on slices
    alone, every tensor has those axes first, and anything else is a number (with ``rows``) or
    a matrix broadcast to every slice."""
    allowed = ENTRYWISE if rows else SLICEWISE
    tensors = 0
    for node in walk(body):
        if node.args or node.op not in _LEAVES:
            if node.op not in allowed:
                return f"{node.op} does not act on each slice alone"
            continue
        if node.kind is Kind.TENSOR:
            if node.op not in ("var", "ref"):
                return f"a tensor {node.op} has no name to take slices of"
            leading = node.shape.lead + ((node.shape.rows,) if rows else ())
            if leading != axes:
                return f"{node} has other leading axes than the sum's"
            tensors += 1
        elif rows and not node.is_scalar:
            return f"{node} is no tensor: its rows would not be slices"
    return None if tensors else "nothing in it is a tensor"


def summed_slices(node: Node) -> tuple[Node, int, bool] | None:
    """The expression summed, the number of axes summed over and whether the last of them is
    the rows, when ``node`` is a batch sum written over slices (``sum(sum(Y, 0), 0)`` of a 4-D
    ``Y``, or of a 3-D one over its rows, ``sum(Y, 0)' @ ones(T)``); None otherwise."""
    summed = summed_rows(node)
    rows = summed is not None
    node = summed if summed is not None else node
    count = 0
    while node.op == "axis_sum" and node.params[0] == 0 and node.args[0].kind is Kind.TENSOR:
        node, count = node.args[0], count + 1
    if not count or (rows and len(node.shape.lead) != count):
        return None
    if not_slicewise(node, node.shape.lead + ((node.shape.rows,) if rows else ()), rows):
        return None
    return node, count + rows, rows


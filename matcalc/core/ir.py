"""The expression IR: interned, immutable nodes that carry their shape and kind.

A node is ``(op, args, params)`` with ``args`` child nodes and ``params`` hashable constants (a
name, a number, a dimension).  Nodes are hash-consed: building the same expression twice returns
the same object, so equality is identity and hashing is O(1).  The intern table holds nodes
weakly, so it does not grow forever.

Constructors are shallow: they check shapes (strictly, see :mod:`matcalc.core.unify`), compute the
result's shape and kind, and rewrite nothing.  The shape rule is one facet of each operation's
record in the registry (:mod:`matcalc.core.registry`), beside its derivative, printing, code and
SymPy form.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator

from ..errors import LimitError, UnsupportedError
from . import registry
from .shapes import SCALAR_SHAPE, Dim, Kind, Shape, kind_of_shape

_INTERNED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class Node:
    """An immutable, interned expression node; build nodes with the functions of this module."""

    __slots__ = ("op", "args", "params", "shape", "kind", "_hash", "_size", "__weakref__")

    op: str
    args: tuple[Node, ...]
    params: tuple
    shape: Shape
    kind: Kind

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Node is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other

    def __reduce__(self):
        return (make, (self.op, self.args, self.params, self.shape, self.kind))

    @property
    def is_scalar(self) -> bool:
        return self.kind is Kind.SCALAR

    @property
    def name(self) -> str:
        """The name of a variable or definition reference."""
        if self.op not in ("var", "ref"):
            raise AttributeError(f"a {self.op} node has no name")
        return self.params[0]

    def __str__(self) -> str:
        from .printer import to_text

        return to_text(self)

    def __repr__(self) -> str:
        return f"<{self.kind.value} {self.shape}: {self}>"


def make(op: str, args: tuple[Node, ...], params: tuple, shape: Shape, kind: Kind) -> Node:
    """The unique node with these fields (created on first use)."""
    key = (op, args, params, shape, kind)
    found = _INTERNED.get(key)
    if found is not None:
        return found
    node = object.__new__(Node)
    for field, value in zip(Node.__slots__[:5], key, strict=True):
        object.__setattr__(node, field, value)
    object.__setattr__(node, "_hash", hash(key))
    object.__setattr__(node, "_size", 0)  # not counted yet (size())
    _INTERNED[key] = node
    return node


def walk(root: Node):
    """Every node under ``root`` once, children before parents (iterative, no recursion)."""
    seen: set[int] = set()
    stack: list[tuple[Node, Iterator[Node]]] = [(root, iter(root.args))]
    while stack:
        node, children = stack[-1]
        for child in children:  # the next child not yet given, left to right
            if id(child) not in seen:
                stack.append((child, iter(child.args)))
                break
        else:
            stack.pop()
            seen.add(id(node))
            yield node


def replaced(root: Node, replace: Callable[[Node], Node | None]) -> Node:
    """``root`` rebuilt with every node for which ``replace`` gives a node replaced by it
    (the replacement is not searched further); shape-checked like any construction."""
    done: dict[Node, Node] = {}
    for node in walk(root):
        replacement = replace(node)
        if replacement is not None:
            done[node] = replacement
        elif not node.args:
            done[node] = node
        else:
            args = tuple(done[arg] for arg in node.args)
            done[node] = node if all(a is b for a, b in zip(args, node.args, strict=True)) \
                else apply(node.op, *args, params=node.params)
    return done[root]


def size(node: Node) -> int:
    """The number of nodes of the expression tree (shared subtrees counted each time); nodes
    are immutable, so each node keeps its size once counted."""
    known = node._size
    if known:
        return known
    stack = [node]  # children first, without descending into nodes already counted
    while stack:
        item = stack[-1]
        pending = [arg for arg in item.args if not arg._size]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        if not item._size:
            object.__setattr__(item, "_size", 1 + sum(arg._size for arg in item.args)
                               - _spread_ones(item))
    return node._size


def _spread_ones(node: Node) -> int:
    """The nodes of ones in a column or row spread, v @ ones(m)' or ones(n) @ r, which the
    printers do not show beside entrywise operations (``X - mu``): not counted."""
    if node.op != "matmul":
        return 0
    a, b = node.args
    if b.op == "transpose" and b.args[0].op == "ones" and a.kind is Kind.VECTOR and \
            b.kind is Kind.ROW:
        return 2
    if a.op == "ones" and a.kind is Kind.VECTOR and b.kind is Kind.ROW:
        return 1
    return 0


# ---------------------------------------------------------------------------------------------
# Operations: each operation's shape rule is a facet of its record in the registry
# (core/registry.py, filled from matcalc/ops/); ``_SHAPES`` keeps the view the hot path reads.

# (shape rule, whether it takes tensors) by operation
_SHAPES: dict[str, tuple[Callable[[tuple[Node, ...], tuple], tuple[Shape, Kind]], bool]] = {}


def apply(op: str, *args: Node, params: tuple = ()) -> Node:
    """The node ``op(args)``, shape-checked; raises ShapeError when the operands misfit, and
    UnsupportedError when a tensor meets an operation that does not take tensors."""
    found = _SHAPES.get(op)
    if found is None:
        operation = registry.operation(op)
        found = _SHAPES[op] = (operation.shape, operation.tensors)
    rule, tensors = found
    if not tensors and any(arg.kind is Kind.TENSOR for arg in args):
        _refuse_tensor(op, args)
    shape, kind = rule(args, params)
    return make(op, args, params, shape, kind)


def _refuse_tensor(op: str, args: tuple[Node, ...]) -> None:
    operand = next(arg for arg in args if arg.kind is Kind.TENSOR)
    syntax = registry.operation(op).syntax
    name = syntax.symbol or syntax.name if syntax is not None else op
    raise UnsupportedError(f"{name} of a tensor is not supported ({operand} is "
                           f"{operand.shape}); it takes scalars, vectors and matrices")


def refuse_tensor(node: Node, why: str) -> None:
    """UnsupportedError when ``node`` is a tensor, saying ``why``."""
    if node.kind is Kind.TENSOR:
        raise UnsupportedError(f"{node} is a tensor ({node.shape}); {why}")


# ---------------------------------------------------------------------------------------------
# Leaves.


def var(name: str, shape: Shape, kind: Kind, attributes: frozenset[str] = frozenset()) -> Node:
    """A declared variable."""
    return make("var", (), (name, attributes), shape, kind_of_shape(shape, kind))


def ref(name: str, definition: Node) -> Node:
    """A reference, by name, to a definition with the given body."""
    return make("ref", (), (name,), definition.shape, definition.kind)


def const(value: float, infinite: bool = False) -> Node:
    """A number; an infinity only where it is meant (``infinite``: where(M, S, -inf)), never
    one that arithmetic on finite numbers overflowed to (1e308 * 10), nor nan."""
    value = float(value)
    if value != value or (value in (math.inf, -math.inf) and not infinite):
        raise LimitError(f"a number of this problem, or one computed from its numbers (such "
                         f"as 1e308 * 10), is {value}: beyond float64's range (about 1.8e308)")
    return make("const", (), (value,), SCALAR_SHAPE, Kind.SCALAR)


def dimval(d: Dim) -> Node:
    """The size of a dimension, used as a number (``sum(x) / n``)."""
    return make("dimval", (), (d,), SCALAR_SHAPE, Kind.SCALAR)


def identity(n: Dim) -> Node:
    """The n x n identity matrix."""
    shape = Shape(n, n)
    return make("identity", (), (n,), shape, kind_of_shape(shape, Kind.MATRIX))


def ones(rows: Dim, cols: Dim, kind: Kind, lead: tuple[Dim, ...] = ()) -> Node:
    """A matrix (or vector) of ones; a tensor of ones with leading axes ``lead``."""
    shape = Shape(rows, cols, lead)
    return make("ones", (), (rows, cols) + lead, shape, kind_of_shape(shape, kind))


def zeros(rows: Dim, cols: Dim, kind: Kind, lead: tuple[Dim, ...] = ()) -> Node:
    """A matrix (or vector) of zeros; a tensor of zeros with leading axes ``lead``."""
    shape = Shape(rows, cols, lead)
    return make("zeros", (), (rows, cols) + lead, shape, kind_of_shape(shape, kind))


def commutation(m: Dim, n: Dim) -> Node:
    """The commutation matrix K with K @ vec(A) = vec(A') for A of size m x n."""
    shape = Shape(m * n, m * n)
    return make("commutation", (), (m, n), shape, kind_of_shape(shape, Kind.MATRIX))


LEAVES = ("var", "ref", "const", "dimval", "identity", "ones", "zeros", "commutation")


def matpow(base: Node, k: int) -> Node:
    """``base ^ k`` for a square matrix and an integer k >= 2."""
    return apply("mpow", base, params=(k,))

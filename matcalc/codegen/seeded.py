"""A backward pass that applies the incoming gradient once, to the deltas it starts from.

A training step's backward pass returns the gradients times the incoming gradient ``g`` (a
number: the function is scalar).  The gradients are computed from the where-definitions
(deltas) that name no other delta, the roots: CS224n's ``delta1 = yhat - y``, from which
``delta2 = (U' @ delta1) * step(z)`` and the gradients ``delta1 @ h'``, ``delta2 @ x'``, ...
follow.  Where every gradient is linear in the roots (of degree one: each term holds exactly one
root, as a factor of a product, a sum's terms all do), ``g * root`` in place of each root
scales every gradient by ``g``: one product with a small array where scaling each gradient is
one a gradient (five on CS224n).  A gradient free of the deltas is scaled by itself; where some
gradient is neither, nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from ..core import ir
from ..core.ir import Node
from ..core.shapes import SCALAR_SHAPE, Kind
from .shared_chains import Body, kept_for_backward

GRAD = ir.var("_grad", SCALAR_SHAPE, Kind.SCALAR)  # the incoming gradient (code: _grad)

# operations linear in each argument that is not data (a label, a mask, a size)
LINEAR = frozenset({"Diag", "diag", "axis_sum", "expand", "mean", "neg", "sum", "sym", "tr",
                    "transpose", "tril", "triu", "unvec", "vec"})
PRODUCTS = frozenset({"matmul", "mul", "kron", "frob", "einsum", "conv1d", "convolve"})
SUMS = frozenset({"add", "sub", "hcat", "vcat"})
MIXED = -1  # neither free of the roots nor linear in them
# the cost of one more operation on arrays, in entries scaled (its call, about 4 us, against a
# nanosecond an entry); entries are counted with every dimension 64
OPERATION = 4096
SIZE = 64


def seeded(statements: list[tuple[str, Node]], results: list[Node], deltas: set[str]
           ) -> tuple[list[tuple[str, Node]], list[bool]] | None:
    """The statements with each root delta times ``GRAD``, and for each result whether that
    made it the gradient times ``GRAD`` (else it is free of the deltas, to be scaled by
    itself); None where some result is neither."""
    bodies = {name: body for name, body in statements if name in deltas}
    if not bodies:
        return None
    named = {name: {n for n in _refs(body) if n in bodies} for name, body in bodies.items()}
    roots = {name for name, refs in named.items() if not refs}
    degrees = dict.fromkeys(roots, 1)
    while len(degrees) < len(bodies):  # each delta after those it names (no recursion)
        ready = [n for n, refs in named.items() if n not in degrees and refs <= set(degrees)]
        if not ready:
            return None  # a cycle: not a backward pass
        degrees.update({name: _degree(bodies[name], degrees) for name in ready})
    result_degrees = [_degree(result, degrees) for result in results]
    if MIXED in result_degrees or 1 not in result_degrees:
        return None
    if sum(OPERATION + _elements(bodies[name]) for name in roots) >= sum(
            OPERATION + _scaled(result) for result, degree in zip(results, result_degrees,
                                                                  strict=True) if degree):
        return None  # scaling the roots costs more than scaling the results it serves
    return ([(name, ir.apply("mul", GRAD, body) if name in roots else body)
             for name, body in statements], [degree == 1 for degree in result_degrees])


def _refs(node: Node) -> set[str]:
    return {item.params[0] for item in ir.walk(node) if item.op == "ref"}


def _degree(root: Node, known: dict[str, int]) -> int:
    """0 where ``root`` is free of the deltas, 1 where linear in the roots, else MIXED."""
    degree: dict[Node, int] = {}
    for node in ir.walk(root):
        args = [degree[arg] for arg in node.args]
        if node.op == "ref":
            degree[node] = known.get(node.params[0], 0)
        elif MIXED in args:
            degree[node] = MIXED
        elif not any(args):
            degree[node] = 0
        elif node.op in LINEAR and len(args) == 1 or node.op == "pick" and args[1:] == [0]:
            degree[node] = args[0]
        elif node.op in PRODUCTS:
            degree[node] = 1 if sorted(args) == [0] * (len(args) - 1) + [1] else MIXED
        elif node.op in SUMS or node.op == "where" and args[0] == 0:
            terms = args if node.op in SUMS else args[1:]
            degree[node] = 1 if all(a == 1 for a in terms) else MIXED
        elif node.op == "div":
            degree[node] = args[0] if args[1] == 0 else MIXED
        else:
            degree[node] = MIXED
    return degree[root]


def training_step(statements: list[tuple[str, Node]], results: list[Node], value: Node,
                  body_of: Body, fixed: Collection[Node], deltas: set[str]
                  ) -> tuple[list[tuple[str, Node]], list[Node], Node, tuple[bool, ...]]:
    """``value_and_gradient``'s statements, results and value: the products its gradients read
    of the value's chains kept (shared_chains.kept_for_backward), and where ``deltas`` are
    given (a backward pass's code) the incoming gradient applied to the root deltas; with, for
    each result, whether it is scaled by the incoming gradient so."""
    statements, results, value = kept_for_backward(statements, results, value, body_of, fixed)
    scaled = seeded(statements, results, deltas) if deltas else None
    if scaled is None:
        return statements, results, value, (False,) * len(results)
    return scaled[0], results, value, tuple(scaled[1])


def _elements(node: Node) -> int:
    return math.prod(d.value(dict.fromkeys(d.symbols, SIZE)) for d in node.shape.dims)


def _scaled(result: Node) -> int:
    """The entries scaling a result costs: a product's smallest of its factors and itself
    (wrappers._seeded applies the incoming gradient there)."""
    if result.op == "matmul":
        return min(_elements(result), *(_elements(arg) for arg in result.args))
    return _elements(result)

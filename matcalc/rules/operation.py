"""One entry per operation: its differential, its adjoint for each argument, its Jacobian.

``define(op, differential=..., adjoints=(...), jacobian=...)`` registers an operation;
``deflinear`` and ``defbilinear`` write the differential of a linear or bilinear operation for
you (``d op(A) = op(dA)``; ``d(A * B) = dA * B + A * dB``), as JAX's ``deflinear`` does.

The three kinds of rule, each ``rule(node, out, ...)`` with ``out`` the node itself or the name
the problem gave it (so results say ``h`` rather than ``sigmoid(r)``):

- differential ``(node, out, ds) -> d(out)``, ``ds`` the arguments' differentials (``None``
  where an argument does not move): forward mode, and the first line of each step;
- adjoint ``(node, out, G) -> G_i`` with ``G : d(out) = G_i : d(args[i])``: reverse mode;
- Jacobian ``(node, out, js) -> J_out`` from the arguments' ``J = d vec(arg) / d vec(X)'``.

Every rule's docstring is the identity it applies; ``docs/rules.md`` is generated from them.
Sources cited: K. B. Petersen & M. S. Pedersen, *The Matrix Cookbook* (2012), by equation
number; J. R. Magnus & H. Neudecker, *Matrix Differential Calculus* (3rd ed.), by chapter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core import ir
from ..core.algebra import Term, add
from ..core.ir import Node

Rule = Callable[..., Term]
Differential = Callable[[Node, Node, Sequence[Term]], Term]
Adjoint = Callable[[Node, Node, Node], Term]
Jacobian = Callable[[Node, Node, Sequence[Term]], Term]


@dataclass(frozen=True)
class Operation:
    """The derivative rules of one operation of the language."""

    name: str
    differential: Differential
    adjoints: tuple[Adjoint, ...]  # one per argument
    jacobian: Jacobian


OPERATIONS: dict[str, Operation] = {}


def define(name: str, differential: Differential, adjoints: tuple[Adjoint, ...],
           jacobian: Jacobian) -> Operation:
    """Register the rules of the operation ``name``."""
    if name in OPERATIONS:
        raise ValueError(f"the operation {name} is defined twice")
    operation = Operation(name, differential, tuple(adjoints), jacobian)
    OPERATIONS[name] = operation
    return operation


def deflinear(name: str, adjoints: tuple[Adjoint, ...], jacobian: Jacobian) -> Operation:
    """A linear operation of one argument: ``d op(A) = op(dA)`` (a scalar argument passes its
    differential through, as op is the identity on scalars)."""

    def differential(node: Node, out: Node, ds: Sequence[Term]) -> Term:
        if node.args[0].is_scalar:
            return ds[0]
        return ir.apply(name, ds[0], params=node.params)

    differential.__doc__ = f"d {name}(A) = {name}(dA): {name} is linear"
    return define(name, differential, adjoints, jacobian)


def defbilinear(name: str, product: Callable[[Node, Node], Term], identity: str,
                adjoints: tuple[Adjoint, Adjoint], jacobian: Jacobian) -> Operation:
    """A bilinear operation: ``d(A op B) = dA op B + A op dB``, ``product`` building one term
    (``identity`` states it, with its source)."""

    def differential(node: Node, out: Node, ds: Sequence[Term]) -> Term:
        a, b = node.args
        first = product(ds[0], b) if ds[0] is not None else None
        second = product(a, ds[1]) if ds[1] is not None else None
        return add(first, second)

    differential.__doc__ = identity
    return define(name, differential, adjoints, jacobian)

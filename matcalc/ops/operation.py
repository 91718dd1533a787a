"""One entry per operation: its differential, its adjoint for each argument, its Jacobian.

``define(op, differential=...)`` registers an operation: its adjoints and Jacobian follow from
the differential (transposed, as JAX transposes linear primitives), or are given by hand where
the hand-written form prints better (``adjoints=(...)``, ``jacobian=...``);
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
from typing import Any

from ..core import ir, registry
from ..core.algebra import Term, add, matmul, ones_vector, size, unbroadcast
from ..core.ir import Node
from ..core.registry import Operation, register

Rule = Callable[..., Term]
Differential = Callable[[Node, Node, Sequence[Term]], Term]
Adjoint = Callable[[Node, Node, Node], Term]
Jacobian = Callable[[Node, Node, Sequence[Term]], Term]


def define(name: str, differential: Differential, adjoints: tuple[Adjoint, ...] | None = None,
           jacobian: Jacobian | None = None, arity: int | None = None,
           **facets: Any) -> Operation:
    """Register the operation ``name`` with its facets (:mod:`matcalc.core.registry`).  Of
    the derivative rules only the differential is needed: an adjoint or a Jacobian left out
    follows from it (:func:`derived_adjoint`, :func:`derived_jacobian`); a hand-written one is
    kept where it prints better."""
    arity = arity if arity is not None else len(adjoints) if adjoints else 1
    if adjoints is None:
        adjoints = tuple(derived_adjoint(name, index) for index in range(arity))
    module = getattr(differential, "__module__", "")
    return register(Operation(name, arity, differential, tuple(adjoints),
                              jacobian or derived_jacobian(name), module=module, **facets))


def deflinear(name: str, adjoints: tuple[Adjoint, ...], jacobian: Jacobian,
              **facets: Any) -> Operation:
    """A linear operation of one argument: ``d op(A) = op(dA)`` (a scalar argument passes its
    differential through, as op is the identity on scalars)."""

    def differential(node: Node, out: Node, ds: Sequence[Term]) -> Term:
        if node.args[0].is_scalar:
            return ds[0]
        return ir.apply(name, ds[0], params=node.params)

    differential.__doc__ = f"d {name}(A) = {name}(dA): {name} is linear"
    return define(name, differential, adjoints, jacobian, **facets)


def defbilinear(name: str, product: Callable[[Node, Node], Term], identity: str,
                adjoints: tuple[Adjoint, Adjoint], jacobian: Jacobian,
                **facets: Any) -> Operation:
    """A bilinear operation: ``d(A op B) = dA op B + A op dB``, ``product`` building one term
    (``identity`` states it, with its source)."""

    def differential(node: Node, out: Node, ds: Sequence[Term]) -> Term:
        a, b = node.args
        first = product(ds[0], b) if ds[0] is not None else None
        second = product(a, ds[1]) if ds[1] is not None else None
        return add(first, second)

    differential.__doc__ = identity
    return define(name, differential, adjoints, jacobian, **facets)


# -- rules that follow from a differential ------------------------------------------------------
# A differential is linear in the arguments' differentials, built from operations that have
# their own rules; the adjoint is its transpose (a reverse pass through it) and the Jacobian its
# forward pass on the arguments' Jacobians, as JAX transposes linear primitives.


def _placeholder(like: Node, index: int) -> Node:
    """A differential standing for argument ``index`` (a name no user can write)."""
    return ir.var(f"d#{index}", like.shape, like.kind)


def _linear_part(operation: Operation, node: Node, out: Node, index: int) -> tuple[Node, Term]:
    placeholder = _placeholder(node.args[index], index)
    ds: list[Term] = [None] * len(node.args)
    ds[index] = placeholder
    return placeholder, operation.differential(node, out, ds)


def derived_adjoint(name: str, index: int) -> Adjoint:
    """The adjoint for argument ``index`` that follows from the operation's differential."""

    def rule(node: Node, out: Node, g: Node) -> Term:
        placeholder, linear = _linear_part(registry.operation(name), node, out, index)
        return _transposed(linear, placeholder, g)

    rule.__doc__ = (f"G : d {name}(...) = G_{index} : dA_{index}, the differential transposed "
                    f"for argument {index}")
    return rule


def derived_jacobian(name: str) -> Jacobian:
    """The Jacobian rule that follows from the operation's differential."""

    def rule(node: Node, out: Node, js: Sequence[Term]) -> Term:
        total: Term = None
        for index, j in enumerate(js):
            if j is not None:
                placeholder, linear = _linear_part(registry.operation(name), node, out, index)
                total = add(total, _broadcast(_forward(linear, placeholder, j), linear, node))
        return total

    rule.__doc__ = f"vec(d {name}(...)) = sum_i J_i vec(dA_i), the differential in vec form"
    return rule


def _broadcast(jacobian: Term, linear: Term, node: Node) -> Term:
    """The Jacobian of a scalar differential spread over the node's entries: 1 @ J."""
    if jacobian is None or linear is None or not linear.is_scalar or node.is_scalar:
        return jacobian
    return matmul(ones_vector(size(node)), jacobian)


def _depends(root: Term, placeholder: Node) -> set[Node]:
    active: set[Node] = set()
    if root is None:
        return active
    for node in ir.walk(root):
        if node is placeholder or any(arg in active for arg in node.args):
            active.add(node)
    return active


def _transposed(linear: Term, placeholder: Node, g: Node) -> Term:
    """``G_x`` with ``g : linear = G_x : placeholder``: a reverse pass through ``linear``."""
    active = _depends(linear, placeholder)
    if linear is None or linear not in active:
        return None
    # a differential may be a scalar standing for its broadcast (d(a + X) = da): its cotangent
    # collects the sum of g
    local: dict[Node, Term] = {linear: unbroadcast(g, linear)}
    result: Term = None
    for node in reversed(list(ir.walk(linear))):
        cotangent = local.pop(node, None)
        if cotangent is None or node not in active:
            continue
        if node is placeholder:
            result = add(result, cotangent)
            continue
        adjoints = registry.operation(node.op).adjoints
        for position, arg in enumerate(node.args):
            if arg in active:
                local[arg] = add(local.get(arg), adjoints[position](node, node, cotangent))
    return result


def _forward(linear: Term, placeholder: Node, jacobian: Node) -> Term:
    """The Jacobian of ``linear`` when ``placeholder`` has the Jacobian ``jacobian``."""
    if linear is None:
        return None
    local: dict[Node, Term] = {}
    for node in ir.walk(linear):
        if node is placeholder:
            local[node] = jacobian
        elif not node.args:
            local[node] = None
        else:
            values = [local[arg] for arg in node.args]
            local[node] = registry.operation(node.op).jacobian(node, node, values) \
                if any(value is not None for value in values) else None
    return local[linear]

"""Elementwise functions: f(X) applied entry by entry, f' from one table.

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core import algebra
from ..core.algebra import (
    Term,
    like,
    mul,
)
from ..core.functions import ELEMENTWISE_FUNCTIONS, FUNCTIONS
from ..core.ir import Node
from ..core.shape_rules import same_shape
from .common import vec_scale_rows
from .operation import Rule, define


def derivative_of(name: str, a: Node, out: Node) -> Term:
    """f'(a) for an elementwise function f (its row of core/functions.py), written with its
    output where that is shorter."""
    return FUNCTIONS[name].derivative(algebra, a, out)


def pull_elementwise(name: str) -> Rule:
    def rule(node: Node, out: Node, g: Node) -> Term:
        """G : d f(X) = (G * f'(X)) : dX."""
        return like(mul(g, derivative_of(name, node.args[0], out)), node.args[0])

    rule.__doc__ = f"G : d {name}(X) = (G * {name}'(X)) : dX"
    return rule


def d_elementwise(name: str) -> Rule:
    def rule(node: Node, out: Node, ds: Sequence[Term]) -> Term:
        return mul(derivative_of(name, node.args[0], out), ds[0])

    rule.__doc__ = f"d {name}(A) = {name}'(A) * dA with {FUNCTIONS[name].rule}"
    return rule


def vec_elementwise(name: str) -> Rule:
    def rule(node: Node, out: Node, js: Sequence[Term]) -> Term:
        return vec_scale_rows(derivative_of(name, node.args[0], out), js[0])

    rule.__doc__ = f"vec(d {name}(A)) = Diag(vec({name}'(A))) vec(dA)"
    return rule


for _name in ELEMENTWISE_FUNCTIONS:
    define(_name, differential=d_elementwise(_name), adjoints=(pull_elementwise(_name),),
           jacobian=vec_elementwise(_name), shape=same_shape)

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
from ..core.functions import FUNCTIONS, Function
from ..core.ir import Node
from ..core.registry import Code, Latex, Stable, Syntax
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


# LaTeX: a row's command, or how present/latex.py sets the three the row leaves out; what the
# LaTeX reader reads as each besides its command
_LATEX = {"sigmoid": Latex(special=True),  # \sigma, or spelled out where a name takes sigma
          "step": Latex(template=r"\mathbf{{1}}\left[{0} > 0\right]"),
          "sqrt": Latex(template=r"\sqrt{{{0}}}", reads=("sqrt",))}
_READS = {"log": ("ln",), "sign": ("sgn",)}
# the numerically stable forms rooted at a function (core/stable_forms.py)
_STABLE = {"log": (Stable("softplus", ("log", "1 +", "exp")),
                   Stable("log-sigmoid", ("log", "sigmoid")),
                   Stable("log-softmax", ("log", "softmax"), lines=True))}


def _latex(function: Function) -> Latex:
    if function.name in _LATEX:
        return _LATEX[function.name]
    command = function.latex or ""
    reads = (command[1:],) if command[1:].isalpha() else ()
    return Latex(command=command, reads=reads + _READS.get(function.name, ()))


def _code(function: Function) -> Code:
    """``np.exp(x)`` / ``torch.exp(x)``, or a runtime helper both backends define."""
    if function.numpy.startswith("np."):
        return Code(numpy=f"{function.numpy}({{0}})", torch=f"torch.{function.numpy[3:]}({{0}})")
    return Code(numpy=f"{function.numpy}({{0}})", torch=f"{function.numpy}({{0}})",
                helpers=(function.numpy,))


def _sympy(name: str) -> Rule:
    return lambda s, node, a: s.elementwise(name)(node, a)


for _name, _function in FUNCTIONS.items():
    define(_name, differential=d_elementwise(_name), adjoints=(pull_elementwise(_name),),
           jacobian=vec_elementwise(_name), shape=same_shape,
           syntax=Syntax(_name),
           latex=_latex(_function),
           code=_code(_function),
           sympy=_sympy(_name),
           stable=_STABLE.get(_name, ()),
           scalar=f"{_name}(a) is the number {_name} of a",
           cost="costly" if _function.costly else "cheap",
           tensors=True, domain=_function.domain, values=_function.values,
           bounds=_function.bounds, check=_function.check,
           symmetry="arguments")  # f(S)' = f(S') entry by entry

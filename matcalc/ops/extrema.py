"""maximum and minimum of two arguments, entry by entry (a scalar argument is broadcast).

One entry per operation (see :mod:`matcalc.ops.operation`): only the differential is written;
the adjoints and the Jacobian follow from it.  The derivative takes the side that is larger
(smaller); at a tie it takes the second argument's, one of the one-sided derivatives, so that
``maximum(a, a)``, which is ``a``, has derivative 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.algebra import Term, add, call, const, mul, sub
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import pairwise_shape
from .operation import define


def _split(first_wins: Node, ds: Sequence[Term]) -> Term:
    """mask * dA + (1 - mask) * dB for mask = step(...) where the first argument is taken."""
    first = mul(first_wins, ds[0]) if ds[0] is not None else None
    second = mul(sub(const(1.0), first_wins), ds[1]) if ds[1] is not None else None
    return add(first, second)


def d_maximum(node: Node, out: Node, ds: Sequence[Term]) -> Term:
    """d maximum(A, B) = step(A - B) * dA + (1 - step(A - B)) * dB."""
    a, b = node.args
    return _split(call("step", sub(a, b)), ds)


def d_minimum(node: Node, out: Node, ds: Sequence[Term]) -> Term:
    """d minimum(A, B) = step(B - A) * dA + (1 - step(B - A)) * dB."""
    a, b = node.args
    return _split(call("step", sub(b, a)), ds)


define("maximum", differential=d_maximum, arity=2, shape=pairwise_shape("maximum"),
       syntax=Syntax("maximum"),
       latex=Latex(template=r"\max\left({0}, {1}\right)", reads=("max",)),
       code=Code(numpy="np.maximum({0}, {1})", torch="torch.maximum({0}, {1})"),
       sympy=lambda s, node, a, b: s.extremum(s.sp.Max, node, a, b),
       stable=(),
       scalar="maximum(a, b) = max(a, b)",
       cost="cheap", check="kink")  # not differentiable where A = B
define("minimum", differential=d_minimum, arity=2, shape=pairwise_shape("minimum"),
       syntax=Syntax("minimum"),
       latex=Latex(template=r"\min\left({0}, {1}\right)", reads=("min",)),
       code=Code(numpy="np.minimum({0}, {1})", torch="torch.minimum({0}, {1})"),
       sympy=lambda s, node, a, b: s.extremum(s.sp.Min, node, a, b),
       stable=(),
       scalar="minimum(a, b) = min(a, b)",
       cost="cheap", check="kink")

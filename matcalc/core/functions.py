"""The elementwise functions of the language, one row each.

A row says everything every stage needs about ``f``, applied entry by entry: its derivative
(for the rules: ``d f(X) = f'(X) * dX``), how NumPy and PyTorch code compute it, how LaTeX and
SymPy write it, where it is defined and what values it takes (for sampling and the simplifier's
facts).  Adding an elementwise function is adding a row here; ``tests/test_rule_tables.py``
checks every row's derivative against finite differences and that every stage knows it.

``derivative(algebra, x, y)`` writes ``f'(x)`` with the constructors of :mod:`matcalc.core.algebra`
(passed in, so this table imports nothing), using ``y = f(x)`` where that is shorter
(``tanh' = 1 - y * y``); ``None`` is a derivative that is zero away from the kinks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Function:
    """One elementwise function and what each stage needs of it."""

    name: str
    derivative: Callable[[Any, Any, Any], Any]  # (algebra, x, y = f(x)) -> f'(x) or None
    rule: str  # the derivative as an identity, with its source where one is needed
    numpy: str  # "np.exp", or a helper of matcalc/codegen/runtime ("_sigmoid")
    latex: str | None  # "\\exp" or "\\operatorname{relu}"; None: present/latex sets it itself
    sympy: str  # a SymPy function ("exp", "Abs"), or matcalc's own in core/to_sympy
    domain: str = "real"  # "positive": defined (and sampled) for positive arguments only
    kink: bool = False  # not differentiable at 0 (sampling keeps away from it)
    values: str = "real"  # "positive", "unit" (in (0, 1)) or "nonnegative"
    costly: bool = True  # worth computing once in generated code's prepare()


FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("exp", lambda a, x, y: y, "exp' = exp", "np.exp", r"\exp", "exp",
             values="positive"),
    Function("log", lambda a, x, y: a.div(a.const(1.0), x), "log'(x) = 1 / x", "np.log",
             r"\log", "log", domain="positive"),
    Function("sin", lambda a, x, y: a.call("cos", x), "sin' = cos", "np.sin", r"\sin", "sin"),
    Function("cos", lambda a, x, y: a.neg(a.call("sin", x)), "cos' = -sin", "np.cos", r"\cos",
             "cos"),
    Function("tanh", lambda a, x, y: a.sub(a.const(1.0), a.mul(y, y)), "tanh' = 1 - tanh^2",
             "np.tanh", r"\tanh", "tanh"),
    Function("sigmoid", lambda a, x, y: a.mul(y, a.sub(a.const(1.0), y)),
             "sigma' = sigma (1 - sigma)", "_sigmoid", None, "sigmoid", values="unit"),
    Function("relu", lambda a, x, y: a.call("step", x),
             "relu' = step (CS224n notes, sec. 3)", "_relu", r"\operatorname{relu}", "relu",
             kink=True, values="nonnegative", costly=False),
    Function("step", lambda a, x, y: None, "step' = 0 away from 0", "_step", None, "step",
             kink=True, values="nonnegative", costly=False),
    Function("sign", lambda a, x, y: None, "sign' = 0 away from 0", "np.sign",
             r"\operatorname{sign}", "sign", kink=True, costly=False),
    Function("sqrt", lambda a, x, y: a.div(a.const(0.5), y), "sqrt'(x) = 1 / (2 sqrt(x))",
             "np.sqrt", None, "sqrt", domain="positive", values="nonnegative", costly=False),
    Function("abs", lambda a, x, y: a.call("sign", x), "abs' = sign", "np.abs",
             r"\operatorname{abs}", "Abs", kink=True, values="nonnegative", costly=False),
    Function("softplus", lambda a, x, y: a.call("sigmoid", x), "softplus' = sigmoid",
             "_softplus", r"\operatorname{softplus}", "softplus", values="positive"),
)}

ELEMENTWISE_FUNCTIONS: tuple[str, ...] = tuple(FUNCTIONS)

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

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import UnsupportedError

_TWO_OVER_ROOT_PI = 2 / math.sqrt(math.pi)
_ROOT_HALF = 1 / math.sqrt(2)
_ONE_OVER_ROOT_2PI = 1 / math.sqrt(2 * math.pi)
_GELU_SCALE = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


@dataclass(frozen=True)
class Function:
    """One elementwise function and what each stage needs of it."""

    name: str
    derivative: Callable[[Any, Any, Any], Any]  # (algebra, x, y = f(x)) -> f'(x) or None
    rule: str  # the derivative as an identity, with its source where one is needed
    numpy: str  # "np.exp", or a helper of matcalc/codegen/runtime ("_sigmoid")
    latex: str | None  # "\\exp" or "\\operatorname{relu}"; None: present/latex sets it itself
    sympy: str  # a SymPy function ("exp", "Abs"), or matcalc's own in core/to_sympy
    domain: str = "real"  # "positive": sampled for positive arguments only; "bounded": in (-1, 1)
    check: str = ""  # "kink": not differentiable at 0 (random points keep away from it)
    values: str = "real"  # "positive", "unit" (in (0, 1)) or "nonnegative"
    bounds: tuple[float, ...] = ()  # (lo, hi) its values approach, where floating point saturates
    costly: bool = True  # worth computing once in generated code's prepare()
    # (a, b, c) with f(-x) = a + b f(x) + c x for every x (odd: (0, -1, 0), even: (0, 1, 0),
    # sigmoid(-x) = 1 - sigmoid(x), softplus(-x) = softplus(x) - x); None: no such identity
    mirror: tuple[float, float, float] | None = None


FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("exp", lambda a, x, y: y, "exp' = exp", "np.exp", r"\exp", "exp",
             values="positive"),
    Function("log", lambda a, x, y: a.div(a.const(1.0), x), "log'(x) = 1 / x", "np.log",
             r"\log", "log", domain="positive"),
    Function("sin", lambda a, x, y: a.call("cos", x), "sin' = cos", "np.sin", r"\sin", "sin",
             mirror=(0, -1, 0)),
    Function("cos", lambda a, x, y: a.neg(a.call("sin", x)), "cos' = -sin", "np.cos", r"\cos",
             "cos", mirror=(0, 1, 0)),
    Function("tanh", lambda a, x, y: a.sub(a.const(1.0), a.mul(y, y)), "tanh' = 1 - tanh^2",
             "np.tanh", r"\tanh", "tanh", bounds=(-1.0, 1.0), mirror=(0, -1, 0)),
    Function("sigmoid", lambda a, x, y: a.mul(y, a.sub(a.const(1.0), y)),
             "sigma' = sigma (1 - sigma)", "_sigmoid", None, "sigmoid", values="unit",
             mirror=(1, -1, 0)),
    Function("relu", lambda a, x, y: a.call("step", x),
             "relu' = step (CS224n notes, sec. 3)", "_relu", r"\operatorname{relu}", "relu",
             check="kink", values="nonnegative", costly=False, mirror=(0, 1, -1)),
    Function("step", lambda a, x, y: None, "step' = 0 away from 0", "_step", None, "step",
             check="kink", values="nonnegative", costly=False),
    Function("sign", lambda a, x, y: None, "sign' = 0 away from 0", "np.sign",
             r"\operatorname{sign}", "sign", check="kink", costly=False, mirror=(0, -1, 0)),
    Function("sqrt", lambda a, x, y: a.div(a.const(0.5), y), "sqrt'(x) = 1 / (2 sqrt(x))",
             "np.sqrt", None, "sqrt", domain="positive", values="nonnegative", costly=False),
    Function("abs", lambda a, x, y: a.call("sign", x), "abs' = sign", "np.abs",
             r"\operatorname{abs}", "Abs", check="kink", values="nonnegative", costly=False,
             mirror=(0, 1, 0)),
    Function("softplus", lambda a, x, y: a.call("sigmoid", x), "softplus' = sigmoid",
             "_softplus", r"\operatorname{softplus}", "softplus", values="positive",
             mirror=(0, 1, -1)),
    Function("tan", lambda a, x, y: a.add(a.const(1.0), a.mul(y, y)), "tan' = 1 + tan^2",
             "np.tan", r"\tan", "tan", domain="bounded", mirror=(0, -1, 0)),
    Function("erf", lambda a, x, y: a.mul(a.const(_TWO_OVER_ROOT_PI), a.call(
        "exp", a.neg(a.mul(x, x)))), "erf'(x) = 2 exp(-x^2) / sqrt(pi)", "_erf",
        r"\operatorname{erf}", "erf", bounds=(-1.0, 1.0), mirror=(0, -1, 0)),
    Function("log1p", lambda a, x, y: a.div(a.const(1.0), a.add(a.const(1.0), x)),
             "log1p'(x) = 1 / (1 + x)", "np.log1p", r"\operatorname{log1p}", "log1p",
             domain="positive"),
    Function("expm1", lambda a, x, y: a.call("exp", x), "expm1' = exp", "np.expm1",
             r"\operatorname{expm1}", "expm1"),
    # the log-gamma function and its derivatives (Abramowitz & Stegun 6.1.41, 6.3, 6.4):
    # lgamma' = digamma = psi, digamma' = trigamma = psi_1; defined for positive arguments here
    Function("lgamma", lambda a, x, y: a.call("digamma", x), "lgamma' = digamma (A&S 6.3.1)",
             "_lgamma", r"\operatorname{lgamma}", "loggamma", domain="positive"),
    Function("digamma", lambda a, x, y: a.call("trigamma", x), "digamma' = trigamma (A&S 6.4.1)",
             "_digamma", r"\operatorname{digamma}", "digamma", domain="positive"),
    Function("trigamma", lambda a, x, y: _unsupported("trigamma", "polygamma(2, x)"),
             "trigamma' = polygamma(2, .), not offered", "_trigamma",
             r"\operatorname{trigamma}", "trigamma", domain="positive", values="positive"),
    # GELU (Hendrycks & Gimpel 2016): x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2;
    # gelu'(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    Function("gelu", lambda a, x, y: a.add(
        a.mul(a.const(0.5), a.add(a.const(1.0), a.call("erf", a.mul(a.const(_ROOT_HALF), x)))),
        a.mul(a.mul(a.const(_ONE_OVER_ROOT_2PI), x),
              a.call("exp", a.mul(a.const(-0.5), a.mul(x, x))))),
        "gelu'(x) = Phi(x) + x phi(x)", "_gelu", r"\operatorname{gelu}", "gelu", mirror=(0, 1, -1)),
    # the tanh approximation: x (1 + tanh(u)) / 2, u = sqrt(2 / pi) (x + 0.044715 x^3)
    Function("gelu_tanh", lambda a, x, y: _gelu_tanh_derivative(a, x),
             "gelu_tanh'(x) = (1 + t) / 2 + x (1 - t^2) u'(x) / 2, t = tanh(u(x))",
             "_gelu_tanh", r"\operatorname{gelu\_tanh}", "gelu_tanh", mirror=(0, 1, -1)),
)}

def _unsupported(name: str, derivative: str) -> Any:
    raise UnsupportedError(f"the derivative of {name}, {derivative}, is not supported")


def _gelu_tanh_derivative(a: Any, x: Any) -> Any:
    """d/dx of x (1 + tanh(u)) / 2 with u = c (x + k x^3): (1 + t) / 2 + x (1 - t^2) u' / 2."""
    cube = a.mul(x, a.mul(x, x))
    u = a.mul(a.const(_GELU_SCALE), a.add(x, a.mul(a.const(_GELU_CUBIC), cube)))
    t = a.call("tanh", u)
    slope = a.mul(a.const(_GELU_SCALE),
                  a.add(a.const(1.0), a.mul(a.const(3 * _GELU_CUBIC), a.mul(x, x))))
    return a.add(a.mul(a.const(0.5), a.add(a.const(1.0), t)),
                 a.mul(a.mul(a.const(0.5), x), a.mul(a.sub(a.const(1.0), a.mul(t, t)), slope)))


ELEMENTWISE_FUNCTIONS: tuple[str, ...] = tuple(FUNCTIONS)

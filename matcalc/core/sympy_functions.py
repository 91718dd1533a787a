"""The scalar functions of the language that SymPy lacks, as SymPy functions: ``sigmoid``,
``relu``, ``step``, and those with a closed form (``softplus``, ``log1p``, ``expm1``, ``gelu``,
``gelu_tanh``) that stand as themselves and equal it on a number; and the SymPy function of
each elementwise function of the language (:data:`SCALAR_FUNCTIONS`), for the SymPy bridge
(:mod:`matcalc.core.to_sympy`).
"""

from __future__ import annotations

import sympy as sp

from .functions import FUNCTIONS


class sigmoid(sp.Function):  # noqa: N801 - named as written in the language
    """The logistic function 1 / (1 + exp(-x))."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return 1 / (1 + sp.exp(-x))
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))


class relu(sp.Function):  # noqa: N801
    """max(x, 0)."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Max(x, 0)
        return None

    def fdiff(self, argindex=1):
        return step(self.args[0])


class step(sp.Function):  # noqa: N801
    """1 where x > 0, else 0 (the derivative of relu)."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Integer(1) if x > 0 else sp.Integer(0)
        return None

    def fdiff(self, argindex=1):
        return sp.Integer(0)


def _closed_form(name: str, formula, doc: str) -> type[sp.Function]:
    """A scalar function of the language that SymPy lacks, standing as itself in expressions
    and equal to ``formula`` on a number (and when rewritten, ``.rewrite(sp.exp)``)."""

    def eval(cls, x):  # noqa: A001 - SymPy's hook
        return formula(x) if x.is_Number else None

    def fdiff(self, argindex=1):
        t = sp.Dummy("t")
        return sp.diff(formula(t), t).subs(t, self.args[0])

    def rewrite(self, x, **kwargs):
        return formula(x)

    return type(name, (sp.Function,), {"__doc__": doc, "eval": classmethod(eval), "fdiff": fdiff,
                                       "_eval_rewrite_as_exp": rewrite})


_OWN_FUNCTIONS = {
    "sigmoid": sigmoid, "relu": relu, "step": step,
    "softplus": _closed_form("softplus", lambda x: sp.log(1 + sp.exp(x)), "log(1 + exp(x))."),
    "log1p": _closed_form("log1p", lambda x: sp.log(1 + x), "log(1 + x)."),
    "expm1": _closed_form("expm1", lambda x: sp.exp(x) - 1, "exp(x) - 1."),
    # GELU (Hendrycks & Gimpel 2016): x Phi(x), and its tanh approximation
    "gelu": _closed_form("gelu", lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
                         "x Phi(x) = x (1 + erf(x / sqrt 2)) / 2."),
    "gelu_tanh": _closed_form(
        "gelu_tanh", lambda x: x * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 10**6)
                                                                        * x**3))) / 2,
        "x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2."),
}
# a function neither SymPy nor this module defines stays an applied function of its name
SCALAR_FUNCTIONS = {name: _OWN_FUNCTIONS.get(function.sympy) or
                    getattr(sp, function.sympy, None) or sp.Function(function.sympy)
                    for name, function in FUNCTIONS.items()}

"""Numerically stable forms of textbook expressions, as the code that evaluates them writes them.

Printed results keep their textbook form (``s * (1 - s)``); generated code (codegen/writer.py)
and the interpreter (numeric/evaluate.py) find these shapes (core/stable_forms.py, from the
``stable`` facet of the operation each is rooted at) and compute them from their argument, by
the templates here, without cancellation or overflow:

| expression | computed as | why |
|---|---|---|
| ``1 - sigmoid(t)`` | ``sigmoid(-t)`` | ``1 - s`` loses every digit for t > 37 |
| ``1 - tanh(t) .^ 2`` | ``4 e / (1 + e)^2``, ``e = exp(-2 abs(t))`` | the same |
| ``log(1 + exp(t))`` | ``logaddexp(0, t)`` (softplus) | ``exp(t)`` overflows past t = 709 |
| ``log(sigmoid(t))`` | ``-softplus(-t)`` | ``sigmoid(t)`` underflows to 0 |
| ``log(softmax(t))`` | ``t - logsumexp(t)`` | a softmax entry underflows to 0 |
| ``1 + erf(t)`` | ``erfc(-t)`` | ``1 + erf(t)`` loses every digit for t < -6 (GELU') |
| ``1 + tanh(t)`` | ``2 sigmoid(2 t)`` | the same for t < -19 (the tanh GELU) |
"""

from __future__ import annotations

# the code each stable form is written as, by its name ({t}: its argument, {axis}: softmax's
# axis); a backend may have its own (codegen/backends.py)
CODE = {
    "sigmoid-of-negative": "_sigmoid(-{t})",
    "sech-squared": "_sech2({t})",
    "softplus": "_softplus({t})",
    "log-sigmoid": "(-_softplus(-{t}))",
    "log-softmax": "({t} - _logsumexp({t}, {axis}, True))",
    "complement-of-erf": "_erfc(-{t})",
    "twice-sigmoid-of-twice": "(2.0 * _sigmoid(2.0 * {t}))",
}

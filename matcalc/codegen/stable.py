"""Numerically stable forms of textbook expressions, for the code that evaluates them.

Printed results keep their textbook form (``s * (1 - s)``); generated code (codegen/writer.py)
and the interpreter (numeric/evaluate.py) recognise these shapes and compute them without
cancellation or overflow:

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

from collections.abc import Callable
from dataclasses import dataclass

from ..core.ir import Node
from ..core.program import Program
from ..core.registry import line_axis

# the code each stable form is written as ({t}: its argument, {axis}: softmax's axis)
CODE = {
    "sigmoid-of-negative": "_sigmoid(-{t})",
    "sech-squared": "_sech2({t})",
    "softplus": "_softplus({t})",
    "log-sigmoid": "(-_softplus(-{t}))",
    "log-softmax": "({t} - _logsumexp({t}, {axis}, True))",
    "complement-of-erf": "_erfc(-{t})",
    "twice-sigmoid-of-twice": "(2.0 * _sigmoid(2.0 * {t}))",
}
# 1 + f(t) as a stable form of t, by f
_ONE_PLUS = {"erf": "complement-of-erf", "tanh": "twice-sigmoid-of-twice"}


@dataclass(frozen=True)
class StableForm:
    """``node`` is computed as ``kind`` (a key of CODE) of ``argument``, looking ``through``
    the nodes between them (an evaluator that was handed the value of one of those, rather than
    computing it, must compute ``node`` from that value)."""

    kind: str
    argument: Node
    axis: int = 0
    through: tuple[Node, ...] = ()


def body_behind(node: Node, body_of: Callable[[str], Node | None],
                may_follow: Callable[[Node], bool] = lambda ref: True) -> Node:
    """The definition body behind a reference (the value code holds by name; ``body_of`` gives
    a name's body, or None), a chain of renamings followed to its end, through the references
    ``may_follow`` allows."""
    for _ in range(100):
        body = body_of(node.name) if node.op == "ref" and may_follow(node) else None
        if body is None:
            break
        node = body
    return node


def definition_body(program: Program) -> Callable[[str], Node | None]:
    """``body_of`` for :func:`body_behind` over a problem's own definitions."""
    return lambda name: program.definitions[name].body if name in program.definitions else None


def _is_one(node: Node) -> bool:
    return (node.op == "const" and node.params[0] == 1.0) or node.op == "ones"


def stable_form(node: Node, body_of: Callable[[Node], Node]) -> StableForm | None:
    """The stable form of ``node``, or None where the plain one is fine; ``body_of`` follows a
    reference to the body of its definition (a name the code holds)."""
    op, args = node.op, node.args
    if op == "sub" and _is_one(args[0]) and node.shape == args[1].shape:  # no broadcast
        inner = body_of(args[1])
        if inner.op == "sigmoid":
            return StableForm("sigmoid-of-negative", inner.args[0], through=(args[1], inner))
        if (inner.op == "mul" and inner.args[0] is inner.args[1]) or (
                inner.op == "pow" and inner.args[1].op == "const" and
                inner.args[1].params[0] == 2):  # tanh(t) * tanh(t), tanh(t) .^ 2
            square = body_of(inner.args[0])
            if square.op == "tanh":
                return StableForm("sech-squared", square.args[0],
                                  through=(args[1], inner, inner.args[0], square))
    if op == "add" and node.shape == args[1].shape and _is_one(args[0]):
        inner = body_of(args[1])
        if inner.op in _ONE_PLUS:
            return StableForm(_ONE_PLUS[inner.op], inner.args[0], through=(args[1], inner))
    if op == "log":
        inner = body_of(args[0])
        if inner.op == "add" and _is_one(inner.args[0]) and inner.args[1].op == "exp" and \
                inner.args[1].shape == node.shape:
            return StableForm("softplus", inner.args[1].args[0],
                              through=(args[0], inner, inner.args[1]))
        if inner.op == "sigmoid":
            return StableForm("log-sigmoid", inner.args[0], through=(args[0], inner))
        if inner.op == "softmax" and not inner.is_scalar:  # cross-entropy via logsumexp
            return StableForm("log-softmax", inner.args[0], line_axis(inner),
                              through=(args[0], inner))
    return None

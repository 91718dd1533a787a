"""Hints about the terms of a sum: one missing, one with its sign flipped, one off by a
constant factor (a factor 2 dropped on one term only).

Each names a mistake only when undoing it reproduces the expected values at every sample point.
"""

from __future__ import annotations

import numpy as np

from ..core import ir
from ..core.ir import Node, walk
from ..core.program import Program
from ..engine.result import Result
from ..engine.simplify import substitute
from ..errors import MatcalcError, ShapeError
from .samples import evaluate_on, same
from .withholding import FLIPPED_TERM, IN_YOUR_ANSWER, MISSING_TERM, quoting


def inlined(expected: Result) -> Node:
    """The expected result with its named deltas substituted."""
    result = expected.result
    for name, body in reversed(list(expected.where.items())):
        result = substitute(result, {name: body})
    return result


def _terms(node: Node, sign: float = 1.0, depth: int = 0) -> list[tuple[Node, float]]:
    """The terms of a sum, products distributed over sums: (A' + A) @ x -> A' @ x, A @ x."""
    if depth > 8:
        return [(node, sign)]
    if node.op in ("add", "sub"):
        second = sign if node.op == "add" else -sign
        return _terms(node.args[0], sign, depth + 1) + _terms(node.args[1], second, depth + 1)
    if node.op in ("matmul", "mul"):
        a, b = node.args
        for index, part in ((0, a), (1, b)):
            if part.op in ("add", "sub"):
                other = node.args[1 - index]
                distributed = []
                for term, term_sign in _terms(part, sign, depth + 1):
                    pair = (term, other) if index == 0 else (other, term)
                    try:
                        distributed.append((ir.apply(node.op, *pair), term_sign))
                    except ShapeError:
                        return [(node, sign)]
                return distributed
    if node.op == "neg":
        return _terms(node.args[0], -sign, depth + 1)
    return [(node, sign)]


def missing_term(expected: Result, extended: Program, node: Node, samples) -> str:
    terms = _terms(inlined(expected))
    if len(terms) < 2:
        return ""
    gots = [s.got for s in samples]
    for term, sign in terms:
        try:
            values = evaluate_on(samples, extended, term)
        except MatcalcError:
            continue
        wants = [s.want - sign * np.broadcast_to(v, s.want.shape) for v, s in
                 zip(values, samples, strict=True)]
        if same(list(zip(gots, wants, strict=True))):
            return quoting(MISSING_TERM, f"{'' if sign > 0 else '-'}{term}")
    return ""


def one_sign(expected: Result, extended: Program, node: Node, samples) -> str:
    """The sign of one term of a sum flipped."""
    terms = _terms(inlined(expected))
    if len(terms) < 2:
        return ""
    for term, sign in terms:
        try:
            values = evaluate_on(samples, extended, term)
        except MatcalcError:
            continue
        flipped = [(s.got, s.want - 2 * sign * np.broadcast_to(v, s.want.shape))
                   for v, s in zip(values, samples, strict=True)]
        if same(flipped):
            return quoting(FLIPPED_TERM, f"{'' if sign > 0 else '-'}{term}")
    return ""


_FACTORS = (2.0, 0.5, 3.0, 1 / 3, 4.0, 0.25)  # the factors one term may have lost or gained


def one_term_scaled(expected: Result, extended: Program, node: Node, samples) -> str:
    """One term of the answer's own sum off by a sign or a small factor, the rest right:
    ``2 X'(Xw - y) + lam w`` for ``2 X'(Xw - y) + 2 lam w`` (a factor 2 dropped on one term),
    ``2 X'(Xw - y) - 2 lam w`` (one term's sign flipped).  The term is named as the answer
    writes it: the answer is right once that term alone is multiplied by the factor."""
    written_terms = _written_terms(node)
    terms = written_terms + [t for t in _terms(node) if t not in written_terms]
    if len(terms) < 2:
        return ""
    for term, sign in terms:
        if not any(item.op in ("var", "ref") for item in walk(term)):
            continue  # a constant off is a wrong number, not a factor dropped
        try:
            values = evaluate_on(samples, extended, term)
        except MatcalcError:
            continue
        parts = [(s.want - s.got, sign * np.broadcast_to(v, s.want.shape))
                 for v, s in zip(values, samples, strict=True)]
        norms = sum(float(np.sum(v * v)) for _, v in parts)
        if norms == 0 or not np.isfinite(norms):
            continue
        change = sum(float(np.sum(gap * v)) for gap, v in parts) / norms
        factor = 1.0 + change  # the term times factor makes the answer right
        fixed = [(s.got + change * v, s.want) for (_, v), s in zip(parts, samples, strict=True)]
        if not same(fixed):
            continue
        written = f"{'' if sign > 0 else '-'}{term}"
        if abs(factor + 1.0) < 1e-6:
            return quoting(FLIPPED_TERM, f"{written}{IN_YOUR_ANSWER}")
        for candidate in _FACTORS:
            if abs(factor - candidate) < 1e-6 * candidate:
                how = (f"{candidate:g} times that: a factor {candidate:g} is dropped on that "
                       "term only" if candidate > 1 else
                       f"1/{1 / candidate:g} of that: a factor {1 / candidate:g} too many on "
                       "that term only")
                return f"a constant factor is off on one term: {written} in your answer " \
                       f"should be {how}"
    return ""


def _written_terms(node: Node, sign: float = 1.0, depth: int = 0) -> list[tuple[Node, float]]:
    """The terms of a sum as written (nothing distributed): a - (b + c) -> a, -b, -c."""
    if depth <= 8 and node.op in ("add", "sub"):
        second = sign if node.op == "add" else -sign
        return _written_terms(node.args[0], sign, depth + 1) + \
            _written_terms(node.args[1], second, depth + 1)
    if depth <= 8 and node.op == "neg":
        return _written_terms(node.args[0], -sign, depth + 1)
    return [(node, sign)]

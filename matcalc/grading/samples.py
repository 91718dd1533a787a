"""Sample points for judging an answer: the expected values and the answer's, side by side.

The points honour the problem's declarations (:mod:`matcalc.numeric.sampling`); the expected
values come from the derived result's generated code, the answer's from the interpreter, so an
answer is never judged by the code that made the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..codegen.module import function_of
from ..core.ir import Node
from ..core.program import Program
from ..engine.result import Result
from ..errors import DomainError, MatcalcError
from ..numeric.evaluate import Evaluation, prepare, to_user_layout
from ..numeric.sampling import Instance, random_instance

POINTS = 4
TOLERANCE = 1e-8
KIND_NAMES = {"grad": "gradient", "jacobian": "Jacobian", "hessian": "Hessian",
              "step": "left side"}  # a step of a derivation is judged against its left side


@dataclass
class Sample:
    """One random point: its inputs, their evaluation, the expected value and the answer's."""

    instance: Instance
    evaluation: Evaluation
    want: np.ndarray
    got: np.ndarray


class AnswerUndefined(Exception):
    """The answer has no finite value at a point where the derivative has one."""

    def __init__(self, error: DomainError, seed: int, instance, want: np.ndarray):
        super().__init__(str(error))
        self.error, self.seed, self.instance, self.want = error, seed, instance, want


def values_at(expected: Result, extended: Program, node: Node, seed: int,
              instance: Instance | None = None) -> Sample:
    """The expected value and the answer's at the random point of ``seed`` (or at
    ``instance``, a point drawn before for ``extended``)."""
    instance = instance or random_instance(extended, seed=seed)
    want = np.asarray(function_of(expected)(instance.arrays, instance.sizes), dtype=float)
    evaluation = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
    try:
        got = np.asarray(to_user_layout(node.kind, evaluation.value(node)), dtype=float)
    except DomainError as error:
        raise AnswerUndefined(error, seed, instance, want) from error
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        what = "NaN" if np.any(np.isnan(got)) else "infinity"
        raise AnswerUndefined(DomainError(f"it evaluates to {what} there"), seed, instance, want)
    return Sample(instance, evaluation, want, got)


def relative(got: np.ndarray, want: np.ndarray) -> float:
    """The largest difference relative to the largest expected entry; NaN or infinity in
    either is as far off as can be."""
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
        return float("inf")
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-12)
    return float(np.max(np.abs(got - want), initial=0.0)) / scale


def same(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether each pair has the same shape and values (to 1e-7)."""
    return all(a.shape == b.shape and relative(a, b) <= 1e-7 for a, b in pairs)


def evaluate_on(samples: Sequence[Sample], extended: Program, candidate: Node
                ) -> list[np.ndarray]:
    """The values of ``candidate`` at each sample's point."""
    results = []
    for sample in samples:
        instance = sample.instance
        fresh = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
        results.append(np.asarray(to_user_layout(candidate.kind, fresh.value(candidate)),
                                  dtype=float))
    return results


def matches_answer(samples: Sequence[Sample], extended: Program, candidate: Node) -> bool:
    """Whether ``candidate`` has the answer's values at every sample point."""
    return _matches(samples, extended, candidate, [sample.got for sample in samples])


def matches_expected(samples: Sequence[Sample], extended: Program, candidate: Node) -> bool:
    """Whether ``candidate`` has the expected values at every sample point."""
    return _matches(samples, extended, candidate, [sample.want for sample in samples])


def _matches(samples: Sequence[Sample], extended: Program, candidate: Node,
             targets: list[np.ndarray]) -> bool:
    try:
        values = evaluate_on(samples, extended, candidate)
    except MatcalcError:
        return False
    return same(list(zip(values, targets, strict=True)))


def agrees(expected: Result, extended: Program, candidate: Node) -> bool:
    """Whether ``candidate`` is right: the expected values at every one of the POINTS points."""
    for seed in range(POINTS):
        try:
            sample = values_at(expected, extended, candidate, seed)
        except AnswerUndefined:
            return False
        if relative(sample.got, sample.want) > TOLERANCE:
            return False
    return True

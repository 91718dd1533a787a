"""Sample points for judging an answer: the expected values and the answer's, side by side.

The problem alone decides where answers are tested: the points honour the problem's declarations
and domains (:mod:`matcalc.numeric.sampling`), and nothing an answer defines (``t = log(-x)``)
narrows or moves them.  An answer, or one of its own definitions, that has no finite value at
such a point is wrong there, and that point is the counterexample.  Besides the ``POINTS``
points of the usual scale, ``SCALED`` points have entries scaled small and large, so that an
answer cannot agree only near the usual range (where the problem is not defined at such a
point, the usual scale stands in for it).

The expected values come from the derived result's generated code, the answer's from the
interpreter, so an answer is never judged by the code that made the reference.
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
from ..numeric.sampling import Instance, Magnitude, random_instance

POINTS = 4  # points of the usual scale (seeds 0 to 3)
SCALED: tuple[Magnitude, ...] = ((-2.0, -1.0), (1.0, 1.5))  # then entries 0.01 to 0.1 times
# and 10 to 30 times the usual draw (seeds 4 and 5)
SEEDS = tuple(range(POINTS + len(SCALED)))
SCALED_TRIES = 3  # draws at a scale before the usual one stands in (large problems stay fast)
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


def magnitude_of(seed: int) -> Magnitude | None:
    """The scale of the entries at the point of ``seed`` (None: the usual one)."""
    return SCALED[seed - POINTS] if POINTS <= seed < POINTS + len(SCALED) else None


def at_usual_scale(samples: Sequence[Sample]) -> list[Sample]:
    """The samples at points of the usual scale (those the hints are worked out on)."""
    return [sample for sample in samples if magnitude_of(sample.instance.seed) is None]


def scale_hint(seed: int, what: str, against: str) -> str:
    """Why ``what`` (an answer, a step's right side), which agrees with ``against`` at the
    points of the usual scale, is still wrong: the point of ``seed`` is scaled."""
    low, high = magnitude_of(seed) or (0.0, 0.0)
    size = "small" if high <= 0 else "large"
    return (f"{what} agrees with the {against} at points of the usual scale but not at one "
            f"whose entries are {size} ({10 ** low:g} to {10 ** high:.3g} times the usual "
            "draw): it agrees only near the usual range")


def problem_point(problem: Program, seed: int) -> Instance:
    """The point of ``seed`` for ``problem``: it alone decides where answers are tested."""
    magnitude = magnitude_of(seed)
    if magnitude is not None:
        try:
            return random_instance(problem, seed=seed, max_tries=SCALED_TRIES,
                                   magnitude=magnitude)
        except DomainError:  # the problem is not defined at that scale: the usual one
            pass
    return random_instance(problem, seed=seed)


def values_at(expected: Result, extended: Program, node: Node, seed: int,
              instance: Instance | None = None) -> Sample:
    """The expected value and the answer's at the point of ``seed`` for the problem
    (``expected.program``), or at ``instance``, a point drawn before for the problem.  Every
    definition ``extended`` adds to the problem (the answer's own) must have a finite value
    there, as must the answer."""
    instance = instance or problem_point(expected.program, seed)
    with np.errstate(all="ignore"):
        want = np.asarray(function_of(expected)(instance.arrays, instance.sizes), dtype=float)
    evaluation = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
    own = [d.ref for name, d in extended.definitions.items()
           if name not in expected.program.definitions]
    try:
        for item in own:
            try:
                _finite(evaluation.value(item), "it")
            except DomainError as error:
                raise DomainError(f"its definition {item.name}: {error.message}") from None
        got = np.asarray(to_user_layout(node.kind, evaluation.value(node)), dtype=float)
        _finite(got, "it")
    except DomainError as error:
        raise AnswerUndefined(error, seed, instance, want) from error
    return Sample(instance, evaluation, want, got)


def _finite(value, what: str) -> None:
    """DomainError unless every entry of ``value`` is finite."""
    value = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(value)):
        shown = "NaN" if np.any(np.isnan(value)) else "infinity"
        raise DomainError(f"{what} evaluates to {shown} there")


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
    """Whether ``candidate`` is right: the expected values at every one of the points."""
    for seed in SEEDS:
        try:
            sample = values_at(expected, extended, candidate, seed)
        except AnswerUndefined:
            return False
        if relative(sample.got, sample.want) > TOLERANCE:
            return False
    return True

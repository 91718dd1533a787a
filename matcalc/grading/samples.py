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
from ..core.labels import integer_valued
from ..core.program import Program
from ..engine.result import Result
from ..errors import DomainError, MatcalcError, UnsupportedError
from ..numeric.evaluate import Evaluation, Overflow, prepare, to_user_layout
from ..numeric.sampling import Instance, Magnitude, random_instance

POINTS = 4  # points of the usual scale (seeds 0 to 3)
SCALED: tuple[Magnitude, ...] = ((-2.0, -1.0), (1.0, 1.5))  # then entries 0.01 to 0.1 times
# and 10 to 30 times the usual draw (seeds 4 and 5)
SEEDS = tuple(range(POINTS + len(SCALED)))
SCALED_TRIES = 3  # draws at a scale before the usual one stands in (large problems stay fast)
TOLERANCE = 1e-8
KIND_NAMES = {"grad": "gradient", "jacobian": "Jacobian", "hessian": "Hessian",
              "step": "left side"}  # a step of a derivation is judged against its left side


# Every operation's result is rounded once more, by 2^-51 to 2^-50 (4 to 8 units in the last
# place) up or down at random, and the answer evaluated again: where its value moves by more
# than the tolerance, floating point has lost it at that point (a cancellation such as
# (1e20 + x) - 1e20, whose value is 0 whatever x is), and neither "right" nor "wrong" can be
# said there; so too where it overflows, or a product underflows.  This is stochastic
# arithmetic (J. Vignes, "A stochastic arithmetic for reliable scientific computation", Math.
# Comput. Simul. 35 (1993) 233-261; D. S. Parker, "Monte Carlo arithmetic", UCLA CSD-970002,
# 1997), with one extra run per point.
ROUNDING = 2.0 ** -50
_POOL = 1 << 16  # random factors drawn per point


@dataclass
class Sample:
    """One random point: its inputs, their evaluation, the expected value and the answer's,
    and the answer's value with every operation rounded once more (``moved``)."""

    instance: Instance
    evaluation: Evaluation
    want: np.ndarray
    got: np.ndarray
    moved: np.ndarray | None = None
    why: str = ""  # why floating point loses the answer's value here (overflow, underflow)

    @property
    def lost(self) -> bool:
        """Whether rounding decides the answer's value here, to the tolerance: the point can
        judge nothing."""
        if self.moved is None:
            return False
        if not np.all(np.isfinite(self.moved)):
            return True
        scale = max(float(np.max(np.abs(self.want), initial=0.0)), 1e-12)
        return float(np.max(np.abs(self.moved - self.got), initial=0.0)) > TOLERANCE * scale


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
              instance: Instance | None = None, trusted: Program | None = None,
              kept: dict | None = None) -> Sample:
    """The expected value and the answer's at the point of ``seed`` for the problem
    (``expected.program``), or at ``instance``, a point drawn before for the problem.  Every
    definition ``extended`` adds to the problem (the answer's own) must have a finite value
    there, as must the answer.  The definitions of ``trusted`` (default: the problem's) keep
    their values when the answer is rounded again.  ``kept`` (a dict the caller keeps for one
    point, where a program only ever gains names, as a derivation's does) holds the point's
    evaluations, so that what one step computed the next one does not compute again."""
    instance = instance or problem_point(expected.program, seed)
    with np.errstate(all="ignore"):
        want = np.asarray(function_of(expected)(instance.arrays, instance.sizes), dtype=float)
    evaluation = _evaluation(kept, "plain", extended, instance)
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
    except Overflow as error:  # finite, but beyond floating point: this point judges nothing
        lost = np.array(np.nan)
        return Sample(instance, evaluation, want, lost, lost, error.message)
    except DomainError as error:
        raise AnswerUndefined(error, seed, instance, want) from error
    handed = {definition.ref: evaluation.values[definition.ref]
              for name, definition in extended.definitions.items()
              if name in (trusted or expected.program).definitions and
              definition.ref in evaluation.values}
    again = _evaluation(kept, "rounded", extended, instance)
    if again.rounding is None:
        again.rounding = _rounding(instance)
    for ref, value in handed.items():
        again.values.setdefault(ref, value)
    again.rounding.underflow = ""
    try:
        moved = np.asarray(to_user_layout(node.kind, again.value(node)), dtype=float)
        why = again.rounding.underflow
    except DomainError as error:
        moved, why = np.array(np.nan), error.message
    return Sample(instance, evaluation, want, got, moved, why)


def _evaluation(kept: dict | None, kind: str, program: Program, instance: Instance
                ) -> Evaluation:
    """An evaluation of ``program`` at ``instance``: the one ``kept`` holds (now of
    ``program``, which has every name it had), else a new one."""
    if kept is not None and kind in kept:
        kept[kind].program = program
        return kept[kind]
    evaluation = prepare(program, instance.arrays, instance.sizes, check_attributes=False)
    if kept is not None:
        kept[kind] = evaluation
    return evaluation


def lost_to_rounding(samples: Sequence[Sample], what: str) -> UnsupportedError:
    """Why ``what`` cannot be judged: at the points of ``samples`` floating point loses its
    value (it overflows, a product underflows, or rounding decides it)."""
    def moved(sample: Sample) -> float:
        finite = np.all(np.isfinite(sample.moved)) and np.all(np.isfinite(sample.got))
        return relative(sample.moved, sample.got) if finite else float("inf")

    worst = max(samples, key=moved)
    how = worst.why or (f"rounding each operation once more moves it by {moved(worst):.1g} "
                        f"relative to its size, more than the tolerance {TOLERANCE:g}")
    return UnsupportedError(
        f"cannot judge {what}: at {len(samples)} of the {len(SEEDS)} random points floating "
        f"point loses its value (at the point of seed {worst.instance.seed}: {how}), as when "
        "numbers much larger than the result are added and subtracted again ((1e20 + x) - "
        "1e20 is 0 in floating point) or a product leaves floating point's range (1e-300 * "
        "1e-300 is 0); write it so that its value survives rounding")


def _rounding(instance: Instance):
    """What rounds every operation's result once more at ``instance`` (reproducibly)."""
    draws = np.random.default_rng(1_000 + instance.seed)
    # factors 1 +- (0.5 to 1) ROUNDING (two never cancel exactly), drawn once for the point;
    # each result takes the next ones in turn
    state = {"pool": 1.0 + ROUNDING * draws.choice((-1.0, 1.0), _POOL) *
             draws.uniform(0.5, 1.0, _POOL), "start": 0}

    def factors(count: int) -> np.ndarray:
        """``count`` factors, starting elsewhere in the pool for each result."""
        if count + _POOL > state["pool"].size:
            state["pool"] = np.resize(state["pool"], count + _POOL)
        first = state["start"]
        state["start"] = (first + 7_919) % _POOL
        return state["pool"][first:first + count]

    def again(item: Node, value, arguments: list):
        array = np.asarray(value)
        if array.dtype.kind != "f" or (integer_valued(item) and
                                       float(np.max(np.abs(array), initial=0.0)) < 2.0 ** 52):
            return value  # a whole number (k - 1 of an integer k) is exact in floating point
        if isinstance(value, float):
            rounded = value * float(factors(1)[0])
        else:
            rounded = array * factors(array.size).reshape(array.shape)
        reach = _underflow_reach(item, value, arguments)
        if np.any(reach):  # off by up to `reach`: moved that much, it shows if it matters
            again.underflow = again.underflow or (
                f"{_short(item)} underflows: a product of its arguments' entries is below "
                "floating point's smallest number, and the answer's value depends on it")
            signs = np.sign(factors(np.size(rounded)) - 1.0).reshape(np.shape(rounded))
            rounded = rounded + reach * signs
            return float(rounded) if isinstance(value, float) else rounded
        return rounded

    again.underflow = ""
    return again


_TINY = float(np.finfo(float).tiny)  # the smallest normal number


def _underflow_reach(node: Node, value, arguments: list):
    """How far ``node``'s entries may be from their true values through underflow: 0 where
    none may have underflowed, else the smallest normal number per product an entry sums (a
    product of two entries of its arguments, a quotient, a power or an exponential below it,
    where the true value is not 0), for the entries that may be off."""
    if node.op == "exp":  # exp(-inf) = 0 (an entry behind a mask) is exact
        finite = np.isfinite(np.asarray(arguments[0], dtype=float))
        return _TINY * ((np.abs(value) < _TINY) & finite)
    if node.op in ("mul", "matmul", "kron", "div") and len(arguments) == 2:
        first, second = (np.abs(np.asarray(a, dtype=float)) for a in arguments)
        if not (np.any(first) and np.any(second)):
            return 0.0
        low = float(np.min(first[first > 0]))
        other = float(np.max(second)) if node.op == "div" else float(np.min(second[second > 0]))
        if (low / other if node.op == "div" else low * other) >= _TINY:
            return 0.0
        terms = first.shape[-1] if node.op == "matmul" and first.ndim else 1
        return _TINY * terms
    if node.op == "pow" and arguments:
        base = np.asarray(arguments[0], dtype=float)
        return _TINY * ((np.abs(value) < _TINY) & (base != 0))
    return 0.0


def _short(node: Node) -> str:
    text = str(node)
    return text if len(text) <= 60 else text[:57] + "..."


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

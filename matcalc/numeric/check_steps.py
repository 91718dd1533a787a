"""Each step of a derivation, tested numerically.

Every Frobenius form ``df = G : dv`` (and every vec form of a Jacobian's steps) is checked by
finite differences like any result; every differential ``dv = ...`` against a central
difference of v along random directions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.ir import Node
from ..core.program import Program
from ..errors import DomainError, UnsupportedError
from ..present.steps import Step, Steps, shape_node
from .check import check
from .evaluate import prepare, to_user_layout
from .sampling import random_instance
from .verdict import VerdictBase


@dataclass
class ClaimVerdict(VerdictBase):
    """Whether one claim of a derivation's steps (a Frobenius form, a vec form, a differential)
    holds at random points: ``ok`` unless the points refute it, ``detail`` the evidence;
    ``inconclusive`` when they could not decide (a kink, no point in the domain), which
    ``status`` says."""

    claim: str
    ok: bool
    detail: str = ""
    inconclusive: bool = False

    @property
    def status(self) -> str:
        if not self.ok:
            return "false"
        return "inconclusive" if self.inconclusive else "holds"

    def __str__(self) -> str:
        return f"{'holds' if self.ok else 'FAILED'}: {self.claim}" + \
            (f" ({self.detail})" if self.detail else "")


def check_steps(derivation_steps: Steps | Sequence[Steps], seed: int = 0, points: int = 2
                ) -> list[ClaimVerdict]:
    """Test every claim of the steps of a derivation (``d.steps``, or
    ``matcalc.steps.steps(source, wrt, of)``; a Hessian's list of two Steps too) at ``points``
    random points from ``seed``: each Frobenius form (or vec form) by finite differences, each
    differential against a central difference along random directions."""
    if isinstance(derivation_steps, list | tuple) and \
            all(isinstance(part, Steps) for part in derivation_steps):
        return [v for part in derivation_steps for v in check_steps(part, seed, points)]
    if not isinstance(derivation_steps, Steps):
        raise UnsupportedError(
            f"check_steps takes the steps of a derivation (d.steps, or "
            f"matcalc.steps.steps(source, wrt, of)), not {type(derivation_steps).__name__}")
    if not isinstance(seed, int) or not isinstance(points, int) or points < 1:
        raise UnsupportedError("check_steps(steps, seed=0, points=2): seed is an integer, "
                               "points a positive integer")
    verdicts = []
    for step in derivation_steps.steps:
        if step.gradient is not None:
            result = check(step.gradient, seed=seed, trials=points)
            claim = f"vec(d{step.name}) = J @ vec(d{derivation_steps.wrt})" \
                if derivation_steps.kind == "jacobian" else \
                f"d{derivation_steps.of} = G : d{step.name}"
            undecided = result.status == "inconclusive"
            verdicts.append(ClaimVerdict(claim, result.ok or undecided, str(result), undecided))
        if step.body is not None and step.differential is not None:
            verdicts.append(_check_differential(derivation_steps, step, seed, points))
    return verdicts


def _check_differential(derivation_steps: Steps, step: Step, seed: int,
                        points: int) -> ClaimVerdict:
    assert step.gradient is not None or derivation_steps.gradients
    program = derivation_steps.gradients[0].program
    claim = f"d{step.name} = {step.differential}"
    extended = Program(source=program.source,
                       variables={**program.variables,
                                  **{v.name: v for v in step.directions.values()}},
                       definitions=dict(program.definitions), requests=[],
                       dimensions=program.dimensions, inferred=program.inferred)
    ref = program.definitions[step.name].ref
    worst = 0.0
    for trial in range(points):
        try:
            instance = random_instance(extended, seed=seed + trial)
        except DomainError as error:
            return ClaimVerdict(claim, True, f"no random point: {error}", inconclusive=True)
        arrays, sizes = instance.arrays, instance.sizes

        def value_at(t: float, arrays=arrays, sizes=sizes) -> np.ndarray:
            moved = dict(arrays)
            evaluation = prepare(extended, arrays, sizes, check_attributes=False)
            for arg, direction in step.directions.items():
                base = _value(evaluation, shape_node(program, arg))
                moved_value = base + t * np.asarray(arrays[direction.name], dtype=float)
                if arg in program.variables:
                    moved[arg] = moved_value
            moved_evaluation = prepare(extended, moved, sizes, check_attributes=False)
            for arg, direction in step.directions.items():
                if arg in program.definitions:
                    node = program.definitions[arg].ref
                    base = _value(evaluation, node)
                    value = base + t * np.asarray(arrays[direction.name], dtype=float)
                    moved_evaluation.move(node, _internal(node, value))
            return np.asarray(to_user_layout(step.body.kind,
                                             moved_evaluation.value(step.body)), dtype=float)

        evaluation = prepare(extended, arrays, sizes, check_attributes=False)
        symbolic = np.asarray(to_user_layout(ref.kind, evaluation.value(step.differential)),
                              dtype=float)
        h = 1e-5
        numeric = (8 * (value_at(h) - value_at(-h)) - (value_at(2 * h) - value_at(-2 * h))) \
            / (12 * h)
        scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
        worst = max(worst, float(np.max(np.abs(symbolic - numeric), initial=0.0)) / scale)
    return ClaimVerdict(claim, worst <= 1e-6, f"max relative error {worst:.1e}")


def _value(evaluation, node: Node) -> np.ndarray:
    return np.asarray(to_user_layout(node.kind, evaluation.value(node)), dtype=float)


def _internal(node: Node, value: np.ndarray):
    if node.is_scalar:
        return float(value)
    return value.reshape(-1, 1) if value.ndim == 1 else value


__all__ = ["ClaimVerdict", "check_steps"]

"""The steps of a derivation and their numeric test, under the names the docs use
(``matcalc.steps.steps``, ``matcalc.steps.check_steps``): see :mod:`matcalc.present.steps` and
:mod:`matcalc.numeric.check_steps`.  The results inside the steps are Derivatives, as
``Derivative.steps`` gives them.
"""

from __future__ import annotations

from .core.program import Program
from .derive import with_derivatives
from .numeric.check_steps import ClaimVerdict, check_steps
from .present import steps as _steps
from .present.steps import Step, Steps


def steps(source: str | Program, wrt: str, of: str | None = None) -> Steps:
    """The steps of ``grad of wrt`` (:func:`matcalc.present.steps.steps`)."""
    return with_derivatives(_steps.steps(source, wrt, of))


def jacobian_steps(source: str | Program, wrt: str, of: str | None = None) -> Steps:
    """The steps of ``jacobian of wrt`` (:func:`matcalc.present.steps.jacobian_steps`)."""
    return with_derivatives(_steps.jacobian_steps(source, wrt, of))


def hessian_steps(source: str | Program, wrt: str, of: str | None = None) -> list[Steps]:
    """The steps of ``hessian of wrt`` (:func:`matcalc.present.steps.hessian_steps`)."""
    return with_derivatives(_steps.hessian_steps(source, wrt, of))


__all__ = ["ClaimVerdict", "Step", "Steps", "check_steps", "hessian_steps", "jacobian_steps",
           "steps"]

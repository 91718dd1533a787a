"""Every operation's rules, and the three views of them the engine walks.

Importing this module registers every family of :mod:`matcalc.rules.ops`; ``DIFFERENTIALS``,
``ADJOINTS`` and ``JACOBIANS`` are keyed by operation name, like the IR's shape rules.
"""

from __future__ import annotations

from .operation import OPERATIONS, Adjoint, Differential, Jacobian
from .ops import (  # noqa: F401 - each registers its operations
    analytic,
    arithmetic,
    convolution,
    elementwise,
    extrema,
    matrix_functions,
    powers,
    products,
    reductions,
    softmax,
    spectral,
    structure,
)

DIFFERENTIALS: dict[str, Differential] = {name: op.differential for name, op in OPERATIONS.items()}
ADJOINTS: dict[str, tuple[Adjoint, ...]] = {name: op.adjoints for name, op in OPERATIONS.items()}
JACOBIANS: dict[str, Jacobian] = {name: op.jacobian for name, op in OPERATIONS.items()}

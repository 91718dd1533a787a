"""The finite-difference checker: proves a derived result numerically, independently of the engine.

It evaluates the *original* problem with NumPy at random points that honour the declarations
(:mod:`matcalc.sampling`), differentiates it numerically by central differences with Richardson
extrapolation, and compares with the value of the derived expression:

- gradients and Jacobians: along random directions ``V`` (``<G, V>`` against
  ``(F(X + hV) - F(X - hV)) / 2h``), and entry by entry when the variable has at most
  ``FULL_LIMIT`` entries;
- Hessians: the second directional derivative ``w' H v`` against a four-point second difference
  of F, for random ``v``, ``w`` (and every pair of coordinates when small).

The step is relative to the variable's scale, ``h = STEP * max(1, rms(X))``; Richardson's
``(4 D(h/2) - D(h)) / 3`` removes the O(h^2) error.  A comparison's relative error is
``|derived - numeric| / max(|derived|, |numeric|, floor)``.  The floor is the larger of
``1e-4 * natural``, with ``natural`` the comparison's typical size (the result's norm times the
directions' norms), so that an entry that should vanish is judged against the size of the whole
result, and ``10 * noise / tolerance``, with ``noise = 1e-15 (1 + |F|) / h`` (``/ h^2`` for
Hessians) the rounding noise of the differences, so that noise alone never fails a check; the
passes when the largest error is at most ``tolerance`` (default 1e-6) at every trial point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .derive import Derivative
from .ir import Node
from .numeric import prepare, to_user_layout
from .program import Program
from .sampling import random_instance
from .shapes import Kind

STEP = 1e-4
HESSIAN_STEP = 1e-3
ROUNDOFF = 1e-15  # float64 rounding of an evaluation of F, relative to 1 + |F|
NATURAL_FLOOR = 1e-4
FULL_LIMIT = 24
DEFAULT_TOLERANCE = 1e-6


@dataclass
class CheckResult:
    """The verdict of a finite-difference check."""

    ok: bool
    max_rel_error: float
    seed: int
    kind: str
    of: str
    wrt: str
    tolerance: float
    trials: int
    comparisons: int
    notes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        if self.notes:
            verdict += f" ({'; '.join(sorted(set(self.notes)))})"
        return (f"{verdict}: {self.kind} {self.of} wrt {self.wrt}: max relative error "
                f"{self.max_rel_error:.2e} (tolerance {self.tolerance:.0e}, {self.comparisons} "
                f"comparisons at {self.trials} points, seed {self.seed})")


def check(derivative: Derivative | Sequence[Derivative], seed: int | None = None,
          tolerance: float = DEFAULT_TOLERANCE, trials: int = 2,
          directions: int = 3) -> CheckResult | list[CheckResult]:
    """Prove a derivative (or each of several) by finite differences."""
    if not isinstance(derivative, Derivative):
        return [check(d, seed, tolerance, trials, directions) for d in derivative]
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    worst, comparisons, notes = 0.0, 0, []
    for trial in range(trials):
        errors = _check_at(derivative, seed + trial, directions, tolerance, notes)
        comparisons += len(errors)
        worst = max([worst, *errors])
    return CheckResult(worst <= tolerance, worst, seed, derivative.kind, derivative.of,
                       derivative.wrt, tolerance, trials, comparisons, notes)


class _Function:
    """F as a function of the variable (or definition) X, everything else fixed."""

    def __init__(self, program: Program, of: Node, wrt: str, arrays: dict, sizes: dict):
        self.program, self.of, self.wrt = program, of, wrt
        self.arrays, self.sizes = arrays, sizes
        if wrt in program.variables:
            self.x0 = np.asarray(arrays[wrt], dtype=float)
        else:
            evaluation = prepare(program, arrays, sizes, check_attributes=False)
            ref = program.definitions[wrt].ref
            self.x0 = np.asarray(to_user_layout(ref.kind, evaluation.value(ref)), dtype=float)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.wrt in self.program.variables:
            evaluation = prepare(self.program, dict(self.arrays, **{self.wrt: x}), self.sizes,
                                 check_attributes=False)
        else:
            evaluation = prepare(self.program, self.arrays, self.sizes, check_attributes=False)
            ref = self.program.definitions[self.wrt].ref
            evaluation.values[ref] = float(x) if ref.is_scalar else (
                x.reshape(-1, 1) if ref.kind is Kind.VECTOR else np.asarray(x))
        return np.atleast_1d(np.asarray(_vec(evaluation.value(self.of)), dtype=float))


def _vec(value) -> np.ndarray:
    return np.ravel(np.asarray(value, dtype=float), order="F")


def _unvec_like(flat: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.reshape(flat, like.shape, order="F") if like.ndim else flat.reshape(())


def _richardson(difference: Callable[[float], np.ndarray], h: float) -> np.ndarray:
    return (4 * difference(h / 2) - difference(h)) / 3


def _first_derivative(f: _Function, direction: np.ndarray, h: float) -> np.ndarray:
    x0 = f.x0
    return _richardson(lambda s: (f(x0 + s * direction) - f(x0 - s * direction)) / (2 * s), h)


def _second_derivative(f: _Function, v: np.ndarray, w: np.ndarray, h: float) -> float:
    x0 = f.x0

    def difference(s: float) -> np.ndarray:
        return (f(x0 + s * v + s * w) - f(x0 + s * v - s * w) - f(x0 - s * v + s * w)
                + f(x0 - s * v - s * w)) / (4 * s * s)

    return float(_richardson(difference, h)[0])


def _relative(derived: np.ndarray, numeric: np.ndarray, floor: float) -> float:
    """The relative error of one comparison; sizes below ``floor`` count as ``floor``."""
    difference = float(np.max(np.abs(np.asarray(derived) - np.asarray(numeric)), initial=0.0))
    size = max(float(np.max(np.abs(derived), initial=0.0)),
               float(np.max(np.abs(numeric), initial=0.0)), floor)
    return difference / size


def _floor(natural: float, noise: float, tolerance: float) -> float:
    """The smallest size a comparison is judged relative to: a 1e-4 part of its natural size,
    and ten times the finite-difference noise over the tolerance (so noise alone stays a tenth
    of the tolerance)."""
    return max(NATURAL_FLOOR * natural, 10 * noise / tolerance, 1e-300)


def expected_shape(kind: str, of_size: int, x0: np.ndarray) -> tuple[int, ...]:
    """The NumPy shape a result must have: X's for a gradient; (size F, size X) for a Jacobian
    and (size X, size X) for a Hessian, a vector where there is one column, () for 1 x 1."""
    if kind == "grad":
        return x0.shape
    rows = of_size if kind == "jacobian" else x0.size
    if x0.size == 1:
        return () if rows == 1 else (rows,)
    return (rows, x0.size)


def _check_at(derivative: Derivative, seed: int, directions: int, tolerance: float,
              notes: list[str]) -> list[float]:
    program = derivative.program
    instance = random_instance(program, seed=seed)
    f = _Function(program, derivative.of_node, derivative.wrt, instance.arrays, instance.sizes)
    value = derivative.numpy()(sizes=instance.sizes, **instance.arrays)
    derived = np.asarray(value, dtype=float)
    f0 = f(f.x0)
    wanted = expected_shape(derivative.kind, f0.size, f.x0)
    if derived.shape != wanted:
        notes.append(f"the result has shape {derived.shape}, but {wanted} is expected")
        return [float("inf")]
    scale = float(np.max(np.abs(f0), initial=0.0))
    rng = np.random.default_rng(seed + 7919)
    x0 = f.x0
    n = x0.size
    h = STEP * max(1.0, float(np.sqrt(np.mean(x0**2)))) if n else STEP
    errors = []
    unit = [np.eye(n)[i] for i in range(n)] if n <= FULL_LIMIT else []
    random_directions = [rng.normal(size=n) for _ in range(directions)]
    if derivative.kind == "hessian":
        hessian = np.atleast_2d(derived)
        hh = HESSIAN_STEP * max(1.0, float(np.sqrt(np.mean(x0**2)))) if n else HESSIAN_STEP
        pairs = [(random_directions[i], random_directions[(i + 1) % directions])
                 for i in range(directions)]
        if n <= 6:
            pairs += [(unit[i], unit[j]) for i in range(n) for j in range(i, n)]
        for v, w in pairs:
            numeric = _second_derivative(f, _unvec_like(v, x0), _unvec_like(w, x0), hh)
            natural = float(np.linalg.norm(hessian) * np.linalg.norm(v) * np.linalg.norm(w))
            noise = ROUNDOFF * (1 + scale) / hh**2
            errors.append(_relative(np.array([w @ hessian @ v]), np.array([numeric]),
                                    _floor(natural, noise, tolerance)))
        return errors
    jac = _as_jacobian(derivative, derived, n)
    for v in random_directions + unit:
        numeric = _first_derivative(f, _unvec_like(v, x0), h)
        natural = float(np.linalg.norm(jac) * np.linalg.norm(v))
        noise = ROUNDOFF * (1 + scale) / h
        errors.append(_relative(jac @ v, numeric, _floor(natural, noise, tolerance)))
    return errors


def _as_jacobian(derivative: Derivative, derived: np.ndarray, n: int) -> np.ndarray:
    """The derived result as a (size F) x (size X) matrix."""
    if derivative.kind == "grad":
        return _vec(derived).reshape(1, n)
    return np.asarray(derived, dtype=float).reshape(-1, n)

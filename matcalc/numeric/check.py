"""The finite-difference checker: proves a derived result numerically, independently of the engine.

It evaluates the *original* problem with NumPy at random points that honour the declarations
(:mod:`matcalc.sampling`), differentiates it numerically by central differences with Richardson
extrapolation, and compares with the value of the derived expression:

- gradients and Jacobians: along random directions ``V`` (``<G, V>`` against
  ``(F(X + hV) - F(X - hV)) / 2h``), and entry by entry when the variable has at most
  ``FULL_LIMIT`` entries;
- Hessians: the second directional derivative ``w' H v`` against a four-point second difference
  of F, for random ``v``, ``w`` (and every pair of coordinates when small).

Steps are relative: each entry of a direction is scaled by ``max(|x_i|, 0.01 rms(X))`` and the
step is ``h = 1e-4`` (``1e-3`` for Hessians); the estimate at h/10 must agree with the one at h
within 1%, else the steps go on shrinking (to h/1000) until two consecutive ones agree.
Richardson's
``R(h) = (4 D(h/2) - D(h)) / 3`` removes the O(h^2) error, and ``|R(h) - R(h/2)|`` estimates
what remains: a discrepancy up to three times that estimate is the differences' own error, not
the result's (it matters for rapidly varying functions such as ``sin(x .^ 9)``).  When the
estimate exceeds a tenth of the value, the differences prove nothing: the verdict is not ok and
says it is inconclusive.

A comparison's relative error is ``max(0, |derived - numeric| - 3 estimate) / max(|derived|,
|numeric|, floor)``.  The floor is the larger of
``1e-4 * natural``, with ``natural`` the comparison's typical size (the result's norm times the
directions' norms), so that an entry that should vanish is judged against the size of the whole
result, and ``10 * noise / tolerance``, with ``noise = 1e-15 (1 + |F|) / h`` (``/ h^2`` for
Hessians) the rounding noise of the differences, so that noise alone never fails a check; the
passes when the largest error is at most ``tolerance`` (default 1e-6) at every trial point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..codegen.module import function_of
from ..core.ir import Node, walk
from ..core.program import Program
from ..core.registry import view
from ..core.shapes import Kind
from ..engine.result import Result
from ..errors import DomainError
from .evaluate import Evaluation, internal_array, prepare, to_user_layout
from .sampling import EDGES, KINK_MARGIN, random_instance, unsuitable_at, why
from .verdict import VerdictBase

STEP = 1e-4
HESSIAN_STEP = 1e-3
INCONCLUSIVE = 0.1  # differences whose own error exceeds this part of the size prove nothing
INCONCLUSIVE_NOTE = ("inconclusive: the function varies too fast here for finite differences "
                     "to decide")
UNCERTAINTY_FACTOR = 3  # the differences' error estimate is allowed three times over
ROUNDOFF = 1e-15  # float64 rounding of an evaluation of F, relative to 1 + |F|
NATURAL_FLOOR = 1e-4
FULL_LIMIT = 24
DOMAIN_RETRIES = 4  # steps shrink by 100 up to this many times when they leave the domain
OUTSIDE_NOTE = ("inconclusive: the point is so near the edge of the domain that the "
                "differences leave it")
SINGULAR_NOTE = ("inconclusive: the result inverts a matrix that is singular at this point "
                 "(the function is defined there, the result's formula is not)")
DEFAULT_TOLERANCE = 1e-6


@dataclass
class CheckResult(VerdictBase):
    """The verdict of a finite-difference check: ``status`` is ``inconclusive`` at a kink or
    where the differences cannot decide."""

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
    inconclusive: bool = False
    kink: str = ""

    @property
    def status(self) -> str:
        if self.ok:
            return "holds"
        return "inconclusive" if self.inconclusive or self.kink else "false"

    def _repr_markdown_(self) -> str:
        """The verdict in a notebook, its first word in bold."""
        verdict, _, rest = str(self).partition(":")
        return f"**{verdict}**:{rest}"

    def __str__(self) -> str:
        if self.kink:
            return (f"kink: {self.kind} {self.of} wrt {self.wrt}: {self.kink}; the derivative "
                    "does not exist there, so finite differences cannot confirm or refute the "
                    "result (matcalc's result takes step(0) = 0, sign(0) = 0)")
        verdict = "ok" if self.ok else "FAILED"
        if self.notes:
            verdict += f" ({'; '.join(sorted(set(self.notes)))})"
        return (f"{verdict}: {self.kind} {self.of} wrt {self.wrt}: max relative error "
                f"{self.max_rel_error:.2e} (tolerance {self.tolerance:.0e}, {self.comparisons} "
                f"comparisons at {self.trials} points, seed {self.seed})")


def check(derivative: Result | Sequence[Result], seed: int | None = None,
          tolerance: float = DEFAULT_TOLERANCE, trials: int = 2,
          directions: int = 3, at: Mapping[str, object] | None = None, full: bool = True
          ) -> CheckResult | list[CheckResult]:
    """Prove a derivative (or each of several) by finite differences.

    By default at ``trials`` random points honouring the declarations; with ``at`` (arrays by
    variable name, float32 or float64; the check runs in float64) at that point only.  A point
    with NaN or infinity is a DomainError; a point at a kink of relu, step, abs or sign gives a
    result with ``kink`` set (not ok, and not a failure of the result).
    """
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    drawn: dict[tuple[int, int], object] = {}  # results of one problem share their points
    # overflow in a norm or a difference is judged by the comparison, not printed by NumPy
    with np.errstate(all="ignore"):
        if not isinstance(derivative, Result):
            return [_check_one(d, seed, tolerance, trials, directions, at, full, drawn)
                    for d in derivative]
        return _check_one(derivative, seed, tolerance, trials, directions, at, full, drawn)


def _check_one(derivative: Result, seed: int, tolerance: float, trials: int, directions: int,
               at: Mapping[str, object] | None, full: bool, drawn: dict) -> CheckResult:
    worst, comparisons, notes = 0.0, 0, []
    if at is not None:
        points = [_given_point(derivative, at)]
    else:
        points = []
        for trial in range(trials):
            key = (id(derivative.program), seed + trial)
            if key not in drawn:
                drawn[key] = random_instance(derivative.program, seed=seed + trial)
            points.append(drawn[key])
    for trial, instance in enumerate(points):
        kink = _kink(derivative, instance) if at is not None else ""
        if kink:
            return CheckResult(False, float("nan"), seed, derivative.kind, derivative.of,
                               derivative.variables, tolerance, len(points), 0, [], False,
                               kink)
        try:
            errors = _check_at(derivative, instance, seed + trial, directions, tolerance, notes,
                               full)
        except _OutsideDomain:
            notes.append(OUTSIDE_NOTE)
            continue
        comparisons += len(errors)
        worst = max([worst, *(error if error == error else math.inf for error in errors)])
    inconclusive = bool({INCONCLUSIVE_NOTE, OUTSIDE_NOTE, SINGULAR_NOTE} & set(notes))
    return CheckResult(worst <= tolerance and not inconclusive, worst, seed, derivative.kind,
                       derivative.of, derivative.variables, tolerance, len(points), comparisons,
                       notes, inconclusive)


@dataclass
class _Point:
    arrays: dict[str, object]
    sizes: dict[str, int]
    evaluation: Evaluation


def _given_point(derivative: Result, at: Mapping[str, object]) -> _Point:
    """The user's point, checked against the declarations (NaN/inf: DomainError)."""
    arrays = {name: np.asarray(value, dtype=np.float64) for name, value in at.items()}
    evaluation = prepare(derivative.program, arrays)
    for definition in derivative.program.definitions.values():
        evaluation.value(definition.ref)
    return _Point(arrays, dict(evaluation.sizes), evaluation)


def _kink(derivative: Result, point: _Point) -> str:
    """Where the function is not differentiable at the point: an operation's arguments at one
    of its edges (its ``check`` facet: relu's argument 0, max's largest entries tied) within the
    checker's reach, relative to their size."""
    evaluation = point.evaluation
    evaluation.value(derivative.of_node)
    checks = view("check")
    for node, _value in list(evaluation.values.items()):
        check = checks.get(node.op)
        if check in EDGES:
            arguments = [np.asarray(evaluation.values[a], dtype=float) for a in node.args]
            scale = max([1.0, *(float(np.max(np.abs(a), initial=0.0)) for a in arguments)])
            margin = KINK_MARGIN * 1e-2 * scale
            if unsuitable_at(check, node, evaluation.values, margin):
                return f"the point is where {node} is not differentiable: " \
                       f"{why(check, node, margin)}"
    return ""


class _Function:
    """F as a function of the variable (or definition) X, everything else fixed; of several
    (a tuple ``wrt``), F of [vec(X1); vec(X2); ...]."""

    def __init__(self, program: Program, of: Node, wrt: str | tuple[str, ...], arrays: dict,
                 sizes: dict):
        self.program, self.of = program, of
        self.names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
        base = prepare(program, arrays, sizes, check_attributes=False)
        base.value(of)
        for name in self.names:  # one only a stable form looks through is not computed yet
            if name in program.definitions:
                base.value(program.definitions[name].ref)
        self.base = base
        self.starts = [self._start(name, arrays) for name in self.names]
        self.x0 = self.starts[0] if isinstance(wrt, str) else \
            np.concatenate([_vec(start) for start in self.starts])
        # what does not depend on X is computed once, at the base point
        moving = set().union(*(_depending_on(program, name) for name in self.names))
        self.fixed = {node: value for node, value in base.values.items() if node not in moving}

    def _start(self, name: str, arrays: dict) -> np.ndarray:
        if name in self.program.variables:
            return np.asarray(arrays[name], dtype=float)
        ref = self.program.definitions[name].ref
        return np.asarray(to_user_layout(ref.kind, self.base.values[ref]), dtype=float)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        variables = dict(self.base.variables)
        evaluation = Evaluation(self.program, variables, self.base.sizes, dict(self.fixed))
        offset = 0
        for name, start in zip(self.names, self.starts, strict=True):
            if len(self.names) == 1:
                part = x
            else:
                part = _unvec_like(x[offset:offset + start.size], start)
                offset += start.size
            if name in self.program.variables:
                node = self.program.variables[name]
                array = internal_array(name, node, part)
                variables[name] = float(array) if node.is_scalar else array
            else:
                ref = self.program.definitions[name].ref
                evaluation.move(ref, float(part) if ref.is_scalar else (
                    part.reshape(-1, 1) if ref.kind is Kind.VECTOR else np.asarray(part)))
        return np.atleast_1d(np.asarray(_vec(evaluation.value(self.of)), dtype=float))


def _depending_on(program: Program, name: str) -> set[Node]:
    """The nodes of the program that depend on the variable or definition ``name``."""
    moving: set[Node] = set()
    moving_names = {name}
    for definition in program.definitions.values():
        for node in walk(definition.body):
            if (node.op in ("var", "ref") and node.name in moving_names) or \
                    any(arg in moving for arg in node.args):
                moving.add(node)
        if definition.name in moving_names or definition.body in moving:
            moving_names.add(definition.name)
            moving.add(definition.ref)
    if name in program.variables:
        moving.add(program.variables[name])
    return moving


def _vec(value) -> np.ndarray:
    return np.ravel(np.asarray(value, dtype=float), order="F")


def _unvec_like(flat: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.reshape(flat, like.shape, order="F") if like.ndim else flat.reshape(())


def _richardson(difference: Callable[[float], np.ndarray], h: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Richardson's extrapolation at h/2 and its error estimate, |R(h) - R(h/2)|, from central
    differences at h, h/2 and h/4."""
    d1, d2, d4 = difference(h), difference(h / 2), difference(h / 4)
    coarse, fine = (4 * d2 - d1) / 3, (4 * d4 - d2) / 3
    return fine, np.abs(coarse - fine)


def _first_derivative(f: _Function, direction: np.ndarray, h: float):
    x0 = f.x0
    return _richardson(lambda s: (f(x0 + s * direction) - f(x0 - s * direction)) / (2 * s), h)


def _second_derivative(f: _Function, v: np.ndarray, w: np.ndarray, h: float):
    x0 = f.x0

    def difference(s: float) -> np.ndarray:
        return (f(x0 + s * v + s * w) - f(x0 + s * v - s * w) - f(x0 - s * v + s * w)
                + f(x0 - s * v - s * w)) / (4 * s * s)

    estimate, error = _richardson(difference, h)
    return estimate[:1], error[:1]


def _relative(derived: np.ndarray, numeric: tuple[np.ndarray, np.ndarray], floor: float) -> float:
    """The relative error of one comparison beyond what the differences' own error estimate
    explains; sizes below ``floor`` count as ``floor``."""
    numeric, uncertainty = numeric
    excess = np.abs(np.asarray(derived) - numeric) - UNCERTAINTY_FACTOR * uncertainty
    difference = float(np.max(np.maximum(excess, 0.0), initial=0.0))
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


def _entry_scales(x0: np.ndarray) -> np.ndarray:
    """Per-entry step scales: |x_i|, but at least 1% of the entries' root mean square."""
    flat = np.abs(_vec(x0))
    rms = float(np.sqrt(np.mean(flat**2))) if flat.size else 0.0
    return np.maximum(flat, 0.01 * rms) if rms > 0 else np.ones_like(flat)


class _OutsideDomain(Exception):
    """Even the smallest steps leave the function's domain."""


def _adaptive(estimate: Callable[[float], tuple[np.ndarray, np.ndarray]], step: float,
              floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Differences at ``step`` and ``step / 10``, going to smaller steps until two consecutive
    estimates agree within 1% (one step alone can alias: a phase that turns by whole periods
    agrees with itself); the coarser of the two is kept, with its own uncertainty, or, when no
    two steps agree, the finest with the disagreement as its uncertainty."""
    for _ in range(DOMAIN_RETRIES):
        try:
            previous, previous_uncertainty = estimate(step)
            break
        except DomainError:  # the steps leave the domain (near its edge): smaller steps
            step /= 100
    else:
        raise _OutsideDomain
    for attempt in range(1, 4):
        numeric, uncertainty = estimate(step / 10**attempt)
        size = max(float(np.max(np.abs(numeric), initial=0.0)), floor)
        disagreement = np.abs(numeric - previous)
        if float(np.max(disagreement, initial=0.0)) <= 0.01 * size:
            # the coarser of two agreeing estimates: its rounding error is the smaller (100
            # times for second differences); its truncation error is in its own estimate
            return previous, previous_uncertainty
        previous, previous_uncertainty = numeric, uncertainty
    return numeric, np.maximum(uncertainty, disagreement)


def _printed(derivative: Result):
    """The compiled function of the result as printed (not of the equal form code computes:
    the check proves what the user reads)."""
    return function_of(replace(derivative, computed=None))


def _check_at(derivative: Result, instance, seed: int, directions: int, tolerance: float,
              notes: list[str], full: bool = True) -> list[float]:
    program = derivative.program
    if derivative.across:
        return _check_cross_block(derivative, instance, seed, directions, tolerance, notes)
    f = _Function(program, derivative.of_node, derivative.wrt, instance.arrays, instance.sizes)
    try:
        value = _printed(derivative)(instance.arrays, instance.sizes)
    except np.linalg.LinAlgError:
        notes.append(SINGULAR_NOTE)
        return []
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
    scales = _entry_scales(x0)
    unit = [np.eye(n)[i] * scales for i in range(n)] if full and n <= FULL_LIMIT else []
    random_directions = [rng.normal(size=n) * scales for _ in range(directions)]
    comparisons = []
    if derivative.kind == "hessian":
        hessian = np.atleast_2d(derived)
        pairs = [(random_directions[i], random_directions[(i + 1) % directions])
                 for i in range(directions)]
        if unit and n <= 6:
            pairs += [(unit[i], unit[j]) for i in range(n) for j in range(i, n)]
        for v, w in pairs:
            natural = float(np.linalg.norm(hessian) * np.linalg.norm(v) * np.linalg.norm(w))
            floor = _floor(natural, ROUNDOFF * (1 + scale) / HESSIAN_STEP**2, tolerance)
            numeric = _adaptive(lambda s, v=v, w=w: _second_derivative(
                f, _unvec_like(v, x0), _unvec_like(w, x0), s), HESSIAN_STEP, floor)
            comparisons.append((np.array([w @ hessian @ v]), numeric, floor))
    else:
        jac = _as_jacobian(derivative, derived, n)
        for v in random_directions + unit:
            natural = float(np.linalg.norm(jac) * np.linalg.norm(v))
            floor = _floor(natural, ROUNDOFF * (1 + scale) / STEP, tolerance)
            numeric = _adaptive(lambda s, v=v: _first_derivative(f, _unvec_like(v, x0), s),
                                STEP, floor)
            comparisons.append((jac @ v, numeric, floor))
    return _errors(comparisons, notes)


def _errors(comparisons: list, notes: list[str]) -> list[float]:
    """The relative error of each (expected, numeric, floor) comparison; a numeric estimate
    too uncertain to decide adds the inconclusive note."""
    errors = []
    for expected, numeric, floor in comparisons:
        size = max(float(np.max(np.abs(expected), initial=0.0)),
                   float(np.max(np.abs(numeric[0]), initial=0.0)), floor)
        if float(np.max(numeric[1], initial=0.0)) > INCONCLUSIVE * size:
            notes.append(INCONCLUSIVE_NOTE)
        errors.append(_relative(expected, numeric, floor))
    return errors


def _check_cross_block(derivative: Result, instance, seed: int, directions: int,
                       tolerance: float, notes: list[str]) -> list[float]:
    """A Hessian's cross block H_wb = d^2 f / d vec(w) d vec(b)': v' H_wb u against the mixed
    second difference of f along v in w and u in b (both moving at once)."""
    f = _Function(derivative.program, derivative.of_node, derivative.names, instance.arrays,
                  instance.sizes)
    try:
        derived = np.asarray(_printed(derivative)(instance.arrays, instance.sizes), dtype=float)
    except np.linalg.LinAlgError:
        notes.append(SINGULAR_NOTE)
        return []
    n_w, n_b = (start.size for start in f.starts)
    if derived.size != n_w * n_b:
        notes.append(f"the result has {derived.size} entries, but {n_w} x {n_b} are expected")
        return [float("inf")]
    block = derived.reshape(n_w, n_b)
    scale = float(np.max(np.abs(f(f.x0)), initial=0.0))
    scales = _entry_scales(f.x0)
    rng = np.random.default_rng(seed + 7919)
    comparisons = []
    for _ in range(directions):
        v, u = rng.normal(size=n_w), rng.normal(size=n_b)
        along_w = np.concatenate([v, np.zeros(n_b)]) * scales
        along_b = np.concatenate([np.zeros(n_w), u]) * scales
        expected = np.array([along_w[:n_w] @ block @ along_b[n_w:]])
        natural = float(np.linalg.norm(block) * np.linalg.norm(along_w) *
                        np.linalg.norm(along_b))
        floor = _floor(natural, ROUNDOFF * (1 + scale) / HESSIAN_STEP**2, tolerance)
        numeric = _adaptive(lambda s, a=along_w, b=along_b: _second_derivative(f, a, b, s),
                            HESSIAN_STEP, floor)
        comparisons.append((expected, numeric, floor))
    return _errors(comparisons, notes)


def _as_jacobian(derivative: Result, derived: np.ndarray, n: int) -> np.ndarray:
    """The derived result as a (size F) x (size X) matrix."""
    if derivative.kind == "grad":
        return _vec(derived).reshape(1, n)
    return np.asarray(derived, dtype=float).reshape(-1, n)

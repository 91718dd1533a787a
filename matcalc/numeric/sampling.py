"""Random instances of a Program: arrays that honour the declared attributes and the domains.

Sizes are small and, where possible, different for different dimension symbols, so that a
transposed or mis-shaped result cannot pass a numeric check by accident.  Attributes decide how a
variable is drawn (``spd``: ``B @ B' / n + I / 2``, ``simplex``: a Dirichlet draw, ...).  Domains
are honoured in two ways: a variable that is the direct argument of ``log``/``sqrt``/``logdet``/
``inv`` is drawn positive or invertible (the operation's ``domain`` facet), and every draw is
evaluated and rejected when some function meets a value outside its domain or comes near where
its ``check`` facet says it is not differentiable (``relu`` at 0, ``maximum(a, b)`` at a = b,
``max`` at a tie, ``inv`` of a nearly singular matrix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..core.constants import is_whole
from ..core.ir import Node, walk
from ..core.labels import LABELS, MASK, classes
from ..core.program import Program
from ..core.registry import operation, view
from ..core.shapes import Dim, Kind
from ..errors import DomainError
from ..limits import check_entries, check_time
from .evaluate import Evaluation, given_sizes, prepare, to_user_layout

SIZE_POOL = (3, 4, 2, 5, 6, 7)
KINK_MARGIN = 1e-2  # |argument| of relu/step/sign/abs must exceed this (the checker's
# steps move arguments by about 1e-4)
CONDITION_LIMIT = 1e6  # the condition number an inverted matrix may have
MAX_TRIES = 200
RESIZE_EVERY = 25  # failed tries at one choice of sizes before choosing others

EIGENVALUE_GAP = 1e-2  # eigenvalues of eigvalsh / eigvecsh must be this far apart (relative)
# Where a scaled point must keep a function away from its limits: floating point loses what
# it computes there (a softmax entry that underflows to 0 makes log(x) infinite, 1 - s of a
# sigmoid at 1 is 0), and correct answers written in different ways would disagree.
SATURATION = 1e-6
_LOGS_OF_UNIT = frozenset({"log_softmax", "axis_log_softmax"})  # exp of them lies in (0, 1)
_LOG_PARTITIONS = frozenset({"logsumexp", "axis_logsumexp"})  # their gradient is a softmax
_EXP_RANGE = (1e-100, 1e100)


@dataclass
class Instance:
    """A random point: arrays in the user's layout, the dimension sizes, and the seed."""

    arrays: dict[str, object]
    sizes: dict[str, int]
    seed: int
    evaluation: Evaluation


def choose_sizes(program: Program, rng: np.random.Generator,
                 given: Mapping[str, int] | None = None) -> dict[str, int]:
    """A size for every dimension symbol: those given, else distinct small sizes."""
    compound = _compound_dims(program)
    for _ in range(MAX_TRIES):
        sizes = given_sizes(given)
        pool = [size for size in SIZE_POOL if size not in sizes.values()]
        rng.shuffle(pool)
        for symbol in program.dimensions:
            if symbol not in sizes:
                sizes[symbol] = pool.pop() if pool else int(rng.integers(2, 6))
        if all(d.value(sizes) >= 1 for d in compound):
            return sizes
    shown = ", ".join(str(d) for d in compound)
    raise DomainError(f"found no sizes for which every dimension ({shown}) is at least 1; "
                      "give sizes")


def _compound_dims(program: Program) -> list[Dim]:
    """The dimensions that are sums (``n - k + 1``), of the variables and of every expression
    of the problem: a choice of sizes may make one 0 or less."""
    nodes = list(program.variables.values())
    for definition in program.definitions.values():
        nodes.extend(walk(definition.body))
    found = {d for node in nodes for d in node.shape.dims if not d.is_monomial}
    return sorted(found, key=str)


def implied_attributes(program: Program) -> dict[str, set[str]]:
    """Attributes a variable needs because a function takes it directly (``log(x)``)."""
    implied: dict[str, set[str]] = {}
    domains = view("domain")
    roots = [d.body for d in program.definitions.values()] + [r.of for r in program.requests]
    for root in roots:
        check_time()
        for node in walk(root):
            # where the operation is defined (its domain facet, matcalc/ops); a power with an
            # exponent that is not whole needs a positive base
            wanted = "positive" if node.op == "pow" and not _integer_exponent(node) else \
                domains.get(node.op, "real")
            if wanted == "real":
                continue
            argument = node.args[0]
            while argument.op == "transpose":
                argument = argument.args[0]
            if argument.op == "var":
                implied.setdefault(argument.name, set()).add(wanted)
    return implied


def _integer_exponent(node: Node) -> bool:
    exponent = node.args[1]
    return exponent.op == "const" and is_whole(exponent.params[0])


Magnitude = tuple[float, float]  # the range of log10 of the factors entries are scaled by


def draw(node: Node, sizes: Mapping[str, int], rng: np.random.Generator,
         extra: set[str] = frozenset(), magnitude: Magnitude | None = None
         ) -> np.ndarray | float:
    """One random value for a variable, honouring its attributes (in the user's layout);
    with ``magnitude``, the unconstrained and positive entries are scaled entry by entry."""
    value = _drawn(node, sizes, rng, set(node.params[1]) | set(extra))
    if magnitude is None or not _scalable(node, extra):
        return value
    factors = 10.0 ** rng.uniform(*magnitude, size=np.shape(value))
    return float(value * factors) if node.kind is Kind.SCALAR else value * factors


_UNSCALED = frozenset({"pm1", "simplex", "spd", "symmetric", "invertible", "bounded",
                       "integer", LABELS, MASK})


def _scalable(node: Node, extra: set[str]) -> bool:
    """Whether a variable's draw may be scaled: unconstrained or only positive."""
    return not (set(node.params[1]) | set(extra)) & _UNSCALED


def _drawn(node: Node, sizes: Mapping[str, int], rng: np.random.Generator,
           attributes: set[str]) -> np.ndarray | float:
    rows, cols = node.shape.rows.value(sizes), node.shape.cols.value(sizes)
    check_time()
    check_entries(rows, cols, f"a random value of {node.params[0]}")
    if LABELS in attributes:  # class labels: integers in 0..k-1
        return rng.integers(0, classes(node).value(sizes),
                            size=rows if node.kind is Kind.VECTOR else (rows, cols))
    if MASK in attributes:  # 0s and 1s, a 1 in every row (a softmax of where(M, S, -inf));
        # a vector's softmax runs over all of it: one 1 in the vector, not in every entry
        mask = _mask(tuple(d.value(sizes) for d in node.shape.dims) if node.kind is Kind.TENSOR
                     else (1, rows) if node.kind is Kind.VECTOR else (rows, cols), rng,
                     "symmetric" in attributes)
        return mask if node.kind is Kind.TENSOR else to_user_layout(node.kind, mask)
    if node.kind is Kind.TENSOR:
        return _drawn_tensor(tuple(d.value(sizes) for d in node.shape.dims), rng, attributes)
    if "bounded" in attributes and not {"pm1", "simplex", "spd", "symmetric"} & attributes:
        value = rng.uniform(-1.0, 1.0, size=(rows, cols))  # |x| < 1 < pi / 2
        if "positive" in attributes:
            value = np.abs(value) + 0.01
        return float(value.reshape(())) if node.kind is Kind.SCALAR else \
            to_user_layout(node.kind, value)
    if node.kind is Kind.SCALAR:
        if "integer" in attributes:  # a matrix power's exponent: 1 to 4
            return float(rng.integers(1, 5))
        if "positive" in attributes or "invertible" in attributes:
            return float(np.exp(0.5 * rng.normal()))
        if "pm1" in attributes:
            return float(rng.choice([-1.0, 1.0]))
        return float(rng.normal())
    if "pm1" in attributes:
        value = rng.choice([-1.0, 1.0], size=(rows, cols))
    elif "simplex" in attributes:
        if node.kind is Kind.VECTOR:
            value = rng.dirichlet(np.ones(rows)).reshape(rows, 1)
        else:
            value = rng.dirichlet(np.ones(cols), size=rows)
    elif "spd" in attributes:  # with positive factors when the entries must be positive too
        b = np.exp(0.3 * rng.normal(size=(rows, rows))) if "positive" in attributes else \
            rng.normal(size=(rows, rows))
        value = b @ b.T / rows + 0.5 * np.eye(rows)
    elif "symmetric" in attributes:
        b = rng.normal(size=(rows, rows))
        value = (b + b.T) / 2
        if "invertible" in attributes:  # shifted to be positive definite: det > 0
            value += (0.5 - min(0.0, float(np.linalg.eigvalsh(value)[0]))) * np.eye(rows)
    elif {"lower", "upper"} & attributes:
        value = _triangular(rows, rng, "lower" in attributes)
    elif "invertible" in attributes:
        value = _well_conditioned(rows, rng, "positive" in attributes)
    elif "positive" in attributes:
        value = np.exp(0.5 * rng.normal(size=(rows, cols)))
    else:  # entries ~ N(0, 1/cols) keep products of large matrices of order one
        value = rng.normal(size=(rows, cols)) / np.sqrt(cols if node.kind is Kind.MATRIX else 1)
    if "positive" in attributes and not {"invertible", "spd", "lower", "upper"} & attributes:
        value = np.abs(value) + 0.1 * (value == 0)
    return to_user_layout(node.kind, value)


def _mask(dims: tuple[int, ...], rng: np.random.Generator, symmetric: bool) -> np.ndarray:
    """0s and 1s drawn evenly, with a 1 in every last-axis row (on the diagonal when
    symmetric); where the last axis has one entry, a 1 in every row of the axis before it
    (a column's rows are its entries: a 1 in each would make the mask all ones)."""
    if len(dims) >= 2 and dims[-1] == 1 and not symmetric:
        return _mask(dims[:-1], rng, False)[..., None]
    value = rng.integers(0, 2, size=dims).astype(float)
    if symmetric:
        value = np.triu(value) + np.triu(value, 1).T
        np.fill_diagonal(value, 1.0)
        return value
    rows = value.reshape(-1, dims[-1])
    rows[np.arange(rows.shape[0]), rng.integers(0, dims[-1], size=rows.shape[0])] = 1.0
    return value


def _drawn_tensor(dims: tuple[int, ...], rng: np.random.Generator,
                  attributes: set[str]) -> np.ndarray:
    """A random tensor: entries ~ N(0, 1/cols), positive ones log-normal, each last-axis row
    of a simplex one on the simplex, pm1 ones -1 or +1, bounded ones in (-1, 1)."""
    check_entries(int(np.prod(dims[:-1])), dims[-1], "a random tensor")
    if "simplex" in attributes:
        return rng.dirichlet(np.ones(dims[-1]), size=dims[:-1])
    if "pm1" in attributes:
        return rng.choice([-1.0, 1.0], size=dims)
    if "bounded" in attributes:
        value = rng.uniform(-1.0, 1.0, size=dims)
        return np.abs(value) + 0.01 if "positive" in attributes else value
    if "positive" in attributes:
        return np.exp(0.5 * rng.normal(size=dims))
    return rng.normal(size=dims) / np.sqrt(dims[-1])


def _triangular(n: int, rng: np.random.Generator, lower: bool) -> np.ndarray:
    """A lower (upper) triangular n x n matrix with its diagonal in [0.5, 1.5], as a Cholesky
    factor has: invertible, det > 0, and well conditioned (off-diagonal entries ~ N(0, 1/n))."""
    off = rng.normal(size=(n, n)) / np.sqrt(n)
    value = np.tril(off, -1) + np.diag(rng.uniform(0.5, 1.5, size=n))
    return value if lower else value.T


def _well_conditioned(n: int, rng: np.random.Generator, positive: bool) -> np.ndarray:
    """A random n x n matrix with singular values in [0.5, 2] and a positive determinant."""
    if positive:  # positive entries and diagonally dominant: det > 0, well conditioned
        return np.exp(0.3 * rng.normal(size=(n, n))) / n + np.eye(n)
    u, _ = np.linalg.qr(rng.normal(size=(n, n)))
    v, _ = np.linalg.qr(rng.normal(size=(n, n)))
    value = u @ np.diag(rng.uniform(0.5, 2.0, size=n)) @ v.T
    if np.linalg.det(value) < 0:
        value[:, 0] = -value[:, 0]
    return value


def random_instance(program: Program, seed: int | None = None,
                    sizes: Mapping[str, int] | None = None,
                    max_tries: int = MAX_TRIES, magnitude: Magnitude | None = None
                    ) -> Instance:
    """A random point where every definition of ``program`` is defined and smooth.

    Raises DomainError, naming the expression, when no such point turns up in ``max_tries``;
    sizes not given are chosen again every ``RESIZE_EVERY`` tries.  ``magnitude`` scales the
    entries (see the module's docstring).
    """
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    rng = np.random.default_rng(seed)
    margin = KINK_MARGIN * min(1.0, 10.0 ** magnitude[0]) if magnitude else KINK_MARGIN
    saturation = SATURATION if magnitude else None
    chosen = choose_sizes(program, rng, sizes)
    implied = implied_attributes(program)
    problem = ""
    for attempt in range(max_tries):
        if attempt and attempt % RESIZE_EVERY == 0:
            # no point at these sizes (log det(X' @ X) with X wider than tall): other sizes
            chosen = choose_sizes(program, rng, sizes)
        arrays = {name: draw(node, chosen, rng, implied.get(name, set()), magnitude)
                  for name, node in program.variables.items()}
        # the declared attributes are checked: a draw that violated one would be a bug here
        evaluation = prepare(program, arrays, chosen, check_attributes=True)
        problem = _first_problem(program, evaluation, margin, saturation)
        if not problem:
            return Instance(arrays, chosen, seed, evaluation)
    raise DomainError(f"found no suitable random point in {max_tries} tries (seed {seed}): "
                      f"{problem}; declare the variables involved positive, spd or invertible, "
                      "or give sizes for which it is defined")


def instance_again(program: Program, previous: Instance) -> Instance | None:
    """``previous``'s point for ``program`` (which has the same variables), or None when one of
    ``program``'s definitions is not defined and smooth there.  Checking several claims over one
    problem at the same points saves drawing large matrices again."""
    if previous.arrays.keys() != program.variables.keys():
        return None
    evaluation = prepare(program, previous.arrays, previous.sizes, check_attributes=False)
    if _first_problem(program, evaluation):
        return None
    return Instance(previous.arrays, previous.sizes, previous.seed, evaluation)


def _first_problem(program: Program, evaluation: Evaluation, margin: float = KINK_MARGIN,
                   saturation: float | None = None) -> str:
    """Why this point is unsuitable ('' when it is fine); with ``saturation``, a function
    that comes within it of its limits (or an ``exp`` outside 1e-100 to 1e100) is too."""
    try:
        roots = [d.ref for d in program.definitions.values()] + [r.of for r in program.requests]
        for root in roots:
            evaluation.value(root)
    except DomainError as error:
        return error.message
    bounds, checks = _bounds(), _checks()
    for node, value in evaluation.values.items():
        if saturation is not None and _saturated(node, value, bounds.get(node.op),
                                                 saturation, evaluation.values):
            return f"{node} comes within {saturation:g} of its limits"
        check = checks.get(node.op)
        if check and unsuitable_at(check, node, evaluation.values, margin):
            return why(check, node, margin)
    return ""


def unsuitable_at(check: str, node: Node, values: Mapping[Node, object],
                  margin: float = KINK_MARGIN) -> bool:
    """Whether ``node``'s arguments (their ``values``) are unsuitable for its ``check`` facet
    (:func:`unsuitable`); ``maximum(a, a)``, which is ``a``, has no kink."""
    if check == "kink" and len(node.args) == 2 and node.args[0] is node.args[1]:
        return False
    return unsuitable(check, [values[a] for a in node.args], axis_of(node), margin)


def why(check: str, node: Node, margin: float = KINK_MARGIN) -> str:
    """Why ``node``'s arguments are unsuitable for its ``check`` facet."""
    argument = node.args[0]
    if check == "kink" and len(node.args) == 2:
        return f"the arguments of {node} come within {margin:g} of each other"
    return _WHY[check].format(node=node, argument=argument, margin=margin)


def axis_of(node: Node) -> int | None:
    """The axis an operation runs along, where it has an ``axis`` parameter (None: it takes
    every entry)."""
    code = operation(node.op).code
    named = dict(zip(code.params, node.params, strict=False)) if code else {}
    return named.get("axis")


@cache
def _bounds() -> dict[str, tuple[float, ...]]:
    """The limits each operation's values approach (its ``bounds`` facet), where it has any."""
    return {name: limits for name, limits in view("bounds").items() if limits}


@cache
def _checks() -> dict[str, str]:
    """Where each operation's argument must not be (its ``check`` facet), where it says."""
    return {name: check for name, check in view("check").items() if check}


_WHY = {"conditioned": "the argument of {node} is nearly singular",
        "kink": "the argument of {node} comes within {margin:g} of the kink at 0",
        **dict.fromkeys(("largest tied", "smallest tied"),
                        "the extreme entries of {argument} come within {margin:g} of a tie"),
        "eigen gap": "the eigenvalues of {argument} are nearly repeated",
        **dict.fromkeys(("singular gap", "singular floor", "singular values"),
                        "the singular values of {argument} are nearly repeated or nearly 0")}


EDGES = ("kink", "largest tied", "smallest tied")  # checks of where a function has an edge


def unsuitable(check: str, arguments: Sequence, axis: int | None = None,
               margin: float = KINK_MARGIN) -> bool:
    """Whether an operation's ``arguments`` are too near where one with this ``check`` facet
    (core/registry.CHECKS) is not differentiable, or finite differences are poor; ``margin``:
    how near an edge (EDGES) may come, ``axis``: the one an extreme is taken along."""
    argument = arguments[0]
    if check == "kink":  # relu(x) at x = 0, maximum(a, b) at a = b
        apart = argument if len(arguments) == 1 else np.subtract(argument, arguments[1])
        return bool(np.min(np.abs(apart), initial=np.inf) <= margin)
    if check in ("largest tied", "smallest tied"):
        return _nearly_tied(argument, axis, check == "smallest tied", margin)
    if np.ndim(argument) < 2:
        return False
    if check == "conditioned":
        return bool(np.linalg.cond(argument) > CONDITION_LIMIT)
    if check == "eigen gap":
        return _nearly_repeated(argument)
    return _singular_values_close(check, argument)


def _nearly_tied(value, axis: int | None, smallest: bool, margin: float) -> bool:
    """Whether the largest (``smallest``) two entries of X, or of a line of X along ``axis``,
    lie within ``margin`` of each other: the arg-max would change under a small step, and
    finite differences would straddle the kink.  Entries -inf (+inf for the smallest) behind a
    mask never tie with the extreme value."""
    values = np.asarray(value, dtype=float)
    if smallest:
        values = -values
    if axis is not None and values.ndim:  # each row of lines is one reduction
        lines = np.moveaxis(values, axis, -1).reshape(-1, values.shape[axis])
    else:
        lines = values.reshape(1, -1)
    if lines.shape[1] < 2:
        return False
    top = np.sort(lines, axis=1)[:, -2:]
    return bool(np.any(np.isfinite(top[:, 1]) & (top[:, 1] - top[:, 0] <= margin)))


def _nearly_repeated(matrix: np.ndarray) -> bool:
    """Whether two eigenvalues of the symmetric part of ``matrix`` lie within
    ``EIGENVALUE_GAP`` of each other (relative to the largest): eigenvectors are not
    differentiable at repeated eigenvalues, and finite differences are poor near them."""
    if np.ndim(matrix) < 2:
        return False
    values = np.linalg.eigvalsh((matrix + matrix.T) / 2)
    scale = max(1.0, float(np.max(np.abs(values))))
    return values.size > 1 and float(np.min(np.diff(values))) < EIGENVALUE_GAP * scale


def _saturated(node: Node, value, limits: tuple[float, float] | None, saturation: float,
               values: Mapping[Node, object]) -> bool:
    """Whether ``value`` of ``node`` (whose values lie within ``limits``) comes within
    ``saturation`` of them (an exp leaves 1e-100 to 1e100; the softmax a logsumexp's gradient
    is, or exp of a log_softmax, comes within it of 0)."""
    op = node.op
    if op in _LOG_PARTITIONS:  # softmax(x) = exp(x - max(x)) / ... <= exp(x - max(x))
        argument = np.asarray(values[node.args[0]], dtype=float)
        axis = None if node.is_scalar else operation(op).code.fields(node, str)["axis"]
        gap = np.max(argument, axis=axis, keepdims=True) - argument
        return bool(np.any(gap >= -np.log(saturation)))
    if op == "exp":
        magnitude = np.abs(np.asarray(value, dtype=float))
        return bool(np.any(magnitude < _EXP_RANGE[0]) or np.any(magnitude > _EXP_RANGE[1]))
    if op in _LOGS_OF_UNIT:
        limits, value = (0.0, 1.0), np.exp(value)
    if limits is None:
        return False
    low, high = limits
    value = np.asarray(value, dtype=float)
    return bool(np.any(value - low <= saturation) or np.any(high - value <= saturation))


def _singular_values_close(check: str, matrix: np.ndarray) -> bool:
    """Whether the largest two singular values ("singular gap": norm_spec and its factors), the
    smallest and 0 ("singular floor": norm_nuc, polar), or any two or the smallest and 0
    ("singular values": svdvals and its factors) lie within ``EIGENVALUE_GAP`` of the largest:
    they are not differentiable there."""
    if np.ndim(matrix) < 2 or min(np.shape(matrix)) < 1:
        return False
    values = np.linalg.svd(matrix, compute_uv=False)
    gap = EIGENVALUE_GAP * max(float(values[0]), 1e-300)
    if check == "singular floor":
        return float(values[-1]) < gap
    if check == "singular values":
        return float(values[-1]) < gap or bool(np.any(-np.diff(values) < gap))
    return values.size > 1 and float(values[0] - values[1]) < gap

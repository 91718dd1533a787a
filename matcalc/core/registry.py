"""The operation registry: one record per operation of the language, holding every facet.

Each operation is defined once, in a module of :mod:`matcalc.ops`, as JAX declares a primitive
with its jvp, transpose, lowering and printer side by side.  The record holds:

- ``shape``: the shape rule ``(args, params) -> (shape, kind)``, raising ``ShapeError``;
- ``differential``, ``adjoints``, ``jacobian``: the derivative rules (the adjoints and the
  Jacobian derived from the differential unless given, :mod:`matcalc.ops.operation`);
- ``syntax``: how the text language writes it (:class:`Syntax`: a function's name, or an
  operator's symbol and binding strength), read by the parser and printed by the printer;
- ``latex``: how it is set in LaTeX and which commands the LaTeX reader reads as it
  (:class:`Latex`);
- ``code``: the NumPy, JAX and PyTorch templates and the runtime helpers they call
  (:class:`Code`); generated code and the interpreter both compute through them;
- ``sympy``: ``(s, node, *args) -> SymPy object`` with ``s`` the SymPy bridge
  (:mod:`matcalc.core.to_sympy`), so that nothing here imports SymPy;
- ``stable``: the numerically stable forms rooted at it (:class:`Stable`: a name and the shape
  of the expression, ``1 - sigmoid(t)``, ``log(1 + exp(t))``), which generated code and the
  interpreter compute without cancellation or overflow (:mod:`matcalc.core.stable_forms` finds
  them, ``codegen/stable.py`` writes them);
- ``scalar``: what it is on a scalar argument, as an identity (``det(a) = a``); the code's
  ``scalar`` template computes it;
- ``cost``: ``"cheap"``; ``"costly"``, worth computing once (in generated code's
  ``prepare()``) when it does not move; ``"structure"``, a matrix of structure that is never
  formed to be shared, its products using the structure (kron); or both
  (``"costly structure"``: Diag);
- ``tensors``: whether its shape rule, rules and code handle tensors (leading batch axes);
  an operation that does not say so refuses a tensor operand;
- ``domain``: where it is defined, as what its first argument must be (``"invertible"`` for
  inv and logdet, ``"spd"`` for chol, ...; ``"real"``: anywhere), read by random points;
- ``values``: what values it takes (``"unit"`` for softmax, ``"nonnegative"`` for a norm),
  read by the simplifier's facts;
- ``bounds``: the limits ``(lo, hi)`` its values approach without reaching them, where floating
  point saturates (tanh's (-1, 1); a ``"unit"`` operation's are (0, 1); ``()``: none), read by
  random points that keep a function away from them;
- ``check``: where its derivative is not differentiable, or finite differences are poor, so
  random points keep away (``"conditioned"``: its argument nearly singular, inv and logdet;
  ``"singular gap"``, ``"singular floor"``, ``"singular values"``: its argument's largest two,
  its smallest and 0, or any two singular values close; ``"eigen gap"``: two eigenvalues close;
  ``"kink"``: its argument near 0, or its two arguments near each other, relu and maximum;
  ``"largest tied"``, ``"smallest tied"``: its argument's two largest (smallest) entries close,
  all of them or along the operation's ``axis`` parameter, max and ismax);
- ``symmetry``: when its result is a symmetric matrix, for the simplifier's facts (``"arguments"``:
  when its arguments are, as ``S + T`` or ``exp(S)`` entry by entry; ``"scalars or arguments"``:
  when each argument is a number or symmetric, ``S / c``; ``"always"``: Diag).

The stages read views of this table (:func:`view`), never tables of their own.  The registry
loads every module of :mod:`matcalc.ops` the first time a stage asks for an operation, so
importing matcalc stays cheap and adding an operation is one new module there
(docs/architecture.md, "Where to add").
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

COSTS = ("cheap", "costly", "structure", "costly structure")
# where an operation is defined, as the attribute its first argument needs (random points draw
# it so, numeric/sampling.py): anywhere, positive entries, in (-1, 1) (tan away from its poles),
# an invertible, an spd or a symmetric matrix
DOMAINS = ("real", "positive", "bounded", "invertible", "spd", "symmetric")
# the values it takes (the simplifier's facts, rules/facts.py): any, positive, in (0, 1) (also
# positive), non-negative
VALUES = ("real", "positive", "unit", "nonnegative")
# where random points keep away from (numeric/sampling.py): nothing, a nearly singular argument,
# close singular values (the largest two; the smallest and 0; any two or the smallest and 0),
# close eigenvalues; an edge, where it is not differentiable: its argument 0 (its two arguments
# equal), its argument's largest (smallest) entries tied, along its axis if it has one
CHECKS = ("", "conditioned", "singular gap", "singular floor", "singular values", "eigen gap",
          "kink", "largest tied", "smallest tied")
# when the result is symmetric (rules/facts.py): not known, when its arguments are, when each is
# a number or symmetric, always
SYMMETRIES = ("", "arguments", "scalars or arguments", "always")
# binding strength of the text language's operators (higher binds tighter; grammar.lark)
SUM, FROB, PRODUCT, UNARY, POWER, POSTFIX, ATOM = range(1, 8)


@dataclass(frozen=True)
class Syntax:
    """How the text language reads and writes an operation: ``name(args)`` (``symbol`` empty)
    or the operator ``symbol`` binding with strength ``level``.  ``params`` holds a default for
    each whole-number parameter written after the operands (``tril(X, -1)``, ``max(X, 1)``):
    one equal to its default is left out, one whose default is None is always written."""

    name: str
    symbol: str = ""
    level: int = ATOM
    params: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Latex:
    """How an operation is set in LaTeX, one of: ``command`` (``\\det``) before the bracketed
    argument; ``infix`` between the operands (``\\otimes``, at the level of ``\\odot``); a
    delimited ``template`` of the arguments (``\\left\\|{0}\\right\\|_F``); a superscript
    ``power`` (``-1``); or ``special``: the operators whose setting depends on their operands
    (juxtaposed products, ``\\frac``, ``^\\top``) have a method of their own in
    ``present/latex.py``.  ``reads`` are the commands (without backslash) the LaTeX reader takes
    as this operation, ``infix_reads`` those it takes set between the operands though it is
    printed otherwise (``\\oslash``, a quotient)."""

    command: str = ""
    infix: str = ""
    template: str = ""
    power: str = ""
    special: bool = False
    reads: tuple[str, ...] = ()
    infix_reads: tuple[str, ...] = ()


# the steps of a stable form's shape besides an operation's name: 1 minus or plus an operand of
# the node's shape, an operand times itself or squared
STEPS = ("1 -", "1 +", "square")
_ROOT_STEP = {"sub": "1 -", "add": "1 +"}


@dataclass(frozen=True)
class Stable:
    """A numerically stable form rooted at an operation: the expression ``steps`` read from
    the root down, each step ``"1 -"`` / ``"1 +"`` (1 minus or plus an operand of the node's
    shape), ``"square"`` (an operand times itself, or to the power 2) or an operation's name
    (its first argument), the next step reading that operand's value (a reference followed to
    its body).  The last step is the function whose value would lose the digits; its argument
    is the form's.  ``("log", "1 +", "exp")`` is ``log(1 + exp(t))``; ``lines``: the form runs
    along the last function's line axis (``log(softmax(t))``), and a number has no form.
    ``name`` is the form's name, which the code's templates are keyed by."""

    name: str
    steps: tuple[str, ...]
    lines: bool = False


def line_axis(node: Any) -> int:
    """The axis a row-wise operation (softmax, logsumexp) runs along in ``node``: 0 for a vector
    (all of it), the last axis of a tensor, else 1 (each row of a matrix or row vector)."""
    return {"vector": 0, "tensor": len(node.shape.dims) - 1}.get(node.kind.value, 1)


@dataclass(frozen=True)
class Code:
    """Code templates: ``{0}``, ``{1}`` stand for the arguments' code, ``{axis}`` for the axis
    a row-wise operation runs along (0 for a vector argument, the last of a tensor, else 1),
    ``{keep}`` for whether its argument is a matrix, ``{cols}`` for the result's number of
    columns, the names in ``params`` for the node's parameters (a power, dimensions, einsum's
    spec), and ``{operands}`` for all the arguments joined by commas (einsum takes any number).
    ``numpy`` is also the interpreter's meaning; ``jax`` defaults to it (jax.numpy follows
    NumPy's API); ``torch`` calls PyTorch.  ``helpers`` are the runtime helpers the NumPy
    template calls (``codegen/runtime``); ``scalar`` is the code when an argument is a number,
    empty when the general template is right there too; ``tensor`` is the code (for every
    backend, through runtime helpers) when an argument is a tensor and the general template is
    wrong there (``X.T`` reverses every axis, a tensor's transpose swaps the last two)."""

    numpy: str
    torch: str
    jax: str = ""
    helpers: tuple[str, ...] = ()
    scalar: str = ""
    params: tuple[str, ...] = ()
    tensor: str = ""

    def template(self, backend: str, tensor: bool = False) -> str:
        """The template for ``backend`` ("numpy", "jax" or "torch"); ``tensor``: an argument
        is a tensor, where a ``tensor`` template (every backend's) replaces the others."""
        if tensor and self.tensor:
            return self.tensor
        if backend == "torch":
            return self.torch
        return self.jax or self.numpy if backend == "jax" else self.numpy

    def fields(self, node: Any, dim: Callable[[Any], object]) -> dict[str, object]:
        """The named fields of the templates for ``node``; ``dim`` writes a dimension (code
        text in generated code, its size in the interpreter)."""
        first = node.args[0] if node.args else node
        axis = line_axis(first)
        found: dict[str, object] = {"axis": axis, "keep": first.kind.value == "matrix"}
        if "cols" not in self.params and any("{cols}" in template for template in
                                             (self.numpy, self.torch, self.jax)):
            found["cols"] = dim(node.shape.cols)
        for name, value in zip(self.params, node.params, strict=True):
            found[name] = Quoted(value) if isinstance(value, str) else \
                value if isinstance(value, int) else dim(value)
        return found


class Quoted(str):
    """A text parameter (einsum's spec): the text itself where a function receives it (the
    interpreter), a string literal where a template writes it (``'ij,jk->ik'``)."""

    def __format__(self, format_spec: str) -> str:
        return repr(str(self))


@dataclass(frozen=True)
class Operation:
    """Every facet of one operation of the language (module docstring)."""

    name: str
    arity: int
    differential: Callable[..., Any]
    adjoints: tuple[Callable[..., Any], ...]
    jacobian: Callable[..., Any]
    shape: Callable[..., Any] | None = None
    syntax: Syntax | None = None
    latex: Latex | None = None
    code: Code | None = None
    sympy: Callable[..., Any] | None = None
    stable: tuple[Stable, ...] | None = None
    scalar: str | None = None
    cost: str | None = None
    tensors: bool = False
    domain: str = "real"  # where its first argument is drawn: one of DOMAINS
    values: str = "real"  # what values it takes: one of VALUES
    bounds: tuple[float, ...] = ()  # (lo, hi): limits its values approach; (0, 1) for "unit"
    check: str = ""  # where random points keep away from: one of CHECKS
    symmetry: str = ""  # when its result is symmetric: one of SYMMETRIES
    # the elementwise function (core/functions.py) it applies to the eigenvalues: a primary
    # matrix function, f(V Diag(l) inv(V)) = V Diag(f(l)) inv(V) (Higham 2008, def. 1.2);
    # expm's is "exp"
    spectral: str = ""
    module: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.bounds and self.values == "unit":
            object.__setattr__(self, "bounds", (0.0, 1.0))


FACETS = tuple(f.name for f in fields(Operation) if f.name != "module")

_OPERATIONS: dict[str, Operation] = {}
_STATE: list[str] = []  # "loading", then "loaded"
_LOCK = threading.RLock()


def register(operation: Operation) -> Operation:
    """Add ``operation`` to the registry (an operation is defined once)."""
    if operation.name in _OPERATIONS:
        raise ValueError(f"the operation {operation.name} is defined twice")
    if operation.cost is not None and operation.cost not in COSTS:
        raise ValueError(f"{operation.name}: the cost class is one of {COSTS}")
    if operation.domain not in DOMAINS or operation.values not in VALUES:
        raise ValueError(f"{operation.name}: the domain is one of {DOMAINS}, the values one of "
                         f"{VALUES}")
    if operation.check not in CHECKS or operation.symmetry not in SYMMETRIES:
        raise ValueError(f"{operation.name}: the check is one of {CHECKS}, the symmetry one of "
                         f"{SYMMETRIES}")
    for form in operation.stable or ():
        if not form.steps or form.steps[0] != _ROOT_STEP.get(operation.name, operation.name):
            raise ValueError(f"{operation.name}: the stable form {form.name} is not rooted here")
    bounds = operation.bounds
    if bounds and not (len(bounds) == 2 and bounds[0] < bounds[1]):
        raise ValueError(f"{operation.name}: bounds are (lo, hi) with lo < hi")
    _OPERATIONS[operation.name] = operation
    return operation


def load() -> None:
    """Import every module of matcalc.ops once: each registers its operations."""
    if _STATE and _STATE[-1] == "loaded":
        return
    with _LOCK:
        if _STATE:  # loaded by another thread, or being loaded by this one
            return
        _STATE.append("loading")
        package = importlib.import_module("matcalc.ops")
        for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
            importlib.import_module(f"matcalc.ops.{module}")
        _STATE.append("loaded")


def operations() -> dict[str, Operation]:
    """Every operation, by name."""
    load()
    return _OPERATIONS


def operation(name: str) -> Operation:
    """The operation ``name`` (KeyError for a name that is no operation)."""
    found = _OPERATIONS.get(name)
    if found is None:
        load()
        found = _OPERATIONS[name]
    return found


def known(name: str) -> Operation | None:
    """The operation ``name``, or None while the registry is still loading it (for
    :func:`matcalc.ops.operation.define`, which derives rules from operations defined so far)."""
    return _OPERATIONS.get(name)


def view(facet: str) -> dict[str, Any]:
    """One facet of every operation that has it, by operation name."""
    if facet not in FACETS:
        raise ValueError(f"no facet {facet!r}; the facets are {', '.join(FACETS)}")
    return {name: getattr(op, facet) for name, op in operations().items()
            if getattr(op, facet) is not None}

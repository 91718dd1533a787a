"""Evaluate a Program with NumPy.

Arrays come in as the user holds them (a vector is a 1-D array, a scalar a float or 0-d array);
dimension sizes are read off the arrays and checked against the declarations.  Inside, every
non-scalar value is a 2-D array (a vector is n x 1) and every scalar a float; results go back out
in the user's layout.  Every operation is computed by its NumPy template (numeric/operations.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..codegen.module import compiled as generated_function
from ..codegen.names import sizes_keyword
from ..core.ir import Node
from ..core.labels import classes, describe_labels, is_labels
from ..core.program import Program
from ..core.shapes import Dim, Kind
from ..core.stable_forms import StableForm, names_read, stable_form
from ..engine.result import Result, result_keys
from ..errors import AssumptionError, DomainError, ShapeError, UnknownNameError, did_you_mean
from ..limits import check_entries, check_time
from .operations import commutation_matrix, evaluate_operation, evaluate_stable


def leaf_value(node: Node, variables: Mapping[str, object], sizes: Mapping[str, int]):
    """The value of a leaf that is not a reference."""
    op = node.op
    if op == "var":
        return variables[node.params[0]]
    if op == "const":
        return node.params[0]
    if op == "dimval":
        return float(node.params[0].value(sizes))
    if op == "identity":
        return np.eye(node.shape.rows.value(sizes))
    if op in ("ones", "zeros"):
        dims = tuple(d.value(sizes) for d in node.shape.dims)
        return np.ones(dims) if op == "ones" else np.zeros(dims)
    if op == "commutation":
        m, n = (d.value(sizes) for d in node.params)
        return commutation_matrix(m, n)
    raise AssertionError(f"no leaf value for {op}")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# Evaluation of nodes and programs.


@dataclass
class Evaluation:
    """Values of the nodes evaluated so far, in the internal (2-D) layout."""

    program: Program
    variables: dict[str, object]
    sizes: dict[str, int]
    values: dict[Node, object]
    # the references whose values were moved off their definitions' (the checker moves one
    # to differentiate by it: :meth:`move`); every other value in ``values`` is its node's own,
    # and a stable form looks through every reference but these
    moved: set[Node] = field(default_factory=set)
    # applied to each operation's result as it is computed, with the node and its arguments'
    # values (None: nothing): a grader rounds every result once more to see whether the value
    # survives rounding (grading/samples.py)
    rounding: Callable[[Node, object, list], object] | None = None
    positions: dict[str, int] = field(default_factory=dict, repr=False)  # definitions' order

    def value(self, node: Node):
        """The value of ``node`` (a node of this program: definitions are followed by name).
        A definition only a stable form looks through is not computed (``e = exp(t)`` under
        ``log(1 + e)``: its value may overflow where the form's does not)."""
        definitions = self.program.definitions
        reached = names_read(node, self._body_of, lambda item: item in self.values)
        for name in self._in_program_order(reached):
            ref = definitions[name].ref
            if ref not in self.values:
                self.values[ref] = self._compute(definitions[name].body)
        return self._compute(node)

    def _in_program_order(self, names: set[str]) -> list[str]:
        """``names`` in the program's order, by positions found once (going through every
        definition for each root made a chain of 60,000 definitions take minutes)."""
        if len(self.positions) != len(self.program.definitions):
            self.positions = {name: i for i, name in enumerate(self.program.definitions)}
        return sorted(names, key=self.positions.__getitem__)

    def move(self, ref: Node, value) -> None:
        """Give the definition ``ref`` names the value ``value`` in place of its own (internal
        layout): what uses it is computed from that value, and no stable form looks past it."""
        self.values[ref] = value
        self.moved.add(ref)

    def _body_of(self, name: str) -> Node | None:
        """A definition's body, for a stable form to look through its name; None for a name
        whose value was moved."""
        definition = self.program.definitions.get(name)
        return None if definition is None or definition.ref in self.moved else definition.body

    def _compute(self, node: Node):
        forms: dict[Node, StableForm | None] = {}
        for item in self._order(node, forms):
            check_time()
            if not item.is_scalar:
                check_entries(_entries(item.shape.dims[:-1], self.sizes),
                              item.shape.cols.value(self.sizes), f"the value of {_short(item)}")
            form = forms.get(item)
            if form is not None:  # computed without cancellation or overflow
                arguments = [self.values[form.argument]]
                with np.errstate(all="ignore"):
                    result = evaluate_stable(form.kind, arguments[0], form.axis)
                self.values[item] = self._rounded(item, _checked(item, result, arguments),
                                                  arguments)
            elif item.args:
                arguments = [self.values[arg] for arg in item.args]
                with np.errstate(all="ignore"):
                    try:
                        result = evaluate_operation(item, self.sizes, arguments)
                    except ZeroDivisionError:  # Python numbers: 1.0 / 0.0 raises
                        raise DomainError(f"{_short(item)} divides by zero here") from None
                self.values[item] = self._rounded(item, _checked(item, result, arguments),
                                                  arguments)
            else:
                self.values[item] = leaf_value(item, self.variables, self.sizes)
        return self.values[node]

    def _rounded(self, node: Node, value, arguments: list):
        return value if self.rounding is None else self.rounding(node, value, arguments)

    def _order(self, root: Node, forms: dict[Node, StableForm | None]) -> list[Node]:
        """The nodes under ``root`` not yet evaluated, each after what it is computed from: a
        node with a stable form is computed from that form's argument alone (log(1 + exp(t))
        never evaluates exp(t), which overflows where the whole does not)."""
        order: list[Node] = []
        seen: set[Node] = set()
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            item, ready = stack.pop()
            if item in seen or item in self.values:
                continue
            if ready:
                seen.add(item)
                order.append(item)
                continue
            if item not in forms:
                forms[item] = stable_form(item, self._body_of)
            form = forms[item]
            stack.append((item, True))
            inputs = (form.argument,) if form is not None else item.args
            stack.extend((arg, False) for arg in reversed(inputs)
                         if arg not in seen and arg not in self.values)
        return order


def _entries(dims, sizes: Mapping[str, int]) -> int:
    """The product of the sizes of ``dims``."""
    return int(np.prod([d.value(sizes) for d in dims], dtype=np.int64))


def _checked(node: Node, result, arguments):
    """The result in the internal layout; DomainError when it is not finite but its inputs are."""
    if node.kind is Kind.SCALAR:
        result = float(np.reshape(result, ()))
    else:
        result = np.asarray(result, dtype=float)
    if not np.all(np.isfinite(result)) and all(np.all(np.isfinite(a)) for a in arguments):
        if _overflows(node, result, arguments):
            raise Overflow(f"{_short(node)} is not finite here: its value overflows (it is "
                           "finite, but too large for floating point)")
        raise DomainError(f"{_short(node)} is not finite here: an argument is outside the "
                          f"domain of {node.op}, or the value overflows")
    if np.any(np.isnan(result)):  # from infinities: a softmax of a line masked entirely
        raise DomainError(f"{_short(node)} is NaN here (an infinity met another, as in a "
                          f"softmax of a line whose every entry a mask hides)")
    return result


class Overflow(DomainError):
    """A value that is finite but beyond floating point's range (exp(1000), 1e200 * 1e200)."""


# operations whose value is finite wherever their arguments are: an infinity is an overflow
_NO_POLES = frozenset({"add", "sub", "mul", "matmul", "kron", "neg", "exp", "expm1", "sum",
                       "mean", "tr", "frob", "norm", "norm2", "Diag", "diag", "vec", "unvec",
                       "hcat", "vcat", "transpose", "sym", "logsumexp", "softplus"})


def _overflows(node: Node, result, arguments) -> bool:
    """Whether the infinities of ``result`` are overflows (no NaN, and no argument at a pole:
    a division by a number that is not 0, a power of a base that is not 0)."""
    if np.any(np.isnan(result)):
        return False
    if node.op in _NO_POLES:
        return True
    if node.op in ("div", "pow") and len(arguments) == 2:
        pole = arguments[1] if node.op == "div" else arguments[0]
        return bool(np.all(np.asarray(pole) != 0))
    return False


def _short(node: Node) -> str:
    text = str(node)
    return text if len(text) <= 60 else text[:57] + "..."


def to_user_layout(node_kind: Kind, value):
    """A value in the layout users hold: vectors 1-D, scalars float, matrices 2-D."""
    if node_kind is Kind.SCALAR:
        return float(value)
    if node_kind is Kind.VECTOR:
        return np.asarray(value).reshape(-1)
    return np.asarray(value)


def prepare(program: Program, arrays: Mapping[str, object], sizes: Mapping[str, int] | None = None,
            check_attributes: bool = True) -> Evaluation:
    """Check the arrays against the declarations and start an evaluation of ``program``."""
    unknown = [name for name in arrays if name not in program.variables]
    if unknown:
        name = unknown[0]
        raise UnknownNameError(f"'{name}' is not a variable of the problem"
                               f"{did_you_mean(name, program.variables)}")
    missing = [name for name in program.variables if name not in arrays]
    if missing:
        raise UnknownNameError(f"no value given for {', '.join(missing)}")
    bound = given_sizes(sizes)
    sources: dict[str, str] = {}
    variables = {}
    compound: list[tuple[str, Node, Dim, int]] = []
    for name, node in program.variables.items():
        array = internal_array(name, node, arrays[name])
        shape = array.shape if node.kind is not Kind.SCALAR else (1, 1)
        for d, size in zip(node.shape.dims, shape, strict=True):
            if d.is_number or d.is_symbol:
                _bind_dim(name, node, d, size, bound, sources)
            else:
                compound.append((name, node, d, size))
        if check_attributes:
            check_attributes_of(name, node, array)
        variables[name] = float(array) if node.kind is Kind.SCALAR else array
    _bind_compound(compound, bound, sources)
    for name, node in program.variables.items():
        if is_labels(node):
            _check_labels(name, node, variables[name], bound)
    return Evaluation(program, variables, bound, {})


def given_sizes(sizes: Mapping[str, int] | None) -> dict[str, int]:
    """The sizes given for dimension symbols, each a whole number >= 0 (the shape rules count on
    it: ``matrix(n + k, n)`` is never wider than tall)."""
    for symbol, size in (sizes or {}).items():
        whole = isinstance(size, (int, np.integer, float, np.floating)) and \
            not isinstance(size, bool) and float(size).is_integer()
        if not whole or size < 0:
            raise ShapeError(f"the size of {symbol} must be a whole number >= 0, not {size!r}")
    return {symbol: int(size) for symbol, size in (sizes or {}).items()}


def _check_labels(name: str, node: Node, array: np.ndarray, bound: dict[str, int]) -> None:
    """Labels are whole numbers in 0..k-1; k is read off another variable or the sizes given."""
    k = classes(node)
    if not k.is_number and k.symbols[0] not in bound:
        raise ShapeError(f"'{name}' is declared {describe_labels(node)}, but no variable or "
                         f"size gives {k}: pass sizes={{'{k}': ...}}")
    count = k.value(bound)
    if array.size and (np.any(array != np.round(array)) or np.min(array) < 0
                       or np.max(array) >= count):
        raise AssumptionError(f"the value of '{name}' must hold whole numbers from 0 to "
                              f"{k} - 1 = {count - 1} (class labels)")


def _bind_compound(compound: list[tuple[str, Node, Dim, int]], bound: dict[str, int],
                   sources: dict[str, str]) -> None:
    """Check the dimensions that are sums or products (``n - k + 1``, ``m*p``) against the
    sizes the plain ones gave; one unknown symbol standing alone in a sum (n of ``n - k + 1``)
    is solved for."""
    pending = list(compound)
    while pending:
        progress = False
        for item in list(pending):
            name, node, d, size = item
            unknown = [symbol for symbol in d.symbols if symbol not in bound]
            if not unknown:
                if d.value(bound) != size:
                    known = ", ".join(f"{s} = {bound[s]}" for s in d.symbols)
                    raise ShapeError(f"'{name}' is declared {_declaration(node)}, but its value "
                                     f"has {size} where {d} = {d.value(bound)} ({known})")
                pending.remove(item)
                progress = True
                continue
            solved = _solved(d, size, unknown, bound)
            if solved is not None:
                bound[unknown[0]] = solved
                sources.setdefault(unknown[0], f"'{name}'")
                progress = True
        if not progress:
            name, node, d, _ = pending[0]
            missing = sorted({s for _, _, d2, _ in pending for s in d2.symbols} - set(bound))
            raise ShapeError(f"the size of {', '.join(missing)} cannot be told from '{name}' "
                             f"({_declaration(node)}) alone; give sizes={{...}}")


def _solved(d: Dim, size: int, unknown: list[str], bound: dict[str, int]) -> int | None:
    """The one unknown symbol of ``d = size`` when it stands alone in a term, else None."""
    isolated = d.isolated(unknown[0]) if len(unknown) == 1 else None
    if isolated is None:
        return None
    coefficient, rest = isolated
    remainder = size - rest.value(bound)
    if remainder % coefficient or remainder // coefficient < 1:
        return None
    return remainder // coefficient


def internal_array(name: str, node: Node, value) -> np.ndarray:
    """A value in the internal layout (vectors as columns), checked against its declaration."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ShapeError(f"the value of '{name}' is not an array of numbers") from None
    if not np.all(np.isfinite(array)):
        raise DomainError(f"the value of '{name}' contains NaN or infinity")
    if node.kind is Kind.SCALAR:
        if array.size != 1:
            raise ShapeError(f"'{name}' is a scalar, but its value has shape {array.shape}")
        return array.reshape(())
    if node.kind is Kind.VECTOR:
        if array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1):
            return array.reshape(-1, 1)
        raise ShapeError(f"'{name}' is a vector, but its value has shape {array.shape}")
    if array.ndim != len(node.shape.dims):
        raise ShapeError(f"'{name}' is a {_declaration(node)}, but its value has shape "
                         f"{array.shape}")
    return array


def _bind_dim(name: str, node: Node, d: Dim, size: int, bound: dict[str, int],
              sources: dict[str, str]) -> None:
    if d.is_number:
        if d.coefficient != size:
            raise ShapeError(f"'{name}' is declared {_declaration(node)}, but its value has "
                             f"{size} where {d} is required")
        return
    symbol = d.symbols[0]
    if symbol in bound and bound[symbol] != size:
        source = sources.get(symbol, "the sizes given")
        raise ShapeError(f"'{name}' is declared {_declaration(node)}, so {symbol} = {size}, "
                         f"but {source} gives {symbol} = {bound[symbol]}")
    bound.setdefault(symbol, size)
    sources.setdefault(symbol, f"'{name}'")


def _declaration(node: Node) -> str:
    from ..core.shapes import describe

    return describe(node.kind, node.shape)


def check_attributes_of(name: str, node: Node, array: np.ndarray) -> None:
    """Raise AssumptionError when ``array`` violates the declared attributes of ``name``."""
    attributes = node.params[1]
    scale = max(1.0, float(np.max(np.abs(array)))) if array.size else 1.0
    tolerance = 1e-8 * scale
    problems = []
    if {"symmetric", "spd"} & attributes and not np.allclose(array, array.T, atol=tolerance):
        problems.append("is not symmetric")
    if "spd" in attributes and not problems:
        try:
            np.linalg.cholesky(array)
        except np.linalg.LinAlgError:
            problems.append("is not positive definite")
    if "positive" in attributes and not np.all(array > 0):
        problems.append("has entries that are not positive")
    if "pm1" in attributes and not np.all(np.abs(np.abs(array) - 1) <= tolerance):
        problems.append("has entries other than -1 and +1")
    if "mask" in attributes and not np.all((array == 0) | (array == 1)):
        problems.append("has entries other than 0 and 1 (it is a mask)")
    if "simplex" in attributes:
        axis = 0 if node.kind is Kind.VECTOR else -1
        if np.any(array < -tolerance) or not np.allclose(array.sum(axis=axis), 1, atol=1e-8):
            where = "its entries" if node.kind is Kind.VECTOR else "each row's entries"
            problems.append(f"is not on the simplex ({where} must be >= 0 and sum to 1)")
    if "lower" in attributes and not np.allclose(np.triu(array, 1), 0, atol=tolerance):
        problems.append("is not lower triangular")
    if "upper" in attributes and not np.allclose(np.tril(array, -1), 0, atol=tolerance):
        problems.append("is not upper triangular")
    if "invertible" in attributes:
        sign, _ = np.linalg.slogdet(array)
        if sign <= 0 or np.linalg.cond(array) > 1e12:
            problems.append("is not invertible with a positive determinant")
    if problems:
        raise AssumptionError(f"the value of '{name}' {' and '.join(problems)}")


def evaluate(program: Program, target: str | Node | None = None,
             arrays: Mapping[str, object] | None = None, *, sizes: Mapping[str, int] | None = None,
             check_attributes: bool = True, **named_arrays):
    """The value of a definition (by name; default the last) or an expression node.

    Arrays are given as a mapping or as keywords: ``evaluate(p, "J", x=..., W=...)``.
    """
    values = dict(arrays or {}, **named_arrays)
    evaluation = prepare(program, values, sizes, check_attributes)
    node = resolve_target(program, target)
    return to_user_layout(node.kind, evaluation.value(node))


def resolve_target(program: Program, target: str | Node | None) -> Node:
    """The node a target names: a definition or variable name, a node, or the last definition."""
    if isinstance(target, Node):
        return target
    if target is None:
        last = program.last_definition
        if last is None:
            raise UnknownNameError("the problem has no definitions to evaluate")
        return last.body
    if target in program.definitions:
        return program.definitions[target].body
    return program.lookup(target)


def evaluator(results: Sequence[Result]) -> Callable[..., dict[object, object]]:
    """The interpreter's counterpart of generated code: ``f(sizes=None, **arrays)`` returning
    each result (in the user's layout) under its key (:func:`~matcalc.engine.result.result_keys`;
    ``f.keys`` lists them)."""
    programs: dict[int, Program] = {}
    for result in results:
        key = id(result.derivation)
        if key not in programs:
            programs[key] = result.program.extended(result.derivation.where)
    keys = result_keys(results)
    sizes_key = sizes_keyword(results[0].program.variables) if results else "sizes"

    def evaluate_results(**arrays) -> dict[object, object]:
        sizes = arrays.pop(sizes_key, None)
        evaluations = {key: prepare(program, arrays, sizes, check_attributes=False)
                       for key, program in programs.items()}
        return {key: to_user_layout(result.result.kind,
                                    evaluations[id(result.derivation)].value(result.result))
                for key, result in zip(keys, results, strict=True)}

    evaluate_results.keys = keys  # type: ignore[attr-defined]
    return evaluate_results


def callable_results(results: Sequence[Result], compiled: bool = True, keyed: bool = True
                     ) -> Callable[..., object]:
    """A function of keyword arrays returning the results: generated code (``compiled``) or
    this interpreter; keyed as :func:`evaluator` says, or (``keyed=False``) the only result
    itself."""
    function = generated_function(list(results)) if compiled and results else \
        evaluator(results)
    if keyed:
        return function
    (key,) = function.keys
    return lambda **arrays: function(**arrays)[key]

"""Evaluate a Program with NumPy.

Arrays come in as the user holds them (a vector is a 1-D array, a scalar a float or 0-d array);
dimension sizes are read off the arrays and checked against the declarations.  Inside, every
non-scalar value is a 2-D array (a vector is n x 1) and every scalar a float; results go back out
in the user's layout.  One table, ``EVALUATORS``, holds the NumPy meaning of every operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..codegen.names import sizes_keyword
from ..codegen.runtime import numpy_helpers
from ..core.functions import FUNCTIONS, Function
from ..core.ir import Node, walk
from ..core.program import Program
from ..core.shapes import Dim, Kind
from ..engine.result import Result, result_keys
from ..errors import AssumptionError, DomainError, ShapeError, UnknownNameError, did_you_mean
from ..limits import check_entries, check_time

# ---------------------------------------------------------------------------------------------
# The NumPy meaning of each operation; arguments and results are 2-D arrays or floats.


def _softmax(node: Node, x):
    if node.kind is Kind.SCALAR:
        return 1.0
    axis = 0 if node.kind is Kind.VECTOR else 1
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _logsumexp(node: Node, x):
    if np.ndim(x) == 0:
        return x
    arg_kind = node.args[0].kind
    axis = 0 if arg_kind is Kind.VECTOR else 1
    top = np.max(x, axis=axis, keepdims=True)
    result = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
    return result if arg_kind is Kind.MATRIX else result.reshape(())


def _logdet(x):
    if np.ndim(x) == 0:
        return np.log(x) if x > 0 else np.nan
    sign, value = np.linalg.slogdet(x)
    return value if sign > 0 else np.nan


def _inverse(x):
    if np.ndim(x) == 0:
        return 1.0 / x if x != 0 else np.nan
    if np.linalg.cond(x) > 1e14:
        return np.full_like(x, np.nan)
    return np.linalg.inv(x)


def _matmul(a, b):
    return a * b if np.ndim(a) == 0 or np.ndim(b) == 0 else a @ b


def _diag_matrix(x):
    return x if np.ndim(x) == 0 else np.diag(np.ravel(x))


def _vec(x):
    return x if np.ndim(x) == 0 else np.reshape(x, (-1, 1), order="F")


def _commutation(m: int, n: int) -> np.ndarray:
    """K with K @ vec(A) = vec(A') for A m x n (Magnus & Neudecker, ch. 3 sec. 7)."""
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0
    return k


def _power(base, exponent):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.power(base, exponent)


EVALUATORS: dict[str, Callable] = {
    "add": lambda node, a, b: a + b,
    "sub": lambda node, a, b: a - b,
    "mul": lambda node, a, b: a * b,
    "div": lambda node, a, b: a / b,
    "matmul": lambda node, a, b: _matmul(a, b),
    "frob": lambda node, a, b: np.sum(a * b),
    "neg": lambda node, a: -a,
    "transpose": lambda node, a: np.transpose(a),
    "pow": lambda node, a, b: _power(a, b),
    "mpow": lambda node, a: np.linalg.matrix_power(a, node.params[0]),
    "mpowk": lambda node, a, k: np.linalg.matrix_power(a, _whole(k)),
    "trpowk": lambda node, a, k: np.trace(np.linalg.matrix_power(a, _whole(k))),
    "softmax": lambda node, a: _softmax(node, a),
    "logsumexp": lambda node, a: _logsumexp(node, a),
    "sum": lambda node, a: np.sum(a),
    "mean": lambda node, a: np.mean(a),
    "tr": lambda node, a: np.trace(a) if np.ndim(a) else a,
    "det": lambda node, a: np.linalg.det(a) if np.ndim(a) else a,
    "logdet": lambda node, a: _logdet(a),
    "inv": lambda node, a: _inverse(a),
    "norm2": lambda node, a: np.linalg.norm(a),
    "norm": lambda node, a: np.linalg.norm(a),
    "Diag": lambda node, a: _diag_matrix(a),
    "diag": lambda node, a: np.diag(a).reshape(-1, 1) if np.ndim(a) else a,
    "vec": lambda node, a: _vec(a),
    "kron": lambda node, a, b: np.kron(a, b),
    "hcat": lambda node, a, b: np.concatenate((np.atleast_2d(a), np.atleast_2d(b)), axis=1),
    "vcat": lambda node, a, b: np.concatenate((np.atleast_2d(a), np.atleast_2d(b)), axis=0),
    "conv1d": lambda node, a, b: _by_columns(np.correlate, a, b, "valid"),
    "convolve": lambda node, a, b: _by_columns(np.convolve, a, b, "full"),
    "maximum": lambda node, a, b: np.maximum(a, b),
    "minimum": lambda node, a, b: np.minimum(a, b),
}


def _whole(value) -> int:
    """An integer exponent's value (a declared integer holds a whole number)."""
    number = float(value)
    if number != round(number):
        raise DomainError(f"a matrix power's exponent must be a whole number, not {number}")
    return int(round(number))


def _by_columns(function, a, b, mode: str):
    """NumPy's 1-D ``function`` column by column (a one-column operand pairs with each)."""
    columns = max(a.shape[1], b.shape[1])
    return np.column_stack([function(a[:, min(i, a.shape[1] - 1)], b[:, min(i, b.shape[1] - 1)],
                                     mode) for i in range(columns)])


def _unvec(node: Node, sizes: Mapping[str, int], a):
    if np.ndim(a) == 0:
        return a
    return np.reshape(a, (node.shape.rows.value(sizes), -1), order="F")


# Operations whose value depends on the dimension sizes too: (node, sizes, *args) -> value.
SIZED_EVALUATORS: dict[str, Callable] = {"unvec": _unvec}


def _elementwise(function: Function) -> Callable:
    """The NumPy function of an elementwise function's row: ``np.<name>`` or a helper of the
    generated code's runtime (the same code generated modules run)."""
    if function.numpy.startswith("np."):
        compute = getattr(np, function.numpy[3:])
    else:
        compute = getattr(numpy_helpers, function.numpy)
    return lambda node, a: compute(a)


EVALUATORS.update({name: _elementwise(function) for name, function in FUNCTIONS.items()})


def leaf_value(node: Node, variables: Mapping[str, object], sizes: Mapping[str, int]):
    """The value of a leaf that is not a reference."""
    op = node.op
    if op == "var":
        return variables[node.params[0]]
    if op == "const":
        return node.params[0]
    if op == "dimval":
        return float(node.params[0].value(sizes))
    rows, cols = (node.shape.rows.value(sizes), node.shape.cols.value(sizes))
    if op == "identity":
        return np.eye(rows)
    if op == "ones":
        return np.ones((rows, cols))
    if op == "zeros":
        return np.zeros((rows, cols))
    if op == "commutation":
        m, n = (d.value(sizes) for d in node.params)
        return _commutation(m, n)
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

    def value(self, node: Node):
        """The value of ``node`` (a node of this program: definitions are followed by name)."""
        definitions = self.program.definitions
        for name in self.program.needed_definitions(node):
            ref = definitions[name].ref
            if ref not in self.values:
                self.values[ref] = self._compute(definitions[name].body)
        return self._compute(node)

    def _compute(self, node: Node):
        for item in walk(node):
            if item in self.values:
                continue
            check_time()
            if not item.is_scalar:
                check_entries(item.shape.rows.value(self.sizes), item.shape.cols.value(self.sizes),
                              f"the value of {_short(item)}")
            if item.op in EVALUATORS or item.op in SIZED_EVALUATORS:
                arguments = [self.values[arg] for arg in item.args]
                with np.errstate(all="ignore"):
                    if item.op in SIZED_EVALUATORS:
                        result = SIZED_EVALUATORS[item.op](item, self.sizes, *arguments)
                    else:
                        result = EVALUATORS[item.op](item, *arguments)
                self.values[item] = _checked(item, result, arguments)
            else:
                self.values[item] = leaf_value(item, self.variables, self.sizes)
        return self.values[node]


def _checked(node: Node, result, arguments):
    """The result in the internal layout; DomainError when it is not finite but its inputs are."""
    if node.kind is Kind.SCALAR:
        result = float(np.reshape(result, ()))
    else:
        result = np.asarray(result, dtype=float)
    if not np.all(np.isfinite(result)) and all(np.all(np.isfinite(a)) for a in arguments):
        raise DomainError(f"{_short(node)} is not finite here: an argument is outside the "
                          f"domain of {node.op}, or the value overflows")
    return result


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
    bound = dict(sizes or {})
    sources: dict[str, str] = {}
    variables = {}
    compound: list[tuple[str, Node, Dim, int]] = []
    for name, node in program.variables.items():
        array = internal_array(name, node, arrays[name])
        shape = array.shape if node.kind is not Kind.SCALAR else (1, 1)
        for d, size in zip((node.shape.rows, node.shape.cols), shape, strict=True):
            if d.is_number or d.is_symbol:
                _bind_dim(name, node, d, size, bound, sources)
            else:
                compound.append((name, node, d, size))
        if check_attributes:
            check_attributes_of(name, node, array)
        variables[name] = float(array) if node.kind is Kind.SCALAR else array
    _bind_compound(compound, bound, sources)
    return Evaluation(program, variables, bound, {})


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
    if array.ndim != 2:
        raise ShapeError(f"'{name}' is a matrix, but its value has shape {array.shape}")
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
    if "simplex" in attributes:
        axis = 0 if node.kind is Kind.VECTOR else 1
        if np.any(array < -tolerance) or not np.allclose(array.sum(axis=axis), 1, atol=1e-8):
            where = "its entries" if node.kind is Kind.VECTOR else "each row's entries"
            problems.append(f"is not on the simplex ({where} must be >= 0 and sum to 1)")
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

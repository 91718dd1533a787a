"""The NumPy meaning of every operation, elementwise function and stable form.

Arguments and results are 2-D arrays (a vector is n x 1) or floats, the interpreter's internal
layout (numeric/evaluate.py).  ``EVALUATORS`` maps an operation to ``f(node, *argument_values)``,
``SIZED_EVALUATORS`` those that also need the dimension sizes, ``STABLE_EVALUATORS`` each stable
form of codegen/stable.py to ``f(argument_value, axis)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..codegen.backends import backend_header
from ..codegen.module import load
from ..codegen.runtime import numpy_helpers
from ..core.functions import FUNCTIONS, Function
from ..core.ir import Node
from ..core.registry import operation, view
from ..core.shapes import Kind
from ..errors import DomainError


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


def _matmul(a, b):
    return a * b if np.ndim(a) == 0 or np.ndim(b) == 0 else a @ b


def _diag_matrix(x):
    return x if np.ndim(x) == 0 else np.diag(np.ravel(x))


def _vec(x):
    return x if np.ndim(x) == 0 else np.reshape(x, (-1, 1), order="F")


def commutation_matrix(m: int, n: int) -> np.ndarray:
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
    "norm2": lambda node, a: np.linalg.norm(a),
    "norm": lambda node, a: np.linalg.norm(a),
    "Diag": lambda node, a: _diag_matrix(a),
    "diag": lambda node, a: np.diag(a).reshape(-1, 1) if np.ndim(a) else a,
    "vec": lambda node, a: _vec(a),
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


def _from_templates() -> dict[str, Callable]:
    """``f(node, *args)`` for every operation with code templates: the NumPy template run as
    generated code runs it (compiled once, in memory, with the runtime helpers), its scalar
    template where the first argument is a number."""
    sources = [backend_header("numpy")]
    for name, code in sorted(view("code").items()):
        names = [f"a{index}" for index in range(operation(name).arity)]
        body = code.numpy.format(*names)
        if code.scalar:
            body = f"{code.scalar.format(*names)} if np.ndim(a0) == 0 else {body}"
        sources.append(f"def op_{name}(node, {', '.join(names)}):\n    return {body}\n")
    module = load("\n\n".join(sources), "matcalc_operations")
    return {name: _guarded(name, getattr(module, f"op_{name}")) for name in view("code")}


def _guarded(name: str, compute: Callable) -> Callable:
    """``compute`` with the operation's domain checked first: a point outside it (a singular
    or nearly singular matrix to invert, a number to invert that is 0) gives NaN, which the
    interpreter reports as a DomainError."""
    if name != "inv":
        return compute

    def inverse(node: Node, a):
        if np.ndim(a) == 0:
            return 1.0 / a if a != 0 else np.nan
        if np.linalg.cond(a) > 1e14:
            return np.full_like(a, np.nan)
        return compute(node, a)

    return inverse


EVALUATORS.update(_from_templates())


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


# the NumPy meaning of each stable form of codegen/stable.py (t: the argument's value)
STABLE_EVALUATORS: dict[str, Callable] = {
    "sigmoid-of-negative": lambda t, axis: numpy_helpers._sigmoid(-t),
    "sech-squared": lambda t, axis: numpy_helpers._sech2(t),
    "softplus": lambda t, axis: np.logaddexp(0, t),
    "log-sigmoid": lambda t, axis: -numpy_helpers._softplus(-t),
    "log-softmax": lambda t, axis: t - numpy_helpers._logsumexp(t, axis, True),
    "complement-of-erf": lambda t, axis: numpy_helpers._erfc(-t),
    "twice-sigmoid-of-twice": lambda t, axis: 2.0 * numpy_helpers._sigmoid(2.0 * t),
}

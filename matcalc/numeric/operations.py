"""The interpreter's meaning of every operation: the operations' NumPy templates, run as
generated code runs them.

Each operation's ``code`` facet (matcalc/ops) is compiled once, with the runtime helpers
generated modules carry, into ``op_<name>(a0, a1, ..., fields)``; each stable form of
codegen/stable.py likewise from its template.  So the interpreter and generated code share one
meaning of each operation.  Arguments and results are 2-D arrays (a vector is n x 1) or floats,
the interpreter's internal layout (numeric/evaluate.py).  On top of the templates the
interpreter checks a few domains first: a matrix too close to singular to invert, a matrix
power whose exponent is not a whole number.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from functools import cache
from types import ModuleType

import numpy as np

from ..codegen.backends import backend
from ..codegen.module import load
from ..codegen.stable import CODE as STABLE_CODE
from ..core.ir import Node
from ..core.registry import operation, view
from ..errors import DomainError, UnsupportedError

CONDITION_LIMIT = 1e14  # past it a matrix counts as singular: its inverse is NaN


def _fields(template: str) -> list[str]:
    """The named fields a template uses (``axis``, ``keep``, a parameter's name)."""
    return sorted({name for _, name, _, _ in string.Formatter().parse(template)
                   if name and not name.isdigit()})


def _function(name: str, arguments: list[str], body: str) -> str:
    return f"def {name}({', '.join(arguments)}):\n    return {body}\n"


@cache
def _compiled() -> ModuleType:
    """The module of every operation's and stable form's function (compiled on first use)."""
    numpy = backend("numpy")
    sources = [numpy.header, "_dtype = _np.float64  # the interpreter computes in float64"]
    for name, code in sorted(view("code").items()):
        names = [f"a{index}" for index in range(operation(name).arity)]
        fields = _fields(code.numpy + code.scalar)
        if "operands" in fields:  # any number of arguments (einsum)
            names, fields = ["*a"], [field for field in fields if field != "operands"]
        body = numpy.spell(code.numpy).format(*names, operands="*a",
                                              **{field: field for field in fields})
        if code.scalar:
            scalar = numpy.spell(code.scalar).format(*names, **{field: field for field in fields})
            test = " or ".join(f"_np.ndim({a}) == 0" for a in names)
            body = f"({scalar}) if {test} else {body}"
        if code.tensor:  # an argument with more than two axes is a tensor
            tensor = numpy.spell(code.tensor).format(*names, **{field: field for field in fields})
            test = " or ".join(f"_np.ndim({a}) > 2" for a in names)
            body = f"({tensor}) if {test} else {body}"
        sources.append(_function(f"op_{name}", names + fields, body))
    for kind, template in sorted(STABLE_CODE.items()):
        sources.append(_function(f"stable_{kind.replace('-', '_')}", ["t", "axis"],
                                 numpy.spell(template).format(t="t", axis="axis")))
    return load("\n\n".join(sources), "matcalc_operations")


@cache
def evaluator(op: str) -> tuple[Callable, list[str]]:
    code = operation(op).code
    return getattr(_compiled(), f"op_{op}"), [field for field in _fields(code.numpy + code.scalar)
                                               if field != "operands"]


def evaluate_operation(node: Node, sizes: Mapping[str, int], arguments: list):
    """The value of ``node`` from its arguments' values (internal layout)."""
    function, names = evaluator(node.op)
    keywords = {}
    if names:
        fields = operation(node.op).code.fields(node, lambda d: d.value(sizes))
        keywords = {name: fields[name] for name in names}
    guard = _GUARDS.get(node.op)
    if guard is not None:
        early = guard(*arguments)
        if early is not None:
            return early
    return function(*arguments, **keywords)


def evaluate_stable(kind: str, argument, axis: int):
    """The value of the stable form ``kind`` (codegen/stable.py) of ``argument``."""
    return getattr(_compiled(), f"stable_{kind.replace('-', '_')}")(argument, axis)


def commutation_matrix(m: int, n: int) -> np.ndarray:
    """K with K @ vec(A) = vec(A') for A m x n (Magnus & Neudecker, ch. 3 sec. 7): the runtime
    helper generated code builds it with."""
    return _compiled()._commutation(m, n, float)


# -- domains checked before a template runs: None to run it, else the value (NaN: outside) ---


def _invertible(a):
    if np.ndim(a) == 0:
        return None if a != 0 else np.nan
    return np.full_like(a, np.nan) if np.linalg.cond(a) > CONDITION_LIMIT else None


def _whole_exponent(a, k):
    number = float(k)
    if number != round(number):
        raise DomainError(f"a matrix power's exponent must be a whole number, not {number}")
    return None


REPEATED = 1e-9  # eigenvalues closer than this (relative to the largest) count as repeated


def _apart(name: str) -> Callable:
    """A check refusing repeated eigenvalues: the eigenvectors are not unique there, and
    derivatives through them (or through the inverse gaps) do not exist."""

    def check(a):
        values = np.ravel(a)
        if np.ndim(a) == 2 and a.shape[1] > 1:  # eigvecsh(S): the eigenvalues of S
            values = np.linalg.eigvalsh((a + a.T) / 2)
        values = np.sort(values)
        scale = max(1.0, float(np.max(np.abs(values), initial=0.0)))
        if values.size > 1 and float(np.min(np.diff(values))) <= REPEATED * scale:
            raise UnsupportedError(f"{name} at repeated eigenvalues: the eigenvectors are not "
                                   "unique there, and derivatives through them do not exist")
        return None

    return check


def _singular(name: str) -> Callable:
    """A check refusing the points where a singular factor is not unique: a repeated largest
    singular value (svd_u1, svd_v1: norm_spec has no gradient there), a singular value 0
    (polar: norm_nuc has none), either, or any repeated one (svd_u, svd_v: svdvals has none)."""
    whose = {"svd_u1": "norm_spec", "svd_v1": "norm_spec", "polar": "norm_nuc"}.get(name, "svdvals")

    def check(a):
        if np.ndim(a) < 2 or min(np.shape(a)) < 1:
            return None
        values = np.linalg.svd(a, compute_uv=False)
        tolerance = REPEATED * max(float(values[0]), 1e-300)
        gaps = -np.diff(values)
        if name in ("svd_u1", "svd_v1"):
            repeated, what = gaps[:1], "a repeated largest singular value"
        else:
            repeated, what = (gaps if name != "polar" else gaps[:0]), "repeated singular values"
        if name not in ("svd_u1", "svd_v1") and values[-1] <= tolerance:
            raise UnsupportedError(f"{name}(X) of a matrix without full rank (a singular value "
                                   f"0): it is not unique there, and {whose} has no derivative")
        if np.any(repeated <= tolerance):
            raise UnsupportedError(f"{name}(X) at {what}: it is not unique there, and {whose} "
                                   "has no derivative")
        return None

    return check


_GUARDS: dict[str, Callable] = {"inv": _invertible, "mpowk": _whole_exponent,
                                "trpowk": _whole_exponent, "eigvecsh": _apart("eigvecsh"),
                                "eiggap": _apart("eiggap"), "svd_u1": _singular("svd_u1"),
                                "svd_v1": _singular("svd_v1"), "polar": _singular("polar"),
                                "svd_u": _singular("svd_u"), "svd_v": _singular("svd_v")}

"""The pipeline: a parsed problem -> derived -> simplified -> named results.

Everything inside the package that needs a derivative (the front end, steps, verify, grading)
calls :func:`run` or :func:`run_requests`; the simplifier is configured here only
(:func:`simplifier_for`), so the steps of a derivation are simplified under the same rules as
its result.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core import ir
from ..core.ir import LEAVES, Node, walk
from ..core.labels import data_only, never_differentiated
from ..core.program import Program
from ..core.shapes import describe
from ..errors import DeclarationError, ShapeError, UnknownNameError, UnsupportedError, did_you_mean
from ..limits import time_budget
from ..rules.facts import Facts
from .accumulate import Derivation, gradients, jacobian
from .result import KINDS, Result
from .simplify import Simplifier, divisors_of, left_to_right, tidy


def named_expressions(program: Program, facts: Facts) -> dict[Node, Node]:
    """What the problem named, by its expression: ``X @ w + b`` -> ``z``; and for a definition
    ``v = E / s`` with a positive scalar s, ``E`` -> ``s * v`` (``x - mu`` -> ``sigma * yn``)."""
    names: dict[Node, Node] = {}
    for definition in program.definitions.values():
        body = definition.body
        if body.op == "var":
            continue
        names[body] = definition.ref
        if body.op == "div" and body.args[1].is_scalar and not body.is_scalar and \
                body.args[0].op not in LEAVES and facts.positive(body.args[1]):
            names.setdefault(body.args[0], ir.apply("mul", body.args[1], definition.ref))
    return names


def facts_for(program: Program, derivation: Derivation | None = None,
              moving: frozenset[str] = frozenset()) -> Facts:
    """What is known about the problem's definitions and the derivation's deltas (``moving``:
    variables to be differentiated again, whose closed attributes such as S = S' are unused)."""
    where = derivation.where if derivation is not None else {}

    def body_of(name: str) -> Node | None:
        if name in program.definitions:
            return program.definitions[name].body
        return where.get(name)

    return Facts(body_of, moving)


def simplifier_for(program: Program, derivation: Derivation | None = None,
                   of_node: Node | None = None, moving: frozenset[str] = frozenset()
                   ) -> Simplifier:
    """The simplifier of a problem's results: an expression the problem named is written by its
    name (``X @ w + b`` -> ``z``), and what the function ``of_node`` divides by counts as
    non-zero (the derivative exists only there).  A result that is differentiated again with
    respect to the variables ``moving`` (a Hessian's gradient) may not use their symmetry, simplex
    or pm1: those hold at the point, not around it."""
    facts = facts_for(program, derivation, moving)
    divisors = divisors_of(program, of_node) if of_node is not None else frozenset()
    return Simplifier(facts, named_expressions(program, facts), divisors)


def _tidied(derivation: Derivation, results: dict[str, Node], of_node: Node,
            moving: frozenset[str] = frozenset()) -> tuple[Derivation, dict[str, Node]]:
    """The results simplified, with their deltas inlined or renumbered (simplify.py)."""
    program = derivation.program
    simplifier = simplifier_for(program, derivation, of_node, moving)
    reserved = set(program.variables) | set(program.definitions) | set(program.dimensions)
    where, results = tidy(dict(derivation.where), results, simplifier, reserved)
    where = {name: left_to_right(body) for name, body in where.items()}
    results = {name: left_to_right(body) for name, body in results.items()}
    return Derivation(program, where), results


def _tidied_blocks(derivation: Derivation, results: dict[tuple[str, str], Node],
                   of_node: Node, moving: frozenset[str], extra: dict[str, Node] | None = None
                   ) -> tuple[Derivation, dict[tuple[str, str], Node], dict[str, Node]]:
    """:func:`_tidied` of results keyed by (variable, second variable or ""), with ``extra``
    results keyed by name tidied beside them (a gradient about to be differentiated again)."""
    labels = {f"{row}|{col}": (row, col) for row, col in results}
    derivation, tidied = _tidied(derivation, {**{label: results[pair] for label, pair
                                                 in labels.items()}, **(extra or {})},
                                 of_node, moving)
    return (derivation, {pair: tidied[label] for label, pair in labels.items()},
            {name: tidied[name] for name in extra or {}})


def cross_pairs(wrt: Sequence[str]) -> list[tuple[str, str]]:
    """The blocks of a joint Hessian over ``wrt``, row by row of its upper triangle: (w, w),
    (w, b), (b, b) for [w; b] (the blocks below the diagonal are their transposes)."""
    return [(row, col) for i, row in enumerate(wrt) for col in wrt[i:]]


def _blocks(derivation: Derivation, of_node: Node, pairs: list[tuple[str, str]]
            ) -> dict[tuple[str, str], Node]:
    """Each block (row, col): the Jacobian of the gradient by ``row`` with respect to ``col``."""
    rows = list(dict.fromkeys(row for row, _ in pairs))
    named = {name: derivation.name(f"grad_{name}", gradient)
             for name, gradient in gradients(derivation, of_node, rows).items()}
    return {(row, col): jacobian(derivation, named[row], col) for row, col in pairs}


def _simplified_hessians(derivation: Derivation, of_node: Node, pairs: list[tuple[str, str]]
                         ) -> tuple[Derivation, dict[tuple[str, str], Node]]:
    """Hessians as Jacobians of the *simplified* gradients: 2 A' (A x - b) differentiates to
    2 A' A, where the raw gradient's norms would leave terms that only cancel on paper.  The
    gradient is simplified without the closed attributes of the variable (S = S' for a symmetric
    S): it is differentiated again, away from the symmetric point."""
    results: dict[tuple[str, str], Node] = {}
    for row in dict.fromkeys(row for row, _ in pairs):
        cols = [col for r, col in pairs if r == row]
        gradient = gradients(derivation, of_node, [row])[row]
        key = f"grad_{row}"
        derivation, results, extra = _tidied_blocks(derivation, results, of_node,
                                                    frozenset({row, *cols}), {key: gradient})
        named = derivation.name(key, extra[key])
        results.update({(row, col): jacobian(derivation, named, col) for col in cols})
    return derivation, results


def _results(program: Program, of_node: Node, wrt: list[str], kind: str, simplify: bool,
             moving: frozenset[str] = frozenset(), joint: bool = False
             ) -> tuple[Derivation, dict[tuple[str, str], Node]]:
    derivation = Derivation(program)
    if kind == "grad":
        results = {(name, ""): node for name, node in gradients(derivation, of_node, wrt).items()}
    elif kind == "jacobian":
        results = {(name, ""): jacobian(derivation, of_node, name) for name in wrt}
    else:
        pairs = cross_pairs(wrt) if joint else [(name, name) for name in wrt]
        if simplify:
            derivation, results = _simplified_hessians(derivation, of_node, pairs)
        else:
            results = _blocks(derivation, of_node, pairs)
        results = {(row, "" if row == col else col): node
                   for (row, col), node in results.items()}
    if simplify:
        derivation, results, _ = _tidied_blocks(derivation, results, of_node, moving)
    return derivation, results


def derive_node(program: Program, of_node: Node, wrt: Sequence[str], kind: str = "grad",
                simplify: bool = True, moving: frozenset[str] = frozenset(), joint: bool = True
                ) -> list[Result]:
    """``kind`` of the expression ``of_node`` with respect to each name in ``wrt``, sharing
    their where-definitions (``moving``: variables the results will be differentiated with
    respect to again, see :func:`simplifier_for`).  The Hessian with respect to several
    variables is the joint one, its blocks ``d2f_dw_dw, d2f_dw_db, d2f_db_db`` (``joint=False``:
    the diagonal blocks only)."""
    if kind not in KINDS:
        raise UnsupportedError(f"unknown kind {kind!r}; kinds are grad, jacobian, hessian")
    wrt = list(dict.fromkeys(wrt))  # each once, in order
    for name in wrt:
        if name not in program.variables and name not in program.definitions:
            known = list(program.variables) + list(program.definitions)
            raise UnknownNameError(f"cannot differentiate with respect to unknown name "
                                   f"'{name}'{did_you_mean(name, known)}")
        data = data_only(program.variables[name]) if name in program.variables else ""
        if data:
            raise UnsupportedError(f"'{name}' is declared as {data} and cannot be "
                                   "differentiated")
    if kind in ("grad", "hessian") and not of_node.is_scalar:
        raise ShapeError(f"{kind} needs a scalar function, but {of_node} is "
                         f"{describe(of_node.kind, of_node.shape)}; use kind='jacobian'")
    with time_budget():
        derivation, results = _results(program, of_node, wrt, kind, simplify, moving, joint)
    of_name = of_node.name if of_node.op in ("ref", "var") else "f"
    return [Result(kind, of_name, row, node, program, of_node, derivation, col)
            for (row, col), node in results.items()]


def run(program: Program, wrt: str | Sequence[str] | None = None, of: str | None = None,
        kind: str | None = "grad", simplify: bool = True, moving: frozenset[str] = frozenset(),
        joint: bool = True) -> list[Result]:
    """``kind`` of the definition ``of`` (default: the last one) with respect to ``wrt`` (a
    name, several, or by default every variable it uses); ``kind=None`` is the gradient of a
    scalar and the Jacobian of a vector or a matrix; ``joint``: see :func:`derive_node`."""
    of_node = target(program, of)
    if kind is None:
        kind = "grad" if of_node.is_scalar else "jacobian"
    names = [wrt] if isinstance(wrt, str) else list(wrt) if wrt is not None else \
        variables_of(program, of_node)
    if not names:
        raise DeclarationError(f"{of_node} has no variables to differentiate with respect to")
    return derive_node(program, of_node, names, kind, simplify, moving, joint)


def run_requests(program: Program, simplify: bool = True, joint: bool = True
                 ) -> list[list[Result]]:
    """The results of each request of the program, one list a request."""
    return [derive_node(program, request.of, list(request.wrt), request.kind, simplify,
                        joint=joint) for request in program.requests]


def target(program: Program, of: str | None) -> Node:
    """The node to differentiate: the definition named ``of``, or the last definition."""
    if of is None:
        last = program.last_definition
        if last is None:
            raise UnknownNameError("the problem has no definition to differentiate")
        return last.ref
    return program.lookup(of)


def variables_of(program: Program, node: Node) -> list[str]:
    """The variables ``node`` depends on (through definitions), in declaration order."""
    used: set[str] = set()
    roots = [node] + [program.definitions[n].body for n in program.needed_definitions(node)]
    for root in roots:
        used.update(n.name for n in walk(root) if n.op == "var")
    return [name for name in program.variables if name in used and  # not data (labels, k)
            not never_differentiated(program.variables[name].params[1])]

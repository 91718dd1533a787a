"""The pipeline: a parsed problem -> derived -> simplified -> named results.

Everything inside the package that needs a derivative (the front end, steps, verify, grading)
calls :func:`run` or :func:`run_requests`; the simplifier is configured here only
(:func:`simplifier_for`), so the steps of a derivation are simplified under the same rules as
its result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ..core import ir
from ..core.algebra import identity, size
from ..core.ir import LEAVES, Node, walk
from ..core.labels import data_only, never_differentiated
from ..core.program import Program
from ..core.shapes import Kind, describe
from ..errors import DeclarationError, ShapeError, UnknownNameError, UnsupportedError, did_you_mean
from ..limits import time_budget
from ..ops.divided import DIVIDED
from ..rules.facts import Facts
from .accumulate import Derivation, gradients, jacobian, no_jacobian, reached
from .indexed import chosen
from .reading_order import left_to_right
from .repeats import named_across
from .result import KINDS, LAYOUTS, Result, where_for
from .simplify import Simplifier, divisors_of
from .tidy import tidy


def named_expressions(program: Program, facts: Facts) -> dict[Node, Node]:
    """What the problem named, by its expression: ``X @ w + b`` -> ``z``; and for a definition
    ``v = E / s`` with a positive scalar s, ``E`` -> ``s * v`` (``x - mu`` -> ``sigma * yn``)."""
    names: dict[Node, Node] = {}
    for definition in program.definitions.values():
        body = definition.body
        if body.op == "var":
            continue
        names[body] = definition.ref
        for form, name in _other_forms(body, definition.ref):
            names.setdefault(form, name)
        if body.op == "div" and body.args[1].is_scalar and not body.is_scalar and \
                body.args[0].op not in LEAVES and facts.positive(body.args[1]):
            names.setdefault(body.args[0], ir.apply("mul", body.args[1], definition.ref))
    return names


def _other_forms(body: Node, ref: Node) -> list[tuple[Node, Node]]:
    """Other forms of a named quantity, with what to write for each: its negation (``H =
    -sum(p * log(p))`` gives ``sum(p * log(p))`` -> ``-H``) and an inner product of vectors in
    each of its forms (``sum(a * b) = a' @ b = b' @ a = sum(b * a)``)."""
    forms: list[tuple[Node, Node]] = []
    named = ref
    if body.op == "neg":
        body, named = body.args[0], ir.apply("neg", ref)
        forms.append((body, named))
    pair = None
    if body.op == "sum" and not body.params and body.args[0].op == "mul":
        pair = body.args[0].args
    elif body.op == "matmul" and body.args[0].op == "transpose":
        pair = body.args[0].args[0], body.args[1]
    if pair is None or not all(v.kind is Kind.VECTOR for v in pair) or \
            pair[0].shape != pair[1].shape:
        return forms
    a, b = pair
    for form in (ir.apply("sum", ir.apply("mul", a, b)), ir.apply("sum", ir.apply("mul", b, a)),
                 ir.apply("matmul", ir.apply("transpose", a), b),
                 ir.apply("matmul", ir.apply("transpose", b), a)):
        if form is not body:
            forms.append((form, named))
    return forms


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
    simplifier = Simplifier(facts, named_expressions(program, facts), divisors)
    written = facts.body_of

    def settled(name: str) -> Node | None:  # a body as simplified once it has been
        body = written(name)
        if body is None:
            return None
        done = simplifier.done.get(body, body)
        # a body simplifies to its own name (S = expand(s, 2, d) is written S): the body
        return body if done.op == "ref" and done.name == name else done

    facts.body_of = settled
    return simplifier


def _tidied(derivation: Derivation, results: dict[str, Node], of_node: Node,
            moving: frozenset[str] = frozenset()) -> tuple[Derivation, dict[str, Node]]:
    """The results simplified, with their deltas inlined or renumbered (simplify.py)."""
    program = derivation.program
    simplifier = simplifier_for(program, derivation, of_node, moving)
    reserved = set(program.variables) | set(program.definitions) | set(program.dimensions)
    where, results = tidy(dict(derivation.where), results, simplifier, reserved)
    where = {name: left_to_right(body) for name, body in where.items()}
    results = {name: left_to_right(body) for name, body in results.items()}
    return Derivation(program, where, raw=derivation), results


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
        named = derivation.named[row] = derivation.name(key, extra[key])
        results.update({(row, col): jacobian(derivation, named, col) for col in cols})
    return derivation, results


def _results(program: Program, of_node: Node, wrt: list[str], kind: str, simplify: bool,
             moving: frozenset[str] = frozenset(), joint: bool = False, named: bool = True
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
        if not moving and named:
            [(derivation, results)] = _with_repeats_named([(derivation, results)])
    return derivation, results


_CHAINS = frozenset({"kron", "vec", "commutation"})


def _moving(program: Program, varying: set[str]) -> Callable[[Node], bool]:
    """Whether an expression refers to the variables ``varying``, directly or through the
    problem's definitions."""
    moved = set(varying)
    for name, definition in program.definitions.items():
        if any(node.op in ("var", "ref") and node.name in moved for node in walk(definition.body)):
            moved.add(name)
    return lambda root: any(node.op in ("var", "ref") and node.name in moved
                            for node in walk(root))


def _with_repeats_named(groups: list[tuple[Derivation, dict[tuple[str, str], Node]]],
                        varying: set[str] = frozenset()
                        ) -> list[tuple[Derivation, dict[tuple[str, str], Node]]]:
    """Each group's derivation and results with the forward quantities the groups repeat
    named, one name for one quantity across the groups (engine/repeats.py); not for Kronecker
    and vec chains, which engine/indexed.py reads as index sums whole."""
    open_ = [i for i, (_, results) in enumerate(groups)
             if not any(node.op in _CHAINS for result in results.values()
                        for node in walk(result))]
    if not open_:
        return groups
    program = groups[0][0].program
    taken = set(program.variables) | set(program.definitions) | set(program.dimensions)
    for derivation, _ in groups:
        taken |= set(derivation.where)
    named = named_across([(where_for(list(groups[i][1].values()), groups[i][0]), groups[i][1])
                          for i in open_], taken, _moving(program, varying))
    found = list(groups)
    for i, (where, results) in zip(open_, named, strict=True):
        derivation = groups[i][0]
        if results is groups[i][1]:
            continue
        new = {name: body for name, body in where.items() if name not in derivation.where}
        kept = {name: where.get(name, body) for name, body in derivation.where.items()}
        found[i] = (replace(derivation, where={**new, **kept}), results)
    return found


def derive_node(program: Program, of_node: Node, wrt: Sequence[str], kind: str = "grad",
                simplify: bool = True, moving: frozenset[str] = frozenset(), joint: bool = True
                ) -> list[Result]:
    """See :func:`_derived`."""
    return _as_results(*_derived(program, of_node, wrt, kind, simplify, moving, joint),
                       of_node, kind, simplify)


def _derived(program: Program, of_node: Node, wrt: Sequence[str], kind: str, simplify: bool,
             moving: frozenset[str], joint: bool, named: bool = True
             ) -> tuple[Derivation, dict[tuple[str, str], Node]]:
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
        derivation, results = _results(program, of_node, wrt, kind, simplify, moving, joint,
                                       named)
    _at_symmetric_points(derivation, results.values())
    return derivation, results


def _as_results(derivation: Derivation, results: dict[tuple[str, str], Node], of_node: Node,
                kind: str, simplify: bool) -> list[Result]:
    program = derivation.program
    of_name = of_node.name if of_node.op in ("ref", "var") else "f"
    found = []
    for (row, col), node in results.items():
        # a Kronecker or vec chain printed as index sums (engine/indexed.py); code computes the
        # chain, whose structure it knows (codegen/blocks.py)
        shown = chosen(node, kind == "hessian") if simplify and kind != "grad" else node
        found.append(Result(kind, of_name, row, shown, program, of_node, derivation, col,
                            None if shown is node else node, None if shown is node else shown))
    return found


def _at_symmetric_points(derivation: Derivation, results) -> None:
    """Jacobians through expm and logm are written with divided differences that hold at a
    symmetric point only (ops/divided.py): UnsupportedError where the facts do not show the
    matrix symmetric."""
    facts = facts_for(derivation.program, derivation)
    for node in facts.walked(*results):  # the definitions results share, walked once
        if node.op in DIVIDED and not node.is_scalar and not facts.symmetric(node.args[0]):
            function = node.op.split("_")[0]
            raise UnsupportedError(
                f"Jacobians and Hessians through {function}({node.args[0]}) are supported "
                f"at a symmetric matrix only (Daleckii-Krein), and {node.args[0]} is not "
                "known symmetric (declared symmetric or spd, or of a form that shows it: "
                "A + A', A' @ S @ A, ...); gradients are supported")


def in_layout(result: Result, layout: str) -> Node:
    """The result written in ``layout`` (one of LAYOUTS): as derived for "mixed" (a gradient
    in the variable's shape, a Jacobian (size F) x (size X)), transposed where a person's
    convention asks (a gradient in the "numerator" layout, a Jacobian in the "denominator"
    layout), simplified under the rules that made the result."""
    if layout not in LAYOUTS:
        raise UnsupportedError(f"unknown layout {layout!r}; layouts are {', '.join(LAYOUTS)}")
    if (layout == "numerator" and result.kind == "grad") or \
            (layout == "denominator" and result.kind == "jacobian"):
        simplifier = simplifier_for(result.program, result.derivation, result.of_node)
        return simplifier(ir.apply("transpose", result.result))
    return result.result


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
    """The results of each request of the program, one list a request; a forward quantity
    that several requests repeat has one name in all of them (a gradient and a Hessian both
    write ``q1`` for ``sigmoid(X @ w)``)."""
    requests = program.requests
    derived = [_derived(program, request.of, list(request.wrt), request.kind, simplify,
                        frozenset(), joint, named=False) for request in requests]
    if simplify and derived:
        with time_budget():
            derived = _with_repeats_named(derived, {name for request in requests
                                                    for name in request.wrt})
    return [_as_results(derivation, results, request.of, request.kind, simplify)
            for (derivation, results), request in zip(derived, requests, strict=True)]


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


# -- what a derivation reached on its way, for its steps ----------------------------------------


def _recorded(derivation: Derivation, found) -> Derivation:
    """The derivation, or the first one it was simplified from, for which ``found`` holds."""
    current: Derivation | None = derivation
    while current is not None:
        if found(current):
            return current
        current = current.raw
    raise UnsupportedError("the result's derivation kept no record of its steps")


def reached_gradients(result: Result, names: Sequence[str]) -> list[Result]:
    """The gradients of the result's function with respect to ``names`` (its variable and the
    definitions the derivation passed through), as reverse accumulation reached them, simplified
    together (they share their deltas) under the rules that made the result: a gradient's
    steps, read from the derivation that made it.  For a Hessian, those of the gradient it
    differentiated (simplified as a gradient, using every attribute of its variable)."""
    wrt = result.wrt
    raw = _recorded(result.derivation, lambda d: wrt in d.cotangents)
    nodes = {name: reached(raw, name) for name in dict.fromkeys(names)}
    # only the deltas these gradients use (a derivation with respect to several variables
    # also made those of the others)
    used = Derivation(result.program, where_for(list(nodes.values()), raw))
    derivation, tidied = _tidied(used, nodes, result.of_node)
    return [Result("grad", result.of, name, node, result.program, result.of_node, derivation)
            for name, node in tidied.items()]


def reached_jacobians(result: Result, names: Sequence[str]) -> list[Result]:
    """The Jacobian of each definition in ``names`` with respect to the result's variable, as
    forward accumulation reached it on its way to the result, each simplified on its own: a
    Jacobian's steps, read from the derivation that made it.  For a Hessian block, the
    definitions are those of :func:`differentiated_gradient`'s problem, and the variable the
    block's second one."""
    wrt = result.across or result.wrt
    if result.kind == "hessian":
        raw = _recorded(result.derivation, lambda d: result.wrt in d.named)
        program, _ = differentiated_gradient(result)
    else:
        raw = _recorded(result.derivation, lambda d: any(key[0] == wrt for key in d.jacobians))
        program = result.program
    return [_reached_jacobian(raw, program, wrt, name) for name in names]


def _reached_jacobian(raw: Derivation, program: Program, wrt: str, name: str) -> Result:
    ref = program.definitions[name].ref
    value = raw.jacobians.get((wrt, name))
    body = program.definitions[name].body
    if value is None and body.op == "ref":  # a second name (a Hessian's gradient that is p)
        value = raw.jacobians.get((wrt, body.name))
    if value is not None and value.op == "ref" and value.name in raw.where and \
            value.name not in program.definitions:
        value = raw.where[value.name]
    if value is None and body.op == "var" and body.name == wrt:  # a second name of it
        value = ir.const(1.0) if body.is_scalar else identity(size(body))
    if value is None:
        value = no_jacobian(program, ref, wrt)
    # the where-definitions of the Jacobians of what the definition uses, as a derivation of
    # its own Jacobian would have named them
    before = {raw.jacobians[(wrt, used)].name for used in program.needed_definitions(ref)
              if used != name and (wrt, used) in raw.jacobians and
              raw.jacobians[(wrt, used)].op == "ref"}
    own = Derivation(program, {n: b for n, b in raw.where.items() if n in before})
    derivation, tidied = _tidied(own, {name: value}, ref)
    return Result("jacobian", name, wrt, tidied[name], program, ref, derivation)


def differentiated_gradient(result: Result) -> tuple[Program, str]:
    """The gradient a Hessian block differentiated, as the problem extended by it: its deltas,
    then the gradient itself, named (``grad_w``); and that name."""
    raw = _recorded(result.derivation, lambda d: result.wrt in d.named)
    named = raw.named[result.wrt]
    program = result.program
    if named.op == "ref" and named.name in raw.where:
        name, body = named.name, raw.where[named.name]
    else:  # a gradient too small to be named (a leaf)
        name, body = f"grad_{result.wrt}", named
        while name in program.definitions or name in program.variables:
            name += "_"
    jacobian_names = {node.name for node in raw.jacobians.values() if node.op == "ref"}
    gradient_where = {n: b for n, b in raw.where.items() if n not in jacobian_names and n != name}
    kept = where_for([body], Derivation(program, gradient_where))
    return program.extended({**kept, name: body}), name

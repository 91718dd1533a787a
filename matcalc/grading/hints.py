"""Hints: what is wrong with a wrong answer, found by trying the usual mistakes.

Each hint tries one kind of mistake (a transpose, a sign, a constant factor, a missing relu
mask, a Hadamard product for a matrix product, swapped Kronecker factors, a missing term, an
undeclared assumption, softmax's Jacobian taken as Diag(s)) and names it only when undoing it
gives the answer's values, or the expected ones, at every sample point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..codegen.module import function_of
from ..core import ir
from ..core.ir import Node, walk
from ..core.program import Definition, Program
from ..core.shapes import Kind
from ..engine.pipeline import run
from ..engine.result import Result
from ..errors import MatcalcError, ShapeError
from ..numeric.evaluate import prepare, to_user_layout
from ..numeric.sampling import random_instance
from .hints_terms import inlined as _inlined
from .hints_terms import missing_term, one_sign, one_term_scaled
from .matrix_functions_hint import matrix_function_hint
from .samples import (
    KIND_NAMES,
    POINTS,
    AnswerUndefined,
    agrees,
    evaluate_on,
    matches_answer,
    matches_expected,
    relative,
    same,
    values_at,
)
from .withholding import MISSING_FACTOR, quoting, relu_mask_missing


def kron_shape_hint(expected: Result, extended: Program, node: Node) -> str:
    """A Kronecker product whose factors, swapped or transposed, give the right result."""
    for target in walk(node):
        if target.op != "kron":
            continue
        for candidate, what in _kron_variants(node, target):
            if candidate.shape != expected.result.shape:
                continue
            if agrees(expected, extended, candidate):
                return f"in {target}, {what} {_KRON_IDENTITY}"
    return ""


_OFF_DIAGONAL = ("its off-diagonal entries are not zero: an output depends on other inputs "
                 "than its own")


def diagonal_shape_hint(expected: Result, extended: Program, node: Node) -> str:
    """An N-entry answer where the N x N Jacobian was asked: its diagonal (the elementwise
    derivative, the Hadamard form dF = v * dX) instead of the matrix Diag(vec(v))."""
    rows, cols = expected.result.shape.rows, expected.result.shape.cols
    if expected.kind != "jacobian" or rows != cols or node.is_scalar or \
            rows != node.shape.rows * node.shape.cols:
        return ""
    diagonal_only = True
    for seed in range(POINTS):
        try:
            sample = values_at(expected, extended, node, seed)
            want, got = sample.want, sample.got
        except (AnswerUndefined, MatcalcError, np.linalg.LinAlgError):
            return ""
        if not same([(got.reshape(-1, order="F"), np.diag(want))]):
            return ""
        diagonal_only &= same([(want, np.diag(np.diag(want)))])
    wrapped = str(node) if node.kind is Kind.VECTOR else f"vec({node})"
    if diagonal_only:
        return (f"your answer is the diagonal of the Jacobian, the elementwise derivative "
                f"(dF = v * dX as a Hadamard product); the Jacobian is the matrix "
                f"Diag({wrapped})")
    return f"your answer is only the diagonal of the Jacobian; {_OFF_DIAGONAL}"


def _diagonal_only(expected: Result, extended: Program, node: Node, samples) -> str:
    """A square answer equal to the Jacobian's diagonal part, off-diagonal entries dropped."""
    if expected.kind != "jacobian":
        return ""
    pairs = [(got, np.diag(np.diag(want))) for want, got in ((s.want, s.got) for s in samples)
             if want.ndim == 2 and want.shape[0] == want.shape[1]]
    if len(pairs) != len(samples) or not same(pairs):
        return ""
    return f"your answer has the Jacobian's diagonal but not the rest; {_OFF_DIAGONAL}"


def _factor_text(ratio: float) -> str:
    """The ratio with the digits that tell it from 1 (1.000001, never "1")."""
    for digits in (6, 9, 12, 15):
        text = f"{ratio:.{digits}g}"
        if text != "1":
            break
    return text


def diagnose(expected: Result, extended: Program, node: Node, samples) -> str:
    what = KIND_NAMES[expected.kind]
    wants = [s.want for s in samples]
    gots = [s.got for s in samples]
    if all(g.ndim == 2 and g.shape[0] == g.shape[1] for g in gots) and \
            same([(g, w.T) for g, w in zip(gots, wants, strict=True)]):
        return f"your answer is the transpose of the {what}"
    if same([(g, -w) for g, w in zip(gots, wants, strict=True)]):
        return f"your answer is the {what} with the sign flipped"
    if not any(np.any(g) for g in gots):
        return f"your answer is 0 where the {what} is not"
    ratios = [float(np.sum(g * w) / np.sum(w * w)) for g, w in zip(gots, wants, strict=True)
              if np.sum(w * w) > 0]
    if ratios and np.allclose(ratios, ratios[0], rtol=1e-7) and \
            same([(g, ratios[0] * w) for g, w in zip(gots, wants, strict=True)]):
        factor = _factor_text(ratios[0])
        return f"your answer is {factor} times the {what}: a constant factor is off"
    for hint in (matrix_function_hint, _symmetric_convention, _size_factor, _missing_factor,
                 _swapped_product, _swapped_kron,
                 _softmax_jacobian, _inverse_as_minus, _diagonal_only, _inverse_transpose,
                 _exp_for_sigmoid, _needs_assumption, _transposed_factor, one_sign,
                 one_term_scaled, missing_term):
        found = hint(expected, extended, node, samples)
        if found:
            return found
    return f"your answer is not the {what} (worst relative error over random points " \
           f"{max(relative(g, w) for g, w in zip(gots, wants, strict=True)):.2g})"


def _symmetric_convention(expected: Result, extended: Program, node: Node, samples) -> str:
    """The gradient with respect to a symmetric matrix as some books write it, G + G' -
    Diag(diag(G)) for the unconstrained G (The Matrix Cookbook, 2012, sec. 2.8, eq. 141); the
    Hessian as one on symmetric directions, equal to the unconstrained H after P = (I + K) / 2
    on both sides (K the commutation matrix): -inv(S) (x) inv(S) for log det S (Magnus &
    Neudecker, 2019, ch. 10), whose unconstrained Hessian is -K (inv(S) (x) inv(S))."""
    variable = expected.wrt in expected.program.variables  # a step's may be a definition
    if expected.kind not in ("grad", "hessian") or not variable or not {"symmetric", "spd"} & \
            expected.program.attributes(expected.wrt):
        return ""
    if expected.kind == "hessian":
        return _symmetric_directions(samples)
    if not same([(s.got, s.want + s.want.T - np.diag(np.diag(s.want))) for s in samples]):
        return ""
    return ("your answer is the gradient in the convention for a symmetric matrix, G + G' - "
            "Diag(diag(G)) (The Matrix Cookbook, sec. 2.8); the gradient here is the "
            "unconstrained one, G, as if the entries were independent")


def _symmetric_directions(samples) -> str:
    """The hint for a Hessian that agrees with the unconstrained one on symmetric directions."""
    pairs = []
    for sample in samples:  # sizes differ from point to point
        size = sample.want.shape[0]
        n = int(round(size ** 0.5))
        if n * n != size or sample.got.shape != sample.want.shape:
            return ""
        flips = np.arange(size).reshape(n, n).T.ravel()  # K vec(A) = vec(A'): (i, j) to (j, i)
        projection = (np.eye(size) + np.eye(size)[flips]) / 2
        pairs.append((projection @ sample.got @ projection, projection @ sample.want @ projection))
    if not same(pairs):
        return ""
    return ("your answer is the Hessian on symmetric directions (it agrees with the Hessian "
            "wherever dS = dS'); the Hessian here is the unconstrained one, as if the entries "
            "were independent, which differs from yours by the commutation matrix K")


def _replace(root: Node, target: Node, replacement: Node) -> Node:
    return ir.replaced(root, lambda node: replacement if node is target else None)


def _missing_factor(expected: Result, extended: Program, node: Node, samples) -> str:
    """A factor of an elementwise product left out: the relu mask step(z), tanh's 1 - h * h."""
    full = _inlined(expected)
    for target in walk(full):
        if target.op != "mul":
            continue
        for kept, dropped in (target.args, reversed(target.args)):
            if kept.shape != target.shape or dropped.is_scalar:
                continue
            try:
                candidate = _replace(full, target, kept)
            except ShapeError:
                continue
            if matches_answer(samples, extended, candidate):
                if dropped.op == "step":
                    return relu_mask_missing(dropped)
                return quoting(MISSING_FACTOR, dropped)
    return ""


def _swapped_product(expected: Result, extended: Program, node: Node, samples) -> str:
    def swap(target: Node) -> Node | None:
        if target.op == "mul" and not any(a.is_scalar for a in target.args):
            return ir.apply("matmul", *target.args)
        if target.op == "matmul" and not any(a.is_scalar for a in target.args):
            return ir.apply("mul", *target.args)
        return None

    wants = [s.want for s in samples]
    for target in walk(node):
        replacement = None
        try:
            replacement = swap(target)
        except ShapeError:
            continue
        if replacement is None:
            continue
        try:
            candidate = _replace(node, target, replacement)
        except ShapeError:
            continue
        values = evaluate_on(samples, extended, candidate)
        if same(list(zip(values, wants, strict=True))):
            symbols = ("*", "@") if target.op == "mul" else ("@", "*")
            return (f"in {target}, a {'Hadamard' if symbols[0] == '*' else 'matrix'} product "
                    f"({symbols[0]}) stands where a "
                    f"{'matrix' if symbols[0] == '*' else 'Hadamard'} product ({symbols[1]}) "
                    "belongs")
    return ""


_KRON_IDENTITY = "(vec(A @ X @ B) = kron(B', A) @ vec(X), Magnus & Neudecker 2019, ch. 2)"


def _kron_variants(node: Node, target: Node) -> list[tuple[Node, str]]:
    first, second = target.args
    variants = []
    for (a, b), what in (
        ((second, first), "its factors are swapped"),
        ((ir.apply("transpose", second), ir.apply("transpose", first)),
         "its factors are swapped and each needs a transpose"),
        ((ir.apply("transpose", first), ir.apply("transpose", second)),
         "each factor needs a transpose"),
        ((first, ir.apply("transpose", second)), f"{second} needs a transpose"),
        ((ir.apply("transpose", first), second), f"{first} needs a transpose"),
    ):
        try:
            variants.append((_replace(node, target, ir.apply("kron", a, b)), what))
        except ShapeError:
            continue
    return variants


def _swapped_kron(expected: Result, extended: Program, node: Node, samples) -> str:
    """kron(A, B) where kron(B, A) (or kron(B', A'), ...) belongs."""
    for target in walk(node):
        if target.op != "kron":
            continue
        for candidate, what in _kron_variants(node, target):
            if candidate.shape == node.shape and \
                    matches_expected(samples, extended, candidate):
                return f"in {target}, {what} {_KRON_IDENTITY}"
    return ""


_ASSUMPTIONS = (
    ("simplex", "sums to 1 (a one-hot label or a probability vector)"),
    ("symmetric", "is symmetric"),
)


def _needs_assumption(expected: Result, extended: Program, node: Node, samples) -> str:
    """The answer is right only under an assumption the problem does not declare."""
    # the points are drawn over the program the samples were drawn over: the problem alone
    # (with a derivation's directions dX, which take no assumption)
    problem = samples[0].instance.evaluation.program if samples else expected.program
    for attribute, meaning in _ASSUMPTIONS:
        for name, variable in problem.variables.items():
            attributes = variable.params[1]
            if variable.is_scalar or attributes & {attribute, "pm1", "spd", "simplex"} or \
                    name[1:] in problem.variables and name.startswith("d"):
                continue
            if attribute == "symmetric" and (variable.kind is not Kind.MATRIX or
                                             not variable.shape.is_square):
                continue
            assumed = ir.var(name, variable.shape, variable.kind, attributes | {attribute})
            variant = replace(problem, variables={**problem.variables, name: assumed})
            try:
                agrees = all(_agree_at(expected, variant, extended, node, seed)
                             for seed in range(POINTS))
            except MatcalcError:
                continue
            if agrees:
                rows = "each row of " if variable.kind is Kind.MATRIX and \
                    attribute == "simplex" else ""
                keep = f", or keep the terms with sum({name})" if attribute == "simplex" else ""
                return (f"your answer holds only when {rows}{name} {meaning}, which the problem "
                        f"does not declare: declare {name} {attribute}{keep}")
    return ""


def _agree_at(expected: Result, variant: Program, extended: Program, node: Node,
              seed: int) -> bool:
    instance = random_instance(variant, seed=seed)
    want = np.asarray(function_of(expected)(instance.arrays, instance.sizes), dtype=float)
    evaluation = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
    got = np.asarray(to_user_layout(node.kind, evaluation.value(node)), dtype=float)
    return got.shape == want.shape and relative(got, want) <= 1e-7


def _wrong_rule_matches(expected: Result, samples, op: str,
                        wrong_form: Callable[[Node, Node], Node],
                        held_value: Callable[[object, Node], object]) -> list[Node]:
    """The ``op`` nodes of the problem, when the answer is what differentiating it gives with a
    wrong rule for ``op``: each such node rewritten ``wrong_form(node, held)``, ``held`` a
    variable kept at ``held_value(evaluation, node)`` (so the value is the same and only the
    derivative differs); [] when the answer is not that."""
    program, of, kind = expected.program, expected.of, expected.kind
    if kind == "hessian":
        # the mistake is made in the second differentiation: the gradient is right, its
        # Jacobian is taken with the wrong rule
        try:
            (gradient,) = run(program, wrt=[expected.wrt], of=of, kind="grad")
        except MatcalcError:
            return []
        program = program.extended({"hint_gradient": _inlined(gradient)})
        of, kind = "hint_gradient", "jacobian"
    targets = list(dict.fromkeys(
        item for definition in program.definitions.values() for item in walk(definition.body)
        if item.op == op))
    if not targets:
        return []
    held = {item: ir.var(f"held_{op}{index}", item.shape, item.kind)
            for index, item in enumerate(targets)}
    definitions = {
        name: Definition(name, ir.replaced(definition.body, lambda n: wrong_form(n, held[n])
                                           if n in held else None),
                         definition.ref, definition.location)
        for name, definition in program.definitions.items()}
    variant = replace(program, variables={**program.variables,
                                          **{v.name: v for v in held.values()}},
                      definitions=definitions, requests=[])
    try:
        (wrong,) = run(variant, wrt=[expected.wrt], of=of, kind=kind)
        for sample in samples:
            arrays = dict(sample.instance.arrays)
            for item, variable in held.items():
                arrays[variable.name] = to_user_layout(item.kind,
                                                       held_value(sample.evaluation, item))
            value = np.asarray(function_of(wrong)(arrays, sample.instance.sizes), dtype=float)
            if value.shape != sample.got.shape or relative(sample.got, value) > 1e-7:
                return []
    except MatcalcError:
        return []
    return targets


def _softmax_jacobian(expected: Result, extended: Program, node: Node, samples) -> str:
    """The answer took Diag(softmax(u)) for softmax's Jacobian, forgetting the normaliser:
    softmax(u) = exp(u) * c with c = softmax(u) / exp(u) held fixed has Jacobian Diag(s)."""
    found = _wrong_rule_matches(
        expected, samples, "softmax",
        lambda item, held: ir.apply("mul", ir.apply("exp", item.args[0]), held),
        lambda evaluation, item: evaluation.value(item) /
        evaluation.value(ir.apply("exp", item.args[0])))
    if not found:
        return ""
    row = any(item.kind is Kind.MATRIX for item in found)
    return ("your answer takes Diag(s) for the Jacobian of s = softmax(u), forgetting that the "
            "normaliser sum(exp(u)) depends on u too: the Jacobian is Diag(s) - s @ s'"
            + (" (of each row, for a row softmax)" if row else ""))


def _inverse_as_minus(expected: Result, extended: Program, node: Node, samples) -> str:
    """d inv(S) taken as -dS: inv(S) = c - S with c = inv(S) + S held fixed has that
    differential (the right one is -inv(S) @ dS @ inv(S), Cookbook eq. 59)."""
    found = _wrong_rule_matches(
        expected, samples, "inv",
        lambda item, held: ir.apply("sub", held, item.args[0]),
        lambda evaluation, item: evaluation.value(item) + evaluation.value(item.args[0]))
    if not found:
        return ""
    inner = found[0].args[0]
    return (f"your answer takes d inv({inner}) as -d{inner}: the differential of the inverse is "
            f"-inv({inner}) @ d{inner} @ inv({inner})")


def _size_factor(expected: Result, extended: Program, node: Node, samples) -> str:
    """A size's factor left out or put in: the 1/N of a mean, the 1/sqrt(dk) of attention."""
    what = KIND_NAMES[expected.kind]
    for symbol in expected.program.dimensions:
        sizes = [s.instance.sizes.get(symbol) for s in samples]
        if None in sizes or len(set(sizes)) < 2:
            continue  # one size at every point cannot tell a size from a number
        for power, factor in ((1.0, symbol), (0.5, f"sqrt({symbol})")):
            scaled = [(s.got, s.want * size ** power) for s, size in zip(samples, sizes,
                                                                          strict=True)]
            if same(scaled):
                return (f"your answer is {factor} times the {what}: a factor 1 / {factor} is "
                        "missing")
            shrunk = [(s.got, s.want / size ** power) for s, size in zip(samples, sizes,
                                                                          strict=True)]
            if same(shrunk):
                return f"your answer is the {what} divided by {factor}: that factor is too many"
    return ""


def _inverse_transpose(expected: Result, extended: Program, node: Node, samples) -> str:
    """W^{-1} written where W^{-T} belongs (named before any assumption of symmetry, which would
    make them equal but is not what went wrong)."""
    full = _inlined(expected)
    for target in walk(full):
        if target.op == "transpose" and target.args[0].op == "inv":
            candidate, _ = _try_replace(full, target, target.args[0])
            if candidate is not None and matches_answer(samples, extended, candidate):
                inner = target.args[0].args[0]
                return (f"you wrote inv({inner}) (the inverse, {inner}^-1) where inv({inner})' "
                        f"(its transpose, {inner}^-T) belongs")
    return ""


def _transposed_factor(expected: Result, extended: Program, node: Node, samples) -> str:
    """One factor left without its transpose, or transposed where it should not be;
    transposes are tried first, so a missing one is named as missing (transposes pushed to the
    factors first: (M + B)' is M' + B')."""
    full = _transposes_inward(_inlined(expected))
    nodes = list(walk(full))
    for target in nodes:
        if target.op == "transpose" and target.args[0].kind is Kind.MATRIX:
            candidate, plain = _try_replace(full, target, target.args[0])
            if candidate is not None and matches_answer(samples, extended, candidate):
                return f"{target} is written without its transpose: {plain} in your answer"
    under_transpose = {n.args[0] for n in nodes if n.op == "transpose"}
    for target in nodes:
        if target.op in ("var", "ref", "inv") and target.kind is Kind.MATRIX and \
                target.shape.is_square and target not in under_transpose:
            candidate, _ = _try_replace(full, target, ir.apply("transpose", target))
            if candidate is not None and matches_answer(samples, extended, candidate):
                return f"{target} is transposed in your answer where {target} itself belongs"
    return ""


def _transposes_inward(root: Node) -> Node:
    """(A + B)' = A' + B', (A @ B)' = B' @ A', (A')' = A, (c A)' = c A': transposes on the
    factors (the same value)."""
    done: dict[Node, Node] = {}
    for node in walk(root):
        args = tuple(done[arg] for arg in node.args)
        rebuilt = node if args == node.args else ir.apply(node.op, *args, params=node.params)
        if rebuilt.op == "transpose":
            inner = rebuilt.args[0]
            if inner.op == "transpose":
                rebuilt = inner.args[0]
            elif inner.op in ("add", "sub") and not any(a.is_scalar for a in inner.args):
                rebuilt = ir.apply(inner.op, *(_flip(a) for a in inner.args))
            elif inner.op == "matmul" and not any(a.is_scalar for a in inner.args):
                rebuilt = ir.apply("matmul", _flip(inner.args[1]), _flip(inner.args[0]))
            elif inner.op in ("mul", "neg") and any(a.is_scalar for a in inner.args):
                rebuilt = ir.apply(inner.op, *(_flip(a) for a in inner.args))
        done[node] = rebuilt
    return done[root]


def _flip(node: Node) -> Node:
    if node.is_scalar:
        return node
    return node.args[0] if node.op == "transpose" else ir.apply("transpose", node)


def _try_replace(full: Node, target: Node, replacement: Node) -> tuple[Node | None, str]:
    try:
        return _replace(full, target, replacement), str(replacement)
    except ShapeError:
        return None, ""


def _exp_for_sigmoid(expected: Result, extended: Program, node: Node, samples) -> str:
    """sigmoid(t) written exp(t): the derivative of softplus taken as exp."""
    full = _inlined(expected)
    for target in walk(full):
        if target.op == "sigmoid":
            candidate, _ = _try_replace(full, target, ir.apply("exp", target.args[0]))
            if candidate is not None and matches_answer(samples, extended, candidate):
                return (f"your answer has exp({target.args[0]}) where {target} belongs: "
                        "softplus' = sigmoid, not exp")
    return ""

"""Verify a hand-derived answer: is it the derivative, and if not, what is it instead?

The answer is an expression in the language (it may use the problem's variables and definitions
and define its own names first: ``d1 = softmax(theta) - y; d1 @ h'``).  Its shape is compared
first; then its values against matcalc's own result at several random points (different sizes,
attributes and domains honoured).  When it is wrong, the verdict names what it equals instead —
the transpose, the opposite sign, a constant multiple, the result without a relu mask, a sum with
a term missing, a ``*`` where ``@`` belongs (or the reverse) — without giving the answer away.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import ir
from .derive import Derivative, derive
from .errors import DomainError, MatcalcError, ParseError, ShapeError, UnknownNameError
from .ir import Node, walk
from .lang import latex as latex_reader
from .lang.build import Builder, location_of
from .lang.latex import LatexBuilder
from .lang.parse import parse
from .lang.syntax import parse_tree
from .numeric import prepare, to_user_layout
from .program import Definition, Program
from .sampling import random_instance
from .shapes import Kind, describe, dim
from .simplify import substitute

POINTS = 4
_KIND_NAMES = {"grad": "gradient", "jacobian": "Jacobian", "hessian": "Hessian"}
TOLERANCE = 1e-8


@dataclass
class Verdict:
    """Whether an answer is right, how far off it is, and a hint when it is not."""

    ok: bool
    max_rel_error: float
    hint: str = ""
    counterexample: dict | None = None
    answer: str = ""
    expected_type: str = ""
    answer_type: str = ""
    seeds: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return f"correct (max relative error {self.max_rel_error:.1e} at {len(self.seeds)} " \
                   f"random points)"
        return f"wrong: {self.hint}" if self.hint else "wrong"


def _builder(program: Program, answer: str, kind: type[Builder] = Builder) -> Builder:
    builder = kind(answer)
    builder.variables = dict(program.variables)
    builder.definitions = dict(program.definitions)
    builder.dimensions = {name: dim(name) for name in program.dimensions}
    return builder


def _latex_answer_node(program: Program, answer: str) -> tuple[Program, Node]:
    builder = _builder(program, answer, LatexBuilder)

    def known(name: str) -> bool:
        return name in builder.variables or name in builder.definitions or \
            name in builder.dimensions

    node = None
    for statement in latex_reader.statements(answer, known):
        node = builder.expression(statement.tree)
        if statement.name:
            builder._check_new_name(statement.name, "definition",
                                    location_of(statement.tree, answer))
            builder.define(statement.name, node)
    assert node is not None
    return builder.result(), node


def _answer_node(program: Program, answer: str, is_latex: bool | None = None
                 ) -> tuple[Program, Node]:
    """The answer's expression over the problem, after its own definitions."""
    if is_latex or (is_latex is None and latex_reader.looks_like_latex(answer)):
        return _latex_answer_node(program, answer)
    if is_latex is None:  # undecided: the language first, then LaTeX (``(A + A') x``)
        try:
            return _language_answer_node(program, answer)
        except (ParseError, UnknownNameError) as error:
            try:
                return _latex_answer_node(program, answer)
            except (ParseError, UnknownNameError):
                raise error from None
    return _language_answer_node(program, answer)


def _language_answer_node(program: Program, answer: str) -> tuple[Program, Node]:
    statements = [s for s in re.split(r"[;\n]", answer) if s.strip()]
    if not statements:
        raise MatcalcError("the answer is empty")
    builder = _builder(program, answer)
    *local, last = statements
    if local:
        builder.program(parse_tree("\n".join(local), "program"))
    builder.source = last
    node = builder.expression(parse_tree(last, "expression"))
    extended = builder.result()
    return extended, node


def verify(source: str | Program, wrt: str, answer: str, of: str | None = None,
           kind: str = "grad", let: str | Sequence[str] | None = None,
           latex: bool | None = None) -> Verdict:
    """Check ``answer`` against the ``kind`` of ``of`` with respect to ``wrt``.

    ``latex``: True reads the answer as LaTeX, False as the language, None (the default)
    decides by its look (a backslash command, ``^{``, ``_{``, ``^T`` before a name).
    """
    program = source if isinstance(source, Program) else parse(source, let=let)
    return verify_against(derive(program, wrt=wrt, of=of, kind=kind), answer, latex)


def verify_against(expected: Derivative, answer: str, latex: bool | None = None) -> Verdict:
    """Check ``answer`` against a derivative already derived (graders reuse one for many)."""
    program = expected.program
    try:
        extended, node = _answer_node(program, answer, latex)
    except ShapeError as error:  # an answer whose shapes do not fit is a wrong answer
        return Verdict(False, float("inf"), f"your answer does not type-check: {error}",
                       answer=answer, expected_type=expected.type)
    verdict = Verdict(False, float("inf"), answer=answer, expected_type=expected.type,
                      answer_type=describe(node.kind, node.shape))
    result = expected.result
    if node.shape != result.shape:
        verdict.hint = _kron_shape_hint(expected, extended, node) or \
            _diagonal_shape_hint(expected, extended, node) or \
            _shape_hint(node, result, expected)
        return verdict
    return _compare(verdict, expected, extended, node)


def _kron_shape_hint(expected: Derivative, extended: Program, node: Node) -> str:
    """A Kronecker product whose factors, swapped or transposed, give the right result."""
    for target in walk(node):
        if target.op != "kron":
            continue
        for candidate, what in _kron_variants(node, target):
            if candidate.shape != expected.result.shape:
                continue
            trial = Verdict(False, float("inf"))
            if _compare(trial, expected, extended, candidate).ok:
                return f"in {target}, {what} {_KRON_IDENTITY}"
    return ""


_OFF_DIAGONAL = ("its off-diagonal entries are not zero: an output depends on other inputs "
                 "than its own")


def _diagonal_shape_hint(expected: Derivative, extended: Program, node: Node) -> str:
    """An N-entry answer where the N x N Jacobian was asked: its diagonal (the elementwise
    derivative, the Hadamard form dF = v * dX) instead of the matrix Diag(vec(v))."""
    rows, cols = expected.result.shape.rows, expected.result.shape.cols
    if expected.kind != "jacobian" or rows != cols or node.is_scalar or \
            rows != node.shape.rows * node.shape.cols:
        return ""
    diagonal_only = True
    for seed in range(POINTS):
        try:
            _, _, want, got = _values(expected, extended, node, seed)
        except (_AnswerUndefined, MatcalcError, np.linalg.LinAlgError):
            return ""
        if not _same([(got.reshape(-1, order="F"), np.diag(want))]):
            return ""
        diagonal_only &= _same([(want, np.diag(np.diag(want)))])
    wrapped = str(node) if node.kind is Kind.VECTOR else f"vec({node})"
    if diagonal_only:
        return (f"your answer is the diagonal of the Jacobian, the elementwise derivative "
                f"(dF = v * dX as a Hadamard product); the Jacobian is the matrix "
                f"Diag({wrapped})")
    return f"your answer is only the diagonal of the Jacobian; {_OFF_DIAGONAL}"


def _diagonal_only(expected: Derivative, extended: Program, node: Node, samples) -> str:
    """A square answer equal to the Jacobian's diagonal part, off-diagonal entries dropped."""
    if expected.kind != "jacobian":
        return ""
    pairs = [(got, np.diag(np.diag(want))) for _, _, want, got in samples
             if want.ndim == 2 and want.shape[0] == want.shape[1]]
    if len(pairs) != len(samples) or not _same(pairs):
        return ""
    return f"your answer has the Jacobian's diagonal but not the rest; {_OFF_DIAGONAL}"


def _shape_hint(node: Node, result: Node, expected: Derivative) -> str:
    what = _KIND_NAMES[expected.kind]
    if node.shape == result.shape.T:
        return (f"your answer is {node.shape}, the shape of the transpose of the {what} "
                f"({result.shape}); the {what} of a scalar has the shape of {expected.wrt}"
                if expected.kind == "grad" else
                f"your answer is {node.shape}, the shape of the transpose of the {what} "
                f"({result.shape})")
    return f"your answer is {node.shape}, but the {what} is {result.shape}"


class _AnswerUndefined(Exception):
    """The answer has no finite value at a point where the derivative has one."""

    def __init__(self, error: DomainError, seed: int, instance, want: np.ndarray):
        super().__init__(str(error))
        self.error, self.seed, self.instance, self.want = error, seed, instance, want


def _values(expected: Derivative, extended: Program, node: Node, seed: int):
    instance = random_instance(extended, seed=seed)
    want = np.asarray(expected.numpy()(sizes=instance.sizes, **instance.arrays), dtype=float)
    evaluation = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
    try:
        got = np.asarray(to_user_layout(node.kind, evaluation.value(node)), dtype=float)
    except DomainError as error:
        raise _AnswerUndefined(error, seed, instance, want) from error
    return instance, evaluation, want, got


def _relative(got: np.ndarray, want: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-12)
    return float(np.max(np.abs(got - want), initial=0.0)) / scale


def _compare(verdict: Verdict, expected: Derivative, extended: Program, node: Node) -> Verdict:
    worst = 0.0
    samples = []
    for seed in range(POINTS):
        try:
            instance, evaluation, want, got = _values(expected, extended, node, seed)
        except _AnswerUndefined as undefined:
            verdict.ok, verdict.max_rel_error = False, float("inf")
            verdict.hint = ("your answer has no finite value at a point where the "
                            f"{_KIND_NAMES[expected.kind]} has one: "
                            f"{str(undefined.error).splitlines()[0]}")
            verdict.counterexample = {
                "seed": undefined.seed, "sizes": dict(undefined.instance.sizes),
                "inputs": {k: np.asarray(v).tolist()
                           for k, v in undefined.instance.arrays.items()},
                "expected": undefined.want.tolist(), "got": None}
            return verdict
        error = _relative(got, want)
        samples.append((instance, evaluation, want, got))
        verdict.seeds.append(seed)
        if error > worst:
            worst = error
            if error > TOLERANCE:
                verdict.counterexample = {
                    "seed": seed, "sizes": dict(instance.sizes),
                    "inputs": {k: np.asarray(v).tolist() for k, v in instance.arrays.items()},
                    "expected": want.tolist(), "got": got.tolist(),
                }
    verdict.max_rel_error = worst
    verdict.ok = worst <= TOLERANCE
    if not verdict.ok:
        verdict.hint = _diagnose(expected, extended, node, samples)
    return verdict


def _same(pairs: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    return all(a.shape == b.shape and _relative(a, b) <= 1e-7 for a, b in pairs)


def _diagnose(expected: Derivative, extended: Program, node: Node, samples) -> str:
    what = _KIND_NAMES[expected.kind]
    wants = [s[2] for s in samples]
    gots = [s[3] for s in samples]
    if all(g.ndim == 2 and g.shape[0] == g.shape[1] for g in gots) and \
            _same([(g, w.T) for g, w in zip(gots, wants, strict=True)]):
        return f"your answer is the transpose of the {what}"
    if _same([(g, -w) for g, w in zip(gots, wants, strict=True)]):
        return f"your answer is the {what} with the sign flipped"
    ratios = [float(np.sum(g * w) / np.sum(w * w)) for g, w in zip(gots, wants, strict=True)
              if np.sum(w * w) > 0]
    if ratios and np.allclose(ratios, ratios[0], rtol=1e-7) and \
            _same([(g, ratios[0] * w) for g, w in zip(gots, wants, strict=True)]):
        return f"your answer is {ratios[0]:.6g} times the {what}: a constant factor is off"
    for hint in (_missing_factor, _swapped_product, _swapped_kron, _softmax_jacobian,
                 _diagonal_only, _needs_assumption, _missing_term):
        found = hint(expected, extended, node, samples)
        if found:
            return found
    return f"your answer is not the {what} (worst relative error over random points " \
           f"{max(_relative(g, w) for g, w in zip(gots, wants, strict=True)):.2g})"


def _evaluate_on(samples, extended: Program, candidate: Node) -> list[np.ndarray]:
    results = []
    for instance, _evaluation, _want, _got in samples:
        fresh = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
        results.append(np.asarray(to_user_layout(candidate.kind, fresh.value(candidate)),
                                  dtype=float))
    return results


def _inlined(expected: Derivative) -> Node:
    result = expected.result
    for name, body in reversed(list(expected.where.items())):
        result = substitute(result, {name: body})
    return result


def _replace(root: Node, target: Node, replacement: Node) -> Node:
    return ir.replaced(root, lambda node: replacement if node is target else None)


def _matches(samples, extended: Program, candidate: Node, expected: bool = False) -> bool:
    """Whether ``candidate`` has the answer's values (or, ``expected``, the expected values)
    at every sample point."""
    try:
        values = _evaluate_on(samples, extended, candidate)
    except MatcalcError:
        return False
    column = 2 if expected else 3  # samples: (instance, evaluation, want, got)
    return _same([(v, s[column]) for v, s in zip(values, samples, strict=True)])


def _missing_factor(expected: Derivative, extended: Program, node: Node, samples) -> str:
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
            if _matches(samples, extended, candidate):
                if dropped.op == "step":
                    return f"the relu mask {dropped} is missing (relu' = step)"
                return f"a factor of an elementwise product is missing: {dropped}"
    return ""


def _swapped_product(expected: Derivative, extended: Program, node: Node, samples) -> str:
    def swap(target: Node) -> Node | None:
        if target.op == "mul" and not any(a.is_scalar for a in target.args):
            return ir.apply("matmul", *target.args)
        if target.op == "matmul" and not any(a.is_scalar for a in target.args):
            return ir.apply("mul", *target.args)
        return None

    wants = [s[2] for s in samples]
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
        values = _evaluate_on(samples, extended, candidate)
        if _same(list(zip(values, wants, strict=True))):
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


def _swapped_kron(expected: Derivative, extended: Program, node: Node, samples) -> str:
    """kron(A, B) where kron(B, A) (or kron(B', A'), ...) belongs."""
    for target in walk(node):
        if target.op != "kron":
            continue
        for candidate, what in _kron_variants(node, target):
            if candidate.shape == node.shape and \
                    _matches(samples, extended, candidate, expected=True):
                return f"in {target}, {what} {_KRON_IDENTITY}"
    return ""


_ASSUMPTIONS = (
    ("simplex", "sums to 1 (a one-hot label or a probability vector)"),
    ("symmetric", "is symmetric"),
)


def _needs_assumption(expected: Derivative, extended: Program, node: Node, samples) -> str:
    """The answer is right only under an assumption the problem does not declare."""
    for attribute, meaning in _ASSUMPTIONS:
        for name, variable in expected.program.variables.items():
            attributes = variable.params[1]
            if variable.is_scalar or attributes & {attribute, "pm1", "spd", "simplex"}:
                continue
            if attribute == "symmetric" and (variable.kind is not Kind.MATRIX or
                                             not variable.shape.is_square):
                continue
            assumed = ir.var(name, variable.shape, variable.kind, attributes | {attribute})
            variant = replace(extended, variables={**extended.variables, name: assumed})
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


def _agree_at(expected: Derivative, variant: Program, extended: Program, node: Node,
              seed: int) -> bool:
    instance = random_instance(variant, seed=seed)
    want = np.asarray(expected.numpy()(sizes=instance.sizes, **instance.arrays), dtype=float)
    evaluation = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
    got = np.asarray(to_user_layout(node.kind, evaluation.value(node)), dtype=float)
    return got.shape == want.shape and _relative(got, want) <= 1e-7


def _softmax_jacobian(expected: Derivative, extended: Program, node: Node, samples) -> str:
    """The answer took Diag(softmax(u)) for softmax's Jacobian, forgetting the normaliser."""
    program = expected.program
    softmaxes = list(dict.fromkeys(
        item for definition in program.definitions.values() for item in walk(definition.body)
        if item.op == "softmax"))
    if not softmaxes:
        return ""
    # softmax(u) = exp(u) * c with c = softmax(u) / exp(u) held fixed: its Jacobian is Diag(s)
    held = {item: ir.var(f"softmax_normaliser{index}", item.shape, item.kind)
            for index, item in enumerate(softmaxes)}
    exp_of = {item: ir.apply("exp", item.args[0]) for item in softmaxes}
    definitions = {
        name: Definition(name, ir.replaced(definition.body, lambda n: ir.apply(
            "mul", exp_of[n], held[n]) if n in held else None), definition.ref,
            definition.location)
        for name, definition in program.definitions.items()}
    variant = replace(program, variables={**program.variables,
                                          **{v.name: v for v in held.values()}},
                      definitions=definitions, requests=[])
    try:
        wrong = derive(variant, wrt=expected.wrt, of=expected.of, kind=expected.kind)
        for instance, evaluation, _want, got in samples:
            arrays = dict(instance.arrays)
            for item, variable in held.items():
                value = evaluation.value(item) / evaluation.value(exp_of[item])
                arrays[variable.name] = to_user_layout(item.kind, value)
            value = np.asarray(wrong.numpy()(sizes=instance.sizes, **arrays), dtype=float)
            if value.shape != got.shape or _relative(got, value) > 1e-7:
                return ""
    except MatcalcError:
        return ""
    row = any(item.kind is Kind.MATRIX for item in softmaxes)
    return ("your answer takes Diag(s) for the Jacobian of s = softmax(u), forgetting that the "
            "normaliser sum(exp(u)) depends on u too: the Jacobian is Diag(s) - s @ s'"
            + (" (of each row, for a row softmax)" if row else ""))


def _terms(node: Node, sign: float = 1.0, depth: int = 0) -> list[tuple[Node, float]]:
    """The terms of a sum, products distributed over sums: (A' + A) @ x -> A' @ x, A @ x."""
    if depth > 8:
        return [(node, sign)]
    if node.op in ("add", "sub"):
        second = sign if node.op == "add" else -sign
        return _terms(node.args[0], sign, depth + 1) + _terms(node.args[1], second, depth + 1)
    if node.op in ("matmul", "mul"):
        a, b = node.args
        for index, part in ((0, a), (1, b)):
            if part.op in ("add", "sub"):
                other = node.args[1 - index]
                distributed = []
                for term, term_sign in _terms(part, sign, depth + 1):
                    pair = (term, other) if index == 0 else (other, term)
                    try:
                        distributed.append((ir.apply(node.op, *pair), term_sign))
                    except ShapeError:
                        return [(node, sign)]
                return distributed
    if node.op == "neg":
        return _terms(node.args[0], -sign, depth + 1)
    return [(node, sign)]


def _missing_term(expected: Derivative, extended: Program, node: Node, samples) -> str:
    terms = _terms(_inlined(expected))
    if len(terms) < 2:
        return ""
    gots = [s[3] for s in samples]
    for term, sign in terms:
        try:
            values = _evaluate_on(samples, extended, term)
        except MatcalcError:
            continue
        wants = [s[2] - sign * np.broadcast_to(v, s[2].shape) for v, s in
                 zip(values, samples, strict=True)]
        if _same(list(zip(gots, wants, strict=True))):
            return f"a term of the sum is missing: {'' if sign > 0 else '-'}{term}"
    return ""


__all__ = ["Verdict", "verify", "verify_against"]

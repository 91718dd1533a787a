"""Verdicts on an answer: right or wrong at random points, and why when it is wrong."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.ir import Node
from ..core.program import Program
from ..core.shapes import describe
from ..engine.pipeline import run, run_requests
from ..engine.result import Result
from ..errors import DomainError, ShapeError, UnknownNameError
from ..lang.parse import parse
from ..numeric.verdict import VerdictBase
from .answers import answer_node
from .hints import diagnose, diagonal_shape_hint, kron_shape_hint
from .matrix_functions_hint import matrix_function_hint
from .samples import (
    KIND_NAMES,
    SEEDS,
    TOLERANCE,
    AnswerUndefined,
    at_usual_scale,
    lost_to_rounding,
    relative,
    scale_hint,
    values_at,
)
from .shape_hints import batch_shape_hint, shape_hint, transposed_shape_hint


@dataclass
class Verdict(VerdictBase):
    """Whether an answer is right, how far off it is, and a hint when it is not."""

    ok: bool
    max_rel_error: float
    hint: str = ""
    counterexample: dict | None = None
    answer: str = ""
    expected_type: str = ""
    answer_type: str = ""
    seeds: list[int] = field(default_factory=list)
    read_as: str = ""  # the answer as matcalc read it (a misreading shows here)
    read_as_latex: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"correct (max relative error {self.max_rel_error:.1e} at {len(self.seeds)} " \
                   f"random points)"
        return f"wrong: {self.hint}" if self.hint else "wrong"

    def _repr_html_(self) -> str:
        """In a notebook: the verdict, the hint, and the answer as read, typeset."""
        from .notebook import verdict_html

        head = f" (max relative error {self.max_rel_error:.1e})" if self.ok else ""
        return verdict_html(self.ok, head, self.hint, self.read_as_latex, self.read_as)

    def _repr_markdown_(self) -> str:
        """The verdict in a notebook: correct or wrong, the hint, and the answer as read."""
        head = f"**{'correct' if self.ok else 'wrong'}**"
        lines = [f"{head} (max relative error {self.max_rel_error:.1e})" if self.ok else
                 f"{head}: {self.hint}" if self.hint else head]
        if self.read_as_latex or self.read_as:
            lines.append(f"read as: $${self.read_as_latex}$$" if self.read_as_latex else
                         f"read as: `{self.read_as}`")
        return "\n\n".join(lines)


@dataclass
class StepVerdict(VerdictBase):
    """One ``=`` of a derivation: its line (1-based), its text, and whether it holds."""

    line: int
    text: str
    ok: bool
    hint: str = ""
    counterexample: dict | None = None

    def __str__(self) -> str:
        mark = "ok" if self.ok else "wrong"
        return f"line {self.line}: {mark}: {self.text}" + (f"\n  {self.hint}" if self.hint else "")


LINE_STATUSES = ("checked", "read", "unread")


@dataclass
class LineReport:
    """What became of one line of a derivation: ``checked`` (its steps were judged), ``read``
    (read, but it claims nothing to check: a new name's definition, a lone expression) or
    ``unread`` (it cannot be read); ``why`` says which."""

    line: int
    text: str
    status: str
    why: str = ""

    def __str__(self) -> str:
        shown = {"read": "not checked", "unread": "not read"}[self.status]
        return f"line {self.line}: {shown}: {self.text}" + (f"\n  {self.why}" if self.why else "")


@dataclass
class DerivationVerdict(VerdictBase):
    """The verdict on a derivation: every step, what became of every line, and the requested
    derivatives it does not reach.

    ``status`` is ``false`` when a step is false or a line cannot be read (``first_error``
    is the first such), else ``incomplete`` when no step was checked or the derivation stops
    short of a requested derivative (``missing`` says which), else ``holds``; ``ok`` only
    when it holds."""

    steps: list[StepVerdict] = field(default_factory=list)
    layout: str = "denominator"
    lines: list[LineReport] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.first_error is not None:
            return "false"
        if self.gaps:
            return "incomplete"
        return "holds"

    @property
    def ok(self) -> bool:
        return self.status == "holds"

    @property
    def first_error(self) -> StepVerdict | None:
        return next((step for step in self.steps if not step.ok), None)

    @property
    def steps_hold(self) -> bool:
        """Every line was read, at least one step was checked and every step holds; the
        derivation may still stop short of the gradient (``status`` says)."""
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def gaps(self) -> list[str]:
        """Why the derivation is incomplete ([] when it is not)."""
        gaps = [f"line {report.line} could not be read" for report in self.lines
                if report.status == "unread"]
        if not self.steps:
            gaps.append("no step was checked (a step is an = between two expressions whose "
                        "sides mean something already)" if self.lines else "it is empty")
        return gaps + [f"it does not reach {what}" for what in self.missing]

    @property
    def summary(self) -> str:
        """One sentence: every step holds, where the first false step is, or why incomplete."""
        if self.status == "false":
            return f"the first false step is on line {self.first_error.line}"
        if self.status == "incomplete":
            return "incomplete: " + "; ".join(self.gaps)
        return "every step holds"

    def rows(self) -> list[str]:
        """A row for each step and for each line that was not checked, in line order (a line
        that cannot be read shows once, as not read)."""
        unread = {(report.line, report.text) for report in self.lines
                  if report.status == "unread"}
        entries = [(step.line, 0, str(step)) for step in self.steps
                   if (step.line, step.text) not in unread]
        entries += [(report.line, 1, str(report)) for report in self.lines
                    if report.status != "checked"]
        return [text for *_, text in sorted(entries, key=lambda entry: entry[:2])]

    def __str__(self) -> str:
        return "\n".join(self.rows() + [f"{self.summary} ({self.layout} layout)"])

    def _repr_html_(self) -> str:
        """In a notebook: each step typeset (matcalc/grading/notebook.py)."""
        from .notebook import steps_html

        return steps_html(self.steps, str(self).splitlines()[-1])


def verify(source: str | Program, wrt: str, answer: str, of: str | None = None,
           kind: str = "grad", let: str | Sequence[str] | None = None,
           latex: bool | None = None, allow_deltas: bool = False) -> Verdict:
    """Check ``answer`` against the ``kind`` of ``of`` with respect to ``wrt``.

    ``latex``: True reads the answer as LaTeX, False as the language, None (the default)
    decides by its look (a backslash command, ``^{``, ``_{``, ``^T`` before a name).
    ``wrt="w,b"`` with ``kind="hessian"`` names the cross block d^2 of / d vec(w) d vec(b)'.
    An answer is a closed expression over the problem's names and its own definitions;
    ``allow_deltas`` (the instructor's choice) lets it use the result's named deltas too.
    """
    program = source if isinstance(source, Program) else parse(source, let=let)
    names = [name.strip() for name in wrt.split(",")]
    if len(names) == 2 and kind == "hessian":
        blocks = run(program, wrt=names, of=of, kind=kind)
        return verify_against(next(b for b in blocks if b.across), answer, latex, allow_deltas)
    return verify_against(run(program, wrt=[wrt], of=of, kind=kind)[0], answer, latex,
                          allow_deltas)


DELTAS_OPTION = "--allow-deltas"
# the names matcalc gives the intermediates of its results: delta1, J_h, grad_w
_RESULT_NAME = re.compile(r"delta|J_|grad_")


def _read_answer(expected: Result, answer: str, latex: bool | None,
                 allow_deltas: bool = False) -> tuple[Program, Node]:
    """The answer over the problem; with ``allow_deltas``, the result's own names (delta1,
    ``\\delta_2``) are known when the answer uses them without defining them.

    Without it, an answer is read over the problem alone: a result's name is an unknown name
    wherever it stands (``W' @ delta1`` as much as ``delta1``), and the refusal is the same
    for every name spelled like one, so it tells nothing about the result (not even whether
    it has such a name)."""
    size = None if expected.result.is_scalar else expected.result.shape  # sizes a bare I
    try:
        return answer_node(expected.program, answer, latex, size)
    except UnknownNameError as error:
        deltas = _named_deltas(expected) if allow_deltas else {}
        if deltas:
            try:
                return answer_node(expected.program.extended(deltas), answer, latex, size)
            except UnknownNameError:
                raise error from None
        name = getattr(error, "name", None)
        if allow_deltas or not isinstance(name, str) or not _RESULT_NAME.match(name):
            raise
        raise UnknownNameError(
            f"{name} is not a name of the problem: write it out, or define it in the answer "
            f"({name} = ...; ...); an answer may use the names of matcalc's result (delta1, "
            f"\\delta_2) only where the instructor allows it ({DELTAS_OPTION}, or "
            "allow_deltas = true in the rubric)", error.location, error.source) from None


def _named_deltas(expected: Result) -> dict[str, Node]:
    """The deltas the result is written with: its own, or those of the problem's request that
    derives it together with other variables (as ``matcalc derive`` shows them), with the
    names its requests share (``q1 = sigmoid(X @ w)`` of a gradient and a Hessian)."""
    printed = _as_printed(expected)
    if any(name not in expected.where for name in printed):
        return printed
    if expected.where:
        return dict(expected.where)
    for request in expected.program.requests:
        if expected.wrt in request.wrt and len(request.wrt) > 1 and \
                request.kind == expected.kind and str(request.of) == expected.of:
            for result in run(expected.program, wrt=list(request.wrt), of=expected.of,
                              kind=expected.kind, joint=False):
                if result.wrt == expected.wrt:
                    return dict(result.where)
    return {}


def _as_printed(expected: Result) -> dict[str, Node]:
    """The where-definitions of the result as ``matcalc derive`` prints the problem's requests
    (a quantity several requests repeat has one name), or none."""
    if len(expected.program.requests) < 2:
        return {}
    for group in run_requests(expected.program):
        for result in group:
            if result.key == expected.key:
                return dict(result.where)
    return {}


def verify_against(expected: Result, answer: str, latex: bool | None = None,
                   allow_deltas: bool = False) -> Verdict:
    """Check ``answer`` against a derivative already derived (graders reuse one for many)."""
    try:
        extended, node = _read_answer(expected, answer, latex, allow_deltas)
    except ShapeError as error:  # an answer whose shapes do not fit is a wrong answer
        return Verdict(False, float("inf"), f"your answer does not type-check: {error}",
                       answer=answer, expected_type=expected.type)
    except DomainError as error:  # a division by a literal 0: defined nowhere
        return Verdict(False, float("inf"), "your answer has no finite value at any point: "
                       f"{error}", answer=answer, expected_type=expected.type)
    from ..present.latex import to_latex

    verdict = Verdict(False, float("inf"), answer=answer, expected_type=expected.type,
                      answer_type=describe(node.kind, node.shape), read_as=str(node),
                      read_as_latex=to_latex(node))
    result = expected.result
    if node.shape != result.shape:
        verdict.hint = transposed_shape_hint(expected, extended, node) or \
            kron_shape_hint(expected, extended, node) or \
            diagonal_shape_hint(expected, extended, node) or \
            batch_shape_hint(expected, extended, node) or \
            shape_hint(node, result, expected)
        return verdict
    return _compare(verdict, expected, extended, node)


def _compare(verdict: Verdict, expected: Result, extended: Program, node: Node) -> Verdict:
    worst = 0.0
    samples, lost = [], []
    for seed in SEEDS:
        try:
            sample = values_at(expected, extended, node, seed)
        except AnswerUndefined as undefined:
            verdict.ok, verdict.max_rel_error = False, float("inf")
            verdict.hint = matrix_function_hint(expected, extended, node) or (
                "your answer has no finite value at a point where the "
                f"{KIND_NAMES[expected.kind]} has one: {str(undefined.error).splitlines()[0]}")
            verdict.counterexample = {
                "seed": undefined.seed, "sizes": dict(undefined.instance.sizes),
                "inputs": {k: np.asarray(v).tolist()
                           for k, v in undefined.instance.arrays.items()},
                "expected": undefined.want.tolist(), "got": None}
            return verdict
        instance, want, got = sample.instance, sample.want, sample.got
        verdict.seeds.append(seed)
        if sample.lost:  # rounding decides the answer's value here: this point judges nothing
            lost.append(sample)
            continue
        error = relative(got, want)
        samples.append(sample)
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
    if verdict.ok and lost:  # right where it could be judged, undecided elsewhere
        raise lost_to_rounding(lost, "this answer")
    if not verdict.ok:
        usual = at_usual_scale(samples)
        if not usual:  # judged at a scaled point only: no hint is worked out
            verdict.hint = f"your answer is not the {KIND_NAMES[expected.kind]} (relative " \
                           f"error {worst:.2g} at the point of seed " \
                           f"{verdict.counterexample['seed']})"
        elif all(relative(s.got, s.want) <= TOLERANCE for s in usual):
            verdict.hint = scale_hint(verdict.counterexample["seed"], "your answer",
                                      KIND_NAMES[expected.kind])
        else:
            verdict.hint = diagnose(expected, extended, node, usual)
    return verdict


__all__ = ["DerivationVerdict", "LineReport", "StepVerdict", "Verdict", "verify", "verify_against"]

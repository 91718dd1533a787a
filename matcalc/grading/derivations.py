"""Checking a derivation line by line: every ``=`` is a claim, judged at random points.

A derivation is text in the language or in LaTeX (``align`` environments, ``&=``, ``\\\\``), one
step a line; ``a = b = c`` is two steps, a line starting with ``=`` continues the chain above.
A line ``M = ...`` whose left side is a new name defines it (so do ``where`` / ``let`` /
``\\text{with}`` lines); the problem's own names and the differentials ``dX`` (``\\mathrm{d}X``)
of its variables and definitions may be used.  A differential is a directional derivative along
random directions: ``dE = -(y / x) : dx`` is checked as an identity in (x, dx), ``dV`` of a
definition V being its true differential.  A gradient line (``\\frac{\\partial E}{\\partial C} =
...``, ``dE_dC = ...``) is compared with the true gradient, in the layout the derivation states
(denominator, the default: a gradient has the variable's shape; numerator: it is transposed).

Each step is judged against its own left side, so a mistake does not make the steps after it
wrong; a false step gets a counterexample and a hint from the hints of :mod:`.hints`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from ..core import ir
from ..core.ir import Node
from ..core.program import Program
from ..core.shapes import Kind
from ..engine.accumulate import Derivation, differential
from ..engine.pipeline import run
from ..engine.result import CONVENTIONS, Result
from ..errors import LimitError, MatcalcError, ParseError, UnsupportedError
from ..lang.derivation_text import Step, derivation_steps, plain_name
from ..lang.derivative_notation import derivative_written, differentials_written, operators_d
from ..lang.latex_answers import name_written
from ..lang.parse import parse
from ..numeric.sampling import Instance
from .answers import answer_node
from .hints import diagnose
from .samples import (
    SEEDS,
    TOLERANCE,
    AnswerUndefined,
    at_usual_scale,
    problem_point,
    relative,
    scale_hint,
    values_at,
)


@dataclass
class StepVerdict:
    """One ``=`` of the derivation: its line (1-based), its text, and whether it holds."""

    line: int
    text: str
    ok: bool
    hint: str = ""
    counterexample: dict | None = None

    def __str__(self) -> str:
        mark = "ok" if self.ok else "wrong"
        return f"line {self.line}: {mark}: {self.text}" + (f"\n  {self.hint}" if self.hint else "")


@dataclass
class DerivationVerdict:
    """The verdict on every step; ``first_error`` is the first false one."""

    steps: list[StepVerdict] = field(default_factory=list)
    layout: str = "denominator"

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def first_error(self) -> StepVerdict | None:
        return next((step for step in self.steps if not step.ok), None)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [str(step) for step in self.steps]
        verdict = "every step holds" if self.ok else \
            f"the first false step is on line {self.first_error.line}"
        return "\n".join(lines + [f"{verdict} ({self.layout} layout)"])

    def _repr_html_(self) -> str:
        """In a notebook: each step typeset (matcalc/grading/notebook.py)."""
        from .notebook import steps_html

        return steps_html(self.steps, str(self).splitlines()[-1])


def _moving(program: Program, steps: list[Step], wrt: str | None) -> set[str]:
    """The variables the derivation moves: those whose differential it writes (``dX``,
    ``\\mathrm{d}X``) or whose gradient it states, and ``wrt``; when it names none, those the
    problem's requests name, else all of them."""
    written: set[str] = set()
    for step in steps:
        for side in step.sides:
            written |= differentials_written(side.text)
            named = derivative_written(side.text)  # a gradient line names what moves
            if named is not None:
                written.add(plain_name(named.wrt) or name_written(named.wrt) or named.wrt)
    moving = {name for name in program.variables if name in written}
    if wrt in program.variables:
        moving.add(wrt)
    requested = {name for request in program.requests for name in request.wrt
                 if name in program.variables}
    return moving or requested or set(program.variables)


class _Checker:
    def __init__(self, program: Program, layout: str, moving: set[str], of: str | None = None):
        last = program.last_definition
        self.layout, self.of = layout, of or (last.name if last is not None else None)
        directions = {name: ir.var(f"d{name}", node.shape, node.kind)
                      for name, node in program.variables.items()
                      if name in moving and f"d{name}" not in program.variables and
                      f"d{name}" not in program.definitions}
        self.program = replace(program, variables={
            **program.variables, **{d.name: d for d in directions.values()}})
        self.problem = self.program  # the problem and its directions: where steps are tested
        self.derivation = Derivation(self.program)
        self.moves = dict(directions)
        self.points: dict[int, Instance] = {}
        for name in program.definitions:
            self._add_differential(name)

    def _add_differential(self, name: str) -> None:
        """``d<name>``, the true differential of a definition along the random directions."""
        taken = self.program.variables.keys() | self.program.definitions.keys()
        if f"d{name}" in taken or not self.moves:
            return
        self._name_differential(self.program, self.program.definitions[name].ref, f"d{name}")

    def _name_differential(self, program: Program, node: Node, name: str) -> None:
        """Extend ``program`` with ``name``, the true differential of ``node`` along the random
        directions (with the deltas it needs)."""
        self.derivation.program = program
        change = differential(self.derivation, node, self.moves)
        fresh = {n: b for n, b in self.derivation.where.items() if n not in program.definitions}
        self.program = program.extended({**fresh, name: change})

    def read(self, text: str) -> Node:
        text = self.differentials_named(text)
        extended, node = answer_node(self.program, text)
        self.program = extended
        return node

    def define(self, name: str, text: str) -> None:
        text = self.differentials_named(text)
        _, node = answer_node(self.program, text)
        written = self.new_name(name)
        self.program = self.program.extended({written: node})
        self._add_differential(written)

    def differentials_named(self, text: str) -> str:
        """``text`` with each ``d(...)`` (``d tr(...)``, ``\\mathrm{d}\\log\\det(X)``) replaced by
        a fresh name for the true differential of what it applies to."""
        taken = self.program.variables.keys() | self.program.definitions.keys()
        for operator in reversed(list(operators_d(text, bare="d" not in taken))):
            inner = self.differentials_named(text[operator.inner:operator.end])
            extended, node = answer_node(self.program, inner)
            if not self.moves:
                raise UnsupportedError("d(...) in a derivation that moves no variable")
            name = _fresh("dpart", self.program.variables.keys() |
                          extended.definitions.keys())
            self._name_differential(extended, node, name)
            text = f"{text[:operator.start]} {name} {text[operator.end:]}"
        return text

    def new_name(self, text: str) -> str | None:
        """The name ``text`` writes (``M``, ``\\delta_1``) when the problem does not know it."""
        name = plain_name(text) or name_written(text)
        if name is None or name in self.program.variables or name in self.program.definitions:
            return None
        return name

    def is_new_name(self, text: str) -> bool:
        return self.new_name(text) is not None

    def gradient_of(self, text: str) -> Result | None:
        """The true gradient a derivative-notation left side names (in the layout):
        ``\\frac{\\partial f}{\\partial w}``, ``\\nabla_w f``, ``\\frac{df}{dw}``, ``dJ_dw`` ..."""
        written = derivative_written(text)
        if written is None:
            return None
        try:
            wrt = self._name(written.wrt)
            of = self._function(written.of) if written.of else self.of
        except LimitError:
            raise
        except MatcalcError:
            if written.certain:
                raise
            return None  # \frac{dx}{dy} of names that are not the problem's: a quotient
        return self.gradient(of, wrt)

    def _function(self, text: str) -> str:
        """The name of the function a derivative is of: a name of the problem (``f``,
        ``f(w)``), or a fresh definition of an expression (``\\nabla_w \\|Xw - y\\|^2``)."""
        extended, node = answer_node(self.program, text.strip())
        if node.op in ("var", "ref"):
            return node.name
        if not node.is_scalar:
            raise ParseError(f"the gradient of {text}: it is not a scalar")
        name = _fresh("f", extended.variables.keys() | extended.definitions.keys())
        self.program = extended.extended({name: node})
        return name

    def gradient(self, of: str | None, wrt: str) -> Result:
        """d of / d wrt in the derivation's layout: numerator layout writes the derivative with
        respect to a vector as a row (CS224n's convention; a matrix keeps its shape)."""
        (result,) = run(self.program, wrt=[wrt], of=of, kind="grad")
        if self.layout == "numerator" and result.result.kind is Kind.VECTOR:
            result = replace(result, result=ir.apply("transpose", result.result))
        return result

    def define_from(self, name: str, text: str) -> Node | Result:
        """``name = text``: text is an expression, or derivative notation (then name is the
        true derivative, which the rest of the line is checked against)."""
        gradient = self.gradient_of(text)
        written = self.new_name(name)
        if gradient is None:
            self.define(name, text)
            return self.program.definitions[written].ref
        self.program = self.program.extended({**gradient.where, written: gradient.result})
        return gradient

    def _name(self, text: str) -> str:
        node = answer_node(self.program, text.strip())[1]
        if node.op not in ("var", "ref"):
            raise ParseError(f"{text} in a derivative must be a name of the problem")
        return node.name

    def _point(self, seed: int) -> Instance:
        """The point of ``seed`` for the problem and its directions, drawn once: nothing the
        derivation defines narrows or moves it (a definition that has no finite value there
        makes the step that uses it false)."""
        if seed not in self.points:
            self.points[seed] = problem_point(self.problem, seed)
        return self.points[seed]

    def judge(self, line: int, text: str, left: Node | Result, right: Node) -> StepVerdict:
        expected = left if isinstance(left, Result) else Result(
            "step", "left side", "", left, self.program, left, Derivation(self.program))
        expected = replace(expected, program=self.program)
        if right.shape != expected.result.shape:
            return StepVerdict(line, text, False, f"the two sides have different shapes: "
                               f"{expected.result.shape} on the left, {right.shape} on the right")
        samples, worst, example = [], 0.0, None
        for seed in SEEDS:
            try:
                sample = values_at(expected, self.program, right, seed, self._point(seed))
            except AnswerUndefined as undefined:
                return StepVerdict(line, text, False, "the right side has no finite value at a "
                                   "point where the problem is defined: "
                                   f"{str(undefined.error).splitlines()[0]}",
                                   _example(undefined.instance, undefined.want, None))
            if not np.all(np.isfinite(sample.want)):
                return StepVerdict(line, text, False, "the left side has no finite value at a "
                                   "point where the problem is defined",
                                   _example(sample.instance, None, sample.got))
            error = relative(sample.got, sample.want)
            samples.append(sample)
            if error > worst:
                worst = error
                example = _example(sample.instance, sample.want, sample.got)
        if worst <= TOLERANCE:
            return StepVerdict(line, text, True)
        usual = at_usual_scale(samples)
        if all(relative(s.got, s.want) <= TOLERANCE for s in usual):
            return StepVerdict(line, text, False, scale_hint(example["seed"], "the right side",
                                                             "left side"), example)
        hint = diagnose(expected, self.program, right, usual)
        return StepVerdict(line, text, False, hint.replace("the step", "the left side"), example)


def _example(instance: Instance, left, right) -> dict:
    """A counterexample: the point (seed, sizes, inputs) and each side's value there."""
    return {"seed": instance.seed, "sizes": dict(instance.sizes),
            "inputs": {k: np.asarray(v).tolist() for k, v in instance.arrays.items()},
            "left": None if left is None else left.tolist(),
            "right": None if right is None else right.tolist()}


def _fresh(stem: str, taken) -> str:
    return next(f"{stem}{n}" for n in range(1, len(taken) + 2) if f"{stem}{n}" not in taken)


def verify_derivation(source: str | Program, derivation: str, wrt: str | None = None,
                      of: str | None = None, layout: str = "denominator") -> DerivationVerdict:
    """Check every step of a hand derivation of a problem (see the module's docstring).

    ``wrt`` names the variable the derivation moves when its text does not say (it writes no
    ``dX`` of a variable and no gradient line); ``of`` is the function a gradient line
    ``\\nabla_w = ...`` refers to (default: the problem's last definition);
    ``\\frac{\\partial J}{\\partial w}`` and ``dJ_dw`` name theirs."""
    if layout not in CONVENTIONS:
        raise UnsupportedError(f"unknown layout {layout!r}; layouts are "
                               f"{', '.join(CONVENTIONS)}")
    program = source if isinstance(source, Program) else parse(source)
    steps = derivation_steps(derivation)
    checker = _Checker(program, layout, _moving(program, steps, wrt), of)
    verdict = DerivationVerdict(layout=layout)
    previous: Node | Result | None = None
    for step in _reading_order(checker, steps):
        try:
            chain = _chain(checker, step, previous, derivation)
        except LimitError:
            raise  # out of time or past a size: the limit's error, not a false step
        except MatcalcError as error:
            why = str(error).splitlines()[0]
            verdict.steps.append(StepVerdict(step.line, step.text, False,
                                             f"cannot read this line: {why}"))
            previous = None
            continue
        for left, right in zip(chain, chain[1:], strict=False):
            verdict.steps.append(checker.judge(step.line, step.text, left, right))
        if chain or not step.trailing:
            previous = chain[-1] if chain else None
    return verdict


def _reading_order(checker: _Checker, steps: list[Step]) -> Iterator[Step]:
    """The steps in the order they are read: on each line, a trailing definition of a new name
    (``\\nabla_x f = 2 W^\\top z, \\qquad z = Wx``) before the statements that use it."""
    index = 0
    while index < len(steps):
        end = index
        while end < len(steps) and steps[end].line == steps[index].line:
            end += 1
        line = steps[index:end]
        first = [step for step in line if step.trailing and (step.defining or (
            len(step.sides) == 2 and checker.is_new_name(step.sides[0].text)))]
        yield from first + [step for step in line if step not in first]
        index = end


def _chain(checker: _Checker, step: Step, previous: Node | Result | None,
           derivation: str) -> list[Node | Result]:
    """What each side of the step's ``=`` signs stands for, in order (empty for a definition,
    which claims nothing); an error while reading a side carries that side's place in the
    file."""
    sides, texts = step.sides, [side.text for side in step.sides]
    current = sides[0] if sides else None
    try:
        if step.defining and (len(texts) != 2 or not texts[0] or not texts[1]):
            raise ParseError(f"'{step.text}' defines nothing: write where NAME = expression")
        named = checker.gradient_of(texts[0]) if texts[0] else None
        if step.defining or (len(texts) == 2 and named is None and
                             checker.is_new_name(texts[0])):
            current = sides[1]
            checker.define_from(texts[0], texts[1])
            return []
        chain: list[Node | Result] = []
        if texts[0] == "":
            if previous is None:
                raise ParseError("a line starting with = continues no step above")
            chain.append(previous)
        elif named is not None:
            chain.append(named)
        elif len(texts) > 1 and checker.is_new_name(texts[0]):
            # M = ... = ...: M is defined by the first (a lone new name is read below)
            current = sides[1]
            chain.append(checker.define_from(texts[0], texts[1]))
            sides = sides[1:]
        else:
            chain.append(checker.read(texts[0]))
        for side in sides[1:]:
            current = side
            chain.append(checker.read(side.text))
        return chain
    except LimitError:
        raise
    except MatcalcError as error:
        raise (current.place(error, derivation) if current is not None else error) from None


__all__ = ["DerivationVerdict", "StepVerdict", "verify_derivation"]

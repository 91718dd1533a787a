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
from dataclasses import replace

import numpy as np

from ..core import ir
from ..core.ir import Node, walk
from ..core.program import Program
from ..core.shapes import Kind
from ..engine.accumulate import Derivation, differential
from ..engine.pipeline import run
from ..engine.result import CONVENTIONS, Result
from ..errors import LimitError, MatcalcError, ParseError, ShapeError, UnsupportedError
from ..lang.derivation_text import Step, derivation_steps, plain_name
from ..lang.derivative_notation import derivative_written, differentials_written, operators_d
from ..lang.latex_answers import name_written
from ..lang.parse import parse
from ..numeric.sampling import Instance
from .answers import answer_node
from .hints import diagnose
from .reach import gradient_terms, holds_differentials
from .samples import (
    SEEDS,
    TOLERANCE,
    AnswerUndefined,
    at_usual_scale,
    lost_to_rounding,
    problem_point,
    relative,
    scale_hint,
    values_at,
)
from .verdicts import DerivationVerdict, LineReport, StepVerdict


def _written(program: Program, steps: list[Step]) -> tuple[set[str], set[str]]:
    """The variables whose differential (``dX``, ``\\mathrm{d}X``) or gradient (dJ/dw,
    ``\\partial w``) the derivation writes, and those the problem's requests name."""
    written: set[str] = set()
    for step in steps:
        for side in step.sides:
            written |= differentials_written(side.text)
            named = derivative_written(side.text)  # a gradient line names what moves
            if named is not None:  # b_1 is the problem's b1 unless it has a b_1
                spelled = [plain_name(named.wrt), name_written(named.wrt), named.wrt]
                written.add(next((name for name in spelled if name in program.variables),
                                 named.wrt))
    requested = {name for request in program.requests for name in request.wrt
                 if name in program.variables}
    return {name for name in program.variables if name in written}, requested


def _moving(program: Program, written: set[str], requested: set[str], wrt: str | None
            ) -> set[str]:
    """The variables the derivation moves: those it writes the differential or gradient of,
    and ``wrt``; when it names none, those the problem's requests name, else all of them."""
    moving = set(written)
    if wrt in program.variables:
        moving.add(wrt)
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
        self.differentials: dict[str, str | None] = {}  # d<name> (or dpart<k>): what it is of
        self.points: dict[int, Instance] = {}
        self.evaluations: dict[int, dict] = {}
        self.unstated: dict[str, str] = {}  # names of derivatives no step has stated yet
        for name in program.definitions:
            self._add_differential(name)

    def _add_differential(self, name: str) -> None:
        """``d<name>``, the true differential of a definition along the random directions."""
        taken = self.program.variables.keys() | self.program.definitions.keys()
        if f"d{name}" in taken or not self.moves:
            return
        self._name_differential(self.program, self.program.definitions[name].ref, f"d{name}")
        self.differentials[f"d{name}"] = name

    def _name_differential(self, program: Program, node: Node, name: str) -> None:
        """Extend ``program`` with ``name``, the true differential of ``node`` along the random
        directions (with the deltas it needs)."""
        self.derivation.program = program
        change = differential(self.derivation, node, self.moves)
        fresh = {n: b for n, b in self.derivation.where.items() if n not in program.definitions}
        self.program = program.extended({**fresh, name: change})

    def read(self, text: str, left: bool = False) -> Node:
        """A side of a step; a right side may not use a name that stands for a derivative
        nothing has stated yet (``G = \\nabla_x f`` alone): the step would compare the true
        derivative with itself."""
        extended, node = self._side(text)
        if not left:
            self._refuse_unstated(node, text)
        self.program = extended
        return node

    def _refuse_unstated(self, node: Node, text: str) -> None:
        used = sorted({item.name for item in walk(node) if item.op == "ref" and
                       item.name in self.unstated})
        if used:
            raise UnsupportedError(
                f"{used[0]} names the derivative {self.unstated[used[0]]} and no step has said "
                f"what it equals: {text.strip()} would check it against itself; state it "
                f"({used[0]} = ... on the line that names it, or a line {used[0]} = ...)")

    def stated(self, name: str) -> None:
        """A step claims what ``name`` equals: it may be used from now on."""
        self.unstated.pop(name, None)

    def define(self, name: str, text: str) -> None:
        _, node = self._side(text)
        self._refuse_unstated(node, text)
        written = self.new_name(name)
        self.program = self.program.extended({written: node})
        self._add_differential(written)

    def _side(self, text: str) -> tuple[Program, Node]:
        """One side of a step, its ``d(...)`` replaced by their true differentials; an error in
        a side so rewritten keeps no column (the side's own place is given instead)."""
        named = self.differentials_named(text)
        try:
            return answer_node(self.program, named)
        except LimitError:
            raise
        except MatcalcError as error:
            if named != text:
                error.location = None
            raise

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
            self.differentials[name] = None
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

    def holds(self, expected: Result, node: Node) -> bool:
        """Whether ``node`` has ``expected``'s values at every test point (no hint sought)."""
        expected = replace(expected, program=self.program)
        if node.shape != expected.result.shape:
            return False
        for seed in SEEDS:
            try:
                sample = values_at(expected, self.program, node, seed, self._point(seed),
                                   trusted=self.problem, kept=self._kept(seed))
            except (AnswerUndefined, MatcalcError):
                return False
            if sample.lost or relative(sample.got, sample.want) > TOLERANCE:
                return False
        return True

    def _ref(self, name: str) -> Node:
        return self.program.definitions[name].ref if name in self.program.definitions else \
            self.program.variables[name]

    def _value(self, name: str) -> Result:
        """The value of ``name`` as the expected side of a comparison."""
        node = self._ref(name)
        return Result("step", "left side", "", node, self.program, node,
                      Derivation(self.program))

    def reached(self, side: Node | Result, compared: bool) -> set[str]:
        """The variables whose gradient of ``of`` the side of a step that holds states: a
        gradient line's (when it was compared), or those a differential form reads off."""
        if isinstance(side, Result):  # of the function, or of an expression equal to it
            if not compared or side.of is None or self.of is None:
                return set()
            same = side.of == self.of or self.holds(self._value(self.of), self._ref(side.of))
            return {side.wrt} if same else set()
        directions = {node: (name, False) for name, node in self.moves.items()}
        for name, of in self.differentials.items():  # d vec(X) of a definition vec(X)
            body = self.program.definitions[of].body if of in self.program.definitions \
                else None
            if body is not None and body.op == "vec" and body.args[0].op == "var" and \
                    body.args[0].name in self.moves:
                directions[self.program.definitions[name].ref] = (body.args[0].name, True)
        terms = gradient_terms(side, directions, lambda node: holds_differentials(
            node, directions, set(self.differentials)))
        reached = set()
        for direction, coefficient in (terms or {}).items():
            variable, vectorised = directions[direction]
            try:
                (true,) = run(self.program, wrt=[variable], of=self.of, kind="grad")
            except MatcalcError:
                continue
            if vectorised:
                true = replace(true, result=ir.apply("vec", true.result))
            if self.holds(true, coefficient):
                reached.add(variable)
        return reached

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

    def _kept(self, seed: int) -> dict:
        """The evaluations at the point of ``seed``, kept from step to step (the program only
        gains names as the derivation is read)."""
        return self.evaluations.setdefault(seed, {})

    def judge(self, line: int, text: str, left: Node | Result, right: Node) -> StepVerdict:
        expected = left if isinstance(left, Result) else Result(
            "step", "left side", "", left, self.program, left, Derivation(self.program))
        expected = replace(expected, program=self.program)
        if right.shape != expected.result.shape:
            return StepVerdict(line, text, False, f"the two sides have different shapes: "
                               f"{expected.result.shape} on the left, {right.shape} on the right")
        samples, lost, worst, example = [], [], 0.0, None
        for seed in SEEDS:
            try:
                sample = values_at(expected, self.program, right, seed, self._point(seed),
                                   trusted=self.problem, kept=self._kept(seed))
            except AnswerUndefined as undefined:
                return StepVerdict(line, text, False, "the right side has no finite value at a "
                                   "point where the problem is defined: "
                                   f"{str(undefined.error).splitlines()[0]}",
                                   _example(undefined.instance, undefined.want, None))
            if not np.all(np.isfinite(sample.want)):
                return StepVerdict(line, text, False, "the left side has no finite value at a "
                                   "point where the problem is defined",
                                   _example(sample.instance, None, sample.got))
            if sample.lost:  # rounding decides the right side's value here
                lost.append(sample)
                continue
            error = relative(sample.got, sample.want)
            samples.append(sample)
            if error > worst:
                worst = error
                example = _example(sample.instance, sample.want, sample.got)
        if worst <= TOLERANCE and lost:
            raise lost_to_rounding(lost, "this step's right side")
        if worst <= TOLERANCE:
            return StepVerdict(line, text, True)
        usual = at_usual_scale(samples)
        if not usual:
            return StepVerdict(line, text, False, f"the right side is not the left side "
                               f"(relative error {worst:.2g})", example)
        if all(relative(s.got, s.want) <= TOLERANCE for s in usual):
            return StepVerdict(line, text, False, scale_hint(example["seed"], "the right side",
                                                             "left side"), example)
        hint = diagnose(expected, self.program, right, usual)
        return StepVerdict(line, text, False, hint.replace("the step", "the left side"), example)


def _example(instance: Instance, left, right) -> dict:
    """A counterexample: the point (its seed and sizes) and each side's value there."""
    return {"seed": instance.seed, "sizes": dict(instance.sizes),
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
    ``\\frac{\\partial J}{\\partial w}`` and ``dJ_dw`` name theirs.  Every step holds only when
    every line was read, at least one step was checked and the derivation reaches the gradient
    of ``of`` with respect to ``wrt`` (else the variables it moves, else those the problem
    requests); otherwise the verdict is incomplete (:class:`DerivationVerdict`)."""
    if layout not in CONVENTIONS:
        raise UnsupportedError(f"unknown layout {layout!r}; layouts are "
                               f"{', '.join(CONVENTIONS)}")
    program = source if isinstance(source, Program) else parse(source)
    steps = derivation_steps(derivation)
    written, requested = _written(program, steps)
    checker = _Checker(program, layout, _moving(program, written, requested, wrt), of)
    targets = {wrt} if wrt else written or requested or set(program.variables)
    verdict = DerivationVerdict(layout=layout)
    reached: set[str] = set()
    previous: Node | Result | None = None
    for step in _reading_order(checker, steps):
        try:
            chain, why = _chain(checker, step, previous, derivation)
        except LimitError:
            raise  # out of time or past a size: the limit's error, not a false step
        except ShapeError as error:  # read, and wrong: its shapes do not fit
            verdict.steps.append(StepVerdict(step.line, step.text, False, "this line does not "
                                             f"type-check: {str(error).splitlines()[0]}"))
            verdict.lines.append(LineReport(step.line, step.text, "checked"))
            previous = None
            continue
        except MatcalcError as error:  # a line that cannot be read is never taken as holding
            why = f"cannot read this line: {str(error).splitlines()[0]}"
            verdict.steps.append(StepVerdict(step.line, step.text, False, why))
            verdict.lines.append(LineReport(step.line, step.text, "unread", why))
            previous = None
            continue
        try:
            judged = [checker.judge(step.line, step.text, left, right)
                      for left, right in zip(chain, chain[1:], strict=False)]
        except UnsupportedError as error:  # rounding decides a side's value: not judged
            why = str(error)
            verdict.steps.append(StepVerdict(step.line, step.text, False, why))
            verdict.lines.append(LineReport(step.line, step.text, "unread", why))
            previous = None
            continue
        verdict.steps += judged
        verdict.lines.append(LineReport(step.line, step.text, "checked" if judged else "read",
                                        "" if judged else why))
        if judged and all(item.ok for item in judged):
            for index, side in enumerate(chain):
                reached |= checker.reached(side, compared=len(chain) > 1 and index < 2)
        if judged or not step.trailing:  # a trailing definition leaves the chain as it is
            previous = chain[-1] if chain else None
    verdict.missing = [_gradient_name(checker.of, name) for name in sorted(targets - reached)]
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
           derivation: str) -> tuple[list[Node | Result], str]:
    """What each side of the step's ``=`` signs stands for, in order (a new name's definition
    first), and why a step with one side claims nothing; an error while reading a side carries
    that side's place in the file.  A definition (``where t = ...``) of a name that already
    means something (``df``, ``x``) is a claim about it, and so is every ``=`` after the one
    that defines a new name."""
    sides, texts = step.sides, [side.text for side in step.sides]
    current = sides[0] if sides else None
    try:
        if step.defining and (len(texts) < 2 or not texts[0] or not texts[1]):
            raise ParseError(f"'{step.text}' defines nothing: write where NAME = expression")
        named = checker.gradient_of(texts[0]) if texts[0] else None
        chain: list[Node | Result] = []
        if texts[0] == "":
            if previous is None:
                raise ParseError("a line starting with = continues no step above")
            chain.append(previous)
        elif named is not None:
            chain.append(named)
        elif len(texts) > 1 and checker.is_new_name(texts[0]):
            # M = ... (= ...): M is defined by the first; the rest are claims about it
            current = sides[1]
            name = checker.new_name(texts[0])
            chain.append(checker.define_from(texts[0], texts[1]))
            sides = sides[1:]
            if len(sides) == 1:
                if isinstance(chain[-1], Result):  # a name for a derivative, nothing claimed
                    checker.unstated[name] = texts[1].strip()
                return chain, f"defines {name}, a new name: nothing to check"
        else:  # a name that already means something is a claim about it
            chain.append(checker.read(texts[0], left=True))
            if len(sides) > 1:
                checker.stated(plain_name(texts[0]) or texts[0].strip())
        for side in sides[1:]:
            current = side
            chain.append(checker.read(side.text))
        return chain, "an expression without =: it claims nothing"
    except LimitError:
        raise
    except MatcalcError as error:
        raise (current.place(error, derivation) if current is not None else error) from None


def _gradient_name(of: str | None, wrt: str) -> str:
    """The derivative a derivation does not reach, and how a step states it."""
    return f"the gradient of {of} with respect to {wrt} (d{of}_d{wrt} = ..., or " \
           f"d{of} = G : d{wrt} with the gradient as G)"


__all__ = ["DerivationVerdict", "LineReport", "StepVerdict", "verify_derivation"]

"""The derivation API: ``derive(source, wrt, of, kind)`` -> :class:`Derivative` (or several).

A Derivative holds the result as an expression of the problem's variables and definitions, plus
the where-definitions it introduced (the named deltas), and presents it as text that parses back,
as SymPy, and as a NumPy callable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import ir
from .engine import Derivation, gradients, hessian, jacobian
from .errors import DeclarationError, ShapeError, UnknownNameError, UnsupportedError, did_you_mean
from .facts import Facts
from .ir import LEAVES, Node, walk
from .lang.parse import parse
from .limits import time_budget
from .numeric import prepare, to_user_layout
from .present.latex import LatexStyle, aligned, derivative_symbol, latex_name, to_latex
from .program import Program
from .shapes import describe
from .simplify import Simplifier, divisors_of, left_to_right, tidy

KINDS = ("grad", "jacobian", "hessian")
LAYOUTS = ("mixed", "numerator", "denominator")


@dataclass
class Derivative:
    """One derived result: ``kind`` of ``of`` with respect to ``wrt``."""

    kind: str
    of: str
    wrt: str
    result: Node
    program: Program
    of_node: Node
    derivation: Derivation

    @property
    def name(self) -> str:
        """The result's name in ``.text``: ``dJ_dW``, or ``d2f_dx2`` for a Hessian."""
        if self.kind == "hessian":
            return f"d2{self.of}_d{self.wrt}2"
        return f"d{self.of}_d{self.wrt}"

    @property
    def shape(self) -> tuple[str, str]:
        """The result's (rows, cols) as dimension expressions."""
        return (str(self.result.shape.rows), str(self.result.shape.cols))

    @property
    def type(self) -> str:
        """The result's type as a declaration would write it: ``matrix(Dh, Dx)``."""
        return describe(self.result.kind, self.result.shape)

    @property
    def where(self) -> dict[str, Node]:
        """The where-definitions the result uses, in order (name -> expression)."""
        return _where_for([self.result], self.derivation)

    @property
    def text(self) -> str:
        """The result in the input language, after its where-definitions; appended to the
        problem, it parses."""
        lines = [f"{name} = {body}" for name, body in self.where.items()]
        lines.append(f"{self.name} = {self.result}")
        return "\n".join(lines)

    def latex_lines(self, style: LatexStyle | None = None, layout: str = "mixed"
                    ) -> list[tuple[str, str]]:
        """(left side, right side) pairs: the where-definitions, then the result.

        ``layout``: "mixed" (the default, matcalc's convention: a gradient has the variable's
        shape, a Jacobian is (size F) x (size X)), "numerator" (gradients transposed) or
        "denominator" (Jacobians transposed)."""
        style = style or _style(self)
        if layout not in LAYOUTS:
            raise UnsupportedError(f"unknown layout {layout!r}; layouts are "
                                   f"{', '.join(LAYOUTS)}")
        lines = [(latex_name(name, body.kind, style), to_latex(body, style))
                 for name, body in self.where.items()]
        result = self.result
        if (layout == "numerator" and self.kind == "grad") or \
                (layout == "denominator" and self.kind == "jacobian"):
            result = self._simplifier()(ir.apply("transpose", result))
        lines.append((self.symbol(style), to_latex(result, style)))
        return lines

    def _simplifier(self) -> Simplifier:
        program, where = self.program, self.derivation.where

        def body_of(name: str) -> Node | None:
            if name in program.definitions:
                return program.definitions[name].body
            return where.get(name)

        return Simplifier(Facts(body_of), named_expressions(program, Facts(body_of)))

    def symbol(self, style: LatexStyle | None = None) -> str:
        """The derivative's symbol: ``\\frac{\\partial J}{\\partial W}``."""
        program = self.program
        wrt = program.variables.get(self.wrt)
        wrt_kind = wrt.kind if wrt is not None else program.definitions[self.wrt].ref.kind
        return derivative_symbol(self.kind, self.of, self.wrt, self.of_node.kind, wrt_kind,
                                 style or _style(self))

    @property
    def steps(self):
        """The derivation step by step (:mod:`matcalc.steps`): a Steps for a gradient or a
        Jacobian; for a Hessian, the gradient's Steps and then the Jacobian's."""
        from .steps import hessian_steps, jacobian_steps, steps

        if self.kind == "hessian":
            return hessian_steps(self.program, self.wrt, of=self.of)
        show = steps if self.kind == "grad" else jacobian_steps
        return show(self.program, self.wrt, of=self.of)

    @property
    def latex(self) -> str:
        """The result and its where-definitions as a LaTeX aligned block (reads back with
        ``matcalc.verify``)."""
        return self.latex_block()

    def latex_block(self, bold: bool = False, layout: str = "mixed") -> str:
        """The aligned block; ``bold`` sets vectors and matrices in bold; ``layout`` as in
        :meth:`latex_lines`."""
        return aligned(self.latex_lines(_style(self, bold), layout))

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex}\n$$"

    def _repr_markdown_(self) -> str:
        return f"$$\n{self.latex}\n$$\n\n```\n{self.text}\n```"

    @property
    def expr(self):
        """The result as a SymPy expression (where-definitions inlined; the problem's own
        definitions stay symbols, see ``Program.to_sympy()``)."""
        from .to_sympy import to_sympy

        inlined: dict[str, object] = {}
        for name, body in self.where.items():
            inlined[name] = to_sympy(body, inlined)
        return to_sympy(self.result, inlined)

    def numpy(self, compiled: bool = True) -> Callable[..., object]:
        """A function of keyword arrays returning the result (vectors as 1-D arrays): the
        generated NumPy code (:mod:`matcalc.codegen`), or with ``compiled=False`` the
        interpreter of :mod:`matcalc.numeric` (which raises DomainError off the domain)."""
        if compiled:
            from .codegen import compiled as compile_code

            function = compile_code([self])
            wrt = self.wrt
            return lambda sizes=None, **arrays: function(sizes=sizes, **arrays)[wrt]
        return _evaluator([self])(lambda values: values[0])

    def code(self, name: str = "gradient", hoist: bool = True) -> str:
        """The source of a NumPy module computing this result (see :mod:`matcalc.codegen`)."""
        from .codegen import generate

        return generate([self], name, hoist)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Derivative {self.kind} {self.of} wrt {self.wrt}: {self.type}>"


class Derivatives(list):
    """Several Derivatives of one request, sharing their where-definitions."""

    @property
    def text(self) -> str:
        """All results after the where-definitions they share."""
        if not self:
            return ""
        where: dict[str, Node] = {}
        for derivative in self:
            where.update(derivative.where)
        lines = [f"{name} = {body}" for name, body in where.items()]
        lines += [f"{d.name} = {d.result}" for d in self]
        return "\n".join(lines)

    @property
    def latex(self) -> str:
        """All results after the where-definitions they share, as one aligned block."""
        return self.latex_block()

    def latex_block(self, bold: bool = False, layout: str = "mixed") -> str:
        """The aligned block; ``bold`` sets vectors and matrices in bold; ``layout`` as in
        :meth:`Derivative.latex_lines`."""
        if not self:
            return ""
        style = _style(self[0], bold)
        lines: dict[str, tuple[str, str]] = {}
        for derivative in self:
            for left, right in derivative.latex_lines(style, layout)[:-1]:
                lines.setdefault(left, (left, right))
        results = [derivative.latex_lines(style, layout)[-1] for derivative in self]
        return aligned([*lines.values(), *results])

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex}\n$$"

    def numpy(self, compiled: bool = True) -> Callable[..., dict[str, object]]:
        """A function of keyword arrays returning {wrt name: result}, computing shared work
        once (generated code; ``compiled=False``: the interpreter)."""
        if compiled and self:
            from .codegen import compiled as compile_code

            return compile_code(list(self))
        return _evaluator(list(self))(lambda values: {d.wrt: v for d, v in zip(self, values,
                                                                                 strict=True)})

    def code(self, name: str = "gradient", hoist: bool = True) -> str:
        """The source of a NumPy module computing these results, sharing work."""
        from .codegen import generate

        return generate(list(self), name, hoist)


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


def _style(derivative: Derivative, bold: bool = False) -> LatexStyle:
    program = derivative.program
    taken = frozenset(program.variables) | frozenset(program.definitions) | \
        frozenset(derivative.derivation.where)
    return LatexStyle(bold=bold, taken=taken)


def _where_for(results: Sequence[Node], derivation: Derivation) -> dict[str, Node]:
    needed: set[str] = set()
    pending = list(results)
    while pending:
        for node in walk(pending.pop()):
            if node.op == "ref" and node.name in derivation.where and node.name not in needed:
                needed.add(node.name)
                pending.append(derivation.where[node.name])
    return {name: body for name, body in derivation.where.items() if name in needed}


def _evaluator(derivatives: list[Derivative]):
    def wrap(shape_output: Callable[[list[object]], object]) -> Callable[..., object]:
        programs = {}
        for derivative in derivatives:
            key = id(derivative.derivation)
            if key not in programs:
                programs[key] = derivative.program.extended(derivative.derivation.where)

        def evaluate(sizes: dict[str, int] | None = None, **arrays) -> object:
            evaluations = {key: prepare(program, arrays, sizes, check_attributes=False)
                           for key, program in programs.items()}
            values = [to_user_layout(d.result.kind,
                                     evaluations[id(d.derivation)].value(d.result))
                      for d in derivatives]
            return shape_output(values)

        return evaluate

    return wrap


def derive(source: str | Program, wrt: str | Sequence[str] | None = None, of: str | None = None,
           kind: str = "grad", let: str | Sequence[str] | None = None, simplify: bool = True
           ) -> Derivative | Derivatives:
    """Derive ``kind`` (grad, jacobian or hessian) of ``of`` with respect to ``wrt``.

    ``of`` defaults to the last definition.  With ``wrt`` a single name the result is a
    :class:`Derivative`; with a list, :class:`Derivatives`.  With neither ``wrt`` nor ``of`` and a
    problem that has requests, the requests are derived (a Derivative for a single result).
    """
    if kind not in KINDS:
        raise UnsupportedError(f"unknown kind {kind!r}; kinds are grad, jacobian, hessian")
    with time_budget():  # reading the text counts against the derivation's time
        program = source if isinstance(source, Program) else parse(source, let=let)
        return _derive_program(program, wrt, of, kind, simplify)


def _derive_program(program: Program, wrt: str | Sequence[str] | None, of: str | None,
                    kind: str, simplify: bool) -> Derivative | Derivatives:
    if wrt is None and of is None and program.requests:
        results = derive_requests(program, simplify)
        return results[0] if len(results) == 1 else results
    of_node = _target(program, of)
    names = [wrt] if isinstance(wrt, str) else list(wrt) if wrt is not None else \
        _variables_of(program, of_node)
    if not names:
        raise DeclarationError(f"{of_node} has no variables to differentiate with respect to")
    results = _derive(program, of_node, names, kind, simplify)
    return results[0] if isinstance(wrt, str) else results


def derive_requests(program: Program, simplify: bool = True) -> Derivatives:
    """Every request of the program, derived, in one list."""
    results = Derivatives()
    for group in derive_by_request(program, simplify):
        results.extend(group)
    return results


def derive_by_request(program: Program, simplify: bool = True) -> list[Derivatives]:
    """The results of each request of the program, one Derivatives a request."""
    return [_derive(program, request.of, list(request.wrt), request.kind, simplify)
            for request in program.requests]


def render(groups: Sequence[Derivatives]) -> str:
    """Groups of results as the command line prints them: a header, the where-definitions
    and the results of each."""
    blocks = []
    for group in groups:
        first = group[0]
        header = f"# {first.kind} {first.of} wrt {', '.join(d.wrt for d in group)}"
        blocks.append(f"{header}\n{group.text}")
    return "\n\n".join(blocks)


def _target(program: Program, of: str | None) -> Node:
    if of is None:
        last = program.last_definition
        if last is None:
            raise UnknownNameError("the problem has no definition to differentiate")
        return last.ref
    return program.lookup(of)


def _variables_of(program: Program, node: Node) -> list[str]:
    used: set[str] = set()
    roots = [node] + [program.definitions[n].body for n in program.needed_definitions(node)]
    for root in roots:
        used.update(n.name for n in walk(root) if n.op == "var")
    return [name for name in program.variables if name in used]


def _tidied(derivation: Derivation, results: dict[str, Node], of_node: Node
            ) -> tuple[Derivation, dict[str, Node]]:
    """The results simplified, with their deltas inlined or renumbered (simplify.py)."""
    program = derivation.program

    def body_of(name: str) -> Node | None:
        if name in program.definitions:
            return program.definitions[name].body
        return derivation.where.get(name)

    # an expression the problem named is written by its name (X @ w + b -> z)
    simplifier = Simplifier(Facts(body_of), named_expressions(program, Facts(body_of)),
                            divisors_of(program, of_node))
    reserved = set(program.variables) | set(program.definitions) | set(program.dimensions)
    where, results = tidy(dict(derivation.where), results, simplifier, reserved)
    where = {name: left_to_right(body) for name, body in where.items()}
    results = {name: left_to_right(body) for name, body in results.items()}
    return Derivation(program, where), results


def _simplified_hessians(derivation: Derivation, of_node: Node, wrt: list[str]
                         ) -> tuple[Derivation, dict[str, Node]]:
    """Hessians as Jacobians of the *simplified* gradients: 2 A' (A x - b) differentiates to
    2 A' A, where the raw gradient's norms would leave terms that only cancel on paper."""
    results: dict[str, Node] = {}
    for name in wrt:
        gradient = gradients(derivation, of_node, [name])[name]
        key = f"grad_{name}"
        derivation, tidied = _tidied(derivation, {**results, key: gradient}, of_node)
        results = {n: tidied[n] for n in results}
        named = derivation.name(key, tidied[key])
        results[name] = jacobian(derivation, named, name)
    return derivation, results


def _derive(program: Program, of_node: Node, wrt: list[str], kind: str,
            simplify: bool = True) -> Derivatives:
    for name in wrt:
        if name not in program.variables and name not in program.definitions:
            known = list(program.variables) + list(program.definitions)
            raise UnknownNameError(f"cannot differentiate with respect to unknown name "
                                   f"'{name}'{did_you_mean(name, known)}")
    if kind in ("grad", "hessian") and not of_node.is_scalar:
        raise ShapeError(f"{kind} needs a scalar function, but {of_node} is "
                         f"{describe(of_node.kind, of_node.shape)}; use kind='jacobian'")
    with time_budget():
        derivation, results = _results(program, of_node, wrt, kind, simplify)
    of_name = of_node.name if of_node.op in ("ref", "var") else "f"
    return Derivatives(Derivative(kind, of_name, name, results[name], program, of_node,
                                  derivation) for name in wrt)


def _results(program: Program, of_node: Node, wrt: list[str], kind: str, simplify: bool
             ) -> tuple[Derivation, dict[str, Node]]:
    derivation = Derivation(program)
    if kind == "grad":
        results = gradients(derivation, of_node, wrt)
    elif kind == "jacobian":
        results = {name: jacobian(derivation, of_node, name) for name in wrt}
    elif not simplify:
        results = {name: hessian(derivation, of_node, name) for name in wrt}
    else:
        derivation, results = _simplified_hessians(derivation, of_node, wrt)
    if simplify:
        derivation, results = _tidied(derivation, results, of_node)
    return derivation, results


__all__ = ["Derivative", "Derivatives", "derive", "derive_by_request", "derive_requests",
           "render"]

"""The steps of a gradient's derivation, as a hand derivation writes them.

For ``grad f wrt X``, from f back to X, each definition ``v = body`` on the way gives:

1. the definition itself;
2. its differential ``dv = ...`` in terms of the differentials of what it uses (the matrix-form
   rules of each operation's definition in ops/: ``d(A @ B) = dA @ B + A @ dB``, ...);
3. for each definition and for X, once all its users are done, the Frobenius form
   ``df = G : dv``, read off by moving each factor across ``:`` with the identities of the
   operations' adjoints (named, with their sources), ``G`` being the gradient of f with respect
   to v (named deltas shared across the steps).

The last form, ``df = G : dX``, gives the gradient ``df/dX = G``.  Every step is a claim that
:func:`check_steps` tests numerically: each Frobenius form by finite differences (the checker
perturbs v itself), each differential against a central difference along random directions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core import ir
from ..core.ir import Node, walk
from ..core.program import Program
from ..engine.accumulate import Derivation, differential
from ..engine.pipeline import (
    differentiated_gradient,
    reached_gradients,
    reached_jacobians,
    run,
    simplifier_for,
    target,
)
from ..engine.result import Result
from ..errors import UnsupportedError
from ..lang.parse import parse
from ..rules.operations import ADJOINTS, JACOBIANS


@dataclass
class Step:
    """One definition on the way from f to X (or X itself, at the end)."""

    name: str
    body: Node | None  # None for the variable X
    differential: Node | None
    directions: dict[str, Node] = field(default_factory=dict)  # d<arg> variables by argument
    gradient: Result | None = None  # df/d(name): the Frobenius form df = G : d name
    identities: list[str] = field(default_factory=list)


@dataclass
class Steps:
    """The steps of one gradient, with the named deltas their Frobenius forms share."""

    of: str
    wrt: str
    steps: list[Step]
    gradients: list[Result]
    kind: str = "grad"

    @property
    def where(self) -> dict[str, Node]:
        where: dict[str, Node] = {}
        for derivative in self.gradients:
            where.update(derivative.where)
        return where

    @property
    def text(self) -> str:
        """The steps as text: numbered, each with its differential and its Frobenius form
        (gradients) or vec form (Jacobians)."""
        if self.kind == "jacobian":
            return self._jacobian_text()
        lines = [f"# steps: grad {self.of} wrt {self.wrt}"]
        number = 0
        for step in self.steps:
            if step.gradient is not None and step.name != self.of:
                lines.append(f"   d{self.of} = {self.frobenius_form(step)}")
                for identity in step.identities:
                    lines.append(f"      by {identity}")
            if step.body is not None:
                number += 1
                lines.append(f"{number}. {step.name} = {step.body}")
                lines.append(f"   d{step.name} = {step.differential}")
        final = self.steps[-1].gradient
        assert final is not None
        lines.append(f"so d{self.of}/d{self.wrt} = {final.result}")
        if self.where:
            lines.append("where " + "; ".join(f"{n} = {b}" for n, b in self.where.items()))
        return "\n".join(lines)

    def _jacobian_text(self) -> str:
        lines = [f"# steps: jacobian {self.of} wrt {self.wrt}"]
        for number, step in enumerate(self.steps, 1):
            assert step.gradient is not None
            lines.append(f"{number}. {step.name} = {step.body}")
            lines.append(f"   d{step.name} = {step.differential}")
            lines.append(f"   vec(d{step.name}) = {self.vec_form(step)}")
            for identity in step.identities:
                lines.append(f"      by {identity}")
            for name, body in step.gradient.where.items():
                lines.append(f"      where {name} = {body}")
        lines.append(f"so d vec({self.of}) / d vec({self.wrt})' = "
                     f"{self.steps[-1].gradient.result}")
        return "\n".join(lines)

    def direction(self, name: str) -> Node:
        """The differential ``d<name>`` of a definition or of the variable, as a variable."""
        program = self.gradients[0].program
        like = shape_node(program, name)
        return ir.var(f"d{name}", like.shape, like.kind)

    def frobenius_form(self, step: Step) -> Node:
        """``G : d<name>``: the gradient with respect to the step's name against its
        differential (a node, so that every printer brackets it as it parses)."""
        assert step.gradient is not None
        return ir.apply("frob", step.gradient.result, self.direction(step.name))

    def vec_form(self, step: Step) -> Node:
        """``J @ vec(dX)``: the step's Jacobian applied to the variable's differential."""
        assert step.gradient is not None
        direction = self.direction(self.wrt)
        moved = direction if direction.is_scalar else ir.apply("vec", direction)
        return ir.apply("matmul", step.gradient.result, moved)

    @property
    def latex(self) -> str:
        """The steps as one aligned block (identities as text notes)."""
        from .latex import LatexStyle, aligned, latex_name, to_latex

        program = self.steps[0].gradient.program if self.kind == "jacobian" else \
            self.gradients[0].program
        renames = {}
        for step in self.steps:
            for arg, direction in step.directions.items():
                renames[direction.name] = "\\mathrm{d}" + latex_name(arg, direction.kind)
        for name in [step.name for step in self.steps] + [self.wrt]:
            direction = self.direction(name)
            renames.setdefault(direction.name, "\\mathrm{d}" + latex_name(name, direction.kind))
        style = LatexStyle(taken=frozenset(program.variables) | frozenset(program.definitions),
                           renames=tuple(renames.items()))
        d_of = "\\mathrm{d}" + latex_name(self.of)
        lines = []
        if self.kind == "jacobian":
            for step in self.steps:
                assert step.gradient is not None and step.body is not None
                d_name = "\\mathrm{d}" + latex_name(step.name, step.body.kind)
                lines.append((latex_name(step.name, step.body.kind), to_latex(step.body, style)))
                lines.append((d_name, to_latex(step.differential, style)))
                lines.append((f"\\operatorname{{vec}}({d_name})",
                              to_latex(self.vec_form(step), style)))
                lines += [(latex_name(n, b.kind), to_latex(b, style))
                          for n, b in step.gradient.where.items()]
            return aligned(lines)
        for step in self.steps:
            if step.gradient is not None and step.name != self.of:
                d_name = "\\mathrm{d}" + latex_name(step.name, step.gradient.result.kind)
                lines.append((d_of, to_latex(self.frobenius_form(step), style)))
            if step.body is not None and step.differential is not None:
                lines.append((latex_name(step.name, step.body.kind), to_latex(step.body, style)))
                lines.append(("\\mathrm{d}" + latex_name(step.name, step.body.kind),
                              to_latex(step.differential, style)))
        final = self.steps[-1].gradient
        assert final is not None
        lines.append((f"\\frac{{\\partial {latex_name(self.of)}}}"
                      f"{{\\partial {latex_name(self.wrt)}}}", to_latex(final.result, style)))
        lines += [(latex_name(name, body.kind), to_latex(body, style))
                  for name, body in self.where.items()]
        return aligned(lines)

    def as_json(self) -> list[dict[str, object]]:
        """One object a step.  A gradient's: the Frobenius form reached (``frobenius``, with the
        ``identities`` used), then the definition and its differential.  A Jacobian's: the
        definition, its differential, its vec form (``vec``, with the ``identities`` used and the
        ``where``-definitions it names).  ``stage`` says which ("gradient" or "jacobian")."""
        if self.kind == "jacobian":
            return [self._jacobian_json(step) for step in self.steps]
        items: list[dict[str, object]] = []
        for step in self.steps:
            item: dict[str, object] = {"stage": "gradient", "name": step.name}
            if step.gradient is not None and step.name != self.of:
                item["frobenius"] = f"d{self.of} = {self.frobenius_form(step)}"
                item["identities"] = list(step.identities)
            if step.body is not None:
                item["definition"] = f"{step.name} = {step.body}"
                item["differential"] = f"d{step.name} = {step.differential}"
            items.append(item)
        return items

    def _jacobian_json(self, step: Step) -> dict[str, object]:
        assert step.gradient is not None
        return {
            "stage": "jacobian", "name": step.name,
            "definition": f"{step.name} = {step.body}",
            "differential": f"d{step.name} = {step.differential}",
            "vec": f"vec(d{step.name}) = {self.vec_form(step)}",
            "identities": list(step.identities),
            "where": {name: str(body) for name, body in step.gradient.where.items()},
        }

    def __str__(self) -> str:
        return self.text

    def _repr_latex_(self) -> str:
        """The steps rendered in a notebook."""
        return f"$$\n{self.latex}\n$$"


def _program(source: str | Program) -> Program:
    return source if isinstance(source, Program) else parse(source)


def _function(program: Program, of: str | None, what: str) -> str:
    """The name of the definition whose steps are shown."""
    of_node = target(program, of)
    if of_node.op != "ref":
        raise UnsupportedError(f"steps need the function to be a named definition "
                               f"({what} = ...), not a request's expression")
    return of_node.name


def steps(source: str | Program, wrt: str, of: str | None = None) -> Steps:
    """The steps of ``grad of wrt`` (of: a scalar definition; default the last one)."""
    program = _program(source)
    (result,) = run(program, wrt=[wrt], of=_function(program, of, "f"))
    return gradient_steps(result)


def jacobian_steps(source: str | Program, wrt: str, of: str | None = None) -> Steps:
    """The steps of ``jacobian of wrt``: forward from X, each definition's differential and
    its vec form ``vec(dv) = J_v vec(dX)`` with the vec/Kronecker identities used."""
    program = _program(source)
    (result,) = run(program, wrt=[wrt], of=_function(program, of, "F"), kind="jacobian")
    return forward_steps(result)


def hessian_steps(source: str | Program, wrt: str, of: str | None = None, across: str = ""
                  ) -> list[Steps]:
    """The steps of ``hessian of wrt``: the gradient's steps, then the steps of the Jacobian of
    the gradient (named ``grad_<wrt>`` with its deltas), which is the Hessian; with ``across``,
    the Jacobian is taken with respect to it (the cross block d^2 of / d wrt d across')."""
    program = _program(source)
    of_name = _function(program, of, "f")
    results = run(program, wrt=[wrt, across] if across else [wrt], of=of_name, kind="hessian")
    (block,) = [r for r in results if r.wrt == wrt and r.across == across]
    return hessian_parts(block)


def steps_of(result: Result) -> Steps | list[Steps]:
    """The steps of a derived result, read from the derivation that made it: a Steps for a
    gradient or a Jacobian; for a Hessian, the gradient's Steps and then the Jacobian's."""
    if result.of_node.op != "ref":
        raise UnsupportedError("steps need the function to be a named definition "
                               "(f = ...), not a request's expression")
    if result.kind == "hessian":
        return hessian_parts(result)
    return gradient_steps(result) if result.kind == "grad" else forward_steps(result)


def gradient_steps(result: Result) -> Steps:
    """A gradient's steps: each definition from the function back to the variable, its
    differential, and the gradient the derivation reached there (for a Hessian block, those of
    the gradient it differentiated)."""
    program, of_name, wrt = result.program, result.of, result.wrt
    path = _path(program, of_name, wrt)
    gradients = reached_gradients(result, [name for name in path if name != of_name] + [wrt])
    by_name = {derivative.wrt: derivative for derivative in gradients}
    simplifier = simplifier_for(program, None, program.definitions[of_name].ref)
    shown = []
    for name in path:
        if name == wrt and name in program.variables:
            continue
        body = program.definitions[name].body
        directions = _directions(program, body, path, wrt)
        shown.append(Step(name, body, simplifier(differential(Derivation(program), body,
                                                              directions)),
                          directions, by_name.get(name), _identities(program, name, path)))
    shown.append(Step(wrt, None, None, {}, by_name[wrt], _identities(program, wrt, path)))
    return Steps(of_name, wrt, shown, gradients)


def forward_steps(result: Result) -> Steps:
    """A Jacobian's steps: forward from the variable, each definition, its differential and
    the Jacobian the derivation reached there (for a Hessian block, over the problem extended by
    the gradient it differentiated)."""
    if result.kind == "hessian":
        program, of_name = differentiated_gradient(result)
        wrt = result.across or result.wrt
    else:
        program, of_name, wrt = result.program, result.of, result.wrt
    path = [name for name in reversed(_path(program, of_name, wrt))
            if name in program.definitions and name != wrt]
    jacobians = reached_jacobians(result, path)
    simplifier = simplifier_for(program, None, program.definitions[of_name].ref)
    shown = []
    for name, jacobian in zip(path, jacobians, strict=True):
        body = program.definitions[name].body
        directions = _directions(program, body, path, wrt)
        shown.append(Step(name, body, simplifier(differential(Derivation(program), body,
                                                              directions)),
                          directions, jacobian, _forward_identities(body, directions)))
    return Steps(of_name, wrt, shown, [jacobians[-1]], kind="jacobian")


def hessian_parts(result: Result) -> list[Steps]:
    """A Hessian block's steps: the gradient's, then the Jacobian's of that gradient."""
    return [gradient_steps(result), forward_steps(result)]


def _forward_identities(body: Node, directions: dict[str, Node]) -> list[str]:
    found: list[str] = []
    for node in walk(body):
        if node.op in JACOBIANS and any(
                n.op in ("var", "ref") and n.name in directions for n in walk(node)):
            doc = " ".join((JACOBIANS[node.op].__doc__ or "").split())
            if doc and doc not in found:
                found.append(doc)
    return found


def _directions(program: Program, body: Node, path: list[str], wrt: str) -> dict[str, Node]:
    active = [arg for arg in _direct_arguments(body) if arg in path or arg == wrt]
    return {arg: ir.var(f"d{arg}", shape_node(program, arg).shape,
                        shape_node(program, arg).kind) for arg in active}


def shape_node(program: Program, name: str) -> Node:
    if name in program.variables:
        return program.variables[name]
    return program.definitions[name].ref


def _direct_arguments(body: Node) -> list[str]:
    return list(dict.fromkeys(n.name for n in walk(body) if n.op in ("var", "ref")))


def _path(program: Program, of: str, wrt: str) -> list[str]:
    """The definitions between f and X that depend on X, from f back (topological order)."""
    depends: set[str] = {wrt}
    for name, definition in program.definitions.items():
        if any(n.op in ("var", "ref") and n.name in depends for n in walk(definition.body)):
            depends.add(name)
    needed = program.needed_definitions(program.definitions[of].ref)
    ordered = [name for name in needed if name in depends and name != of] + [of]
    path = list(reversed(ordered))
    if wrt in program.definitions and wrt not in path:
        path.append(wrt)
    return path + ([wrt] if wrt in program.variables else [])


def _identities(program: Program, name: str, path: list[str]) -> list[str]:
    """The adjoint identities of the operations through which the users of ``name`` on the
    path reach it."""
    found: list[str] = []
    for user in path:
        if user == name or user not in program.definitions:
            continue
        body = program.definitions[user].body
        for node in walk(body):
            for index, arg in enumerate(node.args):
                if any(n.op in ("var", "ref") and n.name == name for n in walk(arg)) and \
                        node.op in ADJOINTS:
                    doc = " ".join((ADJOINTS[node.op][index].__doc__ or "").split())
                    if doc and doc not in found:
                        found.append(doc)
    return found


__all__ = ["Step", "Steps", "forward_steps", "gradient_steps", "hessian_parts", "hessian_steps",
           "jacobian_steps", "steps", "steps_of"]

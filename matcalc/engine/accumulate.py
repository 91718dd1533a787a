"""The derivation engine: reverse accumulation in matrix form, forward Jacobians in vec form.

Gradients: start with ``1 : dF``, walk the definitions last to first, and push each cotangent
through the adjoint rule of every operation (``ops/``).  The cotangent that reaches
a definition is named (``delta_theta``) and used by name below it, so results grow linearly with
depth and the gradients of several variables share their deltas.

Jacobians: walk the definitions first to last, computing ``d vec(D) / d vec(X)'`` of each
definition from its arguments' Jacobians (``ops/``); each is named too.  Hessians:
the Jacobian of the gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core import ir
from ..core.algebra import Term, add, identity, size
from ..core.ir import LEAVES, Node, walk
from ..core.program import Program, dependencies
from ..core.shapes import ONE, Kind
from ..errors import UnsupportedError
from ..limits import check_time
from ..rules.operations import ADJOINTS, DIFFERENTIALS, JACOBIANS


@dataclass
class Derivation:
    """Definitions introduced by a derivation (name -> body), in the order they were made, and
    what the accumulation reached on its way, kept so that the steps of a derivation are read
    from it, never derived again:

    - ``cotangents``: reverse accumulation's gradient of the function with respect to each name
      it reached (a definition's named delta), and with respect to each variable asked for;
    - ``jacobians``: forward accumulation's Jacobian of each definition it reached (named
      ``J_...``, the function's own as computed), by (variable, name);
    - ``named``: the simplified gradient a Hessian differentiates, named, by variable;
    - ``raw``: the derivation as accumulated, before its results were simplified (None for
      that derivation itself)."""

    program: Program
    where: dict[str, Node] = field(default_factory=dict)
    cotangents: dict[str, Node] = field(default_factory=dict)
    jacobians: dict[tuple[str, str], Node] = field(default_factory=dict)
    named: dict[str, Node] = field(default_factory=dict)  # a Hessian's gradient, by variable
    raw: Derivation | None = None

    def name(self, prefix: str, body: Node) -> Node:
        """A where-definition ``prefix... = body`` and the reference to it (leaves stay as they
        are)."""
        if body.op in LEAVES or (body.op in ("neg", "transpose") and body.args[0].op in LEAVES):
            return body
        def taken(candidate: str) -> bool:
            program = self.program
            return candidate in self.where or candidate in program.variables or \
                candidate in program.definitions or candidate in program.dimensions

        name, counter = prefix, 1
        while taken(name):
            counter += 1
            name = f"{prefix}_{counter}"
        self.where[name] = body
        return ir.ref(name, body)

    def body(self, name: str) -> Node:
        if name in self.where:
            return self.where[name]
        return self.program.definitions[name].body

    def needed(self, root: Node) -> set[str]:
        """The definitions (the program's and the derived ones) ``root`` depends on."""
        return dependencies(root, self.body)

    def order(self) -> list[str]:
        """All definition names, the program's then the derived ones."""
        return list(self.program.definitions) + list(self.where)


def _active(derivation: Derivation, root: Node, wrt: set[str]) -> set[Node]:
    """The nodes under ``root`` (following definitions) that depend on a name in ``wrt``."""
    active_definitions: set[str] = set()
    for name in derivation.order():
        if name in wrt or any(
            (n.op == "var" and n.name in wrt) or (n.op == "ref" and n.name in active_definitions)
            for n in walk(derivation.body(name))
        ):
            active_definitions.add(name)
    active: set[Node] = set()
    bodies = [root] + [derivation.body(name) for name in derivation.order()]
    for body in bodies:
        for node in walk(body):
            if node.op == "var" and node.name in wrt:
                active.add(node)
            elif node.op == "ref" and node.name in active_definitions:
                active.add(node)
            elif any(arg in active for arg in node.args):
                active.add(node)
    return active


def gradients(derivation: Derivation, of: Node, wrt: list[str]) -> dict[str, Node]:
    """The gradient of the scalar ``of`` with respect to each name in ``wrt`` (variables or
    definitions), sharing named deltas in ``derivation.where``."""
    program = derivation.program
    targets = set(wrt)
    active = _active(derivation, of, targets)
    # what depends on any variable: a cotangent shared by several such arguments (each moving,
    # or computed from variables) is named whichever of them the request differentiates, so
    # that every request of a problem names the same quantities (attention's scores'
    # cotangent, with or without the keys moving)
    varying = _active(derivation, of, set(program.variables))
    results: dict[str, Term] = {}
    incoming: dict[str, Term] = {}

    def pull_back(root: Node, g: Node, out: Node, label: str) -> None:
        local: dict[Node, Term] = {root: g}
        inner = 0
        for node in reversed(list(walk(root))):
            check_time()
            cotangent = local.pop(node, None)
            if cotangent is None:
                continue
            if node.op == "var":
                if node.name in targets:
                    results[node.name] = add(results.get(node.name), cotangent)
                continue
            if node.op == "ref":
                incoming[node.name] = add(incoming.get(node.name), cotangent)
                continue
            if node.op in LEAVES:
                continue
            rules = ADJOINTS.get(node.op)
            if rules is None:  # pragma: no cover - every operation has its rules
                raise UnsupportedError(f"no adjoint rule for {node.op}")
            if node is not root and sum(arg in active or (arg in varying and not _bare(arg))
                                        for arg in node.args) > 1:
                # a cotangent that several arguments share (the logits inside a softmax) is
                # named, like a definition's
                inner += 1
                cotangent = derivation.name(f"delta_{label}_{inner}", cotangent)
            for index, arg in enumerate(node.args):
                if arg in active:
                    moved = rules[index](node, out if node is root else node, cotangent)
                    local[arg] = add(local.get(arg), moved)

    pull_back(of, ir.const(1.0), of, of.name if of.op == "ref" else "f")
    reached: dict[str, Node] = {}
    for name in reversed(program.needed_definitions(of)):
        cotangent = incoming.get(name)
        if cotangent is None:
            continue
        definition = program.definitions[name]
        named = reached[name] = derivation.name(f"delta_{name}", cotangent)
        if name in targets:
            results[name] = named
        pull_back(definition.body, named, definition.ref, name)
    found = {name: _or_zeros(results.get(name), _shape_source(program, name)) for name in wrt}
    derivation.cotangents.update(reached)
    derivation.cotangents.update(found)
    return found


def reached(derivation: Derivation, name: str) -> Node:
    """The gradient with respect to ``name`` that reverse accumulation reached (zeros where it
    reached none)."""
    found = derivation.cotangents.get(name)
    return found if found is not None else _or_zeros(None, _shape_source(derivation.program, name))


def _bare(node: Node) -> bool:
    """A variable or its transpose: its cotangent is its gradient, nothing moves further."""
    return node.op == "var" or (node.op == "transpose" and node.args[0].op == "var")


def _shape_source(program: Program, name: str) -> Node:
    if name in program.variables:
        return program.variables[name]
    return program.definitions[name].ref


def _or_zeros(value: Term, like: Node) -> Node:
    if value is not None:
        return value
    if like.is_scalar:
        return ir.const(0.0)
    return ir.zeros(like.shape.rows, like.shape.cols, like.kind, like.shape.lead)


def _forward(derivation: Derivation, of: Node, seeds: dict[str, Node], rules: dict,
             prefix: str, record: dict[str, Node] | None = None) -> Term:
    """Forward accumulation: each variable or definition named in ``seeds`` starts with its
    seed, every operation applies its rule from ``rules`` to its arguments' values (None where
    an argument does not move), and each definition's value is named ``prefix + name`` (and
    kept in ``record``, by the definition's name)."""
    known: dict[str, Term] = {} if record is None else record

    def forward(root: Node, out: Node) -> Term:
        local: dict[Node, Term] = {}
        for node in walk(root):
            if node.op in ("var", "ref") and node.name in seeds:
                local[node] = seeds[node.name]
            elif node.op == "ref":
                local[node] = known.get(node.name)
            elif node.op in LEAVES:
                local[node] = None
            else:
                check_time()
                if rules is JACOBIANS and Kind.TENSOR in (node.kind, *(a.kind for a in node.args)):
                    raise UnsupportedError(f"a Jacobian or Hessian through the tensor of {node} "
                                           f"is not supported; gradients of a scalar are")
                values = [local[arg] for arg in node.args]
                moves = any(value is not None for value in values)
                local[node] = rules[node.op](node, out if node is root else node,
                                             values) if moves else None
        return local[root]

    needed = derivation.needed(of)
    for name in derivation.order():
        if name in seeds or name not in needed:
            continue
        body = derivation.body(name)
        value = forward(body, ir.ref(name, body))
        if value is not None and of.op == "ref" and name == of.name:
            known[name] = value
            return value  # the result itself needs no name
        if value is not None:
            known[name] = derivation.name(f"{prefix}{name}", value)
    return forward(of, of)


def jacobian(derivation: Derivation, of: Node, wrt: str) -> Node:
    """``d vec(of) / d vec(X)'`` for the variable or definition X named ``wrt``."""
    source = _shape_source(derivation.program, wrt)
    if source.kind is Kind.TENSOR or of.kind is Kind.TENSOR:
        raise UnsupportedError(f"a Jacobian or Hessian with respect to a tensor (or of one) is "
                               f"not supported: {wrt if source.kind is Kind.TENSOR else of} is "
                               f"{(source if source.kind is Kind.TENSOR else of).shape}; "
                               f"gradients of a scalar are")
    n_target = size(source)
    seed = identity(n_target) if n_target is not ONE else ir.const(1.0)
    reached: dict[str, Node] = {}
    result = _forward(derivation, of, {wrt: seed}, JACOBIANS, "J_", reached)
    derivation.jacobians.update({(wrt, name): node for name, node in reached.items()
                                 if node is not None})
    return result if result is not None else no_jacobian(derivation.program, of, wrt)


def no_jacobian(program: Program, of: Node, wrt: str) -> Node:
    """The Jacobian of ``of`` with respect to ``wrt`` where it does not move: zeros."""
    rows, n_target = size(of), size(_shape_source(program, wrt))
    if rows is ONE and n_target is ONE:
        return ir.const(0.0)
    return ir.zeros(rows, n_target, Kind.MATRIX if n_target is not ONE else Kind.VECTOR)


def differential(derivation: Derivation, of: Node, directions: dict[str, Node]) -> Node:
    """``d of`` in matrix form when each named variable or definition X moves by
    ``directions[X]`` (a node of X's shape): forward accumulation of DIFFERENTIALS, the
    differential of each definition named ``d_<name>``."""
    result = _forward(derivation, of, directions, DIFFERENTIALS, "d_")
    return result if result is not None else _or_zeros(None, of)

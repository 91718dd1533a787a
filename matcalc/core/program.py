"""A typed problem: declared variables, named definitions, and derivative requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..errors import Location, UnknownNameError, did_you_mean
from . import ir
from .ir import Node, walk
from .labels import describe_labels, is_labels, shown_attributes
from .shapes import describe

KINDS = ("grad", "jacobian", "hessian")  # what a request derives


def dependencies(root: Node, body_of: Callable[[str], Node]) -> set[str]:
    """The names of the definitions ``root`` refers to, directly or through other definitions."""
    needed: set[str] = set()
    pending = [root]
    while pending:
        for item in walk(pending.pop()):
            if item.op == "ref" and item.name not in needed:
                needed.add(item.name)
                pending.append(body_of(item.name))
    return needed


@dataclass(frozen=True)
class Definition:
    """``name = body``; ``ref`` is the node that stands for the name in later expressions."""

    name: str
    body: Node
    ref: Node
    location: Location | None = None


@dataclass(frozen=True)
class Request:
    """``grad F wrt X, Y`` (or jacobian / hessian)."""

    kind: str
    of: Node
    wrt: tuple[str, ...]
    location: Location | None = None

    @property
    def of_name(self) -> str | None:
        """The definition's name when F is a name, else None."""
        return self.of.params[0] if self.of.op in ("ref", "var") else None


@dataclass
class Program:
    """A parsed, shape-checked problem."""

    source: str
    variables: dict[str, Node] = field(default_factory=dict)
    definitions: dict[str, Definition] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    dimensions: tuple[str, ...] = ()
    inferred: tuple[str, ...] = ()  # variables whose types were inferred, not declared

    def attributes(self, name: str) -> frozenset[str]:
        """The declared attributes of a variable."""
        return self.variables[name].params[1]

    def lookup(self, name: str) -> Node:
        """The variable, or the reference to the definition, with this name."""
        if name in self.variables:
            return self.variables[name]
        if name in self.definitions:
            return self.definitions[name].ref
        known = list(self.variables) + list(self.definitions)
        raise UnknownNameError(f"unknown name '{name}'{did_you_mean(name, known)}")

    def needed_definitions(self, node: Node) -> list[str]:
        """The definitions ``node`` depends on, directly or not, in program order."""
        needed = dependencies(node, lambda name: self.definitions[name].body)
        return [name for name in self.definitions if name in needed]

    def extended(self, definitions: dict[str, Node]) -> Program:
        """This program with more definitions (name -> body) after its own."""
        merged = dict(self.definitions)
        for name, body in definitions.items():
            merged[name] = Definition(name, body, ir.ref(name, body))
        return replace(self, definitions=merged, requests=[])

    @property
    def last_definition(self) -> Definition | None:
        """The last definition, the default target of a derivative."""
        return next(reversed(self.definitions.values()), None)

    def describe(self) -> str:
        """A listing of every name with its kind and shape, one a line."""
        lines = []
        for name, node in self.variables.items():
            attributes = " ".join(shown_attributes(node.params[1]))
            note = "  (inferred)" if name in self.inferred else ""
            declared = describe_labels(node) if is_labels(node) else describe(node.kind, node.shape)
            lines.append(f"{name} : {declared}"
                         f"{' ' + attributes if attributes else ''}{note}")
        for name, definition in self.definitions.items():
            body = definition.body
            lines.append(f"{name} = {body}    # {describe(body.kind, body.shape)}")
        for request in self.requests:
            lines.append(f"{request.kind} {request.of} wrt {', '.join(request.wrt)}")
        return "\n".join(lines)

    def to_sympy(self):
        """The program as SymPy objects: ``{name: matrix expression}`` for each definition."""
        from .to_sympy import program_to_sympy

        return program_to_sympy(self)

"""Which expressions have a numerically stable form, and what each is computed from.

The shapes are a facet of the operation each form is rooted at (``stable`` in
core/registry.py: ``1 - sigmoid(t)`` at sub, ``log(1 + exp(t))`` at log); this module reads
them, so that generated code and the interpreter (which compute a form from its argument alone,
``codegen/stable.py``) and the naming of repeated quantities (engine/repeats.py, which leaves
what a form looks through written out) find the same forms.

A name is followed to its body wherever it stands in a form (``q1 = exp(t)``, ``log(1 + q1)``):
the value a name holds is the plain one, which the form exists to avoid.  The lookup of bodies
is the caller's: a problem's definitions and the results' where-definitions in code; in the
interpreter, the names whose value is their definition's (not one a checker moved).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from .ir import Node
from .registry import Stable, line_axis, view

Lookup = Callable[[str], Node | None]  # a name's definition body, or None: not followed


@dataclass(frozen=True)
class StableForm:
    """``node`` is computed as ``kind`` (a stable form's name) of ``argument``, looking
    ``through`` the nodes between them (the operands as written, and the bodies behind those
    that are names): code never computes these for the form, and the naming of repeats leaves
    them written out."""

    kind: str
    argument: Node
    axis: int = 0
    through: tuple[Node, ...] = ()


def body_behind(node: Node, body_of: Lookup) -> Node:
    """The definition body behind a reference (the value code holds by name; ``body_of``
    gives a name's body, or None where it is not to be followed), a chain of renamings
    followed to its end."""
    for _ in range(100):
        body = body_of(node.name) if node.op == "ref" else None
        if body is None:
            break
        node = body
    return node


def no_names(name: str) -> None:
    """A lookup that follows no name."""
    return None


@cache
def rooted() -> dict[str, tuple[Stable, ...]]:
    """The stable forms by the operation they are rooted at."""
    return {name: forms for name, forms in view("stable").items() if forms}


def kinds() -> list[str]:
    """The name of every stable form."""
    return [form.name for forms in rooted().values() for form in forms]


def stable_form(node: Node, body_of: Lookup) -> StableForm | None:
    """The stable form of ``node``, or None where the plain one is fine; ``body_of`` gives the
    body of a name the code holds (:func:`body_behind`)."""
    for form in rooted().get(node.op, ()):
        found = _matched(form, node, body_of)
        if found is not None:
            return found
    return None


def names_read(root: Node, body_of: Lookup, known: Callable[[Node], bool] = lambda node: False
               ) -> set[str]:
    """The definitions computing ``root`` reads, directly or not, where a node with a stable
    form reads its argument alone (``log(1 + e)`` with ``e = exp(t)`` reads t, not e); nodes
    ``known`` (values at hand) are not looked into."""
    names: set[str] = set()
    seen: set[Node] = set()
    stack = [root]
    while stack:
        item = stack.pop()
        if item in seen or known(item):
            continue
        seen.add(item)
        body = body_of(item.name) if item.op == "ref" else None
        if body is not None:
            names.add(item.name)
            stack.append(body)
            continue
        form = stable_form(item, body_of)
        stack.extend((form.argument,) if form is not None else item.args)
    return names


def _matched(form: Stable, node: Node, body_of: Lookup) -> StableForm | None:
    """``form`` of ``node``, where ``node`` has the form's shape (names followed), else None."""
    through: list[Node] = []
    *outer, last = form.steps
    for step in outer:
        operand = _operand(step, node)
        if operand is None:
            return None
        node = body_behind(operand, body_of)
        through += (operand, node) if node is not operand else (operand,)
    argument = _operand(last, node)
    if argument is None or (form.lines and node.is_scalar):
        return None
    return StableForm(form.name, argument, line_axis(node) if form.lines else 0, tuple(through))


def _operand(step: str, node: Node) -> Node | None:
    """The operand the next step reads, where ``node`` is this step's shape."""
    args = node.args
    if step in ("1 -", "1 +"):
        op = "sub" if step == "1 -" else "add"
        whole = node.op == op and _is_one(args[0]) and node.shape == args[1].shape
        return args[1] if whole else None  # the 1 may spread over the operand, not the reverse
    if step == "square":
        squared = (node.op == "mul" and args[0] is args[1]) or (
            node.op == "pow" and args[1].op == "const" and args[1].params[0] == 2)
        return args[0] if squared else None
    return args[0] if node.op == step else None


def _is_one(node: Node) -> bool:
    return (node.op == "const" and node.params[0] == 1.0) or node.op == "ones"

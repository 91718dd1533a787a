"""The result of a derivation: plain data that every consumer takes.

A :class:`Result` holds one derived expression (a gradient, a Jacobian or a Hessian), the
problem it came from and the where-definitions it introduced (the named deltas).  It knows its
name, shape and text; everything else (LaTeX, steps, code, checks) is done to it by the stages
above.  The simplifier that made it is :func:`matcalc.engine.pipeline.simplifier_for`, so that
steps and printed layouts use the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from ..core.ir import Node, walk
from ..core.program import KINDS, Program
from ..core.shapes import describe
from ..errors import UnsupportedError

if TYPE_CHECKING:
    from .accumulate import Derivation

# the layouts a result is written in: a person's convention, "denominator" (a gradient in the
# variable's shape, a Jacobian transposed) or "numerator" (a Jacobian's rows by output, a
# gradient a row), or matcalc's "mixed": a gradient in the denominator layout, a Jacobian in the
# numerator layout, as derived
CONVENTIONS = ("denominator", "numerator")
LAYOUTS = ("mixed", *CONVENTIONS)
__all__ = ["CONVENTIONS", "KINDS", "LAYOUTS", "Result"]


@dataclass
class Result:
    """One derived result: ``kind`` of ``of`` with respect to ``wrt``; a Hessian's cross block
    ``d^2 of / d vec(wrt) d vec(across)'`` names its second variable ``across``."""

    kind: str
    of: str
    wrt: str
    result: Node
    program: Program
    of_node: Node
    derivation: Derivation
    across: str = ""
    computed: Node | None = None  # the form code computes where it is not the result's printed
    # one: the Kronecker chain a result printed as index sums was made from
    shown: Node | None = None  # the printed form ``computed`` equals

    @property
    def code_node(self) -> Node:
        """What generated code computes: the result, or the equal form its structure is in
        (only while the result is still the form it was made equal to)."""
        if self.computed is None or self.shown is not self.result:
            return self.result
        return self.computed

    @property
    def name(self) -> str:
        """The result's name in ``.text``: ``dJ_dW``, ``d2f_dx_dx`` for a Hessian, ``d2f_dw_db``
        for its cross block (each variable after its own ``_d``: the Hessian with respect to
        ``W1`` is ``d2E_dW1_dW1``, never ``d2E_dW12``)."""
        if self.across:
            return f"d2{self.of}_d{self.wrt}_d{self.across}"
        if self.kind == "hessian":
            return f"d2{self.of}_d{self.wrt}_d{self.wrt}"
        return f"d{self.of}_d{self.wrt}"

    @property
    def variables(self) -> str:
        """The variable, or for a cross block both: ``w,b``."""
        return f"{self.wrt},{self.across}" if self.across else self.wrt

    @property
    def names(self) -> tuple[str, ...]:
        """The variables the result is taken with respect to: (wrt,) or (wrt, across)."""
        return (self.wrt, self.across) if self.across else (self.wrt,)

    @property
    def key(self) -> tuple[str, str, str]:
        """(kind, of, wrt): what tells this result apart from the others of a problem (a cross
        block's wrt is ``w,b``)."""
        return (self.kind, self.of, self.variables)

    def keys(self) -> tuple[tuple[str, ...], ...]:
        """The ways to name this result, shortest first: (wrt,), (kind, wrt), (kind, of, wrt)."""
        wrt = self.variables
        return ((wrt,), (self.kind, wrt), (self.kind, self.of, wrt))

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
        return where_for([self.result], self.derivation)

    @property
    def text(self) -> str:
        """The result in the input language, after its where-definitions; appended to the
        problem, it parses."""
        from ..core.constants import names_taken  # with the printer: not at import matcalc

        with names_taken(_names(self.program)):
            lines = [f"{name} = {body}" for name, body in self.where.items()]
            lines.append(f"{self.name} = {self.result}")
        return "\n".join(lines)

    def as_(self, kind: type[Result]) -> Result:
        """The same result as an instance of ``kind`` (a subclass that adds conveniences)."""
        return kind(**{item.name: getattr(self, item.name) for item in fields(self)})

    def __str__(self) -> str:
        return self.text


def header(results: Sequence[Result]) -> str:
    """``grad J wrt W, b``; for a joint Hessian, ``hessian L wrt w, b (blocks of d2L/d[w; b]
    d[w; b]'; d2L_db_dw = d2L_dw_db')``."""
    first = results[0]
    names = list(dict.fromkeys(name for result in results for name in result.names))
    text = f"{first.kind} {first.of} wrt {', '.join(names)}"
    crosses = [result for result in results if result.across]
    if crosses:
        stacked = "; ".join(names)
        mirrored = ", ".join(f"d2{r.of}_d{r.across}_d{r.wrt} = {r.name}'" for r in crosses)
        text += f" (blocks of d2{first.of}/d[{stacked}] d[{stacked}]'; {mirrored})"
    return text


def where_for(results: Sequence[Node], derivation: Derivation) -> dict[str, Node]:
    """The where-definitions of ``derivation`` that ``results`` use, directly or through each
    other, in the order they were made."""
    needed: set[str] = set()
    pending = list(results)
    while pending:
        for node in walk(pending.pop()):
            if node.op == "ref" and node.name in derivation.where and node.name not in needed:
                needed.add(node.name)
                pending.append(derivation.where[node.name])
    return {name: body for name, body in derivation.where.items() if name in needed}


def _names(program: Program) -> set[str]:
    """The names a problem gives (a constant's name among them is not printed for it)."""
    return set(program.variables) | set(program.definitions) | set(program.dimensions)


def shared_text(results: Sequence[Result], printed: dict[str, Node] | None = None) -> str:
    """Several results after the where-definitions they share; ``printed``: the definitions
    printed above (an earlier request's), which are not printed again, and to which this
    text's are added."""
    where: dict[str, Node] = {}
    for result in results:
        where.update(result.where)
    from ..core.constants import names_taken  # with the printer: not at import matcalc

    if printed is not None:
        where = {name: body for name, body in where.items() if printed.get(name) is not body}
        printed.update(where)
    with names_taken(_names(results[0].program) if results else ()):
        lines = [f"{name} = {body}" for name, body in where.items()]
        lines += [f"{result.name} = {result.result}" for result in results]
    return "\n".join(lines)


def result_keys(results: Sequence[Result]) -> list[object]:
    """Keys that tell the results apart, as short as they can be: the variable's name when each
    result is of a different variable, else ``(kind, variable)``, else ``(kind, of, variable)``
    (so a gradient and a Hessian of one variable never overwrite each other)."""
    for width in (0, 1, 2):
        keys = [result.keys()[width] for result in results]
        if len(set(keys)) == len(keys):
            return [key[0] if width == 0 else key for key in keys]
    duplicates = sorted({" ".join(key) for key in keys if keys.count(key) > 1})
    raise UnsupportedError(f"the same result is asked for twice: {', '.join(duplicates)}")

"""The front end: ``derive(source, wrt, of, kind)`` -> :class:`Derivative` (or several).

A Derivative is a :class:`~matcalc.engine.result.Result` with the conveniences a user wants at
hand: LaTeX, steps, SymPy, NumPy code.  Each convenience hands the result, plain data, to the
stage that does the work (:mod:`matcalc.present.latex` writes it in a layout through
:func:`matcalc.engine.pipeline.in_layout`, :mod:`matcalc.present.steps` reads its steps from
the derivation that made it); nothing here derives, simplifies or changes a result.  Nothing
inside the package calls :func:`derive`; the stages below work on results from
:mod:`matcalc.engine.pipeline`.

``import matcalc`` imports this module, and must stay cheap: it imports neither the parser
(lark), the engine (the operation registry and the rules), NumPy nor SymPy (bench/startup.py:
``matcalc --help`` within 0.15 s of a bare Python).  So each stage is imported where a
convenience first needs it, and each of those imports says what it defers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .core.program import Program
from .engine.result import KINDS, Result, header, shared_text
from .errors import CheckWarning, MatcalcError, UnsupportedError
from .limits import time_budget

if TYPE_CHECKING:
    from .numeric.check import CheckResult
    from .present.latex import LatexStyle
    from .present.steps import Steps

# derive()'s own check: one random point, two random directions (docs/guide.md, "The checker")
QUICK_CHECK = {"seed": 0, "trials": 1, "directions": 2, "full": False}


class Derivative(Result):
    """One derived result: ``kind`` of ``of`` with respect to ``wrt``.

    ``checked`` is the verdict of the quick check ``derive`` runs by default (None when it was
    not run, or when no random point could be drawn: ``unchecked`` then says why)."""

    checked: CheckResult | None = None
    unchecked: str = ""

    def latex_lines(self, style: LatexStyle | None = None, layout: str = "mixed"
                    ) -> list[tuple[str, str]]:
        """(left side, right side) pairs: the where-definitions, then the result.

        ``layout``: "mixed" (the default, matcalc's convention: a gradient has the variable's
        shape, a Jacobian is (size F) x (size X)), "numerator" (gradients transposed) or
        "denominator" (Jacobians transposed)."""
        from .present.latex import result_lines  # the LaTeX printer: lark, the engine

        return result_lines(self, style, layout)

    def symbol(self, style: LatexStyle | None = None) -> str:
        """The derivative's symbol: ``\\frac{\\partial J}{\\partial W}``."""
        from .present.latex import result_style, result_symbol  # lark, the engine

        return result_symbol(self, style or result_style(self))

    @property
    def steps(self):
        """The derivation step by step (:mod:`matcalc.present.steps`), read from the derivation
        that made this result: a Steps for a gradient or a Jacobian; for a Hessian, the
        gradient's Steps and then the Jacobian's."""
        from .present.steps import steps_of  # the steps: lark, the engine

        return with_derivatives(steps_of(self))

    @property
    def latex(self) -> str:
        """The result and its where-definitions as a LaTeX aligned block (reads back with
        ``matcalc.verify``)."""
        return self.latex_block()

    def latex_block(self, bold: bool = False, layout: str = "mixed") -> str:
        """The aligned block; ``bold`` sets vectors and matrices in bold; ``layout`` as in
        :meth:`latex_lines`."""
        return Derivatives([self]).latex_block(bold, layout)

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex}\n$$"

    def _repr_markdown_(self) -> str:
        return f"$$\n{self.latex}\n$$\n\n```\n{self.text}\n```"

    @property
    def expr(self):
        """The result as a SymPy expression (where-definitions inlined; the problem's own
        definitions stay symbols, see ``Program.to_sympy()``); UnsupportedError naming an
        operation SymPy has no form for.  A result printed as index sums (einsum, which SymPy
        has no form for) is converted from the Kronecker chain it equals (``computed``)."""
        from .core.to_sympy import result_to_sympy  # SymPy: about a second to import

        return result_to_sympy(self.code_node, self.where)

    def numpy(self, compiled: bool = True) -> Callable[..., object]:
        """A function of keyword arrays returning the result (vectors as 1-D arrays): the
        generated NumPy code (:mod:`matcalc.codegen`), or with ``compiled=False`` the
        interpreter of :mod:`matcalc.numeric.evaluate` (which raises DomainError off the
        domain)."""
        return Derivatives([self]).numpy(compiled, keyed=False)

    def code(self, name: str = "gradient", hoist: bool = True, format: str = "numpy") -> str:  # noqa: A002
        """The source of a module computing this result (see :mod:`matcalc.codegen`):
        ``format`` numpy, jax, torch, numba (NumPy with row-local functions as fused kernels),
        or torch-function / jax-vjp (training code)."""
        return Derivatives([self]).code(name, hoist, format)

    def __repr__(self) -> str:
        return f"<Derivative {self.kind} {self.of} wrt {self.wrt}: {self.type}>"


class Derivatives(list):
    """Several Derivatives, sharing their where-definitions.

    Iterate over them, or index them by position, by the name of a variable
    (``ds["W"]``), or by ``(kind, variable)`` or ``(kind, of, variable)`` when one variable has
    several results (``ds["hessian", "w"]``)."""

    def __getitem__(self, key):
        if isinstance(key, int | slice):
            return super().__getitem__(key)
        wanted = (key,) if isinstance(key, str) else tuple(key)
        found = [d for d in self if wanted in d.keys()]
        if len(found) == 1:
            return found[0]
        if not found:
            raise KeyError(f"no result for {key!r}; there are "
                           f"{', '.join(_label(d) for d in self) or 'none'}")
        raise KeyError(f"{key!r} names {len(found)} results ("
                       f"{', '.join(_label(d) for d in found)}); index by (kind, variable)")

    @property
    def text(self) -> str:
        """All results after the where-definitions they share."""
        return shared_text(self)

    @property
    def latex(self) -> str:
        """All results after the where-definitions they share, as one aligned block."""
        return self.latex_block()

    def latex_block(self, bold: bool = False, layout: str = "mixed") -> str:
        """The aligned block; ``bold`` sets vectors and matrices in bold; ``layout`` as in
        :meth:`Derivative.latex_lines`."""
        from .present.latex import results_block  # the LaTeX printer: lark, the engine

        return results_block(self, bold, layout)

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex}\n$$"

    def numpy(self, compiled: bool = True, keyed: bool = True) -> Callable[..., object]:
        """A function of keyword arrays returning the results, computing shared work once:
        {variable: result} when every result is of a different variable, else
        {(kind, variable): result}; ``keyed=False`` returns the only result itself.
        ``compiled=False`` uses the interpreter instead of generated code."""
        from .numeric.evaluate import callable_results  # NumPy, and codegen when compiled

        return callable_results(list(self), compiled, keyed)

    def code(self, name: str = "gradient", hoist: bool = True, format: str = "numpy") -> str:  # noqa: A002
        """The source of a module computing these results, sharing work: ``format`` numpy,
        jax, torch, numba (NumPy with row-local functions as fused kernels), or torch-function
        / jax-vjp (training code)."""
        from .codegen.wrappers import formatted  # code generation

        return formatted(list(self), format, name, hoist)


def _label(derivative: Result) -> str:
    return f"{derivative.kind} {derivative.of} wrt {derivative.wrt}"


def with_derivatives(shown: Steps | list[Steps]) -> Steps | list[Steps]:
    """Steps whose results are Derivatives (with .numpy(), .latex, ...), as users get them (new
    Steps: the ones given are left as they are)."""
    if isinstance(shown, list):
        return [with_derivatives(part) for part in shown]
    steps = [replace(step, gradient=step.gradient.as_(Derivative))
             if step.gradient is not None else step for step in shown.steps]
    return replace(shown, steps=steps, gradients=_front(shown.gradients))


def _front(results: Iterable[Result]) -> Derivatives:
    return Derivatives(result.as_(Derivative) for result in results)


def quick_check(results: Sequence[Derivative]) -> None:
    """Prove each result at one random point along two random directions, setting
    ``checked``; a result that fails raises a :class:`~matcalc.errors.CheckWarning` (it is a
    defect of matcalc, never to be used as if it were right)."""
    from .numeric.check import check  # NumPy: derive(check=False) never loads it

    try:
        verdicts = check(list(results), **QUICK_CHECK)
    except MatcalcError as error:  # no random point honours the declarations
        for result in results:
            result.unchecked = str(error).splitlines()[0]
        return
    for result, verdict in zip(results, verdicts, strict=True):
        result.checked = verdict
        if not verdict.ok and not verdict.inconclusive and not verdict.kink:
            warnings.warn(f"the derived result failed its numeric check, do not use it: "
                          f"{verdict}", CheckWarning, stacklevel=3)


def derive(source: str | Program, wrt: str | Sequence[str] | None = None, of: str | None = None,
           kind: str | None = None, let: str | Sequence[str] | None = None, simplify: bool = True,
           check: bool = True, joint: bool = True) -> Derivative | Derivatives:
    """Derive ``kind`` (grad, jacobian or hessian) of ``of`` with respect to ``wrt``.

    ``of`` defaults to the last definition, ``kind`` to its gradient when it is a scalar and its
    Jacobian when it is a vector or a matrix.  With ``wrt`` a single name the result is a
    :class:`Derivative`; with a list, :class:`Derivatives`.  With neither ``wrt`` nor ``of`` and a
    problem that has requests, the requests are derived (a Derivative for a single result).
    ``check`` (the default) proves each result at a random point (``Derivative.checked``; a
    failure warns with :class:`~matcalc.errors.CheckWarning`); ``matcalc.check`` is thorough.
    The Hessian with respect to several variables is the joint one: its blocks ``d2f_dw_dw``,
    ``d2f_dw_db`` (``ds["w,b"]``, d^2 f / d vec(w) d vec(b)'), ``d2f_db_db``, the blocks below the
    diagonal being their transposes; ``joint=False`` gives the diagonal blocks only.
    """
    from .engine import pipeline  # the engine: the operation registry and the rules
    from .lang.parse import parse  # the parser: lark

    if kind is not None and kind not in KINDS:
        raise UnsupportedError(f"unknown kind {kind!r}; kinds are grad, jacobian, hessian")
    with time_budget():  # reading the text counts against the derivation's time
        program = source if isinstance(source, Program) else parse(source, let=let)
        if wrt is None and of is None and program.requests:
            results = derive_requests(program, simplify, check, joint)
            return results[0] if len(results) == 1 else results
        results = _front(pipeline.run(program, wrt, of, kind, simplify, joint=joint))
    if check:
        quick_check(results)
    return results[0] if isinstance(wrt, str) else results


def derive_requests(program: Program, simplify: bool = True, check: bool = False,
                    joint: bool = True) -> Derivatives:
    """Every request of the program, derived, in one list (``check``: quick-checked)."""
    results = Derivatives()
    for group in derive_by_request(program, simplify, check, joint):
        results.extend(group)
    return results


def derive_by_request(program: Program, simplify: bool = True, check: bool = False,
                      joint: bool = True) -> list[Derivatives]:
    """The results of each request of the program, one Derivatives a request (``check``:
    each quick-checked, as :func:`derive` does)."""
    from .engine.pipeline import run_requests  # the engine: the registry and the rules

    groups = [_front(group) for group in run_requests(program, simplify, joint)]
    if check:
        for group in groups:
            quick_check(group)
    return groups


def render(groups: Sequence[Sequence[Result]]) -> str:
    """Groups of results as the command line prints them: a header, the where-definitions
    and the results of each."""
    return "\n\n".join(rendered_blocks(groups))


def rendered_blocks(groups: Sequence[Sequence[Result]]) -> list[str]:
    """:func:`render`'s block of each group: a where-definition that an earlier block printed
    (the same name for the same expression: a quantity several requests share) is not printed
    again."""
    printed: dict = {}
    return [f"# {header(group)}\n{shared_text(group, printed)}" for group in groups]


__all__ = ["Derivative", "Derivatives", "derive", "derive_by_request", "derive_requests",
           "render"]

"""Reading an answer over a problem: text in the language or in LaTeX, with definitions of its
own (``t = W @ x; t * (1 - t)``, ``\\delta_1 = \\hat{y} - y; \\delta_1 h^\\top``).

The one reader of answers: grading (verdicts, derivations' sides, batches) and the workbench call
:func:`read_answer`.
"""

from __future__ import annotations

import re

from ..core.ir import Node
from ..core.program import Program
from ..core.shapes import Shape
from ..errors import (
    DeclarationError,
    LimitError,
    Location,
    MatcalcError,
    ParseError,
    UnknownNameError,
)
from . import latex_answers as latex_reader
from .build import Builder, location_of
from .latex_answers import LatexBuilder
from .latex_tokens import looks_like_latex
from .syntax import parse_tree


def _size_by(builder: Builder, result: Shape | None) -> None:
    """The answer's bare I takes its size from ``result``'s shape (None: nothing sizes it)."""
    square = result is not None and result.rows == result.cols and not result.is_scalar
    builder.result_shape, builder.identity_size = result, (result.rows if square else None)


def _latex_answer_node(program: Program, answer: str, result: Shape | None = None
                       ) -> tuple[Program, Node]:
    builder = LatexBuilder.over(program, answer)
    node = None
    for statement in latex_reader.statements(answer, builder.knows):
        _size_by(builder, None if statement.name else result)
        node = builder.expression(statement.tree)
        if statement.name:
            builder.check_new_name(statement.name, "definition",
                                   location_of(statement.tree, answer))
            builder.define(statement.name, node)
    assert node is not None
    return builder.result(), node


# characters an answer copied from a PDF or a word processor holds for ASCII ones (one for one,
# so places in errors stay right): the minus sign, the prime, the right single quotation mark
_TYPESET = str.maketrans({"\u2212": "-", "\u2032": "'", "\u2019": "'"})
MAX_ANSWER_LENGTH = 100_000  # characters of one answer; a longer one is refused at once


def read_answer(program: Program, answer: str, is_latex: bool | None = None,
                result: Shape | None = None) -> tuple[Program, Node]:
    """The answer's expression over the problem, after its own definitions, and the problem
    extended with them.  ``is_latex``: True for LaTeX, False for the language, None to decide
    by the answer's look (a LaTeX command, ``^{``, ``$``: LaTeX), else the language and, where
    it does not read as the language, LaTeX (``(A + A') x``).  ``result``: the shape of the
    result, which sizes a bare I that nothing in the answer sizes (``2 * I`` for a Hessian that
    is n x n, ``x' (x) I`` for an m x mn Jacobian)."""
    if len(answer) > MAX_ANSWER_LENGTH:
        raise LimitError(f"the answer has {len(answer):,} characters, more than "
                         f"{MAX_ANSWER_LENGTH:,} (matcalc.lang.answers.MAX_ANSWER_LENGTH)")
    answer = answer.translate(_TYPESET)
    if is_latex or (is_latex is None and looks_like_latex(answer)):
        return _latex_answer_node(program, answer, result)
    if is_latex is None:  # undecided: the language first, then LaTeX (``(A + A') x``)
        try:
            return _language_answer_node(program, answer, result)
        except (ParseError, UnknownNameError) as error:
            try:
                return _latex_answer_node(program, answer, result)
            except (ParseError, UnknownNameError):
                raise error from None
    return _language_answer_node(program, answer, result)


# the left side of the answer's last statement, ignored as LaTeX answers ignore theirs: a name
# (``dL_dW = ...``, as matcalc prints results) or a derivative written with a slash (``dL/dW =``)
_LEFT_SIDE = re.compile(r"\s*(?:[A-Za-z_]\w*|d\w+\s*/\s*d\w+)\s*=")


def _language_answer_node(program: Program, answer: str, result: Shape | None = None
                          ) -> tuple[Program, Node]:
    spans = [(m.start(), m.group()) for m in re.finditer(r"[^;\n]+", answer) if m.group().strip()]
    if not spans:
        raise MatcalcError("the answer is empty")
    builder = Builder.over(program, answer)
    local = [text for _, text in spans[:-1]]
    start, last = spans[-1]
    left = _LEFT_SIDE.match(last)
    if left:
        start, last = start + left.end(), last[left.end():]
    if local:
        text = "\n".join(local)
        tree = parse_tree(text, "program")
        for statement in tree.children:
            if statement.data != "definition":  # a new variable would be a free symbol
                raise DeclarationError(
                    "an answer is an expression over the problem's variables, with "
                    f"definitions of its own (name = ...); it cannot hold a {statement.data}",
                    location_of(statement, text), text)
        builder.program(tree)
    builder.source = last
    _size_by(builder, result)
    try:
        node = builder.expression(parse_tree(last, "expression"))
    except MatcalcError as error:  # placed in the answer, not in its last statement alone
        raise _placed(error, answer, start) from None
    extended = builder.result()
    return extended, node


def _placed(error: MatcalcError, answer: str, start: int) -> MatcalcError:
    """``error``, located in the answer's last statement (one line, from ``start``), moved to
    its place in the whole answer."""
    if error.location is None or error.location.line != 1:
        return error
    line = answer.count("\n", 0, start) + 1
    column = start - (answer.rfind("\n", 0, start) + 1) + error.location.column
    error.location = Location(line, column, error.location.length)
    error.source = answer
    error.args = (str(error),)
    return error


__all__ = ["MAX_ANSWER_LENGTH", "read_answer"]

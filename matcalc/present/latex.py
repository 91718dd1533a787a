"""Print IR nodes as LaTeX in the notation of papers: juxtaposition for matrix products,
``^\\top``, ``\\odot``, ``\\otimes``, ``\\operatorname{tr}``, Greek names as Greek, ``yhat`` as
``\\hat{y}``, trailing digits as subscripts (``delta2`` -> ``\\delta_{2}``).

The output reads back through :mod:`matcalc.lang.latex` to the same values (tests check every
gallery result that way), so the precedence here mirrors the reader's: ``+ -`` below
``\\odot \\otimes :`` below juxtaposition below unary minus below ``^`` and ``'``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..core.algebra import chain
from ..core.batch_sums import summed_slices
from ..core.broadcast import axis_mean, down_columns, shown_operands, shown_spreads
from ..core.constants import exact
from ..core.ir import Node, walk
from ..core.printer import format_number
from ..core.registry import Latex, operation
from ..core.shapes import Dim, Kind
from ..engine.pipeline import in_layout
from ..engine.result import Result
from ..lang.latex_tokens import GREEK

_SUM, _HADAMARD, _JUXTAPOSE, _UNARY, _POSTFIX, _ATOM = range(1, 7)
# a batch sum, or a product or negation ending in one: its \sum takes every factor after it, so
# it is bracketed wherever one could follow, and not as the right operand of + - \odot
_TRAILING_SUM = 1.5

ACCENT_SUFFIXES = (("hat", "hat"), ("tilde", "tilde"), ("bar", "bar"))
_OWN_SUBSCRIPT = re.compile(r"_\{([^{}]*)\}$")
_NAME = re.compile(r"^([A-Za-z]+?)(hat|tilde|bar)?(?:_?([0-9]+))?$")


@dataclass(frozen=True)
class LatexStyle:
    """How names are set: ``bold`` sets vectors and matrices in bold (\\mathbf, Greek in
    \\boldsymbol); ``taken`` are the problem's names (a problem naming ``sigma`` gets sigmoid
    written out as \\operatorname{sigmoid})."""

    bold: bool = False
    taken: frozenset[str] = frozenset()
    renames: tuple[tuple[str, str], ...] = ()  # names set as given LaTeX (dX -> \mathrm{d}X)


def latex_name(name: str, kind: Kind | None = None, style: LatexStyle = LatexStyle()) -> str:
    """``theta`` -> ``\\theta``, ``yhat`` -> ``\\hat{y}``, ``W1`` -> ``W_{1}``,
    ``delta_yhat`` -> ``\\delta_{yhat}``, ``logits`` -> ``\\mathit{logits}``."""
    bold = style.bold and kind in (Kind.VECTOR, Kind.MATRIX, Kind.ROW)
    match = _NAME.match(name)
    if match:
        base, accent, digits = match.groups()
        core = _letters(base, bold)
        if accent:
            core = f"\\{accent}{{{core}}}"
        return core + (f"_{{{digits}}}" if digits else "")
    if "_" in name:
        base, _, subscript = name.partition("_")
        if re.fullmatch(r"[A-Za-z0-9]+", subscript) and re.fullmatch(r"[A-Za-z]+", base):
            return f"{_letters(base, bold)}_{{{subscript}}}"
    escaped = name.replace("_", r"\_")
    return f"\\mathbf{{{escaped}}}" if bold else f"\\mathit{{{escaped}}}"


def _letters(base: str, bold: bool) -> str:
    if base in GREEK:
        return f"\\boldsymbol{{\\{base}}}" if bold else f"\\{base}"
    if len(base) == 1:
        return f"\\mathbf{{{base}}}" if bold else base
    return f"\\mathbf{{{base}}}" if bold else f"\\mathit{{{base}}}"


def latex_dim(d: Dim) -> str:
    """A dimension: ``n``, ``3``, ``m n`` for a product."""
    return str(d).replace("*", " ")


def to_latex(node: Node, style: LatexStyle = LatexStyle()) -> str:
    """The node as LaTeX."""
    return _Printer(style).print(node)[0]


class _Printer:
    def __init__(self, style: LatexStyle):
        self.style = style
        self.slices = ""  # inside a batch sum: the letters every tensor is sliced by

    def wrap(self, node: Node, minimum: int) -> str:
        text, level = self.print(node)
        return text if level >= minimum else f"\\left({text}\\right)"

    def print(self, node: Node) -> tuple[str, int]:
        op = node.op
        mean = axis_mean(node)
        if mean is not None and node.args[0].op == "axis_sum" and not self.slices and \
                summed_slices(node.args[0]) is not None:
            mean = None  # a mean over the batch: \frac{\sum_b X_b}{B}
        if mean is not None:  # (X 1) / m
            return (f"\\operatorname{{mean}}\\left({self.print(mean[0])[0]}, "
                    f"{mean[1]}\\right)", _ATOM)
        columns = down_columns(node)
        if columns is not None:  # softmax(X')' is softmax(X, 0)
            command = operation(columns[0]).latex.command
            return f"{command}\\left({self.print(columns[1])[0]}, 0\\right)", _ATOM
        method = getattr(self, f"_{op}", None)
        if method is not None:
            return method(node)
        return self.form(node, operation(op).latex)

    def form(self, node: Node, latex: Latex | None) -> tuple[str, int]:
        """The node set as its operation's LaTeX facet says: a command before the bracketed
        argument, an operator between the operands (at the level of \\odot), a delimited
        template, or a superscript."""
        if latex is None:
            raise AssertionError(f"no LaTeX form for {node.op}")  # pragma: no cover
        if latex.command:
            return f"{latex.command}\\left({self.print(node.args[0])[0]}\\right)", _ATOM
        if latex.infix:
            return self._binary(node, latex.infix, _HADAMARD)
        if latex.template:
            args = self._shown(node.op, *node.args) if len(node.args) == 2 else node.args
            arguments = [self.print(arg)[0] for arg in args]
            whole = [str(param) for param in node.params if isinstance(param, int)]
            return latex.template.format(*arguments, *whole), _ATOM
        return f"{self.wrap(node.args[0], _ATOM)}^{{{latex.power}}}", _POSTFIX

    # leaves ----------------------------------------------------------------------------------

    def _var(self, node: Node) -> tuple[str, int]:
        name = node.params[0]
        for old, new in self.style.renames:
            if old == name:
                return new, _ATOM
        written = latex_name(name, node.kind, self.style)
        if self.slices and node.kind is Kind.TENSOR:  # X_{b}, \delta_{2,b}
            own = _OWN_SUBSCRIPT.search(written)
            written = f"{written[:own.start()]}_{{{own.group(1)},{self.slices}}}" if own else \
                f"{written}_{{{self.slices}}}"
        return written, _ATOM

    _ref = _var

    def _const(self, node: Node) -> tuple[str, int]:
        value = node.params[0]
        if math.isinf(value):  # only a branch of where(C, A, -inf)
            return ("-\\infty", _UNARY) if value < 0 else ("\\infty", _ATOM)
        # \frac{1}{2}, \frac{1}{\sqrt{2 \pi}} (pi as a number where the problem has a pi)
        written = exact(value, "pi" in self.style.taken)
        if written is not None:
            level = _UNARY if value < 0 else _JUXTAPOSE if " * " in written.text else _ATOM
            return written.latex, level
        text = format_number(value)
        if "e" in text:
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa} \\cdot 10^{{{int(exponent)}}}"
            return text, _JUXTAPOSE if value > 0 else _UNARY
        return text, _ATOM if value >= 0 else _UNARY

    def _dimval(self, node: Node) -> tuple[str, int]:
        d = node.params[0]
        return latex_dim(d), _ATOM if d.is_number or d.is_symbol else _JUXTAPOSE

    def _identity(self, node: Node) -> tuple[str, int]:
        return f"I_{{{latex_dim(node.params[0])}}}", _ATOM

    def _ones(self, node: Node) -> tuple[str, int]:
        rows, cols = node.params[:2]
        if node.kind is Kind.TENSOR:
            return self._tensor_leaf("1", node), _ATOM
        if node.kind is Kind.VECTOR:
            return f"\\mathbf{{1}}_{{{latex_dim(rows)}}}", _ATOM
        return (f"\\mathbf{{1}}_{{{latex_dim(rows)}}} \\mathbf{{1}}_{{{latex_dim(cols)}}}^\\top",
                _JUXTAPOSE)

    def _tensor_leaf(self, digit: str, node: Node) -> str:
        """``\\mathbf{1}_{B,T,d}``: a tensor of ones (zeros) of its axes."""
        axes = ",".join(map(latex_dim, node.shape.dims))
        return f"\\mathbf{{{digit}}}_{{{axes}}}"

    def _axis_sum(self, node: Node) -> tuple[str, int]:
        """``\\sum_b X_b^\\top G_b`` (:mod:`matcalc.core.batch_sums`), else
        ``\\operatorname{sum}(X, a)``: the sum along an axis, as the text language has it."""
        over_slices = self._batch_sum(node)
        if over_slices is not None:
            return over_slices
        return (f"\\operatorname{{sum}}\\left({self.print(node.args[0])[0]}, "
                f"{node.params[0]}\\right)", _ATOM)

    def _batch_sum(self, node: Node) -> tuple[str, int] | None:
        """``\\sum_{b} X_{b}^\\top G_{b}``: a batch sum over the slices of its tensors, where
        it is one (:func:`matcalc.core.batch_sums.summed_slices`); the letters are the axes'
        names in lower case where those are free."""
        found = None if self.slices else summed_slices(node)
        if found is None:
            return None
        body, count, rows = found
        axes = body.shape.lead[:count - rows] + ((body.shape.rows,) if rows else ())
        taken = set()
        for leaf in walk(body):
            if leaf.op in ("var", "ref"):
                if any(old == leaf.params[0] for old, _ in self.style.renames):
                    return None
                written = latex_name(leaf.params[0], leaf.kind, self.style)
                taken |= set("".join(re.findall(r"_\{([^{}]*)\}", written)))
        letters = ""
        for axis in axes:
            preferred = str(axis).lower() if re.fullmatch("[A-Za-z]", str(axis)) else ""
            letter = next(c for c in preferred + "bhtnsijklmpqr" if c not in taken)
            letters += letter
            taken.add(letter)
        # the factors before the first tensor are the same in every term: W^T \sum_b ...
        factors = chain(body)
        outside = 0 if rows else next(i for i, f in enumerate(factors) if f.kind is Kind.TENSOR)
        before = "".join(f"{self.wrap(factor, _POSTFIX)} " for factor in factors[:outside])
        self.slices = letters
        try:
            text = self.wrap(body, _JUXTAPOSE) if not outside else \
                " ".join(self.wrap(factor, _POSTFIX) for factor in factors[outside:])
        finally:
            self.slices = ""
        return f"{before}\\sum_{{{','.join(letters)}}} {text}", _TRAILING_SUM

    def _expand(self, node: Node) -> tuple[str, int]:
        axis, n = node.params
        return (f"\\operatorname{{expand}}\\left({self.print(node.args[0])[0]}, {axis}, "
                f"{latex_dim(n)}\\right)", _ATOM)

    def _zeros(self, node: Node) -> tuple[str, int]:
        rows, cols = node.params[:2]
        if node.kind is Kind.TENSOR:
            return self._tensor_leaf("0", node), _ATOM
        size = latex_dim(rows) if node.kind is Kind.VECTOR else \
            f"{latex_dim(rows)} \\times {latex_dim(cols)}"
        return f"\\mathbf{{0}}_{{{size}}}", _ATOM

    def _commutation(self, node: Node) -> tuple[str, int]:
        m, n = node.params
        return f"K_{{{latex_dim(m)},{latex_dim(n)}}}", _ATOM

    # operators -------------------------------------------------------------------------------

    def _add(self, node: Node) -> tuple[str, int]:
        return self._binary(node, "+", _SUM)

    def _sub(self, node: Node) -> tuple[str, int]:
        return self._binary(node, "-", _SUM)

    def _concatenation(self, node: Node) -> tuple[str, int]:
        return f"\\begin{{bmatrix}} {self._blocks(node)} \\end{{bmatrix}}", _ATOM

    _hcat = _vcat = _concatenation

    def _einsum(self, node: Node) -> tuple[str, int]:
        """An einsum without a matrix form as a sum over its indices, the output's letters
        on the bracket: ``\\left[\\sum_{k} Q_{tk} K_{sk}\\right]_{ts}`` (a number: no bracket)."""
        inputs, output = node.params[0].split("->")
        summed = "".join(dict.fromkeys(letter for letter in inputs if letter not in ",-" + output))
        factors = []
        for term, arg in zip(inputs.split(","), node.args, strict=True):
            text = self.print(arg)[0]
            factors.append(f"{text if re.fullmatch('[A-Za-z]', text) else _bracketed(text)}"
                           f"_{{{term}}}")
        body = (f"\\sum_{{{summed}}} " if summed else "") + " ".join(factors)
        if output:
            return f"\\left[{body}\\right]_{{{output}}}", _ATOM
        return body, _HADAMARD

    def _blocks(self, node: Node) -> str:
        """The entries of a block matrix: ``A & B`` side by side, ``A \\\\ B`` stacked
        (a nested concatenation the other way is one bracket inside)."""
        parts = []
        for arg in node.args:
            if arg.op == node.op:
                parts.append(self._blocks(arg))
            else:
                parts.append(self.print(arg)[0])
        return (" & " if node.op == "hcat" else " \\\\ ").join(parts)

    def _shown(self, op: str, left: Node, right: Node) -> tuple[Node, Node]:
        """The operands as written: a spread row or column beside a full matrix as the row or
        column, and outside a sum over slices, a tensor spread along the axis the shapes name
        as what it spreads (``G`` for ``expand(G, 2, d)``)."""
        left, right = shown_operands(op, left, right)
        return (left, right) if self.slices else shown_spreads(op, left, right)

    def _binary(self, node: Node, symbol: str, level: int) -> tuple[str, int]:
        # a spread row or column beside a full matrix is written as the row or column, as the
        # text printer does (X - mu, \frac{X}{s}): the reader spreads it back
        left, right = self._shown(node.op, *node.args)
        right_text, right_level = self.print(right)
        if right_level < level + 1 and right_level != _TRAILING_SUM:
            right_text = f"\\left({right_text}\\right)"
        return f"{self.wrap(left, level)} {symbol} {right_text}", level

    def _matmul(self, node: Node) -> tuple[str, int]:
        over_slices = self._batch_sum(node)  # \sum_{b,t} \delta_{bt}: sum(delta, 0)' @ ones(T)
        if over_slices is not None:
            return over_slices
        left, right = node.args
        # the matrix product is associative: A (B C) is set as A B C; a batch sum last takes
        # no brackets (W \sum_b X_b), and then what follows the whole product must
        right_text, level = self.print(right) if right.op == "matmul" else \
            self._last_factor(right)
        return f"{self.wrap(left, _JUXTAPOSE)} {right_text}", \
            _TRAILING_SUM if level == _TRAILING_SUM else _JUXTAPOSE

    def _last_factor(self, node: Node) -> tuple[str, int]:
        """The last factor of a product: a batch sum as it is (at the level of a sum), else
        bracketed unless it binds tighter than a product."""
        over_slices = self._batch_sum(node)
        return over_slices if over_slices is not None else (self.wrap(node, _POSTFIX), _POSTFIX)

    def _mul(self, node: Node) -> tuple[str, int]:
        left, right = node.args
        if right.is_scalar and not left.is_scalar:
            left, right = right, left
        if left.is_scalar:
            joiner = " \\cdot " if right.op == "const" or (
                left.op == "const" and self.print(right)[0][:1].isdigit()) else " "
            right_text, level = self._last_factor(right)
            return f"{self.wrap(left, _JUXTAPOSE)}{joiner}{right_text}", \
                _TRAILING_SUM if level == _TRAILING_SUM else _JUXTAPOSE
        return self._binary(node, "\\odot", _HADAMARD)

    def _neg(self, node: Node) -> tuple[str, int]:
        over_slices = self._batch_sum(node.args[0])  # -\sum_b X_b
        if over_slices is not None:
            return f"-{over_slices[0]}", _TRAILING_SUM
        return f"-{self.wrap(node.args[0], _JUXTAPOSE)}", _UNARY

    def _transpose(self, node: Node) -> tuple[str, int]:
        over_slices = self._batch_sum(node)  # \sum_{b,t} \delta_{bt}: (ones(T)' @ sum(delta, 0))'
        if over_slices is not None:
            return over_slices
        inner = node.args[0]
        if inner.op == "inv":
            return f"{self.wrap(inner.args[0], _ATOM)}^{{-\\top}}", _POSTFIX
        return f"{self.wrap(inner, _ATOM)}^\\top", _POSTFIX

    def _pow(self, node: Node) -> tuple[str, int]:
        base, exponent = node.args
        power = self.print(exponent)[0]
        if base.is_scalar:
            return f"{self.wrap(base, _ATOM)}^{{{power}}}", _POSTFIX
        return f"{self.wrap(base, _ATOM)}^{{\\circ {power}}}", _POSTFIX

    def _mpow(self, node: Node) -> tuple[str, int]:
        return f"{self.wrap(node.args[0], _ATOM)}^{{{node.params[0]}}}", _POSTFIX

    def _mpowk(self, node: Node) -> tuple[str, int]:
        return f"{self.wrap(node.args[0], _ATOM)}^{{{self.print(node.args[1])[0]}}}", _POSTFIX

    def _trpowk(self, node: Node) -> tuple[str, int]:
        return f"\\operatorname{{tr}}\\left({self._mpowk(node)[0]}\\right)", _ATOM

    # functions with their own notation --------------------------------------------------------


    def _sigmoid(self, node: Node) -> tuple[str, int]:
        name = r"\operatorname{sigmoid}" if "sigma" in self.style.taken else r"\sigma"
        return f"{name}\\left({self.print(node.args[0])[0]}\\right)", _ATOM

    def _unvec(self, node: Node) -> tuple[str, int]:
        rows, cols = node.params
        return (f"\\operatorname{{unvec}}_{{{latex_dim(rows)},{latex_dim(cols)}}}"
                f"\\left({self.print(node.args[0])[0]}\\right)", _ATOM)


def _bracketed(text: str) -> str:
    return f"\\left({text}\\right)"


def derivative_symbol(kind: str, of: str, wrt: str, of_kind: Kind, wrt_kind: Kind,
                      style: LatexStyle = LatexStyle(), across: tuple[str, Kind] | None = None
                      ) -> str:
    """``\\frac{\\partial J}{\\partial W}``, the Jacobian's ``\\partial \\operatorname{vec}``
    form for matrices, ``\\frac{\\partial^2 f}{\\partial x \\partial x^\\top}``, and for a
    Hessian's cross block (``across``: the second variable and its kind)
    ``\\frac{\\partial^2 f}{\\partial w \\partial b^\\top}``."""
    top = latex_name(of, of_kind, style)

    def stacked(name: str, name_kind: Kind) -> str:
        written = latex_name(name, name_kind, style)
        return f"\\operatorname{{vec}}({written})" if name_kind is Kind.MATRIX else written

    bottom = latex_name(wrt, wrt_kind, style)
    if kind == "hessian":
        second = stacked(*across) if across else stacked(wrt, wrt_kind)
        return (f"\\frac{{\\partial^2 {top}}}{{\\partial {stacked(wrt, wrt_kind)} \\, "
                f"\\partial {second}^\\top}}")
    if kind == "jacobian":
        if of_kind is Kind.MATRIX:
            top = f"\\operatorname{{vec}}({top})"
        if wrt_kind is Kind.MATRIX:
            bottom = f"\\operatorname{{vec}}({bottom})"
        if wrt_kind in (Kind.MATRIX, Kind.VECTOR) and of_kind is not Kind.SCALAR:
            bottom += "^\\top" if wrt_kind is Kind.MATRIX else ""
    return f"\\frac{{\\partial {top}}}{{\\partial {bottom}}}"


def result_symbol(result: Result, style: LatexStyle = LatexStyle()) -> str:
    """The symbol of a derived result (an ``engine.result.Result``): ``\\frac{\\partial
    J}{\\partial W}`` for its kind, the kinds of its names, a Hessian's cross block."""
    program = result.program

    def kind_of(name: str) -> Kind:
        variable = program.variables.get(name)
        return variable.kind if variable is not None else program.definitions[name].ref.kind

    return derivative_symbol(result.kind, result.of, result.wrt, result.of_node.kind,
                             kind_of(result.wrt), style,
                             (result.across, kind_of(result.across)) if result.across else None)


def result_style(result: Result, bold: bool = False) -> LatexStyle:
    """The style of a result's LaTeX: its problem's names and its deltas are taken."""
    program = result.program
    taken = frozenset(program.variables) | frozenset(program.definitions) | \
        frozenset(result.derivation.where)
    return LatexStyle(bold=bold, taken=taken)


def result_lines(result: Result, style: LatexStyle | None = None, layout: str = "mixed"
                 ) -> list[tuple[str, str]]:
    """(left side, right side) pairs: the result's where-definitions, then the result written
    in ``layout`` (:func:`matcalc.engine.pipeline.in_layout`)."""
    style = style or result_style(result)
    written = in_layout(result, layout)
    lines = [(latex_name(name, body.kind, style), to_latex(body, style))
             for name, body in result.where.items()]
    lines.append((result_symbol(result, style), to_latex(written, style)))
    return lines


def results_block(results: Sequence[Result], bold: bool = False, layout: str = "mixed") -> str:
    """Several results as one aligned block, after the where-definitions they share."""
    if not results:
        return ""
    style = result_style(results[0], bold)
    shared: dict[str, tuple[str, str]] = {}
    written = []
    for result in results:
        *where, last = result_lines(result, style, layout)
        for left, right in where:
            shared.setdefault(left, (left, right))
        written.append(last)
    return aligned([*shared.values(), *written])


def aligned(lines: Iterable[tuple[str, str]]) -> str:
    """``left &= right`` lines in an aligned block."""
    body = " \\\\\n".join(f"  {left} &= {right}" for left, right in lines)
    return f"\\begin{{aligned}}\n{body}\n\\end{{aligned}}"


STANDALONE = r"""\documentclass{article}
\usepackage{amsmath,amssymb,amsfonts}
\begin{document}
%s
\end{document}
"""


def standalone(blocks: Iterable[str]) -> str:
    """A complete document showing each aligned block as a displayed equation."""
    body = "\n".join(f"\\[\n{block}\n\\]" for block in blocks)
    return STANDALONE % body


__all__ = ["LatexStyle", "aligned", "derivative_symbol", "latex_name", "result_lines",
           "result_style", "result_symbol", "results_block", "standalone", "to_latex"]

"""LaTeX answers as tokens: words, numbers, commands and symbols, with their offsets.

The vocabulary of the LaTeX reader lives here too: Greek letters, accents, fonts, the function
commands and the products it knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark.tree import Meta

from ..core.registry import operation, view
from ..errors import (
    LimitError,
    ParseError,
)
from .syntax import MAX_LENGTH, location_at

MAX_NESTING = 50  # brackets and braces inside each other
# operations read inside each other, brackets or not (\log \log x, \sum_i \sum_j ...): each
# is a few frames of the reader's recursion, which this keeps far from Python's limit
MAX_DEPTH = 100

GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
    "Omega",
})
GREEK_VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho",
                  "varsigma": "sigma", "varpi": "pi"}
ACCENTS = {"hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde", "bar": "bar",
           "overline": "bar"}
FONTS = frozenset({"mathbf", "boldsymbol", "bm", "mathit", "mathrm", "text", "textrm", "textit",
                   "mathsf", "mathbb", "operatorname", "mathcal", "mathtt"})
SPACING = frozenset({"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl",
                     "Bigr", "biggl", "biggr", "Biggl", "Biggr", "quad", "qquad", "displaystyle",
                     "textstyle", "limits", "nolimits", "middle"})
# the commands read as functions and as products: each operation's LaTeX facet says which
# commands it reads (an operator set between its operands reads as a product)
FUNCTION_COMMANDS: dict[str, str] = {}
FUNCTION_ALIASES = {"trace": "tr", "lse": "logsumexp", "sgn": "sign", "diagm": "diag",
                    "logistic": "sigmoid", "heaviside": "step"}
PRODUCTS: dict[str, str] = {}
for _name, _latex in view("latex").items():
    _product = bool(_latex.infix) or (_latex.special and operation(_name).arity == 2)
    (PRODUCTS if _product else FUNCTION_COMMANDS).update(dict.fromkeys(_latex.reads, _name))
    PRODUCTS.update(dict.fromkeys(_latex.infix_reads, _name))
TRANSPOSES = frozenset({"T", "top", "intercal", "mathsf{T}", "mathrm{T}"})
_EQUALITY = "a step is an equality: write '=' between two expressions with the same value"
_INDICES = ("entries and index ranges are not read: write the matrix form (x^\\top y, A B, "
            "\\mathbf{1}^\\top x, \\operatorname{sum}(x))")
# notation that is not read, with what to write instead (\sum and \prod: see the reader)
UNSUPPORTED = {
    "int": "integrals are not evaluated; write the integrand's closed form",
    "iint": "integrals are not evaluated; write the integrand's closed form",
    "oint": "integrals are not evaluated; write the integrand's closed form",
    "lim": "limits are not evaluated; write the derivative itself (\\nabla_w f = ...)",
    "infty": "infinity is not a value (only -\\infty as a branch of "
             "\\operatorname{where}(C, A, -\\infty)); write a finite expression",
    "Pr": "probabilities are not read; write the expression for one sample",
    "approx": _EQUALITY, "sim": _EQUALITY, "propto": _EQUALITY, "simeq": _EQUALITY,
    "le": _EQUALITY, "leq": _EQUALITY, "lt": _EQUALITY, "ne": _EQUALITY, "neq": _EQUALITY,
    "equiv": _EQUALITY, "geq": "a comparison is read only in an indicator, "
    "\\mathbb{1}[z > 0]; " + _EQUALITY,
    "cdots": _INDICES, "ldots": _INDICES, "dots": _INDICES, "vdots": _INDICES,
    "ddots": _INDICES, "forall": _INDICES,
    "in": "membership (x \\in \\mathbb{R}^n) is a declaration: the problem declares the shapes "
    "(x : vector(n))",
    "mathbb{E}": "an expectation is not read; write the expression for one sample",
    "mathbb{R}": "a space is a declaration: the problem declares the shapes (x : vector(n))",
    "arg": "argmin / argmax are not expressions; write the minimiser's closed form",
    "argmin": "argmin / argmax are not expressions; write the minimiser's closed form",
    "argmax": "argmin / argmax are not expressions; write the minimiser's closed form",
}
# f'(z) for the elementwise functions whose derivative the language writes directly
DERIVATIVES = frozenset({"sigmoid", "relu", "tanh", "exp", "log"})


@dataclass(frozen=True)
class LatexToken:
    """One LaTeX token: 'cmd' (\\name, without the backslash), 'word', 'number', 'sym', 'end'."""

    kind: str
    text: str
    offset: int
    length: int = 1


_SKIPPED_ESCAPES = frozenset(",;:! ()[]")  # spacing; \( \) and \[ \] delimit math as $ does
_WORD = re.compile(r"[A-Za-z]+[0-9]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_ENVIRONMENT = re.compile(r"\\(begin|end)\s*\{[A-Za-z*]+\}")
_MATRIX = re.compile(r"\\(begin|end)\s*\{[bp]?matrix\}")
_SYMBOLS = frozenset("{}()[]^_'+-/=>,:*|<.")


def tokens(source: str) -> list[LatexToken]:
    """Split LaTeX into tokens; spacing, ``$``, ``&``, sizing and environments are dropped."""
    if len(source) > MAX_LENGTH:
        raise LimitError(f"the answer has {len(source)} characters, more than {MAX_LENGTH} "
                         "(matcalc.lang.syntax.MAX_LENGTH sets the limit)")
    found: list[LatexToken] = []
    offset = 0
    matrices = 0  # bmatrix environments open: & and \\ separate their blocks
    while offset < len(source):
        char = source[offset]
        block = _MATRIX.match(source, offset) if char == "\\" else None
        if block:
            opening = block.group(1) == "begin"
            if not opening and not matrices:
                raise ParseError("\\end{bmatrix} without its \\begin{bmatrix}",
                                 location_at(source, offset), source)
            matrices += 1 if opening else -1
            found.append(LatexToken("sym", "[[" if opening else "]]", offset, len(block.group())))
            offset = block.end()
            continue
        if matrices and (char == "&" or source.startswith("\\\\", offset)):
            width = 1 if char == "&" else 2
            found.append(LatexToken("sym", "&" if char == "&" else "&&", offset, width))
            offset += width
            continue
        if char in " \t\r\f$&~":
            offset += 1
            continue
        if char in "\n;":
            found.append(LatexToken("sym", ";", offset))
            offset += 1
            continue
        if char == "\\":
            offset = _escape(source, offset, found)
            continue
        match = _WORD.match(source, offset) or _NUMBER.match(source, offset)
        if match:
            kind = "word" if char.isalpha() else "number"
            found.append(LatexToken(kind, match.group(), offset, len(match.group())))
            offset = match.end()
            continue
        if char not in _SYMBOLS:
            raise ParseError(f"unexpected character {char!r} in a LaTeX answer",
                             location_at(source, offset), source)
        found.append(LatexToken("sym", char, offset))
        offset += 1
    found.append(LatexToken("end", "", len(source)))
    _check_nesting(source, found)
    return found


def _check_nesting(source: str, found: list[LatexToken]) -> None:
    depth = 0
    for token in found:
        if token.kind == "sym" and token.text in ("{", "(", "[", "[[", "<<"):
            depth += 1
            if depth > MAX_NESTING:
                raise LimitError(f"brackets nested more than {MAX_NESTING} deep "
                                 "(matcalc.lang.latex_tokens.MAX_NESTING sets the limit)",
                                 location_at(source, token.offset), source)
        elif token.kind == "sym" and token.text in ("}", ")", "]", "]]", ">>"):
            depth -= 1


def _escape(source: str, offset: int, found: list[LatexToken]) -> int:
    """Tokenize the backslash sequence at ``offset``; returns the offset after it."""
    environment = _ENVIRONMENT.match(source, offset)
    if environment:
        return environment.end()
    following = source[offset + 1: offset + 2]
    if following == "\\":
        found.append(LatexToken("sym", ";", offset, 2))
        return offset + 2
    if following in _SKIPPED_ESCAPES or following == "":
        return offset + 2
    if following in "{}":
        found.append(LatexToken("sym", "(" if following == "{" else ")", offset, 2))
        return offset + 2
    if following == "|":
        found.append(LatexToken("sym", "||", offset, 2))
        return offset + 2
    if following == "_":  # an escaped underscore, inside a name: \mathit{delta\_yhat}
        found.append(LatexToken("word", "_", offset, 2))
        return offset + 2
    command = _COMMAND.match(source, offset)
    if not command:
        raise ParseError(f"unexpected LaTeX escape '\\{following}'", location_at(source, offset),
                         source)
    name = command.group(1)
    if name in ("lVert", "rVert", "Vert"):
        found.append(LatexToken("sym", "||", offset, len(command.group())))
    elif name in ("lvert", "rvert", "vert"):
        found.append(LatexToken("sym", "|", offset, len(command.group())))
    elif name in ("langle", "rangle"):  # <A, B>: the Frobenius (inner) product
        found.append(LatexToken("sym", "<<" if name == "langle" else ">>", offset,
                                len(command.group())))
    elif name not in SPACING:
        found.append(LatexToken("cmd", name, offset, len(command.group())))
    return command.end()


def meta(source: str, start: LatexToken, end: LatexToken) -> Meta:
    meta = Meta()
    first = location_at(source, start.offset)
    last = location_at(source, end.offset + end.length)
    meta.line, meta.column = first.line, first.column
    meta.end_line, meta.end_column = last.line, last.column
    meta.empty = False
    return meta


def line_column(source: str, offset: int) -> tuple[int, int]:
    location = location_at(source, offset)
    return location.line, location.column


KNOWN_COMMANDS = sorted(GREEK | set(GREEK_VARIANTS) | set(ACCENTS) | FONTS |
                         set(FUNCTION_COMMANDS) | set(PRODUCTS) |
                         {"frac", "sqrt", "cdot", "times", "top", "intercal"})


def looks_like_latex(text: str) -> bool:
    """Whether an answer is LaTeX: a backslash command, ``^{``/``_{``, or ``^T`` juxtaposed."""
    return bool(re.search(r"\\[A-Za-z|{]|\^\{|_\{|\^T\s*[A-Za-z(\\]|\$", text))

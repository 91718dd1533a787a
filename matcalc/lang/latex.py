"""LaTeX answers -> the language's parse trees, read with matrix meaning.

SymPy's and latex2sympy's LaTeX readers make every symbol a commutative scalar, so ``W^T \\delta``
becomes ``W*delta``; here symbols keep their shapes.  The reader is a small recursive-descent
parser over LaTeX tokens that builds the same trees as the language grammar (``add``, ``matmul``,
``call`` ...), plus ``juxtapose`` (a product by juxtaposition: matrix product, or scalar product
when one side is a scalar), ``dot`` (``\\cdot``: an inner product of two vectors, else like
juxtaposition) and ``derivative`` (``\\sigma'(z)``), which :class:`LatexBuilder` turns into IR.

Precedence, lowest first: ``+ -``; ``\\odot \\circ \\otimes / :``; juxtaposition, ``\\cdot``,
``\\times``; unary minus; postfix ``^T ^{-1} '`` and subscripts.  So ``W^T \\delta \\odot f'(z)``
is ``(W^T \\delta) \\odot f'(z)`` and ``a \\odot W x`` is ``a \\odot (W x)``, as papers mean them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lark import Token, Tree
from lark.tree import Meta

from .. import ir
from ..errors import (
    LimitError,
    Location,
    ParseError,
    UnknownNameError,
    UnsupportedError,
    did_you_mean,
)
from ..ir import Node
from ..shapes import Kind
from .build import FUNCTIONS, Builder
from .syntax import MAX_LENGTH, location_at

MAX_NESTING = 50  # brackets and braces inside each other

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
FUNCTION_COMMANDS = {"log": "log", "ln": "log", "exp": "exp", "sin": "sin", "cos": "cos",
                     "tanh": "tanh", "det": "det", "tr": "tr", "Tr": "tr", "sqrt": "sqrt",
                     "diag": "diag", "Diag": "diag", "vec": "vec", "sgn": "sign"}
FUNCTION_ALIASES = {"trace": "tr", "lse": "logsumexp", "sgn": "sign", "diagm": "diag",
                    "logistic": "sigmoid", "heaviside": "step"}
PRODUCTS = {"odot": "mul", "circ": "mul", "otimes": "kron"}
TRANSPOSES = frozenset({"T", "top", "intercal", "mathsf{T}", "mathrm{T}"})
# f'(z) for the elementwise functions whose derivative the language writes directly
DERIVATIVES = frozenset({"sigmoid", "relu", "tanh", "exp", "log"})


@dataclass(frozen=True)
class LatexToken:
    """One LaTeX token: 'cmd' (\\name, without the backslash), 'word', 'number', 'sym', 'end'."""

    kind: str
    text: str
    offset: int
    length: int = 1


_SKIPPED_ESCAPES = frozenset(",;:! ")
_WORD = re.compile(r"[A-Za-z]+[0-9]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_ENVIRONMENT = re.compile(r"\\(begin|end)\s*\{[A-Za-z*]+\}")
_SYMBOLS = frozenset("{}()[]^_'+-/=>,:*|<.")


def tokens(source: str) -> list[LatexToken]:
    """Split LaTeX into tokens; spacing, ``$``, ``&``, sizing and environments are dropped."""
    if len(source) > MAX_LENGTH:
        raise LimitError(f"the answer has {len(source)} characters, more than {MAX_LENGTH} "
                         "(matcalc.lang.syntax.MAX_LENGTH sets the limit)")
    found: list[LatexToken] = []
    offset = 0
    while offset < len(source):
        char = source[offset]
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
        if token.kind == "sym" and token.text in "{([":
            depth += 1
            if depth > MAX_NESTING:
                raise LimitError(f"brackets nested more than {MAX_NESTING} deep "
                                 "(matcalc.lang.latex.MAX_NESTING sets the limit)",
                                 location_at(source, token.offset), source)
        elif token.kind == "sym" and token.text in "})]":
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
    command = _COMMAND.match(source, offset)
    if not command:
        raise ParseError(f"unexpected LaTeX escape '\\{following}'", location_at(source, offset),
                         source)
    name = command.group(1)
    if name in ("lVert", "rVert", "Vert"):
        found.append(LatexToken("sym", "||", offset, len(command.group())))
    elif name in ("lvert", "rvert", "vert"):
        found.append(LatexToken("sym", "|", offset, len(command.group())))
    elif name in ("langle", "rangle"):
        raise UnsupportedError("angle brackets are not supported; write a transpose product "
                               "x^T y or a Frobenius product A : B")
    elif name not in SPACING:
        found.append(LatexToken("cmd", name, offset, len(command.group())))
    return command.end()


def _meta(source: str, start: LatexToken, end: LatexToken) -> Meta:
    meta = Meta()
    first = location_at(source, start.offset)
    last = location_at(source, end.offset + end.length)
    meta.line, meta.column = first.line, first.column
    meta.end_line, meta.end_column = last.line, last.column
    meta.empty = False
    return meta


class LatexReader:
    """Recursive descent over one statement's tokens; names resolve against ``known``."""

    def __init__(self, source: str, items: list[LatexToken], known: Callable[[str], bool]):
        self.source = source
        self.items = items
        self.position = 0
        self.known = known
        self.in_norm = False

    # -- token helpers ------------------------------------------------------------------------

    @property
    def current(self) -> LatexToken:
        return self.items[self.position]

    def advance(self) -> LatexToken:
        token = self.items[self.position]
        if token.kind != "end":
            self.position += 1
        return token

    def at(self, kind: str, *texts: str) -> bool:
        token = self.current
        return token.kind == kind and (not texts or token.text in texts)

    def expect_sym(self, text: str, what: str) -> LatexToken:
        if not self.at("sym", text):
            raise self.error(f"expected {what}")
        return self.advance()

    def error(self, message: str, token: LatexToken | None = None) -> ParseError:
        token = token or self.current
        if token.kind == "end":
            message = f"the answer ends too early: {message}"
        return ParseError(message, Location(*_line_column(self.source, token.offset),
                                            max(1, token.length)), self.source)

    def tree(self, data: str, children: list, start: LatexToken) -> Tree:
        end = self.items[max(self.position - 1, 0)]
        return Tree(data, children, _meta(self.source, start, end))

    def name_token(self, name: str, start: LatexToken) -> Token:
        line, column = _line_column(self.source, start.offset)
        return Token("NAME", name, start.offset, line, column)

    # -- grammar ------------------------------------------------------------------------------

    def expression(self) -> Tree:
        start = self.current
        negate = False
        while self.at("sym", "+", "-"):
            negate ^= self.advance().text == "-"
        result = self.term()
        if negate:
            result = self.tree("neg", [result], start)
        while self.at("sym", "+", "-"):
            op = "add" if self.advance().text == "+" else "sub"
            negate = False
            while self.at("sym", "+", "-"):
                negate ^= self.advance().text == "-"
            term_start = self.current
            right = self.term()
            if negate:
                right = self.tree("neg", [right], term_start)
            result = self.tree(op, [result, right], start)
        return result

    def term(self) -> Tree:
        start = self.current
        result = self.juxtaposition()
        while True:
            if self.at("cmd", *PRODUCTS):
                op = PRODUCTS[self.advance().text]
                right = self.juxtaposition()
                if op == "kron":
                    result = self.tree("call", [self.name_token("kron", start), result, right],
                                       start)
                else:
                    result = self.tree(op, [result, right], start)
            elif self.at("sym", "/", ":"):
                op = "div" if self.advance().text == "/" else "frob"
                result = self.tree(op, [result, self.juxtaposition()], start)
            else:
                return result

    def juxtaposition(self) -> Tree:
        start = self.current
        if self.at("sym", "-"):
            self.advance()
            return self.tree("neg", [self.juxtaposition()], start)
        result = self.postfix()
        while True:
            if self.at("cmd", "cdot", "times"):
                op = "dot" if self.advance().text == "cdot" else "juxtapose"
                result = self.tree(op, [result, self.postfix()], start)
            elif self.starts_atom():
                result = self.tree("juxtapose", [result, self.postfix()], start)
            elif self.at("sym", "*"):
                raise self.error("'*' is ambiguous in LaTeX: write a matrix product by "
                                 "juxtaposition (W x) and a Hadamard product with \\odot")
            else:
                return result

    def starts_atom(self) -> bool:
        token = self.current
        if token.kind in ("word", "number"):
            return True
        if token.kind == "cmd":
            return token.text not in PRODUCTS and token.text not in ("cdot", "times", "geq",
                                                                     "ge", "top", "intercal")
        if token.kind == "sym":
            return token.text in "([{" or (token.text == "||" and not self.in_norm)
        return False

    def postfix(self) -> Tree:
        start = self.current
        result = self.atom()
        while True:
            if self.at("sym", "'"):
                self.advance()
                result = self.tree("transpose", [result], start)
            elif self.at("sym", "^"):
                self.advance()
                result = self.superscript(result, start)
            elif self.at("sym", "_"):
                raise self.error("a subscript belongs to a name (W_1, \\delta_2), a norm "
                                 "(\\|X\\|_F) or a size (I_n, \\mathbf{1}_n)")
            else:
                return result

    def superscript(self, base: Tree, start: LatexToken) -> Tree:
        """``^T``, ``^{-1}``, ``^{-T}``, ``^2``, ``^{\\circ 2}``."""
        braced = self.at("sym", "{")
        if braced:
            self.advance()
        if self.at("word", "T") or self.at("cmd", "top", "intercal"):
            self.advance()
            result = self.tree("transpose", [base], start)
        elif braced and self.at("sym", "-") and self._next_is_transpose():
            self.advance()
            self.advance()
            result = self.tree("transpose", [self.call("inv", [base], start)], start)
        elif braced and self.at("cmd", "circ", "odot"):
            self.advance()
            result = self.tree("epow", [base, self.exponent(braced)], start)
        elif self.at("sym", "'") or self.at("cmd", "prime"):
            raise UnsupportedError("a prime in a superscript is a derivative; write "
                                   "\\sigma'(z) on a function, or the derivative itself")
        else:
            result = self.tree("pow", [base, self.exponent(braced)], start)
        if braced:
            self.expect_sym("}", "'}' closing the superscript")
        return result

    def _next_is_transpose(self) -> bool:
        following = self.items[self.position + 1]
        return (following.kind == "word" and following.text == "T") or \
            (following.kind == "cmd" and following.text in ("top", "intercal"))

    def exponent(self, braced: bool) -> Tree:
        if braced:
            return self.expression()
        start = self.current
        if self.at("number"):
            token = self.advance()
            if len(token.text) > 1 and token.text.isdigit():
                raise self.error(f"write ^{{{token.text}}}: without braces LaTeX raises to "
                                 f"the power {token.text[0]} only", token)
            return self.tree("number", [Token("NUMBER", token.text)], start)
        return self.atom()

    def atom(self) -> Tree:
        token = self.current
        if token.kind == "number":
            self.advance()
            return self.tree("number", [Token("NUMBER", token.text)], token)
        if token.kind == "word":
            return self.word()
        if token.kind == "cmd":
            return self.command()
        if token.kind == "sym" and token.text in "([{":
            return self.group()
        if token.kind == "sym" and token.text == "||":  # where an operand starts, it opens
            return self.norm()
        if token.kind == "sym" and token.text == "|":
            raise UnsupportedError("|...| is ambiguous (determinant, absolute value, norm): "
                                   "write \\det(X), \\operatorname{abs}(x) or \\|x\\|_2",
                                   Location(*_line_column(self.source, token.offset)),
                                   self.source)
        if token.kind == "end":
            raise self.error("expected an expression")
        raise self.error(f"unexpected '{token.text}'")

    def group(self) -> Tree:
        opener = self.advance()
        closer = {"(": ")", "[": "]", "{": "}"}[opener.text]
        saved, self.in_norm = self.in_norm, False
        inner = self.expression()
        self.in_norm = saved
        self.expect_sym(closer, f"'{closer}' closing the '{opener.text}'")
        return inner

    def norm(self) -> Tree:
        start = self.advance()
        saved, self.in_norm = self.in_norm, True
        inner = self.expression()
        self.in_norm = saved
        self.expect_sym("||", "'\\|' closing the norm")
        which = ""
        if self.at("sym", "_"):
            self.advance()
            which = self.raw_subscript()
        if which not in ("", "F", "2"):
            raise UnsupportedError(f"the norm \\|.\\|_{which} is not supported; matcalc has "
                                   "\\|x\\|_2 for vectors and \\|X\\|_F for matrices")
        return self.tree("norm", [Token("NAME", which), inner], start)

    def raw_subscript(self) -> str:
        """The text of a subscript: ``_2``, ``_{12}``, ``_F``, ``_{ij}``."""
        if self.at("sym", "{"):
            self.advance()
            parts = []
            while not self.at("sym", "}"):
                token = self.advance()
                part = _name_part(token)
                if part is None:
                    raise self.error("a subscript of a name is letters and digits", token)
                parts.append(part)
            self.advance()
            return "".join(parts)
        token = self.advance()
        part = _name_part(token)
        if part is None:
            raise self.error("expected a subscript", token)
        return part

    def dimension_subscripts(self, start: LatexToken) -> list[Tree]:
        """Sizes after ``_``: ``n``, ``{N k}`` (a product), ``{m,n}`` (two sizes)."""
        if not self.at("sym", "{"):
            return [self.dimension_factor(self.advance(), start)]
        self.advance()
        sizes: list[Tree] = []
        factors: list[Tree] = []
        while not self.at("sym", "}"):
            token = self.advance()
            if token.kind == "sym" and token.text == ",":
                if not factors:
                    raise self.error("expected a size before ','", token)
                sizes.append(self._product(factors, start))
                factors = []
            elif token.kind == "cmd" and token.text in ("times", "cdot"):
                continue
            else:
                factors.append(self.dimension_factor(token, start))
        self.advance()
        if not factors:
            raise self.error("expected a size")
        sizes.append(self._product(factors, start))
        return sizes

    def dimension_factor(self, token: LatexToken, start: LatexToken) -> Tree:
        if token.kind == "number":
            return self.tree("number", [Token("NUMBER", token.text)], token)
        if token.kind == "word":
            return self.name_tree(token.text, token)
        if token.kind == "cmd" and _greek(token.text):
            return self.name_tree(_greek(token.text), token)
        raise self.error("a size is a name or a number", token)

    def _product(self, factors: list[Tree], start: LatexToken) -> Tree:
        result = factors[0]
        for factor in factors[1:]:
            result = self.tree("mul", [result, factor], start)
        return result

    def sized(self, name: str, start: LatexToken, count: int) -> Tree:
        r"""``I_n``, ``K_{m,n}``, ``\mathbf{1}_{m}``: a leaf of the given sizes."""
        sizes = self.dimension_subscripts(start)
        if len(sizes) != count:
            raise self.error(f"{name} takes {count} size{'s' if count > 1 else ''} in its "
                             "subscript")
        return self.call(name, sizes, start)

    # -- names and functions ------------------------------------------------------------------

    def word(self) -> Tree:
        token = self.advance()
        text = token.text
        sized = {"I": ("I", 1), "K": ("commutation", 2)}.get(text)
        if sized and not self.known(text) and self.at("sym", "_"):
            self.advance()
            return self.sized(sized[0], token, sized[1])
        subscript = ""
        if self.at("sym", "_"):
            self.advance()
            subscript = self.raw_subscript()
        if text == "I" and not self.known("I"):
            if subscript:
                return self.call("I", [self.name_tree(subscript, token)], token)
            return self.name_tree("I", token)
        if text in FUNCTIONS and not self.known(text) and not subscript:
            return self.application(text, token)
        if text == "e" and not self.known("e") and not subscript and self.at("sym", "^"):
            self.advance()
            braced = self.at("sym", "{") and self._consume_brace()
            exponent = self.exponent(braced)
            if braced:
                self.expect_sym("}", "'}' closing the superscript")
            return self.call("exp", [exponent], token)
        *front, last = self.split_word(text, subscript)
        last = self.resolve(last, subscript)
        result = self.name_tree(last, token)
        if not front:
            return result
        trees = [self.name_tree(piece, token) for piece in front] + [result]
        combined = trees[0]
        for tree in trees[1:]:
            combined = self.tree("juxtapose", [combined, tree], token)
        return combined

    def _consume_brace(self) -> bool:
        self.advance()
        return True

    def split_word(self, text: str, subscript: str) -> list[str]:
        """A run of letters: the problem's name, or its names side by side (``Wx`` = W x).

        The split is greedy, longest known name first; the last piece may take the subscript
        (``Wb_1`` = W b1).  A run that does not split into known names stays whole, so the
        error names it.
        """
        def known(piece: str, last: bool) -> bool:
            return self.known(piece) or (last and subscript != "" and
                                         self.known(self.resolve(piece, subscript)))

        if known(text, True) or len(text) == 1:
            return [text]
        pieces, rest = [], text
        while rest:
            for end in range(len(rest), 0, -1):
                if known(rest[:end], end == len(rest)):
                    pieces.append(rest[:end])
                    rest = rest[end:]
                    break
            else:
                return [text]
        return pieces

    def resolve(self, name: str, subscript: str) -> str:
        """``W`` with subscript ``1``: the problem's ``W1`` or ``W_1``."""
        if not subscript:
            return name
        for candidate in (name + subscript, f"{name}_{subscript}"):
            if self.known(candidate):
                return candidate
        if self.known(name):
            raise UnknownNameError(
                f"'{name}_{subscript}' names nothing: a subscript is appended to a name "
                f"(W_1 is the problem's W1), and entries of arrays are not supported")
        return name + subscript

    def name_tree(self, name: str, start: LatexToken) -> Tree:
        return self.tree("name", [self.name_token(name, start)], start)

    def call(self, name: str, arguments: list[Tree], start: LatexToken) -> Tree:
        return self.tree("call", [self.name_token(name, start), *arguments], start)

    def command(self) -> Tree:
        token = self.current
        name = token.text
        if name in ("frac", "dfrac", "tfrac"):
            self.advance()
            numerator = self.braced()
            return self.tree("div", [numerator, self.braced()], token)
        if name == "sqrt":
            self.advance()
            return self.call("sqrt", [self.braced()], token)
        if name in ACCENTS:
            self.advance()
            inner = self.braced_text()
            subscript = self._maybe_subscript()
            return self.name_tree(self.resolve(inner + ACCENTS[name], subscript), token)
        if name in FONTS:
            return self.font()
        if name == "log" and self.items[self.position + 1].kind == "cmd" and \
                self.items[self.position + 1].text == "det":
            self.advance()
            self.advance()
            return self.application("logdet", token)
        if name in FUNCTION_COMMANDS:
            self.advance()
            return self.application(FUNCTION_COMMANDS[name], token)
        base = _greek(name)
        if base:
            self.advance()
            subscript = self._maybe_subscript()
            if base == "sigma" and not subscript and not self.known("sigma"):
                return self.application("sigmoid", token)
            return self.name_tree(self.resolve(base, subscript), token)
        if name in ("partial", "nabla"):
            raise UnsupportedError("derivative notation (\\partial, \\nabla) inside an answer "
                                   "is not supported; write the derivative itself",
                                   Location(*_line_column(self.source, token.offset),
                                            token.length), self.source)
        raise ParseError(f"unknown LaTeX command '\\{name}'"
                         f"{did_you_mean(name, _KNOWN_COMMANDS)}",
                         Location(*_line_column(self.source, token.offset), token.length),
                         self.source)

    def _maybe_subscript(self) -> str:
        if self.at("sym", "_"):
            self.advance()
            return self.raw_subscript()
        return ""

    def braced(self) -> Tree:
        if not self.at("sym", "{"):
            if self.at("word") and len(self.current.text) == 1 or self.at("number"):
                return self.atom()
            raise self.error("expected '{'")
        return self.group()

    def braced_text(self) -> str:
        """The letters inside ``{...}`` (or one token): a Greek letter, a word or a number."""
        if not self.at("sym", "{"):
            token = self.advance()
            part = _name_part(token)
            if part is None:
                raise self.error("expected a name", token)
            return part
        self.advance()
        parts = []
        while not self.at("sym", "}"):
            token = self.advance()
            part = _name_part(token)
            if part is not None:
                parts.append(part)
            elif token.kind == "cmd" and token.text in FONTS:
                parts.append(self.braced_text())
            else:
                raise self.error("expected a name inside the braces", token)
        self.advance()
        return "".join(parts)

    def font(self) -> Tree:
        token = self.advance()
        text = self.braced_text()
        if text == "1" or (text == "I" and token.text == "mathbb"):
            return self.ones_or_indicator(token)
        function = _function_named(text)
        if function and not self.known(text):
            return self.application(function, token)
        if text == "I" and not self.known("I"):
            if self.at("sym", "_"):
                self.advance()
                return self.sized("I", token, 1)
            return self.name_tree("I", token)
        subscript = self._maybe_subscript()
        return self.name_tree(self.resolve(text, subscript), token)

    def ones_or_indicator(self, start: LatexToken) -> Tree:
        """``\\mathbf{1}_n`` (ones) or an indicator ``\\mathbb{1}[z > 0]`` (= step(z))."""
        if self.at("sym", "_"):
            self.advance()
            if self.at("sym", "{") and self._has_comparison():
                self.advance()
                result = self.indicator(start)
                self.expect_sym("}", "'}'")
                return result
            return self.sized("ones", start, 1)
        if self.at("sym", "(", "[", "{"):
            opener = self.advance()
            result = self.indicator(start)
            self.expect_sym({"(": ")", "[": "]", "{": "}"}[opener.text], "a closing bracket")
            return result
        raise UnsupportedError("write the vector of ones with its size, \\mathbf{1}_n",
                               Location(*_line_column(self.source, start.offset), start.length),
                               self.source)

    def _has_comparison(self) -> bool:
        depth = 0
        for token in self.items[self.position:]:
            if token.kind == "sym" and token.text in "{([":
                depth += 1
            elif token.kind == "sym" and token.text in "})]":
                depth -= 1
                if depth <= 0:
                    return False
            elif token.text in (">", "geq", "ge", "<"):
                return True
        return False

    def indicator(self, start: LatexToken) -> Tree:
        inner = self.expression()
        if not (self.at("sym", ">") or self.at("cmd", "geq", "ge")):
            raise self.error("an indicator is written \\mathbb{1}[z > 0]")
        self.advance()
        zero = self.current
        if not (zero.kind == "number" and float(zero.text) == 0.0):
            raise UnsupportedError("an indicator compares with 0: \\mathbb{1}[z > 0] is step(z)",
                                   Location(*_line_column(self.source, zero.offset)),
                                   self.source)
        self.advance()
        return self.call("step", [inner], start)

    def application(self, function: str, start: LatexToken) -> Tree:
        """A function and its argument: ``\\log(x)``, ``\\operatorname{tr}(A)``, ``\\log x``."""
        derivative = False
        if self.at("sym", "'"):
            self.advance()
            derivative = True
            if function not in DERIVATIVES:
                raise UnsupportedError(f"the derivative {function}' is not supported; "
                                       "write it out",
                                       Location(*_line_column(self.source, start.offset),
                                                start.length), self.source)
        sizes: list[Tree] = []
        if function == "unvec":
            if not self.at("sym", "_"):
                raise self.error("unvec takes its sizes as a subscript: "
                                 "\\operatorname{unvec}_{m,n}(v)")
            self.advance()
            sizes = self.dimension_subscripts(start)
        power = None
        if self.at("sym", "^"):
            self.advance()
            braced = self.at("sym", "{") and self._consume_brace()
            power = self.exponent(braced)
            if braced:
                self.expect_sym("}", "'}' closing the superscript")
        if self.at("sym", "(", "[", "{"):
            argument = self.group()
        elif self.starts_atom():
            argument = self.postfix()
        else:
            raise self.error(f"expected the argument of {function}")
        if derivative:
            result = self.tree("derivative", [self.name_token(function, start), argument],
                               start)
        else:
            result = self.call(function, [argument, *sizes], start)
        if power is not None:
            result = self.tree("pow", [result, power], start)
        return result


def _name_part(token: LatexToken) -> str | None:
    """What a token adds to a name: a word, a number or a Greek letter's name (else None)."""
    if token.kind in ("word", "number"):
        return token.text
    if token.kind == "cmd" and _greek(token.text):
        return _greek(token.text)
    return None


def _greek(name: str) -> str:
    if name in GREEK:
        return name
    return GREEK_VARIANTS.get(name, "")


def _function_named(text: str) -> str:
    if text in FUNCTIONS:
        return text
    lowered = text.lower()
    if lowered in FUNCTION_ALIASES:
        return FUNCTION_ALIASES[lowered]
    if lowered in FUNCTIONS:
        return lowered
    return ""


def _line_column(source: str, offset: int) -> tuple[int, int]:
    location = location_at(source, offset)
    return location.line, location.column


_KNOWN_COMMANDS = sorted(GREEK | set(GREEK_VARIANTS) | set(ACCENTS) | FONTS |
                         set(FUNCTION_COMMANDS) | set(PRODUCTS) |
                         {"frac", "sqrt", "cdot", "times", "top", "intercal"})


def looks_like_latex(text: str) -> bool:
    """Whether an answer is LaTeX: a backslash command, ``^{``/``_{``, or ``^T`` juxtaposed."""
    return bool(re.search(r"\\[A-Za-z|{]|\^\{|_\{|\^T\s*[A-Za-z(\\]|\$", text))


@dataclass(frozen=True)
class Statement:
    """One statement of a LaTeX answer: ``name = expression`` (name may be empty)."""

    name: str
    tree: Tree
    start: LatexToken


def statements(source: str, known: Callable[[str], bool]) -> Iterable[Statement]:
    """The statements of a LaTeX answer, split at ``;``, ``\\\\`` and new lines.

    A leading ``\\frac{\\partial J}{\\partial W} =`` (or any left side with \\partial/\\nabla)
    of the last statement is dropped; an earlier statement's left side must be a name, which
    later statements may use.  ``known`` is consulted when each statement is read, so names
    defined by earlier statements resolve.
    """
    items = tokens(source)
    groups: list[list[LatexToken]] = [[]]
    for token in items[:-1]:
        if token.kind == "sym" and token.text == ";":
            groups.append([])
        else:
            groups[-1].append(token)
    groups = [_strip_punctuation(group) for group in groups]
    groups = [group for group in groups if group]
    if not groups:
        raise ParseError("the answer is empty")
    end = items[-1]
    for index, group in enumerate(groups):
        last = index == len(groups) - 1
        equals = [i for i, token in enumerate(group) if token.kind == "sym" and token.text == "="]
        name = ""
        body = group
        if equals:
            left, body = group[:equals[0]], group[equals[-1] + 1:]
            if not body:
                raise ParseError("nothing after '='", Location(
                    *_line_column(source, group[equals[-1]].offset)), source)
            if not last and not left:
                raise ParseError("nothing before '='", Location(
                    *_line_column(source, group[equals[0]].offset)), source)
            if not last and _is_derivative_notation(left):
                raise UnsupportedError("only the last statement may be the derivative itself; "
                                       "earlier ones define names")
            if not last:
                name = _left_name(source, left)
        reader = LatexReader(source, [*body, LatexToken("end", "", _end_offset(body, end))],
                             known)
        tree = reader.expression()
        if not reader.at("end"):
            raise reader.error(f"unexpected '{reader.current.text}'")
        yield Statement("" if last else name, tree, body[0])


def _end_offset(body: list[LatexToken], end: LatexToken) -> int:
    last = body[-1]
    return min(last.offset + last.length, end.offset)


def _strip_punctuation(group: list[LatexToken]) -> list[LatexToken]:
    while group and group[-1].kind == "sym" and group[-1].text in (",", "."):
        group = group[:-1]
    return group


def _is_derivative_notation(left: list[LatexToken]) -> bool:
    return any(token.kind == "cmd" and token.text in ("partial", "nabla") for token in left)


def _left_name(source: str, left: list[LatexToken]) -> str:
    reader = LatexReader(source, [*left, LatexToken("end", "", left[-1].offset + 1)],
                         lambda name: True)
    tree = reader.atom()
    if not reader.at("end") or tree.data != "name":
        raise ParseError("the left side of '=' must be a name (\\delta_1 = ...)",
                         Location(*_line_column(source, left[0].offset)), source)
    return str(tree.children[0])


class LatexBuilder(Builder):
    """The language's builder, with the trees only LaTeX produces."""

    def _e_juxtapose(self, tree: Tree) -> Node:
        left, right = self.operands(tree)
        op = "mul" if left.is_scalar or right.is_scalar else "matmul"
        return ir.apply(op, left, right)

    def _e_dot(self, tree: Tree) -> Node:
        left_tree, right_tree = tree.children
        left, right = self.expression(left_tree), self.expression(right_tree)
        if left.kind is Kind.VECTOR and right.kind is Kind.VECTOR:
            return ir.apply("matmul", ir.apply("transpose", left), right)
        op = "mul" if left.is_scalar or right.is_scalar else "matmul"
        return ir.apply(op, left, right)

    def _e_norm(self, tree: Tree) -> Node:
        which, inner_tree = tree.children
        inner = self.expression(inner_tree)
        if inner.kind is Kind.MATRIX:
            if str(which) != "F":
                raise UnsupportedError(f"\\|{inner}\\|_{which or '?'} of a matrix: matcalc has "
                                       "the Frobenius norm, written \\|X\\|_F")
            return ir.apply("norm", inner)
        if str(which) == "F":
            return ir.apply("norm", inner)
        return ir.apply("norm2", inner)

    def _e_derivative(self, tree: Tree) -> Node:
        function, argument_tree = tree.children
        argument = self.expression(argument_tree)
        name = str(function)
        one = ir.const(1.0)
        if name == "sigmoid":
            s = ir.apply("sigmoid", argument)
            return ir.apply("mul", s, ir.apply("sub", one, s))
        if name == "relu":
            return ir.apply("step", argument)
        if name == "tanh":
            t = ir.apply("tanh", argument)
            return ir.apply("sub", one, ir.apply("mul", t, t))
        if name == "exp":
            return ir.apply("exp", argument)
        return ir.apply("div", one, argument)  # log


__all__ = ["LatexBuilder", "LatexReader", "Statement", "looks_like_latex", "statements",
           "tokens"]

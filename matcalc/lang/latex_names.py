"""Names in LaTeX answers: words, subscripts, Greek letters, accents and fonts.

``W_1``, ``\\mathbf{W}_{1}``, ``\\hat{y}``, ``\\delta_2`` become the problem's names (``W1``,
``yhat``, ``delta2``) where the problem knows them; sizes in subscripts (``I_n``,
``\\mathbf{1}_{N}``) become dimensions.
"""

from __future__ import annotations

from collections.abc import Callable

from lark import Token, Tree

from ..errors import (
    Location,
    ParseError,
    UnknownNameError,
)
from ..limits import check_time
from .build import FUNCTIONS
from .latex_tokens import (
    FONTS,
    FUNCTION_ALIASES,
    GREEK,
    GREEK_VARIANTS,
    LatexToken,
    line_column,
    meta,
)


class LatexCursor:
    """A position in one statement's tokens, and the trees and errors made there."""

    def __init__(self, source: str, items: list[LatexToken], known: Callable[[str], bool]):
        self.source = source
        self.items = items
        self.position = 0
        self.known = known
        self.in_norm = False
        self.depth = 0  # operations being read inside each other (latex_tokens.MAX_DEPTH)

    # -- token helpers ------------------------------------------------------------------------

    @property
    def current(self) -> LatexToken:
        return self.items[self.position]

    def advance(self) -> LatexToken:
        check_time()
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
        return ParseError(message, Location(*line_column(self.source, token.offset),
                                            max(1, token.length)), self.source)

    def tree(self, data: str, children: list, start: LatexToken) -> Tree:
        end = self.items[max(self.position - 1, 0)]
        return Tree(data, children, meta(self.source, start, end))

    def name_token(self, name: str, start: LatexToken) -> Token:
        line, column = line_column(self.source, start.offset)
        return Token("NAME", name, start.offset, line, column)


class LatexNames(LatexCursor):
    """The reader's names: words split into known names, subscripts, fonts and sizes."""

    def nuclear_mark(self) -> str:
        """``*`` or ``{*}`` after a norm's ``_`` (the nuclear norm), consumed; "" otherwise."""
        if self.at("sym", "*"):
            self.advance()
            return "*"
        if self.at("sym", "{") and self.items[self.position + 1].text == "*" and \
                self.items[self.position + 2].text == "}":
            for _ in range(3):
                self.advance()
            return "*"
        return ""

    def raw_subscript(self) -> str:
        """The text of a subscript: ``_2``, ``_{12}``, ``_F``, ``_{ij}``."""
        if self.at("sym", "{"):
            self.advance()
            parts = []
            while not self.at("sym", "}"):
                token = self.advance()
                part = name_part(token)
                if part is None:
                    raise self.error("a subscript of a name is letters and digits", token)
                parts.append(part)
            self.advance()
            return "".join(parts)
        token = self.advance()
        part = name_part(token)
        if part is None:
            raise self.error("expected a subscript", token)
        return part

    def dimension_subscripts(self, start: LatexToken) -> list[Tree]:
        """Sizes after ``_``: ``n``, ``{N k}`` (a product), ``{n - k + 1}`` (a sum), ``{m,n}``
        (two sizes)."""
        if not self.at("sym", "{"):
            return [self.dimension_factor(self.advance(), start)]
        self.advance()
        sizes: list[Tree] = []
        terms: list[tuple[str, Tree]] = []  # the size's terms so far, each added or subtracted
        factors: list[Tree] = []
        sign = "add"
        while not self.at("sym", "}"):
            token = self.advance()
            if token.kind == "sym" and token.text == ",":
                if not factors:
                    raise self.error("expected a size before ','", token)
                sizes.append(self._sum(terms + [(sign, self._product(factors, start))], start))
                terms, factors, sign = [], [], "add"
            elif token.kind == "cmd" and token.text == "times" and factors:
                sizes.append(self._sum(terms + [(sign, self._product(factors, start))], start))
                terms, factors, sign = [], [], "add"  # m \times n: two sizes
            elif token.kind == "sym" and token.text in ("+", "-") and factors:
                terms.append((sign, self._product(factors, start)))
                factors, sign = [], "add" if token.text == "+" else "sub"
            elif token.kind == "cmd" and token.text == "cdot":
                continue
            else:
                factors.append(self.dimension_factor(token, start))
        self.advance()
        if not factors:
            raise self.error("expected a size")
        sizes.append(self._sum(terms + [(sign, self._product(factors, start))], start))
        return sizes

    def _sum(self, terms: list[tuple[str, Tree]], start: LatexToken) -> Tree:
        result = terms[0][1]
        for sign, term in terms[1:]:
            result = self.tree(sign, [result, term], start)
        return result

    def dimension_factor(self, token: LatexToken, start: LatexToken) -> Tree:
        if token.kind == "number":
            return self.tree("number", [Token("NUMBER", token.text)], token)
        if token.kind == "word":
            return self.name_tree(token.text, token)
        if token.kind == "cmd" and greek(token.text):
            return self.name_tree(greek(token.text), token)
        raise self.error("a size is a name or a number", token)

    def _product(self, factors: list[Tree], start: LatexToken) -> Tree:
        result = factors[0]
        for factor in factors[1:]:
            result = self.tree("mul", [result, factor], start)
        return result

    def sized(self, name: str, start: LatexToken, count: int, tensor: bool = False) -> Tree:
        r"""``I_n``, ``K_{m,n}``, ``\mathbf{1}_{m}``: a leaf of the given sizes; with
        ``tensor``, also of three or four (``\mathbf{1}_{B,T,d}``, a tensor of ones)."""
        sizes = self.dimension_subscripts(start)
        if len(sizes) != count and not (tensor and len(sizes) in (3, 4)):
            raise self.error(f"{name} takes {count} size{'s' if count > 1 else ''} in its "
                             "subscript")
        return self.call(name, sizes, start)

    # -- names and functions ------------------------------------------------------------------

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

    def greek_name(self, letter: str) -> str:
        """The problem's name for a Greek letter: its own (``lambda``), else the one name that
        shortens it to two letters or more (``\\lambda`` is ``lam``, ``\\epsilon`` ``eps``, as
        problems often name them); else the letter's (an unknown name, reported)."""
        if self.known(letter):
            return letter
        short = [letter[:end] for end in range(2, len(letter)) if self.known(letter[:end])]
        return short[0] if len(short) == 1 else letter

    def name_tree(self, name: str, start: LatexToken) -> Tree:
        return self.tree("name", [self.name_token(name, start)], start)

    def call(self, name: str, arguments: list[Tree], start: LatexToken) -> Tree:
        return self.tree("call", [self.name_token(name, start), *arguments], start)

    def _maybe_subscript(self) -> str:
        if self.at("sym", "_"):
            self.advance()
            return self.raw_subscript()
        return ""

    def braced_text(self) -> str:
        """The letters inside ``{...}`` (or one token): a Greek letter, a word or a number."""
        if not self.at("sym", "{"):
            token = self.advance()
            part = name_part(token)
            if part is None:
                raise self.error("expected a name", token)
            return part
        self.advance()
        parts = []
        while not self.at("sym", "}"):
            token = self.advance()
            part = name_part(token)
            if part is not None:
                parts.append(part)
            elif token.kind == "cmd" and token.text in FONTS:
                parts.append(self.braced_text())
            else:
                raise self.error("expected a name inside the braces", token)
        self.advance()
        return "".join(parts)

def name_part(token: LatexToken) -> str | None:
    """What a token adds to a name: a word, a number or a Greek letter's name (else None)."""
    if token.kind in ("word", "number"):
        return token.text
    if token.kind == "cmd" and greek(token.text):
        return greek(token.text)
    return None


def greek(name: str) -> str:
    if name in GREEK:
        return name
    return GREEK_VARIANTS.get(name, "")


def function_named(text: str) -> str:
    if text in FUNCTIONS:
        return text
    lowered = text.lower()
    if lowered in FUNCTION_ALIASES:
        return FUNCTION_ALIASES[lowered]
    if lowered in FUNCTIONS:
        return lowered
    return ""

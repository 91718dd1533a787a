"""Index sums in LaTeX answers, read as einsum (a part of the reader of
:mod:`matcalc.lang.latex`): ``\\sum_{i} x_i y_i`` is ``einsum("i,i->", x, y)`` and
``\\left[\\sum_{k} A_{ik} B_{kj}\\right]_{ij}`` is ``einsum("ik,kj->ij", A, B)`` (= ``A @ B``),
the output's letters on the bracket, as matcalc prints an einsum without a matrix form.

A factor is a name or a bracketed expression with its letters as a subscript (``A_{ik}``,
``\\left(W_{1}\\right)_{ik}``); the letters summed over are those under ``\\sum``, every other
letter must be on the bracket.  A power of an entry is not read (write it in matrix form).
"""

from __future__ import annotations

from lark import Token, Tree

from ..errors import Location, MatcalcError, ParseError, UnsupportedError
from .latex_names import LatexNames
from .latex_tokens import LatexToken, line_column


class LatexIndices(LatexNames):
    """``\\sum_{k} A_{ik} B_{kj}`` inside ``\\left[...\\right]_{ij}`` or alone (a number); the
    reader supplies ``group``."""

    def index_sum(self, start: LatexToken, bracketed: bool = False) -> Tree:
        """The einsum after ``\\sum`` (the token ``start``); ``bracketed``: inside
        ``\\left[...\\right]``, whose subscript the caller reads."""
        summed = ""
        if self.at("cmd", "sum"):
            self.advance()
            summed = self._summed_letters(start)
        factors: list[tuple[Tree, str]] = []
        while True:
            factor = self._indexed_factor()
            if factor is None:
                break
            factors.append(factor)
        if not factors:
            raise self.error("an index sum is a product of entries: \\sum_{k} A_{ik} B_{kj}")
        free = "".join(dict.fromkeys(letter for _, term in factors for letter in term
                                     if letter not in summed))
        if bracketed:
            return self._einsum_tree(summed, factors, start)
        if free:
            raise self.error(f"the index sum leaves {', '.join(free)} free: put it in brackets "
                             f"with the result's indices, \\left[\\sum_{{{summed}}} ..."
                             f"\\right]_{{{free}}}", start)
        return self._einsum_tree(summed, factors, start, output="")

    def bracketed_index_sum(self, opener: LatexToken) -> Tree | None:
        """``\\left[\\sum_{k} A_{ik} B_{kj}\\right]_{ij}`` or, nothing summed,
        ``\\left[x_{i} y_{j}\\right]_{ij}`` (the ``[`` read already); None (nothing read) when
        the bracket holds no index sum."""
        if self.at("cmd", "sum"):
            return self._bracketed(opener)
        if not (self.at("word") and self.items[self.position + 1].text == "_"):
            return None
        # a trial: names with letters only (a bracketed factor would be read twice on failure,
        # and brackets inside brackets would multiply that)
        position, self.names_only = self.position, True
        try:
            return self._bracketed(opener)
        except MatcalcError:
            self.position = position
            return None
        finally:
            self.names_only = False

    def _bracketed(self, opener: LatexToken) -> Tree:
        inner = self.index_sum(self.current, bracketed=True)
        self.expect_sym("]", "']' closing the index sum")
        if not self.at("sym", "_"):
            raise self.error("the bracket of an index sum carries the result's indices: "
                             "\\left[\\sum_{k} A_{ik} B_{kj}\\right]_{ij}")
        self.advance()
        output = self._output_subscript()
        spec, *operands = inner.children[1:]
        summed, terms = spec
        return self._einsum_tree(summed, list(zip(operands, terms, strict=True)), opener,
                                 output=output)

    def _output_subscript(self) -> str:
        """The bracket's subscript: the result's letters, a group of them in parentheses one
        axis (``_{(ia)(jb)}``, einsum's grouped output)."""
        if not (self.at("sym", "{") and self.items[self.position + 1].text == "("):
            return self.raw_subscript()
        self.advance()
        text = ""
        while not self.at("sym", "}") and not self.at("end"):
            token = self.advance()
            if token.text not in "()" and not token.text.isalpha():
                raise self.error("the bracket's subscript is the result's letters, grouped "
                                 "in parentheses: _{(ia)(jb)}", token)
            text += token.text
        self.expect_sym("}", "'}' closing the subscript")
        return text

    def _summed_letters(self, start: LatexToken) -> str:
        if not self.at("sym", "_"):
            raise self.error("an index sum names its indices: \\sum_{k} A_{ik} B_{kj}", start)
        self.advance()
        position = self.position
        if self.at("sym", "{"):
            while not self.at("sym", "}") and not self.at("end"):
                if self.at("sym", "=", ","):
                    raise UnsupportedError(
                        "an index sum names its indices only (\\sum_{ij}): their ranges "
                        "follow from the shapes", self._place(start), self.source)
                self.advance()
            self.position = position
        letters = self.raw_subscript()
        if self.at("sym", "^"):
            raise UnsupportedError("an index sum names its indices only (\\sum_{ij}): their "
                                   "ranges follow from the shapes", self._place(start),
                                   self.source)
        return letters

    def _indexed_factor(self) -> tuple[Tree, str] | None:
        """A name or a bracketed expression with a subscript of letters; None (nothing read)
        when what follows is not one."""
        position, start = self.position, self.current
        if self.at("word") and self.items[self.position + 1].text == "_":
            token = self.advance()
            operand = self.name_tree(token.text, token)
        elif self.at("sym", "(") and not getattr(self, "names_only", False):
            operand = self.group()
            if not self.at("sym", "_"):
                self.position = position
                return None
        else:
            return None
        self.advance()  # the "_"
        term = self.raw_subscript()
        if self.at("sym", "^", "'"):
            raise UnsupportedError("an index sum of products of entries is read "
                                   "(\\sum_{k} A_{ik} B_{kj}); a power or transpose of an "
                                   "entry is not: write it in matrix form",
                                   self._place(start), self.source)
        return operand, term

    def _einsum_tree(self, summed: str, factors: list[tuple[Tree, str]], start: LatexToken,
                     output: str | None = None) -> Tree:
        """The call einsum("terms->output", operands); with ``output`` None, a holder of the
        summed letters and terms until the bracket's subscript is read."""
        terms = [term for _, term in factors]
        operands = [operand for operand, _ in factors]
        if output is None:
            return self.call("einsum", [(summed, terms), *operands], start)
        for letter in dict.fromkeys("".join(terms)):
            if (letter in summed) == (letter in output):
                where = "both summed and on the bracket" if letter in summed else \
                    "neither summed nor on the bracket"
                raise ParseError(f"the index {letter} is {where}", self._place(start),
                                 self.source)
        spec = Tree("string", [Token("STRING", f'"{",".join(terms)}->{output}"')])
        return self.call("einsum", [spec, *operands], start)

    def _place(self, token: LatexToken) -> Location:
        return Location(*line_column(self.source, token.offset), max(1, token.length))

"""Ones and indicators in LaTeX answers (a part of the reader of :mod:`matcalc.lang.latex`):
``\\mathbf{1}_n`` is ``ones(n)``, ``\\mathbf{1}_{B,T,d}`` a tensor of ones, and
``\\mathbb{1}[z > 0]`` the indicator ``step(z)``."""

from __future__ import annotations

from lark import Tree

from ..errors import Location, UnsupportedError
from .latex_names import LatexNames
from .latex_tokens import LatexToken, line_column


class LatexOnes(LatexNames):
    """``\\mathbf{1}`` after its font command: ones of a size, or an indicator; the reader
    supplies ``expression``."""

    def ones_or_indicator(self, start: LatexToken) -> Tree:
        """``\\mathbf{1}_n`` (ones) or an indicator ``\\mathbb{1}[z > 0]`` (= step(z))."""
        if self.at("sym", "_"):
            self.advance()
            if self.at("sym", "{") and self._has_comparison():
                self.advance()
                result = self.indicator(start)
                self.expect_sym("}", "'}'")
                return result
            return self.sized("ones", start, 1, tensor=True)
        if self.at("sym", "(", "[", "{"):
            opener = self.advance()
            result = self.indicator(start)
            self.expect_sym({"(": ")", "[": "]", "{": "}"}[opener.text], "a closing bracket")
            return result
        return self.tree("pending_ones", [], start)  # sized by what it meets, as I is

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
        inner = self.expression()  # type: ignore[attr-defined]
        if not (self.at("sym", ">") or self.at("cmd", "geq", "ge")):
            raise self.error("an indicator is written \\mathbb{1}[z > 0]")
        self.advance()
        zero = self.current
        if not (zero.kind == "number" and float(zero.text) == 0.0):
            raise UnsupportedError("an indicator compares with 0: \\mathbb{1}[z > 0] is step(z)",
                                   Location(*line_column(self.source, zero.offset)),
                                   self.source)
        self.advance()
        return self.call("step", [inner], start)


__all__ = ["LatexOnes"]

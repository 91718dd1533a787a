"""Reading block matrices and reductions along an axis in LaTeX answers (a part of the reader
of :mod:`matcalc.lang.latex`)."""

from __future__ import annotations

from lark import Tree

from .latex_names import LatexNames
from .latex_tokens import LatexToken


class LatexBlocks(LatexNames):
    """``\\begin{bmatrix} A & B \\end{bmatrix}`` and ``\\operatorname{sum}(X, 1)``; the
    reader supplies ``expression``."""

    def block_matrix(self) -> Tree:
        """``\\begin{bmatrix} A & B \\\\ C & D \\end{bmatrix}``: blocks side by side (hcat) in
        rows stacked (vcat)."""
        start = self.advance()
        saved, self.in_norm = self.in_norm, False
        rows = [[self.expression()]]
        while not self.at("sym", "]]"):
            if self.at("sym", "&"):
                self.advance()
                rows[-1].append(self.expression())
            elif self.at("sym", "&&"):
                self.advance()
                if not self.at("sym", "]]"):  # a trailing \\ ends no row
                    rows.append([self.expression()])
            else:
                raise self.error("expected & or \\\\ between the blocks of a bmatrix, or "
                                 "\\end{bmatrix}")
        self.advance()
        self.in_norm = saved
        stacked = None
        for row in rows:
            joined = row[0]
            for entry in row[1:]:
                joined = self.call("hcat", [joined, entry], start)
            stacked = joined if stacked is None else self.call("vcat", [stacked, joined], start)
        return stacked


    def along_axis(self, function: str, start: LatexToken) -> Tree | None:
        """``\\operatorname{sum}(X, 1)``: a sum or mean along one axis; None (nothing read)
        when the brackets hold one argument."""
        position = self.position
        self.advance()
        first = self.expression()
        if not self.at("sym", ","):
            self.position = position
            return None
        self.advance()
        axis = self.expression()
        self.expect_sym(")", "')' closing the arguments")
        return self.call(function, [first, axis], start)

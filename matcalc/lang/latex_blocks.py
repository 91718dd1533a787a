"""Reading what groups several expressions in LaTeX answers: block matrices, reductions along
an axis, functions of several arguments (``\\operatorname{where}(C, A, -\\infty)``), inner
products ``\\langle A, B \\rangle`` and function notation ``f(w)`` (a part of the reader of
:mod:`matcalc.lang.latex`)."""

from __future__ import annotations

from lark import Tree

from ..errors import MatcalcError
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

    def arguments(self, function: str, start: LatexToken) -> Tree:
        """``\\operatorname{tril}(X, -1)``, ``\\operatorname{where}(C, A, -\\infty)``: a
        function of several arguments (the builder checks them); a branch of where may be
        ``-\\infty``, read as the name ``inf`` the builder takes there only."""
        self.advance()
        trees = [self.argument()]
        while self.at("sym", ","):
            self.advance()
            trees.append(self.argument())
        self.expect_sym(")", "')' closing the arguments")
        return self.call(function, trees, start)

    def argument(self) -> Tree:
        """One argument: an expression, or ``-\\infty`` (``\\infty``) standing alone."""
        position = self.position
        negative = self.at("sym", "-")
        if negative:
            self.advance()
        after = self.items[self.position + 1] if self.position + 1 < len(self.items) else None
        if self.at("cmd", "infty") and after is not None and after.text in (",", ")"):
            token = self.advance()
            infinity = self.name_tree("inf", token)
            return self.tree("neg", [infinity], token) if negative else infinity
        self.position = position
        return self.expression()

    def inner_product(self) -> Tree:
        """``\\langle A, B \\rangle``: the Frobenius product ``A : B`` (``x^T y`` of vectors)."""
        start = self.advance()
        saved, self.in_norm = self.in_norm, False
        left = self.expression()
        self.expect_sym(",", "',' between the two sides of \\langle A, B \\rangle")
        right = self.expression()
        self.in_norm = saved
        self.expect_sym(">>", "'\\rangle' closing the inner product")
        return self.tree("frob", [left, right], start)

    def function_notation(self, name: Tree, start: LatexToken) -> Tree:
        """``f(w)``, ``J(W, b)``: a name followed by names in brackets, read as ``applied``
        (the builder decides: a definition of those names is its value, else a product)."""
        if not self.at("sym", "(") or not self.known(str(name.children[0])):
            return name
        position = self.position
        self.advance()
        arguments = []
        try:
            while True:
                argument = self.postfix()
                if argument.data != "name":
                    break
                arguments.append(argument)
                if self.at("sym", ")"):
                    self.advance()
                    return self.tree("applied", [name, *arguments], start)
                if not self.at("sym", ","):
                    break
                self.advance()
        except MatcalcError:
            pass
        self.position = position
        return name

"""Index sums in LaTeX answers, read as einsum (a part of the reader of
:mod:`matcalc.lang.latex`): ``\\sum_{i} x_i y_i`` is ``einsum("i,i->", x, y)`` and
``\\left[\\sum_{k} A_{ik} B_{kj}\\right]_{ij}`` is ``einsum("ik,kj->ij", A, B)`` (= ``A @ B``),
the output's letters on the bracket, as matcalc prints an einsum without a matrix form.

A factor is a name or a bracketed expression with its letters as a subscript (``A_{ik}``,
``\\left(W_{1}\\right)_{ik}``); the letters summed over are those under ``\\sum``, every other
letter must be on the bracket.  A power of an entry is not read (write it in matrix form).

Without the bracket, ``\\sum_{b} X_b^\\top \\delta_b`` is read too: the product after the sum
is read with its entries and slices (a name with the summed letters as its subscript,
``\\delta_{2,b}`` for a name with a subscript of its own) marked ``indexed``, and the builder
(:mod:`matcalc.lang.latex_sums`) makes it an index sum or, where the names are tensors with more
axes than letters, a batch sum.  Bounds ``\\sum_{i=1}^{n}`` are read and checked against the
shapes.
"""

from __future__ import annotations

from lark import Token, Tree

from ..core.einsum_spec import parse_spec
from ..errors import Location, MatcalcError, ParseError, UnsupportedError
from .latex_names import LatexNames, name_part
from .latex_tokens import LatexToken, line_column

MARK = "\x00"  # between a name and the letters of its entry or slice, until name_tree splits them


class LatexIndices(LatexNames):
    """``\\sum_{k} A_{ik} B_{kj}`` inside ``\\left[...\\right]_{ij}`` or alone (a number); the
    reader supplies ``group`` and ``juxtaposition``."""

    index_letters = ""  # the letters summed by the sums around what is being read

    def summation(self, start: LatexToken) -> Tree:
        """``\\sum_{b} X_b^\\top \\delta_b``, ``\\sum_{i=1}^{n} x_i y_i``: the product after an
        unbracketed sum, its entries and slices marked (``index_sum``: letters, bounds, body)."""
        self.advance()
        summed, bounds = self._summed_and_bounds(start)
        saved, self.index_letters = self.index_letters, self.index_letters + summed
        try:
            body = self.juxtaposition()  # type: ignore[attr-defined]
        finally:
            self.index_letters = saved
        return self.tree("index_sum", [Token("LETTERS", summed), Tree("bounds", bounds), body],
                         start)

    def resolve(self, name: str, subscript: str) -> str:
        """Inside a sum, a subscript of the summed letters (after a comma, a subscript of the
        name's own: ``\\delta_{2,b}``) marks an entry or a slice of the name."""
        own, comma, letters = subscript.rpartition(",")
        if self.index_letters and letters.isalpha() and letters.islower() and \
                set(letters) & set(self.index_letters):
            return f"{super().resolve(name, own) if comma else name}{MARK}{letters}"
        return super().resolve(name, subscript)

    def name_tree(self, name: str, start: LatexToken) -> Tree:
        base, mark, letters = name.partition(MARK)
        tree = super().name_tree(base, start)
        return self.tree("indexed", [tree, Token("LETTERS", letters)], start) if mark else tree

    def raw_subscript(self) -> str:
        """As a name's subscript, and inside a sum also ``{2,b}`` (the name's own, the
        slice's letters)."""
        if not (self.index_letters and self.at("sym", "{")):
            return super().raw_subscript()
        self.advance()
        parts = []
        while not self.at("sym", "}"):
            token = self.advance()
            part = "," if token.kind == "sym" and token.text == "," else name_part(token)
            if part is None:
                raise self.error("a subscript of a name is letters and digits", token)
            parts.append(part)
        self.advance()
        return "".join(parts)

    def indexed_group(self, operand: Tree, start: LatexToken) -> Tree:
        """``\\left(W_{1}\\right)_{ik}`` inside a sum: an entry of a bracketed expression."""
        self.advance()  # the "_"
        letters = self.raw_subscript()
        if not (letters.isalpha() and set(letters) & set(self.index_letters)):
            raise self.error("a subscript after a bracket inside a sum names summed indices: "
                             "\\left(W_{1}\\right)_{ik}", start)
        return self.tree("indexed", [operand, Token("LETTERS", letters)], start)

    def index_sum(self, start: LatexToken) -> Tree:
        """The einsum inside ``\\left[...\\right]``, after ``\\sum`` where there is one (the
        token ``start``), whose subscript the caller reads."""
        summed = ""
        if self.at("cmd", "sum"):
            self.advance()
            summed, bounds = self._summed_and_bounds(start)
            if bounds:
                raise UnsupportedError("an index sum in brackets names its indices only "
                                       "(\\sum_{k}): their ranges follow from the shapes",
                                       self._place(start), self.source)
        factors: list[tuple[Tree, str]] = []
        while True:
            factor = self._indexed_factor()
            if factor is None:
                break
            factors.append(factor)
        if not factors:
            raise self.error("an index sum is a product of entries: \\sum_{k} A_{ik} B_{kj}")
        return self._einsum_tree(summed, factors, start)

    def bracketed_index_sum(self, opener: LatexToken) -> Tree | None:
        """``\\left[\\sum_{k} A_{ik} B_{kj}\\right]_{ij}`` or, nothing summed,
        ``\\left[x_{i} y_{j}\\right]_{ij}`` (the ``[`` read already); None (nothing read) when
        the bracket holds no index sum."""
        if self.at("cmd", "sum"):  # [\sum_b X_b^\top G_b] without a subscript is a bracket
            return self._bracketed(opener) if self._subscript_after_bracket() else None
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

    def _subscript_after_bracket(self) -> bool:
        """Whether the ``]`` closing the bracket just opened carries a subscript."""
        depth = 1
        for index in range(self.position, len(self.items)):
            token = self.items[index]
            if token.kind == "sym" and token.text in ("[", "]"):
                depth += 1 if token.text == "[" else -1
                if depth == 0:
                    following = self.items[index + 1] if index + 1 < len(self.items) else None
                    return following is not None and following.kind == "sym" and \
                        following.text == "_"
        return False

    def _bracketed(self, opener: LatexToken) -> Tree:
        inner = self.index_sum(self.current)
        self.expect_sym("]", "']' closing the index sum")
        if not self.at("sym", "_"):
            raise self.error("the bracket of an index sum carries the result's indices: "
                             "\\left[\\sum_{k} A_{ik} B_{kj}\\right]_{ij}")
        self.advance()
        first = self.position
        output = self._output_subscript()
        spec, *operands = inner.children[1:]
        summed, terms = spec
        self._check_output(terms, output, self.items[first:self.position], opener)
        return self._einsum_tree(summed, list(zip(operands, terms, strict=True)), opener,
                                 output=output)

    def _check_output(self, terms: list[str], output: str, read: list[LatexToken],
                      opener: LatexToken) -> None:
        """The bracket's subscript read as einsum's output (``read``: its tokens), an error
        placed at the letter or bracket of the subscript it is about (else at the sum)."""
        places = [token.offset + index for token in read if token.text not in "{}"
                  for index in range(len(token.text))]
        spec = f"{','.join(terms)}->{output}"
        try:
            parse_spec(spec)
        except MatcalcError as error:
            place = getattr(error, "spec_place", None)
            index = place.offset - (len(spec) - len(output)) if place else -1
            found = places[index] if len(places) == len(output) and 0 <= index < len(places) \
                else opener.offset
            raise error.at(Location(*line_column(self.source, found)), self.source) from None

    def _output_subscript(self) -> str:
        """The bracket's subscript: the result's letters, a group of them in parentheses one
        axis (``_{(ia)(jb)}``, einsum's grouped output)."""
        if not (self.at("sym", "{") and self._grouped()):
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

    def _grouped(self) -> bool:
        """Whether the braced subscript at the current token has a parenthesis."""
        for token in self.items[self.position + 1:]:
            if token.kind == "end" or token.text in ("{", "}"):
                return False
            if token.kind == "sym" and token.text in ("(", ")"):
                return True
        return False

    def _summed_and_bounds(self, start: LatexToken) -> tuple[str, list[Tree]]:
        """The letters under a sum, ``_{k}``, ``_{b,t}``, ``_{i=1}^{n}``, and the upper bound's
        size where one is written (a list of one tree, else empty); a sum starts at 1."""
        if not self.at("sym", "_"):
            raise self.error("an index sum names its indices: \\sum_{k} A_{ik} B_{kj}", start)
        self.advance()
        letters, bounded = "", False
        if not self.at("sym", "{"):
            letters = self.advance().text
        else:
            self.advance()
            while not self.at("sym", "}") and not self.at("end"):
                token = self.advance()
                if token.kind == "word" and not bounded:
                    letters += token.text
                elif token.kind == "sym" and token.text == "=" and not bounded:
                    first = self.advance()
                    if first.text != "1" or not self.at("sym", "}"):
                        raise UnsupportedError("an index sum runs from 1 to a size: "
                                               "\\sum_{i=1}^{n}", self._place(start),
                                               self.source)
                    bounded = True
                elif not (token.kind == "sym" and token.text == ","):
                    raise self.error("an index sum names its indices: \\sum_{k}, "
                                     "\\sum_{b,t}, \\sum_{i=1}^{n}", token)
            self.expect_sym("}", "'}' closing the indices")
        if not (letters.isalpha() and letters.islower()) or len(set(letters)) != len(letters):
            raise self.error("an index sum names its indices, lower-case letters each once: "
                             "\\sum_{k} A_{ik} B_{kj}", start)
        if self.at("sym", "^") != bounded:
            raise UnsupportedError("an index sum names its indices (\\sum_{ij}), or runs from 1 "
                                   "to a size (\\sum_{i=1}^{n})", self._place(start),
                                   self.source)
        if not bounded:
            return letters, []
        self.advance()
        sizes = self.dimension_subscripts(start)
        if len(sizes) != 1:
            raise self.error("an index sum runs to one size: \\sum_{i=1}^{n}", start)
        return letters, sizes

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

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

from lark import Token, Tree

from ..errors import (
    LimitError,
    Location,
    ParseError,
    UnknownNameError,
    UnsupportedError,
    did_you_mean,
)
from .build import BINARY_FUNCTIONS, CALLS, FUNCTIONS, TENSOR_CALLS
from .latex_blocks import LatexBlocks
from .latex_indices import LatexIndices
from .latex_names import function_named, greek
from .latex_ones import LatexOnes
from .latex_tokens import (
    ACCENTS,
    DERIVATIVES,
    FONTS,
    FUNCTION_COMMANDS,
    KNOWN_COMMANDS,
    MAX_DEPTH,
    PRODUCTS,
    UNSUPPORTED,
    LatexToken,
    line_column,
)


class LatexReader(LatexIndices, LatexBlocks, LatexOnes):
    """Recursive descent over one statement's tokens; names resolve against ``known``."""

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
            return token.text in ("(", "[", "{", "[[", "<<") or (token.text == "||" and
                                                           not self.in_norm)
        return False

    def postfix(self) -> Tree:
        start = self.current
        return self.postfix_of(self.atom(), start)

    def postfix_of(self, result: Tree, start: LatexToken) -> Tree:
        """``result`` with the transposes, powers and inverses written after it."""
        while True:
            if self._primed():
                result = self.tree("transpose", [result], start)
            elif self.at("sym", "^"):
                self.advance()
                result = self.superscript(result, start)
            elif self.at("sym", "_") and self.index_letters:  # (W_1)_{ik} inside a sum
                result = self.indexed_group(result, start)
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
        elif self.at("word") and len(self.current.text) > 1:
            self._split_word()  # unbraced, TeX raises one character: A^TB is A^T B
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

    def _split_word(self) -> None:
        """The current word as its first character and the rest, two tokens."""
        token = self.current
        first = LatexToken("number" if token.text[0].isdigit() else "word", token.text[0],
                           token.offset, 1)
        rest_text = token.text[1:]
        rest = LatexToken("number" if rest_text.isdigit() else "word", rest_text,
                          token.offset + 1, len(rest_text))
        self.items[self.position:self.position + 1] = [first, rest]

    def _primed(self) -> bool:
        """Whether a prime comes next (consumed): ``'``, or ``^\\prime``, ``^{\\prime}``, as TeX
        sets ``'``."""
        ahead = [(token.kind, token.text) for token in self.items[self.position:self.position + 4]]
        for written in ([("sym", "'")], [("sym", "^"), ("cmd", "prime")],
                        [("sym", "^"), ("sym", "{"), ("cmd", "prime"), ("sym", "}")]):
            if ahead[:len(written)] == written:
                self.position += len(written)
                return True
        return False

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
        """An operand; the depth of operands read inside each other is limited
        (:data:`~matcalc.lang.latex_tokens.MAX_DEPTH`), bracketed or not."""
        if self.depth >= MAX_DEPTH:
            raise LimitError(f"operations nested more than {MAX_DEPTH} deep "
                             "(matcalc.lang.latex_tokens.MAX_DEPTH sets the limit)",
                             Location(*line_column(self.source, self.current.offset),
                                      max(1, self.current.length)), self.source)
        self.depth += 1
        try:
            return self._operand()
        finally:
            self.depth -= 1

    def _operand(self) -> Tree:
        token = self.current
        if token.kind == "number":
            self.advance()
            return self.tree("number", [Token("NUMBER", token.text)], token)
        if token.kind == "word":
            return self.word()
        if token.kind == "cmd":
            return self.command()
        if token.kind == "sym" and token.text == "[[":
            return self.block_matrix()
        if token.kind == "sym" and token.text in "([{":
            return self.group()
        if token.kind == "sym" and token.text == "||":  # where an operand starts, it opens
            return self.norm()
        if token.kind == "sym" and token.text == "<<":
            return self.inner_product()
        if token.kind == "sym" and token.text == "|":
            raise UnsupportedError("|...| is ambiguous (determinant, absolute value, norm): "
                                   "write \\det(X), \\operatorname{abs}(x) or \\|x\\|_2",
                                   Location(*line_column(self.source, token.offset)),
                                   self.source)
        if token.kind == "end":
            raise self.error("expected an expression")
        raise self.error(f"unexpected '{token.text}'")

    def group(self) -> Tree:
        opener = self.advance()
        indexed = self.bracketed_index_sum(opener) if opener.text == "[" else None
        if indexed is not None:  # \left[\sum_{k} A_{ik} B_{kj}\right]_{ij}
            return indexed
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
            which = self.nuclear_mark() or self.raw_subscript()
        if which not in ("", "F", "2", "*"):
            raise UnsupportedError(f"the norm \\|.\\|_{which} is not supported; matcalc has "
                                   "\\|x\\|_2 for vectors, \\|X\\|_F, \\|X\\|_2 (spectral) and "
                                   "\\|X\\|_* (nuclear) for matrices")
        return self.tree("norm", [Token("NAME", which), inner], start)

    def command(self) -> Tree:
        token = self.current
        name = token.text
        if name == "sum":  # \sum_{i} x_i y_i, \sum_{b} X_b^\top G_b (latex_indices.py)
            return self.summation(token)
        if name == "prod":
            raise UnsupportedError("index products (\\prod_i ...) are not read: write them in "
                                   "matrix form", Location(*line_column(self.source, token.offset),
                                                           token.length), self.source)
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
        base = greek(name)
        if base:
            self.advance()
            subscript = self._maybe_subscript()
            if base == "sigma" and not subscript and not self.known("sigma"):
                return self.application("sigmoid", token)
            if not subscript:
                return self.name_tree(self.greek_name(base), token)
            return self.name_tree(self.resolve(base, subscript), token)
        if name in ("partial", "nabla") and self.items[self.position + 1].text == "^":
            raise UnsupportedError(f"second derivatives (\\{name}^2 f) are not read in a "
                                   "step: check a Hessian with matcalc verify --kind hessian",
                                   Location(*line_column(self.source, token.offset),
                                            token.length), self.source)
        if name in ("partial", "nabla"):
            raise UnsupportedError("derivative notation (\\partial, \\nabla) inside an answer "
                                   "is not supported; write the derivative itself",
                                   Location(*line_column(self.source, token.offset),
                                            token.length), self.source)
        if name in UNSUPPORTED:
            raise UnsupportedError(f"\\{name} is not read: {UNSUPPORTED[name]}",
                                   Location(*line_column(self.source, token.offset),
                                            token.length), self.source)
        raise ParseError(f"unknown LaTeX command '\\{name}'"
                         f"{did_you_mean(name, KNOWN_COMMANDS)}",
                         Location(*line_column(self.source, token.offset), token.length),
                         self.source)

    def application(self, function: str, start: LatexToken) -> Tree:
        """A function and its argument: ``\\log(x)``, ``\\operatorname{tr}(A)``, ``\\log x``."""
        derivative = False
        if self._primed():
            derivative = True
            if function not in DERIVATIVES:
                raise UnsupportedError(f"the derivative {function}' is not supported; "
                                       "write it out",
                                       Location(*line_column(self.source, start.offset),
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
        if (function in BINARY_FUNCTIONS or function in TENSOR_CALLS) and self.at("sym", "("):
            self.advance()  # several arguments: \max(a, b), \operatorname{expand}(G, a, n)
            arguments = [self.expression()]
            while len(arguments) < (3 if function in TENSOR_CALLS else 2):
                self.expect_sym(",", f"',' between the arguments of {function}")
                arguments.append(self.expression())
            self.expect_sym(")", "')' closing the arguments")
            return self.call(function, arguments, start)
        if (function in CALLS or function in ("sum", "mean")) and self.at("sym", "("):
            called = self.arguments(function, start) if function in CALLS else \
                self.along_axis(function, start)  # tril(X, -1), \operatorname{sum}(X, 1)
            if called is not None:
                return called
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

    def differential(self, start: LatexToken) -> Tree | None:
        """``\\mathrm{d}X``, ``\\mathrm{d}\\hat{y}``: the differential of a name, the
        variable ``dX`` (``dyhat``) of a derivation's steps; None (and nothing read) when what
        follows is not a name whose differential the problem knows (a dimension d times X)."""
        position = self.position
        named = self.atom()
        if named.data == "name" and self.known(f"d{named.children[0]}"):
            return self.name_tree(f"d{named.children[0]}", start)
        self.position = position
        if self.known("d"):
            return None
        raise UnknownNameError(
            f"\\mathrm{{d}} is a differential, and the problem has no d{named.children[0]}"
            if named.data == "name" else "\\mathrm{d} is the differential of a name: "
            "\\mathrm{d}X", Location(*line_column(self.source, start.offset), start.length),
            self.source)

    # -- names that read on: a function's argument, a font's ones or indicator ----------

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
            return self.function_notation(result, token)
        # a word of several names (BA, xx): a transpose or power after it binds to the last
        # name only, as it does in print (BA^T = B A^T)
        result = self.postfix_of(result, token)
        trees = [self.name_tree(piece, token) for piece in front] + [result]
        combined = trees[0]
        for tree in trees[1:]:
            combined = self.tree("juxtapose", [combined, tree], token)
        return combined

    def braced(self) -> Tree:
        """A command's argument: ``{...}``, or (as TeX reads it) one character: ``\\frac12``."""
        if not self.at("sym", "{"):
            if (self.at("word") or self.at("number")) and len(self.current.text) > 1 and \
                    self.current.text.isalnum() and "." not in self.current.text:
                self._split_word()
            if self.at("word") and len(self.current.text) == 1 or self.at("number"):
                return self.atom()
            raise self.error("expected '{'")
        return self.group()

    def font(self) -> Tree:
        token = self.advance()
        text = self.braced_text()
        if text == "d" and token.text == "mathrm" and self.starts_atom():
            differential = self.differential(token)
            if differential is not None:
                return differential
        if text == "1" or (text == "I" and token.text == "mathbb"):
            return self.ones_or_indicator(token)
        if text == "0" and self.at("sym", "_"):  # \mathbf{0}_{n}, \mathbf{0}_{m \times n}
            self.advance()
            sizes = self.dimension_subscripts(token)
            if len(sizes) > 4:
                raise self.error("zeros take one size (a vector), two (a matrix) or 3-4")
            return self.call("zeros", sizes, token)
        written = f"{token.text}{{{text}}}"
        why = UNSUPPORTED.get(written) or UNSUPPORTED.get(text if text.isalpha() else "")
        if why and not self.known(text):
            raise UnsupportedError(f"\\{written} is not read: {why}",
                                   Location(*line_column(self.source, token.offset),
                                            token.length), self.source)
        if text == "I" and not self.known("I"):  # \mathbf{I}: the identity, as I is
            if self.at("sym", "_"):
                self.advance()
                return self.sized("I", token, 1)
            return self.name_tree("I", token)
        function = function_named(text)
        if function and not self.known(text):
            return self.application(function, token)
        subscript = self._maybe_subscript()
        return self.name_tree(self.resolve(text, subscript), token)


__all__ = ["LatexReader"]

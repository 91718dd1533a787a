"""Expressions of generated code: one node at a time, shared subexpressions named.

The writer knows the structure worth exploiting (module docstring of
:mod:`matcalc.codegen.module`): ``Diag(v) @ A`` as ``v * A``, ``inv(A) @ B`` as a solve,
``kron(A, B) @ v`` without the Kronecker product, Gram forms as ``G.T @ G``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..core.algebra import matmul
from ..core.ir import LEAVES, Node, walk
from ..core.program import Program
from ..core.registry import view
from ..core.shapes import Dim, Kind
from ..core.stable_forms import stable_form
from ..rules.definite import semidefinite
from ..rules.facts import Facts
from .backends import Backend, backend
from .blocks import diagonal_blocks_product, diagonal_blocks_sum
from .names import dim_code, identifier
from .reuse import Allocation
from .row_means import axis_dots, axis_sums, elementwise
from .solves import columns_first, distributed, parents_of, product_factors, rank_one_split
from .stable import CODE
from .tensor_code import batch_sum_of_product, scaled_softmax, sized_number, softmax_pullback
from .triangular import factored_inverse, inverse_congruence, is_transpose_of

# matrices of structure (kron, Diag), never formed to be shared
STRUCTURE = frozenset(name for name, cost in view("cost").items() if "structure" in cost)
TEMPLATES = view("code")  # each operation's code templates


class Writer:
    """Turns nodes into NumPy expressions, naming shared subexpressions."""

    def __init__(self, program: Program, facts: Facts, names: dict[Node, str],
                 uses: dict[Node, int], spelling: Backend | None = None,
                 paired: frozenset = frozenset(),
                 solved: set[Node] | frozenset = frozenset()):
        self.program = program
        self.solved = solved  # inverses only multiplied by: solves, never formed (solves.py)
        self.code = spelling or backend("numpy")  # the library's spelling of each operation
        self.facts = facts
        self.names = dict(names)  # node -> the variable holding its value
        self.uses = uses
        self.lines: list[str] = []
        self.counter = 0
        self.requests: dict[Node, int] = {}  # how often each node's code was written
        self.held_blocks: dict = {}  # shared matrices held as blocks of diagonals (blocks.py)
        self.symmetric: frozenset = frozenset()  # results known symmetric (Hessians)
        # (t, axis) of softmax(t) and of log(softmax(t)), both written: what softmax_pairs finds
        self.softmax_written: set[tuple[Node, int]] = set()
        self.log_softmax_written: set[tuple[Node, int]] = set()
        self.paired = paired  # the pairs a first writing found: one pass over t serves both
        self.held_log_softmax: dict[tuple[Node, int], str] = {}
        self.reciprocals: dict[Node, str] = {}  # v -> a temporary holding 1 / v
        self.allocations: dict[str, Allocation] = {}  # calls making new arrays (row_means)

    def value(self, node: Node) -> str:
        """An expression for node, assigning shared subexpressions to temporaries first."""
        if node in self.names:
            return self.names[node]
        self.requests[node] = self.requests.get(node, 0) + 1
        text = self.expression(node)
        if node in self.names:  # written into a temporary that now stands for it
            return self.names[node]
        # structure (kron, Diag) is never held as a dense value: each use folds it into its
        # product (v * A for Diag(v) @ A), its argument is what is shared
        if self.uses.get(node, 0) > 1 and node.op not in LEAVES and node.op not in STRUCTURE:
            return self._hold(node, text)
        return text

    def diagonal(self, diagonal: Node, column: bool = True) -> str:
        """The vector v of Diag(v) folded into a product, as a column (or a row); a Diag used
        several times computes its v once."""
        v = diagonal.args[0]
        if self.uses.get(diagonal, 0) > 1 and v.op not in LEAVES and v not in self.names:
            text = self._hold(v, self.expression(v))
        else:
            text = self.value(v)
        return text if (v.kind is Kind.ROW) is not column else f"{text}.T"

    def _hold(self, node: Node, text: str) -> str:
        """Assign ``text`` to a new temporary that stands for ``node`` from now on."""
        name = self.temporary(text)
        self.names[node] = name
        return name

    def temporary(self, text: str) -> str:
        """Assign ``text`` to a new temporary, and return its name."""
        self.counter += 1
        name = f"_t{self.counter}"
        self.lines.append(f"{name} = {text}")
        return name

    def dim(self, d: Dim) -> str:
        """A dimension as Python arithmetic on the sizes: ``n_size - k_size + 1``."""
        return dim_code(d)

    def expression(self, node: Node) -> str:
        """The code of one node: its stable form, a leaf, a product (which knows structure),
        a shortcut, or its operation's template (matcalc/ops), the one the interpreter runs."""
        stable = self.stable(node)
        if stable:
            return stable
        if node.op in LEAVES:
            return self.leaf(node)
        if node.op == "matmul":
            return self.product(node)
        shortcut = self.shortcut(node)
        if shortcut:
            return shortcut
        code = TEMPLATES[node.op]
        arguments = [self.value(arg) for arg in node.args]
        scalar = code.scalar and any(arg.is_scalar for arg in node.args)
        tensor = any(arg.kind is Kind.TENSOR for arg in node.args)
        template = code.scalar if scalar else code.template(self.code.name, tensor)
        if self.code.name == "torch" and not template.startswith("("):
            # PyTorch's functions take tensors, not Python numbers (torch.sqrt(2.0) and
            # torch.maximum(t, 0.0) are TypeErrors): a number made of constants becomes one
            arguments = [f"_as({text}, _dtype, _device)" if _numeral(arg) else text
                         for arg, text in zip(node.args, arguments, strict=True)]
        text = self.code.spell(template).format(*arguments, operands=", ".join(arguments),
                                                **code.fields(node, self.dim))
        return f"float({text})" if self.code.name == "numpy" and sized_number(node) else text

    def leaf(self, node: Node) -> str:
        """A variable, a number, a size, or a matrix of a size (identity, ones, zeros, K)."""
        op = node.op
        if op in ("var", "ref"):
            return identifier(node.params[0])
        if op == "const":  # an infinity is only a branch of where(C, A, -inf)
            value = node.params[0]
            return f"float('{value}')" if math.isinf(value) else repr(value)
        if op == "dimval":
            return self.code("dimension", self.dim(node.params[0]))
        if op == "identity":
            return self.code("identity", self.dim(node.params[0]))
        if op == "commutation":
            m, n = node.params
            return self.code("commutation", self.dim(m), self.dim(n))
        dims = [self.dim(d) for d in node.shape.dims]  # a tensor's leading axes first
        return self.code(op, ", ".join(dims[:-1]), dims[-1])

    def shortcut(self, node: Node) -> str:
        """Algebra that saves work without changing a value, or "" where none applies:
        ``tr(A @ B) = sum(A * B')``, ``tr(kron(A, B)) = tr(A) tr(B)`` (Magnus & Neudecker 2019,
        ch. 2: the Kronecker product is never formed), ``x .^ 2 = x * x``."""
        op, args = node.op, node.args
        if op in ("add", "sub") and not node.is_scalar:
            blocks = diagonal_blocks_sum(node, self)  # one contraction of the summed blocks
            if blocks:
                return blocks
        entrywise = elementwise(self, node)  # spread rows/columns broadcast, in place
        if entrywise:
            return entrywise
        if op == "tr" and args[0].op == "matmul" and not any(a.is_scalar for a in args[0].args) \
                and args[0] not in self.names and self.uses.get(args[0], 0) <= 1:
            a, b = args[0].args
            return self.code("trace_of_product", self.value(a), self.value(b))
        if op == "tr" and args[0].op == "kron" and args[0] not in self.names:
            return "(" + " * ".join(self.value(a) if a.is_scalar else
                                    self.code("trace", self.value(a))
                                    for a in args[0].args) + ")"
        if op == "pow" and args[1].op == "const" and args[1].params[0] == 2.0:
            return self.code("square", self.once(args[0]))
        fused = self.code.name == "numpy"  # NumPy's helpers take a scale (softmax_helpers)
        if op == "softmax":
            axis = TEMPLATES["softmax"].fields(node, self.dim)["axis"]
            paired = self.softmax(node) if node.kind in (Kind.VECTOR, Kind.MATRIX) else ""
            return paired or (fused and scaled_softmax(self.value, node, axis, self.inline)) or \
                self.structured(node)
        return batch_sum_of_product(self.value, node) or \
            softmax_pullback(self.value, node, self.inline if fused else None) or \
            axis_dots(self, node) or self.structured(node)

    def structured(self, node: Node) -> str:
        """Structure of the matrix functions, or "": log det S = 2 sum(log(diag(chol(S)))) for
        an spd S (half an LU's work), inv(S) of a triangular or semidefinite S through a
        factor, X + X' with X computed once (codegen/triangular.py)."""
        op, args = node.op, node.args
        if op == "logdet" and not args[0].is_scalar and "spd" in self.facts.attributes(args[0]):
            return f"_logdet_spd({self.value(args[0])})"
        if op in ("add", "sub") and not node.is_scalar and node.shape.rows is node.shape.cols:
            diagonal = self.plus_diagonal(op, *args)
            if diagonal:
                return diagonal
        # (a tensor's X' swaps its last two axes, where .T would reverse them all)
        if op == "add" and node.kind is not Kind.TENSOR and is_transpose_of(args[0], args[1]):
            text = self.names.get(args[0]) or self._hold(args[0], self.expression(args[0]))
            return f"({text} + {text}.T)"
        return factored_inverse(node, self.facts, self.names, self.value) if op == "inv" else ""

    # products --------------------------------------------------------------------------------

    def product(self, node: Node) -> str:
        a, b = node.args
        if a.is_scalar or b.is_scalar:
            return f"({self.value(a)} * {self.value(b)})"
        if node.is_scalar:  # x' @ y: a 1 x 1 product is a number
            return self.code("number", self.matrix_product(node))
        return self.matrix_product(node)

    def ones_product(self, a: Node, b: Node) -> str:
        """A @ (1 1') = (A @ 1) @ 1' and (1 1') @ A = 1 @ (1' @ A): the row (column) sums
        spread, never a product with a dense matrix of ones (O(N d) for a row mean, not
        O(N d^2)); "" where neither factor is a matrix of ones."""
        if any(_inverse(factor) for factor in (a, b)):
            return ""  # 1 1' @ inv(A) is a solve (writer.solve), its inverse never formed
        if _ones_matrix(b) and not _ones_matrix(a):
            ones_row = self.code("ones", "1", self.dim(b.shape.cols))
            return f"({axis_sums(self, a, 1)} @ {ones_row})"
        if _ones_matrix(a) and not _ones_matrix(b):
            ones_column = self.code("ones", self.dim(a.shape.rows), "1")
            return f"({ones_column} @ {axis_sums(self, b, 0)})"
        return ""

    def matrix_product(self, node: Node) -> str:
        a, b = node.args
        if node.kind is Kind.TENSOR:  # NumPy's batched matmul, broadcast over leading axes
            return f"({self.value(a)} @ {self.value(b)})"
        if b.op == "ones" and b.kind is Kind.VECTOR:  # A @ 1: the rows' sums, no ones built
            return axis_sums(self, a, 1)
        if a.op == "transpose" and a.args[0].op == "ones" and a.args[0].kind is Kind.VECTOR:
            return axis_sums(self, b, 0)  # 1' @ A
        spread = self.ones_product(a, b)
        if spread:
            return spread
        blocks = diagonal_blocks_product(node, self)
        if blocks:  # kron(I, A) @ Diag(vec(P)) @ ... @ kron(I, B): no Kronecker product
            return blocks
        congruence = inverse_congruence(node)
        if congruence and self.facts.triangular(congruence[0]):
            inverse, m = congruence  # inv(T)' @ M @ inv(T): two triangular solves or products
            lower = self.facts.triangular(inverse) == "lower"
            if self.unformed(inverse):
                return f"_solved_congruence({self.value(inverse.args[0])}, {self.value(m)}, " \
                       f"{lower})"
            return f"_triangular_congruence({self.value(inverse)}, {self.value(m)}, {lower})"
        solved = self.solved_product(node)
        if solved:
            return solved
        gram = self.gram(a, b)
        if gram:
            return gram
        if self.inline(a) and a.op == "Diag" and not a.args[0].is_scalar:
            return f"({self.diagonal(a)} * {self.value(b)})"
        if self.inline(b) and b.op == "Diag" and not b.args[0].is_scalar:
            return f"({self.value(a)} * {self.diagonal(b, column=False)})"
        if self.inline(a) and a.op == "inv":
            return self.solve(a.args[0], self.value(b), transposed=False)
        if self.inline(a) and a.op == "transpose" and a.args[0].op == "inv" and \
                self.inline(a.args[0]):  # inv(A)' @ B = solve(A', B)
            return self.solve(a.args[0].args[0], self.value(b), transposed=True)
        spread = distributed(node, self.inline)
        if spread is not None:
            return self.value(spread)
        if self.inline(a) and a.op == "kron" and b.kind is Kind.VECTOR:
            first, second = a.args
            if not first.is_scalar and not second.is_scalar:
                return f"_kron_matvec({self.value(first)}, {self.value(second)}, " \
                       f"{self.value(b)})"
        if self.inline(a) and a.op == "transpose" and a.args[0].op == "kron" and \
                self.inline(a.args[0]) and b.kind is Kind.VECTOR:
            first, second = a.args[0].args  # kron(F, S)' = kron(F', S')
            if not first.is_scalar and not second.is_scalar:
                return f"_kron_matvec({self.value(first)}.T, {self.value(second)}.T, " \
                       f"{self.value(b)})"
        triangular = self.triangular_product(a, b)
        if triangular:
            return triangular
        factors = self.chain(node)
        if len(factors) >= 3:
            return self.code("multi_dot", ", ".join(self.value(f) for f in factors))
        return f"({self.value(a)} @ {self.value(b)})"

    def solve(self, a: Node, b: str, transposed: bool) -> str:
        """``inv(A) @ B`` (``inv(A)' @ B``) of B's code as a solve, never the inverse: a
        triangular solve (O(n^2) a column) when A is known triangular, a chol factor or a
        declared lower/upper; a Cholesky solve when A is semidefinite (rules/definite.py)."""
        side = self.facts.triangular(a)
        if not side and semidefinite(a, self.facts):  # symmetric: A' = A; through Cholesky
            return f"_solve_spd({self.value(a)}, {b})"
        matrix = self.value(a) + (".T" if transposed else "")
        if side:
            lower = (side == "lower") != transposed
            return f"_solve_triangular({matrix}, {b}, {lower})"
        return self.code("solve", matrix, b)

    def unformed(self, node: Node) -> bool:
        """Whether node is an inverse (or its transpose) that is only multiplied by, and so
        solved with, never formed."""
        if node.op == "transpose" and node not in self.names:
            node = node.args[0]
        return node.op == "inv" and node in self.solved and node not in self.names

    def solved_product(self, node: Node) -> str:
        """A product with an inverse that is never formed among its factors, associated from
        its vectors (codegen/solves.py): a vector or number from the right, a column times a
        row as the two vectors, other matrices from the right too."""
        factors = product_factors(node, self.inline)
        if not any(self.unformed(factor) for factor in factors):
            return ""
        if node.kind in (Kind.VECTOR, Kind.SCALAR):
            return self.folded(factors)
        if node.kind is Kind.ROW:
            return f"{self.folded(columns_first(factors))}.T"
        split = rank_one_split(factors)
        if split is None:
            return self.folded(factors)
        left = self.folded(factors[:split + 1])
        return f"({left} @ {self.folded(columns_first(factors[split + 1:]))}.T)"

    def folded(self, factors: list[Node]) -> str:
        """F1 @ (F2 @ (... @ Fp)): each step a product (with a vector where Fp is one) or a
        solve, reusing the steps already computed; a last factor that is an inverse never
        formed is a solve from the right, B @ inv(A) = solve(A', B')'."""
        built, text, rest = factors[-1], "", factors[:-1]
        if self.unformed(built) and rest:
            built, inverse = matmul(rest[-1], built), built if built.op == "inv" else built.args[0]
            text = self.solve(inverse.args[0], f"{self.value(rest[-1])}.T",
                              factors[-1].op == "inv") + ".T"
            rest = rest[:-1]
        text = text or self.value(built)
        for factor in reversed(rest):
            built = matmul(factor, built)
            if built in self.names:
                text = self.names[built]
            elif self.unformed(factor):
                inverse = factor if factor.op == "inv" else factor.args[0]
                text = self.solve(inverse.args[0], text, factor.op != "inv")
            elif factor.op == "Diag" and self.inline(factor):
                text = f"({self.diagonal(factor)} * {text})"
            else:
                text = f"({self.value(factor)} @ {text})"
        return text

    def plus_diagonal(self, op: str, a: Node, b: Node) -> str:
        """Diag(v) + M, M - Diag(v), Diag(v) - M as M with v added to its diagonal: the
        diagonal matrix is never formed."""
        for first, (diagonal, other) in ((True, (a, b)), (False, (b, a))):
            if diagonal.op == "Diag" and self.inline(diagonal) and other.kind is Kind.MATRIX \
                    and not diagonal.args[0].is_scalar:
                v, m = self.value(diagonal.args[0]), self.value(other)
                if op == "add":
                    return f"_plus_diagonal({m}, {v})"
                return f"_plus_diagonal(-{m}, {v})" if first else f"_plus_diagonal({m}, -{v})"
        return ""

    def triangular_product(self, a: Node, b: Node) -> str:
        """T @ M or M @ T of a triangular T and a square matrix M: a triangular product (BLAS
        trmm), half the multiplications of a general one; "" otherwise."""
        if a.kind is not Kind.MATRIX or b.kind is not Kind.MATRIX:
            return ""
        for side, (t, m) in (("True", (a, b)), ("False", (b, a))):
            shape = self.facts.triangular(t)
            # a product stays a chain (multi_dot may keep it low rank: (u @ v') @ T)
            if shape and m.shape.rows is m.shape.cols and m.op != "matmul":
                return (f"_triangular_product({self.value(t)}, {self.value(m)}, "
                        f"{shape == 'lower'}, {side})")
        return ""

    def inline(self, node: Node) -> bool:
        """Whether node is computed here only (so its structure may be used, not its value)."""
        return node not in self.names and (self.uses.get(node, 0) <= 1 or node.op in STRUCTURE
                                           or node in self.solved)

    def chain(self, node: Node) -> list[Node]:
        """The factors of a product of matrices, nested products flattened (A @ (B @ C))."""
        factors, pending = [], [node]
        while pending:
            item = pending.pop()
            if item.op == "matmul" and self.inline(item) or item is node:
                a, b = item.args
                if a.is_scalar or b.is_scalar or a.op in ("Diag", "inv", "kron") or \
                        b.op == "Diag":
                    factors.append(item)
                    continue
                pending.extend([b, a])
            else:
                factors.append(item)
        return factors if len(factors) >= 3 else [node]

    def gram(self, a: Node, b: Node) -> str:
        """X' @ Diag(w) @ X with w >= 0, either way associated: G' @ G for G = sqrt(w) * X
        (a syrk in BLAS)."""
        if a.op == "transpose" and b.op == "matmul" and self.inline(b):
            x, (weights, right) = a.args[0], b.args  # X' @ (Diag(w) @ X)
        elif a.op == "matmul" and self.inline(a) and a.args[0].op == "transpose":
            x, weights, right = a.args[0].args[0], a.args[1], b  # (X' @ Diag(w)) @ X
        else:
            return ""
        if right is not x or weights.op != "Diag" or not self.inline(weights):
            return ""
        w = weights.args[0]
        if not self.nonnegative(w):
            return ""
        self.counter += 1
        name = f"_t{self.counter}"
        self.lines.append(f"{name} = {self.code('sqrt', self.value(w))} * {self.value(x)}")
        return f"({name}.T @ {name})"

    def nonnegative(self, node: Node) -> bool:
        return self.facts.nonnegative(node)

    # numerically stable forms: what is printed keeps its textbook form, the code computes it
    # without cancellation or overflow ---------------------------------------------------------

    def stable(self, node: Node) -> str:
        """The stable form of ``node`` (codegen/stable.py), or "" where the plain one is fine."""
        form = stable_form(node, self.facts.body_of)
        if form is None:
            return ""
        if form.kind == "log-softmax":
            return self.log_softmax(form.argument, form.axis)
        return self.stable_code(form.kind, form.argument, form.axis)

    def stable_code(self, kind: str, argument: Node, axis: int) -> str:
        template = self.code.templates.get(kind, CODE[kind])  # a library's own, or the shared
        text = self.once(argument) if template.count("{t}") > 1 else self.value(argument)
        return self.code.spell(template).format(t=text, axis=axis)

    def log_softmax(self, t: Node, axis: int) -> str:
        """log(softmax(t)) by its stable form; where softmax(t) is computed too, held once, and
        softmax(t) is its exp: one pass over t serves both (the cross-entropy and its gradient
        softmax(t) - y)."""
        self.log_softmax_written.add((t, axis))
        if (t, axis) not in self.paired:
            return self.stable_code("log-softmax", t, axis)
        if (t, axis) not in self.held_log_softmax:
            self.held_log_softmax[t, axis] = self.temporary(self.stable_code("log-softmax", t,
                                                                             axis))
        return self.held_log_softmax[t, axis]

    def softmax(self, node: Node) -> str:
        """softmax(t) as exp(log(softmax(t))) where both are written (log_softmax), else ""."""
        axis = TEMPLATES["softmax"].fields(node, self.dim)["axis"]
        self.softmax_written.add((node.args[0], axis))
        if (node.args[0], axis) not in self.paired:
            return ""
        exp = self.code.spell(TEMPLATES["exp"].template(self.code.name))
        return exp.format(self.log_softmax(node.args[0], axis))

    def softmax_pairs(self) -> frozenset:
        """The (t, axis) whose softmax and log-softmax this writing wrote both."""
        return frozenset(self.softmax_written & self.log_softmax_written)

    def once(self, node: Node) -> str:
        """An expression for node that may be written several times in one line: a name or a
        leaf, the node's value held in a temporary otherwise (computed once)."""
        text = self.value(node)
        if node.op in LEAVES or text.isidentifier() or node in self.names:
            return text
        return self._hold(node, text)


def _inverse(node: Node) -> bool:
    """inv(A) or inv(A)'."""
    return node.op == "inv" or (node.op == "transpose" and node.args[0].op == "inv")


def _ones_matrix(node: Node) -> bool:
    """Whether node is a matrix of ones: ones(m, n), or ones(m) @ ones(n)'."""
    if node.op == "ones":
        return node.kind is Kind.MATRIX
    return node.op == "matmul" and node.args[0].op == "ones" and \
        node.args[0].kind is Kind.VECTOR and node.args[1].op == "transpose" and \
        node.args[1].args[0].op == "ones"


def count_uses(roots: Sequence[Node], stop: set[Node]) -> dict[Node, int]:
    """How many parents each node has in the DAG under roots (not looking inside ``stop``)."""
    return {node: len(parents) for node, parents in parents_of(roots, stop).items()}


def _numeral(node: Node) -> bool:
    """Whether ``node`` is made of constants alone (its code is a Python number)."""
    return all(item.op == "const" for item in walk(node) if not item.args)

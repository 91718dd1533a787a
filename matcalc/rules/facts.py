"""What is known about an expression from the declarations: positivity, simplex rows, symmetry.

The simplifier asks these questions before a rule that needs an assumption fires; each answer is
proven from the declared attributes and the definitions (``yhat = softmax(theta)`` is positive and
on the simplex whatever theta is), never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache

from ..core import ir
from ..core.algebra import chain
from ..core.broadcast import axis_mean
from ..core.ir import Node
from ..core.registry import view
from ..core.shapes import Kind

Lookup = Callable[[str], Node | None]



@cache
def _valued() -> dict[str, frozenset[str]]:
    """The operations by the values they take (their ``values`` facet, matcalc/ops): positive
    (a unit value is positive too), non-negative (sqrt is judged by its argument below, as it
    is defined only where that is non-negative), in (0, 1), and in (0, 1) entry by entry."""
    values = view("values")

    def taking(*kinds: str) -> frozenset[str]:
        return frozenset(name for name, taken in values.items() if taken in kinds)

    return {"positive": taking("positive", "unit"), "nonnegative": taking("nonnegative") - {"sqrt"},
            "unit": taking("unit"), "unit entrywise": taking("unit") - {"softmax"}}


@cache
def _functions_of_argument() -> frozenset[str]:
    """The operations whose value is a polynomial in their (first) argument: the inverse, the
    powers, the negation, and the primary matrix functions (their ``spectral`` facet)."""
    return frozenset({"inv", "neg", "mpow", "mpowk"} |
                     {name for name, f in view("spectral").items() if f})


_ANY = "a multiple of I"  # what commutes with every matrix
_DIAGONAL = "diagonal"


@cache
def _symmetries() -> dict[str, str]:
    """When each operation's result is symmetric (its ``symmetry`` facet)."""
    return {name: symmetry for name, symmetry in view("symmetry").items() if symmetry}


# attributes that hold only on a set of measure zero (S = S', sum(y) = 1, y * y = 1): true at the
# point, but not nearby, so a result that is differentiated again may not use them for the
# variables it is differentiated with respect to (docs/guide.md, "Symmetric matrices")
CLOSED_ATTRIBUTES = frozenset({"symmetric", "spd", "simplex", "pm1", "lower", "upper"})


class Facts:
    """Answers about nodes of one problem; ``body_of`` gives a definition's body by name.

    ``moving`` names variables that will be differentiated again: their closed attributes
    (:data:`CLOSED_ATTRIBUTES`) are not used, their open ones (``positive``) are."""

    def __init__(self, body_of: Lookup, moving: frozenset[str] = frozenset()):
        self.body_of = body_of
        self.moving = moving

    def _declared(self, node: Node, attribute: str) -> bool:
        """Whether the variable ``node`` is declared with ``attribute`` and may use it."""
        if attribute in CLOSED_ATTRIBUTES and node.name in self.moving:
            return False
        return attribute in node.params[1]

    def centred(self, node: Node) -> bool:
        """Whether node is a scalar multiple of X - mean(X): sum(node) = 0."""
        node = self._resolve(node)
        if node.op == "sub":
            a, b = node.args
            mean = self._resolve(b)
            return not a.is_scalar and mean.op == "mean" and mean.args[0] is a
        if node.op == "neg":
            return self.centred(node.args[0])
        if node.op == "div":
            return node.args[1].is_scalar and self.centred(node.args[0])
        if node.op == "mul":
            a, b = node.args
            return any(self.centred(x) and self.uniform(y) for x, y in ((a, b), (b, a)))
        return False

    def column_centred(self, node: Node) -> bool:
        """Whether node is a scalar multiple of X - mean(X, 0) = X - ones(n) @ ((ones(n)' @ X) /
        n), a batch centred on its mean row: its column sums ones(n)' @ node are 0; or the sum
        over the batch sum(Y, 0) of a tensor centred on its mean over the batch and the rows,
        X - mean(mean(X, 0), 0), so that ones(T)' @ sum(Y, 0) is 0."""
        node = self._resolve(node)
        if node.op == "axis_sum" and node.params[0] == 0 and node.kind is Kind.MATRIX:
            return self._centred(node.args[0], self._batch_mean)
        return self._centred(node, self._column_mean)

    def _centred(self, node: Node, is_mean) -> bool:
        """node = c * (X - ones(n) @ m) with ``is_mean(m, X)`` and c the same down each
        column."""
        node = self._resolve(node)
        if node.op == "sub":
            a, b = node.args
            b = self._resolve(b)
            if b.op != "matmul" or b.args[0].op != "ones" or a.is_scalar:
                return False
            return is_mean(self._resolve(b.args[1]), a)
        if node.op == "neg":
            return self._centred(node.args[0], is_mean)
        if node.op == "div":
            return self._same_in_each_column(node.args[1]) and \
                self._centred(node.args[0], is_mean)
        if node.op == "mul":
            a, b = node.args
            return any(self._same_in_each_column(y) and self._centred(x, is_mean)
                       for x, y in ((a, b), (b, a)))
        return False

    def _column_mean(self, mean: Node, a: Node) -> bool:
        """Whether mean = (ones(n)' @ a) / n, the mean row of the matrix a."""
        if mean.op != "div" or mean.args[1].op != "dimval" or \
                mean.args[1].params[0] is not a.shape.rows:
            return False
        sums = mean.args[0]
        return sums.op == "matmul" and sums.args[1] is a and \
            sums.args[0].op == "transpose" and sums.args[0].args[0].op == "ones"

    def _batch_mean(self, mean: Node, a: Node) -> bool:
        """Whether mean = mean(mean(a, 0), 0) = (ones(T)' @ (sum(a, 0) / B)) / T, the mean row
        of a B x T x d tensor over its batch and its rows."""
        if a.kind is not Kind.TENSOR or mean.op != "div" or mean.args[0].op != "matmul":
            return False
        ones, inner = mean.args[0].args
        count = mean.args[1]
        return count.op == "dimval" and count.params[0] is a.shape.rows and \
            ones.op == "transpose" and ones.args[0].op == "ones" and \
            axis_mean(self._resolve(inner)) == (a, 0)

    def row_centred(self, node: Node, axis: int | None = None) -> bool:
        """Whether node is X - mean(X, 1) = X - ((X @ ones(m)) / m) @ ones(m)', a batch whose
        rows are centred on their means (for a tensor, X - expand(mean(X, a), a, n): centred
        along its axis ``axis``), scaled entry by entry by what is the same along each row: its
        row sums node @ ones(m) (sum(node, a)) are 0."""
        node = self._resolve(node)
        if node.op == "sub":
            a, b = node.args
            b = self._resolve(b)
            if a.is_scalar or not self._spread_along(b, axis):
                return False
            return axis_mean(self._resolve(b.args[0])) == (a, 1 if axis is None else axis)
        if node.op == "neg":
            return self.row_centred(node.args[0], axis)
        if node.op == "div":
            return self._same_in_each_row(node.args[1], axis) and \
                self.row_centred(node.args[0], axis)
        if node.op == "mul":
            a, b = node.args
            return any(self._same_in_each_row(y, axis) and self.row_centred(x, axis)
                       for x, y in ((a, b), (b, a)))
        return False

    def _spread_along(self, node: Node, axis: int | None) -> bool:
        """A column copied to every column (c @ ones(m)'; ``axis`` None) or a tensor repeated
        along the axis ``axis`` (expand(G, axis, n))."""
        if axis is None:
            return node.op == "matmul" and _is_ones_row(node.args[1]) and \
                node.args[0].kind is Kind.VECTOR
        return node.op == "expand" and node.params[0] == axis

    def _same_in_each_row(self, node: Node, axis: int | None = None) -> bool:
        """A scalar, a column copied to every column (c @ ones(m)'; of a tensor, what is
        repeated along the axis), or their products."""
        node = self._resolve(node)
        if node.is_scalar or self._spread_along(node, axis):
            return True
        return node.op in ("mul", "div") and \
            all(self._same_in_each_row(a, axis) for a in node.args)

    def _same_in_each_column(self, node: Node) -> bool:
        """A scalar or a row copied to every row (ones(n) @ r): scaling each column by one
        number keeps its sum 0."""
        node = self._resolve(node)
        return node.is_scalar or (node.op == "matmul" and node.args[0].op == "ones" and
                                  node.args[0].kind is Kind.VECTOR)

    def uniform(self, node: Node) -> bool:
        """Whether every entry of node is the same number: a scalar, ones, their products."""
        node = self._resolve(node)
        if node.is_scalar or node.op == "ones":
            return True
        return node.op in ("mul", "div") and all(self.uniform(arg) for arg in node.args)

    def nonnegative(self, node: Node) -> bool:
        """Every entry is >= 0."""
        if self.positive(node):
            return True
        node = self._resolve(node)
        op = node.op
        if op in _valued()["nonnegative"]:
            return True
        if op == "pow":
            exponent = node.args[1]
            return (exponent.op == "const" and exponent.params[0] % 2 == 0) or \
                self.nonnegative(node.args[0])
        if op == "mul" and node.args[0] is node.args[1]:
            return True
        if op == "sub":  # c - s for c >= 1 and s a softmax: its entries lie in (0, 1]
            first, second = node.args
            return first.op == "const" and first.params[0] >= 1 and \
                self._resolve(second).op in _valued()["unit"]
        if op in ("add", "mul", "div", "sqrt", "mean", "sum", "minimum", "matmul", "transpose",
                  "axis_sum", "expand"):
            return all(self.nonnegative(arg) for arg in node.args)
        if op == "maximum":
            return any(self.nonnegative(arg) for arg in node.args)
        return False

    def body(self, node: Node) -> Node:
        """What ``node`` stands for: the body of the definition a reference names (followed
        through references to references), the node itself otherwise."""
        return self._resolve(node)

    def walked(self, *nodes: Node, into: Callable[[Node], bool] = lambda item: True
               ) -> Iterator[Node]:
        """Every node the ``nodes`` are built of, through the definitions they name, each once
        (what several nodes share is walked once); ``into`` says which to look inside."""
        seen: set[Node] = set()
        stack = list(nodes)
        while stack:
            item = self._resolve(stack.pop())
            if item in seen:
                continue
            seen.add(item)
            yield item
            if into(item):
                stack.extend(item.args)

    def _resolve(self, node: Node) -> Node:
        seen = 0
        while node.op == "ref" and seen < 1000:
            body = self.body_of(node.name)
            if body is None:
                return node
            node, seen = body, seen + 1
        return node

    def attributes(self, node: Node) -> frozenset[str]:
        node = self._resolve(node)
        if node.op != "var":
            return frozenset()
        return node.params[1] - CLOSED_ATTRIBUTES if node.name in self.moving else node.params[1]

    def positive(self, node: Node) -> bool:
        """Every entry is > 0."""
        node = self._resolve(node)
        op = node.op
        if op == "var":
            return "positive" in node.params[1]
        if op in ("const",):
            return node.params[0] > 0
        if op in ("dimval", "ones") or op in _valued()["positive"]:
            return True
        if op == "add":  # positive + nonnegative
            a, b = node.args
            return (self.positive(a) and self.nonnegative(b)) or \
                (self.nonnegative(a) and self.positive(b))
        if op in ("mul", "div", "matmul"):  # a matrix product of positive entries: a sum of them
            return all(self.positive(arg) for arg in node.args)
        if op in ("sqrt", "mean", "sum", "axis_sum", "expand"):
            return self.positive(node.args[0])
        if op == "sub":  # c - sigmoid(...) for c >= 1: sigmoid's values lie in (0, 1)
            first, second = node.args
            return first.op == "const" and first.params[0] >= 1 and \
                self._resolve(second).op in _valued()["unit entrywise"]
        if op == "pow":
            return self.positive(node.args[0])
        if op == "diag":  # a Cholesky factor's diagonal
            return self._resolve(node.args[0]).op == "chol"
        if op == "eigvalsh":  # the eigenvalues of a positive definite matrix
            matrix = self._resolve(node.args[0])
            return matrix.op == "var" and self._declared(matrix, "spd")
        if op == "transpose":
            return self.positive(node.args[0])
        return False

    def simplex(self, node: Node) -> bool:
        """A vector whose entries are >= 0 and sum to 1."""
        node = self._resolve(node)
        if node.kind is not Kind.VECTOR:
            return False
        if node.op == "var":
            return self._declared(node, "simplex")
        return node.op == "softmax"

    def row_simplex(self, node: Node) -> bool:
        """A matrix (or row vector) whose rows are >= 0 and sum to 1."""
        node = self._resolve(node)
        if node.kind not in (Kind.MATRIX, Kind.ROW):
            return False
        if node.op == "var":
            return self._declared(node, "simplex")
        return node.op == "softmax"

    def row_sums(self, node: Node) -> Node | None:
        """The one number every row of node (a tensor's every last-axis row) sums to, as an
        expression, when the rows are an affine combination of rows on the simplex: (1 - e) * Y
        + e / k sums to (1 - e) + e (label smoothing); None when that is not known."""
        node = self._resolve(node)
        if node.is_scalar or node.kind not in (Kind.MATRIX, Kind.ROW, Kind.TENSOR):
            return None
        if self.row_simplex(node) or (node.kind is Kind.TENSOR and (
                node.op == "softmax" or node.op == "var" and self._declared(node, "simplex"))):
            return ir.const(1.0)
        op, args = node.op, node.args
        if op == "neg":
            inner = self.row_sums(args[0])
            return None if inner is None else ir.apply("neg", inner)
        if op == "mul" and args[0].is_scalar is not args[1].is_scalar:  # c * M
            scalar, matrix = args if args[0].is_scalar else reversed(args)
            inner = self.row_sums(matrix)
            return None if inner is None else ir.apply("mul", scalar, inner)
        if op == "div" and args[1].is_scalar and not args[0].is_scalar:  # M / c
            inner = self.row_sums(args[0])
            return None if inner is None else ir.apply("div", inner, args[1])
        if op in ("add", "sub"):
            sums = [ir.apply("mul", arg, ir.dimval(node.shape.cols)) if arg.is_scalar else
                    self.row_sums(arg) for arg in args]
            return None if None in sums else ir.apply(op, *sums)
        return None

    def nonzero(self, node: Node) -> bool:
        """Every entry is non-zero: positive, or the determinant of an invertible matrix (the
        product and quotient of such)."""
        if self.positive(node):
            return True
        node = self._resolve(node)
        if node.op == "det":
            matrix = self._resolve(node.args[0])
            while matrix.op in ("inv", "transpose"):
                matrix = self._resolve(matrix.args[0])
            return matrix.op == "var" and bool({"invertible", "spd"} & matrix.params[1])
        if node.op in ("mul", "div", "neg", "pow", "mpow"):
            return all(self.nonzero(arg) for arg in node.args
                       if not (node.op in ("pow", "mpow") and arg is not node.args[0]))
        return False

    def pm1(self, node: Node) -> bool:
        """Every entry is +1 or -1 (a declared pm1 variable)."""
        node = self._resolve(node)
        return node.op == "var" and self._declared(node, "pm1")

    def triangular(self, node: Node) -> str:
        """"lower" or "upper" for a square matrix known to be triangular so, else "": declared,
        a Cholesky factor, or built from such by transposes, inverses, products and sums."""
        node = self._resolve(node)
        op = node.op
        if node.kind is not Kind.MATRIX:
            return ""
        if op == "var":
            return next((side for side in ("lower", "upper") if self._declared(node, side)), "")
        if op == "chol":
            return "lower"
        if op == "transpose":
            return {"lower": "upper", "upper": "lower"}.get(self.triangular(node.args[0]), "")
        if op in ("inv", "neg"):
            return self.triangular(node.args[0])
        if op in ("matmul", "add", "sub"):  # a diagonal factor or term keeps either side
            sides = {self.triangular(arg) for arg in node.args if not self.diagonal(arg)}
            return sides.pop() if len(sides) == 1 else ""
        if _unscaled(node) is not node:  # c * T, T / c
            return self.triangular(_unscaled(node))
        return ""

    def diagonal(self, node: Node) -> bool:
        """A square matrix that is 0 off its diagonal: I, Diag(v), and their scalings, sums,
        products, transposes and inverses."""
        node = self._resolve(node)
        if node.kind is not Kind.MATRIX:
            return False
        if node.op in ("identity", "Diag"):
            return True
        if _unscaled(node) is not node:
            return self.diagonal(_unscaled(node))
        # a number added to a matrix is added to every entry: no sum with one is diagonal
        if node.op in ("transpose", "inv", "neg", "add", "sub", "matmul"):
            return all(not arg.is_scalar and self.diagonal(arg) for arg in node.args)
        return False

    def commutes(self, a: Node, b: Node) -> bool:
        """Whether a @ b = b @ a for square matrices a and b: either is a multiple of I, both
        are diagonal, or both are functions of one matrix M (built from M by sums, products,
        scalings, powers, inverses and primary matrix functions, each a polynomial in its
        argument: Higham, Functions of Matrices (2008), thm. 1.3)."""
        first, second = self._function_of(a), self._function_of(b)
        return first is not None and second is not None and \
            (_ANY in (first, second) or first is second)

    def _function_of(self, node: Node, depth: int = 0) -> object | None:
        """The matrix that ``node`` is a function of (:meth:`commutes`), _ANY for a multiple of
        I, _DIAGONAL for a diagonal matrix, None when not a square matrix or not known."""
        node = self._resolve(node)
        if node.is_scalar or node.op == "identity":
            return _ANY
        if node.kind is not Kind.MATRIX or node.shape.rows is not node.shape.cols or depth > 40:
            return None
        if node.op == "Diag":
            return _DIAGONAL
        if node.op in _functions_of_argument() or \
                (node.op == "transpose" and self.symmetric(node.args[0])):
            return self._function_of(node.args[0], depth + 1)
        if _unscaled(node) is not node:
            return self._function_of(_unscaled(node), depth + 1)
        # products and sums of matrices (a number added to a matrix is added to every entry,
        # and entry by entry products are functions of nothing they are built of)
        if node.op in ("add", "sub", "matmul") and not any(arg.is_scalar for arg in node.args):
            bases = {self._function_of(arg, depth + 1) for arg in node.args} - {_ANY}
            if None in bases or len(bases) > 1:
                return None
            return bases.pop() if bases else _ANY
        return node

    def symmetric(self, node: Node) -> bool:
        """A square matrix equal to its transpose."""
        node = self._resolve(node)
        op = node.op
        if node.is_scalar:
            return True
        if node.kind is not Kind.MATRIX or node.shape.rows is not node.shape.cols:
            return False
        if op == "var":
            return self._declared(node, "symmetric") or self._declared(node, "spd")
        if op in ("identity", "zeros", "ones"):
            return True
        if op == "matmul":
            return self._symmetric_product(chain(node))
        if op == "sym" or (op == "add" and _transposes(*node.args, self._resolve)):  # A + A'
            return True
        # the operation's symmetry facet (matcalc/ops): S + T, S * T, inv(S), f(S)' = f(S')
        # entry by entry when the arguments are; S / c, S ^ k, S .^ c; Diag(v) always
        symmetry = _symmetries().get(op, "")
        if symmetry == "always":
            return True
        if symmetry == "arguments":
            return all(self.symmetric(arg) for arg in node.args)
        if symmetry == "scalars or arguments":
            return all(arg.is_scalar or self.symmetric(arg) for arg in node.args)
        return False

    def _symmetric_product(self, factors: list[Node]) -> bool:
        """A product that reads the same transposed: A' @ S @ A, B @ B', v @ v' (each factor
        the transpose of its mirror, a middle factor symmetric; scalar multiples aside)."""
        factors = [_unscaled(self._resolve(factor)) for factor in factors]
        while len(factors) > 1:
            first, last = factors[0], factors[-1]
            if not (_transposes(first, last) or _transposes(first, last, self._resolve)):
                return False
            factors = factors[1:-1]
        return not factors or self.symmetric(factors[0])


def _is_ones_row(node: Node) -> bool:
    return node.op == "transpose" and node.args[0].op == "ones" and \
        node.args[0].kind is Kind.VECTOR


def _unscaled(node: Node) -> Node:
    """node without the scalar factors and divisors that scale it (a * x -> x)."""
    while node.op in ("mul", "div", "neg") and not node.is_scalar:
        rest = [arg for arg in node.args if not arg.is_scalar]
        if len(rest) != 1 or (node.op == "div" and rest[0] is not node.args[0]):
            return node
        node = rest[0]
    return node


def _transposes(a: Node, b: Node, resolve: Callable[[Node], Node] = lambda node: node) -> bool:
    """Whether a = b' as written (a vector's transpose is a row vector), or once the names
    under a transpose are ``resolve``d (L' beside chol(S), for L = chol(S))."""
    return (b.op == "transpose" and resolve(b.args[0]) is a) or \
        (a.op == "transpose" and resolve(a.args[0]) is b)

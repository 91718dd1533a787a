"""Simplification rules as data: (name, identity, rewrite, assumption, example).

A rewrite looks at one node (its children already simplified) and returns the replacement, or
``None`` to decline.  A rule that needs an assumption (``positive``, ``simplex``, ``symmetric``)
names it, and its rewrite asks :class:`matcalc.facts.Facts` before it fires.  Every rule's
``example`` is a problem on which it fires; the tests check that both sides agree numerically on
random points honouring the declarations, and that the rule does not fire once the assumption is
dropped from the declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import ir
from ..facts import Facts
from ..ir import Node
from ..shapes import ONE, Kind

Rewrite = Callable[[Node, Facts], Node | None]


@dataclass(frozen=True)
class Rule:
    """One simplification: ``identity`` in words, ``rewrite`` in code."""

    name: str
    ops: tuple[str, ...]  # the operations it looks at
    identity: str
    rewrite: Rewrite
    needs: str | None
    example: str  # declarations and `f = ...` on which the rule fires


def _const(node: Node, value: float | None = None) -> bool:
    return node.op == "const" and (value is None or node.params[0] == value)


def _zero(node: Node) -> bool:
    return _const(node, 0.0) or node.op == "zeros"


def _same_shape(a: Node, b: Node) -> bool:
    return a.shape == b.shape and a.kind is b.kind


def _apply(op: str, *args: Node, params: tuple = ()) -> Node:
    return ir.apply(op, *args, params=params)


# -- identities, zeros and ones ---------------------------------------------------------------


def _times_one(node: Node, facts: Facts) -> Node | None:
    a, b = node.args
    if _const(a, 1.0) or (a.op == "ones" and _same_shape(a, node)):
        return b if _same_shape(b, node) else None
    if _const(b, 1.0) or (b.op == "ones" and _same_shape(b, node)):
        return a if _same_shape(a, node) else None
    return None


def _times_zero(node: Node, facts: Facts) -> Node | None:
    if any(_zero(arg) for arg in node.args):
        return _zeros_like(node)
    return None


def _zeros_like(node: Node) -> Node:
    if node.is_scalar:
        return ir.const(0.0)
    return ir.zeros(node.shape.rows, node.shape.cols, node.kind)


def _plus_zero(node: Node, facts: Facts) -> Node | None:
    a, b = node.args
    if _zero(b) and _same_shape(a, node):
        return a
    if _zero(a) and _same_shape(b, node):
        return b if node.op == "add" else _apply("neg", b)
    return None


def _divided_by_one(node: Node, facts: Facts) -> Node | None:
    return node.args[0] if _const(node.args[1], 1.0) else None


def _identity_product(node: Node, facts: Facts) -> Node | None:
    a, b = node.args
    if a.op == "identity":
        return b
    if b.op == "identity":
        return a
    return None


def _power_one(node: Node, facts: Facts) -> Node | None:
    return node.args[0] if _const(node.args[1], 1.0) else None


def _constant_arithmetic(node: Node, facts: Facts) -> Node | None:
    if not all(_const(arg) for arg in node.args):
        return None
    values = [arg.params[0] for arg in node.args]
    if node.op == "neg":
        return ir.const(-values[0])
    operations = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "matmul": lambda x, y: x * y,
    }
    if node.op in operations:
        return ir.const(operations[node.op](*values))
    if node.op == "div" and values[1] != 0:
        return ir.const(values[0] / values[1])
    return None


# -- signs --------------------------------------------------------------------------------------


def absorbed_negation(node: Node, numbers: bool = True) -> Node | None:
    """-node without a minus sign, when a difference (preferably) or a number inside a product
    takes it: -(x * (a - b)) = x * (b - a), -(c x) = (-c) x, -(a / s) = (-a) / s."""
    if node.op == "sub":
        return _apply("sub", node.args[1], node.args[0])
    if node.op == "neg":
        return node.args[0]
    if node.op == "const":
        return ir.const(-node.params[0]) if numbers else None
    if node.op in ("mul", "div", "matmul"):
        candidates = (0, 1) if node.op != "div" else (0,)
        for allow_numbers in ((False, True) if numbers else (False,)):
            for index in candidates:
                inner = absorbed_negation(node.args[index], allow_numbers)
                if inner is not None:
                    args = list(node.args)
                    args[index] = inner
                    return _apply(node.op, *args)
    return None


def _absorbed_negation(node: Node, facts: Facts) -> Node | None:
    return absorbed_negation(node.args[0])


def _negative_multiple(node: Node, facts: Facts) -> Node | None:
    """a - (c b) = a + (-c) b and a + (c b) = a - (-c) b for a number c < 0; -1 * a = -a."""
    if node.op == "mul":
        a, b = node.args
        if _const(a, -1.0) and _same_shape(b, node):
            return _apply("neg", b)
        return None
    a, b = node.args
    if b.op == "mul" and _const(b.args[0]) and b.args[0].params[0] < 0:
        flipped = _apply("mul", ir.const(-b.args[0].params[0]), b.args[1])
        return _apply("add" if node.op == "sub" else "sub", a, flipped)
    return None


def _add_negative(node: Node, facts: Facts) -> Node | None:
    a, b = node.args
    if b.op == "neg":
        return _apply("sub" if node.op == "add" else "add", a, b.args[0])
    if a.op == "neg" and node.op == "add":
        return _apply("sub", b, a.args[0])
    return None


def _negation_out_of_products(node: Node, facts: Facts) -> Node | None:
    a, b = node.args
    if a.op == "neg" and b.op == "neg":
        return _apply(node.op, a.args[0], b.args[0])
    if a.op == "neg":
        return _apply("neg", _apply(node.op, a.args[0], b))
    if b.op == "neg":
        return _apply("neg", _apply(node.op, a, b.args[0]))
    return None


# -- transposes -------------------------------------------------------------------------------


def _transpose_of_transpose(node: Node, facts: Facts) -> Node | None:
    inner = node.args[0]
    if inner.op == "transpose":
        return inner.args[0]
    if inner.is_scalar or inner.op in ("identity", "Diag"):
        return inner
    return None


def _transpose_of_symmetric(node: Node, facts: Facts) -> Node | None:
    inner = node.args[0]
    if (
        inner.kind is Kind.MATRIX
        and facts.symmetric(inner)
        and inner.op not in ("identity", "Diag")
    ):
        return inner
    return None


def _transpose_of_product(node: Node, facts: Facts) -> Node | None:
    inner = node.args[0]
    if inner.op == "matmul":
        a, b = inner.args
        return _apply("matmul", _transposed(b), _transposed(a))
    if inner.op in ("mul", "div") and not inner.is_scalar:
        # (c * A)' = c * A' and (A / s)' = A' / s: a scalar is its own transpose
        return _apply(inner.op, _transposed(inner.args[0]), _transposed(inner.args[1]))
    if inner.op == "neg":
        return _apply("neg", _transposed(inner.args[0]))
    return None


def _transpose_out_of_sum(node: Node, facts: Facts) -> Node | None:
    """A' + B' = (A + B)'; A' - B' = (A - B)'."""
    a, b = node.args
    if a.op == "transpose" and b.op == "transpose" and not a.is_scalar:
        return _apply("transpose", _apply(node.op, a.args[0], b.args[0]))
    return None


def _transposed(node: Node) -> Node:
    if node.op == "transpose":
        return node.args[0]
    if node.is_scalar or node.op in ("identity", "Diag"):
        return node
    return _apply("transpose", node)


# -- products and quotients -------------------------------------------------------------------


def _times_reciprocal(node: Node, facts: Facts) -> Node | None:
    a, b = node.args
    if b.op == "div" and _const(b.args[0], 1.0) and _same_shape(a, node):
        return _apply("div", a, b.args[1])
    if a.op == "div" and _const(a.args[0], 1.0) and _same_shape(b, node):
        return _apply("div", b, a.args[1])
    return None


def _cancel_quotient(node: Node, facts: Facts) -> Node | None:
    """a * (b / a) = b and (b / a) * a = b, for a > 0."""
    a, b = node.args
    for factor, quotient in ((a, b), (b, a)):
        if quotient.op == "div" and quotient.args[1] is factor and facts.positive(factor):
            kept = quotient.args[0]
            if _same_shape(kept, node):
                return kept
    return None


def _cancel_norm(node: Node, facts: Facts) -> Node | None:
    """n * (b / n) = b for n = norm(A): where n = 0 the left side is undefined, everywhere else
    they agree, so the rewrite never changes a value that exists (it removes 0 / 0)."""
    a, b = node.args
    for factor, quotient in ((a, b), (b, a)):
        if quotient.op == "div" and quotient.args[1] is factor and factor.op in ("norm",
                                                                                  "norm2"):
            kept = quotient.args[0]
            if _same_shape(kept, node):
                return kept
    return None


def _scalar_factors(node: Node) -> list[Node]:
    if node.op == "mul" and node.is_scalar:
        return _scalar_factors(node.args[0]) + _scalar_factors(node.args[1])
    return [node]


def _cancel_in_scalar_product(node: Node, facts: Facts) -> Node | None:
    """(c s) * (b / s) = c * b for a scalar s > 0 or a norm (as in cancel-quotient and
    cancel-norm), s one factor of a product of scalars."""
    a, b = node.args
    for product, quotient in ((a, b), (b, a)):
        if quotient.op != "div" or product.op != "mul" or not product.is_scalar:
            continue
        divisor = quotient.args[1]
        factors = _scalar_factors(product)
        if divisor not in factors or not (
                divisor.op in ("norm", "norm2") or facts.positive(divisor)):
            continue
        factors.remove(divisor)
        rest = factors[0]
        for factor in factors[1:]:
            rest = _apply("mul", rest, factor)
        result = _apply("mul", rest, quotient.args[0])
        if _same_shape(result, node):
            return result
    return None


def _scalar_division_out(node: Node, facts: Facts) -> Node | None:
    """(a / s) * b = (a * b) / s for a scalar s."""
    a, b = node.args
    if a.op == "div" and a.args[1].is_scalar and not a.is_scalar and not b.is_scalar:
        return _apply("div", _apply("mul", a.args[0], b), a.args[1])
    return None


def _constants_together(node: Node, facts: Facts) -> Node | None:
    a, b = node.args
    if _const(a) and b.op == "mul" and _const(b.args[0]):
        return _apply("mul", ir.const(a.params[0] * b.args[0].params[0]), b.args[1])
    if a.op == "mul" and _const(a.args[0]) and not _const(b):
        return _apply("mul", a.args[0], _apply("mul", a.args[1], b))  # (c a) b = c (a b)
    if _const(b) and not _const(a):
        return _apply("mul", b, a)  # numbers first: 2 * x
    return None


def _scalar_out_of_product(node: Node, facts: Facts) -> Node | None:
    """A @ (c * B) = c * (A @ B) = (c * A) @ B for a scalar c."""
    return _out_of_matmul(node, "mul")


def _out_of_matmul(node: Node, op: str) -> Node | None:
    """A factor's scalar part (c in c * B, s in B / s) taken out of the product A @ B."""
    a, b = node.args
    for index, factor in enumerate((a, b)):
        if factor.op != op:
            continue
        scalar, matrix = factor.args if op == "mul" else reversed(factor.args)
        if scalar.is_scalar and not matrix.is_scalar:
            product = _apply("matmul", *((matrix, b) if index == 0 else (a, matrix)))
            return _apply("mul", scalar, product) if op == "mul" else \
                _apply("div", product, scalar)
    return None


def _quotient_out_of_product(node: Node, facts: Facts) -> Node | None:
    """(A / s) @ B = (A @ B) / s = A @ (B / s) for a scalar s; Diag(a / s) = Diag(a) / s."""
    if node.op == "Diag":
        inner = node.args[0]
        if inner.op == "div" and inner.args[1].is_scalar and not inner.is_scalar:
            return _apply("div", _apply("Diag", inner.args[0]), inner.args[1])
        return None
    return _out_of_matmul(node, "div")


def _diag_times_vector(node: Node, facts: Facts) -> Node | None:
    a, b = node.args
    if a.op == "Diag" and a.args[0].kind is Kind.VECTOR and b.kind is Kind.VECTOR:
        return _apply("mul", a.args[0], b)
    return None


def _diag_of_ones(node: Node, facts: Facts) -> Node | None:
    """Diag(1) @ B = B; Diag(-a) = -Diag(a)."""
    a, b = node.args
    if a.op == "Diag" and a.args[0].op == "ones":
        return b
    if a.op == "Diag" and a.args[0].op == "neg":
        return _apply("neg", _apply("matmul", _apply("Diag", a.args[0].args[0]), b))
    return None


def _diagonal_of_diag(node: Node, facts: Facts) -> Node | None:
    inner = node.args[0]
    return inner.args[0] if inner.op == "Diag" and inner.args[0].kind is Kind.VECTOR else None


def _diag_of_scalar(node: Node, facts: Facts) -> Node | None:
    return node.args[0] if node.args[0].is_scalar else None


def _kron_mixed_product(node: Node, facts: Facts) -> Node | None:
    """kron(A, B) @ kron(C, D) = kron(A @ C, B @ D) when the products exist."""
    left, right = node.args
    if left.op != "kron" or right.op != "kron":
        return None
    a, b = left.args
    c, d = right.args
    if any(x.is_scalar for x in (a, b, c, d)) or a.shape.cols != c.shape.rows or \
            b.shape.cols != d.shape.rows:
        return None
    return _apply("kron", _apply("matmul", a, c), _apply("matmul", b, d))


def _inner_product_with_quotient(node: Node, facts: Facts) -> Node | None:
    """a' @ (b / a) = sum(b) for a vector a > 0."""
    a, b = node.args
    if (
        a.op == "transpose"
        and b.op == "div"
        and b.args[1] is a.args[0]
        and a.args[0].kind is Kind.VECTOR
        and _same_shape(b.args[0], a.args[0])  # a scalar b would sum to n * b, not b
        and facts.positive(a.args[0])
    ):
        return _apply("sum", b.args[0])
    return None


# -- assumptions: the simplex -----------------------------------------------------------------


def _sum_of_simplex(node: Node, facts: Facts) -> Node | None:
    """sum(y) = 1 for y on the simplex; sum(Y) = rows(Y) for rows on the simplex."""
    a = node.args[0]
    if facts.simplex(a):
        return ir.const(1.0)
    if facts.row_simplex(a):
        rows = a.shape.rows
        return ir.const(float(rows.coefficient)) if rows.is_number else ir.dimval(rows)
    return None


def _sum_of_centred(node: Node, facts: Facts) -> Node | None:
    """sum(c * (X - mean(X))) = 0 for a scalar c."""
    return ir.const(0.0) if facts.centred(node.args[0]) else None


def _mean_of_entries(node: Node, facts: Facts) -> Node | None:
    """sum(X) / N = mean(X) and (A : B) / N = mean(A * B) for N the number of entries."""
    top, bottom = node.args
    if bottom.op != "dimval" or top.op not in ("sum", "frob"):
        return None
    inner = top.args[0] if top.op == "sum" else _apply("mul", *top.args)
    if inner.is_scalar or bottom.params[0] != inner.shape.rows * inner.shape.cols:
        return None
    return _apply("mean", inner)


def _row_sums_of_simplex(node: Node, facts: Facts) -> Node | None:
    """Y @ 1 = 1 when every row of Y is on the simplex."""
    a, b = node.args
    if b.op == "ones" and b.kind is Kind.VECTOR and facts.row_simplex(a):
        rows = a.shape.rows
        return ir.ones(rows, ONE, Kind.VECTOR) if rows is not ONE else ir.const(1.0)
    return None


# -- collecting terms ---------------------------------------------------------------------------


def _like_terms(node: Node, facts: Facts) -> Node | None:
    """a + a = 2 a; a - a = 0."""
    a, b = node.args
    if a is not b:
        return None
    return _apply("mul", ir.const(2.0), a) if node.op == "add" else _zeros_like(node)


def _common_divisor(node: Node, facts: Facts) -> Node | None:
    """a / s + b / s = (a + b) / s; a / s - b / s = (a - b) / s."""
    a, b = node.args
    if a.op == "div" and b.op == "div" and a.args[1] is b.args[1] and \
            _same_shape(a.args[0], b.args[0]):
        return _apply("div", _apply(node.op, a.args[0], b.args[0]), a.args[1])
    return None


def _common_factor(node: Node, facts: Facts) -> Node | None:
    """A @ B + A @ C = A @ (B + C); B @ A + C @ A = (B + C) @ A; c * a + c * b = c * (a + b)
    (and with -)."""
    a, b = node.args
    if a.op == "mul" and b.op == "mul" and a.args[0] is b.args[0] and \
            _same_shape(a.args[1], b.args[1]):
        return _apply("mul", a.args[0], _apply(node.op, a.args[1], b.args[1]))
    if a.op != "matmul" or b.op != "matmul":
        return None
    if a.args[0] is b.args[0]:
        return _apply("matmul", a.args[0], _apply(node.op, a.args[1], b.args[1]))
    if a.args[1] is b.args[1]:
        return _apply("matmul", _apply(node.op, a.args[0], b.args[0]), a.args[1])
    return None


RULES: tuple[Rule, ...] = (
    Rule(
        "absorbed-negation",
        ("neg",),
        "-(x * (a - b)) = x * (b - a); -(c x) = (-c) x; -(a / s) = (-a) / s",
        _absorbed_negation,
        None,
        "x, y, z : vector(n); s : scalar positive\nf = -(z * (x - y) / s)",
    ),
    Rule(
        "negative-multiple",
        ("add", "sub", "mul"),
        "a - (c b) = a + (-c) b for a number c < 0; -1 * a = -a",
        _negative_multiple,
        None,
        "x, y : vector(n)\nf = x - -2 * y",
    ),
    Rule(
        "constant-arithmetic",
        ("add", "sub", "mul", "div", "matmul", "neg"),
        "arithmetic on numbers is done",
        _constant_arithmetic,
        None,
        "f = 2 * 3 - 1",
    ),
    Rule(
        "times-one",
        ("mul",),
        "1 * a = a; ones * A = A",
        _times_one,
        None,
        "x : vector(n)\nf = ones(n) * x",
    ),
    Rule(
        "times-zero",
        ("mul", "matmul"),
        "0 * a = 0",
        _times_zero,
        None,
        "x : vector(n)\nf = zeros(n, 1) * x",
    ),
    Rule(
        "plus-zero",
        ("add", "sub"),
        "a + 0 = a; 0 - a = -a",
        _plus_zero,
        None,
        "x : vector(n)\nf = x + 0",
    ),
    Rule(
        "divided-by-one", ("div",), "a / 1 = a", _divided_by_one, None, "x : vector(n)\nf = x / 1"
    ),
    Rule(
        "identity-product",
        ("matmul",),
        "I @ A = A = A @ I",
        _identity_product,
        None,
        "A : matrix(n, n)\nf = I(n) @ A",
    ),
    Rule("power-one", ("pow",), "a .^ 1 = a", _power_one, None, "x : vector(n)\nf = x .^ 1"),
    Rule(
        "add-negative",
        ("add", "sub"),
        "a + (-b) = a - b; a - (-b) = a + b; (-a) + b = b - a",
        _add_negative,
        None,
        "x, y : vector(n)\nf = x + -y",
    ),
    Rule(
        "negation-out-of-products",
        ("mul", "matmul", "div", "frob"),
        "(-a) * b = -(a * b), likewise for @ / :",
        _negation_out_of_products,
        None,
        "x, y : vector(n)\nf = -x * y",
    ),
    Rule(
        "sum-of-centred",
        ("sum",),
        "sum(c * (X - mean(X))) = 0 for a scalar c",
        _sum_of_centred,
        None,
        "x : vector(n); c : scalar\nf = sum(c * (x - mean(x)))",
    ),
    Rule(
        "mean-of-entries",
        ("div",),
        "sum(X) / N = mean(X), (A : B) / N = mean(A * B), N the number of entries",
        _mean_of_entries,
        None,
        "x : vector(n)\nf = sum(x) / n",
    ),
    Rule(
        "kron-mixed-product",
        ("matmul",),
        "kron(A, B) @ kron(C, D) = kron(A @ C, B @ D) (Magnus & Neudecker 2019, ch. 2)",
        _kron_mixed_product,
        None,
        "A : matrix(m, n); B : matrix(p, q); C : matrix(n, r); D : matrix(q, s)\n"
        "f = kron(A, B) @ kron(C, D)",
    ),
    Rule(
        "transpose-of-transpose",
        ("transpose",),
        "(A')' = A; a scalar, I and Diag(x) are their own transposes",
        _transpose_of_transpose,
        None,
        "A : matrix(m, n)\nf = A''",
    ),
    Rule(
        "transpose-of-symmetric",
        ("transpose",),
        "S' = S for a symmetric S",
        _transpose_of_symmetric,
        "symmetric",
        "S : matrix(n, n) symmetric\nf = S'",
    ),
    Rule(
        "transpose-of-product",
        ("transpose",),
        "(A @ B)' = B' @ A'; (c A)' = c A'; (A / s)' = A' / s; (-A)' = -A'",
        _transpose_of_product,
        None,
        "A : matrix(m, n); x : vector(n)\nf = (A @ x)'",
    ),
    Rule(
        "transpose-out-of-sum",
        ("add", "sub"),
        "A' + B' = (A + B)'; A' - B' = (A - B)'",
        _transpose_out_of_sum,
        None,
        "x, y : vector(n)\nf = x' - y'",
    ),
    Rule(
        "times-reciprocal",
        ("mul",),
        "a * (1 / b) = a / b",
        _times_reciprocal,
        None,
        "x, y : vector(n)\nf = x * (1 / y)",
    ),
    Rule(
        "cancel-quotient",
        ("mul",),
        "a * (b / a) = b where a > 0",
        _cancel_quotient,
        "positive",
        "a, b : vector(n) positive\nf = a * (b / a)",
    ),
    Rule(
        "cancel-norm",
        ("mul",),
        "norm(A) * (b / norm(A)) = b wherever the left side is defined",
        _cancel_norm,
        None,
        "x, y : vector(n)\nf = norm2(x) * (y / norm2(x))",
    ),
    Rule(
        "cancel-in-scalar-product",
        ("mul",),
        "(c s) * (b / s) = c * b for s > 0 or a norm (wherever the left side is defined)",
        _cancel_in_scalar_product,
        "positive",
        "a, b : vector(n); c, s : scalar positive\nf = (c * s) * (b / s)",
    ),
    Rule(
        "scalar-division-out",
        ("mul",),
        "(a / s) * b = (a * b) / s for a scalar s",
        _scalar_division_out,
        None,
        "x, y : vector(n); s : scalar positive\nf = (x / s) * y",
    ),
    Rule(
        "constants-together",
        ("mul",),
        "c1 (c2 a) = (c1 c2) a; (c a) b = c (a b); a c = c a",
        _constants_together,
        None,
        "x : vector(n)\nf = 2 * (3 * x)",
    ),
    Rule(
        "scalar-out-of-product",
        ("matmul",),
        "A @ (c B) = c (A @ B) = (c A) @ B for a scalar c",
        _scalar_out_of_product,
        None,
        "A : matrix(m, n); x : vector(n); c : scalar\nf = A @ (c * x)",
    ),
    Rule(
        "quotient-out-of-product",
        ("matmul", "Diag"),
        "(A / s) @ B = (A @ B) / s = A @ (B / s); Diag(a / s) = Diag(a) / s, s a scalar",
        _quotient_out_of_product,
        None,
        "A : matrix(m, n); x : vector(n); s : scalar\nf = A @ (x / s)",
    ),
    Rule(
        "diag-times-vector",
        ("matmul",),
        "Diag(a) @ b = a * b",
        _diag_times_vector,
        None,
        "a, b : vector(n)\nf = Diag(a) @ b",
    ),
    Rule(
        "diag-of-ones",
        ("matmul",),
        "Diag(1) @ B = B; Diag(-a) @ B = -(Diag(a) @ B)",
        _diag_of_ones,
        None,
        "B : matrix(n, m)\nf = Diag(ones(n)) @ B",
    ),
    Rule(
        "diagonal-of-diag",
        ("diag",),
        "diag(Diag(x)) = x",
        _diagonal_of_diag,
        None,
        "x : vector(n)\nf = diag(Diag(x))",
    ),
    Rule(
        "diag-of-scalar",
        ("Diag",),
        "Diag(s) = s for a scalar s",
        _diag_of_scalar,
        None,
        "s : scalar\nf = Diag(s)",
    ),
    Rule(
        "inner-product-with-quotient",
        ("matmul",),
        "a' @ (b / a) = sum(b) where a > 0",
        _inner_product_with_quotient,
        "positive",
        "a, b : vector(n) positive\nf = a' @ (b / a)",
    ),
    Rule(
        "sum-of-simplex",
        ("sum",),
        "sum(y) = 1 for y on the simplex; sum(Y) = rows(Y) for rows on it",
        _sum_of_simplex,
        "simplex",
        "y : vector(n) simplex\nf = sum(y)",
    ),
    Rule(
        "row-sums-of-simplex",
        ("matmul",),
        "Y @ 1 = 1 when each row of Y is on the simplex",
        _row_sums_of_simplex,
        "simplex",
        "Y : matrix(m, n) simplex\nf = Y @ ones(n)",
    ),
    Rule(
        "like-terms",
        ("add", "sub"),
        "a + a = 2 a; a - a = 0",
        _like_terms,
        None,
        "x : vector(n)\nf = x + x",
    ),
    Rule(
        "common-divisor",
        ("add", "sub"),
        "a / s + b / s = (a + b) / s; a / s - b / s = (a - b) / s",
        _common_divisor,
        None,
        "x, y : vector(n); s : scalar\nf = x / s - y / s",
    ),
    Rule(
        "common-factor",
        ("add", "sub"),
        "A @ B + A @ C = A @ (B + C); B @ A + C @ A = (B + C) @ A; c a + c b = c (a + b)",
        _common_factor,
        None,
        "A, B : matrix(n, n); x : vector(n)\nf = A @ x + B @ x",
    ),
)

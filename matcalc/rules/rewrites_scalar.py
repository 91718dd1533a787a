"""Rewrites of arithmetic: zeros and ones, signs, numbers, quotients, sums and assumptions."""

from __future__ import annotations

import math

from ..core import ir
from ..core.algebra import chain, zeros_like
from ..core.ir import Node
from .facts import Facts
from .rewrite import (
    absorbed_negation,
    apply,
    const,
    rule,
    same_shape,
    scalar_factors,
    zero,
)


@rule(
    'absorbed-negation',
    ops=('neg',),
    example='x, y, z : vector(n); s : scalar positive\nf = -(z * (x - y) / s)',
)
def negation_absorbed(node: Node, facts: Facts) -> Node | None:
    """-(x * (a - b)) = x * (b - a); -(c x) = (-c) x; -(a / s) = (-a) / s."""
    return absorbed_negation(node.args[0])


@rule('negative-multiple', ops=('add', 'sub', 'mul'), example='x, y : vector(n)\nf = x - -2 * y')
def negative_multiple(node: Node, facts: Facts) -> Node | None:
    """a - (c b) = a + (-c) b for a number c < 0, and so for (c b) / d; -1 * a = -a."""
    if node.op == "mul":
        a, b = node.args
        if const(a, -1.0) and same_shape(b, node):
            return apply("neg", b)
        return None
    a, b = node.args
    flipped = _flipped_number(b)
    if flipped is not None:
        return apply("add" if node.op == "sub" else "sub", a, flipped)
    return None


def _flipped_number(term: Node) -> Node | None:
    """c b (or (c b) / d) with its number c < 0 negated; None when it has no such number."""
    if term.op == "mul" and const(term.args[0]) and term.args[0].params[0] < 0:
        return apply("mul", ir.const(-term.args[0].params[0], infinite=True), term.args[1])
    if term.op == "div" and (top := _flipped_number(term.args[0])) is not None:
        return apply("div", top, term.args[1])
    return None


@rule(
    'constant-arithmetic',
    ops=('add', 'sub', 'mul', 'div', 'matmul', 'neg'),
    example='f = 2 * 3 - 1',
)
def constant_arithmetic(node: Node, facts: Facts) -> Node | None:
    """arithmetic on numbers is done."""
    if not all(const(arg) for arg in node.args):
        return None
    values = [arg.params[0] for arg in node.args]
    if node.op == "neg":
        return ir.const(-values[0], infinite=True)  # -(-inf) of where(M, S, -inf) is inf
    if not all(math.isfinite(value) for value in values):
        return None
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


@rule('times-one', ops=('mul',), example='x : vector(n)\nf = ones(n) * x')
def times_one(node: Node, facts: Facts) -> Node | None:
    """1 * a = a (I(1) is 1 too); ones * A = A."""
    a, b = node.args

    def one(factor: Node) -> bool:
        return const(factor, 1.0) or (factor.op == "identity" and factor.is_scalar)

    if one(a) or (a.op == "ones" and same_shape(a, node)):
        return b if same_shape(b, node) else None
    if one(b) or (b.op == "ones" and same_shape(b, node)):
        return a if same_shape(a, node) else None
    return None


@rule('times-zero', ops=('mul', 'matmul', 'div', 'Diag'),
      example='x : vector(n)\nf = zeros(n, 1) * x')
def timeszero(node: Node, facts: Facts) -> Node | None:
    """0 * a = 0; 0 / a = 0; Diag(0) = 0."""
    if any(zero(arg) for arg in (node.args[:1] if node.op == "div" else node.args)):
        return zeros_like(node)
    return None


@rule('plus-zero', ops=('add', 'sub'), example='x : vector(n)\nf = x + 0')
def pluszero(node: Node, facts: Facts) -> Node | None:
    """a + 0 = a; 0 - a = -a; c + 0 = c 1 when the zero gives the shape."""
    a, b = node.args
    if zero(b) and same_shape(a, node):
        return a
    if zero(b) and const(a) and not node.is_scalar:
        ones = ir.ones(node.shape.rows, node.shape.cols, node.kind)
        return ones if const(a, 1.0) else apply("mul", a, ones)
    if zero(a) and same_shape(b, node):
        return b if node.op == "add" else apply("neg", b)
    return None


@rule('divided-by-one', ops=('div',), example='x : vector(n)\nf = x / 1')
def divided_by_one(node: Node, facts: Facts) -> Node | None:
    """a / 1 = a."""
    return node.args[0] if const(node.args[1], 1.0) else None


@rule('power-one', ops=('pow',), example='x : vector(n)\nf = x .^ 1')
def power_one(node: Node, facts: Facts) -> Node | None:
    """a .^ 1 = a."""
    return node.args[0] if const(node.args[1], 1.0) else None


@rule('add-negative', ops=('add', 'sub'), example='x, y : vector(n)\nf = x + -y')
def add_negative(node: Node, facts: Facts) -> Node | None:
    """a + (-b) = a - b; a - (-b) = a + b; (-a) + b = b - a."""
    a, b = node.args
    if b.op == "neg":
        return apply("sub" if node.op == "add" else "add", a, b.args[0])
    if a.op == "neg" and node.op == "add":
        return apply("sub", b, a.args[0])
    return None


@rule(
    'negation-out-of-products',
    ops=('mul', 'matmul', 'div', 'frob'),
    example='x, y : vector(n)\nf = -x * y',
)
def negation_out_of_products(node: Node, facts: Facts) -> Node | None:
    """(-a) * b = -(a * b), likewise for @ / :."""
    a, b = node.args
    if a.op == "neg" and b.op == "neg":
        return apply(node.op, a.args[0], b.args[0])
    if a.op == "neg":
        return apply("neg", apply(node.op, a.args[0], b))
    if b.op == "neg":
        return apply("neg", apply(node.op, a, b.args[0]))
    return None


@rule(
    'sum-of-centred',
    ops=('sum',),
    example='x : vector(n); c : scalar\nf = sum(c * (x - mean(x)))',
)
def sum_of_centred(node: Node, facts: Facts) -> Node | None:
    """sum(c * (X - mean(X))) = 0 for a scalar c."""
    return ir.const(0.0) if facts.centred(node.args[0]) else None


@rule(
    'column-sums-of-centred',
    ops=('matmul',),
    example="X : matrix(N, d); c : scalar\nmu = mean(X, 0)\nf = ones(N)' @ (c * (X - mu))",
)
def column_sums_of_centred(node: Node, facts: Facts) -> Node | None:
    """1' @ (c * (X - mean(X, 0))) = 0 for a scalar c: a centred batch's columns sum to 0 (also
    at the end of a product, A @ 1' @ C)."""
    a, b = node.args
    last = a.args[1] if a.op == "matmul" else a
    if last.op == "transpose" and last.args[0].op == "ones" and facts.column_centred(b):
        return ir.zeros(node.shape.rows, node.shape.cols, node.kind)
    return None


@rule('mean-of-entries', ops=('div',), example='x : vector(n)\nf = sum(x) / n')
def mean_of_entries(node: Node, facts: Facts) -> Node | None:
    """sum(X) / N = mean(X), (A : B) / N = mean(A * B), N the number of entries."""
    top, bottom = node.args
    if bottom.op != "dimval" or top.op not in ("sum", "frob"):
        return None
    inner = top.args[0] if top.op == "sum" else apply("mul", *top.args)
    if inner.is_scalar or bottom.params[0] != inner.shape.rows * inner.shape.cols:
        return None
    return apply("mean", inner)


@rule('times-reciprocal', ops=('mul',), example='x, y : vector(n)\nf = x * (1 / y)')
def times_reciprocal(node: Node, facts: Facts) -> Node | None:
    """a * (1 / b) = a / b."""
    a, b = node.args
    if b.op == "div" and const(b.args[0], 1.0) and same_shape(a, node):
        return apply("div", a, b.args[1])
    if a.op == "div" and const(a.args[0], 1.0) and same_shape(b, node):
        return apply("div", b, a.args[1])
    return None


@rule(
    'cancel-quotient',
    ops=('mul',),
    needs='positive',
    example='a, b : vector(n) positive\nf = a * (b / a)',
)
def cancel_quotient(node: Node, facts: Facts) -> Node | None:
    """a * (b / a) = b where a > 0."""
    a, b = node.args
    for factor, quotient in ((a, b), (b, a)):
        if quotient.op == "div" and quotient.args[1] is factor and facts.positive(factor):
            kept = quotient.args[0]
            if same_shape(kept, node):
                return kept
    return None


@rule('cancel-norm', ops=('mul',), example='x, y : vector(n)\nf = norm2(x) * (y / norm2(x))')
def cancel_norm(node: Node, facts: Facts) -> Node | None:
    """norm(A) * (b / norm(A)) = b wherever the left side is defined."""
    a, b = node.args
    for factor, quotient in ((a, b), (b, a)):
        if quotient.op == "div" and quotient.args[1] is factor and factor.op in ("norm",
                                                                                  "norm2"):
            kept = quotient.args[0]
            if same_shape(kept, node):
                return kept
    return None


@rule(
    'cancel-in-scalar-product',
    ops=('mul',),
    needs='positive',
    example='a, b : vector(n); c, s : scalar positive\nf = (c * s) * (b / s)',
)
def cancel_in_scalar_product(node: Node, facts: Facts) -> Node | None:
    """(c s) * (b / s) = c * b for s > 0 or a norm (wherever the left side is defined)"""
    a, b = node.args
    for product, quotient in ((a, b), (b, a)):
        if quotient.op != "div" or product.op != "mul" or not product.is_scalar:
            continue
        divisor = quotient.args[1]
        factors = scalar_factors(product)
        if divisor not in factors or not (
                divisor.op in ("norm", "norm2") or facts.positive(divisor)):
            continue
        factors.remove(divisor)
        rest = factors[0]
        for factor in factors[1:]:
            rest = apply("mul", rest, factor)
        result = apply("mul", rest, quotient.args[0])
        if same_shape(result, node):
            return result
    return None


@rule(
    'scalar-division-out',
    ops=('mul',),
    example='x, y : vector(n); s : scalar positive\nf = (x / s) * y',
)
def scalar_division_out(node: Node, facts: Facts) -> Node | None:
    """(a / s) * b = (a * b) / s for a scalar s."""
    a, b = node.args
    if a.op == "div" and a.args[1].is_scalar and not a.is_scalar and not b.is_scalar:
        return apply("div", apply("mul", a.args[0], b), a.args[1])
    return None


@rule('constants-together', ops=('mul',), example='x : vector(n)\nf = 2 * (3 * x)')
def constants_together(node: Node, facts: Facts) -> Node | None:
    """c1 (c2 a) = (c1 c2) a; (c a) b = c (a b); a (c b) = c (a b); a c = c a."""
    a, b = node.args
    if const(a) and b.op == "mul" and const(b.args[0]):
        return apply("mul", ir.const(a.params[0] * b.args[0].params[0]), b.args[1])
    if a.op == "mul" and const(a.args[0]) and not const(b):
        return apply("mul", a.args[0], apply("mul", a.args[1], b))  # (c a) b = c (a b)
    if b.op == "mul" and const(b.args[0]) and not const(a):
        return apply("mul", b.args[0], apply("mul", a, b.args[1]))  # a (c b) = c (a b)
    if const(b) and not const(a):
        return apply("mul", b, a)  # numbers first: 2 * x
    return None


@rule('sum-of-simplex', ops=('sum',), needs='simplex', example='y : vector(n) simplex\nf = sum(y)')
def sum_of_simplex(node: Node, facts: Facts) -> Node | None:
    """sum(y) = 1 for y on the simplex; sum(Y) = rows(Y) for rows on it."""
    a = node.args[0]
    if facts.simplex(a):
        return ir.const(1.0)
    if facts.row_simplex(a):
        rows = a.shape.rows
        return ir.const(float(rows.coefficient)) if rows.is_number else ir.dimval(rows)
    return None


@rule('like-terms', ops=('add', 'sub'), example='x : vector(n)\nf = x + x')
def like_terms(node: Node, facts: Facts) -> Node | None:
    """a + a = 2 a; a - a = 0 (a matrix product the same however it is bracketed)."""
    a, b = node.args
    if a is not b and not (a.op == b.op == "matmul" and chain(a) == chain(b)):
        return None
    return apply("mul", ir.const(2.0), a) if node.op == "add" else zeros_like(node)


@rule(
    'common-divisor',
    ops=('add', 'sub'),
    example='x, y : vector(n); s : scalar\nf = x / s - y / s',
)
def common_divisor(node: Node, facts: Facts) -> Node | None:
    """a / s + b / s = (a + b) / s; a / s - b / s = (a - b) / s."""
    a, b = node.args
    if a.op == "div" and b.op == "div" and a.args[1] is b.args[1] and \
            same_shape(a.args[0], b.args[0]):
        return apply("div", apply(node.op, a.args[0], b.args[0]), a.args[1])
    return None


def _factors(node: Node) -> list[Node]:
    """The factors of an elementwise product, nested products flattened (iteratively)."""
    found, pending = [], [node]
    while pending:
        item = pending.pop()
        if item.op == "mul":
            pending.extend(reversed(item.args))
        else:
            found.append(item)
    return found


def _product_of(factors: list[Node], like: Node) -> Node | None:
    """The product of ``factors`` with the shape of ``like`` (None when it cannot have it)."""
    if not factors:
        return ones_like_node(like)
    product = factors[0]
    for factor in factors[1:]:
        product = apply("mul", product, factor)
    if not same_shape(product, like):
        product = apply("mul", product, ones_like_node(like)) if product.is_scalar else None
    return product


@rule('square-of-pm1', ops=('mul',), needs='pm1',
      example='y : vector(n) pm1; x : vector(n)\nf = y * (x * y)')
def square_of_pm1(node: Node, facts: Facts) -> Node | None:
    """y * y = 1 for y with entries +-1, wherever the two stand in a product: y * (a * y) = a."""
    factors = _factors(node)
    for index, factor in enumerate(factors):
        if facts.pm1(factor) and factor in factors[index + 1:]:
            rest = factors[:index] + factors[index + 1:]
            rest.remove(factor)
            return _product_of(rest, node)
    return None


def ones_like_node(node: Node) -> Node:
    if node.is_scalar:
        return ir.const(1.0)
    return ir.ones(node.shape.rows, node.shape.cols, node.kind)


@rule('sigmoid-complement', ops=('sub',), example='t : vector(n)\nf = 1 - sigmoid(t)')
def sigmoid_complement(node: Node, facts: Facts) -> Node | None:
    """1 - sigmoid(t) = sigmoid(-t); sigmoid(t) - 1 = -sigmoid(-t)."""
    a, b = node.args
    if (const(a, 1.0) or a.op == "ones") and b.op == "sigmoid" and same_shape(b, node):
        return apply("sigmoid", apply("neg", b.args[0]))
    if (const(b, 1.0) or b.op == "ones") and a.op == "sigmoid" and same_shape(a, node):
        return apply("neg", apply("sigmoid", apply("neg", a.args[0])))
    return None


def _negatives(a: Node, b: Node) -> bool:
    """Whether a = -b (also c * t and -c * t for a number c)."""
    if (a.op == "neg" and a.args[0] is b) or (b.op == "neg" and b.args[0] is a):
        return True
    return a.op == b.op == "mul" and const(a.args[0]) and const(b.args[0]) and \
        a.args[1] is b.args[1] and a.args[0].params[0] == -b.args[0].params[0]


@rule('exp-times-logistic', ops=('mul',),
      example='t : vector(n); a : vector(n)\nf = a * (exp(t) * sigmoid(-t))')
def exp_times_logistic(node: Node, facts: Facts) -> Node | None:
    """exp(t) * sigmoid(-t) = sigmoid(t), wherever the two stand in a product."""
    factors = _factors(node)
    for exponential in factors:
        if exponential.op != "exp":
            continue
        for logistic in factors:
            if logistic.op == "sigmoid" and same_shape(logistic, exponential) and \
                    _negatives(logistic.args[0], exponential.args[0]):
                rest = list(factors)
                rest.remove(exponential)
                rest.remove(logistic)
                return _product_of(rest + [apply("sigmoid", exponential.args[0])], node)
    return None


def _multiple(node: Node) -> tuple[float, Node]:
    """(c, a) for c * a with c a number, else (1, node)."""
    if node.op == "mul" and const(node.args[0]) and same_shape(node.args[1], node):
        return node.args[0].params[0], node.args[1]
    return 1.0, node


@rule('collected-multiples', ops=('add', 'sub'),
      example='x : vector(n)\nf = 2 * x + 3 * x')
def collected_multiples(node: Node, facts: Facts) -> Node | None:
    """c1 a + c2 a = (c1 + c2) a; c1 a - c2 a = (c1 - c2) a (c1, c2 numbers)."""
    (first, a), (second, b) = _multiple(node.args[0]), _multiple(node.args[1])
    if a is not b or (first == 1.0 and second == 1.0) or not same_shape(a, node):
        return None
    total = first + second if node.op == "add" else first - second
    if total == 0:
        return zeros_like(node)
    return a if total == 1 else apply("mul", ir.const(total), a)


@rule('reciprocal-constant', ops=('mul',), example='x : vector(n)\nf = (1 / 6) * x')
def reciprocal_constant(node: Node, facts: Facts) -> Node | None:
    """c a = a / k for c = 1 / k, k a whole number whose reciprocal is not a short decimal
    (x / 6 rather than 0.16666666666666666 * x)."""
    c, a = _multiple(node)
    if c in (1.0, 0.0) or a is node:
        return None
    k = 1 / c
    if abs(k) > 10_000 or k != round(k) or len(repr(abs(c))) <= 6:
        return None
    quotient = apply("div", a, ir.const(abs(round(k))))
    return quotient if k > 0 else apply("neg", quotient)


@rule('step-of-zero', ops=('step',), example='x : vector(n)\nf = step(x - x)')
def step_of_zero(node: Node, facts: Facts) -> Node | None:
    """step(0) = 0 (step is 1 where its argument is > 0)."""
    return zeros_like(node) if zero(node.args[0]) else None

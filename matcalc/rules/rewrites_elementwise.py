"""Elementwise (Hadamard) algebra in its textbook normal form: ones as the number 1, repeated
factors as powers, powers of powers joined."""

from __future__ import annotations

import math

from ..core import ir
from ..core.constants import is_whole
from ..core.ir import Node
from ..core.shapes import Kind
from .facts import Facts
from .rewrite import apply, const, rule, same_shape
from .rewrites_scalar import ones_like_node


@rule('ones-as-one', ops=('add', 'sub', 'div'), example='y : vector(n)\nf = ones(n) - y')
def ones_as_one(node: Node, facts: Facts) -> Node | None:
    """ones + a = 1 + a; ones - a = 1 - a; a - ones = a - 1; ones / a = 1 / a, for an a of the
    shape of ones, itself not uniform and entry by entry (not a matrix product: ones(n, n) -
    A @ B stays, a sum of matrices); a number's multiple of ones likewise: c ones - a = c - a,
    and c ones - c a = c (1 - a)."""
    a, b = node.args
    if _uniform(a) is not None and _entrywise(b, node, facts):
        return _number_shared(node.op, _uniform(a), b, True)
    if _uniform(b) is not None and _entrywise(a, node, facts) and node.op != "div":
        return _number_shared(node.op, _uniform(b), a, False)
    return None


def _number_shared(op: str, number: Node, other: Node, first: bool) -> Node:
    """number op other (other op number when not ``first``), the number taken out of both
    terms where the other term is a multiple of it: 1/2 - 1/2 * a = 1/2 * (1 - a)."""
    rest = _without(other, number) if op in ("add", "sub") and not const(number, 1.0) else None
    if rest is None:
        return apply(op, *((number, other) if first else (other, number)))
    one = ir.const(1.0)
    return apply("mul", number, apply(op, *((one, rest) if first else (rest, one))))


def _without(node: Node, number: Node) -> Node | None:
    """``node`` divided by ``number`` where it is number * rest (or that over a divisor)."""
    if node.op == "mul" and node.args[0] is number:
        return node.args[1]
    if node.op == "div" and (top := _without(node.args[0], number)) is not None:
        return apply("div", top, node.args[1])
    return None


def _uniform(node: Node) -> Node | None:
    """The number every entry of ones (1) or of c * ones (c, a number) is; None otherwise."""
    if node.op == "ones":
        return ir.const(1.0)
    if node.op == "mul" and node.args[0].op == "const" and node.args[1].op == "ones":
        return node.args[0]
    return None


@rule('times-ones', ops=('mul',), example="A : matrix(n, m)\nf = A * (ones(n) @ ones(m)')")
def times_ones(node: Node, facts: Facts) -> Node | None:
    """A * (1 1') = A = (1 1') * A, the Hadamard product with a matrix of ones of A's shape."""
    a, b = node.args
    for ones, other in ((a, b), (b, a)):
        if _ones_matrix(ones) and same_shape(other, node):
            return other
    return None


def _ones_matrix(node: Node) -> bool:
    """ones(n, m) or ones(n) @ ones(m)'."""
    if node.op == "ones":
        return node.kind is Kind.MATRIX
    if node.op != "matmul":
        return False
    a, b = node.args
    return a.op == "ones" and a.kind is Kind.VECTOR and b.op == "transpose" and \
        b.args[0].op == "ones" and b.args[0].kind is Kind.VECTOR


def _entrywise(operand: Node, node: Node, facts: Facts) -> bool:
    return same_shape(operand, node) and not facts.uniform(operand) and \
        operand.op not in ("matmul", "transpose", "kron", "identity", "Diag", "zeros")


def _base_power(node: Node) -> tuple[Node, float]:
    """(a, k) for a ^ k with a number k, (a, 1/2) for sqrt(a), else (node, 1)."""
    if node.op == "sqrt":
        return node.args[0], 0.5
    if node.op == "pow" and node.args[1].op == "const":
        return node.args[0], node.args[1].params[0]
    return node, 1.0


def _power(base: Node, k: float, like: Node) -> Node:
    if k == 0:
        return ones_like_node(like)
    if k in (-1, -0.5):  # 1 / a, 1 / sqrt(a)
        return apply("div", ir.const(1.0), _power(base, -k, like))
    if k == 1:
        return base
    return apply("sqrt", base) if k == 0.5 else apply("pow", base, ir.const(k))


@rule('repeated-factor', ops=('mul', 'div'), example='x : vector(n)\nf = x * x')
def repeated_factor(node: Node, facts: Facts) -> Node | None:
    """a ^ j * a ^ k = a ^ (j + k); a ^ j / a ^ k = a ^ (j - k), also where a ^ j is any factor
    of a product or quotient ((x * a) * a = x * a ^ 2, (x / a) / a = x / a ^ 2); sqrt(a) is
    a ^ 1/2 (a >= 0 where it is defined, a != 0 where it divides or has a negative power); with
    a symbolic exponent too: a .^ (g - 1) * a = a .^ g."""
    a, b = node.args
    base, k = _base_power(b)
    sign = 1 if node.op == "mul" else -1
    factors = _chain_factors(a)
    for index, (factor, inner_sign) in enumerate(factors):
        first, j = _base_power(factor)
        if _symbolic(factor) or _symbolic(b):
            joined = _symbolic_joined((factor, inner_sign), (b, sign))
            if joined is not None and same_shape(factor, b):
                rebuilt = _product(factors[:index] + factors[index + 1:] + [joined])
                return rebuilt if same_shape(rebuilt, node) else None
            continue
        if first is base and same_shape(factor, b):
            total = inner_sign * j + sign * k
            rest = factors[:index] + factors[index + 1:]
            if total != 0:
                rest.append((_power(base, abs(total), b), 1 if total > 0 else -1))
            rebuilt = _product(rest)
            return rebuilt if same_shape(rebuilt, node) or rebuilt.is_scalar is node.is_scalar \
                else None
    return None


def _symbolic(node: Node) -> bool:
    """A power whose exponent is not a number: a .^ g."""
    return node.op == "pow" and node.args[1].op != "const"


def _power_parts(node: Node) -> tuple[Node, Node]:
    """(a, k) for a ^ k, the exponent a node."""
    if _symbolic(node):
        return node.args[0], node.args[1]
    base, k = _base_power(node)
    return base, ir.const(k)


def _symbolic_joined(first: tuple[Node, int], second: tuple[Node, int]
                     ) -> tuple[Node, int] | None:
    """Two factors (1) or divisors (-1) that are powers of one base, one exponent symbolic, as
    one: (a .^ j, 1) and (a, 1) is (a .^ (j + 1), 1); None for other bases."""
    (one, one_sign), (other, other_sign) = first, second
    (base, j), (again, k) = _power_parts(one), _power_parts(other)
    if base is not again:
        return None
    if one_sign == other_sign:
        return apply("pow", base, apply("add", j, k)), one_sign
    up, down = (j, k) if one_sign > 0 else (k, j)
    return apply("pow", base, apply("sub", up, down)), 1


def _chain_factors(node: Node) -> list[tuple[Node, int]]:
    """The factors of a product or quotient of entries, with 1 for a factor and -1 for a
    divisor (a divisor is kept whole)."""
    if node.op == "mul":
        return _chain_factors(node.args[0]) + _chain_factors(node.args[1])
    if node.op == "div":
        return _chain_factors(node.args[0]) + [(node.args[1], -1)]
    return [(node, 1)]


def _product(factors: list[tuple[Node, int]]) -> Node:
    """The factors multiplied in order, then the divisors divided (1 when there are none)."""
    product: Node | None = None
    for factor, sign in factors:
        if sign > 0:
            product = factor if product is None else apply("mul", product, factor)
    product = product if product is not None else ir.const(1.0)
    for factor, sign in factors:
        if sign < 0:
            product = apply("div", product, factor)
    return product


@rule('negative-power-as-quotient', ops=('mul',), example='x, y : vector(n)\nf = x .^ -2 * y')
def negative_power_as_quotient(node: Node, facts: Facts) -> Node | None:
    """a ^ -k * b = b / a ^ k; b * a ^ -k = b / a ^ k (for a number k > 0)."""
    for index in (0, 1):
        power, other = node.args[index], node.args[1 - index]
        base, k = _base_power(power)
        if power.op == "pow" and k < 0:
            return apply("div", other, _power(base, -k, power))
    return None


@rule('power-of-power', ops=('pow',), example='p : vector(n) positive\nf = sqrt(p) .^ 3')
def power_of_power(node: Node, facts: Facts) -> Node | None:
    """(a ^ j) ^ k = a ^ (j k) for whole k, or where a >= 0 (sqrt(a) ^ 3 = a ^ 1.5: sqrt's
    argument is >= 0 where it is defined; (a ^ 2) ^ 0.5 is |a|, so that one stays)."""
    inner, exponent = node.args
    base, j = _base_power(inner)
    if base is inner or exponent.op != "const":
        return None
    k = exponent.params[0]
    if not math.isfinite(j * k):  # (x .^ 1e200) .^ 1e200: no number says it
        return None
    if is_whole(k) or not is_whole(j) or facts.nonnegative(base):
        return _power(base, j * k, node)
    return None


@rule('size-of-ones', ops=('sum', 'mean'), example='x : vector(N)\nf = sum(ones(N))')
def size_of_ones(node: Node, facts: Facts) -> Node | None:
    """sum(ones(m, n)) = m n; mean(ones(m, n)) = 1 (and so ones(N)' @ ones(N) = N)."""
    inner = node.args[0]
    if inner.op != "ones" or not node.is_scalar:
        return None
    rows, cols = inner.params
    return ir.dimval(rows * cols) if node.op == "sum" else ir.const(1.0)


@rule('scale-out-of-sum', ops=('sum', 'mean', 'tr', 'diag'),
      example='x : vector(n); s : scalar positive; A : matrix(n, n)\n'
              'f = mean(x / s) + tr(s * A) + sum(diag((s / 2) * A))')
def scale_out_of_sum(node: Node, facts: Facts) -> Node | None:
    """sum(c * v) = c * sum(v) and sum(v / c) = sum(v) / c for a scalar c (not a number: sum(2 *
    x) stays); the same for mean, the trace and the diagonal (all are linear):
    diag((N / 2) * A) = (N / 2) * diag(A)."""
    inner = node.args[0]
    if inner.is_scalar or inner.op not in ("mul", "div") or node.params:
        return None
    a, b = inner.args
    if inner.op == "div" and b.is_scalar:
        return apply("div", apply(node.op, a), b)
    if inner.op == "mul" and a.is_scalar and a.op != "const" and not b.is_scalar:
        return apply("mul", a, apply(node.op, b))
    return None


def _exponent(node: Node) -> Node | None:
    """t for exp(t), 0 for the number 1 or ones (1 = exp(0)), else None."""
    if node.op == "exp":
        return node.args[0]
    return ir.const(0.0) if const(node, 1.0) or node.op == "ones" else None


def _exponentials(node: Node) -> tuple[Node, Node] | None:
    """(a, b) for exp(a) + exp(b), not both numbers; else None."""
    if node.op != "add":
        return None
    a, b = (_exponent(arg) for arg in node.args)
    if a is None or b is None or (a.op == "const" and b.op == "const"):
        return None
    return a, b


def _difference(a: Node, b: Node) -> Node:
    """a - b, without a zero term."""
    if const(b, 0.0):
        return a
    return apply("neg", b) if const(a, 0.0) else apply("sub", a, b)


def _quotient_of_exponentials(node: Node, wanted, form) -> Node | None:
    """``form(a, b)`` in place of a divisor exp(a) + exp(b) and a factor ``wanted(a, b)`` (tried
    either way round) of one product or quotient chain ((x / (1 + e)) * e = x * sigmoid(t))."""
    factors = _chain_factors(node)
    for index, (divisor, sign) in enumerate(factors):
        pair = _exponentials(divisor) if sign < 0 else None
        if pair is None or not same_shape(divisor, node):
            continue
        for a, b in (pair, pair[::-1]):
            target = wanted(a, b)
            match = next((i for i, (factor, s) in enumerate(factors)
                          if s > 0 and factor is target), None)
            if match is not None:
                rest = [item for i, item in enumerate(factors) if i not in (index, match)]
                rebuilt = _product(rest + [(form(a, b), 1)])
                return rebuilt if same_shape(rebuilt, node) else None
    return None


def _power_of_e(t: Node) -> Node:
    return ir.const(1.0) if const(t, 0.0) else apply("exp", t)


@rule('logistic-quotient', ops=('mul', 'div'),
      example='t, u, a : vector(n)\nf = (a * exp(t)) / (exp(t) + exp(u))')
def logistic_quotient(node: Node, facts: Facts) -> Node | None:
    """exp(a) / (exp(a) + exp(b)) = sigmoid(a - b), the softmax of two entries; with 1 =
    exp(0): e / (1 + e) = sigmoid(t) and 1 / (1 + e) = sigmoid(-t) for e = exp(t); other
    factors of a product or quotient chain stay ((c / (1 + e)) * e = c * sigmoid(t))."""
    return _quotient_of_exponentials(node, lambda a, b: _power_of_e(a),
                                     lambda a, b: apply("sigmoid", _difference(a, b)))


@rule('hyperbolic-quotient', ops=('mul', 'div'),
      example='t : vector(n)\nf = (exp(t) - exp(-t)) / (exp(t) + exp(-t))')
def hyperbolic_quotient(node: Node, facts: Facts) -> Node | None:
    """(exp(a) - exp(b)) / (exp(a) + exp(b)) = tanh((a - b) / 2) (multiply through by
    exp(-(a + b) / 2)): (exp(t) - exp(-t)) / (exp(t) + exp(-t)) = tanh(t), (exp(2 t) - 1) /
    (exp(2 t) + 1) = tanh(t); other factors of a product or quotient chain stay."""
    return _quotient_of_exponentials(
        node, lambda a, b: apply("sub", _power_of_e(a), _power_of_e(b)),
        lambda a, b: apply("tanh", apply("div", _difference(a, b), ir.const(2.0))))


def _affine(node: Node) -> tuple[float, float, Node] | None:
    """(c, k, x) with node = c + k x for a number c and k = +-1: 1 - p -> (1, -1, p); else
    None."""
    if node.op not in ("add", "sub"):
        return None
    a, b = node.args
    k = 1.0 if node.op == "add" else -1.0
    if const(a):
        return a.params[0], k, b
    if const(b):
        return k * b.params[0], 1.0, a
    return None


def _through_name(node: Node, facts: Facts) -> tuple[float, Node] | None:
    """(k, F) with node = k F by a definition the problem named: c - p = F for p = c - F
    (1 - p = exp(-e) for p = 1 - exp(-e)); else None."""
    outer = _affine(node)
    if outer is None or outer[2].op != "ref":
        return None
    c, k, name = outer
    inner = _affine(facts._resolve(name))
    if inner is None or c + k * inner[0] != 0:
        return None
    return k * inner[1], inner[2]


@rule('named-complement', ops=('mul', 'div'),
      example='x, a : vector(n)\np = 1 - exp(-x)\nf = a / (1 - p) * exp(-x)')
def named_complement(node: Node, facts: Facts) -> Node | None:
    """F / (c - p) = 1 and (c - p) / F = 1 for p = c - F (more generally c1 + k1 p = k1 k2 F
    for p = c2 + k2 F with c1 + k1 c2 = 0, k1, k2 = +-1), wherever the two stand in a product
    or quotient: a result that divides by the complement of a named quantity and multiplies
    by what it is made of (p = 1 - exp(-e): (1 - y / p) / (1 - p) * exp(-e) = 1 - y / p)."""
    factors = _chain_factors(node)
    for i, (named, sign_i) in enumerate(factors):
        found = _through_name(named, facts)
        if found is None:
            continue
        k, made_of = found
        j = next((j for j, (factor, sign_j) in enumerate(factors)
                  if j != i and sign_j == -sign_i and factor is made_of), None)
        if j is not None and same_shape(named, made_of):
            rest = [item for m, item in enumerate(factors) if m not in (i, j)]
            rebuilt = _product(rest) if rest else ones_like_node(node)
            if not same_shape(rebuilt, node):
                return None
            return rebuilt if k > 0 else apply("neg", rebuilt)
    return None


@rule('piecewise-factor', ops=('mul', 'div'),
      example='r : vector(n); c : scalar\nf = 2 * abs(r) .^ 3 * c / (c + abs(r)) * sign(r)')
def piecewise_factor(node: Node, facts: Facts) -> Node | None:
    """relu(t) ^ k * step(t) = relu(t) ^ k, relu(t) ^ k * sign(t) = relu(t) ^ k (k > 0; also
    maximum(t, 0)): the factor is 1 wherever the other is not 0; abs(t) ^ k * sign(t) =
    abs(t) ^ (k - 1) * t (k >= 1); step(t) ^ k = step(t) (k > 0); abs(t) / t = sign(t) =
    t / abs(t) (t != 0 where it divides).  Each holds at 0 too (step(0) = sign(0) = 0), also
    as factors of a longer product or quotient."""
    if node.op == "div":
        a, b = node.args
        if a.op == "abs" and a.args[0] is b or b.op == "abs" and b.args[0] is a:
            return apply("sign", b if b.op != "abs" else a) if same_shape(a, b) else None
    factors = _chain_factors(node)
    for j, (indicator, sign) in enumerate(factors):
        if indicator.op not in ("step", "sign") or sign < 0:
            continue
        t = indicator.args[0]
        for i, (factor, other_sign) in enumerate(factors):
            base, k = _base_power(factor)
            if i == j or other_sign < 0 or k <= 0 or not same_shape(factor, indicator):
                continue
            if _positive_part(base) is t or (base is indicator and indicator.op == "step"):
                return _product([f for index, f in enumerate(factors) if index != j])
            if base.op == "abs" and base.args[0] is t and indicator.op == "sign" and k >= 1:
                kept = [(_power(base, k - 1, factor), 1) if index == i else (t, 1)
                        if index == j else f for index, f in enumerate(factors)
                        if index != i or k != 1]  # abs(t) ^ 0 = 1: left out
                return _product(kept)
    return None


def _positive_part(node: Node) -> Node | None:
    """t for relu(t), maximum(t, 0) or maximum(0, t); else None."""
    if node.op == "relu":
        return node.args[0]
    if node.op == "maximum":
        a, b = node.args
        if b.op == "const" and b.params[0] == 0:
            return a
        if a.op == "const" and a.params[0] == 0:
            return b
    return None

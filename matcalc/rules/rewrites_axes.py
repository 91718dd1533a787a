"""Reductions along one axis: row sums of a batch centred on its row means, and a mean spread
back over a row (layer normalisation's backward pass: Ba, Kiros & Hinton 2016, eqs. 3-4)."""

from __future__ import annotations

from ..core import ir
from ..core.algebra import chain
from ..core.broadcast import axis_mean
from ..core.functions import FUNCTIONS
from ..core.ir import Node
from ..core.shapes import ONE, Kind
from ..core.spreads import axis_length, spread_of
from .facts import Facts
from .rewrite import apply, rule


@rule(
    'row-sums-of-centred',
    ops=('matmul', 'axis_sum'),
    example="X : matrix(N, d); c : vector(N)\nmu = mean(X, 1)\nf = (c * (X - mu)) @ ones(d)",
)
def row_sums_of_centred(node: Node, facts: Facts) -> Node | None:
    """(c * (X - mean(X, 1))) @ 1 = 0 for c the same along each row: rows centred on their
    means sum to 0; for a tensor, sum(c * (X - expand(mean(X, a), a, n)), a) = 0."""
    if node.op == "axis_sum":
        if not facts.row_centred(node.args[0], node.params[0]):
            return None
        return ir.zeros(node.shape.rows, node.shape.cols, node.kind, node.shape.lead)
    a, b = node.args
    if b.op == "ones" and b.kind is Kind.VECTOR and facts.row_centred(a):
        return ir.zeros(node.shape.rows, node.shape.cols, node.kind)
    return None


@rule('spread-mean', ops=('div',),
      example="X : matrix(N, d)\nf = ((X @ ones(d)) @ ones(d)') / d")
def spread_mean(node: Node, facts: Facts) -> Node | None:
    """(v @ 1') / s = (v / s) @ 1' and (1 @ r) / s = 1 @ (r / s) for a scalar s where v / s is
    a mean along an axis (or v is ones): a column (row) divided, then spread over the rows
    (columns), printed as the broadcast of mean(X, 1) (mean(X, 0)); expand(sum(X, a), b, n) /
    m = expand(mean(X, a), b, n) for m the length of X's axis a."""
    top, divisor = node.args
    if top.op == "expand" and divisor.op == "dimval" and \
            axis_length(top.args[0]) == divisor.params[0]:
        return apply("expand", apply("div", top.args[0], divisor), params=top.params)
    if not divisor.is_scalar or top.op != "matmul":
        return None
    factors = chain(top)
    if len(factors) > 4:
        return None
    if factors[-1].op == "transpose" and factors[-1].args[0].op == "ones":
        column = _product(factors[:-1])
        if column.kind is Kind.VECTOR and _meant(column, divisor):
            return apply("matmul", apply("div", column, divisor), factors[-1])
    if factors[0].op == "ones" and factors[0].kind is Kind.VECTOR:  # 1 @ (r / s)
        row = _product(factors[1:])
        if row.kind is Kind.ROW and _meant(row, divisor):
            return apply("matmul", factors[0], apply("div", row, divisor))
    return None


def _meant(spread: Node, divisor: Node) -> bool:
    """Whether spread / divisor is a mean along an axis, or ones divided (a uniform number)."""
    return axis_mean(apply("div", spread, divisor)) is not None or spread.op == "ones" or (
        spread.op == "transpose" and spread.args[0].op == "ones")


def _product(factors: list[Node]) -> Node:
    product = factors[0]
    for factor in factors[1:]:
        product = apply("matmul", product, factor)
    return product


@rule(
    'scale-out-of-axis-sums',
    ops=('matmul', 'axis_sum'),
    example="M : matrix(N, d); v : vector(N)\nf = (M / (v @ ones(d)')) @ ones(d)",
)
def scale_out_of_axis_sums(node: Node, facts: Facts) -> Node | None:
    """(M * (v @ 1')) @ 1 = v * (M @ 1) and (M / (v @ 1')) @ 1 = (M @ 1) / v: a row scaled
    by one number keeps that number in its sum; 1' @ (M * (1 @ r)) = (1' @ M) * r and
    1' @ (M / (1 @ r)) = (1' @ M) / r for the columns; of a tensor, sum(M * expand(v, a, n), a)
    = v * sum(M, a) and sum(M / expand(v, a, n), a) = sum(M, a) / v (a spread the problem
    named, S = expand(v, a, n), read as its body), and so for a factor NumPy broadcasts along
    a (sum(M / D, 0) = sum(M, 0) / D for D of M's shape less its first axis)."""
    if node.op == "axis_sum":
        (a,) = node.args
        axis = node.params[0]
        if a.op not in ("mul", "div"):
            return None
        found = _spread_factor(a, lambda f: (facts.body(f).op == "expand" and
                                             facts.body(f).params[0] == axis) or
                               _broadcast_along(f, a, axis))
        if found is None:
            return None
        rest, spread, op = found
        kept = spread if _broadcast_along(spread, a, axis) else facts.body(spread).args[0]
        return apply(op, apply("axis_sum", rest, params=node.params), kept)
    a, b = node.args
    if b.op == "ones" and b.kind is Kind.VECTOR and a.op in ("mul", "div"):
        found = _spread_factor(a, lambda f: f.op == "matmul" and _ones_row(f.args[1]) and
                               f.args[0].kind is Kind.VECTOR)
        if found is not None:
            rest, spread, op = found
            return apply(op, apply("matmul", rest, b), spread.args[0])
    if _ones_row(a) and b.op in ("mul", "div"):
        found = _spread_factor(b, lambda f: f.op == "matmul" and f.args[0].op == "ones" and
                               f.args[0].kind is Kind.VECTOR and f.args[1].kind is Kind.ROW)
        if found is not None:
            rest, spread, op = found
            return apply(op, apply("matmul", a, rest), spread.args[1])
    return None


def _broadcast_along(factor: Node, tensor: Node, axis: int) -> bool:
    """Whether NumPy's broadcasting repeats ``factor`` along the axis ``axis`` of ``tensor``
    (a leading axis the factor lacks: a T x d matrix beside a B x T x d tensor, axis 0)."""
    return not factor.is_scalar and axis < len(tensor.shape.dims) - len(factor.shape.dims)


def _ones_row(node: Node) -> bool:
    return node.op == "transpose" and node.args[0].op == "ones" and \
        node.args[0].kind is Kind.VECTOR


def _spread_factor(node: Node, spread) -> tuple[Node, Node, str] | None:
    """(M, S, op) for M * S, S * M (op mul) or M / S (op div) with S spread along the axis
    summed and M a matrix of the node's shape."""
    a, b = node.args
    if node.op == "div" and spread(b) and a.shape == node.shape:
        return a, b, "div"
    if node.op == "mul":
        for rest, factor in ((a, b), (b, a)):
            if spread(factor) and rest.shape == node.shape:
                return rest, factor, "mul"
    return None


@rule(
    'spread-through-entries',
    ops=('pow', 'sqrt', *FUNCTIONS),
    example="v : vector(N) positive; X : matrix(N, d)\nf = (v @ ones(d)') .^ 2",
)
def spread_through_entries(node: Node, facts: Facts) -> Node | None:
    """f(v @ 1') = f(v) @ 1', f(1 @ r) = 1 @ f(r) and f(expand(G, a, n)) = expand(f(G), a, n)
    for an entrywise f (a power by a number, sqrt, exp, ...): spreading copies entries, f acts
    on each copy alike."""
    if node.op == "pow" and not node.args[1].is_scalar:
        return None
    spread = spread_of(node.args[0])
    if spread is None or node.args[0].kind is Kind.VECTOR:
        return None
    inner, again = spread
    return again(apply(node.op, inner, *node.args[1:], params=node.params))


@rule(
    'spreads-together',
    ops=('mul', 'div'),
    example="a, b : vector(N); X : matrix(N, d)\nf = (a @ ones(d)') * (b @ ones(d)')",
)
def spreads_together(node: Node, facts: Facts) -> Node | None:
    """(a @ 1') * (b @ 1') = (a * b) @ 1', (1 @ r) / (1 @ q) = 1 @ (r / q) and
    expand(G, a, n) * expand(H, a, n) = expand(G * H, a, n): two copies spread alike are the
    spread of their entrywise product (quotient)."""
    left, right = (spread_of(arg) for arg in node.args)
    if left is None or right is None or left[0].shape != right[0].shape:
        return None
    together = left[1](right[0])
    if together != node.args[1]:
        return None  # spread another way (along another axis, by other ones)
    return left[1](apply(node.op, left[0], right[0]))


def _terms(node: Node) -> list[tuple[int, Node]]:
    """The terms of a sum or difference with their signs (iteratively)."""
    found, pending = [], [(1, node)]
    while pending:
        sign, item = pending.pop()
        if item.op in ("add", "sub"):
            pending.append((sign if item.op == "add" else -sign, item.args[1]))
            pending.append((sign, item.args[0]))
        elif item.op == "neg":
            pending.append((-sign, item.args[0]))
        else:
            found.append((sign, item))
    return found


def _sum_of(terms: list[tuple[int, Node]]) -> Node:
    total = terms[0][1] if terms[0][0] > 0 else apply("neg", terms[0][1])
    for sign, term in terms[1:]:
        total = apply("add" if sign > 0 else "sub", total, term)
    return total


def _adjoint_parts(node: Node, facts: Facts) -> tuple[Node, Node, bool] | None:
    """(p, g, rows) for p * (g - p' @ g) with p summing to one (rows False), or for P * (G -
    ((P * G) @ 1) @ 1') with P's rows summing to one (rows True); else None."""
    for p, rest in (node.args, node.args[::-1]):
        if rest.op != "sub":
            continue
        g, removed = rest.args
        if p.kind is Kind.VECTOR and facts.simplex(p) and removed.op == "matmul" and \
                removed.args[0].op == "transpose" and removed.args[0].args[0] is p and \
                removed.args[1] is g:
            return p, g, False
        if p.kind is Kind.MATRIX and facts.row_simplex(p) and removed.op == "matmul" and \
                _is_ones_row(removed.args[1]) and removed.args[0].op == "matmul" and \
                removed.args[0].args[1].op == "ones" and \
                removed.args[0].args[0] == apply("mul", p, g):
            return p, g, True
    return None


def _is_ones_row(node: Node) -> bool:
    return node.op == "transpose" and node.args[0].op == "ones" and \
        node.args[0].kind is Kind.VECTOR


@rule(
    'shift-in-softmax-adjoint',
    ops=('mul',),
    example="z, a : vector(n); c : scalar\np = softmax(z)\nf = p * ((a + c) - p' @ (a + c))",
)
def shift_in_softmax_adjoint(node: Node, facts: Facts) -> Node | None:
    """p * ((g + c) - p' @ (g + c)) = p * (g - p' @ g) for p summing to one and c the same in
    every entry (p' @ (c 1) = c: softmax(x + c 1) = softmax(x), so its adjoint drops c); for
    rows summing to one, P * ((G + C) - ((P * (G + C)) @ 1) @ 1') = P * (G - ((P * G) @ 1) @
    1') for C the same along each row (c @ 1')."""
    parts = _adjoint_parts(node, facts)
    if parts is None:
        return None
    p, g, rows = parts
    constant = facts._same_in_each_row if rows else facts.uniform
    terms = _terms(facts._resolve(g))
    kept = [(sign, term) for sign, term in terms if not constant(term)]
    if len(kept) == len(terms):
        return None
    if not kept:
        return ir.zeros(node.shape.rows, node.shape.cols, node.kind)
    b = _sum_of(kept)
    if rows:
        ones = ir.ones(p.shape.cols, ONE, Kind.VECTOR)
        row_sums = apply("matmul", apply("mul", p, b), ones)
        spread = apply("matmul", row_sums, apply("transpose", ones))
        return apply("mul", p, apply("sub", b, spread))
    return apply("mul", p, apply("sub", b, apply("matmul", apply("transpose", p), b)))

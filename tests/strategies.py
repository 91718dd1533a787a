"""Hypothesis strategies: random well-typed expressions over the shared declarations.

Every operation of the language can appear; functions with restricted domains (log, sqrt, a
fractional power, division, inverse, log-determinant) only receive arguments that are positive
and of order one (or symmetric positive definite) by construction, so random points exist and
values stay in the range where finite differences can judge a derivative.  A combination whose
shapes do not fit falls back to one of its operands, so every draw is a valid expression.
"""

from __future__ import annotations

from hypothesis import strategies as st

from matcalc.core import ir
from matcalc.core.ir import Node
from matcalc.core.shapes import Kind
from matcalc.errors import ShapeError

POSITIVE_NAMES = ("s", "p", "R")  # entries of order one: safe as denominators
ANY_NAMES = ("a", "c", "x", "y", "u", "A", "B", "C", "D", "S", "Q", "q", "Y")
SMOOTH = ("sin", "cos", "tanh", "sigmoid", "neg", "transpose", "softmax", "logsumexp", "sum",
          "mean", "tr", "Diag", "diag", "vec", "norm", "norm2", "relu", "abs", "step", "sign",
          "det", "mpow", "softplus", "erf", "gelu", "gelu_tanh")
POSITIVE_RESULT = ("exp", "softmax", "sigmoid")
BINARY = ("add", "sub", "mul", "matmul", "frob", "kron", "div", "pow", "maximum", "minimum")


def positive_node(variables: dict[str, Node], draw, depth: int) -> Node:
    """An expression with positive entries."""
    choice = draw(st.integers(0, 3)) if depth > 0 else 0
    if choice == 0:
        return variables[draw(st.sampled_from(POSITIVE_NAMES))]
    inner = any_node(variables, draw, depth - 1)
    if choice == 1:
        return ir.apply(draw(st.sampled_from(POSITIVE_RESULT)), _tame(inner))
    left = positive_node(variables, draw, depth - 1)
    right = positive_node(variables, draw, depth - 1)
    op = draw(st.sampled_from(("add", "mul", "div")))
    try:
        return ir.apply(op, left, right)
    except ShapeError:
        return left


def _tame(node: Node) -> Node:
    """tanh(node): keeps exp's argument in [-1, 1]."""
    return ir.apply("tanh", node)


def spd_node(variables: dict[str, Node], draw, depth: int) -> Node:
    """A symmetric positive definite n x n expression: P + M @ M'."""
    p = variables["P"]
    if depth == 0 or draw(st.booleans()):
        return p
    m = any_node(variables, draw, depth - 1)
    if m.kind is Kind.SCALAR or m.shape.rows is not p.shape.rows:
        return p
    return ir.apply("add", p, ir.apply("matmul", m, ir.apply("transpose", m)))


def any_node(variables: dict[str, Node], draw, depth: int) -> Node:
    """Any well-typed expression of at most ``depth`` levels."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        return variables[draw(st.sampled_from(ANY_NAMES + POSITIVE_NAMES))]
    family = draw(st.sampled_from(("unary", "binary", "binary", "restricted")))
    if family == "restricted":
        op = draw(st.sampled_from(("log", "sqrt", "fractional", "inv", "logdet", "divide",
                                   "log1p", "expm1", "tan")))
        if op in ("inv", "logdet"):
            return ir.apply(op, spd_node(variables, draw, depth - 1))
        positive = positive_node(variables, draw, depth - 1)
        if op in ("expm1", "tan"):  # tan of tanh(...) stays inside (-pi / 2, pi / 2)
            return ir.apply(op, _tame(any_node(variables, draw, depth - 1)))
        if op == "fractional":
            return ir.apply("pow", positive, ir.const(draw(st.sampled_from((0.5, 1.5, -1.0)))))
        if op == "divide":
            numerator = any_node(variables, draw, depth - 1)
            try:
                return ir.apply("div", numerator, positive)
            except ShapeError:
                return numerator
        return ir.apply(op, positive)
    if family == "unary":
        op = draw(st.sampled_from(SMOOTH))
        argument = any_node(variables, draw, depth - 1)
        try:
            if op == "mpow":
                return ir.apply("mpow", argument, params=(draw(st.integers(2, 3)),))
            if op == "det" and argument.kind is not Kind.SCALAR:
                return ir.apply("det", ir.apply("tanh", argument))
            return ir.apply(op, argument)
        except ShapeError:
            return argument
    op = draw(st.sampled_from(BINARY))
    left = any_node(variables, draw, depth - 1)
    if op == "pow":
        return ir.apply("pow", left, ir.const(draw(st.sampled_from((2.0, 3.0)))))
    if op == "div":
        right = positive_node(variables, draw, depth - 1)
    else:
        right = any_node(variables, draw, depth - 1)
    try:
        if op == "kron" and (left.kind is Kind.MATRIX and right.kind is Kind.MATRIX):
            return left  # keep sizes small
        return ir.apply(op, left, right)
    except ShapeError:
        return draw(st.sampled_from((left, right)))


@st.composite
def expressions(draw, variables: dict[str, Node], max_depth: int = 4) -> Node:
    return any_node(variables, draw, draw(st.integers(1, max_depth)))

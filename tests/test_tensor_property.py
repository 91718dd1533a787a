"""Property: for random well-typed tensor expressions (batched matmul with matrices on either
side, transposes of the last two axes, NumPy broadcasting of matrices, rows and columns, sums and
means along an axis and back with expand, softmax, log_softmax, logsumexp, max and min along
any axis and over every entry, triangles of the last two axes, elementwise functions), the
gradient of a scalar of them with respect to every tensor, matrix and vector in it agrees with
finite differences.  Small by default; HYPOTHESIS_PROFILE=large searches 2000."""

from __future__ import annotations

from helpers import assert_proven_at_a_point
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import matcalc
from matcalc.core import ir
from matcalc.core.ir import Node
from matcalc.engine.pipeline import variables_of
from matcalc.errors import ShapeError, UnsupportedError

BASE = matcalc.parse("X, Y : tensor(B, T, d)\nZ : tensor(B, T, T)\nW : matrix(d, d)\n"
                     "M : matrix(T, T)\nN : matrix(T, d)\nb : vector(d)\nc : vector(T)\n"
                     "a : scalar\nbase = a")
VARIABLES = BASE.variables
NAMES = ("X", "Y", "Z", "W", "M", "N", "a")
UNARY = ("sin", "tanh", "sigmoid", "neg", "transpose", "softmax", "log_softmax", "softplus",
         "logsumexp", "max", "min")
ALONG = ("axis_softmax", "axis_log_softmax", "axis_logsumexp", "axis_max", "axis_min")
BINARY = ("add", "sub", "mul", "matmul")
EXAMPLES = settings().max_examples


def _spread(node: Node, draw) -> Node:
    """A row b' or a column c broadcast beside node, as the reader writes them."""
    from matcalc.lang.broadcast import expanded

    row = ir.apply("transpose", VARIABLES["b"])
    other = row if draw(st.booleans()) else VARIABLES["c"]
    return expanded("add", node, other)[1]


def tensor_node(draw, depth: int) -> Node:
    if depth == 0:
        return VARIABLES[draw(st.sampled_from(NAMES))]
    choice = draw(st.integers(0, 6))
    inner = tensor_node(draw, depth - 1)
    try:
        if choice == 0:
            return ir.apply(draw(st.sampled_from(UNARY)), inner)
        if choice == 1 and inner.kind.value == "tensor":  # along an axis, and back
            axis = draw(st.integers(0, 2))
            summed = ir.apply("axis_sum", inner, params=(axis,))
            if draw(st.booleans()):
                return summed
            return ir.apply("expand", summed, params=(axis, inner.shape.dims[axis]))
        if choice == 5 and inner.kind.value == "tensor":  # a function along any axis
            return ir.apply(draw(st.sampled_from(ALONG)), inner,
                            params=(draw(st.integers(0, len(inner.shape.dims) - 1)),))
        if choice == 6 and inner.kind.value == "tensor":  # a triangle of the last two axes
            return ir.apply(draw(st.sampled_from(("tril", "triu"))), inner,
                            params=(draw(st.integers(-1, 1)),))
        if choice == 2 and not inner.is_scalar:
            return ir.apply(draw(st.sampled_from(("add", "mul"))), inner, _spread(inner, draw))
        other = tensor_node(draw, depth - 1)
        op = draw(st.sampled_from(BINARY))
        pair = (inner, other) if draw(st.booleans()) else (other, inner)
        return ir.apply(op, *pair)
    except (ShapeError, UnsupportedError):
        return inner


@st.composite
def tensor_expressions(draw, max_depth: int = 3) -> Node:
    node = tensor_node(draw, draw(st.integers(1, max_depth)))
    assume(any(n.kind.value == "tensor" for n in ir.walk(node)))
    return node


@settings(max_examples=max(40, EXAMPLES // 10), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tensor_expressions())
def test_random_tensor_gradients_match_finite_differences(node):
    scalar = ir.apply("sum", ir.apply("sin", node)) if not node.is_scalar else \
        ir.apply("sin", node)
    target = BASE.extended({"F": scalar})
    names = variables_of(target, target.definitions["F"].ref)
    assume(names)
    results = matcalc.derive(target, wrt=names, of="F", kind="grad", check=False)
    assert_proven_at_a_point(results, f"e = {node}")

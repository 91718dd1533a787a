"""NumPy-style broadcasting of rows and columns in + - * /: read as products with ones, printed
back in the short form, differentiated (the adjoint sums over the broadcast axis) and proven
by finite differences; shapes NumPy would not broadcast stay errors at their place."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import program, proven_from_text
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import expressions

import matcalc
from matcalc.core.shapes import Kind
from matcalc.errors import ShapeError
from matcalc.numeric.sampling import random_instance

LAYER = "X : matrix(N, d); W : matrix(d, k); b : vector(k); mu : vector(d); c : vector(N)\n"


@pytest.mark.parametrize("short, explicit", [
    ("X @ W + b'", "X @ W + ones(N) @ b'"),
    ("b' + X @ W", "ones(N) @ b' + X @ W"),
    ("X - mu'", "X - ones(N) @ mu'"),
    ("X * c", "X * (c @ ones(d)')"),
    ("c / X", "(c @ ones(d)') / X"),
    ("c + mu'", "c @ ones(d)' + ones(N) @ mu'"),
])
def test_a_row_or_column_reads_as_its_product_with_ones_and_prints_back(short, explicit):
    read = matcalc.parse(LAYER + f"f = {short}").definitions["f"].body
    written = matcalc.parse(LAYER + f"f = {explicit}").definitions["f"].body
    assert read is written  # the same node
    assert str(read) == short  # printed in the short form, which reads back the same
    assert matcalc.parse(LAYER + f"f = {read}").definitions["f"].body is read
    assert read.kind is Kind.MATRIX


@pytest.mark.parametrize("text", [
    "sum(sin(X @ W + b'))", "sum((X - mu') .^ 2)", "sum(exp(X / (2 + c)))",
    "sum(tanh(c + mu'))", "sum(log(1 + exp(X * c - mu')))",
])
def test_gradients_through_a_broadcast_are_proven(text):
    results = matcalc.derive(LAYER + f"f = {text}", check=False)
    assert all(verdict.ok for verdict in matcalc.check(results, seed=5))


def test_the_adjoint_sums_over_the_broadcast_axis():
    gradient = matcalc.derive(LAYER + "f = sum(sin(X @ W + b'))", wrt="b")
    assert gradient.text.splitlines()[-1] == "df_db = cos(X @ W + b')' @ ones(N)"
    hessian = matcalc.derive(LAYER + "f = sum((X - mu') .^ 2)", wrt="mu", kind="hessian")
    point = random_instance(hessian.program, seed=0)
    value = hessian.numpy()(sizes=point.sizes, **point.arrays)
    np.testing.assert_allclose(value, 2 * point.sizes["N"] * np.eye(point.sizes["d"]))
    assert matcalc.check(hessian, seed=1).ok


@pytest.mark.parametrize("text, hint", [
    ("X + mu", "mu' would broadcast"),
    ("X @ W + c'", "c would broadcast"),
    ("X - b'", "NumPy would not broadcast"),
])
def test_shapes_numpy_would_not_broadcast_are_errors_at_their_place(text, hint):
    with pytest.raises(ShapeError) as raised:
        matcalc.parse(LAYER + f"f = {text}")
    message = str(raised.value)
    assert hint in message and "line 2" in message and "^" in message


def test_latex_reads_a_broadcast_row():
    problem = LAYER + "f = sum((X - mu') .^ 2)"
    assert matcalc.verify(problem, "X", r"2 (X - \mu^\top)", latex=True).ok
    assert matcalc.verify(problem, "X", "2 * (X - mu')").ok
    assert not matcalc.verify(problem, "X", "2 * (X + mu')").ok


def test_generated_code_computes_the_broadcast():
    results = matcalc.derive(LAYER + "f = sum(sin(X @ W + b'))", wrt=["W", "b"], check=False)
    point = random_instance(results[0].program, seed=2)
    values = results.numpy()(sizes=point.sizes, **point.arrays)
    X, W, b = point.arrays["X"], point.arrays["W"], point.arrays["b"]
    delta = np.cos(X @ W + b)  # NumPy's own broadcasting
    np.testing.assert_allclose(values["b"], delta.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(values["W"], X.T @ delta, rtol=1e-12)


BASE = program("base = a")
VECTORS = {"n": ["x", "y", "p", "q"], "m": ["u"]}


@settings(max_examples=max(40, settings().max_examples // 2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(BASE.variables, max_depth=3), st.sampled_from(["+", "-", "*", "/"]),
       st.booleans(), st.integers(0, 3), st.booleans())
def test_random_broadcasts_are_proven(node, op, as_row, pick, left):
    # a random matrix next to a random vector that broadcasts over its rows or its columns
    assume(node.kind is Kind.MATRIX)
    axis = node.shape.cols if as_row else node.shape.rows
    assume(str(axis) in VECTORS)
    names = VECTORS[str(axis)]
    vector = names[pick % len(names)] + ("'" if as_row else "")
    if op == "/":
        vector = f"(2 + sin({vector}))"
    operands = (vector, f"({node})") if left else (f"({node})", vector)
    text = f"F = sum(sin({operands[0]} {op} {operands[1]}))"
    proven_from_text(text)

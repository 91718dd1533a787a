"""Sums and means along one axis, as NumPy's axis argument: sum(X, 1) = X @ ones(m) (row sums,
a vector), sum(X, 0) = ones(n)' @ X (column sums, a row vector), mean divides by the count;
read from the language and LaTeX, differentiated and proven by finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_error_at_line_2, program, proven_from_text
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import expressions

import matcalc
from matcalc.core.shapes import Kind
from matcalc.errors import ShapeError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

DATA = "X : matrix(N, d); x : vector(N)\n"


@pytest.mark.parametrize("text, written, kind", [
    ("sum(X, 1)", "X @ ones(d)", Kind.VECTOR),
    ("sum(X, 0)", "ones(N)' @ X", Kind.ROW),
    ("mean(X, 1)", "mean(X, 1)", Kind.VECTOR),  # read as (X @ ones(d)) / d, printed by name
    ("mean(X, 0)", "mean(X, 0)", Kind.ROW),
    ("sum(x, 0)", "ones(N)' @ x", Kind.SCALAR),
    ("sum(x, 1)", "x", Kind.VECTOR),
])
def test_a_reduction_along_an_axis_reads_as_a_product_with_ones(text, written, kind):
    node = matcalc.parse(DATA + f"f = {text}").definitions["f"].body
    assert str(node) == written and node.kind is kind
    if text.startswith("mean"):  # (X @ ones(d)) / d, printed mean(X, 1), reads back the same
        assert node.op == "div" and node.args[0].op == "matmul"
        assert matcalc.parse(DATA + f"f = {written}").definitions["f"].body is node


def test_the_values_are_numpys():
    parsed = matcalc.parse(DATA + "r = sum(X, 1)\nc = sum(X, 0)\nmr = mean(X, 1)\n"
                                  "mc = mean(X, 0)\nlast = sum(X, -1)\nfirst = mean(X, -2)")
    point = random_instance(parsed, seed=1)
    X = point.arrays["X"]
    for name, expected in (("r", X.sum(axis=1)), ("c", X.sum(axis=0)),
                           ("mr", X.mean(axis=1)), ("mc", X.mean(axis=0)),
                           ("last", X.sum(axis=-1)), ("first", X.mean(axis=-2))):
        value = np.ravel(evaluate(parsed, name, point.arrays))
        np.testing.assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize("text", [
    "sum((X - mean(X, 0)) .^ 2)", "sum(softplus(sum(X, 1)))", "sum(exp(mean(X, 1) / 3))",
    "sum(tanh(sum(X, 0) @ X'))", "sum(sin(mean(X, -1)) + cos(sum(X, -2)) @ X')",
])
def test_gradients_and_hessians_are_proven(text):
    results = matcalc.derive(DATA + f"f = {text}", wrt="X", check=False)
    assert matcalc.check(results, seed=2).ok
    small = "X : matrix(3, 2)\n" + f"f = {text}"
    assert matcalc.check(matcalc.derive(small, wrt="X", kind="hessian", check=False),
                         seed=2).ok


@pytest.mark.parametrize("text, message", [
    ("sum(X, 2)", "the axis of sum(X, axis) is 0"),
    ("sum(X, -3)", "-2 and -1 count from the last"),
    ("mean(X, d)", "the axis of mean(X, axis) is 0"),
    ("sum(X, 1, 0)", "sum takes 1 or 2 arguments"),
])
def test_a_wrong_axis_is_an_error_at_its_place(text, message):
    assert_error_at_line_2(DATA + f"f = {text}", message, ShapeError)


def test_latex_reads_a_sum_along_an_axis():
    problem = DATA + "f = sum(softplus(sum(X, 1)))"
    assert matcalc.verify(problem, "X", r"\sigma(\operatorname{sum}(X, 1)) \mathbf{1}_d^\top",
                          latex=True).ok
    assert not matcalc.verify(problem, "X", r"\sigma(\operatorname{sum}(X, 0))^\top "
                              r"\mathbf{1}_d^\top", latex=True).ok


BASE = program("base = a")


@settings(max_examples=max(30, settings().max_examples // 2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(BASE.variables, max_depth=3), st.sampled_from(["sum", "mean"]),
       st.sampled_from(["0", "1"]))
def test_random_reductions_are_proven(node, reduction, axis):
    assume(not node.is_scalar)
    text = f"F = sum(sin({reduction}({node}, {axis}) + 1))"
    proven_from_text(text)


def test_batch_normalisation_through_axis_means_is_proven():
    # Ioffe & Szegedy 2015: Y = (X - mu) / sqrt(v + eps) * g' + b' over a batch in rows
    problem = ("X : matrix(N, d); g : vector(d) positive; b : vector(d)\nmu = mean(X, 0)\n"
               "v = mean((X - mu) .^ 2, 0)\nY = (X - mu) / sqrt(v + 0.00001) * g' + b'\n"
               "f = sum(tanh(Y))")
    results = matcalc.derive(problem, wrt=["X", "g", "b"], check=False)
    assert all(verdict.ok for verdict in matcalc.check(results, seed=4))
    # the centred batch's column sums vanish from dX: no ones(N)' @ delta5 term is left, and
    # the column mean spread over the batch reads mean(delta3, 0)
    assert results["X"].text.count("ones(N)'") == 1 and "mean(delta3, 0)" in results["X"].text

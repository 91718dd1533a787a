"""Symbolic integer powers X ^ k for a declared k : integer: d tr(X^k) = k (X^(k-1))' : dX
(Matrix Cookbook eq. 121-122), proven by finite differences at random integers k; where no
closed form exists the error says so; k is a keyword argument of the generated code."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc
from matcalc.errors import ShapeError, UnsupportedError
from matcalc.numeric.sampling import random_instance

POWER = "X, A : matrix(n, n); k : integer\n"


@pytest.mark.parametrize("text, expected", [
    ("f = tr(X ^ k)", "df_dX = k * (X ^ (k - 1))'"),
    ("f = 3 * tr(X ^ (k + 1))", "df_dX = 3 * (k + 1) * (X ^ k)'"),
    ("f = tr(X ^ (2 * k)) / 2", "df_dX = k * (X ^ (2 * k - 1))'"),
])
def test_the_trace_of_a_power_has_the_cookbook_gradient(text, expected):
    gradient = matcalc.derive(POWER + text, wrt="X", check=False)
    assert gradient.text.splitlines()[-1] == expected
    for seed in range(4):  # k is drawn from 1..4
        assert matcalc.check(gradient, seed=seed).ok


def test_the_integer_is_a_keyword_of_the_generated_code():
    gradient = matcalc.derive(POWER + "f = tr(X ^ k)", wrt="X", check=False)
    point = random_instance(gradient.program, seed=0)
    value = gradient.numpy()(X=point.arrays["X"], A=point.arrays["A"], k=3)
    X = point.arrays["X"]
    np.testing.assert_allclose(value, 3 * (X @ X).T, rtol=1e-12)


def test_latex_reads_and_writes_the_power():
    problem = POWER + "f = tr(X ^ k)"
    assert r"X^{k - 1}" in matcalc.derive(problem, wrt="X").latex
    assert matcalc.verify(problem, "X", r"k (X^{k-1})^\top", latex=True).ok
    assert "transpose" in matcalc.verify(problem, "X", r"k X^{k-1}", latex=True).hint


@pytest.mark.parametrize("text, wrt, message", [
    ("f = sum(X ^ k)", "X", "closed form here only where"),
    ("f = tr(A @ X ^ k)", "X", "closed form here only where"),
    ("f = tr(X ^ k)", "k", "is an integer: there is no derivative"),
])
def test_what_has_no_closed_form_is_unsupported_by_name(text, wrt, message):
    with pytest.raises(UnsupportedError, match=message):
        matcalc.derive(POWER + text, wrt=wrt)


def test_a_real_exponent_is_still_refused():
    with pytest.raises(ShapeError, match="declare it 'k : integer'"):
        matcalc.parse("X : matrix(n, n); s : scalar\nf = tr(X ^ s)")


def test_the_integer_is_not_differentiated_by_default():
    results = matcalc.derive(POWER + "f = tr(X ^ k) + tr(A)")
    assert [result.wrt for result in results] == ["X", "A"]


def test_random_traces_of_symbolic_powers_are_proven():
    from helpers import program, proven_from_text
    from hypothesis import HealthCheck, assume, given, settings
    from strategies import expressions

    from matcalc.core.shapes import Kind

    base = program("base = a")

    @settings(max_examples=max(20, settings().max_examples // 3), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(expressions(base.variables, max_depth=2))
    def proven(node):
        assume(node.kind is Kind.MATRIX and node.shape.is_square)
        proven_from_text(f"j : integer\nF = tr(({node}) ^ j)")

    proven()

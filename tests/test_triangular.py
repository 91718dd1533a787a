"""The attributes lower and upper: declared, checked, honoured by random points, and used by
generated code for triangular solves (inv(L) @ B costs O(n^2) a column, never an inverse)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import matcalc
from matcalc.errors import AssumptionError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance


@pytest.mark.parametrize("side", ["lower", "upper"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_points_respect_the_triangle(side, seed):
    program = matcalc.parse(f"R : matrix(n, n) {side}\nf = logdet(R)")
    t = random_instance(program, seed=seed).arrays["R"]
    off = np.triu(t, 1) if side == "lower" else np.tril(t, -1)
    assert np.all(off == 0) and np.any(t != 0)
    assert np.all(np.diag(t) >= 0.5) and np.linalg.cond(t) < 1e3


@pytest.mark.parametrize("side, wrong", [("lower", np.triu), ("upper", np.tril)])
def test_a_value_off_the_triangle_is_refused(side, wrong):
    program = matcalc.parse(f"R : matrix(n, n) {side}\nf = tr(R)")
    with pytest.raises(AssumptionError, match=f"not {side} triangular"):
        evaluate(program, "f", R=wrong(np.ones((3, 3))))


@pytest.mark.parametrize("other", ["upper", "symmetric", "spd", "positive"])
def test_lower_with_a_contradicting_attribute_is_an_error(other):
    with pytest.raises(AssumptionError, match=f"'(lower|{other})' cannot be combined with "
                                              f"'({other}|lower)'"):
        matcalc.parse(f"R : matrix(n, n) {other} lower")


def test_lower_needs_a_square_matrix():
    with pytest.raises(AssumptionError, match="square"):
        matcalc.parse("R : matrix(m, n) lower")


@pytest.mark.parametrize("source, lower", [
    ("a' @ inv(R) @ b", True),     # inv(R) @ b with T lower: forward substitution
    ("a' @ inv(R)' @ b", False),   # inv(R)' @ b = solve(R', b): R' is upper
    ("a' @ inv(R') @ b", False),
])
@pytest.mark.parametrize("side", ["lower", "upper"])
def test_generated_code_solves_triangular_systems(source, lower, side):
    program = matcalc.parse(f"R : matrix(n, n) {side}\na, b : vector(n)\nf = {source}")
    derivative = matcalc.derive(program, wrt="a")
    code = derivative.code()
    expected_lower = lower == (side == "lower")
    assert f", {expected_lower})" in "".join(_solves(code)), code
    assert "np.linalg.inv" not in code[code.index("def value_and_gradient("):]
    instance = random_instance(program, seed=5)
    got = derivative.numpy()(**instance.arrays)
    r = instance.arrays["R"]
    want = np.linalg.solve(r if lower else r.T, instance.arrays["b"])  # the gradient wrt a
    np.testing.assert_allclose(np.ravel(got), np.ravel(want), rtol=1e-10)


def test_a_solve_with_a_general_matrix_stays_a_dense_solve():
    derivative = matcalc.derive("A : matrix(n, n) invertible\na, b : vector(n)\n"
                                "f = a' @ inv(A) @ b", wrt="a")
    code = derivative.code()
    assert "np.linalg.solve(" in code and not _solves(code)


def _solves(code: str) -> list[str]:
    """The triangular solves the generated code calls (its helper's definition left out)."""
    return re.findall(r"_solve_triangular\((?!a, b, lower)[^\n]*", code)

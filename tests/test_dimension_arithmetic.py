"""Dimension expressions: names and integers with + - *, in declarations and dimension
arguments; equal polynomials are one dimension (dh + dh is 2*dh); sizes are solved from arrays
where they can be, random sizes keep every dimension at least 1."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc
from matcalc.core.shapes import ONE, dim
from matcalc.core.to_sympy import dim_to_sympy
from matcalc.errors import ShapeError
from matcalc.numeric.evaluate import evaluate, prepare
from matcalc.numeric.sampling import random_instance


def test_equal_polynomials_are_one_dimension():
    n, k, dh = dim("n"), dim("k"), dim("dh")
    assert dh + dh is dim(2) * dh and str(n - k + ONE) == "n - k + 1"
    assert (n - k + ONE).value({"n": 7, "k": 3}) == 5 and n * k is k * n
    parsed = matcalc.parse("x : vector(dh + dh); y : vector(2*dh)\nf = x + y")
    assert str(parsed.definitions["f"].body.shape.rows) == "2*dh"
    assert str(dim_to_sympy(n - k + ONE)) == "-k + n + 1"


@pytest.mark.parametrize("text, message", [
    ("x : vector(n - n)", "a dimension must be at least 1, not 0"),
    ("x : vector(2 - 3)", "a dimension must be at least 1"),
    ("x : vector(n); y : vector(n + 1)\nf = x + y", "n + 1"),
])
def test_bad_dimensions_are_errors_at_their_place(text, message):
    with pytest.raises(ShapeError) as raised:
        matcalc.parse(text)
    assert message in str(raised.value)


def test_a_sum_in_an_expression_prints_with_brackets_and_reads_back():
    parsed = matcalc.parse("x : vector(n - k + 1)\nf = x / (n - k + 1) + ones(n - k + 1)")
    text = str(parsed.definitions["f"].body)
    assert text == "x / (n - k + 1) + ones(n - k + 1)"
    again = matcalc.parse(f"x : vector(n - k + 1)\nf = {text}")
    assert again.definitions["f"].body is parsed.definitions["f"].body


def test_sizes_are_solved_from_the_arrays_or_asked_for():
    parsed = matcalc.parse("w : vector(k); y : vector(n - k + 1)\nf = sum(y) + sum(w)")
    evaluation = prepare(parsed, {"w": np.ones(3), "y": np.ones(5)})
    assert evaluation.sizes == {"k": 3, "n": 7}
    with pytest.raises(ShapeError, match="cannot be told"):
        prepare(matcalc.parse("y : vector(n - k + 1)\nf = sum(y)"), {"y": np.ones(5)})
    with pytest.raises(ShapeError, match="n - k \\+ 1 = 2"):
        prepare(parsed, {"w": np.ones(3), "y": np.ones(5)}, sizes={"n": 4})


def test_random_sizes_keep_every_dimension_at_least_one():
    parsed = matcalc.parse("x : vector(n - k + 1); A : matrix(k, m)\nf = sum(x) + sum(A)")
    for seed in range(30):
        point = random_instance(parsed, seed=seed)
        assert point.sizes["n"] - point.sizes["k"] + 1 >= 1
        assert np.asarray(point.arrays["x"]).shape == (point.sizes["n"] - point.sizes["k"] + 1,)


def test_derivatives_and_generated_code_over_dimension_expressions():
    problem = ("x : vector(dh + dh); A : matrix(m*p, 2*dh); B : matrix(m, p)\n"
               "f = sum(exp(A @ x)) / (dh + 1) + sum(B)")
    results = matcalc.derive(problem, check=False)
    assert all(verdict.ok for verdict in matcalc.check(results, seed=0))
    code = results.code()
    assert "x.shape[0] // 2" in code  # dh read off x's 2*dh rows, no sizes= needed
    point = random_instance(results[0].program, seed=1)
    values = results.numpy()(**point.arrays)
    expected = evaluate(results[0].program, "f", point.arrays)
    assert np.isfinite(expected) and values["x"].shape == (2 * point.sizes["dh"],)

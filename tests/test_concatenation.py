"""hcat(A, B) (side by side) and vcat(A, B) (stacked): shapes with dimension sums, derivatives
proven by finite differences, block algebra in results, LaTeX bmatrix out and in, and code."""

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
from matcalc.present.latex import to_latex

BLOCKS = ("A : matrix(n, k); B : matrix(n, m); x : vector(k); y : vector(m); r : vector(n)\n")


@pytest.mark.parametrize("text, shape, kind", [
    ("hcat(A, B)", ("n", "k + m"), Kind.MATRIX),
    ("vcat(x, y)", ("k + m", "1"), Kind.VECTOR),
    ("hcat(x', y')", ("1", "k + m"), Kind.ROW),
    ("hcat(r, r)", ("n", "2"), Kind.MATRIX),
    ("hcat(A, B, A)", ("n", "2*k + m"), Kind.MATRIX),
    ("vcat(A', B')", ("k + m", "n"), Kind.MATRIX),
])
def test_shapes_add_up(text, shape, kind):
    node = matcalc.parse(BLOCKS + f"f = {text}").definitions["f"].body
    assert (str(node.shape.rows), str(node.shape.cols)) == shape and node.kind is kind


def test_values_are_numpys():
    parsed = matcalc.parse(BLOCKS + "h = hcat(A, B)\nv = vcat(x, y)")
    point = random_instance(parsed, seed=0)
    a = point.arrays
    np.testing.assert_array_equal(evaluate(parsed, "h", a), np.hstack((a["A"], a["B"])))
    np.testing.assert_array_equal(np.ravel(evaluate(parsed, "v", a)),
                                  np.concatenate((a["x"], a["y"])))


@pytest.mark.parametrize("text, message", [
    ("hcat(A, x)", "hcat(A, x) needs equal rows"),
    ("vcat(A, B)", "vcat(A, B) needs equal cols"),
])
def test_blocks_that_do_not_fit_are_errors_at_their_place(text, message):
    assert_error_at_line_2(BLOCKS + f"f = {text}", message, ShapeError)


def test_block_algebra_gives_textbook_results():
    # hcat(A, B) @ vcat(x, y) = A @ x + B @ y (Magnus & Neudecker, ch. 2, partitioned matrices)
    gradient = matcalc.derive(BLOCKS + "f = sum(sin(hcat(A, B) @ vcat(x, y)))", wrt="y")
    assert gradient.text.splitlines()[-1] == "df_dy = B' @ cos(A @ x + B @ y)"
    assert gradient.checked.ok


@pytest.mark.parametrize("kind", ["grad", "jacobian", "hessian"])
def test_derivatives_through_concatenations_are_proven(kind):
    text = "f = sum(tanh(hcat(A, B) @ vcat(x, y) + r)) + sum(exp(vcat(x, y)))"
    if kind == "jacobian":
        text = "f = tanh(hcat(A, B) @ vcat(x, y) + r)"
    wrt = ["x", "y"] if kind == "hessian" else None
    results = matcalc.derive(BLOCKS + text, wrt=wrt, kind=kind, check=False)
    assert all(verdict.ok for verdict in matcalc.check(results, seed=3))


def test_multi_head_attention_concatenates_its_heads():
    # two heads computed separately, then hcat(H1, H2) @ Wo (Vaswani et al. 2017, sec. 3.2.2)
    problem = ("X : matrix(N, d); Wq1, Wk1, Wv1, Wq2, Wk2, Wv2 : matrix(d, dh)\n"
               "Wo : matrix(2*dh, d); Y : matrix(N, d)\n"
               "H1 = softmax((X @ Wq1) @ (X @ Wk1)' / sqrt(dh)) @ (X @ Wv1)\n"
               "H2 = softmax((X @ Wq2) @ (X @ Wk2)' / sqrt(dh)) @ (X @ Wv2)\n"
               "L = sum((hcat(H1, H2) @ Wo - Y) .^ 2)")
    results = matcalc.derive(problem, wrt=["Wo", "Wv1", "Wq2"], check=False)
    assert all(verdict.ok for verdict in matcalc.check(results, seed=1))


def test_latex_writes_a_bmatrix_that_reads_back():
    parsed = matcalc.parse(BLOCKS + "f = vcat(hcat(A, B), hcat(x', y'))")
    node = parsed.definitions["f"].body
    latex = to_latex(node)
    assert latex.startswith(r"\begin{bmatrix}") and " & " in latex and r" \\ " in latex
    problem = BLOCKS + "f = sum(exp(vcat(x, y)))"
    answer = to_latex(matcalc.derive(problem, wrt="x").result)
    assert r"\mathbf{0}_{k \times m}" in answer
    assert matcalc.verify(problem, "x", answer, latex=True).ok
    assert matcalc.verify(problem, "x", r"\begin{bmatrix} I_k & \mathbf{0}_{k \times m} "
                          r"\end{bmatrix} \exp\left(\begin{bmatrix} x \\ y \end{bmatrix}\right)",
                          latex=True).ok
    assert not matcalc.verify(problem, "x", r"\begin{bmatrix} I_k & \mathbf{0}_{k \times m} "
                              r"\end{bmatrix} \begin{bmatrix} x \\ y \end{bmatrix}",
                              latex=True).ok  # the exp dropped


def test_generated_code_concatenates():
    results = matcalc.derive(BLOCKS + "f = sum(tanh(hcat(A, B) @ vcat(x, y)))",
                             wrt=["A", "x"], check=False)
    point = random_instance(results[0].program, seed=4)
    values = results.numpy()(**point.arrays)
    a = point.arrays
    z = np.hstack((a["A"], a["B"])) @ np.concatenate((a["x"], a["y"]))
    np.testing.assert_allclose(values["x"], a["A"].T @ (1 - np.tanh(z) ** 2), rtol=1e-10)
    np.testing.assert_allclose(values["A"], np.outer(1 - np.tanh(z) ** 2, a["x"]), rtol=1e-10)


BASE = program("base = a")


@settings(max_examples=max(30, settings().max_examples // 2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(BASE.variables, max_depth=2), expressions(BASE.variables, max_depth=2),
       st.sampled_from(["hcat", "vcat"]))
def test_random_concatenations_are_proven(first, second, joiner):
    along = "rows" if joiner == "hcat" else "cols"
    assume(not first.is_scalar and not second.is_scalar)
    assume(getattr(first.shape, along) is getattr(second.shape, along))
    text = f"F = sum(sin({joiner}({first}, {second})))"
    proven_from_text(text)

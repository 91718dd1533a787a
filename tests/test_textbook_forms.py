"""Textbook forms by class: what a result must look like on problems no gallery holds.

Each class is tested on several instances (random ones where a property fits); every derived
result is also proven by finite differences.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import expr, point, program, value
from hypothesis import given
from hypothesis import strategies as st

import matcalc
from matcalc.core.ir import Node, size
from matcalc.engine.pipeline import facts_for
from matcalc.engine.simplify import Simplifier


def simplified_node(text: str) -> Node:
    prog = program(f"f = {text}")
    return Simplifier(facts_for(prog))(prog.definitions["f"].body)


def simplified(text: str) -> str:
    return str(simplified_node(text))


def assert_simplifies(text: str, expected: str) -> None:
    """``text`` simplifies to ``expected``, and the two agree at a random point."""
    assert simplified(text) == expected
    np.testing.assert_allclose(value(expected), value(text), rtol=1e-9)


def derived(problem: str, wrt: str, kind: str | None = None) -> str:
    result = matcalc.derive(problem, wrt=wrt, kind=kind, check=False)
    assert matcalc.check(result, seed=1).ok
    return result.text


def last_result(problem: str, wrt: str, kind: str | None = None) -> str:
    """The last line of the derived (and proven) result."""
    return derived(problem, wrt, kind).splitlines()[-1]


# --- 1. symmetry inferred from structure -------------------------------------------------------

@st.composite
def symmetric_text(draw, depth: int = 3) -> str:
    """An n x n expression symmetric by its structure: X' S X, v v', inv(S), sums, Hadamard
    products and scalings of symmetric matrices, Diag(v)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(("S", "P", "inv(P)", "I(n)", "Diag(x)", "(x @ x')",
                                     "(A' @ A)", "(A @ A')", "(C' @ C)")))
    inner = draw(symmetric_text(depth - 1))
    other = draw(symmetric_text(depth - 1))
    form = draw(st.sampled_from(("A' @ {0} @ A", "B @ {0} @ B'", "C' @ C @ {0} @ C' @ C",
                                 "{0} + {1}", "{0} - {1}", "{0} * {1}", "a * {0}", "{0} / s",
                                 "-{0}", "x' @ {0} @ x * {1}")))
    return "(" + form.format(inner, other) + ")"


@given(symmetric_text())
def test_symmetry_follows_from_structure(text):
    # the fact is sound: the value equals its transpose at a random point
    matrix = value(text)
    np.testing.assert_allclose(matrix, matrix.T, rtol=1e-9, atol=1e-9)
    prog = program(f"f = {text}")
    assert facts_for(prog).symmetric(prog.definitions["f"].body), text
    # and used: E' is E, E - E' is zero
    assert simplified(f"({text})'") == simplified(text)
    assert simplified(f"{text} - ({text})'") == "zeros(n, n)"


@pytest.mark.parametrize("text", ["A @ S", "A' @ S @ B", "S @ A + A", "x @ y'", "A' @ A @ B",
                                  "S * A", "C' @ D", "inv(A)"])
def test_no_symmetry_without_structure(text):
    matrix = value(text)
    assert not np.allclose(matrix, matrix.T)
    assert not facts_for(program(f"f = {text}")).symmetric(expr(text))


@pytest.mark.parametrize("problem, wrt, expected", [
    # Matrix Cookbook eq. 56 with A symmetric: d logdet(X' A X) / dX = 2 A X inv(X' A X)
    ("X : matrix(n, k); A : matrix(n, n) symmetric\nf = logdet(X' @ A @ X)", "X",
     "df_dX = 2 * A @ X @ inv(X' @ A @ X)"),
    ("X : matrix(n, k); A : matrix(m, n)\nf = logdet(X' @ A' @ A @ X)", "X",
     "df_dX = 2 * A' @ A @ X @ inv(X' @ A' @ A @ X)"),
    ("X : matrix(n, k); a : vector(n)\nf = logdet(X' @ (a @ a' + I(n)) @ X)", "X",
     "df_dX = 2 * Q1 @ X @ inv(X' @ Q1 @ X)"),  # Q1 = a @ a' + I
])
def test_a_symmetric_congruence_doubles(problem, wrt, expected):
    assert last_result(problem, wrt) == expected


# --- 2 and 5. elementwise rational normal form, powers ------------------------------------------

ATOMS = ("p", "s", "(1 + p)", "exp(x)", "sqrt(p)")


@given(st.lists(st.tuples(st.sampled_from(ATOMS), st.sampled_from((-2, -1, 1, 2, 3))),
                min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_products_of_powers_reach_their_normal_form(factors, random):
    # a product of powers of non-zero atoms, written in any order one factor at a time,
    # reaches at most the size of its normal form: each atom once, to its total power
    # (x * x = x .^ 2, sqrt(p) ^ 2 = p), the numerator's powers divided by the denominator's;
    # and keeps the product's value
    def written(order):
        text = "1"
        for atom, power in order:
            for _ in range(abs(power)):
                text = f"({text} {'*' if power > 0 else '/'} {atom})"
        return text

    totals: dict[str, float] = {}
    for atom, power in factors:
        base, unit = ("p", 0.5) if atom == "sqrt(p)" else (atom, 1)
        totals[base] = totals.get(base, 0) + unit * power
    numerator = " * ".join(f"{a} .^ {k}" for a, k in totals.items() if k > 0) or "1"
    normal = numerator + "".join(f" / {a} .^ {-k}" for a, k in totals.items() if k < 0)
    shuffled = list(factors)
    random.shuffle(shuffled)
    expected = value(written(factors))
    for order in (factors, shuffled):
        form = simplified_node(written(order))
        assert size(form) <= size(expr(normal)), (str(form), normal)
        np.testing.assert_allclose(value(str(form)), expected, rtol=1e-9)


@pytest.mark.parametrize("text, expected", [
    ("x * x", "x .^ 2"),
    ("p * p * p / s", "p .^ 3 / s"),
    ("sqrt(p) * sqrt(p) * sqrt(p)", "p .^ 1.5"),
    ("sqrt(p) .^ 3", "p .^ 1.5"),
    ("sqrt(s) ^ 3", "s ^ 1.5"),
    ("1 / sqrt(p) / p", "p .^ -1.5"),
    ("(s * x) / s", "x"),
    ("ones(n) - y", "1 - y"),
    ("(ones(n) - y) * p / p", "1 - y"),
])
def test_elementwise_normal_forms(text, expected):
    assert_simplifies(text, expected)


@pytest.mark.parametrize("problem, wrt, kind, expected", [
    # Bishop (2006) eq. 4.91, labels written with ones(N)
    ("X : matrix(N, d); w : vector(d); y : vector(N)\ns = sigmoid(X @ w)\n"
     "L = -(y' @ log(s) + (ones(N) - y)' @ log(ones(N) - s))", "w", "grad",
     "dL_dw = X' @ (s - y)"),
    ("X : matrix(N, d); w : vector(d); y : vector(N)\ns = sigmoid(X @ w)\n"
     "L = -sum(y * log(s) + (ones(N) - y) * log(ones(N) - s))", "w", "hessian",
     "d2L_dw_dw = X' @ Diag(s * (1 - s)) @ X"),
    # Kingma & Welling (2014) app. B
    ("mu, lv : vector(n)\nKL = 0.5 * sum(exp(lv) + mu .^ 2 - ones(n) - lv)", "lv", "grad",
     "dKL_dlv = 1/2 * (exp(lv) - 1)"),
    # Hartley & Zisserman (2003) sec. A6.8, the pseudo-Huber cost
    ("X : matrix(N, d); w : vector(d); y : vector(N); c : scalar positive\nr = X @ w - y\n"
     "L = c ^ 2 * sum(sqrt(1 + (r / c) .^ 2) - 1)", "w", "grad",
     "dL_dw = X' @ (r / sqrt(1 + (r / c) .^ 2))"),
])
def test_elementwise_results_in_their_book_form(problem, wrt, kind, expected):
    assert last_result(problem, wrt, kind) == expected


# --- 6 and 7. Kronecker chains with a plain form; sizes are numbers ------------------------------

@pytest.mark.parametrize("problem, wrt, kind, expected", [
    # Bishop (2006) sec. 2.3.4: the Gaussian's Hessian in its mean is N inv(S)
    ("X : matrix(N, n); mu : vector(n); S : matrix(n, n) spd\n"
     "L = 0.5 * sum(((X - mu') @ inv(S)) * (X - mu'))", "mu", "hessian",
     "d2L_dmu_dmu = N * inv(S)"),
    ("X : matrix(N, n); mu : vector(n); P : matrix(n, n) spd\n"
     "L = 0.5 * sum(((X - mu') @ P) * (X - mu'))", "mu", "hessian", "d2L_dmu_dmu = N * P"),
    # Hyvarinen et al. (2001) eq. 9.17: N inv(W)'
    ("W : matrix(n, n) invertible; X : matrix(n, N)\nL = sum(ones(N)) * logdet(W)", "W", "grad",
     "dL_dW = N * inv(W)'"),
    ("W : matrix(n, n) invertible; X : matrix(n, N)\nL = (ones(N)' @ ones(N)) * logdet(W)", "W",
     "grad", "dL_dW = N * inv(W)'"),
])
def test_sizes_and_kronecker_chains_in_their_book_form(problem, wrt, kind, expected):
    assert last_result(problem, wrt, kind) == expected


@pytest.mark.parametrize("text, expected", [
    ("sum(ones(N))", "N"), ("ones(N)' @ ones(N)", "N"), ("mean(ones(N))", "1"),
    ("sum(ones(n, m))", "m*n"),
])
def test_sizes_print_as_numbers_in_every_printer(text, expected):
    from matcalc.core.to_sympy import to_sympy
    from matcalc.present.latex import to_latex

    prog = program(f"w : vector(N)\nf = {text}")
    node = Simplifier(facts_for(prog))(prog.definitions["f"].body)
    assert str(node) == expected
    assert to_latex(node).replace(" ", "") in (expected, "m n", "mn", "nm")
    assert str(to_sympy(node)).replace("*", "") in (expected, "mn", "nm")


# --- 4. rows that sum to one ---------------------------------------------------------------------

@pytest.mark.parametrize("smoothed", [
    "(1 - eps) * Y + eps / k",   # Szegedy et al. (2016) sec. 7, label smoothing
    "eps / k + (1 - eps) * Y",
    "(Y + Q) / 2",               # the mean of two label sets
    "2 * Y - Q",                 # an affine combination whose rows still sum to 1
])
def test_rows_that_sum_to_one_through_affine_combinations(smoothed):
    problem = ("X : matrix(N, d); W : matrix(d, k); Y, Q : matrix(N, k) simplex\n"
               f"eps : scalar positive\nYs = {smoothed}\nP = softmax(X @ W)\n"
               "L = -sum(Ys * log(P))")
    assert last_result(problem, "W", "grad") == "dL_dW = X' @ (P - Ys)"


def test_rows_of_unknown_sum_keep_their_row_sums():
    problem = ("X : matrix(N, d); W : matrix(d, k); Y, Q : matrix(N, k)\n"
               "Ys = (Y + Q) / 2\nP = softmax(X @ W)\nL = -sum(Ys * log(P))")
    assert "ones(k)" in derived(problem, "W", "grad")


@pytest.mark.parametrize("body, expected", [
    # Boyd & Vandenberghe (2004) sec. 7.5.2, D-optimal design: (X inv(M) X') .^ 2
    ("M = X' @ Diag(w) @ X\nphi = -logdet(M)", "d2phi_dw_dw = (X @ inv(M) @ X') .^ 2"),
    ("M = X' @ Diag(w) @ X + P\nphi = -logdet(M)", "d2phi_dw_dw = (X @ inv(M) @ X') .^ 2"),
    ("M = X' @ Diag(w) @ X\nphi = logdet(M)", "d2phi_dw_dw = -(X @ inv(M) @ X') .^ 2"),
])
def test_a_hessian_in_weights_is_a_hadamard_square_not_a_kron_chain(body, expected):
    problem = f"X : matrix(N, d); w : vector(N) positive; P : matrix(d, d) spd\n{body}"
    text = derived(problem, "w", "hessian")
    assert text.splitlines()[-1] == expected and "kron" not in text


# --- 3. row and column reductions ------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("G @ ones(d) / d", "mean(G, 1)"),
    ("ones(N)' @ G / N", "mean(G, 0)"),
    ("(G @ ones(d) @ ones(d)') / d", "mean(G, 1) @ ones(d)'"),
    ("G - ones(N) @ ones(N)' @ G / N", "G - mean(G, 0)"),
    ("G - (G @ ones(d) @ ones(d)') / d", "G - mean(G, 1)"),
    ("((c * (G - mean(G, 1))) @ ones(d))", "zeros(N)"),
    ("((G - mean(G, 1)) / c) @ ones(d)", "zeros(N)"),
])
def test_means_along_an_axis(text, expected):
    declarations = "G : matrix(N, d); c : vector(N) positive"
    prog = program(f"f = {text}", declarations)
    node = Simplifier(facts_for(prog))(prog.definitions["f"].body)
    assert str(node) == expected
    check = program(f"f = {text}\ng = {expected}", declarations)
    from matcalc.numeric.evaluate import evaluate
    from matcalc.numeric.sampling import random_instance
    point = random_instance(check, seed=1)
    np.testing.assert_allclose(evaluate(check, "g", point.arrays, sizes=point.sizes),
                               evaluate(check, "f", point.arrays, sizes=point.sizes), atol=1e-12)


@pytest.mark.parametrize("axis", [1, 0])
def test_a_normalisation_backward_pass_has_no_mean_of_a_centred_batch(axis):
    # Ba et al. (2016) eqs. 3-4 (axis 1), Ioffe & Szegedy (2015) (axis 0): the centred batch's
    # sums along the axis are 0, so no term keeps them
    problem = (f"X, G : matrix(N, d)\nmu = mean(X, {axis})\n"
               f"s = sqrt(mean((X - mu) .^ 2, {axis}) + 1e-5)\nXn = (X - mu) / s\nL = G : Xn")
    text = derived(problem, "X", "grad")
    assert "delta3" not in text and f"mean(G, {axis})" in text


# --- 2 and 5. terms over one common denominator; Diag of a difference ---------------------------

@pytest.mark.parametrize("text, expected", [
    # a sum that divides, multiplied by what every term divides by: Black & Anandan (1996) eq. 7
    ("(2 * x / (1 + (x / s) .^ 2)) / s ^ 2", "2 * x / (s ^ 2 + x .^ 2)"),
    # the numerator over the common denominator u ^ 3/2 is u - p ^ 2 = 1
    ("1 / sqrt(1 + p .^ 2) - p .^ 2 / (1 + p .^ 2) .^ 1.5", "(1 + p .^ 2) .^ -1.5"),
    ("1 / sqrt(1 + (x / s) .^ 2) - (x / s) .^ 2 / sqrt(1 + (x / s) .^ 2) .^ 3",
     "(1 + (x / s) .^ 2) .^ -1.5"),
    ("1 / (1 + p) - 1 / (1 + p) .^ 2", "p / (1 + p) .^ 2"),
    # two sums that differ by a factor meet: s ^ 2 + x .^ 2 = s ^ 2 (1 + (x / s) .^ 2)
    ("s ^ 2 / (s ^ 2 + x .^ 2) / sqrt(1 + (x / s) .^ 2)", "(1 + (x / s) .^ 2) .^ -1.5"),
])
def test_terms_over_a_common_denominator(text, expected):
    assert_simplifies(text, expected)


ROBUST = ("X : matrix(N, d); w : vector(d); y : vector(N); c : scalar positive\n"
          "r = X @ w - y\n")


@pytest.mark.parametrize("loss, kind, expected", [
    # Hartley & Zisserman (2003) sec. A6.8: the pseudo-Huber Hessian
    ("c ^ 2 * sum(sqrt(1 + (r / c) .^ 2) - 1)", "hessian",
     "d2L_dw_dw = X' @ Diag((1 + (r / c) .^ 2) .^ -1.5) @ X"),
    ("sum(sqrt(c ^ 2 + r .^ 2))", "hessian",
     "d2L_dw_dw = X' @ Diag(c ^ 2 / (c ^ 2 + r .^ 2) .^ 1.5) @ X"),
    # Black & Anandan (1996) eq. 7: the Cauchy loss, written two ways
    ("sum(log(1 + (r / c) .^ 2))", "grad", "dL_dw = X' @ (2 * r / (c ^ 2 + r .^ 2))"),
    ("sum(log(c ^ 2 + r .^ 2))", "grad", "dL_dw = 2 * X' @ (r / (c ^ 2 + r .^ 2))"),
    ("sum(log(1 + (r / c) .^ 2))", "hessian",
     "d2L_dw_dw = X' @ Diag(2 * (c ^ 2 - r .^ 2) / (c ^ 2 + r .^ 2) .^ 2) @ X"),
])
def test_robust_losses_in_their_book_form(loss, kind, expected):
    assert last_result(ROBUST + f"L = {loss}", "w", kind) == expected


@pytest.mark.parametrize("text, expected", [
    ("Diag(x) @ A - (Diag(y) @ A) / s", "Diag(x - y / s) @ A"),
    ("Diag(x) @ A + a * (Diag(y) @ A)", "Diag(x + a * y) @ A"),
    ("(A @ Diag(x)) / s - A @ Diag(y)", "A @ Diag(x / s - y)"),
    ("B @ A + (C' @ D @ A) / s", "(B + C' @ D / s) @ A"),
])
def test_a_scaled_product_shares_its_factors(text, expected):
    assert_simplifies(text, expected)


# --- 3 and 10. normalisation layers in the book's form; broadcast division in LaTeX -------------

NORMALISED = ("X, G : matrix(N, d)\nmu = mean(X, {axis})\n"
              "s = sqrt(mean((X - mu) .^ 2, {axis}) + {eps})\nXn = (X - mu) / s\nL = G : Xn")


@pytest.mark.parametrize("axis, eps", [(1, "1e-5"), (0, "1e-5"), (1, "0.1"), (0, "2")])
def test_normalisation_backward_in_the_book_form(axis, eps):
    # Ba, Kiros & Hinton (2016) eqs. 3-4 (axis 1), Ioffe & Szegedy (2015) sec. 3 (axis 0):
    # dL/dX = (G - mean(G) - Xn * mean(G * Xn)) / s along the normalised axis
    text = derived(NORMALISED.format(axis=axis, eps=eps), "X")
    assert text == f"dL_dX = (G - Xn * mean(G * Xn, {axis}) - mean(G, {axis})) / s"


@pytest.mark.parametrize("problem, wrt", [
    (NORMALISED.format(axis=1, eps="1e-5"), "X"),
    (NORMALISED.format(axis=0, eps="1e-5"), "X"),
    ("X : matrix(N, d); v : vector(N) positive\nf = sum(log(X / v + 2))", "X"),
    ("X : matrix(N, d); r : vector(d) positive\nf = sum((X / r') .^ 2)", "X"),
    ("X : matrix(N, d); v : vector(N) positive\nf = sum(exp(X) * v)", "X"),
])
def test_a_broadcast_division_is_printed_as_papers_print_it(problem, wrt):
    # a row-wise (column-wise) division is \frac{X}{s}, as the text's X / s, never an outer
    # product 1 r' in a denominator; it reads back as the same derivative
    parsed = matcalc.parse(problem)
    result = matcalc.derive(parsed, wrt=wrt)
    assert matcalc.check(result, seed=1).ok
    latex = result.latex_block(False)
    assert "^\\top}" not in latex and "\\mathbf{1}" not in latex, latex
    verdict = matcalc.verify(parsed, result.variables, latex, of=result.of, kind=result.kind,
                             latex=True)
    assert verdict.ok, (latex, verdict)


# --- 8. exact constants -------------------------------------------------------------------------

@pytest.mark.parametrize("value, text, latex", [
    (0.5, "1/2", r"\frac{1}{2}"), (-0.5, "-1/2", r"-\frac{1}{2}"), (0.25, "1/4", r"\frac{1}{4}"),
    (1 / 3, "1/3", r"\frac{1}{3}"), (0.75, "3/4", r"\frac{3}{4}"),
    (math.pi, "pi", r"\pi"), (2 * math.pi, "2 * pi", r"2 \pi"),
    (1 / math.sqrt(2 * math.pi), "1 / sqrt(2 * pi)", r"\frac{1}{\sqrt{2 \pi}}"),
    (2 / math.sqrt(math.pi), "2 / sqrt(pi)", r"\frac{2}{\sqrt{\pi}}"),
    (1 / math.sqrt(2), "1 / sqrt(2)", r"\frac{1}{\sqrt{2}}"),
])
def test_constants_print_exactly_and_read_back_in_every_reader(value, text, latex):
    import sympy

    from matcalc.core import ir
    from matcalc.core.to_sympy import to_sympy
    from matcalc.lang.answers import read_answer
    from matcalc.present.latex import to_latex

    assert str(ir.const(value)) == text and to_latex(ir.const(value)) == latex
    for form in ("{} * x", "x / {}", "{} - x", "x .^ 2 * {}"):  # in every position
        node = simplified_node(form.format(repr(value)))
        printed, set_ = str(node), to_latex(node)
        assert not re.search(r"[0-9]\.[0-9]{3}", printed + set_), (printed, set_)
        prog = program(f"f = {printed}")
        for reread in (prog.definitions["f"].body, read_answer(prog, set_, True)[1]):
            np.testing.assert_allclose(value_of(prog, reread), value_of(prog, node), rtol=1e-14)
    exact_value = to_sympy(ir.const(value))
    assert not exact_value.is_Float and abs(float(exact_value) - value) < 1e-15
    assert exact_value.has(sympy.pi) == ("pi" in text)


def value_of(prog, node):
    from matcalc.numeric.evaluate import prepare
    from matcalc.numeric.sampling import random_instance

    instance = random_instance(prog, seed=1)
    return np.asarray(prepare(prog, instance.arrays, instance.sizes).value(node))


@pytest.mark.parametrize("value", [0.1, 0.2, 1.5, 1e-5, 0.3, 2.5, 3.0])
def test_other_numbers_print_as_they_are(value):
    node = simplified_node(f"{value!r} * x")
    assert "/" not in str(node) and "pi" not in str(node)


def test_gelu_derivative_prints_its_constants_exactly():
    # Hendrycks & Gimpel (2016): GELU'(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    result = matcalc.derive("x, G : vector(n)\nL = G' @ gelu(x)", wrt="x")
    assert "1 / sqrt(2 * pi)" in result.text and "1/2" in result.text
    assert r"\frac{1}{\sqrt{2 \pi}}" in result.latex and "0.39" not in result.latex
    assert "pi" in str(result.expr) and "0.39" not in str(result.expr)
    parsed = matcalc.parse("x, G : vector(n)\nL = G' @ gelu(x)")
    for answer, latex in ((result.text.split("=", 1)[1], False), (result.latex, True)):
        assert matcalc.verify(parsed, "x", answer, latex=latex).ok


def test_pi_is_the_constant_unless_the_problem_names_it():
    constant = matcalc.parse("x : vector(n)\nf = pi * sum(x)").definitions["f"].body
    assert str(constant) == "pi * sum(x)" and constant.args[0].params == (math.pi,)
    named = matcalc.parse("pi : vector(k) simplex\nf = sum(pi)").definitions["f"].body
    assert named.args[0].op == "var"
    # a problem with its own pi gets the number printed, which reads back as the constant
    result = matcalc.derive("pi : vector(k) simplex; x : vector(k)\nL = pi' @ gelu(x)", wrt="x")
    assert "sqrt(2 * pi)" not in result.text and "0.3989" in result.text
    assert r"\sqrt{2 \pi}" not in result.latex


# --- 9. one delta per quantity -------------------------------------------------------------------

ATTENTION = ("Xq : matrix(n, m); Xk, Xv : matrix(N, m); Wq, Wk : matrix(m, d); Wv : matrix(m, e)\n"
             "G : matrix(n, e)\nQ = Xq @ Wq\nK = Xk @ Wk\nV = Xv @ Wv\n"
             "P = softmax(Q @ K' / sqrt(d))\nL = G : (P @ V)")


@pytest.mark.parametrize("problem, names", [
    (ATTENTION, ["Wq", "Wk"]),
    (ATTENTION.replace("softmax(Q @ K' / sqrt(d))", "softmax(Q @ K')"), ["Wq", "Wk"]),
    # a bilinear form x' A y with both sides computed
    ("W, U : matrix(n, m); x, y : vector(m); A : matrix(n, n)\na = tanh(W @ x)\nb = tanh(U @ y)\n"
     "L = a' @ A @ b", ["W", "U"]),
])
def test_every_request_names_the_same_deltas(problem, names):
    # Vaswani et al. (2017) eq. 1: the scores' cotangent is one quantity; a request for the
    # query weights alone names it as the joint request does, and does not fold K into it
    joint = matcalc.derive(problem, wrt=names)
    assert all(verdict.ok for verdict in matcalc.check(joint, seed=1))
    shared = dict(line.split(" = ", 1) for line in joint.text.splitlines()
                  if line.startswith("delta"))
    for name in names:
        alone = matcalc.derive(problem, wrt=name)
        assert matcalc.check(alone, seed=1).ok
        for line in alone.text.splitlines():
            if line.startswith("delta"):
                delta, body = line.split(" = ", 1)
                assert shared.get(delta) == body, (alone.text, joint.text)


# --- generated code: no product with a dense matrix of ones --------------------------------------

@pytest.mark.parametrize("body", [
    "F = X @ (ones(d) @ ones(d)')\nL = G : F",
    "F = ones(N, N) @ X + X @ ones(d, d)\nL = G : exp(F)",
    "F = (ones(N) @ ones(N)') @ X @ (ones(d) @ ones(d)')\nL = G : tanh(F)",
    NORMALISED.format(axis=1, eps="1e-5").split("\n", 1)[1],
])
def test_generated_code_takes_sums_not_products_with_ones(body):
    from helpers import assert_generated_code_matches

    from matcalc.codegen.module import generate

    results = matcalc.derive(f"X, G : matrix(N, d)\n{body}", wrt=["X"])
    source = generate(list(results), backend="numpy")
    # the module never builds an N x N or d x d matrix of ones, nor multiplies by one
    assert not re.search(r"ones\(\((_size_\w+), 1\)[^\n]*@ _t\d+\)", source), source
    assert_generated_code_matches(results, "numpy")


@pytest.mark.parametrize("text, expected", [
    ("p / p", "ones(n)"),
    ("p * (1 / p)", "ones(n)"),
    ("2 * p / p", "2 * ones(n)"),
    ("((((((1 / sqrt(p)) / sqrt(p)) / sqrt(p)) * sqrt(p)) * sqrt(p)) * sqrt(p))", "ones(n)"),
    ("(A * A) / (A .^ 2)", "ones(n, n)"),
])
def test_a_product_whose_powers_all_cancel_is_a_constant_of_its_shape(text, expected):
    # every factor cancelled: the value is a number in every entry, with the product's shape
    assert_simplifies(text, expected)


# --- products of diagonal matrices: Diag of the entrywise product, then elementwise algebra ------

@pytest.mark.parametrize("text, expected", [
    ("Diag(vec(1 / R)) @ Diag(vec(R))", "I(m*n)"),
    ("Diag(vec(R)) @ Diag(vec(1 / R))", "I(m*n)"),
    ("Diag(1 / p) @ Diag(p)", "I(n)"),
    ("Diag(p) @ inv(Diag(p))", "I(n)"),
    ("inv(Diag(p)) @ Diag(x)", "Diag(x / p)"),
    ("Diag(x) @ inv(Diag(p))", "Diag(x / p)"),
    ("inv(Diag(p)) @ inv(Diag(x))", "inv(Diag(p * x))"),
    ("A @ Diag(x) @ Diag(y)", "A @ Diag(x * y)"),
    ("A @ Diag(x) @ (Diag(1 / x) @ B)", "A @ B"),
    ("(A @ Diag(p)) @ ((inv(Diag(p)) @ B) @ A)", "A @ (B @ A)"),  # the grouping kept
    ("Diag(vec(R)) @ Diag(vec(Y))", "Diag(vec(R * Y))"),
    ("vec(R) / vec(Y)", "vec(R / Y)"),
    ("Diag(vec(ones(m, n))) @ vec(C)", "vec(C)"),
    ("Diag(x) ^ 2 @ Diag(y)", "Diag(x .^ 2 * y)"),
    ("A @ Diag(p) ^ 2 @ inv(Diag(p))", "A @ Diag(p)"),
])
def test_diagonal_factors_multiply_entry_by_entry(text, expected):
    assert_simplifies(text, expected)


# --- piecewise identities: a factor that is 1 wherever the other is not 0 ------------------------

PIECEWISE = [
    ("relu(x) * step(x)", "relu(x)"),
    ("step(x) * relu(x) .^ 3", "relu(x) .^ 3"),
    ("maximum(x - y, 0) * step(x - y)", "maximum(x - y, 0)"),
    ("2 * maximum(0, x) .^ 2 * step(x)", "2 * maximum(0, x) .^ 2"),
    ("relu(x) * sign(x)", "relu(x)"),
    ("abs(x) * sign(x)", "x"),
    ("a * abs(x) .^ 3 * sign(x)", "a * abs(x) .^ 2 * x"),
    ("abs(x) * c / (c + abs(x)) * sign(x)", "c * x / (c + abs(x))"),
    ("step(x) * step(x)", "step(x)"),
    ("abs(x) / x", "sign(x)"),
    ("x / abs(x)", "sign(x)"),
]


@pytest.mark.parametrize("text, expected", PIECEWISE)
def test_piecewise_factors_drop_where_they_are_one(text, expected):
    assert_simplifies(text, expected)


@pytest.mark.parametrize("text, expected", [p for p in PIECEWISE if "/ x" not in p[0]
                                            and "/ abs(x)" not in p[0]])
def test_piecewise_identities_hold_at_the_kink_too(text, expected):
    # step(0) = sign(0) = relu(0) = abs(0) = 0: the simplified form agrees where x has zeros
    # (random points keep away from kinks; these rules must hold on them as well)
    arrays = point()
    arrays["x"] = np.array([0.0, -1.5, 2.0])
    arrays["y"] = np.array([0.0, 1.0, -1.0])
    assert simplified(text) == expected
    np.testing.assert_allclose(value(simplified(text), arrays), value(text, arrays), rtol=1e-12)


@pytest.mark.parametrize("problem, wrt, expected", [
    ("x : vector(n)\nf = sum(relu(x) .^ 2)", "x", "df_dx = 2 * relu(x)"),
    ("x : vector(n)\nf = sum(maximum(x, 0) .^ 3)", "x", "df_dx = 3 * maximum(x, 0) .^ 2"),
    ("x : vector(n)\nf = sum(abs(x) .^ 3)", "x", "df_dx = 3 * abs(x) * x"),
    ("X : matrix(N, d); y : vector(N); w : vector(d)\n"
     "f = sum(maximum(1 - y * (X @ w), 0) .^ 2)", "w",
     "df_dw = -2 * X' @ (maximum(1 - y * (X @ w), 0) * y)"),
])
def test_gradients_of_piecewise_powers_drop_the_indicator(problem, wrt, expected):
    assert last_result(problem, wrt) == expected

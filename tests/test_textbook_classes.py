"""Textbook forms by class, continued: mirror identities of functions, quotients by norms and
named quotients, brackets a reader does not need, a bare identity, deltas' signs, rows scaled by
a Diag, terms of longer sums sharing a factor.

Each class is tested on several instances; every simplified form is checked for its value at a
random point, and every derived result is proven by finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import proven_and_read_back, same_value_over, simplified_over
from hypothesis import given, settings
from hypothesis import strategies as st

import matcalc
from matcalc.core.functions import FUNCTIONS
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

DECLARATIONS = """
t, v, w : vector(n)
y : vector(n) pm1
a : scalar positive
A : matrix(n, n)
H : matrix(n, n)
u : vector(m)
B : matrix(m, n)
"""


def simplified(text: str) -> str:
    return simplified_over(DECLARATIONS, text)


def same_value(text: str, other: str, seed: int = 3) -> bool:
    return same_value_over(DECLARATIONS, text, other, seed)


def derived(problem: str, wrt: str, kind: str | None = None) -> str:
    result = matcalc.derive(problem, wrt=wrt, kind=kind, check=False)
    assert matcalc.check(result, seed=1).ok
    return result.text


# --- mirror identities: f(-x) = a + b f(x) + c x -----------------------------------------------

MIRRORED = sorted(name for name, row in FUNCTIONS.items() if row.mirror is not None)


@pytest.mark.parametrize("name", MIRRORED)
def test_every_mirror_identity_holds(name):
    a, b, c = FUNCTIONS[name].mirror
    prog = matcalc.parse(f"x : vector(n)\nf = {name}(-x)\ng = {a} + {b} * {name}(x) + {c} * x")
    for seed in range(3):
        instance = random_instance(prog, seed=seed)
        np.testing.assert_allclose(evaluate(prog, "f", instance.arrays, sizes=instance.sizes),
                                   evaluate(prog, "g", instance.arrays, sizes=instance.sizes),
                                   rtol=1e-12, atol=1e-12)


def test_functions_without_a_mirror_identity_have_none():
    # step(-0) = 0 but 1 - step(0) = 1: no identity for every x
    assert FUNCTIONS["step"].mirror is None
    assert FUNCTIONS["exp"].mirror is None


@pytest.mark.parametrize("text, expected", [
    ("sigmoid(a * t) - sigmoid(-(a * t))", "2 * sigmoid(a * t) - 1"),
    ("v * sigmoid(a * t) + v * sigmoid(-(a * t))", "v"),
    ("w + tanh(t) + tanh(-t)", "w"),
    ("sin(-t) * v + sin(t) * v + w", "w"),
    ("cos(-t) - cos(t) + v", "v"),
    ("softplus(t) - softplus(-t)", "t"),
    ("abs(-t) * v - abs(t) * v + w", "w"),
    # a function of y * t with y = +-1: the function of t, y's square being 1
    ("sigmoid(y * t) * sigmoid(-(y * t))", "sigmoid(t) - sigmoid(t) .^ 2"),
    ("cos(y * t) - cos(t) + v", "v"),
    ("y * tanh(y * t)", "tanh(t)"),
])
def test_functions_meet_their_mirror_images(text, expected):
    assert simplified(text) == expected
    assert same_value(text, expected)


@pytest.mark.parametrize("text", ["sigmoid(-t)", "sigmoid(-t) * v", "tanh(-t) + v",
                                  "step(-t) + step(t)", "sigmoid(v * t) * sigmoid(-(v * t))"])
def test_a_lone_mirror_image_or_a_factor_of_unknown_sign_stays(text):
    assert simplified(text) == str(matcalc.parse(DECLARATIONS + f"f = {text}")
                                   .definitions["f"].body)


@pytest.mark.parametrize("problem, wrt, kind, expected", [
    # Schmidt, Fung & Rosales (2007) sec. 2.1: the smooth absolute value's derivative
    ("X : matrix(N, d); w : vector(d); r0 : vector(N); a : scalar positive\nr = X @ w - r0\n"
     "L = sum(softplus(a * r) + softplus(-a * r)) / a", "w", None,
     "dL_dw = X' @ (2 * sigmoid(a * r) - 1)"),
    # labels in {-1, +1}: the logistic Hessian's weights are those of the 0/1 labels
    ("X : matrix(N, d); w : vector(d); y : vector(N) pm1\nL = sum(log(1 + exp(-y * (X @ w))))",
     "w", "hessian", "d2L_dw_dw = X' @ Diag(sigmoid(X @ w) * sigmoid(-X @ w)) @ X"),
    ("X : matrix(N, d); w : vector(d); y : vector(N) pm1\nL = sum(softplus(y * (X @ w)))",
     "w", "hessian", "d2L_dw_dw = X' @ Diag(sigmoid(X @ w) * sigmoid(-X @ w)) @ X"),
])
def test_mirror_identities_in_derived_results(problem, wrt, kind, expected):
    assert derived(problem, wrt, kind) == expected


# --- quotients by norms; named quotients ---------------------------------------------------

@pytest.mark.parametrize("problem, wrt, expected", [
    # cosine similarity (Chen et al. 2020, sec. 2.1)
    ("a, b : vector(n)\nC = a' @ b / (norm2(a) * norm2(b))", "a",
     "dC_da = (b / norm2(b) - C * a / norm2(a)) / norm2(a)"),
    ("a, b : vector(n)\nC = b' @ a / (norm2(b) * norm2(a))", "a",
     "dC_da = (b / norm2(b) - C * a / norm2(a)) / norm2(a)"),
    # rows scaled to unit length (NormFace, Wang et al. 2017, eq. 4)
    ("X, G : matrix(N, d)\nn = sqrt(sum(X .^ 2, 1))\nY = X / n\nL = G : Y", "X",
     "dL_dX = (G - Y * ((G * Y) @ ones(d))) / n"),
    # batched RMS normalisation (Zhang & Sennrich 2019, sec. 4)
    ("X, G : matrix(N, d)\nr = sqrt(mean(X .^ 2, 1) + 1e-6)\nY = X / r\nL = G : Y", "X",
     "dL_dX = (G - Y * mean(G * Y, 1)) / r"),
    # a vector over its norm, the norm named (Matrix Cookbook eq. 129 with the chain rule)
    ("x, mu : vector(n); S : matrix(n, n) spd\nD = sqrt((x - mu)' @ inv(S) @ (x - mu))", "x",
     "dD_dx = inv(S) @ (x - mu) / D"),
    ("x : vector(n)\nf = norm2(x)", "x", "df_dx = x / f"),
])
def test_quotients_by_norms_in_their_book_form(problem, wrt, expected):
    assert derived(problem, wrt) == expected


# --- brackets a reader does not need; a bare identity --------------------------------------

@pytest.mark.parametrize("text, printed", [
    ("(v * t) / a", "v * t / a"),
    ("(v * t) / w", "v * t / w"),
    ("(A @ t) / a", "A @ t / a"),
    ("(A @ t) * a", "A @ t * a"),
    ("(A @ t) / w", "(A @ t) / w"),  # elementwise by a vector: A @ (t / w) differs
    ("(A @ t) * w", "(A @ t) * w"),
    ("a * I(n) + H", "a * I + H"),
    ("I(n) - t @ t' / a", "I - t @ t' / a"),
    ("H - I(n) / a", "H - I / a"),
    ("a * I(n)", "a * I(n)"),  # nothing beside it gives the size
])
def test_printed_without_brackets_or_sizes_a_reader_does_not_need(text, printed):
    node = matcalc.parse(DECLARATIONS + f"f = {text}").definitions["f"].body
    assert str(node) == printed
    again = matcalc.parse(DECLARATIONS + f"f = {printed}").definitions["f"].body
    assert again == node


@pytest.mark.parametrize("problem, wrt, kind, expected", [
    ("X : matrix(N, d); w : vector(d); y : vector(N); lam : scalar positive\n"
     "L = sum(softplus(X @ w)) - y' @ X @ w + lam / 2 * w' @ w", "w", "hessian",
     "d2L_dw_dw = lam * I + X' @ Diag(sigmoid(X @ w) * sigmoid(-X @ w)) @ X"),
    ("A : matrix(n, n) spd; x : vector(n)\nf = log(x' @ A @ x)", "x", None,
     "df_dx = 2 * A @ x / (x' @ A @ x)"),
    ("x : vector(n)\nf = norm2(x)", "x", "hessian", "d2f_dx_dx = (I - x @ x' / f ^ 2) / f"),
])
def test_derived_results_read_as_books_print_them(problem, wrt, kind, expected):
    assert derived(problem, wrt, kind) == expected


# --- terms of a longer sum sharing a factor -------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("u - B @ t + B @ v", "u - B @ (t - v)"),
    ("B @ t + u - B @ v", "B @ (t - v) + u"),
    ("t - A @ v - A @ w", "t - A @ (v + w)"),
    ("v @ a + t - w @ a", "(v - w) @ a + t"),
])
def test_terms_of_a_longer_sum_share_their_factors(text, expected):
    got = simplified(text)
    assert got == expected
    assert same_value(text, got)


# --- a delta's sign; a result that is a delta; rows scaled by a Diag -----------------------

@pytest.mark.parametrize("problem, wrt, expected", [
    # matrix factorisation with row biases (Koren, Bell & Volinsky 2009, eqs. 3-5)
    ("X : matrix(m, n); U : matrix(m, k); V : matrix(n, k); b : vector(m)\n"
     "L = 0.5 * norm(X - U @ V' - b) ^ 2", ["U", "b"],
     "delta1 = b - (X - U @ V')\ndL_dU = delta1 @ V\ndL_db = delta1 @ ones(n)"),
    ("X : matrix(m, n); U : matrix(m, k); V : matrix(n, k)\n"
     "L = 0.5 * norm(X - U @ V') ^ 2", ["U", "V"],
     "delta1 = U @ V' - X\ndL_dU = delta1 @ V\ndL_dV = delta1' @ U"),
])
def test_a_delta_takes_the_sign_its_users_need(problem, wrt, expected):
    results = matcalc.derive(problem, wrt=wrt, check=False)
    assert all(verdict.ok for verdict in matcalc.check(results, seed=1))
    assert results.text == expected


@pytest.mark.parametrize("problem, wrt, expected", [
    # a score bias (Raffel et al. 2020, sec. 2.1): the softmax backward P * (dP - rowsum(P * dP))
    ("Q : matrix(n, d); K : matrix(m, d); V : matrix(m, e); G : matrix(n, e); "
     "B : matrix(n, m)\nP = softmax(Q @ K' / sqrt(d) + B)\nL = G : (P @ V)", "B",
     "delta1 = G @ V'\ndL_dB = P * (delta1 - (P * delta1) @ ones(m))"),
    ("Z, G : matrix(n, m)\nP = softmax(Z)\nL = G : P", "Z",
     "dL_dZ = P * (G - (P * G) @ ones(m))"),
])
def test_rows_scaled_by_a_diag_meet_the_other_terms(problem, wrt, expected):
    results = matcalc.derive(problem, wrt=wrt, check=False)
    assert matcalc.check(results, seed=1).ok
    assert results.text == expected


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["sigmoid", "tanh", "sin", "cos", "softplus", "erf", "abs"]),
       st.sampled_from(["t", "a * t", "t - v", "A @ t"]),
       st.sampled_from(["-1", "1", "2", "a"]), st.sampled_from(["-1", "1", "0.5"]))
def test_sums_of_a_function_and_its_mirror_image_keep_their_value(name, argument, p, q):
    text = f"{p} * {name}({argument}) * v + {q} * {name}(-({argument})) * v"
    got = simplified(text)
    assert same_value(text, got)


@pytest.mark.parametrize("source, wrt, expected", [
    # a column softmax is the transpose of a row softmax of X': its quotient cancels through
    # the transpose as the row softmax's does
    ("X : matrix(n, k)\ny : matrix(n, k)\nL = sum(y * log(softmax(X, 0)))", "X",
     "dL_dX = y - softmax(X, 0) @ Diag(y' @ ones(n))"),
    ("X : matrix(n, k)\ny : matrix(n, k)\nL = sum(y * log_softmax(X, 0))", "X",
     "dL_dX = y - softmax(X, 0) @ Diag(y' @ ones(n))"),
    ("A, B : matrix(n, n) positive\nL = sum(log(A * B'))", "A", "dL_dA = 1 / A"),
])
def test_a_hadamard_product_with_a_transposed_factor_takes_the_outer_transpose(
        source, wrt, expected):
    result = matcalc.derive(source, wrt=wrt)
    assert result.text.splitlines()[-1] == expected
    assert result.checked.ok


# --- functions of the table written with exponentials ----------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("(exp(t) - exp(-t)) / (exp(t) + exp(-t))", "tanh(t)"),
    ("(1 - exp(-2 * t)) / (1 + exp(-2 * t))", "tanh(t)"),
    ("(exp(2 * t) - 1) / (exp(2 * t) + 1)", "tanh(t)"),
    ("v * (exp(t) - exp(w)) / a / (exp(w) + exp(t))", "v * tanh((t - w) / 2) / a"),
    ("(1/2 / ((exp(t) + exp(-t)) / 2)) * (exp(t) - exp(-t))", "tanh(t)"),
    ("1 / (1 + exp(-t))", "sigmoid(t)"),
    ("exp(t) / (exp(t) + 1)", "sigmoid(t)"),
    ("v * exp(t) / (exp(t) + exp(w))", "v * sigmoid(t - w)"),
    ("(v / (exp(t) + 1)) * exp(t)", "v * sigmoid(t)"),
    ("exp(w) / (exp(t) + exp(w))", "sigmoid(w - t)"),
])
def test_quotients_of_exponentials_are_the_tables_functions(text, expected):
    got = simplified(text)
    assert got == expected
    assert same_value(text, got)


@pytest.mark.parametrize("text", [
    "(exp(t) + exp(-t)) / (exp(t) - exp(-t))",  # coth: not in the table
    "(exp(t) - exp(w)) / (exp(t) + exp(v))",  # different exponents
    "exp(v) / (exp(t) + exp(w))",
    "(exp(t) - exp(-t)) / (exp(t) + 2 * exp(-t))",
])
def test_quotients_of_other_exponentials_stay(text):
    got = simplified(text)
    assert "tanh" not in got and "sigmoid" not in got
    assert same_value(text, got)


@pytest.mark.parametrize("problem, wrt, kind, expected", [
    # the log-cosh loss, cosh with exponentials (Neuneier & Zimmermann 1998, sec. 17.3.1)
    ("X : matrix(N, d); w : vector(d); y : vector(N)\nr = X @ w - y\n"
     "L = sum(log((exp(r) + exp(-r)) / 2))", "w", None, "dL_dw = X' @ tanh(r)"),
    ("X : matrix(N, d); w : vector(d); y : vector(N)\nr = X @ w - y\n"
     "L = sum(log(exp(r) + exp(-r)))", "w", "hessian",
     "d2L_dw_dw = X' @ Diag(1 - tanh(r) .^ 2) @ X"),
    ("x : vector(n); c : scalar positive\nL = c * sum(log(exp(x / c) + exp(-x / c)))", "x",
     None, "dL_dx = tanh(x / c)"),
    # two-entry log-sum-exp: the softmax of two entries is a sigmoid of their difference
    ("x, y : vector(n)\nL = sum(log(exp(x) + exp(y)))", "x", None, "dL_dx = sigmoid(x - y)"),
    ("x, y : vector(n)\nL = sum(log(exp(x) + exp(y)))", "x", "hessian",
     "d2L_dx_dx = Diag(sigmoid(x - y) * sigmoid(y - x))"),
    # tanh written through exp(2 u)
    ("W : matrix(m, n); x : vector(n); g : vector(m)\nu = W @ x\n"
     "L = g' @ log(exp(2 * u) + 1)", "x", None, "dL_dx = 2 * W' @ (g * sigmoid(2 * u))"),
])
def test_derived_results_name_the_tables_functions(problem, wrt, kind, expected):
    assert proven_and_read_back(problem, wrt, kind) == expected


# --- a softmax's adjoint drops what is constant along its axis; named quantities by name --------

@pytest.mark.parametrize("text, expected", [
    ("softmax(t) * ((v + a) - softmax(t)' @ (v + a))", "softmax(t) * (v - softmax(t)' @ v)"),
    ("softmax(t) * ((v - 1) - softmax(t)' @ (v - 1))", "softmax(t) * (v - softmax(t)' @ v)"),
    ("softmax(t) * ((2 - a * v) - softmax(t)' @ (2 - a * v))",
     "softmax(t) * (a * (softmax(t)' @ v - v))"),
    ("softmax(A) * ((H + a) - ((softmax(A) * (H + a)) @ ones(n)) @ ones(n)')",
     "softmax(A) * (H - (softmax(A) * H) @ ones(n))"),
])
def test_what_is_constant_along_a_softmax_leaves_its_adjoint(text, expected):
    got = simplified(text)
    assert got == expected
    assert same_value(text, got)


@pytest.mark.parametrize("text", [
    "exp(t) * ((v + a) - exp(t)' @ (v + a))",  # entries not summing to one
    "softmax(t) * ((v + w) - softmax(t)' @ (v + w))",  # nothing constant
    "softmax(A) * ((H + ones(n) @ w') - ((softmax(A) * (H + ones(n) @ w')) @ ones(n)) @ ones(n)')",
])
def test_what_varies_along_the_axis_stays_in_the_adjoint(text):
    got = simplified(text)
    assert same_value(text, got)
    assert "w" in got or "a" in got


@pytest.mark.parametrize("problem, wrt, expected", [
    # the entropy of a softmax in its logits (Cover & Thomas 2006, eq. 2.1; Zhai et al. 2023)
    ("z : vector(n)\np = softmax(z)\nH = -sum(p * log(p))", "z", "dH_dz = p * (-log(p) - H)"),
    ("z : vector(n)\np = softmax(z)\nH = -(p' @ log(p))", "z", "dH_dz = p * (-log(p) - H)"),
    ("z : vector(n)\np = softmax(z)\nE = sum(p * log(p))", "z", "dE_dz = p * (log(p) - E)"),
    ("W : matrix(k, n); x : vector(n)\np = softmax(W @ x)\nH = -sum(p * log(p))", "x",
     "dH_dx = W' @ (p * (-log(p) - H))"),
    # a row-wise softmax: the constant 1 of d(P log P) leaves the adjoint
    ("Z : matrix(n, m)\nP = softmax(Z)\nH = -sum(P * log(P))", "Z",
     "dH_dZ = P * ((P * log(P)) @ ones(m) - log(P))"),
    # an expectation under a softmax, named: its gradient uses the name
    ("z, a : vector(n); c : scalar\np = softmax(z)\nf = p' @ (a + c * log(p))", "z",
     "df_dz = p * (a + c * log(p) - f)"),
])
def test_softmax_expectations_and_entropies_by_name(problem, wrt, expected):
    assert proven_and_read_back(problem, wrt) == expected


# --- a function with a kink times its own indicator; the complement of a named quantity -------

@pytest.mark.parametrize("text, expected", [
    ("abs(v) * sign(v)", "v"),
    ("w * sign(v) * abs(v)", "w * v"),
    ("w * abs(v) / a * sign(v)", "w * v / a"),
    ("relu(v) * step(v)", "relu(v)"),
    ("maximum(v, 0) * step(v)", "maximum(v, 0)"),
    ("w * maximum(0, v - t) * step(v - t)", "w * maximum(0, v - t)"),
    ("step(v) * step(v)", "step(v)"),
])
def test_a_kinked_function_times_its_indicator(text, expected):
    got = simplified(text)
    assert got == expected
    assert same_value(text, got)


@pytest.mark.parametrize("text", [
    "abs(v) * sign(w)", "maximum(v, 1) * step(v)", "relu(v) * step(w)", "abs(v) / sign(v)",
])
def test_other_kinks_and_indicators_stay(text):
    got = simplified(text)
    assert got == str(matcalc.parse(DECLARATIONS + f"f = {text}").definitions["f"].body)


@pytest.mark.parametrize("problem, wrt, expected", [
    # the squared hinge (L2-SVM; Chang, Hsieh & Lin 2008, eq. 3)
    ("X : matrix(N, d); w : vector(d); y : vector(N) pm1; C : scalar positive\n"
     "L = 0.5 * w' @ w + C * sum(maximum(1 - y * (X @ w), 0) .^ 2)", "w",
     "dL_dw = -2 * X' @ (C * maximum(1 - y * (X @ w), 0) * y) + w"),
    # the Fair loss (Zhang 1997, table 1): |r| sign(r) = r
    ("X : matrix(N, d); w : vector(d); y : vector(N); c : scalar positive\nr = X @ w - y\n"
     "L = c ^ 2 * sum(abs(r) / c - log(1 + abs(r) / c))", "w",
     "dL_dw = X' @ (r * c / (c + abs(r)))"),
    # the complementary log-log link (McCullagh & Nelder 1989, sec. 4.3.1): 1 - p = exp(-e)
    ("X : matrix(N, d); w : vector(d); y : vector(N)\np = 1 - exp(-exp(X @ w))\n"
     "L = -sum(y * log(p) + (1 - y) * log(1 - p))", "w",
     "dL_dw = X' @ ((1 - y / p) * exp(X @ w))"),
    ("x : vector(n)\nq = 1 - exp(-x)\nf = sum(log(1 - q))", "x", "df_dx = -ones(n)"),
    ("x, a : vector(n)\nq = exp(x) - 1\nf = a' @ log(q + 1)", "x", "df_dx = a"),
])
def test_kinks_and_complements_in_derived_results(problem, wrt, expected):
    assert proven_and_read_back(problem, wrt) == expected


# --- a forward quantity the results repeat gets a name ------------------------------------------

@pytest.mark.parametrize("problem, wrt, kind, expected", [
    # log of a quadratic form (Boyd & Vandenberghe 2004, sec. 3.1.5): q = x' A x
    ("A : matrix(n, n) spd; x : vector(n)\nf = log(x' @ A @ x)", "x", "hessian",
     "q1 = x' @ A @ x\nd2f_dx_dx = 2 * (A - 2 * A @ x @ x' @ A / q1) / q1"),
    ("A : matrix(n, n) spd; x : vector(n); c : scalar positive\nf = c * log(x' @ A @ x + c)",
     "x", "hessian", "q1 = x' @ A @ x + c\n"
     "d2f_dx_dx = c * (2 * A - 4 * A @ x @ x' @ A / q1) / q1"),
    # the square of a squared residual norm (Neudecker 2019, ch. 10): r = A x - b
    ("A : matrix(m, n); x : vector(n); b : vector(m)\nf = ((A @ x - b)' @ (A @ x - b)) ^ 2",
     "x", None, "q1 = A @ x - b\ndf_dx = (4 * q1' @ q1) * (A' @ q1)"),
    # a gated unit (SwiGLU, Shazeer 2020): A = X W named where the gate's derivative repeats it
    ("X : matrix(N, d); W, V : matrix(d, f); W2 : matrix(f, d); G : matrix(N, d)\n"
     "L = G : ((X @ W * sigmoid(X @ W) * (X @ V)) @ W2)", "W", None,
     "Q1 = X @ W\ndL_dW = X' @ ((G @ W2') * (X @ V) * sigmoid(Q1) * (1 + Q1 - Q1 * sigmoid(Q1)))"),
    # attention with a learned bias slope (ALiBi, Press et al. 2022): P named
    ("Q : matrix(n, d); K : matrix(t, d); V : matrix(t, e); G : matrix(n, e); B : matrix(n, t);"
     " m : scalar\nL = G : (softmax(Q @ K' / sqrt(d) + m * B) @ V)", "m", None,
     "Q1 = softmax(Q @ K' / sqrt(d) + m * B)\nQ2 = G @ V'\n"
     "dL_dm = Q1 * (Q2 - (Q1 * Q2) @ ones(t)) : B"),
])
def test_repeated_forward_quantities_are_named(problem, wrt, kind, expected):
    assert proven_and_read_back(problem, wrt, kind) == expected


@pytest.mark.parametrize("problem, wrt, kind", [
    ("A : matrix(n, n) spd; x : vector(n)\nf = log(x' @ A @ x)", "x", None),  # used once
    ("L : matrix(n, n) lower; y : vector(n)\nf = y' @ inv(L) @ inv(L)' @ y", "y", None),
    ("x, mu : vector(n); S : matrix(n, n) spd\nL = (x - mu)' @ inv(S) @ (x - mu) / 2", "mu",
     None),  # the whole result
])
def test_quantities_used_once_small_or_whole_stay_written_out(problem, wrt, kind):
    text = proven_and_read_back(problem, wrt, kind)
    assert "q1" not in text and "Q1" not in text, text

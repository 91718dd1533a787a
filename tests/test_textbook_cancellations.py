"""Textbook forms by class: inverses of products taken apart so that they cancel, numbers that
meet across a matrix product or a named delta, quotients nested over one denominator, scalars
out of a trace or a diagonal, a repeated tensor named.

Each class is tested on several instances; every simplified form is checked for its value at a
random point, and every derived result is proven by finite differences, read back from its
text and its LaTeX, and run as NumPy code.
"""

from __future__ import annotations

import pytest
from helpers import proven_and_read_back, same_value_over, simplified_over

DECLARATIONS = """
r, q : vector(n)
p : vector(n) positive
X : matrix(n, d)
z : vector(d)
a, b, c, nu : scalar positive
A, B, C : matrix(n, n) invertible
"""


def simplified(text: str) -> str:
    return simplified_over(DECLARATIONS, text)


def same_value(text: str, other: str, seed: int = 3) -> bool:
    return same_value_over(DECLARATIONS, text, other, seed)


def check_simplified(text: str, expected: str) -> None:
    got = simplified(text)
    assert got == expected
    assert same_value(text, got)


# --- inverses of products --------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("inv(A @ inv(B))", "B @ inv(A)"),
    ("inv(inv(A) @ B)", "inv(B) @ A"),
    ("inv(A @ inv(B) @ C)", "inv(C) @ B @ inv(A)"),
    ("inv(inv(A) @ inv(B))", "B @ A"),
    ("inv(A @ B @ inv(C))", "C @ inv(B) @ inv(A)"),  # as many inverses written
    ("inv(A @ inv(B))'", "inv(A)' @ B'"),
    # an inverse meets what it inverts anywhere in a chain, however it is bracketed
    ("C @ (inv(A)' @ (A' @ B))", "C @ B"),
    ("(C @ (B @ inv(A))) @ (A @ C)", "C @ B @ C"),
    # a product over a sum where a term cancels with the factor
    ("A @ (inv(A) @ B - I(n))", "B - A"),
    ("(B @ inv(A) + I(n)) @ A", "B + A"),
    ("inv(B) @ (B @ C - I(n)) @ inv(C)", "(C - inv(B)) @ inv(C)"),
])
def test_inverses_of_products_come_apart_where_they_cancel(text, expected):
    check_simplified(text, expected)


@pytest.mark.parametrize("text", [
    "inv(A @ B)",  # two inverses for one: no smaller
    "A @ (B - C)",  # nothing cancels: not distributed
])
def test_an_inverse_of_a_product_that_would_grow_stays(text):
    assert simplified(text) == text


@pytest.mark.parametrize("problem, wrt, expected", [
    # the LogDet divergence in either argument (Kulis, Sustik & Dhillon 2009, sec. 2)
    ("X, Y : matrix(n, n) spd\nD = tr(X @ inv(Y)) - logdet(X @ inv(Y)) - n", "Y",
     "dD_dY = inv(Y) @ (Y - X) @ inv(Y)"),
    ("X, Y : matrix(n, n) spd\nD = tr(inv(X) @ Y) - logdet(inv(X) @ Y)", "X",
     "dD_dX = inv(X) @ (X - Y) @ inv(X)"),
    ("X, Y : matrix(n, n) spd\nf = logdet(X @ inv(Y))", "X", "df_dX = inv(X)"),
    ("A, B : matrix(n, n) invertible; C : matrix(n, n)\nf = tr(inv(inv(A) @ B) @ C)", "B",
     "df_dB = -(inv(B)' @ C' @ A' @ inv(B)')"),
])
def test_derived_inverses_of_products_cancel(problem, wrt, expected):
    assert proven_and_read_back(problem, wrt) == expected


# --- numbers across a product, into a delta ----------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2 * X' @ ((1/2 / p) * r)", "X' @ (r / p)"),
    ("2 * (X' @ (r / (2 * p)))", "X' @ (r / p)"),
    ("3 * (X' @ (q / 3 + r / 3))", "X' @ (q + r)"),
    # a multiple of ones beside entrywise terms is the number
    ("1/2 * ones(n) - 1/2 * r", "1/2 * (1 - r)"),
    ("1/2 * exp(r) - 1/2 * ones(n)", "1/2 * (exp(r) - 1)"),
    ("2 * ones(n) - r", "2 - r"),
    ("X' @ (3 * ones(n) + r)", "X' @ (3 + r)"),
])
def test_numbers_meet_across_a_product(text, expected):
    check_simplified(text, expected)


@pytest.mark.parametrize("text, expected", [
    ("diag((a / 2) * (A @ B - A))", "(a / 2) * diag(A @ B - A)"),
    ("tr(A / a)", "tr(A) / a"),
    ("diag(I(n))", "ones(n)"),
    ("diag(X' @ X) * diag((-1/2 / a) * I(d))", "-1/2 * diag(X' @ X) / a"),
    ("1/2 / p + -1/2 * r / a", "1/2 / p - 1/2 * r / a"),
])
def test_scalars_leave_a_trace_or_a_diagonal_and_signs_meet_the_sum(text, expected):
    check_simplified(text, expected)


@pytest.mark.parametrize("problem, wrt, expected", [
    # factor analysis' noise (Bishop 2006, sec. 12.2.4)
    ("W : matrix(d, k); psi : vector(d) positive; S : matrix(d, d) spd; N : scalar positive\n"
     "C = W @ W' + Diag(psi)\nf = -N / 2 * (logdet(C) + tr(inv(C) @ S))", "psi",
     "df_dpsi = (N / 2) * diag(inv(C) @ S @ inv(C) - inv(C))"),
    ("A : matrix(n, n); x : vector(n) positive; c : scalar positive\n"
     "f = c / 3 * tr(A @ Diag(x) @ A')", "x", "df_dx = (c / 3) * diag(A' @ A)"),
    # a variational posterior's variances (Bishop 2006, eq. 10.102 with a diagonal covariance)
    ("X : matrix(N, d); v : vector(d) positive; s2 : scalar positive\n"
     "E = 0.5 * sum(log(v)) - 0.5 * tr(X' @ X @ Diag(v)) / s2", "v",
     "dE_dv = -1/2 * diag(X' @ X) / s2 + 1/2 / v"),
])
def test_derived_scalars_out_of_a_diagonal(problem, wrt, expected):
    assert proven_and_read_back(problem, wrt) == expected


@pytest.mark.parametrize("text", ["2 * (X' @ r)", "2 * (X' @ (p * r))", "3 * (X' @ (r / p))"])
def test_a_number_that_meets_nothing_stays_outside(text):
    assert simplified(text) == text


@pytest.mark.parametrize("problem, wrt, expected", [
    # heteroscedastic regression (Nix & Weigend 1994, sec. 2)
    ("X : matrix(N, d); w, v : vector(d); y : vector(N)\n"
     "L = 0.5 * sum(X @ v + (y - X @ w) .^ 2 / exp(X @ v))", ["w", "v"],
     "q1 = exp(X @ v)\ndL_dw = X' @ ((X @ w - y) / q1)\n"
     "dL_dv = 1/2 * X' @ (1 - (y - X @ w) .^ 2 / q1)"),
    ("X : matrix(N, d); w : vector(d); y : vector(N); s : vector(N) positive\n"
     "L = 0.5 * sum((y - X @ w) .^ 2 / s)", "w", "dL_dw = X' @ ((X @ w - y) / s)"),
    # a smoothed norm of two linear maps: the 1/2 of the root's derivative leaves the delta
    # and meets the 2 of the squares (Vogel & Oman 1996, eq. 1.3)
    ("X : matrix(m, n); B, C : matrix(n, n); eps : scalar positive\n"
     "f = sum(sqrt((X @ B) .^ 2 + (X @ C) .^ 2 + eps))", "X",
     "delta1 = 1 / sqrt((X @ B) .^ 2 + (X @ C) .^ 2 + eps)\n"
     "df_dX = (delta1 * (X @ C)) @ C' + (delta1 * (X @ B)) @ B'"),
    ("X : matrix(m, n); Dr : matrix(m, m); Dc : matrix(n, n); eps : scalar positive\n"
     "T = sum(sqrt((Dr @ X) .^ 2 + (X @ Dc') .^ 2 + eps))", "X",
     "Q1 = X @ Dc'\ndelta1 = 1 / sqrt((Dr @ X) .^ 2 + Q1 .^ 2 + eps)\n"
     "dT_dX = (delta1 * Q1) @ Dc + Dr' @ (delta1 * (Dr @ X))"),
])
def test_derived_numbers_cancel_across_products_and_deltas(problem, wrt, expected):
    assert proven_and_read_back(problem, wrt) == expected


def test_a_delta_keeps_its_number_where_it_cancels_nowhere():
    # triplet loss: delta2 = 2 * delta1 * (A - P) used once plain, once negated: moving the 2
    # out would write it twice
    text = proven_and_read_back("A, P, M : matrix(B, d)\n"
                                "t = sum((A - P) .^ 2, 1) - sum((A - M) .^ 2, 1) + 1\n"
                                "L = sum(relu(t))", ["A", "P"])
    assert "delta2 = 2 * delta1 * (A - P)" in text


# --- quotients nested over one denominator -----------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("(a + c) / 2 / (1 + b / nu) / nu", "1/2 * (a + c) / (nu + b)"),
    ("(a * c) / (1 + b / nu) / nu", "a * c / (nu + b)"),
    ("(a - c) / (2 + b / nu) / nu", "(a - c) / (2 * nu + b)"),
    ("X' @ ((nu + 1) * (X @ z - q) / (1 + (q - X @ z) .^ 2 / nu)) / nu",
     "X' @ ((nu + 1) * (X @ z - q) / (nu + (q - X @ z) .^ 2))"),
])
def test_nested_quotients_come_over_one_denominator(text, expected):
    check_simplified(text, expected)


@pytest.mark.parametrize("problem, wrt, expected", [
    # the multivariate t (Kotz & Nadarajah 2004, eq. 1.1): location and scale
    ("x, mu : vector(p); S : matrix(p, p) spd; nu : scalar positive\n"
     "L = (nu + p) / 2 * log(1 + (x - mu)' @ inv(S) @ (x - mu) / nu)", "mu",
     "dL_dmu = (nu + p) * (inv(S) @ (mu - x)) / (nu + (x - mu)' @ inv(S) @ (x - mu))"),
    ("x : vector(p); S : matrix(p, p) spd; nu : scalar positive\n"
     "lp = -0.5 * logdet(S) - (nu + p) / 2 * log(1 + x' @ inv(S) @ x / nu)", "S",
     "dlp_dS = (1/2 * (nu + p) / (nu + x' @ inv(S) @ x)) * (inv(S) @ x @ x' @ inv(S)) "
     "- 1/2 * inv(S)"),
    # Student-t regression (Lange, Little & Taylor 1989, eq. 3)
    ("X : matrix(N, d); w : vector(d); y : vector(N); nu : scalar positive\n"
     "L = (nu + 1) / 2 * sum(log(1 + (y - X @ w) .^ 2 / nu))", "w",
     "dL_dw = X' @ ((nu + 1) * (X @ w - y) / (nu + (y - X @ w) .^ 2))"),
])
def test_derived_nested_quotients_over_one_denominator(problem, wrt, expected):
    assert proven_and_read_back(problem, wrt) == expected


# --- a tensor the results repeat is named (outside a batch sum) --------------------------------

ATTENTION = "Q, K : tensor(B, T, d); V, G : tensor(B, T, e)\n"
BACKWARD = "(Q1 * (Q2 - expand(sum(Q1 * Q2, 2), 2, T)))"


@pytest.mark.parametrize("problem, wrt, expected", [
    # attention's weights P and dP = G V' over a batch (Dao et al. 2022, appendix B.2)
    (ATTENTION + "L = sum(G * (softmax(Q @ K' / sqrt(d)) @ V))", "K",
     f"Q1 = softmax(Q @ K' / sqrt(d))\nQ2 = G @ V'\ndL_dK = {BACKWARD}' @ Q / sqrt(d)"),
    (ATTENTION + "C : tensor(B, T, T) mask\n"
     "L = sum(G * (softmax(where(C, Q @ K' / sqrt(d), -inf)) @ V))", ["Q", "V"],
     f"Q1 = softmax(where(C, Q @ K' / sqrt(d), -inf))\nQ2 = G @ V'\n"
     f"dL_dQ = {BACKWARD} @ K / sqrt(d)\ndL_dV = Q1' @ G"),
    (ATTENTION + "L = sum(G * (softmax(where(tril(ones(T, T)), Q @ K' / sqrt(d), -inf)) @ V))",
     "Q", f"Q1 = softmax(where(tril(ones(T, T)), Q @ K' / sqrt(d), -inf))\nQ2 = G @ V'\n"
          f"dL_dQ = {BACKWARD} @ K / sqrt(d)"),
])
def test_a_repeated_tensor_is_named(problem, wrt, expected):
    assert proven_and_read_back(problem, wrt) == expected


def test_a_tensor_inside_a_batch_sum_stays_written_out():
    # sum(relu(H)' @ G, 0) prints as a sum over the batch's slices, relu(H_b)' G_b: H = X @ W1
    # + b' would be named were it not inside
    text = proven_and_read_back("X, G : tensor(B, T, d); W1, W2 : matrix(d, d); b : vector(d)\n"
                                "L = sum(G * (relu(X @ W1 + b') @ W2))", ["W1", "W2"])
    assert text == ("dL_dW1 = sum(X' @ ((G @ W2') * step(X @ W1 + b')), 0)\n"
                    "dL_dW2 = sum(relu(X @ W1 + b')' @ G, 0)")


# --- powers with a symbolic exponent collect -----------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("p .^ (a - 1) * p", "p .^ a"),
    ("p .^ a * p .^ b", "p .^ (a + b)"),
    ("p .^ a / p", "p .^ (a - 1)"),
    ("r * p .^ a * p", "r * p .^ (a + 1)"),
    ("p .^ a / p .^ b", "p .^ (a - b)"),
])
def test_powers_with_a_symbolic_exponent_collect(text, expected):
    check_simplified(text, expected)


def test_powers_of_different_bases_stay_apart():
    assert simplified("p .^ a * q") == "p .^ a * q"


def test_a_derived_symbolic_power_is_collected():
    # a generalised power loss: d/dw sum(r .^ g) with r = exp(X @ w) > 0 writes r .^ (g - 1) * r
    text = proven_and_read_back("X : matrix(N, d); w : vector(d); g : scalar positive\n"
                                "r = exp(X @ w)\nL = sum(r .^ g) / g", "w")
    assert text == "dL_dw = X' @ r .^ g"

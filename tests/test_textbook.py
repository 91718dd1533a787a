"""Results in the form a textbook prints: rows of the table of patterns seen in real outputs.

Each row: the problem, the variable, and the result matcalc must print; each result is also
proven by finite differences.  Sources: The Matrix Cookbook (Petersen & Pedersen 2012) eqs. 49,
51, 57 for the determinants; Bishop, Pattern Recognition and Machine Learning (2006) eqs. 4.91,
4.97 for logistic regression.
"""

from __future__ import annotations

import pytest

import matcalc

ROWS = {
    # was (det(X) / det(X)) * inv(X)': a logarithm's argument is non-zero where it is defined
    "logdet": ("X : matrix(n, n)\nf = log(det(X))", "X", "kind", "df_dX = inv(X)'"),
    "logdet gram": ("X : matrix(6, 3)\nf = log(det(X' @ X))", "X", "kind",
                    "df_dX = 2 * X @ inv(X' @ X)"),
    # was 15 tokens: inv(inv(X)) = X and inv(X)' @ X' = I
    "det of inverse": ("X : matrix(n, n) invertible\nf = det(inv(X))", "X", "kind",
                       "df_dX = -(f * inv(X)')"),
    # labels +-1: was -(X' @ ((exp(-t) / (1 + exp(-t))) * y))
    "logistic +-1 gradient": ("X : matrix(N, d); w : vector(d); y : vector(N) pm1\n"
                              "L = sum(log(1 + exp(-y * (X @ w))))", "w", "grad",
                              "dL_dw = -X' @ (sigmoid(-(y * (X @ w))) * y)"),
    # its Hessian: was X' @ Diag(y) @ (Diag(1 / (1 + e)) - Diag(e / (1 + e) / (1 + e))) @ ...
    "logistic +-1 Hessian": ("X : matrix(N, d); w : vector(d); y : vector(N) pm1\n"
                             "L = sum(log(1 + exp(-y * (X @ w))))", "w", "hessian",
                             "d2L_dw_dw = X' @ Diag(sigmoid(X @ w) * sigmoid(-X @ w)) @ X"),
    # was 2 * ones(n) + ones(n) + ones(n)
    "four times": ("x : vector(n)\nf = sum(x + x + x + x)", "x", "grad", "df_dx = 4 * ones(n)"),
    # was -0.16666666666666666 * ...: keep exact rationals
    "a mean's sixth": ("Y : matrix(n, 6)\nf = sum(Y) / 6", "Y", "grad", "df_dY = ones(n, 6) / 6"),
    # was 2 * (X ^ 2)' + X' @ X' (Cookbook sec. 2.5.2: d tr(X^k) / dX = k (X^(k-1))')
    "trace of a cube": ("X : matrix(n, n)\nf = tr(X ^ 3)", "X", "grad", "df_dX = 3 * (X ^ 2)'"),
    "trace of a product of three": ("X : matrix(n, n)\nf = tr(X @ X @ X)", "X", "grad",
                                    "df_dX = 3 * (X ^ 2)'"),
    # was f * (inv(X ^ 5)' @ (X ^ 4)' + ... five terms): inv(A ^ k) is A ^ -k among powers
    "determinant of a fifth power": ("X : matrix(n, n) invertible\nf = det(X ^ 5)", "X", "grad",
                                     "df_dX = 5 * f * inv(X)'"),
    "inverse power times a power": ("X : matrix(n, n) invertible\nf = tr(inv(X ^ 3) @ X)", "X",
                                    "grad", "df_dX = -2 * inv(X ^ 3)'"),
    # was kron(ones(k)', I(n)) @ (I(k*n) * kron(A, ones(n, n))) @ kron(ones(k), I(n)):
    # tr(kron(A, B)) = tr(A) tr(B) (Magnus & Neudecker ch. 2)
    "trace of a Kronecker product": ("A : matrix(k, k); X : matrix(n, n)\nf = tr(kron(A, X))",
                                     "X", "grad", "df_dX = tr(A) * I(n)"),
    "trace of a Kronecker square": ("X : matrix(n, n)\nf = tr(kron(X, X))", "X", "grad",
                                    "df_dX = 2 * tr(X) * I(n)"),
    # was B' @ X' + X' @ B': a transpose taken out of a sum when that is shorter
    "trace of X B X": ("X, B : matrix(n, n)\nf = tr(X @ B @ X)", "X", "grad",
                       "df_dX = (X @ B + B @ X)'"),
    # was ones(n)' @ Diag(exp(a * b * x) * (a * b))
    "jacobian of a sum": ("x, a, b : vector(n)\nf = sum(exp(a * b * x))", "x", "jacobian",
                          "df_dx = (exp(a * b * x) * a * b)'"),
    # was delta1 - (ones(N) @ ones(N)' @ delta1) / N: a centred batch's columns sum to 0
    "squares about the batch mean": ("X : matrix(N, d)\nmu = mean(X, 0)\n"
                                     "f = sum((X - mu) .^ 2)", "X", "grad",
                                     "df_dX = 2 * (X - mu)"),
    # was kron(x', I(k)) @ (kron(B', I(k)) @ (vec(A) * cos(i))): vec(A X B) = kron(B', A) vec(X)
    "a Jacobian with respect to a scalar": ("A : matrix(k, n); B : matrix(n, m); x : vector(m);"
                                            " i : scalar\nf = (sin(i) * A) @ B @ x", "i",
                                            "kind", "df_di = cos(i) * (A @ B @ x)"),
    # was -(inv(X + A)' @ inv(X + A)'): powers of one matrix join (Cookbook eq. 124)
    "trace of an inverse": ("X, A : matrix(n, n)\nf = tr(inv(X + A))", "X", "grad",
                            "df_dX = -inv((X + A) ^ 2)'"),
    # was 2 * ((k / (2 * s ^ 2)) * (z - x)) and 2 * ((0.5 / d) * v): numbers cancel
    "a scaled squared distance": ("z, x : vector(n); k, s : scalar positive\n"
                                  "f = k * sum((z - x) .^ 2) / (2 * s ^ 2)", "z", "grad",
                                  "df_dz = k * (z - x) / s ^ 2"),
    "half a quadratic over d": ("v : vector(n); d : scalar positive\nf = 0.5 * (v' @ v) / d",
                                "v", "grad", "df_dv = v / d"),
    # labels in {0, 1}: was X' @ (((1 - y) / (1 - s) - y / s) * (s * (1 - s))) (Bishop eq. 4.91)
    "logistic 0-1 gradient": ("X : matrix(N, d); w : vector(d); y : vector(N)\n"
                              "s = sigmoid(X @ w)\nL = -sum(y * log(s) + (1 - y) * log(1 - s))",
                              "w", "grad", "dL_dw = X' @ (s - y)"),
    # was ((w / (ones(m) + exp(a))) * exp(a)) @ x'
    "softplus": ("A : matrix(m, n); x : vector(n); w : vector(m)\na = A @ x\n"
                 "f = w' @ softplus(a)", "A", "grad", "df_dA = (w * sigmoid(a)) @ x'"),
}


@pytest.mark.parametrize("problem, wrt, kind, expected", ROWS.values(), ids=list(ROWS))
def test_textbook_form(problem, wrt, kind, expected):
    derived = matcalc.derive(problem, wrt=wrt, kind=None if kind == "kind" else kind,
                             check=False)
    assert derived.text.splitlines()[-1] == expected
    assert matcalc.check(derived, seed=1).ok


@pytest.mark.parametrize("example, expected", [
    ("x : vector(n)\nf = sum(x + x + x + x)", "sum(4 * x)"),
    ("A : matrix(n, n)\nf = I(n) : A", "tr(A)"),
    ("Y : matrix(m, n)\nf = Y * (1 / 6)", "Y / 6"),
    ("a, b : vector(n)\nf = Diag(a) @ Diag(b)", "Diag(a * b)"),
    ("a, b : vector(n)\nf = Diag(a) - Diag(b)", "Diag(a - b)"),
    ("y : vector(n) pm1; x : vector(n)\nf = y * (x * y)", "x"),
    ("t : vector(n)\nf = 1 - sigmoid(t)", "sigmoid(-t)"),
])
def test_diag_algebra_and_labels(example, expected):
    from matcalc.engine.pipeline import simplifier_for

    program = matcalc.parse(example)
    assert str(simplifier_for(program)(program.definitions["f"].body)) == expected


def test_a_kronecker_product_times_a_vec_of_another_shape_stays():
    # kron(P, Q) @ vec(X) = vec(Q @ X @ P') needs X of Q's columns by P's columns; an X of the
    # same length but another shape keeps the product (the rewrite would not fit)
    from matcalc.rules.facts import Facts
    from matcalc.rules.rewrites_kron import kron_times_vec

    def rewritten(x_shape: str):
        program = matcalc.parse(f"P : matrix(2, 3); Q : matrix(4, 2); X : matrix({x_shape})\n"
                                "f = kron(P, Q) @ vec(X)")
        return kron_times_vec(program.definitions["f"].body, Facts(lambda name: None))

    assert rewritten("3, 2") is None
    assert str(rewritten("2, 3")) == "vec(Q @ X @ P')"

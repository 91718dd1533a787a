"""The hints a teaching assistant needs: each typical mistake named by its kind.

A corpus of typical wrong answers (the issue's list, one or more of each kind); each must get a
hint that names its kind, and over the corpus at least 80 % must (the goal).
"""

from __future__ import annotations

import pytest

import matcalc

MSE = "X : matrix(N, d); w : vector(d); y : vector(N)\nr = X @ w - y\nL = sum(r * r) / N"
ATTENTION = ("Q : matrix(n, k); K : matrix(m, k)\nS = Q @ K' / sqrt(k)\nL = sum(S * S)")
QUADRATIC = "x : vector(n); A : matrix(n, n); b : vector(n)\nf = x' @ A @ x + b' @ x"
TRACE = "X, A, B : matrix(n, n)\nf = tr(A @ X @ B)"
INVERSE = "W : matrix(n, n) invertible; a, b : vector(n)\nf = a' @ inv(W) @ b + sum(W)"
SOFTPLUS = "W : matrix(m, n); x : vector(n)\nf = sum(softplus(W @ x))"
RESIDUAL = "W : matrix(n, n); x : vector(n)\nh = x + tanh(W @ x)\nf = sum(h * h)"
RIDGE = "X : matrix(N, d); w : vector(d); y : vector(N); lam : scalar positive\n" \
        "r = X @ w - y\nf = r' @ r + 2 * lam * w' @ w"
CS224N = open("derivations/cs224n_one_layer.mc").read()
SOFTMAX_NLL = "W : matrix(k, n); x : vector(n); y : vector(k) simplex\n" \
              "f = -sum(y * log(softmax(W @ x)))"
INVERSE_FORM = "S : matrix(n, n) invertible; a, b : vector(n)\nf = a' @ inv(S) @ b"

# (problem, wrt, wrong answer, words the hint must contain)
MISTAKES = {
    "missing 1/N": (MSE, "w", "2 * X' @ r", "1 / N"),
    "missing 1/sqrt(dk)": (ATTENTION, "Q", "2 * S @ K", "sqrt(k)"),
    "sign of one term": (QUADRATIC, "x", "(A + A') @ x - b", "sign of one term"),
    "transpose inside one factor": ("X, A, B, C : matrix(n, n)\nM = A @ C\n"
                                    "f = tr(M @ X) + tr(B @ X)", "X", "M + B'",
                                    "without its transpose"),
    "W^-1 for W^-T": (INVERSE, "W", "-(inv(W) @ a @ b' @ inv(W)) + ones(n, n)", "W^-T"),
    "softplus' as exp": (SOFTPLUS, "W", "exp(W @ x) @ x'", "softplus' = sigmoid"),
    "missing skip path": (RESIDUAL, "x", "W' @ (2 * h * (1 - tanh(W @ x) .^ 2))",
                          "term of the sum is missing"),
    "missing relu mask": (CS224N, "W", "(U' @ (yhat - y)) @ x'", "relu mask"),
    "transposed result": (TRACE, "X", "B @ A", "transpose"),
    "sign": (TRACE, "X", "-(A' @ B')", "sign flipped"),
    "constant factor": (QUADRATIC, "x", "0.5 * ((A + A') @ x + b)", "constant factor"),
    "undeclared symmetry": (QUADRATIC, "x", "2 * A @ x + b", "symmetric"),
    "softmax Jacobian as Diag(p) in a Hessian": (
        SOFTMAX_NLL, "x", "W' @ Diag(softmax(W @ x)) @ W", "takes Diag(s) for the Jacobian"),
    "d inv(S) as -dS": (INVERSE_FORM, "S", "-(a @ b')", "takes d inv(S) as -dS"),
    "missing symmetric part, 2 lambda for 4 lambda": (
        RIDGE, "w", "2 * X' @ r + 2 * lam * w", "term"),
}

HESSIANS = {"softmax Jacobian as Diag(p) in a Hessian"}  # the others are gradients


def _verdict(name: str):
    problem, wrt, answer, _ = MISTAKES[name]
    return matcalc.verify(problem, wrt=wrt, answer=answer,
                          kind="hessian" if name in HESSIANS else "grad")


NAMED = {name for name in MISTAKES if MISTAKES[name][3] in _verdict(name).hint}


@pytest.mark.parametrize("name", sorted(set(MISTAKES) - {
    "missing symmetric part, 2 lambda for 4 lambda"}))
def test_the_hint_names_the_mistake(name):
    verdict, words = _verdict(name), MISTAKES[name][3]
    assert not verdict.ok and words in verdict.hint, verdict.hint


def test_at_least_80_percent_of_typical_mistakes_are_named():
    assert len(NAMED) / len(MISTAKES) >= 0.8, sorted(set(MISTAKES) - NAMED)


# One term of the answer's own sum off by a factor or a sign, the rest right (ridge: Hastie,
# Tibshirani & Friedman, eq. 3.44; quadratic form: Matrix Cookbook eq. 81).
RIDGE_LAMBDA = open("derivations/ridge_regression.mc").read()
LOGISTIC_L2 = ("X : matrix(N, d); w : vector(d); y : vector(N); lam : scalar positive\n"
               "J = -sum(y * log(sigmoid(X @ w)) + (1 - y) * log(1 - sigmoid(X @ w)))"
               " + lam * w' @ w")
TRACES = "X, A, B : matrix(n, n)\nf = tr(A @ X) + tr(X' @ X) + sum(B * X)"
ONE_TERM = [
    (RIDGE_LAMBDA, "w", r"2 X^\top (Xw - y) + lam w", "lam * w", "a factor 2 is dropped"),
    (RIDGE_LAMBDA, "w", r"X^\top (Xw - y) + 2 lam w", "X' @ (X @ w - y)", "a factor 2 is dropped"),
    (LOGISTIC_L2, "w", r"X^\top (\sigma(Xw) - y) + lam w", "lam * w", "a factor 2 is dropped"),
    (TRACES, "X", "A' + X + B", "X in your", "a factor 2 is dropped"),
    (QUADRATIC, "x", "(A + A') @ x + 2 * b", "2 * b", "a factor 2 too many"),
    (RIDGE_LAMBDA, "w", r"-2 X^\top (Xw - y) + 2 lam w", "(X @ w - y)", "sign of one term"),
    (RIDGE_LAMBDA, "w", r"2 X^\top (Xw - y) - 2 lam w", "lam * w", "sign of one term"),
    (LOGISTIC_L2, "w", r"X^\top (y - \sigma(Xw)) + 2 lam w", "sigmoid", "sign of one term"),
    (TRACES, "X", "-A' + 2 * X + B", "A'", "sign of one term"),
]


@pytest.mark.parametrize("problem, wrt, answer, term, words", ONE_TERM,
                         ids=[f"{row[2]} ({row[4]})" for row in ONE_TERM])
def test_one_term_off_by_a_factor_or_a_sign_is_named(problem, wrt, answer, term, words):
    verdict = matcalc.verify(problem, wrt=wrt, answer=answer)
    assert not verdict.ok and words in verdict.hint and term in verdict.hint, verdict.hint


def test_a_constant_term_off_is_not_called_a_factor():
    verdict = matcalc.verify("a, b : vector(n)\nf = sum(a * b) + sum(a)", wrt="a", answer="b + 2")
    assert "not the gradient" in verdict.hint


@pytest.mark.parametrize("factor, shown", [
    ("(1 + 1e-6)", "1.000001"), ("0.999999", "0.999999"), ("(1 - 1e-7)", "0.9999999"),
    ("0.5", "0.5"), ("3", "3"),
])
def test_a_constant_factor_near_1_is_shown_apart_from_1(factor, shown):
    # a factor printed with 6 digits read "your answer is 1 times the gradient"
    verdict = matcalc.verify("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", "x",
                             f"{factor} * (A + A') @ x")
    assert not verdict.ok and f"is {shown} times the gradient" in verdict.hint


@pytest.mark.parametrize("source, answer", [
    ("a : scalar\nf = a ^ 3", "0"),
    ("x : vector(n)\nf = sum(x .^ 3)", "zeros(n)"),
    ("x : vector(n)\nf = sum(x .^ 3)", "0 * x"),
])
def test_an_answer_of_zero_is_called_zero(source, answer):
    # it was "your answer is 0 times the gradient: a constant factor is off"
    verdict = matcalc.verify(source, "a" if "a :" in source else "x", answer)
    assert not verdict.ok and verdict.hint == "your answer is 0 where the gradient is not"


# Some books give the gradient with respect to a symmetric matrix as G + G' - Diag(diag(G)) for
# the unconstrained G (The Matrix Cookbook, 2012, sec. 2.8, eq. 141: d log det(X) / dX =
# 2 inv(X) - inv(X) o I); matcalc's is G, and the hint names the convention
@pytest.mark.parametrize("source, answer", [
    ("S : matrix(n, n) spd\nf = logdet(S)", "2 * inv(S) - Diag(diag(inv(S)))"),
    ("S : matrix(n, n) spd\nf = logdet(S)", r"2 S^{-1} - S^{-1} \circ I"),
    ("S : matrix(n, n) symmetric; a, b : vector(n)\nf = a' @ S @ b",
     "a @ b' + b @ a' - Diag(a * b)"),
])
def test_the_symmetric_matrix_convention_is_named(source, answer):
    verdict = matcalc.verify(source, "S", answer)
    assert not verdict.ok and "convention for a symmetric matrix" in verdict.hint


# the Hessian with respect to a symmetric matrix as books print it, -inv(S) (x) inv(S) for
# log det S (Magnus & Neudecker, 2019, ch. 10), agrees with matcalc's unconstrained one,
# -K (inv(S) (x) inv(S)), on symmetric directions only: the hint says so
@pytest.mark.parametrize("source, answer, named", [
    ("S : matrix(n, n) spd\nf = logdet(S)", "-kron(inv(S), inv(S))", True),
    ("S : matrix(n, n) spd\nf = logdet(S)", r"-S^{-1} \otimes S^{-1}", True),
    ("S : matrix(n, n) symmetric\nf = tr(S @ S)", "2 * I(n*n)", True),
    ("S : matrix(n, n) symmetric; A : matrix(n, n)\nf = tr(S @ A @ S)",
     "kron(I(n), A) + kron(A', I(n))", True),
    ("S : matrix(n, n) spd\nf = logdet(S)", "kron(inv(S), inv(S))", False),
    ("S : matrix(n, n)\nf = tr(S @ S)", "2 * I(n*n)", False),  # not declared symmetric
])
def test_a_hessian_on_symmetric_directions_is_named(source, answer, named):
    verdict = matcalc.verify(source, "S", answer, kind="hessian")
    assert not verdict.ok and ("symmetric directions" in verdict.hint) is named


def test_the_convention_is_not_named_for_a_matrix_not_declared_symmetric():
    verdict = matcalc.verify("S : matrix(n, n); a, b : vector(n)\nf = a' @ S @ b", "S",
                             "a @ b' + b @ a' - Diag(a * b)")
    assert not verdict.ok and "convention" not in verdict.hint

"""Verifying hand-derived answers: right ones accepted in any form, wrong ones rejected with the
hint that says how they are wrong."""

from __future__ import annotations

import pathlib

import pytest

import matcalc
from matcalc.cli.main import main
from matcalc.errors import ParseError, UnsupportedError

CS224N = (pathlib.Path("derivations") / "cs224n_one_layer.mc").read_text()
LOGISTIC = (pathlib.Path("derivations") / "logistic_regression.mc").read_text()
QUADRATIC = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x"

RIGHT = [
    (CS224N, "W", "((U' @ (yhat - y)) * step(z)) @ x'"),
    (CS224N, "W", "d1 = softmax(theta) - y; d2 = (U' @ d1) * step(z); d2 @ x'"),
    (CS224N, "U", "(softmax(theta) - y) @ relu(z)'"),
    (CS224N, "b2", "yhat * sum(y) - y"),  # right too: y is on the simplex
    (CS224N, "x", "W' @ (step(z) * (U' @ (yhat - y)))"),
    (QUADRATIC, "x", "A @ x + A' @ x"),
    (QUADRATIC, "A", "x @ x'"),
    (LOGISTIC, "w", "X' @ (sigmoid(X @ w) - y)"),
]

WRONG = [
    (CS224N, "W", "(U' @ (yhat - y)) @ x'", "the relu mask step(z) is missing"),
    (CS224N, "W", "x @ ((U' @ (yhat - y)) * step(z))'", "transpose of the gradient: it is Dx x Dh"),
    (CS224N, "U", "-(yhat - y) @ h'", "sign flipped"),
    (CS224N, "U", "0.5 * (yhat - y) @ h'", "0.5 times the gradient"),
    (CS224N, "x", "W' @ ((U' @ (yhat - y)) @ step(z))", "does not type-check"),
    (QUADRATIC, "x", "A @ x", "a term of the sum is missing"),
    (QUADRATIC, "x", "2 * A @ x", "only when A is symmetric"),
    (QUADRATIC, "A", "x' @ x", "but the gradient is n x n"),
    ("X : matrix(n, n); A : matrix(n, n)\nf = tr(X @ A)", "X", "A", "transpose of the gradient"),
    ("a, b : vector(n)\nf = sum(a * b) + sum(a)", "a", "b + 2", "not the gradient"),
    ("A, B : matrix(n, n)\nf = sum(sin(A @ B))", "A", "cos(A @ B) * B'",
     "a Hadamard product (*) stands where a matrix product (@) belongs"),
]


@pytest.mark.parametrize("source, wrt, answer", RIGHT, ids=[r[2] for r in RIGHT])
def test_right_answers_are_accepted(source, wrt, answer):
    verdict = matcalc.verify(source, wrt=wrt, answer=answer)
    assert verdict.ok, verdict.hint
    assert verdict.max_rel_error <= 1e-8 and "correct" in str(verdict)


@pytest.mark.parametrize("source, wrt, answer, hint", WRONG, ids=[w[2] for w in WRONG])
def test_wrong_answers_are_rejected_with_a_hint(source, wrt, answer, hint):
    verdict = matcalc.verify(source, wrt=wrt, answer=answer)
    assert not verdict.ok
    assert hint in verdict.hint, verdict.hint


def test_counterexample_is_small_and_complete():
    verdict = matcalc.verify(QUADRATIC, wrt="x", answer="2 * A @ x")
    example = verdict.counterexample
    assert set(example["inputs"]) == {"x", "A"} and example["expected"] != example["got"]


def test_symmetric_declaration_makes_2_A_x_right():
    source = "x : vector(n); A : matrix(n, n) symmetric\nf = x' @ A @ x"
    assert matcalc.verify(source, wrt="x", answer="2 * A @ x").ok


def test_latex_answers_are_read_with_matrix_meaning():
    assert matcalc.verify(QUADRATIC, wrt="x", answer=r"(A + A^T) \mathbf{x}").ok
    verdict = matcalc.verify(QUADRATIC, wrt="x", answer=r"A \mathbf{x}")
    assert not verdict.ok and "a term of the sum is missing" in verdict.hint
    # W^T x must not become a commutative W*x
    assert not matcalc.verify(QUADRATIC, wrt="x", answer=r"(A + A) x").ok


def test_the_reading_can_be_forced():
    with pytest.raises(ParseError):
        matcalc.verify(QUADRATIC, wrt="x", answer="A @ x + A' @ x", latex=True)
    assert matcalc.verify(QUADRATIC, wrt="x", answer="A^T @ x + A @ x", latex=False).ok


def test_bad_answers_are_bad_input():
    with pytest.raises(UnsupportedError, match="derivative notation"):
        matcalc.verify(QUADRATIC, wrt="x", answer=r"\partial f")
    with pytest.raises(ParseError):
        matcalc.verify(QUADRATIC, wrt="x", answer="A @ (x")


def test_verify_command(capsys):
    assert main(["verify", "derivations/cs224n_one_layer.mc", "--wrt", "W", "--of", "J",
                 "--answer", "(U' @ (yhat - y)) @ x'"]) == 1
    assert "relu mask" in capsys.readouterr().out
    assert main(["verify", "derivations/cs224n_one_layer.mc", "--wrt", "W", "--of", "J",
                 "--answer", "((U' @ (yhat - y)) * step(z)) @ x'", "--show-answer"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("correct") and "dJ_dW = " in out
    assert main(["verify", "derivations/cs224n_one_layer.mc", "--wrt", "W"]) == 2


@pytest.mark.parametrize("source, answer, hint", [
    ("X : matrix(m, n)\nH = tanh(X)", "1 - H * H",
     "the Jacobian is the matrix Diag(vec(1 - H * H))"),
    ("z : vector(n)\ns = softmax(z)", "s * (1 - s)", "only the diagonal of the Jacobian"),
    ("z : vector(n)\ns = softmax(z)", "Diag(s * (1 - s))", "diagonal but not the rest"),
    ("z : vector(n)\nh = sigmoid(z)", "h", "but the Jacobian is n x n"),  # not even the diagonal
    ("z : vector(n)\nh = sigmoid(z)", "Diag(h)", "missing: 1 - h"),
])
def test_a_jacobians_diagonal_given_for_the_jacobian_is_named(source, answer, hint):
    verdict = matcalc.verify(source, wrt=source[0], answer=answer, kind="jacobian")
    assert not verdict.ok and hint in verdict.hint, verdict.hint


def test_an_answer_without_a_value_is_wrong_not_an_error():
    verdict = matcalc.verify("x : vector(n)\nf = sum(exp(x))", "x", "exp(x) / (x - x)")
    assert not verdict.ok and "no finite value" in verdict.hint
    assert verdict.counterexample["got"] is None and verdict.counterexample["expected"]


# matcalc prints a result as `dL_dW = ...`: pasted back as an answer in the language, the left
# side of its last statement (a name, or a derivative written dL/dW) is not read, as a LaTeX
# answer's `\frac{\partial L}{\partial W} =` is not (the update gate of a GRU: K. Cho et al.,
# EMNLP 2014, eqs. 5-8)
GRU = """Uc : matrix(n, n); Wc : matrix(n, m); x : vector(m); hp, r, z, G : vector(n)
c = tanh(Wc @ x + Uc @ (r * hp))
L = G' @ (z * hp + (1 - z) * c)"""


@pytest.mark.parametrize("answer, right", [
    ("dL_dUc = (G * (1 - z) * (1 - c .^ 2)) @ (r * hp)'", True),
    ("delta = G * (1 - z) * (1 - c .^ 2)\ndL_dUc = delta @ (r * hp)'", True),
    ("dL/dUc = (G * (1 - z) * (1 - c .^ 2)) @ (r * hp)'", True),
    ("L = (G * (1 - z) * (1 - c .^ 2)) @ (r * hp)'", True),
    ("dL_dUc = (G * (1 - z) * (1 - c .^ 2)) @ hp'", False),
    ("delta = G * z * (1 - c .^ 2); dL_dUc = delta @ (r * hp)'", False),
])
def test_the_left_side_of_a_text_answer_is_not_read(answer, right):
    assert matcalc.verify(GRU, "Uc", answer, latex=False).ok is right


@pytest.mark.parametrize("answer, line, column", [
    ("delta = G\ndL_dUc = delta +* 2", 2, 17),
    ("a = G;  a +* 2", 1, 12),
    ("a = G\n\n  a + q", 3, 7),
])
def test_an_error_in_the_last_statement_is_placed_in_the_whole_answer(answer, line, column):
    with pytest.raises(matcalc.MatcalcError) as caught:
        matcalc.verify(GRU, "Uc", answer, latex=False)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert answer.splitlines()[line - 1] in str(caught.value)


# A bare I in an answer to a square result takes the result's size, as a reader takes it: the
# Hessian of x'x is 2 I, the Jacobian of a x is a I (Magnus & Neudecker 2019, ch. 10); elsewhere
# it still needs its size
@pytest.mark.parametrize("source, kind, answer, right", [
    ("x : vector(n)\nf = x' @ x", "hessian", "2 * I", True),
    ("x : vector(n)\nf = x' @ x", "hessian", r"2\mathbf{I}", True),
    ("x : vector(n)\nf = x' @ x", "hessian", "I", False),
    ("x : vector(n); a : scalar\nf = a * x", "jacobian", "a * I", True),
    ("x : vector(n); a : scalar\nf = a * x", "jacobian", r"a I", True),
    ("x : vector(n); a : scalar\nf = a * x", "jacobian", "I / a", False),
    ("x : vector(n)\nf = x", "jacobian", "I", True),
])
def test_a_bare_identity_takes_the_size_of_a_square_result(source, kind, answer, right):
    assert matcalc.verify(source, "x", answer, kind=kind).ok is right


# \mathbf{1} without its size in a LaTeX answer takes it from what it meets, as a bare I does
LOG_SIGMOID = "x : vector(n)\nf = sum(log(sigmoid(x)))"
ROW_SUMS = "X : matrix(m, n)\nu : vector(m)\nf = u' @ X @ ones(n)"


@pytest.mark.parametrize("source, wrt, answer, right", [
    (LOG_SIGMOID, "x", r"\mathbf{1} - \sigma(x)", True),
    (LOG_SIGMOID, "x", r"\frac{\partial f}{\partial x} = -(\sigma(x) - \mathbf{1})", True),
    (LOG_SIGMOID, "x", r"\sigma(x) - \mathbf{1}", False),
    (ROW_SUMS, "X", r"u \mathbf{1}^\top", False),  # u 1' needs 1_n: refused, so not right
    (ROW_SUMS, "u", r"X \mathbf{1}", True),
    (ROW_SUMS, "u", r"X^\top \mathbf{1}", False),
    (ROW_SUMS, "X", r"u \mathbf{1}_n^\top", True),
])
def test_ones_without_a_size_take_it_from_what_they_meet(source, wrt, answer, right):
    assert matcalc.verify(source, wrt, answer).ok is right


# in a Kronecker product a bare I has the size the result leaves: the Hessian of tr(X' A X) in
# X (n x k) is I_k (x) (A + A') (Magnus & Neudecker 2019, ch. 10), kn x kn
TRACE_FORM = "X : matrix(n, k)\nA : matrix(n, n)\nf = tr(X' @ A @ X)"
LOGDET_SUM = "X : matrix(n, k)\nA : matrix(n, n) spd\nf = tr(X' @ A @ X) + x' @ x\nx : vector(k)"


@pytest.mark.parametrize("source, wrt, answer, right", [
    (TRACE_FORM, "X", r"I \otimes (A + A^\top)", True),
    (TRACE_FORM, "X", "kron(I, A + A')", True),
    (TRACE_FORM, "X", r"2 I \otimes A", False),
    (TRACE_FORM, "X", r"(A + A^\top) \otimes I", False),  # I is k x k: n k x n k, the wrong order
    ("W : matrix(m, n)\nx : vector(n)\nh = W @ x", "W", r"x^\top \otimes I", True),
    ("X : matrix(m, n)\nB : matrix(n, p)\nY = X @ B", "X", "kron(B', I)", True),
    ("X : matrix(m, n)\nB : matrix(n, p)\nY = X @ B", "X", "kron(I, B')", False),
])
def test_a_bare_identity_in_a_kronecker_product_takes_the_size_the_result_leaves(
        source, wrt, answer, right):
    kind = "hessian" if source.startswith("X : matrix(n, k)") else "jacobian"
    assert matcalc.verify(source, wrt, answer, kind=kind).ok is right


@pytest.mark.parametrize("source, kind, answer", [
    ("x : vector(n); a : scalar\nf = a * sum(x)", "grad", "a * I"),  # n x 1: not square
    ("a : scalar\nf = a ^ 2", "hessian", "2 * I"),  # a number
    ("x : vector(n)\nf = x' @ x", "hessian", "M = 2 * I; M"),  # a definition of its own
])
def test_a_bare_identity_elsewhere_still_needs_its_size(source, kind, answer):
    verdict = matcalc.verify(source, "x" if "x" in source else "a", answer, kind=kind)
    assert not verdict.ok and "write I(n)" in verdict.hint


@pytest.mark.parametrize("answer", [
    "(G * (1 \u2212 z) * (1 - c .^ 2)) @ (r * hp)'",  # a minus sign from a PDF
    "(G * (1 - z) * (1 - c .^ 2)) @ (r * hp)\u2032",  # a prime
    "(G * (1 - z) * (1 - c .^ 2)) @ (r * hp)\u2019",  # a word processor's apostrophe
    # LaTeX with a typeset minus
    "(G \\odot (1 \u2212 z) \\odot (1 - c^{\\circ 2})) (r \\odot hp)^\\top",
])
def test_typeset_minus_and_prime_read_as_ascii(answer):
    assert matcalc.verify(GRU, "Uc", answer).ok

"""Checking derivations line by line (matcalc.verify_derivation): a corpus of derivations, right
and with planted mistakes, in the language and in LaTeX; each planted first error is found at
its line, the steps after it are judged on their own, and the seed documents' slips are found.
"""

from __future__ import annotations

import pathlib

import pytest

import matcalc
from matcalc.cli.main import main

QUADRATIC = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x"
TRACE = "X, A, B : matrix(n, n)\nf = tr(A @ X @ B)"
LOGISTIC = "X : matrix(N, d); w : vector(d); y : vector(N)\nz = X @ w\ns = sigmoid(z)\n" \
           "J = -sum(y * log(s) + (1 - y) * log(1 - s))"
LSQ = "A : matrix(m, n); x : vector(n); b : vector(m)\nr = A @ x - b\nf = r' @ r"
CS224N = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()
DELTA_1 = r"\delta_1 = \frac{\partial J}{\partial \theta} = (\hat{y} - y)^T"

# (problem, derivation, layout, the line of the first false step or None)
CORPUS = {
    "quadratic, text": (QUADRATIC, "df = dx' @ A @ x + x' @ A @ dx\n= (A @ x) : dx + "
                        "(A' @ x) : dx\n= ((A + A') @ x) : dx\ndf_dx = (A + A') @ x",
                        "denominator", None),
    "quadratic, dropped transpose": (QUADRATIC, "df = dx' @ A @ x + x' @ A @ dx\n"
                                     "= (A @ x) : dx + (A @ x) : dx\ndf_dx = 2 * A @ x",
                                     "denominator", 2),
    "quadratic, sign": (QUADRATIC, "df = dx' @ A @ x + x' @ A @ dx\n= -((A + A') @ x) : dx",
                        "denominator", 2),
    "quadratic, latex": (QUADRATIC, r"""\begin{align*}
\mathrm{d}f &= \mathrm{d}x^\top A x + x^\top A \, \mathrm{d}x \\
 &= (A x)^\top \mathrm{d}x + (A^\top x)^\top \mathrm{d}x \\
\frac{\partial f}{\partial x} &= (A + A^\top) x
\end{align*}""", "denominator", None),
    "quadratic, latex, wrong gradient": (QUADRATIC, r"""\begin{align*}
\mathrm{d}f &= \mathrm{d}x^\top A x + x^\top A \, \mathrm{d}x \\
\frac{\partial f}{\partial x} &= 2 A x
\end{align*}""", "denominator", 3),
    "quadratic, numerator layout": (QUADRATIC, "df_dx = x' @ (A + A')", "numerator", None),
    "quadratic, nabla": (QUADRATIC, r"\nabla_{x} = 2 A x",
                         "denominator", 1),
    "quadratic, numerator layout given a column": (QUADRATIC, "df_dx = (A + A') @ x",
                                                   "numerator", 1),
    "trace, chain": (TRACE, "df = tr(A @ dX @ B) = tr(B @ A @ dX) = (B @ A)' : dX\n"
                     "df_dX = A' @ B'", "denominator", None),
    "trace, cyclic slip": (TRACE, "df = tr(A @ dX @ B) = tr(A @ B @ dX)\ndf_dX = A' @ B'",
                           "denominator", 1),
    "trace, latex": (TRACE, r"\mathrm{d}f = \operatorname{tr}(A \, \mathrm{d}X B) = "
                     r"(A^\top B^\top) : \mathrm{d}X", "denominator", None),
    "trace, latex, juxtaposed": (TRACE, r"\frac{\partial f}{\partial X} = A^TB^T",
                                 "denominator", None),
    "least squares": (LSQ, "dr = A @ dx\ndf = 2 * r : dr = 2 * (A' @ r) : dx\n"
                      "df_dx = 2 * A' @ (A @ x - b)", "denominator", None),
    "least squares, missing factor": (LSQ, "dr = A @ dx\ndf = r : dr\ndf_dx = A' @ r",
                                      "denominator", 2),
    "least squares, definitions": (LSQ, "where G = A' @ A\ndf_dx = 2 * (G @ x - A' @ b)",
                                   "denominator", None),
    "least squares, wrong definition use": (LSQ, "let G = A' @ A\ndf_dx = 2 * (G @ x - b)",
                                            "denominator", 2),
    "logistic": (LOGISTIC, "ds = s * (1 - s) * dz\ndJ = (s - y) : dz\ndJ_dw = X' @ (s - y)",
                 "denominator", None),
    "logistic, relu mask": (LOGISTIC, "ds = s * dz", "denominator", 1),
    "logistic, latex gradient": (LOGISTIC, r"\frac{\partial J}{\partial w} = X^\top (s - y)",
                                 "denominator", None),
    "logistic, errors do not cascade": (LOGISTIC, "dJ = (y - s) : dz\n"
                                        "dJ_dw = X' @ (s - y)", "denominator", 1),
    "cs224n, deltas in numerator layout": (CS224N, DELTA_1 + r"""
\delta_2 = \frac{\partial J}{\partial z} = \delta_1 U \circ \operatorname{relu}'(z)^T
\frac{\partial J}{\partial b_1} = \delta_2""", "numerator", None),
    "cs224n, delta without its mask": (CS224N, DELTA_1 + r"""
\delta_2 = \frac{\partial J}{\partial z} = \delta_1 U""", "numerator", 2),
    "cs224n, gradients": (CS224N, r"""\delta_1 = \hat{y} - y
\delta_2 = U^T \delta_1 \circ \operatorname{relu}'(z)
\frac{\partial J}{\partial U} = \delta_1 h^T
\frac{\partial J}{\partial b_1} = \delta_2
\frac{\partial J}{\partial x} = W^T \delta_2""", "denominator", None),
    "quadratic, d of an expression": (QUADRATIC, "df = d(x' @ A @ x)\n"
                                      "= dx' @ A @ x + x' @ A @ dx = ((A + A') @ x) : dx",
                                      "denominator", None),
    "trace, d of a trace, dropped term": (TRACE.replace("A @ X @ B", "X' @ X"),
                                          "df = d tr(X' @ X) = tr(X' @ dX)", "denominator", 1),
    "trace, latex d of a product": (TRACE, r"\mathrm{d}\left(\operatorname{tr}(A X B)\right) "
                                    r"= \operatorname{tr}(B A \, \mathrm{d}X)", "denominator",
                                    None),
    "blocks, latex bmatrix": (
        "A : matrix(n, k); B : matrix(n, m); x : vector(k); y : vector(m)\n"
        "f = sum(hcat(A, B) @ vcat(x, y))",
        r"""\begin{align*}
f &= \mathbf{1}_n^\top \begin{bmatrix} A & B \end{bmatrix} \begin{bmatrix} x \\ y \end{bmatrix} \\
  &= \mathbf{1}_n^\top (A x + B y) \\
  &= \mathbf{1}_n^\top (A x - B y)
\end{align*}""", "denominator", 4),
    "logdet, latex, inverse without its transpose": (
        "X : matrix(n, n)\nf = logdet(X)", r"\mathrm{d}\,\log\det(X) = X^{-1} : \mathrm{d}X",
        "denominator", 1),
}


@pytest.mark.parametrize("problem, derivation, layout, first", CORPUS.values(), ids=list(CORPUS))
def test_the_first_false_step_is_found_at_its_line(problem, derivation, layout, first):
    verdict = matcalc.verify_derivation(problem, derivation, layout=layout)
    assert verdict.layout == layout
    found = verdict.first_error.line if verdict.first_error is not None else None
    assert found == first, str(verdict)
    assert verdict.ok == (first is None)


def test_the_corpus_is_large_and_mixed():
    latex = sum("\\" in text for _, text, _, _ in CORPUS.values())
    planted = sum(first is not None for *_, first in CORPUS.values())
    assert len(CORPUS) >= 20 and latex >= 8 and planted >= 8


def test_steps_after_a_mistake_are_judged_on_their_own():
    verdict = matcalc.verify_derivation(LOGISTIC, "dJ = (y - s) : dz\n= -(s - y) : dz", wrt="w")
    assert [step.ok for step in verdict.steps] == [False, True]
    assert "sign flipped" in verdict.steps[0].hint and verdict.steps[0].counterexample


def test_seed_000_holds_for_one_image_and_not_for_a_batch():
    # derivations/steps/mathse_batch_softmax.tex: the accepted answer applies one vector softmax
    # to vec(CBA); for a batch of rows that step (line 9) is false, for one image every step holds
    text = pathlib.Path("derivations/steps/mathse_batch_softmax.tex").read_text()
    problem = pathlib.Path("derivations/mathse_batch_softmax.mc").read_text()
    batch = matcalc.verify_derivation(problem, text)
    assert batch.first_error.line == 9 and "softmax" in batch.first_error.text
    one = problem.replace("C : matrix(N, 1568)", "C : matrix(1, 1568)") \
        .replace("Y : matrix(N, 10)", "Y : matrix(1, 10)")
    assert matcalc.verify_derivation(one, text.replace("I_N", "I_1")).ok


def test_seed_003s_slip_is_found():
    # derivations/steps/cs224n_gradients.tex: the notes write dJ/dW where b_1 is meant
    text = pathlib.Path("derivations/steps/cs224n_gradients.tex").read_text()
    verdict = matcalc.verify_derivation(CS224N, text)
    wrong = [step for step in verdict.steps if not step.ok]
    assert len(wrong) == 1 and "different shapes" in wrong[0].hint
    assert r"\partial W" in wrong[0].text and r"\delta_{2}" in wrong[0].text.replace(
        r"\delta_2", r"\delta_{2}")
    # the deltas alone: every step holds, but they stop short of the requested gradients
    deltas = pathlib.Path("derivations/steps/cs224n_deltas.tex").read_text()
    verdict = matcalc.verify_derivation(CS224N, deltas, layout="numerator")
    assert verdict.status == "incomplete" and verdict.steps and \
        all(step.ok for step in verdict.steps)
    assert len(verdict.missing) == 5 and "the gradient of J with respect to W" in verdict.summary


def test_the_command_line_checks_a_derivation(tmp_path, capsys):
    steps = tmp_path / "steps.txt"
    steps.write_text("df = dx' @ A @ x + x' @ A @ dx\n= (A @ x) : dx + (A @ x) : dx\n")
    problem = tmp_path / "quadratic.mc"
    problem.write_text(QUADRATIC + "\n")
    assert main(["verify", str(problem), "--derivation", str(steps)]) == 1
    out = capsys.readouterr().out
    assert "line 2: wrong" in out and "first false step is on line 2" in out
    steps.write_text("df_dx = (A + A') @ x\n")
    assert main(["verify", str(problem), "--derivation", str(steps)]) == 0
    assert main(["verify", str(problem), "--derivation", str(tmp_path / "missing.txt")]) == 2


def test_d_of_an_expression_is_its_differential_unless_d_is_a_name():
    assert matcalc.verify_derivation(QUADRATIC, "d(x' @ A @ x) = ((A + A') @ x) : dx").ok
    # with a problem name d, ``d (x' @ x)`` is the product d * (x' @ x)
    named = "x : vector(n); d : scalar\nf = d * (x' @ x)"
    assert matcalc.verify_derivation(named, "f = d (x' x)\ndf_dx = 2 d x", wrt="x").ok
    assert matcalc.verify_derivation(named, r"df = \mathrm{d}(d \, x^T x) = 2 d x : dx").ok
    unclosed = matcalc.verify_derivation(QUADRATIC, "df = d(x' @ A @ x")
    assert "closing bracket" in unclosed.steps[0].hint and unclosed.lines[0].status == "unread"


def test_unreadable_lines_are_reported_not_raised():
    verdict = matcalc.verify_derivation(QUADRATIC, "df = dq @ x\ndf_dx = (A + A') @ x")
    assert not verdict.steps[0].ok and "cannot read" in verdict.steps[0].hint
    assert verdict.steps[1].ok
    assert verdict.lines[0].status == "unread" and "cannot read" in verdict.lines[0].why


@pytest.mark.parametrize("line, column", [
    ('f = sum(einsum("i->(i", x)) = sum(x)', 20),
    ('df = sum(einsum("i->(i", dx)) = ones(n)\' @ dx', 21),
    ('df = d(sum(einsum("i->(i", x))) = ones(n)\' @ dx', 22),
])
def test_a_bracket_inside_einsums_spec_in_a_derivation_is_the_specs(line, column):
    # the = after it still separates the sides, and d(...) still closes: the line is not read,
    # with the spec's own error at its place
    verdict = matcalc.verify_derivation("x : vector(n)\nf = sum(x)", line, wrt="x")
    assert verdict.lines[0].status == "unread"
    assert f"column {column}: a group of output letters opened with ( is never closed" in \
        verdict.steps[0].hint, verdict.steps[0].hint

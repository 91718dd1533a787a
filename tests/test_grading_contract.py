"""The grading contract (docs/guide.md): verdicts that an answer cannot steer.

The problem alone decides where answers are tested; an answer is a closed expression over the
problem's names and its own definitions (the result's deltas only where the instructor allows
them); points vary in magnitude.
"""

from __future__ import annotations

import csv
import pathlib
import re

import numpy as np
import pytest

import matcalc
from matcalc.cli.main import main
from matcalc.core.shapes import Kind
from matcalc.errors import (
    DomainError,
    MatcalcError,
    ShapeError,
    UnknownNameError,
    UnsupportedError,
)
from matcalc.grading.batch import grade, read_answers
from matcalc.grading.rubrics import load_rubric
from matcalc.lang.parse import parse
from matcalc.numeric.sampling import random_instance

ABS = "x : vector(n)\nf = sum(abs(x))"
RELU = "x : vector(m); W : matrix(n, m)\nf = sum(relu(W @ x))"
LOG = "x : vector(n) positive\nf = sum(x * log(x))"
ROOT = pathlib.Path(__file__).resolve().parent.parent
CS224N = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()
SQUARES = "x : vector(n)\nf = sum(x .^ 2) / 2"

# (problem, wrt, an answer whose own definition would narrow the domain to where it is right)
STEERED = {
    "abs, log(-x)": (ABS, "x", "t = log(-x); -1 + 0*x"),
    "abs, log(-x) used": (ABS, "x", "t = log(-x); -1 + 0*t"),
    "abs, sqrt(x)": (ABS, "x", "t = sqrt(x); ones(n)"),
    "relu mask forgotten, log(W @ x)": (RELU, "W", "t = log(W @ x); ones(n) @ x'"),
    "relu mask forgotten, wrt x": (RELU, "x", "t = log(W @ x); W' @ ones(n)"),
    "relu, latex definition": (RELU, "W", r"t = \log(W x); \mathbf{1}_n x^\top"),
    "log, a definition beyond the domain": (LOG, "x", "t = log(x - 1); log(x) + 1 + 0 * t"),
}


@pytest.mark.parametrize("problem, wrt, answer", STEERED.values(), ids=list(STEERED))
def test_an_answers_definitions_never_move_where_it_is_tested(problem, wrt, answer):
    verdict = matcalc.verify(problem, wrt, answer)
    assert not verdict.ok
    assert "no finite value" in verdict.hint and "its definition t" in verdict.hint
    assert verdict.counterexample is not None and verdict.counterexample["got"] is None


def test_the_counterexample_is_a_point_where_the_problem_is_defined():
    verdict = matcalc.verify(ABS, "x", "t = log(-x); -1 + 0*x")
    x = np.asarray(verdict.counterexample["inputs"]["x"])
    assert np.any(x > 0)  # log(-x) is undefined there, sum(abs(x)) is not
    assert np.all(np.isfinite(verdict.counterexample["expected"]))


def test_definitions_defined_where_the_problem_is_are_fine():
    assert matcalc.verify(ABS, "x", "s = sign(x); s").ok
    assert matcalc.verify(RELU, "W", "t = W @ x; step(t) @ x'").ok
    assert matcalc.verify(LOG, "x", "t = log(x); t + 1").ok


@pytest.mark.parametrize("derivation", [
    "where t = log(-x)\ndf_dx = -ones(n)",
    "where t = log(-x)\ndf_dx = -ones(n) + 0 * t",
    "let t = sqrt(x)\ndf_dx = ones(n) + 0 * t",
])
def test_a_derivations_definitions_never_move_where_its_steps_are_tested(derivation):
    verdict = matcalc.verify_derivation(ABS, derivation)
    assert not verdict.ok and verdict.first_error.line == 2


def test_a_right_step_over_a_definition_that_is_defined_still_holds():
    assert matcalc.verify_derivation(ABS, "where s = sign(x)\ndf_dx = s").ok


# -- the result's hidden names ----------------------------------------------------------------

@pytest.mark.parametrize("wrt, answer", [("b1", "delta2"), ("W", "delta2 @ x'"),
                                         ("W", r"\delta_2 x^\top"), ("U", "delta1 @ h'"),
                                         ("W", "t = delta2; t @ x'")])
def test_an_answer_may_not_borrow_the_results_deltas(wrt, answer):
    with pytest.raises(UnknownNameError, match="allow-deltas") as raised:
        matcalc.verify(CS224N, wrt, answer)
    assert "delta" in str(raised.value) and "not a name of the problem" in str(raised.value)
    assert matcalc.verify(CS224N, wrt, answer, allow_deltas=True).ok


# a delta inside a larger answer was type-checked against the result's delta first, and the
# shape error told its shape ("delta1 has Nc rows"): a name of the result is refused wherever it
# stands, and the refusal is the same for a name the result has and one it has not
@pytest.mark.parametrize("wrt, answer", [
    ("x", "W' @ delta1"), ("x", "delta2 + 0 * delta1"), ("x", "t = delta1; W' @ t"),
    ("x", r"W^\top \delta_1"), ("U", "delta1' @ h"), ("x", "sum(delta1) * ones(Dx)"),
])
def test_a_results_delta_is_refused_wherever_it_stands_telling_nothing_of_it(wrt, answer):
    with pytest.raises(UnknownNameError, match="allow-deltas") as raised:
        matcalc.verify(CS224N, wrt, answer)
    message = str(raised.value)
    assert "rows" not in message and "columns" not in message and "Nc" not in message
    unknown = answer.replace("delta1", "delta7").replace("delta_1", "delta_7") \
        .replace("delta2", "delta8")
    with pytest.raises(UnknownNameError) as other:
        matcalc.verify(CS224N, wrt, unknown)  # names the result does not have
    assert str(other.value).replace("delta7", "delta1").replace("delta_7", "delta_1") \
        .replace("delta8", "delta2") == message


def test_a_results_delta_in_a_larger_answer_is_graded_when_allowed():
    assert matcalc.verify(CS224N, "x", "W' @ delta2", allow_deltas=True).ok
    wrong = matcalc.verify(CS224N, "x", "W' @ delta1", allow_deltas=True)
    assert not wrong.ok and "type-check" in wrong.hint  # the instructor made deltas public


def test_the_batch_refuses_a_delta_inside_an_answer(tmp_path):
    (tmp_path / "net.mc").write_text(CS224N)
    path = tmp_path / "answers.csv"
    path.write_text("student,problem,wrt,answer\nann,net.mc,x,W' @ delta1\n")
    (graded,) = grade(read_answers(path), jobs=1)
    assert graded.verdict == "error" and "allow-deltas" in graded.hint
    assert "rows" not in graded.hint


def test_an_answer_that_defines_its_deltas_needs_no_option():
    answer = "delta1 = yhat - y; delta2 = (U' @ delta1) * step(z); delta2 @ x'"
    assert matcalc.verify(CS224N, "W", answer).ok


def test_the_command_line_allows_deltas_only_when_asked(capsys):
    problem = "derivations/cs224n_one_layer.mc"
    assert main(["verify", problem, "--wrt", "b1", "--answer", "delta2"]) == 2
    assert "--allow-deltas" in capsys.readouterr().err
    assert main(["verify", problem, "--wrt", "b1", "--answer", "delta2",
                 "--allow-deltas"]) == 0


def _batch(tmp_path: pathlib.Path, rubric: str | None) -> pathlib.Path:
    (tmp_path / "net.mc").write_text(CS224N)
    if rubric is not None:
        (tmp_path / "net.rubric.toml").write_text(rubric)
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "problem", "wrt", "answer"])
        writer.writerow(["ann", "net.mc", "b1", "delta2"])
        writer.writerow(["bob", "net.mc", "W", "delta2 @ x'"])
        writer.writerow(["cy", "net.mc", "x", "y : vector(Dx); W' @ x"])
    return path


def test_the_batch_allows_deltas_by_option_or_rubric_only(tmp_path):
    path = _batch(tmp_path, None)
    graded = grade(read_answers(path), jobs=1)
    assert [g.verdict for g in graded] == ["error", "error", "error"]
    assert "allow-deltas" in graded[0].hint
    allowed = grade(read_answers(path), jobs=1, allow_deltas=True)
    assert [g.verdict for g in allowed][:2] == ["correct", "correct"]
    by_rubric = grade(read_answers(_batch(tmp_path, "points = 2\nallow_deltas = true\n")),
                      jobs=1)
    assert [g.verdict for g in by_rubric][:2] == ["correct", "correct"]
    assert by_rubric[0].points == 2


def test_a_rubrics_allow_deltas_is_true_or_false(tmp_path):
    path = tmp_path / "r.rubric.toml"
    path.write_text("allow_deltas = 1\n")
    with pytest.raises(MatcalcError, match="allow_deltas is true or false"):
        load_rubric(path)
    path.write_text("points = 3\n")
    assert load_rubric(path).allow_deltas is False


# -- declarations inside an answer ------------------------------------------------------------

@pytest.mark.parametrize("answer, what", [("y : vector(n); (A + A') @ x", "declaration"),
                                          ("q : vector(n)\n(A + A') @ x", "declaration"),
                                          ("t = 2; grad f wrt x; (A + A') @ x", "request")])
def test_an_answer_cannot_declare(answer, what):
    problem = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x"
    with pytest.raises(MatcalcError, match=f"cannot hold a {what}"):
        matcalc.verify(problem, "x", answer)


def test_a_declaration_in_a_batch_answer_is_that_rows_error(tmp_path):
    graded = grade(read_answers(_batch(tmp_path, None)), jobs=1)
    assert graded[2].verdict == "error" and "cannot hold a declaration" in graded[2].hint
    assert "internal error" not in graded[2].hint


# -- points of several magnitudes -------------------------------------------------------------

@pytest.mark.parametrize("answer, size", [("x + 1e-9", "small"),
                                          ("x + 1e-12 * x .^ 5", "large")])
def test_an_answer_that_agrees_only_near_the_usual_range_is_wrong(answer, size):
    verdict = matcalc.verify(SQUARES, "x", answer)
    assert not verdict.ok and f"entries are {size}" in verdict.hint
    assert matcalc.verify(SQUARES, "x", "x").ok


def test_points_vary_in_magnitude_where_the_problem_allows():
    from matcalc.grading.samples import SEEDS, problem_point
    from matcalc.lang.parse import parse

    program = parse(SQUARES)
    scales = [float(np.max(np.abs(problem_point(program, seed).arrays["x"]))) for seed in SEEDS]
    assert min(scales) < 0.2 and max(scales) > 8
    # softmax saturates at large entries: the large point falls back to the usual scale, and a
    # right answer that takes the log of the softmax stays right
    net = matcalc.verify(CS224N, "b2", "softmax(theta) - y")
    assert net.ok and len(net.seeds) == len(SEEDS)


# -- a derivation holds only when it is read, checked and complete ---------------------------

QUADRATIC = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x"
LEAST_SQUARES = "X : matrix(N, d); w : vector(d); y : vector(N)\nf = sum((X @ w - y) .^ 2)"


@pytest.mark.parametrize("problem, derivation, why", [
    (QUADRATIC, "", "it is empty"),
    (QUADRATIC, "   \n% a comment only\n", "it is empty"),
    (LEAST_SQUARES, r"g = 7 X^\top y", "no step was checked"),
    (LEAST_SQUARES, "where g = 2 * X' @ (X @ w - y)", "no step was checked"),
    (QUADRATIC, "df = dx' @ A @ x + x' @ A @ dx", "does not reach the gradient of f with "
                                                   "respect to x"),
    (QUADRATIC, "x' A x", "no step was checked"),
])
def test_a_derivation_that_checks_nothing_or_stops_short_is_incomplete(problem, derivation, why):
    verdict = matcalc.verify_derivation(problem, derivation)
    assert verdict.status == "incomplete" and not verdict.ok and not verdict
    assert verdict.first_error is None and why in verdict.summary


@pytest.mark.parametrize("derivation, line", [
    ("let df = 3 * x' @ A @ dx", 1),  # a differential that already means something: judged
    ("where t = x = 2*x", 1),  # the claim after the definition is judged
    ("let x = 2 * x", 1),  # a problem's name is not redefined: it is a claim
    ("where t = (A + A') @ x\ndf_dx = 2 * t", 2),
])
def test_a_definition_that_claims_something_is_a_step_and_is_judged(derivation, line):
    verdict = matcalc.verify_derivation(QUADRATIC, derivation)
    assert verdict.status == "false" and verdict.first_error.line == line


@pytest.mark.parametrize("derivation", [
    "df_dx = (A + A') @ x",
    "df = ((A + A') @ x)' @ dx",
    "df = tr(x' @ (A + A') @ dx)",
    "df = dx' @ A @ x + x' @ A @ dx\n= (A @ x + A' @ x) : dx",
    "where f = x' @ A @ x\ndf_dx = (A + A') @ x",
    "where t = (A + A') @ x\ndf = t : dx",
])
def test_a_derivation_that_reaches_the_gradient_holds(derivation):
    verdict = matcalc.verify_derivation(QUADRATIC, derivation, wrt="x")
    assert verdict.status == "holds" and verdict.ok, str(verdict)


def test_each_line_says_whether_it_was_checked_read_or_not_read():
    verdict = matcalc.verify_derivation(
        QUADRATIC, "where G = A + A'\nx' A x\ndf = dx' @ A @ x + x' @ A @ dx", wrt="x")
    assert [(r.line, r.status) for r in verdict.lines] == \
        [(1, "read"), (2, "read"), (3, "checked")]
    assert "defines G" in verdict.lines[0].why and "claims nothing" in verdict.lines[1].why
    assert verdict.missing and "respect to x" in verdict.missing[0]
    assert verdict.steps_hold and verdict.status == "incomplete"
    shown = str(verdict)
    assert "line 1: not checked" in shown and "line 2: not checked" in shown
    assert "line 3: ok" in shown and "incomplete" in shown


@pytest.mark.parametrize("derivation", ["df = dq @ x\ndf_dx = (A + A') @ x",
                                        "where t\ndf_dx = (A + A') @ x"])
def test_a_line_that_cannot_be_read_never_lets_the_derivation_hold(derivation):
    verdict = matcalc.verify_derivation(QUADRATIC, derivation, wrt="x")
    assert verdict.status == "false" and verdict.first_error.line == 1
    assert verdict.lines[0].status == "unread" and "cannot read" in verdict.lines[0].why
    assert "line 1: not read" in str(verdict)


def test_the_command_line_exits_1_on_an_incomplete_derivation(tmp_path, capsys):
    problem = tmp_path / "quadratic.mc"
    problem.write_text(QUADRATIC + "\n")
    steps = tmp_path / "steps.txt"
    for text in ("", r"g = 7 A^\top x", "df = dx' @ A @ x + x' @ A @ dx"):
        steps.write_text(text)
        assert main(["verify", str(problem), "--derivation", str(steps)]) == 1
        assert "# incomplete" in capsys.readouterr().out
    steps.write_text("df = dx' @ A @ x + x' @ A @ dx\n= ((A + A') @ x) : dx\n")
    assert main(["verify", str(problem), "--derivation", str(steps), "--wrt", "x"]) == 0
    assert "# every step holds" in capsys.readouterr().out


# -- one-line input: names typed by convention keep their types --------------------------------

@pytest.mark.parametrize("text, product", [("x'*A*x", "x' @ A"), ("A*x", "A @ x"),
                                           ("X * x", "X @ x"), ("x' * A", "x' @ A"),
                                           ("sum(W * b)", "W @ b")])
def test_star_between_a_matrix_and_a_vector_is_an_error_that_suggests_at(text, product):
    with pytest.raises(ShapeError, match="write " + re.escape(product)):
        matcalc.derive(text, wrt="x" if "x" in text else "b")


def test_the_command_line_quadratic_form_with_star_is_refused(capsys):
    assert main(["derive", "x'*A*x", "--wrt", "x"]) == 2
    assert "x' @ A" in capsys.readouterr().err
    assert main(["derive", "x' @ A @ x", "--wrt", "x"]) == 0


@pytest.mark.parametrize("text, name", [("x' * y", "y"), ("x + y'", "y"), ("x' * x", "x")])
def test_a_name_typed_by_convention_is_never_retyped_to_size_one(text, name):
    variable = parse(text).variables[name]
    assert variable.kind is Kind.VECTOR and not variable.shape.rows.is_number


def test_a_product_of_two_columns_is_an_error_not_a_retyped_scalar():
    with pytest.raises(ShapeError):
        parse("x @ y")
    assert matcalc.derive("x * y", wrt="x").text == "df_dx = Diag(y)"  # elementwise stays


@pytest.mark.parametrize("text", ["sum(x) / 0", "x / 0", "x' @ x / 0.0"])
def test_dividing_by_a_literal_zero_is_an_error(text):
    with pytest.raises(MatcalcError, match="division by zero"):
        matcalc.derive(text, wrt="x")


def test_a_division_by_zero_at_a_point_is_a_domain_error_not_a_crash():
    program = parse("x : vector(n)\nf = sum(x) / (1 - 1)")
    with pytest.raises(DomainError):
        random_instance(program, seed=0)


# -- values floating point loses ------------------------------------------------------------
# (1e20 + x) - 1e20 is 0 in floating point: x + ((1e20 + x) - 1e20), which is 2x, evaluated
# to x and was graded correct for the gradient x; (x.^41 + x) - x.^41, which is x, evaluated
# to 0 at a large point and was graded wrong.  Where floating point loses an answer's value
# (cancellation, a product underflowing, an overflow) the grader says it cannot judge it.
HALF_SQUARE = "x : vector(n)\nf = 0.5 * x' @ x\n"
LEAST_SQUARES = "A : matrix(m, n)\nx : vector(n)\nb : vector(m)\nL = norm2(A @ x - b) ^ 2\n"


@pytest.mark.parametrize("problem, answer", [
    (HALF_SQUARE, "x + ((1e20 + x) - 1e20)"),           # 2x, evaluated as x
    (HALF_SQUARE, "x + (exp(60) + x - exp(60))"),
    (HALF_SQUARE, "t = 1e20 * ones(n); x + (t + x - t)"),
    (HALF_SQUARE, "x + x * 1e-300 * 1e-300 * 1e300 * 1e300"),  # 2x: the product underflows
    (HALF_SQUARE, "(x .^ 41 + x) - x .^ 41"),            # x, evaluated as 0 at large points
    (HALF_SQUARE, "x * exp(800) * exp(-800)"),            # x: exp(800) overflows
    (LEAST_SQUARES, "2 * A' @ (A @ x - b) + ((1e30 + x) - 1e30)"),
])
def test_an_answer_whose_value_floating_point_loses_is_not_judged(problem, answer):
    with pytest.raises(UnsupportedError, match="cannot judge this answer"):
        matcalc.verify(problem, "x", answer)


@pytest.mark.parametrize("answer", ["(x .^ 3 + x) - x .^ 3", "x + x / 1e300 * 1e300 - x",
                                    "2 * x - x", "x + 0 * x"])
def test_a_right_answer_with_some_rounding_is_still_right(answer):
    assert matcalc.verify(HALF_SQUARE, "x", answer).ok


def test_a_wrong_answer_is_wrong_where_its_value_survives():
    # 2x: lost to rounding where x .^ 41 is large, plainly twice the gradient elsewhere
    verdict = matcalc.verify(HALF_SQUARE, "x", "x + (x .^ 41 + x - x .^ 41)")
    assert not verdict.ok and "2 times the gradient" in verdict.hint


def test_saturated_problems_keep_their_right_answers():
    # s (1 - s) near s = 1 cancels, within what the scaled points allow (sigmoid 1e-6 from 1)
    logistic = (ROOT / "derivations" / "logistic_regression.mc").read_text()
    assert matcalc.verify(logistic, "w", "X' @ (s - y)").ok
    assert matcalc.verify(logistic, "w", "X' @ Diag(s * (1 - s)) @ X", kind="hessian").ok
    assert matcalc.verify(logistic, "w", "X' @ Diag(s - s .^ 2) @ X", kind="hessian").ok


# A Gaussian density underflows at the scaled point (exp(-z^2 / 2) for z near 40; GELU has no
# limits, so the problem stays defined there) where its true value is below 1e-308 and changes
# nothing the tolerance sees: a right answer with it is right, as is one with a negligible
# product that underflows; one that an underflow could change is still not judged.
GELU = "x, w : vector(n)\nL = sum(gelu(x * w))\n"
GELU_LAYER = "X : matrix(m, n)\nw : vector(n)\nL = sum(gelu(X @ w))\n"
PHI = "exp(-{z} .^ 2 / 2) / sqrt(2 * pi)"
GELU_PRIME = "(1 + erf({z} / sqrt(2))) / 2 + {z} * " + PHI


@pytest.mark.parametrize("problem, wrt, answer, kind", [
    (GELU, "w", "x * (" + GELU_PRIME.format(z="(x * w)") + ")", "grad"),
    (GELU, "x", "w * (" + GELU_PRIME.format(z="(x * w)") + ")", "grad"),
    (GELU_LAYER, "w", "X' @ (" + GELU_PRIME.format(z="(X @ w)") + ")", "grad"),
    (GELU_LAYER, "w", "X' @ Diag((2 - (X @ w) .^ 2) * " + PHI.format(z="(X @ w)") + ") @ X",
     "hessian"),
    (HALF_SQUARE, "x", "x + x * 1e-300 * 1e-300", "grad"),
])
def test_a_right_answer_with_a_negligible_underflow_is_right(problem, wrt, answer, kind):
    assert matcalc.verify(problem, wrt, answer, kind=kind).ok
    if kind == "grad":
        name = problem.splitlines()[-1].split(" = ")[0]
        assert matcalc.verify_derivation(problem, f"d{name}_d{wrt} = {answer}").ok


@pytest.mark.parametrize("problem, answer", [
    (GELU, "x * (1 + erf(x * w / sqrt(2))) / 2"),  # z phi(z) is missing
    (GELU, "x * (" + GELU_PRIME.format(z="(x * w)") + ") * 1.001"),
])
def test_a_wrong_answer_with_a_gaussian_is_wrong(problem, answer):
    assert not matcalc.verify(problem, "w", answer).ok


@pytest.mark.parametrize("answer", ["x + exp(-x .^ 2 - 800) * exp(800) * x",
                                    "x * (1 + exp(-x .^ 2 - 750) * 1e300 * 1e30)"])
def test_an_answer_an_underflow_could_change_is_not_judged(answer):
    with pytest.raises(UnsupportedError, match="cannot judge this answer"):
        matcalc.verify(HALF_SQUARE, "x", answer)


def test_a_step_whose_value_floating_point_loses_is_not_judged(capsys):
    verdict = matcalc.verify_derivation(HALF_SQUARE, "df_dx = x + ((1e20 + x) - 1e20)")
    assert verdict.status == "false" and verdict.lines[0].status == "unread"
    assert "cannot judge" in verdict.lines[0].why
    assert matcalc.verify_derivation(HALF_SQUARE, "df_dx = (x .^ 3 + x) - x .^ 3").ok
    problem = ROOT / "derivations" / "least_squares.mc"
    assert main(["verify", str(problem), "--wrt", "x", "--answer",
                 "2 * A' @ (A @ x - b) + ((1e30 + x) - 1e30)"]) == 2
    assert "cannot judge" in capsys.readouterr().err


# -- a name for a derivative that nothing states -------------------------------------------------
# "g = \nabla_x f" made g the true gradient, so "\nabla_x f = g" compared the gradient with itself
# and the derivation held without stating anything; a name for a derivative may be used once a
# step says what it equals.
QUADRATIC_FORM = "A : matrix(n, n)\nx : vector(n)\nf = x' @ A @ x\n"


@pytest.mark.parametrize("derivation", [
    "g = \\nabla_x f\n\\nabla_x f = g",
    "G = \\nabla_x f\ndf = G' @ dx",
    "G = \\nabla_x f\nh = 2 * G\n\\nabla_x f = h / 2",
    "where G = \\frac{\\partial f}{\\partial x}\n\\nabla_x f = G",
    "\\nabla_x f = G, \\qquad G = \\nabla_x f",
])
def test_a_name_for_a_derivative_is_no_statement_of_it(derivation):
    verdict = matcalc.verify_derivation(QUADRATIC_FORM, derivation)
    assert not verdict.ok
    assert any("no step has said what it equals" in line.why for line in verdict.lines)


@pytest.mark.parametrize("derivation", [
    "G = \\nabla_x f = (A + A^\\top) x\ndf = G' @ dx",
    "G = \\nabla_x f\nG = (A + A^\\top) x\ndf = G' @ dx",
])
def test_a_name_for_a_derivative_serves_once_stated(derivation):
    assert matcalc.verify_derivation(QUADRATIC_FORM, derivation).ok


# two literals with more digits than float64 holds round to one number: 0.1000000000000000001 - 0.1
# was 0, and x + (0.1000000000000000001 - 0.1) * 1e20 * x (which is 11 x) was graded correct
@pytest.mark.parametrize("answer", [
    "x + (0.1000000000000000001 - 0.1) * 1e20 * x",
    "x + (1.00000000000000000001 - 1) * 100000000000000000000 * x",
    "x + (100000000000000000000001 - 100000000000000000000000) * x",
    r"x + \left(1.00000000000000000001 - 1\right) \cdot 10^{20} x",
])
def test_a_number_floating_point_cannot_hold_is_refused(answer):
    with pytest.raises(UnsupportedError, match="more significant digits than float64 holds"):
        matcalc.verify(HALF_SQUARE, "x", answer)


@pytest.mark.parametrize("answer", ["x * 1.0000000000000000000", "x * 0.50000000000000000 * 2",
                                    "x * 100000000000000000000 / 100000000000000000000"])
def test_a_long_number_that_float64_holds_is_read(answer):
    assert matcalc.verify(HALF_SQUARE, "x", answer).ok

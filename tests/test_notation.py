r"""Reading the notation people write in derivations (matcalc.lang.derivation_text and the LaTeX
reader): derivative notation on left sides, function notation, align markup, connectives, inner
products; unsupported notation named with what to write instead; errors at file coordinates;
the limits on what a derivation may hold; and the notation corpus of tests/notation_corpus.py.
"""

from __future__ import annotations

import pathlib
import re

import pytest
from notation_corpus import CORPUS, LECTURE_NOTES, MATH_SE, RIDGE, TEXTBOOK

import matcalc
from matcalc import limits
from matcalc.cli.main import main
from matcalc.errors import LimitError, UnsupportedError
from matcalc.lang import derivation_text
from matcalc.lang.derivation_text import derivation_steps
from matcalc.lang.derivative_notation import derivative_written
from matcalc.limits import time_budget

# The ridge gradient 2 X^T (X w - y) + 2 lambda w (Hastie, Tibshirani & Friedman, The Elements of
# Statistical Learning, eq. 3.44), with the right side written as textbooks write it.
GRADIENT = r"2 X^\top (Xw - y) + 2\lambda w"


@pytest.mark.parametrize("problem, derivation, planted", CORPUS.values(), ids=list(CORPUS))
def test_the_corpus_is_read_and_every_planted_slip_found_at_its_line(problem, derivation,
                                                                      planted):
    verdict = matcalc.verify_derivation(problem, derivation)
    assert verdict.steps, "nothing was checked"
    if planted is None:
        assert verdict.ok, str(verdict)
        return
    assert verdict.first_error is not None and verdict.first_error.line == planted, str(verdict)


def test_the_corpus_is_large_and_in_three_styles():
    planted = [name for name, (*_, line) in CORPUS.items() if line is not None]
    assert len(CORPUS) >= 40 and len(planted) >= 15 and len(CORPUS) - len(planted) >= 20
    assert min(len(LECTURE_NOTES), len(TEXTBOOK), len(MATH_SE)) >= 10


def test_correct_lines_of_the_corpus_are_judged_not_skipped():
    # every step of a correct derivation is read: none is "cannot read", none is dropped
    for problem, derivation, planted in CORPUS.values():
        if planted is None:
            verdict = matcalc.verify_derivation(problem, derivation)
            assert all("cannot read" not in step.hint for step in verdict.steps)


@pytest.mark.parametrize("left", [
    r"\frac{df}{dw}", r"\frac{\mathrm{d}f}{\mathrm{d}w}", r"\frac{d f}{d w}", r"\nabla_w f",
    r"\nabla_{w} f(w)", r"\nabla_w f(w)", r"\frac{\partial f}{\partial w}",
    r"\frac{\partial f(w)}{\partial w}", r"\frac{\partial}{\partial w} f",
    r"\frac{d}{dw} f(w)", r"\partial f / \partial w", r"\nabla_w", "df_dw", "df/dw",
    r"\dfrac{\partial f}{\partial w}", r"\nabla_{\mathbf{w}} f",
])
def test_derivative_notation_on_the_left_is_the_gradient(left):
    assert matcalc.verify_derivation(RIDGE, f"{left} = {GRADIENT}").ok
    wrong = matcalc.verify_derivation(RIDGE, f"{left} = 2 X^\\top (Xw - y)")
    assert not wrong.ok and "cannot read" not in wrong.steps[0].hint


def test_nabla_of_a_matrix_variable_names_it():
    softmax = ("W : matrix(k, n); x : vector(n); y : vector(k) simplex\n"
               "J = -sum(y * log(softmax(W @ x)))")
    assert matcalc.verify_derivation(softmax, r"\nabla_W J = (\mathrm{softmax}(Wx) - y) x^T").ok
    assert not matcalc.verify_derivation(softmax, r"\nabla_W J = x (\mathrm{softmax}(Wx) - y)^T"
                                         ).ok


def test_a_quotient_of_differentials_is_not_taken_for_a_derivative():
    # d log x = dx / x: \frac{dx}{x} is a quotient (its denominator is no differential)
    assert derivative_written(r"\frac{dx}{x}") is None
    problem = "x : vector(n) positive\nf = sum(log(x))"
    assert matcalc.verify_derivation(problem, r"\mathrm{d}f = \mathbf{1}_n^\top "
                                              r"\frac{\mathrm{d}x}{x}").steps_hold


@pytest.mark.parametrize("line", [r"f(w) = \|Xw - y\|^2 + \lambda \|w\|^2",
                                  r"f(w) = \|Xw - y\|_2^2 + \lambda \|w\|_2^2",
                                  r"f = \langle Xw - y, Xw - y \rangle + \lambda w \cdot w",
                                  r"f(w) = (Xw - y)^\top (Xw - y) + \lambda \langle w, w \rangle"])
def test_function_notation_is_the_function_not_a_product(line):
    assert matcalc.verify_derivation(RIDGE, line).steps_hold
    assert not matcalc.verify_derivation(RIDGE, line.replace("\\lambda", "2 \\lambda")).ok


def test_function_notation_keeps_a_product_where_the_name_does_not_depend_on_the_bracket():
    # s does not depend on v: s(v) is s times v, as before
    problem = "s : scalar; v, x : vector(n)\ng = s * x\nf = sum(g * v)"
    assert matcalc.verify_derivation(problem, r"\nabla_v f = s(x)", wrt="v").ok
    assert matcalc.verify_derivation(problem, r"\nabla_x f = s(v)", wrt="x").ok


MARKUP = {
    "label": r"\nabla_w f = " + GRADIENT + r" \label{eq:gradient}",
    "nonumber": r"\nabla_w f &= " + GRADIENT + r" \nonumber \\",
    "notag": r"\nabla_w f &= " + GRADIENT + r" \notag",
    "tag": r"\nabla_w f = " + GRADIENT + r" \tag{3}",
    "intertext": "\\intertext{hence}\n\\nabla_w f = " + GRADIENT,
    "Rightarrow": r"\Rightarrow \nabla_w f = " + GRADIENT,
    "implies": r"\implies \nabla_w f = " + GRADIENT,
    "therefore": r"\therefore \nabla_w f = " + GRADIENT,
    "qquad definition": r"\nabla_w f = 2 X^\top r + 2\lambda w, \qquad r = Xw - y",
    "text where": r"\nabla_w f = 2 X^\top r + 2\lambda w, \quad \text{where } r = Xw - y",
    "a lone hence": "hence\n\\nabla_w f = " + GRADIENT,
    "math.SE dollars": "We get $$\\nabla_w f = " + GRADIENT + "$$ as claimed.",
}


@pytest.mark.parametrize("derivation", MARKUP.values(), ids=list(MARKUP))
def test_align_markup_and_connectives_do_not_stop_the_derivation(derivation):
    verdict = matcalc.verify_derivation(RIDGE, derivation)
    assert verdict.ok and verdict.steps, str(verdict)
    wrong = matcalc.verify_derivation(RIDGE, derivation.replace("2\\lambda w", "\\lambda w"))
    assert not wrong.ok and "cannot read" not in wrong.first_error.hint


def test_each_piece_keeps_its_file_coordinates():
    steps = derivation_steps("\\begin{align*}\n  a &= b \\label{x} \\\\\n  c &= d, \\qquad e = f\n"
                             "\\end{align*}")
    assert [(s.line, [(side.text, side.column) for side in s.sides]) for s in steps] == [
        (2, [("a", 3), ("b", 8)]), (3, [("c", 3), ("d", 8)]), (3, [("e", 18), ("f", 22)])]


def test_a_slip_on_line_6_is_reported_on_line_6_of_the_file(tmp_path, capsys):
    derivation = "\n".join([
        r"\begin{align*}",
        r"f(w) &= \|Xw - y\|^2 + \lambda \|w\|^2 \\",
        r"\mathrm{d}f &= 2 (Xw - y)^\top X \, \mathrm{d}w + 2 \lambda w^\top \mathrm{d}w \\",
        r"  &= \langle 2 X^\top (Xw - y) + 2 \lambda w, \mathrm{d}w \rangle \\",
        r"\intertext{so}",
        r"\nabla_w f &= 2 X^\top (Xw - y) + 2 \lambda \omega",
        r"\end{align*}"])
    verdict = matcalc.verify_derivation(RIDGE, derivation)
    error = verdict.first_error
    assert error.line == 6 and "line 6, column 45" in error.hint and "omega" in error.hint
    steps = tmp_path / "steps.tex"
    steps.write_text(derivation)
    problem = tmp_path / "ridge.mc"
    problem.write_text(RIDGE + "\n")
    assert main(["verify", str(problem), "--derivation", str(steps)]) == 1
    assert "line 6, column 45" in capsys.readouterr().out


@pytest.mark.parametrize("text, words", [
    (r"\int_0^1 x", "\\int is not read"), (r"\mathbb{E}[x]", "expectation"),
    (r"x \approx y", "a step is an equality"), (r"x \leq y", "a step is an equality"),
    (r"x \in \mathbb{R}^n", "the problem declares the shapes"),
    (r"\operatorname{argmin} x", "minimiser's closed form"), (r"\lim x", "derivative itself"),
    (r"x_1 + \cdots + x_n", "entries"), (r"\sum_i x_i^2", "matrix form"),
    (r"\nabla^2 f", "check a Hessian"), (r"|x|", "write \\det(X)"),
])
def test_unsupported_notation_is_named_with_what_to_write_instead(text, words):
    problem = "x, y : vector(n)\nf = sum(x * y)"
    with pytest.raises(matcalc.MatcalcError) as caught:
        matcalc.verify(problem, wrt="x", answer=text, latex=True)
    assert words in str(caught.value)
    verdict = matcalc.verify_derivation(problem, f"f = {text}", wrt="x")
    assert words in verdict.steps[0].hint


@pytest.mark.parametrize("text, why", [
    ("hence", None), ("where t", "defines nothing"), ("where", "defines nothing"),
    ("thus\nso", None), ("where t =", "defines nothing"),
])
def test_a_lone_word_is_skipped_or_reported_never_an_internal_error(text, why):
    verdict = matcalc.verify_derivation(RIDGE, text + "\n\\nabla_w f = " + GRADIENT)
    assert verdict.steps[-1].ok
    unreadable = [step for step in verdict.steps if not step.ok]
    assert [why in step.hint for step in unreadable] == ([] if why is None else [True])


# -- limits -------------------------------------------------------------------------------------

def test_a_derivation_past_its_size_is_refused():
    with pytest.raises(LimitError, match="MAX_DERIVATION_LENGTH"):
        matcalc.verify_derivation(RIDGE, "f = " + "w" * derivation_text.MAX_DERIVATION_LENGTH)
    with pytest.raises(LimitError, match="MAX_DERIVATION_LINES"):
        matcalc.verify_derivation(RIDGE, "\n" * derivation_text.MAX_DERIVATION_LINES + "f = f")


def test_deeply_nested_differentials_are_refused_before_they_are_read():
    text = "df = " + "d(" * 2000 + "w" + ")" * 2000
    with pytest.raises(LimitError, match="nested more than"):
        matcalc.verify_derivation(RIDGE, text)


def test_a_long_line_of_unclosed_bmatrix_is_refused_by_its_nesting():
    # the old line splitter matched \begin{bmatrix}.*?\end{bmatrix} from every opening; the
    # reader counts a bmatrix as a bracket (it recursed past Python's stack before)
    line = "f = " + r"\begin{bmatrix} w " * 5000  # 90 KB
    with pytest.raises(LimitError, match="nested more than"):
        matcalc.verify_derivation(RIDGE, line)
    with pytest.raises(LimitError, match="nested more than"):
        matcalc.verify(RIDGE, wrt="w", answer=r"\begin{bmatrix} w " * 60, latex=True)


def test_running_out_of_time_while_reading_is_the_limit_error(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "DERIVATION_SECONDS", limits.DERIVATION_SECONDS)  # --time-limit
    with time_budget(0.0), pytest.raises(LimitError, match="took more than"):
        matcalc.verify_derivation(RIDGE, r"\nabla_w f = " + GRADIENT)
    steps = tmp_path / "steps.tex"
    steps.write_text("\n".join([r"\nabla_w f = " + GRADIENT] * 200))
    problem = tmp_path / "ridge.mc"
    problem.write_text(RIDGE + "\n")
    assert main(["--time-limit", "0.05", "verify", str(problem), "--derivation",
                 str(steps)]) == 2


# -- the guide's table of notation --------------------------------------------------------------

GUIDE = pathlib.Path("docs/guide.md").read_text()
TABLE = GUIDE.split("<!-- notation table -->")[1].split("<!-- end of the notation table -->")[0]
ROWS = [row for row in TABLE.splitlines() if row.startswith("| ") and "`" in row]


def _example(row: str) -> str:
    return re.findall(r"`([^`]+)`", row.split(" | ")[1])[0].replace("\\|", "|")


@pytest.mark.parametrize("row", ROWS, ids=[row.split(" | ")[0][2:] for row in ROWS])
def test_every_row_of_the_notation_table_is_read(row):
    # each row's example is a step of a derivation over the ridge problem of the table's heading
    example = _example(row)
    verdict = matcalc.verify_derivation(RIDGE, example)
    assert verdict.steps_hold, f"{example}: {verdict}"  # read, and holds (it may stop short)


def test_the_notation_table_names_every_command_the_reader_drops_or_cuts_at():
    for command in [*derivation_text.MARKUP, *derivation_text.CONNECTIVE_COMMANDS]:
        if command in ("displaybreak", "allowbreak", "nobreak", "noindent", "hfill", "hspace",
                       "vspace", "phantom", "hphantom", "vphantom", "eqref"):
            continue  # spacing and page layout: named together in one row
        assert f"\\{command}" in TABLE, command
    assert len(ROWS) >= 20


def test_an_unsupported_command_raises_unsupported_not_a_parse_error():
    with pytest.raises(UnsupportedError):
        matcalc.verify("x : vector(n)\nf = sum(x)", wrt="x", answer=r"\infty", latex=True)


def test_answers_read_inner_products_and_function_notation():
    # d (x^T y)^2 / 2 = (x^T y) y dx^T: the answer written with <x, y>
    problem = "x, y : vector(n)\nf = (x' @ y) ^ 2 / 2"
    assert matcalc.verify(problem, wrt="x", answer=r"\langle x, y \rangle y").ok
    assert not matcalc.verify(problem, wrt="x", answer=r"\langle x, y \rangle x").ok
    # s(z) of a definition s of z is s; the answer X^T (s(z) - y) is the logistic gradient
    logistic = ("X : matrix(N, d); w : vector(d); y : vector(N)\nz = X @ w\ns = sigmoid(z)\n"
                "J = -sum(y * log(s) + (1 - y) * log(1 - s))")
    assert matcalc.verify(logistic, wrt="w", answer=r"X^\top (s(z) - y)").ok
    assert matcalc.verify(logistic, wrt="w", answer=r"X^\top (s(w) - y)").ok


@pytest.mark.parametrize("derivation", [
    "\\[\n\\nabla_w f = " + GRADIENT + "\n\\]",
    "so \\(\\nabla_w f = " + GRADIENT + "\\) holds",
    "$$\n\\nabla_w f = " + GRADIENT + "\n$$",
    "r := Xw - y \\cr \\nabla_w f = 2 X^\\top r + 2\\lambda w",
    "\\nabla_w f = 2 X^\\top r + 2\\lambda w; where r = Xw - y",
])
def test_display_delimiters_and_definitions_are_read(derivation):
    verdict = matcalc.verify_derivation(RIDGE, derivation)
    assert verdict.ok and len(verdict.steps) == 1, str(verdict)
    wrong = matcalc.verify_derivation(RIDGE, derivation.replace("2\\lambda w", "\\lambda w"))
    assert not wrong.ok and "cannot read" not in wrong.first_error.hint


def test_a_hessian_line_is_refused_with_what_to_do():
    verdict = matcalc.verify_derivation(RIDGE, r"\frac{\partial^2 f}{\partial w^2} = "
                                               r"2 X^\top X + 2 \lambda I")
    assert "check a Hessian" in verdict.steps[0].hint


@pytest.mark.parametrize("equals", [r"\stackrel{(a)}{=}", r"\overset{\text{def}}{=}",
                                    r"&\stackrel{\eqref{eq:1}}{=}", r"\stackrel{ (b) }{ = }"])
def test_an_annotated_equals_is_an_equals(equals):
    assert matcalc.verify_derivation(RIDGE, rf"\nabla_w f {equals} {GRADIENT}").ok
    wrong = matcalc.verify_derivation(RIDGE, rf"\nabla_w f {equals} 2 X^\top (Xw - y)")
    assert wrong.status == "false" and "cannot read" not in wrong.first_error.hint

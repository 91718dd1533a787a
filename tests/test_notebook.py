"""Verdicts in a notebook: _repr_html_ typesets formulas (\\( \\) and \\[ \\], which Jupyter's
MathJax reads in HTML output) instead of showing LaTeX source in <code>; each formula read back
gives the same verdict."""

from __future__ import annotations

import html
import pathlib
import re

import matcalc
from matcalc.grading.derivations import verify_derivation
from matcalc.grading.verdicts import verify

ROOT = pathlib.Path(__file__).resolve().parent.parent
CS224N = (ROOT / "derivations" / "cs224n_one_layer.mc").read_text()
STEPS = (ROOT / "derivations" / "steps" / "cs224n_gradients.tex").read_text()


def _formulas(page: str, opening: str, closing: str) -> list[str]:
    pattern = re.escape(opening) + "(.*?)" + re.escape(closing)
    return [html.unescape(found) for found in re.findall(pattern, page, re.DOTALL)]


def test_a_derivation_verdict_typesets_its_latex_steps():
    verdict = verify_derivation(CS224N, STEPS)
    page = verdict._repr_html_()
    assert "<code>\\frac" not in page and "<code>" not in page
    steps = _formulas(page, "\\(", "\\)")
    assert steps == [step.text for step in verdict.steps]
    # read back: the typeset steps, checked again, give the same verdicts (line 11 is false)
    definitions = [line for line in STEPS.splitlines() if line.startswith("\\delta")]
    again = verify_derivation(CS224N, "\n".join([*definitions, *steps]).replace("&", ""))
    assert [step.ok for step in again.steps] == [step.ok for step in verdict.steps]
    assert "wrong" in page and "different shapes" in page


def test_a_step_in_the_language_stays_code_and_texts_are_escaped():
    problem = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x\n"
    verdict = verify_derivation(problem, "df_dx = (A + A') @ x\ndf_dx = A @ x < 2")
    page = verdict._repr_html_()
    assert "<code>df_dx = (A + A&#x27;) @ x</code>" in page
    assert "A @ x < 2" not in page


def test_an_answer_verdict_typesets_the_answer_as_read():
    problem = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x\n"
    for answer, ok in ((r"(A + A^\top) x", True), (r"2 A x", False)):
        verdict = verify(problem, "x", answer)
        page = verdict._repr_html_()
        assert ("correct" in page) == ok and ("symmetric" in page) != ok
        (read_as,) = _formulas(page, "\\[", "\\]")
        assert read_as == verdict.read_as_latex and "<code>" not in page
        assert verify(problem, "x", read_as, latex=True).ok == ok  # reads back


def test_the_notebook_display_is_part_of_the_public_api():
    verdict = matcalc.verify("x : vector(n)\nf = x' @ x", "x", "2 * x")
    assert verdict._repr_html_().startswith("<p><b")

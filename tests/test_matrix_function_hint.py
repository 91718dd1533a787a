"""A paper's ``\\log S`` of a matrix is read entry by entry: when the matrix function would make
a wrong answer right, the hint says so, and the verdict stays wrong (the answer as read is not
the derivative).  Without such a reading the hints are as before.
"""

from __future__ import annotations

import pytest

import matcalc

ENTROPY = "S : matrix(n, n) spd\nf = -tr(S @ logm(S))"  # von Neumann entropy: -logm(S) - I


@pytest.mark.parametrize("problem, wrt, answer, meant", [
    (ENTROPY, "S", "-log(S) - I", "logm(S)"),
    (ENTROPY, "S", r"-\log S - I", "logm(S)"),  # the paper's LaTeX
    ("x : vector(n); S : matrix(n, n) spd\nf = x' @ logm(S) @ x", "x", "2 * log(S) @ x",
     "logm(S)"),
    ("A : matrix(n, n)\nf = tr(expm(A))", "A", r"\exp(A)^\top", "expm(A)"),
    ("A : matrix(n, n)\nf = tr(expm(A))", "A", "exp(A)'", "expm(A)"),
    ("S : matrix(n, n) spd\nf = tr(sqrtm(S))", "S", r"\frac{1}{2} \left(\sqrt{S}\right)^{-1}",
     "sqrtm(S)"),
])
def test_an_entrywise_function_meant_as_the_matrix_function_is_named(problem, wrt, answer,
                                                                      meant):
    verdict = matcalc.verify(problem, wrt, answer)
    assert not verdict.ok
    assert "entry by entry" in verdict.hint and f"write {meant}" in verdict.hint, verdict.hint
    fixed = matcalc.verify(problem, wrt, answer.replace(r"\log S", "logm(S)")
                           .replace("log(S)", "logm(S)").replace(r"\exp(A)", "expm(A)")
                           .replace("exp(A)", "expm(A)").replace(r"\sqrt{S}", "sqrtm(S)"))
    assert fixed.ok, fixed.hint


@pytest.mark.parametrize("problem, wrt, answer", [
    (ENTROPY, "S", "log(S) + I"),  # wrong with logm too
    ("S : matrix(n, n) spd\nf = logdet(S)", "S", "log(S)"),
    ("S : matrix(n, n) positive\nf = sum(S * log(S))", "S", "log(S)"),  # entrywise problem
    ("S : matrix(n, n) positive\nf = sum(S * log(S))", "S", "logm(S) + 1"),
])
def test_no_matrix_function_hint_where_it_would_not_make_the_answer_right(problem, wrt, answer):
    verdict = matcalc.verify(problem, wrt, answer)
    assert not verdict.ok
    assert "entry by entry" not in verdict.hint, verdict.hint


def test_an_entrywise_answer_to_an_entrywise_problem_is_right():
    assert matcalc.verify("S : matrix(n, n) positive\nf = sum(S * log(S))", "S",
                          "log(S) + 1").ok

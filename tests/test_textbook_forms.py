"""Textbook forms by class: what a result must look like on problems no gallery holds.

Each class is tested on several instances (random ones where a property fits); every derived
result is also proven by finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import expr, program, value
from hypothesis import given
from hypothesis import strategies as st

import matcalc
from matcalc.engine.pipeline import facts_for
from matcalc.engine.simplify import Simplifier


def simplified(text: str) -> str:
    prog = program(f"f = {text}")
    return str(Simplifier(facts_for(prog))(prog.definitions["f"].body))


def derived(problem: str, wrt: str, kind: str | None = None) -> str:
    result = matcalc.derive(problem, wrt=wrt, kind=kind, check=False)
    assert matcalc.check(result, seed=1).ok
    return result.text


# --- 1. symmetry inferred from structure -------------------------------------------------------

@st.composite
def symmetric_text(draw, depth: int = 3) -> str:
    """An n x n expression symmetric by its structure: X' S X, v v', inv(S), sums, Hadamard
    products and scalings of symmetric matrices, Diag(v)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(("S", "P", "inv(P)", "I(n)", "Diag(x)", "(x @ x')",
                                     "(A' @ A)", "(A @ A')", "(C' @ C)")))
    inner = draw(symmetric_text(depth - 1))
    other = draw(symmetric_text(depth - 1))
    form = draw(st.sampled_from(("A' @ {0} @ A", "B @ {0} @ B'", "C' @ C @ {0} @ C' @ C",
                                 "{0} + {1}", "{0} - {1}", "{0} * {1}", "a * {0}", "{0} / s",
                                 "-{0}", "x' @ {0} @ x * {1}")))
    return "(" + form.format(inner, other) + ")"


@given(symmetric_text())
def test_symmetry_follows_from_structure(text):
    # the fact is sound: the value equals its transpose at a random point
    matrix = value(text)
    np.testing.assert_allclose(matrix, matrix.T, rtol=1e-9, atol=1e-9)
    prog = program(f"f = {text}")
    assert facts_for(prog).symmetric(prog.definitions["f"].body), text
    # and used: E' is E, E - E' is zero
    assert simplified(f"({text})'") == simplified(text)
    assert simplified(f"{text} - ({text})'") == "zeros(n, n)"


@pytest.mark.parametrize("text", ["A @ S", "A' @ S @ B", "S @ A + A", "x @ y'", "A' @ A @ B",
                                  "S * A", "C' @ D", "inv(A)"])
def test_no_symmetry_without_structure(text):
    matrix = value(text)
    assert not np.allclose(matrix, matrix.T)
    assert not facts_for(program(f"f = {text}")).symmetric(expr(text))


@pytest.mark.parametrize("problem, wrt, expected", [
    # Matrix Cookbook eq. 56 with A symmetric: d logdet(X' A X) / dX = 2 A X inv(X' A X)
    ("X : matrix(n, k); A : matrix(n, n) symmetric\nf = logdet(X' @ A @ X)", "X",
     "df_dX = 2 * A @ X @ inv(X' @ A @ X)"),
    ("X : matrix(n, k); A : matrix(m, n)\nf = logdet(X' @ A' @ A @ X)", "X",
     "df_dX = 2 * A' @ A @ X @ inv(X' @ A' @ A @ X)"),
    ("X : matrix(n, k); a : vector(n)\nf = logdet(X' @ (a @ a' + I(n)) @ X)", "X",
     "df_dX = 2 * (a @ a' + I(n)) @ X @ inv(X' @ (a @ a' + I(n)) @ X)"),
])
def test_a_symmetric_congruence_doubles(problem, wrt, expected):
    assert derived(problem, wrt).splitlines()[-1] == expected

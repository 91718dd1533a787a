"""Rows on the simplex over tensors: a tensor declared ``simplex`` (each last-axis row) or a
softmax's output sums to ones along its last axis, and so do affine combinations of such rows
(label smoothing), as ``Y @ ones(k)`` of a matrix does (rule axis-sums-of-simplex).  Every
simplification is checked for its value; every derived result is proven by finite differences,
read back as text and as LaTeX, and run as NumPy code.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import proven_and_read_back

import matcalc
from matcalc.engine.pipeline import facts_for
from matcalc.engine.simplify import Simplifier
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

DECLARATIONS = ("Y : tensor(B, T, k) simplex\nZ : tensor(B, T, k)\n"
                "U : tensor(B, H, T, k) simplex\ne : scalar\n")


@pytest.mark.parametrize("text, expected", [
    ("sum(Y, 2)", "ones(B, T)"),
    ("sum(Y, -1)", "ones(B, T)"),
    ("sum(2 * Y, 2)", "2 * ones(B, T)"),
    ("sum((1 - e) * Y + e / k, 2)", "ones(B, T)"),  # label smoothing
    ("sum(softmax(Z), 2)", "ones(B, T)"),
    ("sum(U, 3)", "ones(B, H, T)"),
    ("sum(Y - softmax(Z), 2)", "zeros(B, T)"),
    # not the last axis, or rows not known to be on the simplex: as they are
    ("sum(Y, 1)", "sum(Y, 1)"),
    ("sum(Z, 2)", "sum(Z, 2)"),
    ("sum(U, 2)", "sum(U, 2)"),
])
def test_last_axis_sums_of_simplex_tensors(text, expected):
    program = matcalc.parse(DECLARATIONS + f"f = {text}\ng = {expected}")
    got = Simplifier(facts_for(program))(program.definitions["f"].body)
    assert str(got) == expected
    instance = random_instance(program, seed=4)
    np.testing.assert_allclose(evaluate(program, "f", instance.arrays, sizes=instance.sizes),
                               evaluate(program, "g", instance.arrays, sizes=instance.sizes),
                               atol=1e-12)


@pytest.mark.parametrize("problem, wrt, expected", [
    # soft targets over a batch of sequences (Hinton, Vinyals & Dean 2015, sec. 2)
    ("X : tensor(B, T, d); W : matrix(d, k); Y : tensor(B, T, k) simplex\n"
     "L = -sum(Y * log_softmax(X @ W))", "W", "dL_dW = sum(X' @ (softmax(X @ W) - Y), 0)"),
    # label smoothing over a batch (Szegedy et al. 2016, sec. 7)
    ("X : tensor(B, T, d); W : matrix(d, k); Y : tensor(B, T, k) simplex; e : scalar\n"
     "Ys = (1 - e) * Y + e / k\nL = -sum(Ys * log_softmax(X @ W))", "W",
     "dL_dW = sum(X' @ (softmax(X @ W) - Ys), 0)"),
    # heads and a batch: four axes
    ("X : tensor(B, H, T, d); W : matrix(d, k); Y : tensor(B, H, T, k) simplex\n"
     "L = -sum(Y * log(softmax(X @ W)))", "W",
     "dL_dW = sum(sum(X' @ (softmax(X @ W) - Y), 0), 0)"),
    # the logits' gradient itself
    ("Z : tensor(B, T, k); Y : tensor(B, T, k) simplex\nL = -sum(Y * log_softmax(Z))", "Z",
     "dL_dZ = softmax(Z) - Y"),
])
def test_soft_targets_over_tensors_give_the_book_gradient(problem, wrt, expected):
    assert proven_and_read_back(problem, wrt) == expected


def test_targets_off_the_simplex_keep_their_sums():
    """Without ``simplex`` the targets' sums stay in the gradient (they need not be 1)."""
    text = proven_and_read_back("Z : tensor(B, T, k); Y : tensor(B, T, k)\n"
                                "L = -sum(Y * log_softmax(Z))", "Z")
    assert "sum(Y, 2)" in text, text

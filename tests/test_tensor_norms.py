"""Normalisation layers over tensors print the book's backward pass.

LayerNorm and RMSNorm along an axis of a tensor write their statistics back with
``expand(r, a, n)``, which the collector reads as the same spread as a matrix's ``v @ ones(m)'``
(core/spreads.py): ``(G - expand(mean(G, 2), 2, d) - Xn * expand(mean(G * Xn, 2), 2, d)) / S``
(Ba, Kiros & Hinton 2016, eqs. 3-4), ``(G - Y * expand(mean(G * Y, 2), 2, d)) / R`` (Zhang &
Sennrich 2019, sec. 4).  Every result is proven by finite differences, read back in text and
LaTeX, and computed alike by the generated NumPy, JAX and PyTorch code.
"""

from __future__ import annotations

import pytest
from helpers import assert_generated_code_matches, inlined

import matcalc
from matcalc.grading.answers import answer_node
from matcalc.present.latex import to_latex

LAYER_NORM = """X, G : tensor(B, T, d)
C = X - expand(mean(X, 2), 2, d)
S = expand(sqrt(mean(C .^ 2, 2) + 1e-5), 2, d)
Xn = C / S
"""
BATCH_NORM = """X, G : tensor(B, T, d)
mu = mean(mean(X, 0), 0)
s = sqrt(mean(mean((X - mu) .^ 2, 0), 0) + 1e-5)
Xn = (X - mu) / s
"""
LN = "(G - Xn * expand(mean(G * Xn, 2), 2, d) - expand(mean(G, 2), 2, d)) / S"

PROBLEMS = {  # problem -> the printed gradient wrt X (the book's form)
    LAYER_NORM + "L = sum(G * Xn)": LN,
    # along another axis, and over a 4-axis tensor
    LAYER_NORM.replace("2, d", "1, T").replace(", 2)", ", 1)") + "L = sum(G * Xn)":
        LN.replace("2, d", "1, T").replace(", 2)", ", 1)"),
    LAYER_NORM.replace("tensor(B, T, d)", "tensor(B, H, T, d)").replace(", 2", ", 3") +
    "L = sum(G * Xn)": LN.replace(", 2", ", 3"),
    # the statistic named before it is spread
    """X, G : tensor(B, T, d)
s = sqrt(mean((X - expand(mean(X, 2), 2, d)) .^ 2, 2) + 1e-5)
Xn = (X - expand(mean(X, 2), 2, d)) / expand(s, 2, d)
L = sum(G * Xn)""":
        "(G - expand(mean(G, 2), 2, d) - Xn * expand(mean(G * Xn, 2), 2, d)) / expand(s, 2, d)",
    # a gain: H = G * g' takes G's place
    LAYER_NORM + "g : vector(d)\nL = sum(G * (Xn * g'))":
        "(G * g' - Xn * expand(mean(G * g' * Xn, 2), 2, d) - expand(mean(G * g', 2), 2, d)) / S",
    # a residual block around it
    LAYER_NORM + "W : matrix(d, d)\nL = sum(G * (X + tanh(Xn @ W)))": None,
    """X, G : tensor(B, T, d)
R = expand(sqrt(mean(X .^ 2, 2) + 1e-6), 2, d)
Y = X / R
L = sum(G * Y)""": "(G - Y * expand(mean(G * Y, 2), 2, d)) / R",
    # RMSNorm with nothing named: the 2 of the square meets the 1/2 of the root
    "X, G : tensor(B, T, d)\nL = sum(G * (X / expand(sqrt(mean(X .^ 2, -1) + 1e-5), 2, d)))":
        "(G - X * expand(mean(G * X, 2), 2, d) / expand(mean(X .^ 2, 2) + 1e-05, 2, d)) / "
        "expand(sqrt(mean(X .^ 2, 2) + 1e-05), 2, d)",
    # BatchNorm over the batch and the positions (the two leading axes)
    BATCH_NORM + "L = sum(G * Xn)":
        "(G - Xn * mean(mean(G * Xn, 0), 0) - mean(mean(G, 0), 0)) / s",
    BATCH_NORM + "gam : vector(d)\nL = sum(G * (Xn * gam'))": None,
    # not centred on its own mean: its sums along the axis are not 0
    """X, Y, G : tensor(B, T, d)
C = X - expand(mean(Y, 2), 2, d)
S = expand(sqrt(mean(C .^ 2, 2) + 1e-5), 2, d)
L = sum(G * (C / S))""": None,
}


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_normalisation_over_a_tensor_prints_the_book_form_and_is_proven(problem):
    result = matcalc.derive(problem, wrt="X", check=False)
    if PROBLEMS[problem] is not None:
        assert str(inlined(result)) == PROBLEMS[problem]
    verdict = matcalc.check(result, seed=2, trials=2)
    assert verdict.ok, verdict


@pytest.mark.parametrize("problem", list(PROBLEMS)[::2])
def test_the_results_read_back_in_text_and_latex(problem):
    written = inlined(matcalc.derive(problem, wrt="X", check=False))
    assert matcalc.verify(problem, "X", str(written)).ok
    assert matcalc.verify(problem, "X", to_latex(written), latex=True).ok


def test_a_mean_along_an_axis_prints_and_reads_back_as_the_same_node():
    problem = matcalc.parse("G : tensor(B, T, d)\ne = G")
    built = matcalc.parse("G : tensor(B, T, d)\ne = expand(mean(G, 2), 2, d)").definitions[
        "e"].body
    assert str(built) == "expand(mean(G, 2), 2, d)"
    assert answer_node(problem, str(built), False)[1] is built
    assert answer_node(problem, to_latex(built), True)[1] is built


def test_a_mean_over_the_wrong_axis_is_told_apart():
    problem = LAYER_NORM + "L = sum(G * Xn)"
    assert not matcalc.verify(problem, "X", LN.replace("mean(G, 2), 2", "mean(G, 1), 1")
                              .replace("2, d", "1, T", 1)).ok


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
@pytest.mark.parametrize("layer", [LAYER_NORM, BATCH_NORM])
def test_generated_code_agrees(backend, layer):
    problem = layer + "g, b : vector(d)\nL = sum(G * (Xn * g' + b'))"
    assert_generated_code_matches(matcalc.derive(problem, check=False), backend)


def test_a_chain_of_small_deltas_one_result_uses_meets_there():
    # BatchNorm with a gain: four deltas only dL_dX uses, inlined together
    result = matcalc.derive(BATCH_NORM + "gam : vector(d)\nL = sum(G * (Xn * gam'))", wrt="X",
                            check=False)
    assert not result.where
    assert str(result.result).startswith("(G * gam' - Xn * mean(mean(G * gam' * Xn, 0), 0) - ")

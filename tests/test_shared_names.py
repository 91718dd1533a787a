"""One name for one quantity across a problem's requests, and a minus on a product's first factor.

Books name the quantity a gradient and a Hessian both use (``s = sigmoid(X w)``, ``e =
exp(-y * (X w))``) and write both with it; the requests ``grad L wrt w`` and ``hessian L wrt
w`` are derived one by one, so the naming of repeats (engine/repeats.py) looks at all of them
together, and the printed text defines the shared name once.  Each result is proven by finite
differences, its text and LaTeX read back, and the whole printed text read back after the
problem gives every result's value.
"""

from __future__ import annotations

import numpy as np
import pytest

import matcalc
from matcalc.derive import derive_by_request, render
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

GLM = "X : matrix(N, d)\nw : vector(d)\ny : vector(N)\n"
REQUESTS = "\ngrad L wrt w\nhessian L wrt w\n"


def rendered(problem: str) -> str:
    """The printed results, after proving each and reading every printed form back."""
    parsed = matcalc.parse(problem)
    groups = derive_by_request(parsed)
    text = render(groups)
    instance = random_instance(parsed, seed=2)
    with_text = matcalc.parse(problem + "\n" + text)
    for group in groups:
        for result in group:
            assert matcalc.check(result, seed=1).ok
            answer = result.text.splitlines()[-1].split("=", 1)[1]
            for shown, latex in ((answer, False), (result.latex_block(False), True)):
                verdict = matcalc.verify(parsed, result.variables, shown, of=result.of,
                                         kind=result.kind, latex=latex, allow_deltas=True)
                assert verdict.ok, (shown, verdict)
            computed = result.numpy()(sizes=instance.sizes, **instance.arrays)
            np.testing.assert_allclose(
                evaluate(with_text, result.name, instance.arrays, sizes=instance.sizes),
                computed, rtol=1e-9, atol=1e-12)
    return text


@pytest.mark.parametrize("problem, expected", [
    # logistic regression via the softplus (Hastie, Tibshirani & Friedman 2009, eqs. 4.20-4.24)
    (GLM + "L = sum(log(1 + exp(X @ w))) - y' @ X @ w" + REQUESTS,
     "# grad L wrt w\nq1 = sigmoid(X @ w)\ndL_dw = X' @ (q1 - y)\n\n"
     "# hessian L wrt w\nd2L_dw_dw = X' @ Diag(q1 * (1 - q1)) @ X"),
    # the same with an L2 penalty: the Hessian's sigmoid(-X @ w) is written 1 - q1
    (GLM + "lam : scalar\nL = sum(log(1 + exp(X @ w))) - y' @ X @ w + lam / 2 * w' @ w"
     + REQUESTS,
     "# grad L wrt w\nq1 = sigmoid(X @ w)\ndL_dw = lam * w - X' @ (y - q1)\n\n"
     "# hessian L wrt w\nd2L_dw_dw = lam * I + X' @ Diag(q1 * (1 - q1)) @ X"),
    # the exponential loss of boosting (Friedman, Hastie & Tibshirani 2000, sec. 4)
    ("X : matrix(N, d)\nw : vector(d)\ny : vector(N) pm1\nL = sum(exp(-y * (X @ w)))"
     + REQUESTS,
     "# grad L wrt w\nq1 = exp(-(y * (X @ w)))\ndL_dw = -X' @ (q1 * y)\n\n"
     "# hessian L wrt w\nd2L_dw_dw = X' @ Diag(q1) @ X"),
    # Poisson regression (McCullagh & Nelder 1989, sec. 6.2): mu = exp(X w)
    (GLM + "L = sum(exp(X @ w)) - y' @ X @ w" + REQUESTS,
     "# grad L wrt w\nq1 = exp(X @ w)\ndL_dw = X' @ (q1 - y)\n\n"
     "# hessian L wrt w\nd2L_dw_dw = X' @ Diag(q1) @ X"),
    (GLM + "L = sum(y * exp(-(X @ w))) + sum(X @ w)" + REQUESTS,
     "# grad L wrt w\nq1 = exp(-X @ w)\ndL_dw = X' @ (1 - y * q1)\n\n"
     "# hessian L wrt w\nd2L_dw_dw = X' @ Diag(y * q1) @ X"),
])
def test_a_gradient_and_its_hessian_share_one_name(problem, expected):
    assert rendered(problem) == expected


def test_each_request_keeps_the_definitions_it_uses():
    """A request's own text (and its LaTeX, code) still defines the shared name."""
    groups = derive_by_request(matcalc.parse(GLM + "L = sum(exp(X @ w)) - y' @ X @ w"
                                             + REQUESTS))
    assert groups[1][0].text == "q1 = exp(X @ w)\nd2L_dw_dw = X' @ Diag(q1) @ X"
    assert "q_{1}" in groups[1][0].latex_block(False)


@pytest.mark.parametrize("problem", [
    # a constant of the data (2 * A') and a linear form (X @ w) are not named across requests
    "A : matrix(m, n); x : vector(n); b : vector(m)\nL = (A @ x - b)' @ (A @ x - b)\n"
    "grad L wrt x\nhessian L wrt x\n",
    "X : matrix(N, d)\nw : vector(d)\ny : vector(N) pm1\nL = sum(log(1 + exp(-y * (X @ w))))"
    + REQUESTS,
    # one request: as before
    GLM + "L = sum(log(1 + exp(X @ w))) - y' @ X @ w\ngrad L wrt w\n",
])
def test_what_no_book_names_across_requests_stays_written_out(problem):
    text = rendered(problem)
    assert "q1" not in text and "Q1" not in text, text


@pytest.mark.parametrize("problem, wrt, expected", [
    (GLM + "L = sum(exp(-y * (X @ w)))", "w", "dL_dw = -X' @ (exp(-(y * (X @ w))) * y)"),
    ("A : matrix(m, n); x : vector(n); b : vector(m)\nf = -(b' @ A @ x)", "x",
     "df_dx = -A' @ b"),
    ("X : matrix(n, n) invertible; a, b : vector(n)\nf = a' @ inv(X) @ b", "X",
     "df_dX = -(inv(X)' @ a @ b' @ inv(X)')"),  # a product's first factor that is no name
])
def test_a_minus_sits_on_a_named_first_factor(problem, wrt, expected):
    result = matcalc.derive(problem, wrt=wrt, check=False)
    assert result.text == expected
    assert matcalc.check(result, seed=1).ok
    parsed = matcalc.parse(problem + "\n" + result.text)
    name = result.text.split(" =")[0]
    assert str(parsed.definitions[name].body) == expected.split("= ", 1)[1]  # reads back as
    # the same tree

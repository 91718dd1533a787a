"""conv1d (valid cross-correlation, no kernel flip) and convolve (full convolution): values as
NumPy and PyTorch define them, adjoints printed with named operations, every derivative proven
by finite differences, code for each backend, LaTeX both ways."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    assert_error_at_line_2,
    assert_generated_code_matches,
    program,
    proven_from_text,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import expressions

import matcalc
from matcalc.errors import ShapeError, UnsupportedError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import to_latex

SIGNAL = "x : vector(n); w : vector(k); X : matrix(n, c); W : matrix(k, c)\n"


def test_values_are_numpys_correlate_and_convolve():
    parsed = matcalc.parse(SIGNAL + "y = conv1d(x, w)\nz = convolve(y, w)\nY = conv1d(X, w)\n"
                                    "V = conv1d(x, W)")
    point = random_instance(parsed, seed=0)
    a = point.arrays
    y = np.correlate(a["x"], a["w"], "valid")
    np.testing.assert_allclose(np.ravel(evaluate(parsed, "y", a)), y, rtol=1e-12)
    np.testing.assert_allclose(np.ravel(evaluate(parsed, "z", a)),
                               np.convolve(y, a["w"], "full"), rtol=1e-12)
    np.testing.assert_allclose(evaluate(parsed, "Y", a)[:, 1],
                               np.correlate(a["X"][:, 1], a["w"], "valid"), rtol=1e-12)
    np.testing.assert_allclose(evaluate(parsed, "V", a)[:, 0],
                               np.correlate(a["x"], a["W"][:, 0], "valid"), rtol=1e-12)
    assert str(parsed.definitions["z"].body.shape.rows) == "n"  # (n - k + 1) + k - 1


def test_conv1d_is_pytorchs_conv1d():
    torch = pytest.importorskip("torch")
    x, w = np.random.default_rng(1).normal(size=(2, 9))
    w = w[:4]
    ours = np.ravel(evaluate(matcalc.parse(SIGNAL + "y = conv1d(x, w)"), "y",
                             {"x": x, "w": w, "X": np.ones((9, 2)), "W": np.ones((4, 2))}))
    theirs = torch.nn.functional.conv1d(torch.tensor(x).view(1, 1, -1),
                                        torch.tensor(w).view(1, 1, -1)).view(-1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_the_adjoints_are_named_convolutions():
    results = matcalc.derive(SIGNAL + "t : vector(n - k + 1)\ny = conv1d(x, w)\n"
                                      "f = sum((tanh(y) - t) .^ 2)", wrt=["x", "w"])
    lines = results.text.splitlines()
    assert lines[-2:] == ["df_dx = convolve(delta1, w)", "df_dw = conv1d(x, delta1)"]
    assert all(result.checked.ok for result in results)


@pytest.mark.parametrize("text, kind, wrt", [
    ("f = sum(tanh(conv1d(x, w)))", "grad", None),
    ("f = sum(sin(convolve(x, w)))", "grad", None),
    ("f = sum(tanh(conv1d(X, w)))", "grad", None),
    ("f = sum(tanh(conv1d(x, W)))", "grad", None),
    ("f = sum(tanh(conv1d(X, W)))", "grad", None),
    ("f = tanh(conv1d(x, w))", "jacobian", None),
    ("f = sum(tanh(conv1d(x, w)))", "hessian", ["x", "w"]),
    ("f = sum(sin(convolve(conv1d(x, w), w)))", "hessian", ["w"]),
])
def test_derivatives_are_proven(text, kind, wrt):
    results = matcalc.derive(SIGNAL + text, wrt=wrt, kind=kind, check=False)
    results = results if isinstance(results, list) else [results]
    assert all(verdict.ok for verdict in matcalc.check(results, seed=2))


def test_a_jacobian_over_channels_is_unsupported_by_name():
    with pytest.raises(UnsupportedError, match="over several columns"):
        matcalc.derive(SIGNAL + "f = conv1d(X, w)", wrt="w", kind="jacobian")


@pytest.mark.parametrize("text, message", [
    ("f = conv1d(x, 3)", "takes vectors"),
    ("f = conv1d(X, matrix_of_two)", "unknown name"),
    ("f = conv1d(x', w)", "takes vectors"),
])
def test_bad_operands_are_errors_at_their_place(text, message):
    assert_error_at_line_2(SIGNAL + text, message)


def test_a_kernel_longer_than_a_fixed_signal_is_an_error():
    with pytest.raises(ShapeError, match="longer than the signal"):
        matcalc.parse("x : vector(3); w : vector(5)\nf = conv1d(x, w)")


def test_latex_writes_and_reads_the_named_operations():
    problem = SIGNAL + "f = sum(tanh(conv1d(x, w)))"
    gradient = matcalc.derive(problem, wrt="x")
    latex = to_latex(gradient.result)
    assert r"\operatorname{convolve}" in latex and r"\operatorname{conv1d}" in latex
    assert matcalc.verify(problem, "x", latex, latex=True).ok
    flipped = latex.replace(r"\operatorname{convolve}", r"\operatorname{conv1d}", 1)
    assert not matcalc.verify(problem, "x", flipped, latex=True).ok  # a shape error


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_generated_code_matches_the_evaluator(backend):
    results = matcalc.derive(SIGNAL + "f = sum(tanh(conv1d(X, w))) + sum(sin(convolve(x, w)))",
                             wrt=["X", "w", "x"], check=False)
    assert_generated_code_matches(results, backend)


BASE = program("base = a")


@settings(max_examples=max(30, settings().max_examples // 2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(BASE.variables, max_depth=2), st.sampled_from(["conv1d", "convolve"]),
       st.booleans())
def test_random_convolutions_are_proven(node, operation, kernel_first):
    # a random n-long signal with the m-long kernel u (or a random kernel over the signal x)
    assume(node.kind.name == "VECTOR" and str(node.shape.rows) in ("n", "m"))
    signal, kernel = (f"({node})", "u") if str(node.shape.rows) == "n" else ("x", f"({node})")
    if operation == "convolve" and kernel_first:
        signal, kernel = kernel, signal  # the full convolution takes either order
    proven_from_text(f"F = sum(sin({operation}({signal}, {kernel})))")

"""The softmax and its pullback in generated NumPy code (codegen/runtime/softmax_helpers.py):
a scale folded in (``softmax(S / sqrt(d))``), one new array each, the same values as the plain
formulas for every sign of the scale, masked entries, NaN, float32 and any axis."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_generated_code_matches

import matcalc
from matcalc.codegen.backends import helper_source
from matcalc.codegen.module import generate, load


def helpers() -> dict:
    namespace: dict = {}
    exec(compile("import numpy as _np\n" + helper_source("softmax_helpers"), "helpers", "exec"),
         namespace)
    return namespace


def plain_softmax(x, axis):
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


@pytest.mark.parametrize("scale", [1.0, 0.125, -0.5, 3.0])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_scaled_softmax_is_the_softmax_of_the_scaled_input(scale, axis):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 7)) * 30  # large entries: the shift is needed
    got = helpers()["_softmax"](x, axis, scale)
    np.testing.assert_allclose(got, plain_softmax(x * scale, axis), rtol=1e-13, atol=1e-300)
    assert np.all(np.isfinite(got))


def test_scaled_softmax_keeps_float32_and_leaves_its_input():
    x = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)
    before = x.copy()
    got = helpers()["_softmax"](x, 1, 1 / np.sqrt(6.0))
    assert got.dtype == np.float32 and np.array_equal(x, before)
    np.testing.assert_allclose(got, plain_softmax(x / np.sqrt(6.0), 1), rtol=1e-6)


def test_integer_input_gives_floats():
    x = np.array([[1, 2, 3], [0, 0, 5]])
    got = helpers()["_softmax"](x, 1, 0.5)
    np.testing.assert_allclose(got, plain_softmax(x * 0.5, 1))
    results = matcalc.derive("S, G : matrix(n, n)\nL = sum(G * softmax(S / 2))", wrt="S",
                             check=False)
    module = load(generate(results, hoist=False))
    rng = np.random.default_rng(5)
    s, g = rng.integers(-3, 4, size=(4, 4)), rng.normal(size=(4, 4))
    expected = results.numpy(compiled=False)(S=s.astype(float), G=g)
    np.testing.assert_allclose(module.gradient(S=s, G=g)["S"], expected, rtol=1e-12)


def test_masked_entries_get_zero_and_a_nan_spoils_its_row_only():
    x = np.array([[0.0, -np.inf, 2.0], [1.0, np.nan, 0.0], [-np.inf, 5.0, 4.0]])
    got = helpers()["_softmax"](x, 1, 0.5)
    assert got[0, 1] == 0.0 and got[2, 0] == 0.0 and np.all(np.isnan(got[1]))
    np.testing.assert_allclose(got[[0, 2]], plain_softmax(x[[0, 2]] * 0.5, 1))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_pullback_is_p_times_d_less_its_weighted_mean(axis, scale):
    rng = np.random.default_rng(3)
    p = plain_softmax(rng.normal(size=(2, 4, 5)), axis)
    d = rng.normal(size=p.shape)
    before = d.copy()
    expected = scale * p * (d - np.sum(p * d, axis=axis, keepdims=True))
    got = helpers()["_softmax_pullback"](p, d, axis, scale)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    assert np.array_equal(d, before)
    # an incoming cotangent broadcast along the axis
    row = d[:1]
    got = helpers()["_softmax_pullback"](p, row, axis, scale)
    np.testing.assert_allclose(got, scale * p * (row - np.sum(p * row, axis=axis,
                                                               keepdims=True)), rtol=1e-13)


ATTENTION = "X : tensor(B, T, d)\nWq, Wk, Wv : matrix(d, d)\nG : tensor(B, T, d)\n" \
    "P = softmax((X @ Wq) @ (X @ Wk)' / sqrt(d))\nL = sum(G * (P @ X @ Wv))"
ROWS = "X : matrix(n, d)\nWq, Wk : matrix(d, d)\nG : matrix(n, n)\nbeta : scalar\n" \
    "L = sum(G * softmax(beta * (X @ Wq @ Wk' @ X')))"


def test_attention_code_folds_the_scale_into_softmax_and_its_pullback():
    results = matcalc.derive(ATTENTION, wrt=["Wq", "Wk", "Wv"], check=False)
    code = generate(list(results), hoist=False)
    assert "_softmax(" in code and ", 2, (1 / _t1))" in code, code
    assert "_softmax_pullback(P, delta1, 2, (1 / _t1))" in code, code


def test_rows_code_uses_the_pullback_for_the_matrix_form_with_a_scalar_scale():
    # P * D - Diag((P * D) @ 1) @ P is the pullback along rows; beta * t scales the softmax
    results = matcalc.derive(ROWS, wrt=["Wq", "Wk", "beta"], check=False)
    code = generate(list(results), hoist=False)
    assert "_softmax_pullback(" in code and "_softmax(" in code and ", 1, beta)" in code, code


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
@pytest.mark.parametrize("source, wrt", [(ATTENTION, ["Wq", "Wk", "Wv"]),
                                         (ATTENTION, ["X"]), (ROWS, ["Wq", "Wk", "beta"])])
def test_softmax_code_computes_what_the_interpreter_does(source, wrt, backend):
    assert_generated_code_matches(matcalc.derive(source, wrt=wrt, check=False), backend)

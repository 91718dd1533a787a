"""Axis forms and masks of tensors: softmax, log_softmax and logsumexp along any axis, max and
min along an axis (removed, as np.max(X, axis=a)) and over every entry, tril and triu of the
last two axes.  Values are NumPy's; gradients wrt tensors and shared matrix weights are proven
by finite differences (matcalc's and our own on a NumPy function); printed results read back in
text and LaTeX; generated NumPy, JAX and PyTorch code computes what the interpreter does.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    assert_generated_code_matches,
    assert_value_is_numpys,
    finite_difference,
    inlined,
)

import matcalc
from matcalc.errors import DomainError, ShapeError, UnsupportedError
from matcalc.grading.answers import answer_node
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import to_latex

DECLARED = "X : tensor(B, T, d)\nQ : tensor(B, H, T, d)\nW : matrix(d, d)\nG : tensor(B, T, d)\n" \
    "N : matrix(B, T)\nR : matrix(T, d)\n"


def node(text: str):
    return matcalc.parse(DECLARED + f"e = {text}").definitions["e"].body


@pytest.mark.parametrize("text, dims", [
    ("softmax(X, 0)", "B x T x d"), ("log_softmax(Q, 1)", "B x H x T x d"),
    ("logsumexp(X, 0)", "T x d"), ("logsumexp(Q, -2)", "B x H x d"), ("max(X, 1)", "B x d"),
    ("min(Q, 0)", "H x T x d"), ("max(X)", "1 x 1"), ("ismax(X, 0)", "B x T x d"),
    ("tril(X, -1)", "B x T x d"), ("triu(Q)", "B x H x T x d"),
])
def test_shapes_follow_numpy(text, dims):
    assert str(node(text).shape) == dims


@pytest.mark.parametrize("text", ["softmax(X, 3)", "logsumexp(Q, -5)", "max(X, 3)",
                                  "ismin(X, -4)"])
def test_an_axis_past_the_last_is_a_shape_error_at_its_place(text):
    with pytest.raises(ShapeError, match="axis") as caught:
        node(text)
    assert caught.value.location is not None


def _softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _logsumexp(x, axis):
    top = x.max(axis, keepdims=True)
    return np.squeeze(top + np.log(np.exp(x - top).sum(axis, keepdims=True)), axis)


def _ismax(x, axis):
    return (np.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
            == np.expand_dims(x.argmax(axis), axis)).astype(float)


VALUES = [  # (text, the NumPy meaning)
    ("softmax(X, 0)", lambda a: _softmax(a["X"], 0)),
    ("softmax(Q, 1)", lambda a: _softmax(a["Q"], 1)),
    ("softmax(Q, -1)", lambda a: _softmax(a["Q"], 3)),
    ("log_softmax(X, 1)", lambda a: np.log(_softmax(a["X"], 1))),
    ("log_softmax(Q)", lambda a: np.log(_softmax(a["Q"], 3))),
    ("logsumexp(X, 0)", lambda a: _logsumexp(a["X"], 0)),
    ("logsumexp(Q, 2)", lambda a: _logsumexp(a["Q"], 2)),
    ("max(X, 0)", lambda a: a["X"].max(0)),
    ("min(Q, 3)", lambda a: a["Q"].min(3)),
    ("max(Q)", lambda a: a["Q"].max()),
    ("min(X)", lambda a: a["X"].min()),
    ("ismax(X, 1)", lambda a: _ismax(a["X"], 1)),
    ("ismax(Q, 0)", lambda a: _ismax(a["Q"], 0)),
    ("ismin(X)", lambda a: (np.arange(a["X"].size) == a["X"].argmin()).reshape(a["X"].shape)),
    ("tril(X, -1)", lambda a: np.tril(a["X"], -1)),
    ("triu(Q, 1)", lambda a: np.triu(a["Q"], 1)),
]


@pytest.mark.parametrize("text, meaning", VALUES)
def test_values_are_numpys(text, meaning):
    assert_value_is_numpys(DECLARED, text, meaning)


def test_ties_go_to_the_first_index_as_numpys_argmax():
    x = np.array([[[1.0, 3.0], [3.0, 3.0]], [[2.0, 2.0], [0.0, 5.0]]])  # B, T, d = 2, 2, 2
    problem = matcalc.parse("X : tensor(B, T, d)\ne = ismax(X, 1)\nf = ismax(X, 2)\n"
                            "g = ismin(X)")
    for name, expected in (("e", _ismax(x, 1)), ("f", _ismax(x, 2)),
                           ("g", (np.arange(8) == x.argmin()).reshape(x.shape))):
        np.testing.assert_array_equal(evaluate(problem, name, {"X": x}), expected)


def test_random_points_keep_the_extremes_of_each_line_apart():
    problem = matcalc.parse("X : tensor(B, T, d)\nf = sum(max(X, 1))")
    for seed in range(3):
        x = np.moveaxis(random_instance(problem, seed=seed).arrays["X"], 1, -1)
        top = np.sort(x, axis=-1)[..., -2:]
        assert np.all(top[..., 1] - top[..., 0] > 1e-2)


GRADIENTS = [  # (L, with respect to): a tensor and a matrix weight shared across the batch
    "sum(G * softmax(X @ W, 0))",
    "sum(G * softmax(X @ W, 1))",
    "sum(G * log_softmax(X @ W, 0))",
    "sum(G * log_softmax(X @ W))",
    "sum(R * logsumexp(X @ W, 0))",
    "sum(N * logsumexp(tanh(X @ W), -1))",
    "sum(R * max(X @ W, 0))",
    "sum(N * min(X @ W, -1))",
    "max(X @ W)",
    "min(tanh(X @ W))",
    "sum(G * tril(X @ W))",
    "sum(G * triu(X @ W, 1) .^ 2)",
    "sum(G * tril(X @ W, -1))",
]


@pytest.mark.parametrize("body", GRADIENTS)
def test_gradients_are_proven_by_finite_differences(body):
    results = matcalc.derive(DECLARED + f"L = {body}", wrt=["X", "W"], check=False)
    for verdict in matcalc.check(list(results), seed=2, trials=1, directions=2):
        assert verdict.ok, verdict


def test_four_axis_gradients_are_proven():
    problem = DECLARED + "K : tensor(B, H, T, d)\nV : matrix(H, d)\n" \
        "L = sum(logsumexp(Q @ K', 1)) + sum(max(Q, 2) * V) + sum(log_softmax(triu(K), 0))"
    results = matcalc.derive(problem, wrt=["Q", "K", "V"], check=False)
    for verdict in matcalc.check(list(results), seed=1, trials=1, directions=2):
        assert verdict.ok, verdict


@pytest.mark.parametrize("body, loss", [
    ("sum(G * softmax(X @ W, 0))", lambda x, w, g: np.sum(g * _softmax(x @ w, 0))),
    ("sum(N * max(X @ W, 2))", lambda x, w, n: np.sum(n * (x @ w).max(2))),
    ("sum(R * logsumexp(tril(X @ W), 0))",
     lambda x, w, r: np.sum(r * _logsumexp(np.tril(x @ w), 0))),
])
def test_gradients_agree_with_our_own_finite_differences_of_numpy(body, loss):
    results = matcalc.derive(DECLARED + f"L = {body}", wrt=["X", "W"], check=False)
    point = random_instance(results[0].program, seed=3)
    x, w = point.arrays["X"], point.arrays["W"]
    third = point.arrays[body.split("(")[1].split(" ")[0]]
    got = results.numpy()(**point.arrays)
    np.testing.assert_allclose(got["X"], finite_difference(lambda z: loss(z, w, third), x),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got["W"], finite_difference(lambda z: loss(x, z, third), w),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("body", GRADIENTS[::2] + ["sum(G * softmax(X @ W, 0))"])
def test_results_read_back_in_text_and_latex(body):
    problem = DECLARED + f"L = {body}"
    for name in ("X", "W"):
        written = inlined(matcalc.derive(problem, wrt=name, check=False))
        assert matcalc.verify(problem, name, str(written)).ok, (body, name)
        assert matcalc.verify(problem, name, to_latex(written), latex=True).ok, (body, name)


@pytest.mark.parametrize("text", ["softmax(X, 0)", "log_softmax(Q, 2)", "logsumexp(X, 1)",
                                  "max(Q, 1)", "ismin(X, 0)", "tril(X, -1)", "triu(Q, 2)"])
def test_forms_print_and_read_back_as_the_same_node(text):
    built = node(text)
    assert node(str(built)) is built
    problem = matcalc.parse(DECLARED + "e = X")
    assert answer_node(problem, to_latex(built), True)[1] is built


def test_a_softmax_along_the_wrong_axis_is_told_apart():
    problem = DECLARED + "L = sum(R * logsumexp(X, 0))"
    assert matcalc.verify(problem, "X", "expand(R, 0, B) * softmax(X, 0)").ok
    assert not matcalc.verify(problem, "X", "expand(R, 0, B) * softmax(X, 1)").ok
    assert not matcalc.verify(problem, "X", "expand(R, 0, B) * softmax(X)").ok


@pytest.mark.parametrize("kind", ["jacobian", "hessian"])
def test_jacobians_and_hessians_through_the_axis_forms_are_refused(kind):
    problem = DECLARED + "L = sum(R * logsumexp(X @ W, 0))"
    with pytest.raises(UnsupportedError, match="tensor"):
        matcalc.derive(problem, wrt="W", kind=kind, check=False)


def test_sympy_has_no_tensors():
    result = matcalc.derive(DECLARED + "L = sum(R * max(X @ W, 0))", wrt="W", check=False)
    with pytest.raises(UnsupportedError, match="tensor"):
        result.expr  # noqa: B018


def test_a_reduction_divided_into_its_tensor_says_to_expand_it():
    # NumPy broadcasts X / r back only with keepdims: the language writes expand(r, 2, d)
    problem = "X : tensor(B, T, d)\ng : vector(d)\nG : tensor(B, T, d)\n" \
        "r = sqrt(mean(X .^ 2, -1) + 1e-5)\nL = sum(G * (X / {} * g'))"
    with pytest.raises(UnsupportedError, match=r"keepdims.*expand\(r, 2, d\) to repeat it "
                                               r"along that axis\n"):
        matcalc.parse(problem.format("r"))
    with pytest.raises(UnsupportedError, match=r"axis 1 removed.*expand\(r, 1, T\).*\(r = "):
        matcalc.parse(problem.format("sqrt(mean(X .^ 2 + exp(X) * sigmoid(X), 1))"))
    # the message quotes the user's own text, and its suggestion reads
    with pytest.raises(UnsupportedError) as raised:
        matcalc.parse(problem.format("sqrt(mean(X .^ 2, -1) + 1e-5)"))
    message = str(raised.value)
    assert "write expand(sqrt(mean(X .^ 2, -1) + 1e-5), 2, d)" in message, message
    assert "sum(X .^ 2, 2) / d" not in message
    suggested = problem.format("expand(sqrt(mean(X .^ 2, -1) + 1e-5), 2, d)")
    assert matcalc.parse(suggested).definitions["L"].body.is_scalar
    results = matcalc.derive(problem.format("expand(r, 2, d)"), wrt=["X", "g"], check=False)
    for verdict in matcalc.check(list(results), seed=1, trials=1, directions=2):
        assert verdict.ok, verdict


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_generated_code_computes_what_the_interpreter_does(backend):
    problem = DECLARED + "L = sum(G * softmax(X @ W, 0)) + sum(N * logsumexp(X @ W, 2)) + " \
        "sum(R * max(X @ W, 0)) + min(X) + sum(G * log_softmax(tril(X @ W, -1), 1))"
    results = matcalc.derive(problem, wrt=["X", "W"], check=False)
    assert_generated_code_matches(results, backend)


CAUSAL = "X : tensor(B, T, d)\nW : matrix(d, d)\nG : tensor(B, T, d)\nC : tensor(B, T, T) mask\n" \
    "S = X @ W @ X' / sqrt(d)\nP = softmax(where({}, S, -inf))\nL = sum(G * (P @ X))"


@pytest.mark.parametrize("mask", ["tril(ones(B, T, T))", "C * tril(ones(T, T))", "tril(C)"])
@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_batched_causal_attention_with_tensor_masks_is_finite_and_exact(mask, backend):
    # a mask per batch entry (tril of a tensor, a padding mask C): no NaN from exp(-inf),
    # entries behind the mask get exactly 0, and the code agrees with the interpreter
    results = matcalc.derive(CAUSAL.format(mask), wrt=["W", "X"], check=False)
    if backend == "numpy":
        for verdict in matcalc.check(list(results), seed=2, trials=1):
            assert verdict.ok, verdict
        point = random_instance(results[0].program, seed=1)
        p = evaluate(results[0].program, "P", point.arrays, sizes=point.sizes)
        hidden = np.broadcast_to(evaluate(results[0].program.extended(
            {"M": matcalc.parse(CAUSAL.format(mask)).definitions["P"].body.args[0].args[0]}),
            "M", point.arrays, sizes=point.sizes), p.shape) == 0
        assert np.all(p[hidden] == 0)
        assert all(np.all(np.isfinite(v)) for v in results.numpy()(**point.arrays).values())
    assert_generated_code_matches(results, backend)


def test_a_line_the_mask_hides_entirely_is_outside_the_domain_not_a_verdict():
    # softmax of a row of -inf is NaN (as in NumPy): such a point is a DomainError, never a
    # comparison of NaN with NaN
    results = matcalc.derive(CAUSAL.format("C"), wrt="W", check=False)
    rng = np.random.default_rng(0)
    c = np.ones((2, 3, 3))
    c[1, 2] = 0.0
    at = {"X": rng.normal(size=(2, 3, 4)), "W": rng.normal(size=(4, 4)),
          "G": rng.normal(size=(2, 3, 4)), "C": c}
    with pytest.raises(DomainError, match="NaN"):
        matcalc.check(results, at=at)
    with pytest.raises(DomainError, match="NaN"):
        evaluate(results.program, "L", at)


@pytest.mark.parametrize("source, wrt, expected", [
    ("X : tensor(B, T, d)\nL = sum(X' @ X)", "X", "dL_dX = 2 * X @ ones(B, d, d)"),
    ("X : tensor(B, H, T, d)\nL = sum(X' @ X)", "X", "dL_dX = 2 * X @ ones(B, H, d, d)"),
    ("X : tensor(B, T, d)\nL = sum(zeros(B, d, T)' + X)", "X", "dL_dX = ones(B, T, d)"),
])
def test_a_tensor_of_ones_or_zeros_transposed_is_one_with_its_last_axes_swapped(
        source, wrt, expected):
    # ones(B, d, d)' is ones(B, d, d): X @ (ones + ones') collects to 2 * X @ ones
    result = matcalc.derive(source, wrt=wrt)
    assert result.text.splitlines()[-1] == expected
    assert result.checked.ok

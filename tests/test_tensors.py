"""Tensors: ``tensor(D1, D2, D3[, D4])``, NumPy's matmul and broadcasting over leading axes,
sums along an axis, and gradients through them proven by finite differences.

Shapes follow NumPy (the array API standard's ``matmul`` and broadcasting rules): ``@`` is a
product of the last two axes batched over the leading ones, broadcasting aligns axes from the
right, ``np.sum(X, axis=a)`` removes the axis.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_generated_code_matches, assert_value_is_numpys, inlined

import matcalc
from matcalc.core.shapes import Kind
from matcalc.errors import AssumptionError, ParseError, ShapeError, UnsupportedError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

DECLARED = """
X : tensor(B, T, d)
Y : tensor(B, T, d)
Q : tensor(B, H, T, d)
K : tensor(B, H, T, d)
W : matrix(d, k)
M : matrix(T, T)
b : vector(d)
c : vector(T)
"""


def node(text: str):
    return matcalc.parse(DECLARED + f"e = {text}").definitions["e"].body


@pytest.mark.parametrize("text, dims, kind", [
    ("X", "B x T x d", Kind.TENSOR),
    ("X @ W", "B x T x k", Kind.TENSOR),
    ("X @ X'", "B x T x T", Kind.TENSOR),
    ("X' @ X", "B x d x d", Kind.TENSOR),
    ("M @ X", "B x T x d", Kind.TENSOR),
    ("Q @ K'", "B x H x T x T", Kind.TENSOR),
    ("X + b'", "B x T x d", Kind.TENSOR),
    ("X * c", "B x T x d", Kind.TENSOR),
    ("exp(X) / 2 - Y", "B x T x d", Kind.TENSOR),
    ("sum(X, 0)", "T x d", Kind.MATRIX),
    ("sum(X, 2)", "B x T", Kind.MATRIX),
    ("sum(X, -1)", "B x T", Kind.MATRIX),
    ("mean(Q, 1)", "B x T x d", Kind.TENSOR),
    ("sum(X)", "1 x 1", Kind.SCALAR),
    ("logsumexp(X)", "B x T", Kind.MATRIX),
    ("softmax(Q @ K')", "B x H x T x T", Kind.TENSOR),
    ("ones(B, T, d)", "B x T x d", Kind.TENSOR),
    ("expand(sum(X, 1), 1, T)", "B x T x d", Kind.TENSOR),
])
def test_shapes_follow_numpy(text, dims, kind):
    # matmul, broadcasting and axis reductions as NumPy's shape rules give them
    built = node(text)
    assert (str(built.shape), built.kind) == (dims, kind)


@pytest.mark.parametrize("text, message", [
    ("X @ M", "rows"),
    ("X + M @ M @ X @ W", "last two axes"),
    ("Q + X", "leading axes"),
    ("sum(X, 3)", "axis"),
])
def test_misfits_are_shape_errors(text, message):
    with pytest.raises(ShapeError, match=message):
        node(text)


@pytest.mark.parametrize("text, what", [
    ("det(X)", "det"), ("X @ b", "vector"), ("Diag(X)", "Diag"), ("inv(X)", "inv"),
    ("kron(X, W)", "kron"),
])
def test_operations_without_tensors_say_so(text, what):
    with pytest.raises(UnsupportedError, match=what):
        node(text)


def test_a_tensor_declaration_reads_and_prints_back():
    problem = matcalc.parse("S : tensor(B, T, k) positive\nP : tensor(B, H, T, k) simplex\n"
                            "f = sum(S)")
    assert "S : tensor(B, T, k) positive" in problem.describe()
    assert "P : tensor(B, H, T, k) simplex" in problem.describe()
    with pytest.raises(AssumptionError):
        matcalc.parse("S : tensor(B, T, T) symmetric\nf = sum(S)")
    with pytest.raises(ParseError):
        matcalc.parse("S : tensor(B, T)\nf = sum(S)")


def test_random_points_have_the_declared_shapes_and_attributes():
    problem = matcalc.parse("S : tensor(B, T, k) positive\nP : tensor(B, H, T, k) simplex\n"
                            "f = sum(S) + sum(P)")
    for seed in range(3):
        point = random_instance(problem, seed=seed)
        s, p = point.arrays["S"], point.arrays["P"]
        assert s.ndim == 3 and p.ndim == 4 and np.all(s > 0)
        assert np.allclose(p.sum(axis=-1), 1) and np.all(p >= 0)


def test_given_values_are_checked_for_shape_and_attributes():
    problem = matcalc.parse("S : tensor(B, T, k) positive\nf = sum(S)")
    with pytest.raises(ShapeError, match="tensor"):
        evaluate(problem, "f", S=np.ones((2, 3)))
    with pytest.raises(AssumptionError):
        evaluate(problem, "f", S=-np.ones((2, 3, 4)))


VALUES = [  # (text, the NumPy meaning)
    ("X @ W", lambda a: a["X"] @ a["W"]),
    ("X' @ X", lambda a: np.swapaxes(a["X"], -1, -2) @ a["X"]),
    ("M @ X + b'", lambda a: a["M"] @ a["X"] + a["b"]),
    ("X * c", lambda a: a["X"] * a["c"][:, None]),
    ("sum(X, 0)", lambda a: a["X"].sum(axis=0)),
    ("sum(X, 1)", lambda a: a["X"].sum(axis=1)),
    ("mean(X, -1)", lambda a: a["X"].mean(axis=-1)),
    ("mean(Q, 1)", lambda a: a["Q"].mean(axis=1)),
    ("sum(Q, 3)", lambda a: a["Q"].sum(axis=3)),
    ("mean(X)", lambda a: a["X"].mean()),
    ("logsumexp(Q)", lambda a: np.log(np.exp(a["Q"]).sum(axis=-1))),
    ("softmax(X)", lambda a: np.exp(a["X"]) / np.exp(a["X"]).sum(axis=-1, keepdims=True)),
    ("expand(sum(X, 1), 1, T)", lambda a: np.repeat(a["X"].sum(1)[:, None], a["X"].shape[1], 1)),
]


@pytest.mark.parametrize("text, meaning", VALUES)
def test_values_are_numpys(text, meaning):
    assert_value_is_numpys(DECLARED, text, meaning)


GRADIENTS = [  # scalar functions of tensors, vectors and matrices
    ("sum(G * tanh(X @ W))", "X, W"),
    ("sum(G * (softmax(X @ X' / 4) @ X @ W))", "X, W"),
    ("sum(logsumexp(X @ W) * N)", "X, W"),
    ("mean((X @ W + v') .^ 2)", "W, v"),
    ("sum(sum(X, 0) .^ 3) + sum(mean(X, -1) * N)", "X"),
    ("sum(G * (M @ X @ W))", "M, W"),
    ("sum(Q @ K' * exp(Q @ K' / 8))", "Q, K"),
    ("sum(sigmoid(X + c * u'))", "X, c, u"),
]


@pytest.mark.parametrize("body, wrt", GRADIENTS)
def test_gradients_are_proven_by_finite_differences(body, wrt):
    problem = DECLARED + "G : tensor(B, T, k)\nN : matrix(B, T)\nv : vector(k)\nu : vector(d)\n" \
        f"L = {body}\ngrad L wrt {wrt}"
    results = matcalc.derive(problem, check=False)
    results = [results] if isinstance(results, matcalc.Derivative) else list(results)
    for verdict in matcalc.check(results, seed=2, trials=1, directions=2):
        assert verdict.ok, verdict


def test_a_shared_weight_gets_a_batch_sum():
    result = matcalc.derive("X : tensor(B, T, d)\nW : matrix(d, k)\nG : tensor(B, T, k)\n"
                            "L = sum(G * (X @ W))", wrt="W", check=False)
    assert result.text == "dL_dW = sum(X' @ G, 0)"


def test_results_read_back_in_text_and_latex():
    # each printed gradient, read back as an answer in either notation, is the derived one
    from matcalc.present.latex import to_latex

    for body, wrt in GRADIENTS:
        problem = DECLARED + "G : tensor(B, T, k)\nN : matrix(B, T)\nv : vector(k)\n" \
            f"u : vector(d)\nL = {body}"
        for name in (w.strip() for w in wrt.split(",")):
            written = inlined(matcalc.derive(problem, wrt=name, check=False))
            assert matcalc.verify(problem, name, str(written)).ok, (body, name)
            assert matcalc.verify(problem, name, to_latex(written), latex=True).ok, (body, name)


def test_a_wrong_batch_sum_is_told_apart():
    problem = "X : tensor(B, T, d)\nW : matrix(d, k)\nG : tensor(B, T, k)\n" \
        "L = sum(G * (X @ W))"
    assert matcalc.verify(problem, "W", "sum(X' @ G, 0)").ok
    assert not matcalc.verify(problem, "W", "sum(X' @ G, 0) / B").ok
    assert matcalc.verify(problem, "W", r"\operatorname{sum}\left(X^\top G, 0\right)",
                          latex=True).ok


@pytest.mark.parametrize("kind", ["jacobian", "hessian"])
def test_jacobians_and_hessians_through_tensors_are_refused(kind):
    problem = "X : tensor(B, T, d)\nW : matrix(d, k)\nL = sum(tanh(X @ W))"
    with pytest.raises(UnsupportedError, match="tensor"):
        matcalc.derive(problem, wrt="X", kind=kind, check=False)
    if kind == "hessian":
        with pytest.raises(UnsupportedError, match="tensor"):
            matcalc.derive(problem, wrt="W", kind=kind, check=False)


def test_sympy_has_no_tensors():
    result = matcalc.derive("X : tensor(B, T, d)\nW : matrix(d, k)\nL = sum(tanh(X @ W))",
                            wrt="W", check=False)
    with pytest.raises(UnsupportedError, match="tensor"):
        result.expr  # noqa: B018


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_generated_code_computes_what_the_interpreter_does(backend):
    problem = DECLARED + "G : tensor(B, T, k)\nN : matrix(B, T)\n" \
        "L = sum(G * (softmax(X @ X' / 4) @ X @ W)) + sum(logsumexp(Q @ K') * 1) " \
        "+ sum(mean(X, 1) .^ 2) + sum(N * logsumexp(M @ X + b'))"
    results = matcalc.derive(problem, wrt=["X", "W", "Q", "K", "M", "b"], check=False)
    assert_generated_code_matches(results, backend)


def test_attention_code_forms_nothing_larger_than_the_attention_matrix():
    # the generated gradient of batched attention keeps a few arrays of P's size (B x T x T)
    # at a time and none larger: peak traced memory below 6 attention matrices
    import tracemalloc

    from matcalc.codegen.module import compiled

    problem = "X : tensor(B, T, d)\nWq, Wk, Wv : matrix(d, d)\nG : tensor(B, T, d)\n" \
        "P = softmax((X @ Wq) @ (X @ Wk)' / sqrt(d))\nL = sum(G * (P @ (X @ Wv)))"
    results = matcalc.derive(problem, wrt=["Wq", "Wk", "Wv"], check=False)
    function = compiled(list(results), hoist=False)
    rng = np.random.default_rng(0)
    b, t, d = 4, 96, 8
    arrays = {"X": rng.normal(size=(b, t, d)), "G": rng.normal(size=(b, t, d)),
              **{w: rng.normal(size=(d, d)) for w in ("Wq", "Wk", "Wv")}}
    function(**arrays)
    tracemalloc.start()
    function(**arrays)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 6 * b * t * t * 8, peak
    source = "\n".join(line for line in results.code().splitlines() if "einsum" in line)
    assert source == ""


SEQUENCES = "Z : tensor(B, T, V)\nX : tensor(B, T, d)\nE : matrix(d, V)\ny : labels(B, T, V)\n"


def test_a_grid_of_labels_picks_and_spreads_as_numpy():
    # onehot(y)[b, t] = e_{y[b, t]}; pick(Z, y)[b, t] = Z[b, t, y[b, t]] (np.take_along_axis)
    problem = matcalc.parse(SEQUENCES + "f = sum(pick(Z, y)) + sum(onehot(y) * Z)")
    assert "y : labels(B, T, V)" in problem.describe()
    for seed in range(3):
        point = random_instance(problem, seed=seed)
        z, y = point.arrays["Z"], point.arrays["y"]
        assert y.shape == z.shape[:2] and y.min() >= 0 and y.max() < z.shape[2]
        picked = np.take_along_axis(z, y[..., None], -1)[..., 0]
        np.testing.assert_allclose(evaluate(problem, "f", point.arrays), 2 * picked.sum())
    with pytest.raises(AssumptionError, match="labels"):
        evaluate(problem, "f", Z=np.ones((2, 3, 4)), X=np.ones((2, 3, 5)), E=np.ones((5, 4)),
                 y=np.full((2, 3), 4))


def test_next_token_cross_entropy_has_the_textbook_gradient():
    # L = -mean over B x T positions of log softmax(Z)[y]: dL/dZ = (softmax(Z) - onehot(y)) / BT
    gradient = matcalc.derive(SEQUENCES + "L = -mean(log(pick(softmax(Z), y)))", wrt="Z")
    assert gradient.text == "dL_dZ = (softmax(Z) - onehot(y)) / (B*T)"
    assert matcalc.check(gradient, seed=4).ok
    point = random_instance(gradient.program, seed=2)
    z, y = point.arrays["Z"], point.arrays["y"]
    s = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    expected = (s - np.eye(z.shape[2])[y]) / (z.shape[0] * z.shape[1])
    np.testing.assert_allclose(gradient.numpy()(**point.arrays), expected, rtol=1e-10)


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_sequence_labels_in_generated_code(backend):
    results = matcalc.derive(SEQUENCES + "L = -sum(log(pick(softmax(X @ E), y)) * 2) + "
                             "sum(onehot(y) * Z)", wrt=["E", "X", "Z"], check=False)
    for verdict in matcalc.check(list(results), seed=3, trials=1):
        assert verdict.ok, verdict
    assert_generated_code_matches(results, backend)


def test_causal_attention_over_a_batch():
    # where(tril(ones(T, T)), S, -inf) masks every batch entry alike (np.where broadcasts);
    # the gradient is proven, and the generated code gives finite values (no exp(-inf) * x NaN)
    problem = "X : tensor(B, T, d)\nW : matrix(d, d)\nG : tensor(B, T, d)\n" \
        "S = X @ W @ X' / sqrt(d)\nP = softmax(where(tril(ones(T, T)), S, -inf))\n" \
        "L = sum(G * (P @ X))"
    program = matcalc.parse(problem)
    point = random_instance(program, seed=1)
    x, w = point.arrays["X"], point.arrays["W"]
    s = x @ w @ np.swapaxes(x, -1, -2) / np.sqrt(x.shape[2])
    s = np.where(np.tril(np.ones(s.shape[1:])) != 0, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    np.testing.assert_allclose(evaluate(program, "P", point.arrays), p / p.sum(-1, keepdims=True))
    results = matcalc.derive(problem, wrt=["W", "X"], check=False)
    for verdict in matcalc.check(list(results), seed=2, trials=1):
        assert verdict.ok, verdict
    values = results.numpy()(**point.arrays)
    assert all(np.all(np.isfinite(v)) for v in values.values())
    assert_generated_code_matches(results, "numpy")

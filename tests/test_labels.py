"""Class labels: ``y : labels(N, k)``, onehot(y) and pick(P, y); cross-entropy's gradient comes
out as (softmax(Z) - onehot(y)) / N; every derivative proven against finite differences, code
for each backend, LaTeX both ways."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_generated_code_matches, finite_difference

import matcalc
from matcalc.errors import AssumptionError, ShapeError, UnsupportedError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import to_latex

LABELS = "Z : matrix(N, k); y : labels(N, k); X : matrix(N, d); W : matrix(d, k); w : vector(N)\n"
CROSS_ENTROPY = LABELS + "L = -mean(log(pick(softmax(Z), y)))"


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _point(seed: int = 0, n: int = 5, k: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"Z": rng.normal(size=(n, k)), "y": rng.integers(0, k, size=n),
            "X": rng.normal(size=(n, 2)), "W": rng.normal(size=(2, k)), "w": rng.normal(size=n)}


def test_values_are_numpys_one_hot_and_take_along_axis():
    parsed = matcalc.parse(LABELS + "O = onehot(y)\np = pick(Z, y)")
    a = _point(1)
    np.testing.assert_array_equal(evaluate(parsed, "O", a), np.eye(3)[a["y"]])
    np.testing.assert_array_equal(np.ravel(evaluate(parsed, "p", a)),
                                  np.take_along_axis(a["Z"], a["y"][:, None], axis=1)[:, 0])
    assert str(parsed.definitions["O"].body.shape) == str(matcalc.parse(
        "A : matrix(N, k)\nB = A").definitions["B"].body.shape)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_points_draw_valid_labels(seed):
    point = random_instance(matcalc.parse(CROSS_ENTROPY), seed=seed)
    y, k = point.arrays["y"], point.sizes["k"]
    assert y.dtype.kind == "i" and y.shape == (point.sizes["N"],)
    assert y.min() >= 0 and y.max() < k


@pytest.mark.parametrize("labels, message", [
    ([0, 1, 3, 0, 2], "from 0 to k - 1 = 2"),
    ([0, 1, -1, 0, 2], "from 0 to k - 1 = 2"),
    ([0, 1, 0.5, 0, 2], "whole numbers"),
])
def test_given_labels_are_checked(labels, message):
    arrays = {**_point(0), "y": np.array(labels)}
    with pytest.raises(AssumptionError, match=message):
        evaluate(matcalc.parse(CROSS_ENTROPY), "L", arrays)


def test_cross_entropy_has_the_textbook_gradient():
    result = matcalc.derive(CROSS_ENTROPY, wrt="Z")
    assert result.text == "dL_dZ = (softmax(Z) - onehot(y)) / N"
    assert result.checked.ok
    a = _point(3)
    n = a["Z"].shape[0]

    def loss(z):
        return -np.mean(np.log(_softmax(z)[np.arange(n), a["y"]]))

    got = result.numpy()(**a)
    np.testing.assert_allclose(got, (_softmax(a["Z"]) - np.eye(3)[a["y"]]) / n, atol=1e-14)
    np.testing.assert_allclose(got, finite_difference(loss, a["Z"]), atol=1e-8)


def test_a_batch_of_logits_gets_the_gradient_through_the_weights():
    results = matcalc.derive(LABELS + "L = -mean(log(pick(softmax(X @ W), y)))", wrt=["X", "W"])
    assert results.text.splitlines() == ["delta1 = (softmax(X @ W) - onehot(y)) / N",
                                         "dL_dX = delta1 @ W'", "dL_dW = X' @ delta1"]
    assert all(result.checked.ok for result in results)


@pytest.mark.parametrize("text, kind, wrt", [
    ("L = sum(w * log(pick(softmax(Z), y)))", "grad", ["Z", "w"]),
    ("S = softmax(Z)\nL = -sum(log(pick(S, y)))", "grad", ["Z"]),
    ("L = sum(pick(Z, y) .^ 2)", "grad", ["Z"]),
    ("L = sum(onehot(y) * tanh(Z)) + sum(pick(X @ W, y))", "grad", ["Z", "X", "W"]),
    ("L = sum(pick(Z, y) .^ 2)", "hessian", ["Z"]),
    ("L = tanh(pick(X @ W, y))", "jacobian", ["W"]),
])
def test_derivatives_are_proven(text, kind, wrt):
    results = matcalc.derive(LABELS + text, wrt=wrt, kind=kind, check=False)
    results = results if isinstance(results, list) else [results]
    verdicts = matcalc.check(results, seed=2)
    assert verdicts and all(verdict.ok for verdict in verdicts)


def test_the_adjoint_of_pick_is_checked_against_finite_differences():
    result = matcalc.derive(LABELS + "L = sum(sin(pick(Z, y)))", wrt="Z")
    assert result.text == "dL_dZ = Diag(cos(pick(Z, y))) @ onehot(y)"
    a = _point(4)
    n = a["Z"].shape[0]
    np.testing.assert_allclose(
        result.numpy()(**a),
        finite_difference(lambda z: np.sum(np.sin(z[np.arange(n), a["y"]])), a["Z"]),
        atol=1e-8)


def test_labels_are_never_differentiated():
    with pytest.raises(UnsupportedError, match="declared as labels"):
        matcalc.derive(CROSS_ENTROPY + "\ngrad L wrt y")
    with pytest.raises(UnsupportedError, match="declared as labels"):
        matcalc.derive(CROSS_ENTROPY, wrt=["Z", "y"])
    assert [r.wrt for r in matcalc.derive(CROSS_ENTROPY)] == ["Z"]


@pytest.mark.parametrize("text, error, message", [
    ("f = onehot(w)", ShapeError, "declared labels"),
    ("f = pick(Z, w)", ShapeError, "declared labels"),
    ("f = pick(X, y)", ShapeError, "N x k matrix"),
    ("f = pick(Z', y)", ShapeError, "N x k matrix"),
])
def test_misuse_is_an_error(text, error, message):
    with pytest.raises(error, match=message):
        matcalc.parse(LABELS + text)


def test_the_number_of_classes_is_a_name_or_a_number():
    assert matcalc.parse("y : labels(5, 3)\nZ : matrix(5, 3)\nf = pick(Z, y)")
    with pytest.raises(UnsupportedError, match="name or a number"):
        matcalc.parse("y : labels(N, k + 1)\nZ : matrix(N, k + 1)\nf = pick(Z, y)")


def test_the_declaration_is_listed_as_written():
    assert "y : labels(N, k)" in matcalc.parse(CROSS_ENTROPY).describe().splitlines()


def test_text_and_latex_read_back():
    problem = LABELS + "L = sum(w * log(pick(softmax(Z), y))) + sum(onehot(y) * Z)"
    gradient = matcalc.derive(problem, wrt="Z")
    assert matcalc.verify(problem, "Z", gradient.text.split(" = ", 1)[1]).ok
    latex = to_latex(gradient.result)
    assert r"\operatorname{onehot}" in latex
    assert matcalc.verify(problem, "Z", latex, latex=True).ok
    picked = to_latex(matcalc.parse(LABELS + "f = pick(Z, y)").definitions["f"].body)
    assert picked == r"\operatorname{pick}\left(Z, y\right)"
    assert not matcalc.verify(problem, "Z", latex.replace("onehot", "softmax", 1).replace(
        r"\left(y\right)", r"\left(Z\right)", 1), latex=True).ok


def test_sympy_says_it_has_no_form():
    with pytest.raises(UnsupportedError, match="pick has no SymPy"):
        matcalc.parse(LABELS + "f = pick(Z, y)").to_sympy()


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_generated_code_matches_the_evaluator(backend):
    results = matcalc.derive(LABELS + "L = -mean(log(pick(softmax(X @ W), y))) "
                                      "+ sum(pick(Z, y) .^ 2)", wrt=["X", "W", "Z"], check=False)
    assert_generated_code_matches(results, backend)


def test_float32_inputs_with_labels_give_float32_gradients_in_pytorch():
    # labels are integers: they take no part in the floating dtype, so float32 inputs give float32
    # gradients, one-hot matrix included (the int64 labels used to promote everything to float64)
    torch = pytest.importorskip("torch")
    from matcalc.codegen.module import generate, load

    results = matcalc.derive(LABELS + "L = -mean(log(pick(softmax(X @ W), y)))", wrt=["W"],
                             check=False)
    point = random_instance(results[0].program, seed=3)
    arrays = {name: (np.asarray(v, dtype=np.float32) if name != "y" else np.asarray(v))
              for name, v in point.arrays.items()}
    arrays = {name: torch.as_tensor(v) for name, v in arrays.items()}
    source = generate(list(results), backend="torch")
    assert "_onehot(y, _size_k, False, _dtype)" in source
    module = load(source)
    got = module.gradient(**arrays)
    expected = results.numpy(compiled=False)(sizes=point.sizes, **point.arrays)
    for key, value in expected.items():
        assert str(got[key].dtype).endswith("float32"), (key, got[key].dtype)
        np.testing.assert_allclose(np.asarray(got[key], dtype=np.float64), value, rtol=1e-4,
                                   atol=1e-5)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("grid", [False, True])
def test_float32_inputs_with_labels_give_float32_results_in_numpy_and_jax(backend, grid):
    # the one-hot matrix follows the other inputs' dtype, as in PyTorch; the interpreter, which
    # runs the same template, still computes in float64
    if backend == "jax":
        pytest.importorskip("jax")
    from matcalc.codegen.module import generate, load

    source = ("X : tensor(B, T, d)\nW : matrix(d, k)\ny : labels(B, T, k)\n"
              "L = -sum(pick(log(softmax(X @ W)), y)) / (B*T)" if grid else
              LABELS + "L = -mean(log(pick(softmax(X @ W), y)))")
    results = matcalc.derive(source, wrt=["W"], check=False)
    point = random_instance(results[0].program, seed=3)
    arrays = {name: (np.asarray(v, dtype=np.float32) if name != "y" else np.asarray(v))
              for name, v in point.arrays.items()}
    module = load(generate(list(results), backend=backend))
    gradients = module.gradient(**arrays)
    expected = results.numpy(compiled=False)(sizes=point.sizes, **point.arrays)
    for key, want in expected.items():
        assert str(gradients[key].dtype) == "float32", (key, gradients[key].dtype)
        assert np.asarray(want).dtype == np.float64
        np.testing.assert_allclose(np.asarray(gradients[key], dtype=np.float64), want,
                                   rtol=1e-3, atol=1e-4)

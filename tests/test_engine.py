"""The engine on textbook problems: seeds, Matrix Cookbook identities, Jacobians, Hessians.

Each derived result is compared numerically with the textbook's closed form (written in the
language and evaluated at the same random point) and proven by finite differences.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import sympy as sp

import matcalc
from matcalc.errors import ShapeError, UnknownNameError, UnsupportedError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

GALLERY = pathlib.Path("derivations")


def agree(source: str, wrt: str, textbook: str, kind: str = "grad", of: str | None = None,
          seeds=(0, 1, 2), sizes=None):
    """The derived result equals ``textbook`` (an expression over the problem) and passes the
    finite-difference check."""
    derivative = matcalc.derive(source, wrt=wrt, of=of, kind=kind)
    program = matcalc.parse(source + f"\n__textbook = {textbook}")
    for seed in seeds:
        instance = random_instance(program, seed=seed, sizes=sizes)
        expected = evaluate(program, "__textbook", instance.arrays, sizes=instance.sizes)
        got = derivative.numpy()(sizes=instance.sizes, **instance.arrays)
        np.testing.assert_allclose(np.reshape(got, np.shape(expected)), expected, rtol=1e-9,
                                   atol=1e-11)
    verdict = matcalc.check(derivative, seed=11)
    assert verdict.ok, verdict
    return derivative


# -- the seeds ----------------------------------------------------------------------------------

CS224N = (GALLERY / "cs224n_one_layer.mc").read_text()


@pytest.mark.parametrize("wrt, textbook", [
    # CS224n "Computing Neural Network Gradients", section 3: delta1 = yhat - y,
    # delta2 = (U' delta1) * ReLU'(z); the gradients below.
    ("U", "(softmax(theta) - y) @ h'"),
    ("b2", "softmax(theta) - y"),
    ("W", "((U' @ (softmax(theta) - y)) * step(z)) @ x'"),
    ("b1", "(U' @ (softmax(theta) - y)) * step(z)"),
    ("x", "W' @ ((U' @ (softmax(theta) - y)) * step(z))"),
    ("theta", "softmax(theta) - y"),  # identity 2.7, the gradient at an intermediate
])
def test_cs224n_gradients_are_the_textbooks(wrt, textbook):
    agree(CS224N, wrt, textbook, of="J")


def test_cs224n_without_simplex_keeps_sum_y():
    # Without the one-hot assumption the honest result is softmax(theta) * sum(y) - y.
    source = CS224N.replace("simplex", "")
    derivative = agree(source, "theta", "softmax(theta) * sum(y) - y", of="J")
    assert str(derivative.result) == "yhat * sum(y) - y"


def test_raw_results_name_every_delta():
    derivative = matcalc.derive(CS224N, wrt="b2", simplify=False)
    assert list(derivative.where) == ["delta_yhat", "delta_theta"]
    assert matcalc.check(derivative, seed=1).ok


def test_cs224n_gradients_share_named_deltas():
    results = matcalc.derive(CS224N)
    assert [d.wrt for d in results] == ["U", "b2", "W", "b1", "x"]
    assert str(results[0].where["delta1"]) == "yhat - y"
    assert str(results[2].where["delta2"]) == "(U' @ delta1) * step(z)"
    assert str(results[2].result) == "delta2 @ x'"
    assert str(results[4].result) == "W' @ delta2"
    values = results.numpy()(**random_instance(matcalc.parse(CS224N), seed=0).arrays)
    assert set(values) == {"U", "b2", "W", "b1", "x"} and values["x"].ndim == 1


MATHSE = (GALLERY / "mathse_batch_softmax.mc").read_text()
MATHSE_SMALL = MATHSE.replace("1568", "7").replace("1024", "6").replace("10)", "5)").replace(
    "(N, 10)", "(N, 5)")


def test_mathse_batch_gradient_is_the_row_wise_form():
    # Row-wise softmax with rows of Y on the simplex: dE/dC = (softmax(C B A) - Y) (B A)'.
    agree(MATHSE_SMALL, "C", "(softmax(C @ B @ A) - Y) @ (B @ A)'", of="E")


def test_mathse_with_the_questions_dimensions():
    derivative = matcalc.derive(MATHSE, wrt="C", of="E")
    assert derivative.type == "matrix(N, 1568)"
    program = matcalc.parse(MATHSE + "\n__t = (softmax(C @ B @ A) - Y) @ (B @ A)'")
    instance = random_instance(program, seed=0, sizes={"N": 2})
    np.testing.assert_allclose(derivative.numpy()(**instance.arrays),
                               evaluate(program, "__t", instance.arrays), rtol=1e-8, atol=1e-12)


def test_mathse_single_softmax_vec_formula_is_wrong_for_batches():
    # The accepted answer treats x = softmax(vec(C B A)) as ONE softmax over all N*10 entries:
    # dE/dc = M' (x x' - Diag(x)) (y / x), M = kron((B A)', I_N). That is the gradient of a
    # different function; for a batch of one row it coincides with the row-wise softmax.
    vec_formula = ("kron((B @ A)', I(N))' @ ((xs @ xs' - Diag(xs)) @ (vec(Y) / xs))")
    for n, should_match in ((1, True), (3, False)):
        source = MATHSE_SMALL + "\nxs = softmax(vec(C @ B @ A))"
        program = matcalc.parse(source + f"\n__vec = {vec_formula}")
        instance = random_instance(program, seed=4, sizes={"N": n})
        derived = matcalc.derive(source, wrt="C", of="E").numpy()(**instance.arrays)
        claimed = evaluate(program, "__vec", instance.arrays).reshape(derived.shape, order="F")
        assert np.allclose(derived, claimed, rtol=1e-8) is should_match


def test_sigmoid_softmax_input_gradient_with_row_vectors():
    # shared/seeds/001: dJ/dx = ((yhat - y) W2' * h * (1 - h)) W1'.
    agree((GALLERY / "sigmoid_softmax_input_grad.mc").read_text(), "x",
          "((yhat - y) @ W2' * h * (1 - h)) @ W1'", of="J")


@pytest.mark.parametrize("wrt, textbook", [
    # shared/seeds/002 (Parr & Howard, sec. 5): with the error e = u - t,
    # dC/dw = 2/N X' (e * step(X w + b)), dC/db = 2/N sum(e * step(X w + b)).
    ("w", "2 / N * X' @ ((u - t) * step(X @ w + b))"),
    ("b", "2 / N * sum((u - t) * step(X @ w + b))"),
])
def test_relu_neuron_mean_squared_cost(wrt, textbook):
    agree((GALLERY / "relu_neuron_mse.mc").read_text(), wrt, textbook, of="C")


# -- Matrix Cookbook identities (Petersen & Pedersen, 2012) ---------------------------------------

COOKBOOK = [
    ("x : vector(n); a : vector(n)\nf = a' @ x", "x", "a"),  # eq. 69
    ("x : vector(n); B : matrix(n, n)\nf = x' @ B @ x", "x", "(B + B') @ x"),  # eq. 81
    ("X : matrix(n, n)\nf = tr(X)", "X", "I(n)"),  # eq. 99
    ("X : matrix(n, m); A : matrix(m, n)\nf = tr(X @ A)", "X", "A'"),  # eq. 100
    ("X : matrix(n, m); A : matrix(k, n); B : matrix(m, k)\nf = tr(A @ X @ B)", "X",
     "A' @ B'"),  # eq. 101
    ("X : matrix(n, m); B : matrix(m, m)\nf = tr(X @ B @ X')", "X", "X @ B' + X @ B"),  # eq. 117
    ("X : matrix(n, n) invertible\nf = det(X)", "X", "det(X) * inv(X)'"),  # eq. 49
    ("X : matrix(n, n) invertible\nf = logdet(X)", "X", "inv(X)'"),  # eq. 57
    ("X : matrix(n, n) invertible; a, b : vector(n)\nf = a' @ inv(X) @ b", "X",
     "-inv(X)' @ a @ b' @ inv(X)'"),  # eq. 61
    ("X : matrix(m, n)\nf = norm(X) ^ 2", "X", "2 * X"),  # eq. 128 (squared Frobenius)
    ("A : matrix(m, n); x : vector(n); b : vector(m)\nf = norm2(A @ x - b) ^ 2", "x",
     "2 * A' @ (A @ x - b)"),  # least squares
    ("S : matrix(n, n) spd\nf = logdet(S)", "S", "inv(S)"),  # symmetric: unconstrained form
]


@pytest.mark.parametrize("source, wrt, textbook", COOKBOOK, ids=[c[2] for c in COOKBOOK])
def test_matrix_cookbook(source, wrt, textbook):
    agree(source, wrt, textbook)


# -- Jacobians (d vec F / d vec X') -------------------------------------------------------------

JACOBIANS = [
    # Magnus & Neudecker ch. 2: vec(A X B) = kron(B', A) vec(X)
    ("A : matrix(k, n); X : matrix(n, m); B : matrix(m, p)\nF = A @ X @ B", "X",
     "kron(B', A)"),
    ("W : matrix(m, n); x : vector(n)\nz = W @ x", "x", "W"),  # CS224n identity 2.1
    ("x : matrix(1, m); W : matrix(m, n)\nz = x @ W", "x", "W'"),  # CS224n identity 2.2
    ("x : vector(n)\ns = softmax(x)", "x", "Diag(s) - s @ s'"),  # softmax Jacobian
    ("x : vector(n)\nh = sigmoid(x)", "x", "Diag(h * (1 - h))"),  # CS224n identity 2.4
    ("X : matrix(m, n)\nF = X'", "X", "commutation(m, n)"),  # Magnus & Neudecker ch. 3
    ("X : matrix(n, n) invertible\nF = inv(X)", "X", "-kron(inv(X)', inv(X))"),
]


@pytest.mark.parametrize("source, wrt, textbook", JACOBIANS, ids=[j[2] for j in JACOBIANS])
def test_jacobians(source, wrt, textbook):
    agree(source, wrt, textbook, kind="jacobian")


def test_row_wise_softmax_jacobian_is_block_diagonal_after_reordering():
    d = agree("X : matrix(m, n)\nS = softmax(X)", "X",
              "Diag(vec(S)) @ (I(m*n) - kron(ones(n) @ ones(n)', I(m)) @ Diag(vec(S)))",
              kind="jacobian")
    assert d.type == "matrix(m*n, m*n)"


# -- Hessians (d^2 F / d vec X d vec X') --------------------------------------------------------

HESSIANS = [
    ("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", "x", "A + A'"),
    ("x : vector(n); A : matrix(m, n); b : vector(m)\nf = norm2(A @ x - b) ^ 2", "x",
     "2 * A' @ A"),
    # logistic regression: H = X' Diag(s * (1 - s)) X
    ("X : matrix(N, d); w : vector(d); y : vector(N) positive\ns = sigmoid(X @ w)\n"
     "J = -sum(y * log(s) + (1 - y) * log(1 - s))", "w", "X' @ Diag(s * (1 - s)) @ X"),
    ("x : vector(n)\nf = logsumexp(x)", "x", "Diag(softmax(x)) - softmax(x) @ softmax(x)'"),
    ("X : matrix(m, n); A : matrix(m, m)\nf = tr(X' @ A @ X)", "X", "kron(I(n), A + A')"),
]


@pytest.mark.parametrize("source, wrt, textbook", HESSIANS, ids=[h[2] for h in HESSIANS])
def test_hessians(source, wrt, textbook):
    agree(source, wrt, textbook, kind="hessian")


# -- API behaviour ------------------------------------------------------------------------------


def test_text_parses_back_and_evaluates_to_the_same_value():
    for derivative in matcalc.derive(CS224N):
        program = matcalc.parse(CS224N + "\n" + derivative.text)
        instance = random_instance(program, seed=3)
        np.testing.assert_allclose(evaluate(program, derivative.name, instance.arrays),
                                   derivative.numpy()(**instance.arrays), rtol=1e-12)


def test_expr_is_sympy():
    derivative = matcalc.derive("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", wrt="x")
    assert isinstance(derivative.expr, sp.MatrixExpr)
    assert derivative.expr.shape == (sp.Symbol("n", integer=True, positive=True), 1)
    assert derivative.shape == ("n", "1") and derivative.type == "vector(n)"


def test_gradient_of_a_function_that_does_not_depend_on_x_is_zero():
    derivative = matcalc.derive("x, y : vector(n)\nf = sum(y)", wrt="x")
    assert str(derivative.result) == "zeros(n)"
    assert matcalc.check(derivative, seed=0).ok


def test_one_line_expression_derives_every_variable():
    results = matcalc.derive("x' @ A @ x")
    assert [d.wrt for d in results] == ["x", "A"]
    assert all(matcalc.check(results, seed=0))


def test_derive_errors():
    with pytest.raises(ShapeError, match="grad needs a scalar function"):
        matcalc.derive("W @ x", wrt="x", kind="grad")  # no kind: the Jacobian
    with pytest.raises(UnknownNameError, match="did you mean 'W'"):
        matcalc.derive("sum(W @ x)", wrt="Ww")
    with pytest.raises(UnsupportedError, match="unknown kind"):
        matcalc.derive("sum(W @ x)", wrt="x", kind="laplacian")
    with pytest.raises(UnknownNameError):
        matcalc.derive("x : vector(n)", wrt="x")


def test_deep_networks_grow_linearly():
    def network(layers: int) -> str:
        lines = ["x : vector(n)", "y : vector(n) simplex", "h0 = x"]
        lines += [f"W{i} : matrix(n, n)" for i in range(1, layers + 1)]
        lines += [f"h{i} = tanh(W{i} @ h{i - 1})" for i in range(1, layers + 1)]
        lines.append(f"J = -sum(y * log(softmax(h{layers})))")
        return "\n".join(lines)

    sizes = {}
    for layers in (8, 16):
        results = matcalc.derive(network(layers), wrt=[f"W{i}" for i in range(1, layers + 1)])
        sizes[layers] = len(results.text)
    assert sizes[16] < 2.3 * sizes[8]
    results = matcalc.derive(network(4), wrt=["W1", "x"])
    assert all(matcalc.check(results, seed=2))


def test_deep_network_deltas_stay_a_chain():
    # One small delta a layer, however deep: never one nested expression.
    from matcalc.engine.simplify import size

    layers = 30
    lines = ["x : vector(n)", "y : vector(k) simplex", "h0 = x"]
    lines += [f"W{i} : matrix(n, n);  b{i} : vector(n)" for i in range(1, layers)]
    lines += [f"h{i} = relu(W{i} @ h{i - 1} + b{i})" for i in range(1, layers)]
    lines += ["U : matrix(k, n)", f"J = -sum(y * log(softmax(U @ h{layers - 1})))"]
    results = matcalc.derive("\n".join(lines), wrt=["W1", "U"])
    where = results[0].where
    assert len(where) >= layers - 1
    assert max(size(body) for body in where.values()) <= 20
    assert all(matcalc.check(results, seed=4, trials=1))

"""svdvals(X): the singular values, descending, of length min(m, n), which the shapes decide.

d s_i = u_i' dX v_i for distinct non-zero singular values (T. Papadopoulo & M. I. A. Lourakis,
*Estimating the Jacobian of the singular value decomposition*, ECCV 2000), so the gradient of
f(svdvals(X)) is U @ Diag(g) @ V' with the thin factors U = svd_u(X), V = svd_v(X).
"""

from __future__ import annotations

import numpy as np
import pytest

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.errors import ShapeError, UnsupportedError
from matcalc.grading.answers import answer_node
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import to_latex

TALL = "X : matrix(n + k, n)\nA : matrix(n + k, n)\nW : matrix(n, n)\nw : vector(n)\n"
GRADIENTS = [
    (TALL, "f = w' @ svdvals(X)"),
    (TALL, "f = sum(log(svdvals(X @ W)))"),
    (TALL, "f = sum(svdvals(X' + 2 * A')) ^ 2"),
    ("X : matrix(m, m + k)\n", "f = sum(svdvals(X) .^ 3)"),
    ("X : matrix(n, n)\n", "f = sum(exp(svdvals(X)))"),
    ("X : matrix(3, 5)\nv : vector(3)\n", "f = v' @ log(svdvals(X))"),
    ("X : matrix(5, 3)\n", "f = norm2(svdvals(X))"),
]


@pytest.mark.parametrize("declarations, problem", GRADIENTS, ids=[p for _, p in GRADIENTS])
def test_gradients_through_svdvals_match_finite_differences(declarations, problem):
    derivative = matcalc.derive(declarations + problem, wrt="X")
    for seed in (1, 2):
        verdict = matcalc.check(derivative, seed=seed)
        assert verdict.ok and not verdict.inconclusive, verdict


def test_the_gradient_is_the_textbook_one():
    # grad of w' s(X) = U Diag(w) V'; of sum(s(X)) = U V' (the nuclear norm's, polar(X))
    derivative = matcalc.derive(TALL + "f = w' @ svdvals(X)", wrt="X")
    assert str(derivative) == "df_dX = svd_u(X) @ Diag(w) @ svd_v(X)'"
    derivative = matcalc.derive(TALL + "f = sum(svdvals(X))", wrt="X")
    assert str(derivative) == "df_dX = svd_u(X) @ svd_v(X)'"
    instance = random_instance(derivative.program, seed=3)
    u, _, vt = np.linalg.svd(instance.arrays["X"], full_matrices=False)
    assert np.allclose(derivative.numpy()(**instance.arrays), u @ vt)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_values_are_numpy_s_descending_with_length_min(shape):
    rows, cols = shape
    program = matcalc.parse(f"X : matrix({rows}, {cols})\nF = svdvals(X)\n"
                            "U = svd_u(X)\nV = svd_v(X)")
    x = np.random.default_rng(rows * cols).normal(size=shape)
    values = {name: evaluate(program, name, X=x) for name in "FUV"}
    want = np.linalg.svd(x, compute_uv=False)
    assert np.allclose(np.ravel(values["F"]), want) and np.all(np.diff(np.ravel(values["F"])) < 0)
    assert values["U"].shape == (rows, min(shape)) and values["V"].shape == (cols, min(shape))
    assert np.allclose(values["U"] @ np.diag(want) @ values["V"].T, x)
    # the sign convention: each column of U has its entry of largest magnitude positive
    u = values["U"]
    assert np.all(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])] > 0)


def test_on_a_number_each_is_its_scalar_function():
    # svdvals(a) = abs(a), svd_u(a) = sign(a), svd_v(a) = 1: a = sign(a) abs(a) 1
    program = matcalc.parse("a : scalar\nF = svdvals(a) + svd_u(a) + svd_v(a)")
    assert np.isclose(evaluate(program, "F", a=-1.7), 1.7 - 1 + 1)


@pytest.mark.parametrize("declaration", ["matrix(m, n)", "matrix(n * k, n)", "matrix(m + 1, n)"])
def test_a_shape_that_does_not_say_which_side_is_smaller_is_refused_by_name(declaration):
    with pytest.raises(UnsupportedError, match=r"svdvals\(X\) of a .* which of .* is the smaller"):
        matcalc.parse(f"X : {declaration}\nF = svdvals(X)")
    with pytest.raises(UnsupportedError, match=r"svd_u\(X\)"):
        matcalc.parse(f"X : {declaration}\nF = svd_u(X)")


def test_the_shapes_decide_the_length():
    for declaration, length in [("matrix(n + k, n)", "n"), ("matrix(m, 2 * m + 1)", "m"),
                                ("matrix(n, n)", "n"), ("matrix(7, 2)", "2")]:
        node = matcalc.parse(f"X : {declaration}\nF = svdvals(X)").definitions["F"].body
        assert str(node.shape.rows) == length and str(node.shape.cols) == "1"
    with pytest.raises(ShapeError, match="needs a matrix"):
        matcalc.parse("x : vector(n)\nF = svdvals(x)")


@pytest.mark.parametrize("source, match", [("sum(svdvals(X + I(n)))", "repeated singular values"),
                                           ("sum(svdvals(X + ones(n, n)))", "without full rank")])
def test_gradients_where_they_do_not_exist_are_refused(source, match):
    # at X = 0: the singular values of I are repeated, 1 1' has rank one
    derivative = matcalc.derive(f"X : matrix(n, n)\nf = {source}", wrt="X")
    with pytest.raises(UnsupportedError, match=match):
        derivative.numpy(compiled=False)(X=np.zeros((3, 3)))


def test_second_derivatives_are_refused_by_name():
    with pytest.raises(UnsupportedError, match="the derivative of svd_[uv]"):
        matcalc.derive(TALL + "f = w' @ svdvals(X)", wrt="X", kind="hessian")


@pytest.mark.parametrize("source", ["svdvals(X)", "svd_u(X)", "svd_v(X)",
                                    "svd_u(X) @ Diag(svdvals(X)) @ svd_v(X)'"])
def test_text_and_latex_read_back(source):
    program = matcalc.parse(TALL)
    node = matcalc.parse(TALL + f"F = {source}").definitions["F"].body
    assert answer_node(program, str(node), False)[1] is node
    assert answer_node(program, to_latex(node), True)[1] is node


def test_jax_and_torch_code_agree_with_autodiff():
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    jax.config.update("jax_enable_x64", True)
    derivative = matcalc.derive(TALL + "f = w' @ svdvals(X)", wrt="X")
    instance = random_instance(derivative.program, seed=5)
    x, w = instance.arrays["X"], np.ravel(instance.arrays["w"])
    want = np.asarray(jax.grad(lambda a: w @ jax.numpy.linalg.svd(a, compute_uv=False))(x))
    assert np.allclose(derivative.numpy()(**instance.arrays), want, rtol=1e-8)
    for backend, wrap in (("jax", np.asarray), ("torch", torch.tensor)):
        module = load(generate([derivative], backend=backend))
        got = module.gradient(**{name: wrap(value) for name, value in instance.arrays.items()})
        got = got["X"] if isinstance(got, dict) else got
        assert np.allclose(np.asarray(got), want, rtol=1e-8), backend
    tensor = torch.tensor(x, requires_grad=True)
    (torch.tensor(w) @ torch.linalg.svdvals(tensor)).backward()
    assert np.allclose(tensor.grad.numpy(), want, rtol=1e-8)


@pytest.mark.parametrize("sizes", [{"k": -1}, {"k": 1.5}, {"k": "2"}, {"k": True}])
def test_sizes_given_are_whole_numbers_at_least_zero(sizes):
    # the length rule counts on it: matrix(m, m + k) with k = -1 would be taller than wide
    program = matcalc.parse("X : matrix(m, m + k)\nF = svdvals(X)")
    with pytest.raises(ShapeError, match="must be a whole number >= 0"):
        evaluate(program, "F", X=np.ones((3, 2)), sizes=sizes)
    with pytest.raises(ShapeError, match="must be a whole number >= 0"):
        random_instance(program, seed=1, sizes=sizes)
    assert evaluate(program, "F", X=np.eye(3, 4), sizes={"k": 1}).size == 3

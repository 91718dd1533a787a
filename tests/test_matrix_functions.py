"""Functions of a matrix: chol, eigvalsh / eigvecsh, expm / logm / sqrtm (Fréchet derivatives and
a Sylvester solve).  Every derivative is proven by finite differences (along symmetric directions
where the domain is symmetric), every printed form reads back, generated code agrees with the
interpreter, and where JAX is installed, with jax.grad of the function of the symmetrised
argument."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc
from matcalc.errors import ShapeError, UnsupportedError
from matcalc.grading.answers import answer_node
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import to_latex

DECLARE = "S : matrix(n, n) spd\nA, B, E : matrix(n, n)\nv : vector(n)\n"

# (problem, variable): scalar functions through each operation
GRADIENTS = [
    ("f = sum(log(diag(chol(S))))", "S"),                       # = logdet(S) / 2
    ("f = tr(B @ chol(S))", "S"),
    ("f = sum(chol(S @ S' + A @ A') * B)", "A"),
    ("f = sum(eigvalsh(S) .^ 3)", "S"),
    ("f = v' @ eigvalsh(S + A + A')", "A"),
    ("f = sum(eigvecsh(S) @ Diag(exp(eigvalsh(S))) @ eigvecsh(S)' * B)", "S"),
    ("f = sum(eigvecsh(S) .^ 2 * B)", "S"),
    ("f = tr(B @ expm(A))", "A"),
    ("f = v' @ expm(0.5 * A) @ v", "A"),
    ("f = tr(B @ logm(S))", "S"),
    ("f = sum(logm(S) .^ 2)", "S"),
    ("f = tr(B @ sqrtm(S))", "S"),
    ("f = sum(sqrtm(S @ S + A @ A') * B)", "A"),
    ("f = tr(B @ logm(I(n) + 0.1 * A))", "A"),                  # near the identity, not
    ("f = sum(sqrtm(I(n) + 0.1 * A) * B)", "A"),                # symmetric
    ("f = tr(B @ Phi(A))", "A"),
    ("f = sum(sym(A) .^ 3)", "A"),
]


@pytest.mark.parametrize("problem, wrt", GRADIENTS, ids=[p for p, _ in GRADIENTS])
def test_gradients_are_proven_by_finite_differences(problem, wrt):
    derivative = matcalc.derive(DECLARE + problem, wrt=wrt)
    for seed in (1, 2):
        verdict = matcalc.check(derivative, seed=seed)
        assert verdict.ok and not verdict.inconclusive, verdict


SYMMETRIC = [problem for problem, wrt in GRADIENTS if wrt == "S"]


@pytest.mark.parametrize("problem", SYMMETRIC, ids=SYMMETRIC)
def test_gradients_agree_along_symmetric_directions(problem):
    # G : E = d/dt f(S + t E) for symmetric E: the derivative where S may move, in S's domain
    derivative = matcalc.derive(DECLARE + problem, wrt="S")
    program = derivative.program
    instance = random_instance(program, seed=3)
    gradient = derivative.numpy()(**instance.arrays)
    rng = np.random.default_rng(0)
    for _ in range(3):
        e = rng.normal(size=gradient.shape)
        e = (e + e.T) / 2
        h = 1e-5

        def at(t, e=e):
            arrays = dict(instance.arrays, S=instance.arrays["S"] + t * e)
            return evaluate(program, "f", arrays, sizes=instance.sizes)

        numeric = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h)
        assert np.isclose(np.sum(gradient * e), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("problem", ["f = tr(B @ chol(S))", "f = sum(eigvalsh(S) .^ 3)",
                                     "f = sum(eigvecsh(S) .^ 3 * B)"])
def test_gradients_of_functions_of_a_symmetric_matrix_are_symmetric(problem):
    # chol, eigvalsh and eigvecsh read the symmetric part (S + S') / 2: their gradients are
    # the symmetric ones (the gradient of f(chol((S + S') / 2)))
    derivative = matcalc.derive(DECLARE + problem, wrt="S")
    instance = random_instance(derivative.program, seed=5)
    gradient = derivative.numpy()(**instance.arrays)
    assert np.allclose(gradient, gradient.T, atol=1e-12)
    assert not np.allclose(gradient, 0)


@pytest.mark.parametrize("function", ["logm", "sqrtm"])
def test_logm_and_sqrtm_keep_the_unconstrained_gradient_whose_symmetric_part_is_the_other(
        function):
    # at a symmetric S, L(S, E') = L(S, E)' for these functions of a matrix, so the gradient of
    # f(F(sym(S))) (the symmetric convention) is sym of the unconstrained one, and the two are
    # equal when the cotangent is symmetric (B + B')
    program = DECLARE + "C = B + B'\n"
    plain = matcalc.derive(program + f"f = tr(B @ {function}(S))", wrt="S")
    symmetric = matcalc.derive(program + f"f = tr(B @ {function}(sym(S)))", wrt="S")
    both = matcalc.derive(program + f"f = tr(C @ {function}(S))", wrt="S")
    instance = random_instance(plain.program, seed=4)
    gradient = plain.numpy()(**instance.arrays)
    assert not np.allclose(gradient, gradient.T)
    assert np.allclose(symmetric.numpy()(**instance.arrays), (gradient + gradient.T) / 2)
    assert np.allclose(both.numpy()(**instance.arrays), both.numpy()(**instance.arrays).T)


def test_the_eigenvalue_gradient_is_the_textbook_one():
    # d f(eigvalsh(S)) / dS = V Diag(f'(l)) V' (Magnus & Neudecker, ch. 8 thm. 7): a function
    # of the eigenvalues alone is read back as the matrix function (V Diag(exp(l)) V' = expm(S))
    derivative = matcalc.derive(DECLARE + "f = sum(exp(eigvalsh(S)))", wrt="S")
    assert str(derivative) == "df_dS = expm(S)"
    weighted = matcalc.derive(DECLARE + "f = v' @ exp(eigvalsh(S))", wrt="S")
    assert str(weighted) == "df_dS = eigvecsh(S) @ Diag(v * exp(eigvalsh(S))) @ eigvecsh(S)'"


def test_chol_values_and_the_cholesky_identity():
    program = matcalc.parse(DECLARE + "L = chol(S)")
    instance = random_instance(program, seed=1)
    value = evaluate(program, "L", instance.arrays)
    assert np.allclose(value, np.tril(value)) and np.all(np.diag(value) > 0)
    assert np.allclose(value @ value.T, instance.arrays["S"])


HESSIANS = [("f = sum(eigvalsh(S) .^ 3)", "S"), ("f = v' @ eigvalsh(S + A + A')", "A"),
            ("f = sum(log(diag(chol(S))))", "S"), ("f = tr(B @ sqrtm(S))", "S")]


@pytest.mark.parametrize("problem, wrt", HESSIANS, ids=[p for p, _ in HESSIANS])
def test_hessians_are_proven_by_finite_differences(problem, wrt):
    derivative = matcalc.derive(DECLARE + problem, wrt=wrt, kind="hessian")
    verdict = matcalc.check(derivative, seed=1)
    assert verdict.ok and not verdict.inconclusive, verdict


@pytest.mark.parametrize("function", ["expm", "logm"])
def test_jacobians_through_a_frechet_derivative_need_a_symmetric_point(function):
    # Daleckii-Krein holds at a symmetric matrix (ops/divided.py): proven there, refused by
    # name at a matrix not known symmetric
    derivative = matcalc.derive(DECLARE + f"F = {function}(S)", wrt="S", kind="jacobian")
    verdict = matcalc.check(derivative, seed=1)
    assert verdict.ok and not verdict.inconclusive, verdict
    argument = "A" if function == "expm" else "A @ A + I(n)"
    with pytest.raises(UnsupportedError, match=f"through {function}.*symmetric"):
        matcalc.derive(DECLARE + f"F = {function}({argument})", wrt="A", kind="jacobian")


def test_sqrtm_jacobian_through_the_sylvester_operator():
    derivative = matcalc.derive(DECLARE + "F = sqrtm(S)", wrt="S", kind="jacobian")
    verdict = matcalc.check(derivative, seed=1)
    assert verdict.ok and not verdict.inconclusive, verdict


@pytest.mark.parametrize("source", ["eigvecsh(I(n))", "eiggap(ones(n))"])
def test_repeated_eigenvalues_are_refused(source):
    program = matcalc.parse(f"v : vector(n)\nF = {source}")
    with pytest.raises(UnsupportedError, match="repeated eigenvalues"):
        evaluate(program, "F", v=np.ones(3))


def test_the_gradient_of_eigvalsh_at_repeated_eigenvalues_is_refused():
    derivative = matcalc.derive(DECLARE + "f = v' @ eigvalsh(S) .^ 3", wrt="S")
    with pytest.raises(UnsupportedError, match="repeated eigenvalues"):
        derivative.numpy(compiled=False)(S=np.eye(3), A=np.eye(3), B=np.eye(3), E=np.eye(3),
                                         v=np.ones(3))


@pytest.mark.parametrize("source", ["expm(v)", "chol(v')", "eigvalsh(C)", "sylvester(S, C)",
                                    "eiggap(S)"])
def test_a_function_of_a_matrix_needs_a_square_matrix(source):
    with pytest.raises(ShapeError):
        matcalc.parse(DECLARE + f"C : matrix(m, n)\nF = {source}")


def test_on_a_number_each_is_its_scalar_function():
    # a number is a 1 x 1 matrix: chol(a) = sqrt(a), expm(a) = exp(a), Phi(a) = a / 2, ...
    source = ("a : scalar positive\nF = sqrt(a) + expm(a) + logm(a) + sqrtm(a) + eigvalsh(a) + "
              "Phi(a) + sym(a) + eigvecsh(a) + sylvester(a, a) + expm_frechet(a, a) + "
              "logm_frechet(a, a)")
    program = matcalc.parse(source)
    a = 1.7
    want = (np.sqrt(a) + np.exp(a) + np.log(a) + np.sqrt(a) + a + a / 2 + a + 1 + 0.5
            + np.exp(a) * a + 1)
    assert np.isclose(evaluate(program, "F", a=a), want)
    derivative = matcalc.derive(source, wrt="a")
    verdict = matcalc.check(derivative, seed=1)
    assert verdict.ok and not verdict.inconclusive, verdict


@pytest.mark.parametrize("source, value", [
    ("logm(-I(n))", None), ("sqrtm(-S)", None), ("chol(-S)", None)])
def test_values_outside_the_domain_are_domain_errors(source, value):
    program = matcalc.parse(DECLARE + f"F = {source}")
    instance = random_instance(matcalc.parse(DECLARE + "f = tr(S)"), seed=1)
    with pytest.raises(matcalc.MatcalcError, match="not finite"):
        evaluate(program, "F", instance.arrays, sizes=instance.sizes)


def test_the_functions_agree_with_scipy():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    program = matcalc.parse(DECLARE + "X = expm(A)\nY = logm(S)\nZ = sqrtm(S)\n"
                            "W = sylvester(S, A)\nF = expm_frechet(A, B)\nG = logm_frechet(S, B)")
    instance = random_instance(program, seed=2)
    a, b, s = (instance.arrays[name] for name in "ABS")

    def value(name):
        return evaluate(program, name, instance.arrays)

    assert np.allclose(value("X"), scipy_linalg.expm(a))
    assert np.allclose(value("Y"), scipy_linalg.logm(s))
    assert np.allclose(value("Z"), scipy_linalg.sqrtm(s))
    assert np.allclose(value("W"), scipy_linalg.solve_sylvester(s, s, a))
    assert np.allclose(value("F"), scipy_linalg.expm_frechet(a, b, compute_expm=False))
    n = s.shape[0]
    block = scipy_linalg.logm(np.block([[s, b], [np.zeros((n, n)), s]]))
    assert np.allclose(value("G"), block[:n, n:])


READ_BACK = ["chol(S)", "Phi(A)", "sym(A)", "eigvalsh(S)", "eigvecsh(S)", "eiggap(v)", "expm(A)",
             "logm(S)", "sqrtm(S)", "expm_frechet(A, E)", "logm_frechet(S, E)",
             "sylvester(S, E)", "chol(S) @ Phi(inv(chol(S)) @ E @ inv(chol(S))')",
             "eigvecsh(S) @ Diag(eigvalsh(S)) @ eigvecsh(S)'"]


@pytest.mark.parametrize("source", READ_BACK)
def test_text_and_latex_read_back(source):
    program = matcalc.parse(DECLARE)
    node = matcalc.parse(DECLARE + f"F = {source}").definitions["F"].body
    assert answer_node(program, str(node), False)[1] is node
    assert answer_node(program, to_latex(node), True)[1] is node


@pytest.mark.parametrize("problem, wrt", GRADIENTS[::2], ids=[p for p, _ in GRADIENTS[::2]])
def test_generated_code_agrees_with_the_interpreter(problem, wrt):
    derivative = matcalc.derive(DECLARE + problem, wrt=wrt)
    instance = random_instance(derivative.program, seed=6)
    want = derivative.numpy(compiled=False)(**instance.arrays)
    assert np.allclose(derivative.numpy()(**instance.arrays), want, rtol=1e-9, atol=1e-12)


def test_jax_agrees_with_jax_grad_of_the_symmetrised_function():
    # the symmetric convention: jax.grad of f(chol((S + S') / 2)) (and eigh's), and the JAX
    # code matcalc generates
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    from matcalc.codegen.module import generate, load

    cases = {
        "f = tr(B @ chol(S))": lambda s, b: jnp.trace(b @ jnp.linalg.cholesky((s + s.T) / 2)),
        "f = sum(eigvalsh(S) .^ 3)": lambda s, b: jnp.sum(jnp.linalg.eigvalsh((s + s.T) / 2) ** 3),
        "f = tr(B @ expm(S))": lambda s, b: jnp.trace(b @ jax.scipy.linalg.expm(s)),
    }
    for problem, function in cases.items():
        derivative = matcalc.derive(DECLARE + problem, wrt="S")
        instance = random_instance(derivative.program, seed=7)
        s, b = instance.arrays["S"], instance.arrays["B"]
        want = np.asarray(jax.grad(function)(s, b))
        assert np.allclose(derivative.numpy()(**instance.arrays), want, rtol=1e-7), problem
        module = load(generate([derivative], backend="jax"))
        got = module.gradient(**instance.arrays)
        got = got["S"] if isinstance(got, dict) else got
        assert np.allclose(np.asarray(got), want, rtol=1e-7), problem


def test_the_gp_likelihood_through_chol_is_the_closed_form():
    # sym(inv(L)' Phi(L' Lbar) inv(L)) = (inv(K) - inv(K) y y' inv(K)) / 2 (Rasmussen &
    # Williams eq. 5.9): the gradient through the Cholesky factor is the textbook one
    import pathlib

    source = pathlib.Path("derivations/gp_marginal_likelihood_chol.mc").read_text()
    derivative = matcalc.derive(source)
    for seed in (1, 2, 3):
        instance = random_instance(derivative.program, seed=seed)
        k, y = instance.arrays["K"], instance.arrays["y"]
        alpha = np.linalg.solve(k, y)
        want = 0.5 * (np.linalg.inv(k) - np.outer(alpha, alpha))
        for compiled in (True, False):
            got = derivative.numpy(compiled=compiled)(**instance.arrays)
            assert np.allclose(got, want, rtol=1e-9, atol=1e-12)


def test_generated_code_uses_triangular_structure_for_the_gp_likelihood():
    import pathlib

    source = pathlib.Path("derivations/gp_marginal_likelihood_chol.mc").read_text()
    code = matcalc.derive(source).code()
    body = code[code.index("def value_and_gradient("):]
    # (inv(K) - inv(L)' @ a @ y' @ inv(K)) / 2: inv(L) is only multiplied by (triangular
    # solves, never formed); inv(K) is a value, computed from L by LAPACK's potri (no LU)
    assert "_inv_triangular" not in body and "linalg.inv" not in body
    assert "_inv_cholesky(L)" in body and "_solve_triangular(L, y, True)" in body
    assert "_triangular_product" not in body and "np.diagflat" not in body


def test_the_gp_likelihood_in_jax_agrees_with_numpy():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import pathlib

    from matcalc.codegen.module import generate, load

    source = pathlib.Path("derivations/gp_marginal_likelihood_chol.mc").read_text()
    derivative = matcalc.derive(source)
    module = load(generate([derivative], backend="jax"))
    instance = random_instance(derivative.program, seed=4)
    for function in (module.gradient, jax.jit(module.gradient)):
        got = function(**instance.arrays)
        got = np.asarray(got["K"] if isinstance(got, dict) else got)
        assert np.allclose(got, derivative.numpy()(**instance.arrays), rtol=1e-9)


# -- norms from the SVD (matcalc/ops/svd.py) -------------------------------------------------

SVD = "X, B : matrix(m, n)\nW : matrix(n, n)\n"
SVD_GRADIENTS = ["f = norm_spec(X)", "f = norm_nuc(X)", "f = norm_spec(X @ W) ^ 2",
                 "f = norm_nuc(X * B) + sum(X)"]


@pytest.mark.parametrize("problem", SVD_GRADIENTS)
def test_svd_norm_gradients_are_proven_by_finite_differences(problem):
    derivative = matcalc.derive(SVD + problem, wrt="X")
    for seed in (1, 2):
        verdict = matcalc.check(derivative, seed=seed)
        assert verdict.ok and not verdict.inconclusive, verdict


def test_svd_norm_gradients_are_the_textbook_ones():
    # d ||X||_2 = u1' dX v1, d ||X||_* = (U V') : dX (Papadopoulo & Lourakis 2000; Watson 1992)
    assert str(matcalc.derive(SVD + "f = norm_spec(X)", wrt="X")) == \
        "df_dX = svd_u1(X) @ svd_v1(X)'"
    derivative = matcalc.derive(SVD + "f = norm_nuc(X)", wrt="X")
    assert str(derivative) == "df_dX = polar(X)"
    instance = random_instance(derivative.program, seed=3)
    u, _, vt = np.linalg.svd(instance.arrays["X"], full_matrices=False)
    assert np.allclose(derivative.numpy()(**instance.arrays), u @ vt)


@pytest.mark.parametrize("source, match", [
    ("norm_spec(X + I(n))", "repeated largest singular value"),
    ("norm_nuc(X + ones(n, n))", "without full rank")])
def test_svd_norm_gradients_where_they_do_not_exist_are_refused(source, match):
    # the gradient of ||X||_2 at a repeated largest singular value (I), of ||X||_* at a matrix
    # without full rank (1 1')
    derivative = matcalc.derive(f"X : matrix(n, n)\nf = {source}", wrt="X")
    with pytest.raises(UnsupportedError, match=match):
        derivative.numpy(compiled=False)(X=np.zeros((3, 3)))


def test_second_derivatives_of_svd_norms_are_refused_by_name():
    for problem in ("f = norm_spec(X)", "f = svd_u1(X)' @ B @ svd_v1(X)"):
        with pytest.raises(UnsupportedError, match="the derivative of svd_[uv]1"):
            matcalc.derive(SVD + problem, wrt="X", kind="hessian" if "spec" in problem else
                           "grad")
    with pytest.raises(UnsupportedError, match="the derivative of polar"):
        matcalc.derive(SVD + "f = norm_nuc(X)", wrt="X", kind="hessian")


@pytest.mark.parametrize("source", ["norm_spec(X)", "norm_nuc(X)", "svd_u1(X)", "svd_v1(X)",
                                    "polar(X)", "norm_nuc(X) ^ 2 + norm_spec(X)"])
def test_svd_norms_read_back(source):
    program = matcalc.parse(SVD)
    node = matcalc.parse(SVD + f"F = {source}").definitions["F"].body
    assert answer_node(program, str(node), False)[1] is node
    assert answer_node(program, to_latex(node), True)[1] is node


def test_norms_in_latex_say_which():
    program = matcalc.parse(SVD)
    assert answer_node(program, r"\|X\|_*", True)[1].op == "norm_nuc"
    assert answer_node(program, r"\|X\|_{*}", True)[1].op == "norm_nuc"
    assert answer_node(program, r"\|X\|_2", True)[1].op == "norm_spec"
    assert answer_node(program, r"\|X\|_F", True)[1].op == "norm"
    with pytest.raises(UnsupportedError, match="say which norm"):
        answer_node(program, r"\|X\|", True)


def test_svd_norms_in_jax_agree_with_jax_grad():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from matcalc.codegen.module import generate, load

    jnp = jax.numpy
    cases = {"f = norm_nuc(X)": lambda x: jnp.linalg.norm(x, "nuc"),
             "f = norm_spec(X)": lambda x: jnp.linalg.norm(x, 2)}
    for problem, function in cases.items():
        derivative = matcalc.derive(SVD + problem, wrt="X")
        instance = random_instance(derivative.program, seed=8)
        want = np.asarray(jax.grad(function)(instance.arrays["X"]))
        assert np.allclose(derivative.numpy()(**instance.arrays), want, rtol=1e-8)
        got = load(generate([derivative], backend="jax")).gradient(**instance.arrays)
        got = got["X"] if isinstance(got, dict) else got
        assert np.allclose(np.asarray(got), want, rtol=1e-8), problem


# -- random expressions through each function of a matrix -----------------------------------

from helpers import program, proven_through  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import any_node, spd_node  # noqa: E402

from matcalc.core import ir  # noqa: E402
from matcalc.core.shapes import Kind  # noqa: E402

BASE = program("base = a")
SPD_ARGUMENT = ("chol", "eigvalsh", "eigvecsh", "logm", "sqrtm")


@st.composite
def through_a_matrix_function(draw):
    """op(e): e a random spd expression (chol, the eigenproblem, logm, sqrtm), a random square
    one scaled down (expm) or not (svdvals: square, so the shapes say which side is smaller),
    or any matrix (the SVD norms)."""
    variables = BASE.variables
    op = draw(st.sampled_from(SPD_ARGUMENT + ("expm", "norm_spec", "norm_nuc", "sym", "Phi",
                                              "svdvals")))
    if op in SPD_ARGUMENT:
        inner = spd_node(variables, draw, 2)
    else:
        inner = any_node(variables, draw, 2)
        square = inner.kind is Kind.MATRIX and inner.shape.rows is inner.shape.cols
        if op in ("norm_spec", "norm_nuc") and inner.kind is not Kind.MATRIX:
            inner = variables["C"]
        elif op not in ("norm_spec", "norm_nuc") and not square:
            inner = variables["A"]
        if op == "expm":
            inner = ir.apply("tanh", inner)
    return ir.apply(op, inner)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(through_a_matrix_function())
def test_random_expressions_through_matrix_functions_match_finite_differences(node):
    # sum(sin(op(e))): the gradient with respect to every variable of e
    proven_through(BASE, node)


@pytest.mark.parametrize("power, halves, written", [
    ("S ^ 0.5", 1, "sqrtm(S)"), ("S ^ (1/2)", 1, "sqrtm(S)"), ("S ^ -0.5", -1, "inv(sqrtm(S))"),
    ("S ^ 1.5", 3, "sqrtm(S) ^ 3"), ("S ^ (-3/2)", -3, "inv(sqrtm(S)) ^ 3"),
])
def test_a_half_power_of_a_matrix_is_a_power_of_its_square_root(power, halves, written):
    declared = "S : matrix(n, n) spd\nx : vector(n)\n"
    program = matcalc.parse(declared + f"F = {power}\nf = x' @ F @ x + tr(F)")
    assert str(program.definitions["F"].body) == written
    point = random_instance(program, seed=3)
    values, vectors = np.linalg.eigh(point.arrays["S"])
    expected = vectors @ np.diag(values ** (halves / 2)) @ vectors.T
    np.testing.assert_allclose(evaluate(program, "F", point.arrays), expected, rtol=1e-9)
    derived = matcalc.derive(declared + f"f = x' @ {power} @ x + tr({power})", wrt=["S", "x"],
                             check=False)
    assert all(report.ok for report in matcalc.check(derived, seed=4))


def test_an_answer_with_an_inverse_square_root_reads_as_one():
    problem = "S : matrix(n, n) spd\nf = tr(sqrtm(S))"
    assert matcalc.verify(problem, "S", r"\frac{1}{2} S^{-1/2}").ok
    assert not matcalc.verify(problem, "S", r"\frac{1}{2} S^{1/2}").ok

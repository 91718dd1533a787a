"""The inverse of a symmetric positive (semi)definite matrix in generated code: through its
Cholesky factor (LAPACK potrf + potri in NumPy, cho_solve in JAX, cholesky_inverse in PyTorch),
the factor reused where the code computes chol(S), never an LU inverse; which matrices are
semidefinite is proven from their form (rules/definite.py) and checked against eigenvalues."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import assert_generated_code_matches

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.derive import Derivatives
from matcalc.engine.pipeline import facts_for
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.rules.definite import semidefinite

DECLARED = ("S, T : matrix(n, n) spd\nP : matrix(n, n) symmetric\nA : matrix(n, n)\n"
            "X : matrix(m, n)\nv : vector(n)\nc : scalar\nlam : scalar positive\n")

SEMIDEFINITE = [  # (a form, whether its form shows it semidefinite)
    ("S", True), ("I(n)", True), ("Diag(exp(v))", True), ("X' @ X", True), ("v @ v'", True),
    ("A' @ S @ A", True), ("A @ (S + T) @ A'", True), ("X' @ X + lam * I(n)", True),
    ("S / lam", True), ("2 * S", True), ("S * T", True), ("expm(P)", True),
    ("sqrtm(S)", True), ("inv(S)", True), ("sym(S)", True), ("chol(S) @ chol(S)'", True),
    ("A' @ (X' @ X) @ A + S", True), ("c ^ 2 * S", True),
    ("P", False), ("A + A'", False), ("X' @ X - I(n)", False), ("-S", False),
    ("c * S", False), ("S / c", False), ("Diag(v)", False), ("logm(S)", False),
    ("A @ A", False), ("lam / S", False), ("S - T", False), ("A' @ P @ A", False),
    ("expm(A)", False), ("S @ T", False),
]


@pytest.mark.parametrize("form, expected", SEMIDEFINITE, ids=[s[0] for s in SEMIDEFINITE])
def test_semidefinite_forms_are_proven_and_sound(form, expected):
    program = matcalc.parse(DECLARED + f"f = {form}")
    assert semidefinite(program.definitions["f"].body, facts_for(program)) is expected
    if expected:  # sound: symmetric with eigenvalues >= 0 at random points
        for seed in (1, 2):
            instance = random_instance(program, seed=seed)
            value = np.asarray(evaluate(program, "f", instance.arrays, sizes=instance.sizes))
            np.testing.assert_allclose(value, value.T, atol=1e-9)
            assert np.linalg.eigvalsh(value).min() >= -1e-9 * max(1, np.abs(value).max())


def _functions(code: str) -> str:
    """The generated module's own functions (its helpers left out)."""
    return code[min(code.index(f"\ndef {name}(") for name in
                    ("prepare", "value_and_gradient", "gradient") if f"def {name}(" in code):]


PROBLEMS = [  # (problem, wrt, the call the code must make); each forms the inverse as a value
    ("S : matrix(n, n) spd\nx, mu : vector(n)\n"
     "f = logdet(S) / 2 + (x - mu)' @ inv(S) @ (x - mu) / 2", "S", "_inv_spd(S)"),
    ("X : matrix(m, n)\nlam : scalar positive\nf = logdet(X' @ X + lam * I(n))", "lam",
     "_inv_spd("),
    ("S : matrix(n, n) spd\nC : matrix(n, n)\nL = chol(S)\n"
     "f = sum(log(diag(L))) + tr(C @ inv(S))", "C", "_inv_cholesky(_h1)"),
    ("S : matrix(n, n) spd\nC : matrix(n, n)\nL = chol(S)\n"
     "f = sum(log(diag(L))) + tr(C @ inv(S))", "S", "_inv_cholesky(L)"),
    ("S, C : matrix(n, n) spd\nlam : scalar positive\n"
     "J = tr(C @ S) - logdet(S) + lam * norm_spec(S)", "S", "_inv_spd(S)"),
]


@pytest.mark.parametrize("problem, wrt, call", PROBLEMS, ids=[p[1] + " " + p[2] for p in PROBLEMS])
def test_an_spd_inverse_goes_through_cholesky_and_agrees_with_the_interpreter(problem, wrt,
                                                                              call):
    derivative = matcalc.derive(problem, wrt=wrt)
    code = generate([derivative], backend="numpy")
    functions = _functions(code)
    assert call in functions and not re.search(r"linalg\.inv\(", functions), functions
    for seed in (1, 2):
        assert_generated_code_matches(Derivatives([derivative]), "numpy", seed=seed)


SOLVES = [  # (problem, wrt): inverses only multiplied by, solved through Cholesky
    ("S : matrix(n, n) spd\nx, mu : vector(n)\nf = (x - mu)' @ inv(S) @ (x - mu) / 2", "x"),
    ("X : matrix(m, n)\nf = logdet(X' @ X)", "X"),
    ("X : matrix(m, n)\ny : vector(m)\nlam : scalar positive\n"
     "f = y' @ X @ inv(X' @ X + lam * I(n)) @ X' @ y", "y"),
]


@pytest.mark.parametrize("problem, wrt", SOLVES, ids=[p[1] + " " + p[0][-30:] for p in SOLVES])
def test_a_solve_with_an_spd_matrix_goes_through_cholesky(problem, wrt):
    derivative = matcalc.derive(problem, wrt=wrt)
    code = generate([derivative], backend="numpy")
    functions = _functions(code)
    assert "_solve_spd(" in functions and "linalg.solve(" not in functions, functions
    for seed in (1, 2):
        assert_generated_code_matches(Derivatives([derivative]), "numpy", seed=seed)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_an_spd_inverse_in_jax_and_torch_agrees_with_numpy(backend):
    for problem, wrt in [p[:2] for p in PROBLEMS] + SOLVES:
        assert_generated_code_matches(Derivatives([matcalc.derive(problem, wrt=wrt)]), backend)


def test_a_matrix_not_known_semidefinite_keeps_its_lu_inverse():
    derivative = matcalc.derive("P : matrix(n, n) symmetric\nC : matrix(n, n)\n"
                                "f = tr(C @ inv(P))", wrt="C")
    code = generate([derivative], backend="numpy")
    assert "_inv_spd" not in code and "_np.linalg.inv(P)" in code


def _helpers():
    derivative = matcalc.derive(PROBLEMS[0][0], wrt="S")
    return load(generate([derivative], backend="numpy"))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_cholesky_inverse_is_symmetric_and_keeps_the_dtype(dtype):
    module = _helpers()
    rng = np.random.default_rng(4)
    a = rng.normal(size=(6, 6))
    s = (a @ a.T + 6 * np.eye(6)).astype(dtype)
    got = module._inv_spd(s)
    assert got.dtype == dtype and np.array_equal(got, got.T)
    tolerance = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(got, np.linalg.inv(s.astype(np.float64)), rtol=tolerance,
                               atol=tolerance)


def test_a_matrix_that_is_not_positive_definite_falls_back_to_the_lu_inverse():
    # values outside the declaration (an indefinite symmetric matrix passed for an spd one):
    # the code computes the inverse (and solves) all the same, never another matrix's
    module = _helpers()
    indefinite = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.5], [0.0, 0.5, -3.0]])
    np.testing.assert_allclose(module._inv_spd(indefinite), np.linalg.inv(indefinite),
                               rtol=1e-12)
    solver = load(generate([matcalc.derive(*SOLVES[0])], backend="numpy"))._solve_spd
    right = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(solver(indefinite, right), np.linalg.solve(indefinite, right),
                               rtol=1e-12)

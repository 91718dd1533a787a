"""Functions of a symmetric matrix read back as the function a book prints.

A spectral decomposition V Diag(g(l)) V' is g(S); a Fréchet derivative in a direction that
commutes with its point is f'(A) E (sylvester(R, E) = inv(R) E / 2); Murray's Phi of a
triangular argument keeps its diagonal, and of a symmetric one it is half the argument once
symmetrised.  Every result is proven by finite differences, read back from its text and its
LaTeX, and computed alike by the generated code and the interpreter.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_textbook_forms import simplified, simplified_node

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.core.ir import walk
from matcalc.engine.pipeline import facts_for
from matcalc.engine.simplify import Simplifier
from matcalc.grading.answers import answer_node
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import to_latex

SPD = "S : matrix(n, n) spd\nA : matrix(n, n)\nX : matrix(n, m)\nx : vector(n)\nc : scalar\n"

# (function, variable, the book's gradient): the public instances and more of each class
GRADIENTS = [
    # V Diag(g(l)) V' = g(S), l = eigvalsh(S), V = eigvecsh(S)
    ("f = sum(eigvalsh(S) .^ 2)", "S", "2 * S"),
    ("f = sum(log(eigvalsh(S)))", "S", "inv(S)"),
    ("f = sum(exp(eigvalsh(S)))", "S", "expm(S)"),
    ("f = sum(eigvalsh(S) .^ 3)", "S", "3 * S ^ 2"),
    ("f = sum(eigvalsh(S))", "S", "I(n)"),
    ("f = sum(sqrt(eigvalsh(S)))", "S", "1/2 * inv(sqrtm(S))"),
    ("f = sum(eigvalsh(S) * log(eigvalsh(S)))", "S", "logm(S) + I"),
    ("f = sum(1 / eigvalsh(S))", "S", "-inv(S ^ 2)"),
    ("f = sum(eigvalsh(S) .^ -0.5)", "S", "-1/2 * inv(sqrtm(S) ^ 3)"),
    ("f = sum(exp(c * eigvalsh(S)))", "S", "c * expm(c * S)"),
    ("f = sum(log(eigvalsh(S)) .^ 2)", "S", "2 * logm(S) @ inv(S)"),
    ("f = sum(exp(eigvalsh(A)))", "A", "expm(sym(A))"),
    ("f = sum(eigvalsh(X @ X') .^ 2)", "X", "4 * X @ X' @ X"),
    ("M = X @ X' + S\nf = sum(log(eigvalsh(M)))", "X", "2 * inv(M) @ X"),
    # Fréchet derivatives in a commuting direction
    ("f = tr(sqrtm(S))", "S", "inv(sqrtm(S)) / 2"),
    ("f = -tr(S @ logm(S))", "S", "-logm(S) - I"),
    ("f = tr(logm(S))", "S", "inv(S)"),
    ("f = tr(expm(S))", "S", "expm(S)"),
    ("f = tr(expm(A))", "A", "expm(A')"),
    ("f = tr(sqrtm(S) @ sqrtm(S))", "S", "I(n)"),
    ("f = tr(expm(2 * S))", "S", "2 * expm(2 * S)"),
    ("f = tr(logm(S) @ logm(S))", "S", "2 * inv(S) @ logm(S)"),
    ("f = tr(logm(S @ S))", "S", "2 * inv(S)"),
    ("f = tr(expm(S) @ expm(S))", "S", "2 * expm(S) ^ 2"),
    # the Cholesky factor's backward pass (Murray 2016)
    ("f = 2 * sum(log(diag(chol(S))))", "S", "inv(S)"),
    ("f = sum(log(diag(chol(S))))", "S", "inv(S) / 2"),
    ("f = sum(chol(S) .^ 2)", "S", "I(n)"),
    ("f = tr(chol(S) @ chol(S)')", "S", "I(n)"),
    ("f = sum(log(diag(chol(2 * S))))", "S", "inv(2 * S)"),
    ("f = 2 * sum(log(diag(chol(S + X @ X'))))", "X", "2 * inv(S + X @ X') @ X"),
    # Murray's backward pass sym(inv(L)' Phi(L' Lbar) inv(L)) of a symmetric or triangular
    # L' Lbar: Rasmussen & Williams' (inv(K) - alpha alpha') / 2 (2006, eq. 5.9) and its kin
    ("L = chol(S)\na = inv(L) @ x\nf = a' @ a / 2 + sum(log(diag(L)))", "S",
     "(inv(S) - inv(L)' @ a @ x' @ inv(S)) / 2"),
    ("L = chol(S)\nf = sum((inv(L) @ X) .^ 2)", "S", "-(inv(S) @ X @ X' @ inv(S))"),
    ("L = chol(S)\nf = x' @ L @ L' @ x", "S", "x @ x'"),
    ("L = chol(S)\nf = sum((L' @ X) .^ 2)", "S", "X @ X'"),
    ("L = chol(S)\nf = sum(log(diag(L))) - c * sum((inv(L) @ x) .^ 2)", "S",
     "c * inv(S) @ x @ x' @ inv(S) + inv(S) / 2"),
]


def _derived(problem: str, wrt: str):
    derivative = matcalc.derive(SPD + problem, wrt=wrt)
    verdict = matcalc.check(derivative, seed=1)
    assert verdict.ok and not verdict.inconclusive, verdict
    return derivative


@pytest.mark.parametrize("problem, wrt, book", GRADIENTS, ids=[g[0] for g in GRADIENTS])
def test_the_gradient_is_the_books_and_is_proven(problem, wrt, book):
    derivative = _derived(problem, wrt)
    assert derivative.text.splitlines()[-1] == f"df_d{wrt} = {book}"
    # no eigenvectors, Fréchet operators or Phi are left
    assert not {"eigvecsh", "sylvester", "expm_frechet", "logm_frechet", "Phi"} & \
        {node.op for node in walk(derivative.result)}
    # the generated code computes what the interpreter does
    instance = random_instance(derivative.program, seed=3)
    want = derivative.numpy(compiled=False)(**instance.arrays)
    np.testing.assert_allclose(derivative.numpy()(**instance.arrays), want, rtol=1e-8,
                               atol=1e-10)
    # read back from its text and its LaTeX (-1/2 * M reads as -(1/2 * M): the same values)
    node, program = derivative.result, derivative.program
    for printed, latex in ((str(node), False), (to_latex(node), True)):
        read = answer_node(program, printed, latex)[1]
        assert read is node or np.allclose(
            evaluate(program.extended({"g": read}), "g", instance.arrays,
                     sizes=instance.sizes), want, rtol=1e-10, atol=1e-12), printed


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_jax_and_torch_code_of_the_book_forms_agree(backend):
    pytest.importorskip(backend)
    if backend == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
    wrap = np.asarray if backend == "jax" else __import__("torch").tensor
    for problem, wrt in (("f = sum(eigvalsh(S) * log(eigvalsh(S)))", "S"),
                         ("f = -tr(S @ logm(S))", "S"), ("f = tr(sqrtm(S))", "S"),
                         ("f = 2 * sum(log(diag(chol(S))))", "S")):
        derivative = matcalc.derive(SPD + problem, wrt=wrt)
        instance = random_instance(derivative.program, seed=4)
        module = load(generate([derivative], backend=backend))
        got = module.gradient(**{k: wrap(v) for k, v in instance.arrays.items()})
        got = got[wrt] if isinstance(got, dict) else got
        np.testing.assert_allclose(np.asarray(got), derivative.numpy()(**instance.arrays),
                                   rtol=1e-8, atol=1e-10)


# forms the rules must leave alone: g depends on more than the eigenvalues, a direction that
# does not commute with the point, Phi of a lower triangle or of a matrix of no structure
UNCHANGED = [
    "eigvecsh(S) @ Diag(x * eigvalsh(S)) @ eigvecsh(S)'",
    "eigvecsh(S) @ Diag(tanh(eigvalsh(S))) @ eigvecsh(S)'",
    "eigvecsh(S)' @ Diag(eigvalsh(S)) @ eigvecsh(S)",
    "eigvecsh(S) @ Diag(eigvalsh(P)) @ eigvecsh(S)'",
    "logm_frechet(P, A)",
    "logm_frechet(P, S)",
    "expm_frechet(A, A')",
    "expm_frechet(A, Diag(x))",
    "sylvester(P, S)",
    "sylvester(P, A @ P)",
    "Phi(chol(P))",
    "Phi(A)",
    "sym(A)",
    "sym(A' @ Phi(A) @ A)",
    "sym(A' @ Phi(P + A) @ A)",
    "sym(inv(chol(P))' @ Phi(chol(P)' @ A) @ inv(chol(P)))",
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_what_the_identities_do_not_cover_is_left(text):
    kept = {op for op in ("eigvecsh", "logm_frechet", "expm_frechet", "sylvester", "Phi", "sym")
            if op + "(" in text}
    assert kept <= {node.op for node in walk(simplified_node(text))}, simplified(text)


@pytest.mark.parametrize("a, b, commute", [
    ("P", "inv(P)", True), ("P", "2 * P @ P - I(n)", True), ("sqrtm(P)'", "P", True),
    ("expm(A)", "A @ A + 3 * A", True), ("Diag(x)", "inv(Diag(exp(x)))", True),
    ("A", "I(n) / c", True), ("A", "A'", False), ("P", "A", False), ("P", "P * P", False),
    ("Diag(x)", "P", False), ("logm(P)", "S", False), ("P", "P + 1", False),
    ("P", "1 / P", False), ("Diag(x)", "Diag(x) + 1", False), ("Diag(x)", "1 / Diag(x)", False),
])
def test_commuting_is_proven_from_structure(a, b, commute):
    from helpers import point, program, value

    prog = program(f"f = {a}\ng = {b}")
    facts = facts_for(prog)
    assert facts.commutes(prog.definitions["f"].body, prog.definitions["g"].body) is commute
    if commute:  # and sound: the two products agree at a random point
        arrays = point(1)
        first, second = value(a, arrays), value(b, arrays)
        np.testing.assert_allclose(first @ second, second @ first, rtol=1e-9, atol=1e-9)


@st.composite
def eigenvalue_function(draw, depth: int = 3) -> str:
    """An elementwise function of the eigenvalues (written L) with a matrix counterpart."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(("L", "L", "2", "c", "ones(n)")))
    inner, other = draw(eigenvalue_function(depth - 1)), draw(eigenvalue_function(depth - 1))
    form = draw(st.sampled_from(("{0} + {1}", "{0} - {1}", "{0} * {1}", "{0} / (1 + L .^ 2)",
                                 "exp({0} / 4)", "log(1 + L .^ 2)", "sqrt(L)", "L .^ 3",
                                 "L .^ -1.5", "-{0}")))
    return "(" + form.format(inner, other) + ")"


@settings(max_examples=25, deadline=None)
@given(eigenvalue_function())
def test_a_spectral_decomposition_is_read_back_as_its_matrix_function(g):
    values = "ones(n) * " + g.replace("L", "eigvalsh(P)")
    prog = matcalc.parse(f"P : matrix(n, n) spd\nc : scalar\nf = eigvecsh(P) @ Diag({values}) @ "
                         "eigvecsh(P)'")
    node = Simplifier(facts_for(prog))(prog.definitions["f"].body)
    assert "eigvecsh" not in {item.op for item in walk(node)}, (g, str(node))
    extended = prog.extended({"g": node})
    instance = random_instance(extended, seed=2)
    np.testing.assert_allclose(evaluate(extended, "g", instance.arrays, sizes=instance.sizes),
                               evaluate(extended, "f", instance.arrays, sizes=instance.sizes),
                               rtol=1e-8, atol=1e-9)


def test_a_hessian_differentiates_the_matrix_function_again():
    # the gradient expm(S) is differentiated through expm's divided differences (ops/divided.py;
    # no eigenvalue gaps, which the eigenvectors' own derivative divides by); polynomials are
    # written as such
    derivative = matcalc.derive(SPD + "f = sum(exp(eigvalsh(S)))", wrt="S", kind="hessian")
    assert "expm_divdiff" in derivative.text and "eiggap" not in derivative.text
    assert matcalc.check(derivative, seed=1).ok
    squares = matcalc.derive(SPD + "f = sum(eigvalsh(S + x @ x') .^ 2)", wrt="x",
                             kind="hessian")
    assert "eigvecsh" not in squares.text and matcalc.check(squares, seed=1).ok


def test_a_spectral_form_is_defined_at_repeated_eigenvalues():
    # V Diag(3 l^2) V' needed distinct eigenvalues to evaluate; 3 S^2 does not
    derivative = matcalc.derive(SPD + "f = sum(eigvalsh(S) .^ 3)", wrt="S")
    eye = np.eye(3)
    np.testing.assert_allclose(derivative.numpy(compiled=False)(S=eye, A=eye, X=eye, x=eye[0],
                                                                c=1.0), 3 * eye)

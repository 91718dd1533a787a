"""Generated code never forms an inverse that is only multiplied by: inv(A) @ B, B @ inv(A) and
their transposes are solves (triangular ones for triangular A), products with vectors are
associated from the vectors, and A @ (Diag(v) - R) with R of rank one is O(n^2)
(codegen/solves.py; N. J. Higham, Accuracy and Stability of Numerical Algorithms, sec. 14.1).
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.codegen.solves import solved_inverses
from matcalc.core.ir import walk
from matcalc.derive import Derivatives
from matcalc.numeric.sampling import random_instance

GALLERY = sorted((pathlib.Path(__file__).resolve().parent.parent / "derivations").glob("*.mc"))
INVERSE = re.compile(r"linalg\.inv\(|_inv_triangular\(|_inv_spd\(|_inv_cholesky\(")


def formed_inverses(code: str) -> list[str]:
    """The inverses computed by the generated module's own functions (helpers left out)."""
    functions = [part for part in re.split(r"\n(?=def )", code)
                 if part.startswith("def ") and not part.startswith("def _")]
    return [found for function in functions for found in INVERSE.findall(function)]


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.name)
def test_gallery_code_forms_an_inverse_only_where_its_value_is_needed(path):
    derived = matcalc.derive(path.read_text())
    results = list(derived) if isinstance(derived, Derivatives) else [derived]
    program = results[0].program
    roots = [r.result for r in results] + [d.body for d in program.definitions.values()] + \
        [body for r in results for body in r.where.values()]  # Q1 = inv(S): a value
    inverses = {n for root in roots for n in walk(root) if n.op == "inv" and not n.is_scalar}
    needed = inverses - solved_inverses(roots)
    formed = formed_inverses(generate(derived, backend="numpy"))
    # an inverse used as a value (inv(X)' * D, -inv(S) + C) is computed; one only multiplied by
    # never is
    assert bool(formed) == bool(needed), (path.name, formed, needed)


CASES = [  # (problem, wrt, what the code must call)
    ("X : matrix(n, n) invertible\na, b : vector(n)\nf = a' @ inv(X) @ b", "X",
     "_np.linalg.solve(X.T, a)"),
    ("X : matrix(m, n)\nf = logdet(X' @ X)", "X", "_solve_spd("),
    ("T : matrix(n, n) lower\nM : matrix(n, n)\ny : vector(n)\n"
     "f = y' @ inv(T)' @ M @ inv(T) @ y", "M", "_solve_triangular(T, y, True)"),
    ("T : matrix(n, n) lower\nM : matrix(n, n)\ny : vector(n)\n"
     "f = y' @ inv(T)' @ M @ inv(T) @ y", "y", "_solved_congruence(T, "),
    ("A : matrix(n, n) invertible\nB : matrix(n, n)\nf = sum(B @ inv(A))", "B",
     "_np.linalg.solve("),
    ("A : matrix(n, n) invertible\nB : matrix(n, n)\nf = sum(B @ inv(A))", "A",
     "_np.linalg.solve("),
    ("S : matrix(n, n) spd\ny : vector(n)\nL = chol(S)\nf = sum(inv(L)' @ Diag(y) @ inv(L))",
     "y", "_solve_triangular("),
]


@pytest.mark.parametrize("problem, wrt, call", CASES, ids=[f"{p[-30:]} wrt {w}" for p, w, _ in
                                                           CASES])
def test_products_with_inverses_are_solves_and_agree_with_the_interpreter(problem, wrt, call):
    derivative = matcalc.derive(problem, wrt=wrt)
    code = derivative.code()
    assert not formed_inverses(code) and call in code
    for seed in (1, 2):
        instance = random_instance(derivative.program, seed=seed)
        assert np.allclose(derivative.numpy()(**instance.arrays),
                           derivative.numpy(compiled=False)(**instance.arrays), rtol=1e-9)


def test_a_product_with_diagonal_plus_rank_one_is_not_a_matrix_product():
    # L' @ (Diag(d) - u @ v') = L' * d' - (L' @ u) @ v': O(n^2), no n x n product
    derivative = matcalc.derive("L : matrix(n, n) lower\nd, u, v : vector(n)\n"
                                "J = sum(L' @ (Diag(d) - u @ v'))", wrt="d")
    code = derivative.code()
    body = code[code.index("def value_and_gradient("):code.index("def gradient(")]
    assert "_triangular_product" not in body and "(_t1 * d.T)" in body
    module = load(code)
    instance = random_instance(derivative.program, seed=3)
    lower, d, u, v = (np.asarray(instance.arrays[name]) for name in "Lduv")
    value, _ = module.value_and_gradient(**instance.arrays)
    assert np.isclose(value, np.sum(lower.T @ (np.diag(d) - np.outer(u, v))))


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_solves_in_jax_and_torch_agree_with_numpy(backend):
    library = pytest.importorskip(backend)
    if backend == "jax":
        library.config.update("jax_enable_x64", True)
    source = (pathlib.Path(__file__).resolve().parent.parent / "derivations" /
              "gp_marginal_likelihood_chol.mc").read_text()
    for problem, wrt in ((source, None), (CASES[0][0], "X"), (CASES[2][0], "M")):
        derivative = matcalc.derive(problem, wrt=wrt) if wrt else matcalc.derive(problem)
        instance = random_instance(derivative.program, seed=5)
        want = derivative.numpy()(**instance.arrays)
        wrap = library.tensor if backend == "torch" else np.asarray
        module = load(generate([derivative], backend=backend))
        got = module.gradient(**{k: wrap(np.asarray(a)) for k, a in instance.arrays.items()})
        got = next(iter(got.values())) if isinstance(got, dict) else got
        assert np.allclose(np.asarray(got), want, rtol=1e-8), (backend, problem[-40:])

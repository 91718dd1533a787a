"""Diagonal matrices in generated code are computed from their diagonals (codegen/diagonals.py).

``2 * Diag(d)``, ``Diag(d) @ Diag(c)``, ``Diag(d) ^ 4`` and ``inv(Diag(d))`` are diagonal
matrices: the code scales rows by a vector (O(n^2)) instead of forming the n x n matrix and
multiplying by it (O(n^3)), and ``prepare`` never holds one formed dense.
"""

from __future__ import annotations

import pytest
from helpers import assert_generated_code_matches

import matcalc
from matcalc.codegen.diagonals import with_diagonals

DECLARED = "W : matrix(n, n); A : matrix(n, n); d : vector(n) positive; c : vector(n)\n"
PROBLEMS = {
    "a power": "f = sum((Diag(d) @ Diag(d) @ W) .^ 2)",
    "a product of two": "f = sum((Diag(d) @ Diag(c) @ W) .^ 2)",
    "an inverse": "f = sum((inv(Diag(exp(c))) @ W) .^ 2)",
    "scaled, between constants": "f = sum((Diag(d) @ A @ Diag(d) @ W) .^ 2)",
    "a sum": "f = tr(W' @ (Diag(d) + 3 * Diag(c)) @ W @ A)",
}


def node_of(text: str):
    return matcalc.parse(DECLARED + f"G = {text}").definitions["G"].body


DENSE = ("diagflat", "matrix_power", "linalg.inv", "torch.diag(", "torch.linalg.inv")


@pytest.mark.parametrize("name", sorted(PROBLEMS))
@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_diagonals_are_vectors_in_generated_code(name, backend):
    results = matcalc.derive(DECLARED + PROBLEMS[name], wrt=["W"], check=False)
    code = results.code(format=backend)
    assert not any(dense in code for dense in DENSE), code
    assert_generated_code_matches(results, backend)


@pytest.mark.parametrize(("text", "diagonal"), [
    ("2 * Diag(d)", "2 * d"), ("Diag(d) @ Diag(c)", "d * c"), ("Diag(d)' - Diag(c)", "d - c"),
    ("Diag(d) ^ 3", "d .^ 3"), ("inv(Diag(d))", "1 / d"), ("Diag(d) / 2", "d / 2"),
    ("-(Diag(d) * Diag(c))", "-(d * c)"),
])
def test_a_diagonal_matrix_is_written_as_diag_of_its_diagonal(text, diagonal):
    got = with_diagonals(node_of(text))
    assert got.op == "Diag" and str(got.args[0]) == str(node_of(diagonal)), got


@pytest.mark.parametrize("text", ["exp(Diag(d))", "Diag(d) @ A", "Diag(d) + A", "Diag(d) * A"])
def test_other_matrices_stay_as_they_are(text):
    node = node_of(text)
    assert with_diagonals(node) is node

"""One-line expressions: undeclared names typed by convention, dimensions by unification."""

from __future__ import annotations

import pytest

import matcalc
from matcalc.core.shapes import Kind, describe
from matcalc.errors import UnsupportedError
from matcalc.lang.parse import looks_like_program


def types(source: str, let=None) -> dict[str, str]:
    program = matcalc.parse(source, let=let)
    return {name: describe(node.kind, node.shape) for name, node in program.variables.items()}


def test_quadratic_form_shares_one_dimension():
    assert types("x' @ A @ x") == {"x": "vector(n)", "A": "matrix(n, n)"}


def test_chain_of_products_gets_distinct_dimensions():
    assert types("softmax(C @ B @ A)") == {
        "C": "matrix(n, m)", "B": "matrix(m, k)", "A": "matrix(k, p)"}


def test_upper_case_is_a_matrix_and_lower_case_a_vector():
    program = matcalc.parse("W @ h + b")
    assert program.variables["W"].kind is Kind.MATRIX
    assert program.variables["h"].kind is Kind.VECTOR
    assert program.variables["b"].shape.rows is program.variables["W"].shape.rows


def test_identity_and_traces_force_square_matrices():
    assert types("tr(X @ A @ X')") == {"X": "matrix(n, m)", "A": "matrix(m, m)"}
    assert types("A + I") == {"A": "matrix(n, n)"}
    assert types("logdet(X)") == {"X": "matrix(n, n)"}


def test_let_overrides_the_convention():
    assert types("a * x", let="a : scalar") == {"a": "scalar", "x": "vector(n)"}
    program = matcalc.parse("x' @ A @ x", let="A : matrix(d, d) symmetric")
    assert program.attributes("A") == frozenset({"symmetric"})
    assert describe(program.variables["x"].kind, program.variables["x"].shape) == "vector(d)"


def test_let_accepts_a_list_and_semicolons():
    assert types("a * x + c", let=["a : scalar", "c : scalar"])["c"] == "scalar"
    assert types("a * x + c", let="a : scalar; c : scalar")["a"] == "scalar"


def test_inferred_dimension_names_avoid_variable_names():
    assert types("sum(x) + sum(n)")["x"] == "vector(m)"


def test_the_expression_becomes_the_definition_f():
    program = matcalc.parse("x' @ A @ x")
    assert list(program.definitions) == ["f"]
    assert program.inferred == ("x", "A")
    assert "(inferred)" in program.describe()
    assert list(matcalc.parse("f' @ x").definitions) == ["F"]


def test_products_of_unknown_dimensions_ask_for_declarations():
    with pytest.raises(UnsupportedError, match="declare"):
        matcalc.parse("kron(A, B) @ vec(X)")
    with pytest.raises(UnsupportedError, match=r"products \(n\*q vs \?\*\?\)"):
        matcalc.parse("kron(A, B) @ vec(X)", let=["A : matrix(m, n)", "B : matrix(p, q)"])
    program = matcalc.parse("kron(A, B) @ vec(X)",
                            let=["A : matrix(m, n)", "B : matrix(p, q)", "X : matrix(q, n)"])
    assert program.definitions["f"].body.shape.rows is program.variables["A"].shape.rows * \
        program.variables["B"].shape.rows


@pytest.mark.parametrize("source, is_program", [
    ("x' @ A @ x", False),
    ("x : y", False),
    ("x : vector(n)", True),
    ("x, y : vector(n)", True),
    ("x : vectr(n)", True),
    ("grad x' @ x wrt x", True),
    ("f = x + y", True),
    ("a; b", True),
    ("x + y  # a = comment", False),
])
def test_program_or_expression(source, is_program):
    assert looks_like_program(source) is is_program

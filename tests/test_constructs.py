"""Every construct of docs/language.md: parsed, typed, and evaluated equal to hand-written NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import SIZES, expr, point, value

from matcalc.core.printer import to_text
from matcalc.core.shapes import Kind

V = point()
n, m = SIZES["n"], SIZES["m"]
x, y, p, u, q = V["x"], V["y"], V["p"], V["u"], V["q"]
A, B, C, D, P, S, Q, R, Y = (V[k] for k in "ABCDPSQRY")
a, c, s = V["a"], V["c"], V["s"]


def softmax_rows(M):
    e = np.exp(M - M.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def commutation(rows, cols):
    k = np.zeros((rows * cols, rows * cols))
    for i in range(rows):
        for j in range(cols):
            k[i * cols + j, j * rows + i] = 1
    return k


# (source, expected kind, NumPy value)
CASES = [
    # sums; a scalar added to an array is added to every entry
    ("x + y", Kind.VECTOR, x + y),
    ("A - B", Kind.MATRIX, A - B),
    ("a + x", Kind.VECTOR, a + x),
    ("1 - x", Kind.VECTOR, 1 - x),
    ("A + 2", Kind.MATRIX, A + 2),
    # Frobenius product
    ("A : B", Kind.SCALAR, np.sum(A * B)),
    ("x : y", Kind.SCALAR, x @ y),
    ("a : c", Kind.SCALAR, a * c),
    # products and division
    ("A @ B", Kind.MATRIX, A @ B),
    ("C @ x", Kind.VECTOR, C @ x),
    ("x' @ A @ x", Kind.SCALAR, x @ A @ x),
    ("x @ y'", Kind.MATRIX, np.outer(x, y)),
    ("x' @ y", Kind.SCALAR, x @ y),
    ("u' @ C", Kind.ROW, (u @ C)[None, :]),
    ("(x' @ y) @ y'", Kind.ROW, (x @ y) * y[None, :]),
    ("x @ (y' @ x)", Kind.VECTOR, x * (y @ x)),
    ("x * y", Kind.VECTOR, x * y),
    ("a * A", Kind.MATRIX, a * A),
    ("A * 3", Kind.MATRIX, 3 * A),
    ("A * B", Kind.MATRIX, A * B),
    ("x / p", Kind.VECTOR, x / p),
    ("A / a", Kind.MATRIX, A / a),
    ("1 / p", Kind.VECTOR, 1 / p),
    ("a / s", Kind.SCALAR, a / s),
    # negation and powers
    ("-A", Kind.MATRIX, -A),
    ("--x", Kind.VECTOR, x),
    ("A ^ 2", Kind.MATRIX, A @ A),
    ("A ^ 3", Kind.MATRIX, A @ A @ A),
    ("A ^ 1", Kind.MATRIX, A),
    ("A ^ 0", Kind.MATRIX, np.eye(n)),
    ("Q ^ -1", Kind.MATRIX, np.linalg.inv(Q)),
    ("Q ^ -2", Kind.MATRIX, np.linalg.inv(Q) @ np.linalg.inv(Q)),
    ("A ^ T", Kind.MATRIX, A.T),
    ("a ^ 2", Kind.SCALAR, a**2),
    ("s ^ a", Kind.SCALAR, s**a),
    ("s ^ -1", Kind.SCALAR, 1 / s),
    ("p .^ 0.5", Kind.VECTOR, np.sqrt(p)),
    ("A .^ 2", Kind.MATRIX, A**2),
    ("p .^ a", Kind.VECTOR, p**a),
    ("R .^ -1", Kind.MATRIX, 1 / R),
    # transposes
    ("A'", Kind.MATRIX, A.T),
    ("A.T", Kind.MATRIX, A.T),
    ("C''", Kind.MATRIX, C),
    ("x'", Kind.ROW, x[None, :]),
    ("x''", Kind.VECTOR, x),
    ("(A @ B)'", Kind.MATRIX, (A @ B).T),
    ("a'", Kind.SCALAR, a),
    # elementwise functions
    ("exp(A)", Kind.MATRIX, np.exp(A)),
    ("log(p)", Kind.VECTOR, np.log(p)),
    ("sin(x)", Kind.VECTOR, np.sin(x)),
    ("cos(C)", Kind.MATRIX, np.cos(C)),
    ("tanh(x)", Kind.VECTOR, np.tanh(x)),
    ("sigmoid(C)", Kind.MATRIX, 1 / (1 + np.exp(-C))),
    ("relu(x)", Kind.VECTOR, np.maximum(x, 0)),
    ("step(A)", Kind.MATRIX, (A > 0).astype(float)),
    ("sign(x)", Kind.VECTOR, np.sign(x)),
    ("sqrt(R)", Kind.MATRIX, np.sqrt(R)),
    ("abs(x)", Kind.VECTOR, np.abs(x)),
    ("exp(a)", Kind.SCALAR, np.exp(a)),
    # softmax and logsumexp: a vector's whole, a matrix's rows
    ("softmax(x)", Kind.VECTOR, softmax_rows(x)),
    ("softmax(C)", Kind.MATRIX, softmax_rows(C)),
    ("softmax(x')", Kind.ROW, softmax_rows(x[None, :])),
    ("logsumexp(x)", Kind.SCALAR, np.log(np.sum(np.exp(x)))),
    ("logsumexp(C)", Kind.VECTOR, np.log(np.sum(np.exp(C), axis=1))),
    ("logsumexp(x')", Kind.SCALAR, np.log(np.sum(np.exp(x)))),
    # reductions and matrix functions
    ("sum(C)", Kind.SCALAR, C.sum()),
    ("mean(C)", Kind.SCALAR, C.mean()),
    ("tr(A)", Kind.SCALAR, np.trace(A)),
    ("det(A)", Kind.SCALAR, np.linalg.det(A)),
    ("logdet(P)", Kind.SCALAR, np.log(np.linalg.det(P))),
    ("inv(Q)", Kind.MATRIX, np.linalg.inv(Q)),
    ("norm2(x)", Kind.SCALAR, np.linalg.norm(x)),
    ("norm2(x')", Kind.SCALAR, np.linalg.norm(x)),
    ("norm(C)", Kind.SCALAR, np.linalg.norm(C)),
    ("Diag(x)", Kind.MATRIX, np.diag(x)),
    ("diag(A)", Kind.VECTOR, np.diag(A)),
    ("diag(x)", Kind.MATRIX, np.diag(x)),
    ("vec(C)", Kind.VECTOR, C.reshape(-1, order="F")),
    ("unvec(vec(C), m, n)", Kind.MATRIX, C),
    ("unvec(kron(x, u), m, n)", Kind.MATRIX, np.outer(u, x)),
    ("unvec(x, n, 1)", Kind.VECTOR, x),
    ("kron(C, A)", Kind.MATRIX, np.kron(C, A)),
    ("kron(x, u)", Kind.VECTOR, np.kron(x, u)),
    ("commutation(m, n) @ vec(C)", Kind.VECTOR, C.T.reshape(-1, order="F")),
    ("commutation(m, n)", Kind.MATRIX, commutation(m, n)),
    # constants sized by context or explicitly
    ("A + I", Kind.MATRIX, A + np.eye(n)),
    ("I - A", Kind.MATRIX, np.eye(n) - A),
    ("C @ I", Kind.MATRIX, C),
    ("I @ C", Kind.MATRIX, C),
    ("I(n)", Kind.MATRIX, np.eye(n)),
    ("I(3)", Kind.MATRIX, np.eye(3)),
    ("ones(n)", Kind.VECTOR, np.ones(n)),
    ("ones(m, n)", Kind.MATRIX, np.ones((m, n))),
    ("zeros(m, n)", Kind.MATRIX, np.zeros((m, n))),
    ("zeros(n)", Kind.VECTOR, np.zeros(n)),
    ("ones(m*n)", Kind.VECTOR, np.ones(m * n)),
    # a dimension used as a number
    ("sum(x) / n", Kind.SCALAR, x.sum() / n),
    ("m * n", Kind.SCALAR, float(m * n)),
    # numbers
    ("0.5 * x", Kind.VECTOR, 0.5 * x),
    ("1e-3 * x", Kind.VECTOR, 1e-3 * x),
    ("2.5E+1", Kind.SCALAR, 25.0),
    (".5", Kind.SCALAR, 0.5),
    # the seeds' shapes of expressions
    ("-sum(q * log(softmax(x)))", Kind.SCALAR, -np.sum(q * np.log(softmax_rows(x)))),
    ("-sum(Y * log(softmax(C)))", Kind.SCALAR, -np.sum(Y * np.log(softmax_rows(C)))),
    ("Diag(softmax(x)) - softmax(x) @ softmax(x)'", Kind.MATRIX,
     np.diag(softmax_rows(x)) - np.outer(softmax_rows(x), softmax_rows(x))),
]


@pytest.mark.parametrize("source, kind, expected", CASES, ids=[c[0] for c in CASES])
def test_construct_evaluates_like_numpy(source, kind, expected):
    node = expr(source)
    assert node.kind is kind
    result = value(source)
    np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-12)
    shape = np.shape(result)
    if kind is Kind.SCALAR:
        assert shape == ()
    elif kind is Kind.VECTOR:
        assert len(shape) == 1
    else:
        assert len(shape) == 2


@pytest.mark.parametrize("source", [c[0] for c in CASES])
def test_construct_prints_back_to_the_same_node(source):
    node = expr(source)
    assert expr(to_text(node)) is node


# Precedence, lowest first: + -, :, @ * /, unary -, ^ .^, postfix; left-associative.
SAME = [
    ("a + c * s", "a + (c * s)"),
    ("A : B @ A", "A : (B @ A)"),
    ("A + B : A", "A + (B : A)"),
    ("x' @ A * a", "(x' @ A) * a"),
    ("a * A @ B", "(a * A) @ B"),
    ("A @ B * A", "(A @ B) * A"),
    ("A / a * c", "(A / a) * c"),
    ("a - c - s", "(a - c) - s"),
    ("-A @ B", "(-A) @ B"),
    ("-a ^ 2", "-(a ^ 2)"),
    ("A ^ 2 ^ 2", "(A ^ 2) ^ 2"),
    ("A' ^ 2", "(A') ^ 2"),
    ("x .^ 2'", "x .^ (2')"),
    ("A ^ -1", "inv(A)"),
    ("A.T @ B", "(A') @ B"),
    ("A' @ B'", "(A') @ (B')"),
    ("x'@A@x", "(x' @ A) @ x"),
]


@pytest.mark.parametrize("left, right", SAME)
def test_precedence(left, right):
    assert expr(left.replace("A ^ -1", "Q ^ -1")) is expr(right.replace("inv(A)", "inv(Q)"))


def test_an_expression_continues_over_lines_inside_brackets():
    body = "f = sum(x *\n  y) + (a\n - c)"
    assert expr("sum(x * y) + (a - c)") is __import__("helpers").program(body).definitions[
        "f"].body


def test_a_backslash_continues_a_line():
    assert expr("x + \\\n y") is expr("x + y")


def test_comments_and_semicolons():
    from helpers import program

    prog = program("f = x + y  # a comment\ng = f * 2; h = g'  # another")
    assert list(prog.definitions) == ["f", "g", "h"]
    assert prog.definitions["h"].body.kind is Kind.ROW

"""Conversion to SymPy: every construct gives a SymPy expression with the same value."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from helpers import SIZES, expr, point, program
from test_constructs import CASES

from matcalc.core.ir import Node
from matcalc.core.to_sympy import dim_to_sympy, program_to_sympy, to_sympy

ARRAYS = point()
SLOW = {"kron(C, A)", "commutation(m, n)", "commutation(m, n) @ vec(C)"}


def substitute(expression, arrays: dict, variables: dict[str, Node]):
    """``expression`` with dimension sizes and explicit matrices put in, evaluated."""
    dims = {sp.Symbol(k, integer=True, positive=True): v for k, v in SIZES.items()}
    expression = expression.xreplace(dims) if isinstance(expression, sp.Basic) else expression
    replacements = {}
    for name, node in variables.items():
        value = np.asarray(arrays[name], dtype=float)
        if node.is_scalar:
            replacements[sp.Symbol(name, real=True)] = sp.Float(float(value))
            continue
        rows, cols = (dim_to_sympy(d).xreplace(dims) for d in (node.shape.rows, node.shape.cols))
        replacements[sp.MatrixSymbol(name, rows, cols)] = sp.ImmutableMatrix(
            value.reshape(int(rows), int(cols)))
    expression = expression.xreplace(replacements)
    constants = (sp.OneMatrix, sp.Identity, sp.ZeroMatrix)
    if isinstance(expression, sp.Basic):
        expression = expression.replace(lambda e: isinstance(e, constants),
                                        lambda e: sp.ImmutableMatrix(e.as_explicit()))
    result = expression.doit()
    if isinstance(result, sp.Basic):
        result = _spell_out_diagonals(result).doit()
    if isinstance(result, sp.MatrixExpr):
        result = result.as_explicit()
    if isinstance(result, sp.MatrixBase):
        return np.array(result.evalf(), dtype=float)
    return float(sp.N(result))


def _spell_out_diagonals(expression):
    """SymPy 1.14's DiagonalOf fails on explicit matrices: spell both diagonals out."""
    def explicit(e):
        return isinstance(e.args[0], sp.MatrixBase)

    expression = expression.replace(
        lambda e: isinstance(e, sp.DiagonalOf) and explicit(e),
        lambda e: sp.ImmutableMatrix([e.arg[i, i] for i in range(e.arg.shape[0])]))
    return expression.replace(
        lambda e: isinstance(e, sp.DiagMatrix) and explicit(e),
        lambda e: sp.ImmutableMatrix(sp.diag(*list(e.args[0]))))


@pytest.mark.parametrize("source, kind, expected", [c for c in CASES if c[0] not in SLOW],
                         ids=[c[0] for c in CASES if c[0] not in SLOW])
def test_construct_converts_with_the_same_value(source, kind, expected):
    node = expr(source)
    converted = to_sympy(node)
    if node.is_scalar:
        assert not isinstance(converted, sp.MatrixExpr)
    else:
        assert converted.shape == (dim_to_sympy(node.shape.rows), dim_to_sympy(node.shape.cols))
    variables = program("f = a").variables
    result = substitute(converted, ARRAYS, variables)
    want = np.asarray(expected, dtype=float)
    if want.ndim == 1:
        want = want.reshape(-1, 1)
    np.testing.assert_allclose(np.reshape(result, np.shape(want)), want, rtol=1e-9, atol=1e-12)


def test_commutation_matrix_converts():
    converted = to_sympy(expr("commutation(m, n)")).xreplace(
        {sp.Symbol(k, integer=True, positive=True): v for k, v in SIZES.items()}).doit()
    c = np.array(point()["C"])
    np.testing.assert_allclose(np.array(converted, dtype=float) @ c.reshape(-1, order="F"),
                               c.T.reshape(-1, order="F"))


def test_program_converts_with_names_or_inlined():
    prog = program("z = C @ x\nJ = sum(softmax(z) * u)")
    named = program_to_sympy(prog)
    assert isinstance(named["J"], sp.Expr) and "z" in str(named["J"])
    inlined = prog.to_sympy() | program_to_sympy(prog, inline=True)
    assert "C*x" in str(inlined["J"]) or "C @ x" in str(inlined["J"])
    value = substitute(inlined["J"], ARRAYS, prog.variables)
    c, x, u = ARRAYS["C"], ARRAYS["x"], ARRAYS["u"]
    z = c @ x
    assert value == pytest.approx(np.sum(np.exp(z) / np.exp(z).sum() * u))


def test_scalar_functions_know_their_derivatives():
    from matcalc.core.to_sympy import relu, sigmoid, step

    t = sp.Symbol("t")
    assert sp.simplify(sigmoid(t).diff(t) - sigmoid(t) * (1 - sigmoid(t))) == 0
    assert relu(t).diff(t) == step(t)
    assert float(sigmoid(sp.Float(0.3))) == pytest.approx(1 / (1 + np.exp(-0.3)))
    assert relu(sp.Float(-2)) == 0 and step(sp.Float(2)) == 1

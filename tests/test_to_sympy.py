"""Conversion to SymPy: every construct gives a SymPy expression with the same value."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from helpers import DECLARATIONS, SIZES, expr, point, program, value
from test_constructs import CASES

import matcalc
from matcalc.core import registry
from matcalc.core.ir import Node, walk
from matcalc.core.to_sympy import dim_to_sympy, program_to_sympy, to_sympy
from matcalc.errors import MatcalcError, UnsupportedError

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
        if len(node.shape.dims) > 2:  # a tensor: SymPy has none, nothing converted holds one
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


# -- every operation: a SymPy form with the right value, or an UnsupportedError naming it ------

OPERATION_DECLARATIONS = DECLARATIONS + "k : integer\nyl : labels(m, n)\nXt : tensor(m, n, n)\n"
OPERATION_ARRAYS = {**ARRAYS, "k": 2.0, "yl": np.array([0.0, 2.0, 1.0, 0.0]),
                    "Xt": np.ones((4, 3, 3))}
# one use of each operation the constructs above do not show
OPERATION_USES = {
    "mpowk": "A ^ k", "trpowk": "tr(A ^ k)", "onehot": "onehot(yl)", "pick": "pick(C, yl)",
    "expm": "expm(A)", "logm": "logm(P)", "sqrtm": "sqrtm(P)", "expm_frechet": "expm_frechet(A, B)",
    "logm_frechet": "logm_frechet(P, A)", "sylvester": "sylvester(P, A)", "sym": "sym(A)",
    "chol": "chol(P)", "Phi": "Phi(A)", "eigvalsh": "eigvalsh(S)", "eigvecsh": "eigvecsh(S)",
    "eiggap": "eiggap(x)", "norm_spec": "norm_spec(A)", "norm_nuc": "norm_nuc(A)",
    "svd_u1": "svd_u1(A)", "svd_v1": "svd_v1(A)", "polar": "polar(Q)", "conv1d": "conv1d(x, y)",
    "convolve": "convolve(x, y)", "hcat": "hcat(x, y)", "vcat": "vcat(x, y)",
    "maximum": "maximum(x, y)", "minimum": "minimum(a, c)", "axis_sum": "sum(Xt, 0)",
    "expand": "expand(A, 0, m)",
    "einsum": 'einsum("ij,ik,il,jk,jl,kl->", A, B, P, S, A, B)',  # no matrix form
    "where": "where(tril(ones(n, n)), A, B)", "axis_max": "max(A, 1)", "axis_min": "min(C, 0)",
    "axis_ismax": "ismax(A, 0)", "axis_ismin": "ismin(C, 1)", "axis_softmax": "softmax(Xt, 0)",
    "axis_log_softmax": "log_softmax(Xt, 1)", "axis_logsumexp": "logsumexp(Xt, 0)",
}
# SymPy cannot spell these out on explicit matrices in reasonable time, or at all (a
# matrix function of an explicit matrix): their forms are checked by shape only
NO_EXPLICIT_VALUE = {"kron", "commutation", "expm", "logm", "sqrtm", "mpowk", "trpowk"}


def _operation_use(name: str) -> str:
    """A use of the operation: from the table above, the constructs, or its name called on the
    first of the shared variables it takes."""
    import itertools

    from test_constructs import CASES

    if name in OPERATION_USES:
        return OPERATION_USES[name]
    for source, _, _ in CASES:
        if any(node.op == name for node in walk(expr(source))):
            return source
    syntax = registry.operation(name).syntax
    arguments = ["p", "x", "A", "P", "S", "C", "a", "y", "B"]
    for chosen in itertools.chain(([a] for a in arguments),
                                  itertools.product(arguments, repeat=2)):
        source = f"{syntax.name}({', '.join(chosen)})"
        try:
            if expr(source, OPERATION_DECLARATIONS).op == name:
                return source
        except MatcalcError:
            continue
    raise AssertionError(f"no use of {name} to convert: add one to OPERATION_USES")


def _in_contexts(source: str, node: Node) -> list[str]:
    """The use alone, and combined with matrices the way results combine it: a scalar (a
    norm, a sum) scaling or dividing a vector, a matrix summed into one."""
    inner = f"({source})"
    if node.is_scalar:
        return [source, f"x * {inner}", f"x / {inner} + softmax(x)", f"{inner} * A + A"]
    return [source, f"sum({inner}) * x", f"x / sum({inner}) + softmax(x)"]


@pytest.mark.parametrize("name", sorted(registry.operations()))
def test_every_operation_converts_with_its_value_or_says_it_has_no_form(name):
    source = _operation_use(name)
    node = expr(source, OPERATION_DECLARATIONS)
    assert any(n.op == name for n in walk(node)), source
    refused = []
    for text in _in_contexts(source, node):
        combined = expr(text, OPERATION_DECLARATIONS)
        try:
            converted = to_sympy(combined)
        except UnsupportedError as error:
            assert name in str(error) or "SymPy" in str(error), error
            refused.append(text)
            continue
        if combined.is_scalar:
            assert not isinstance(converted, sp.MatrixExpr), text
        else:
            assert converted.shape == (dim_to_sympy(combined.shape.rows),
                                       dim_to_sympy(combined.shape.cols)), text
        if name in NO_EXPLICIT_VALUE or any(n.op in NO_EXPLICIT_VALUE for n in walk(combined)):
            continue
        variables = program("f = a", OPERATION_DECLARATIONS).variables
        want = np.asarray(value(text, OPERATION_ARRAYS, OPERATION_DECLARATIONS), dtype=float)
        got = substitute(converted, OPERATION_ARRAYS, variables)
        np.testing.assert_allclose(np.reshape(got, np.shape(want)), want, rtol=1e-9,
                                   atol=1e-12, err_msg=text)
    # an operation has a SymPy form everywhere, or nowhere (then every use says so)
    assert refused in ([], _in_contexts(source, node)), refused


def test_a_result_scaled_by_a_norm_converts():
    # d/dx sum(x / |x| + softmax(x)) = 1 / |x| - (1'x) x / |x|^3 (the softmax part sums to 1)
    derivative = matcalc.derive("x : vector(n)\nf = sum(x / norm(x) + softmax(x))", wrt="x",
                                check=False)
    converted = derivative.expr
    x = np.array([0.3, -1.2, 2.0])
    explicit = converted.xreplace({sp.Symbol("n", integer=True, positive=True): 3})
    explicit = explicit.xreplace({sp.MatrixSymbol("x", 3, 1): sp.ImmutableMatrix(x)})
    explicit = explicit.replace(lambda e: isinstance(e, sp.OneMatrix),
                                lambda e: sp.ImmutableMatrix(e.as_explicit())).doit()
    got = np.array(sp.Matrix(explicit).evalf(), dtype=float).reshape(-1)
    norm = np.linalg.norm(x)
    np.testing.assert_allclose(got, 1 / norm - x.sum() * x / norm ** 3, rtol=1e-12)


@pytest.mark.parametrize("m, n", [(1, 3), (3, 1), (2, 3), (3, 2), (4, 4)])
def test_every_stage_builds_the_one_commutation_matrix(m, n):
    # K(m, n) @ vec(A) = vec(A') (Magnus & Neudecker ch. 3 sec. 7), one definition
    # (core/indices.py): SymPy's entries, the interpreter's matrix, generated NumPy and PyTorch
    from test_constructs import commutation

    from matcalc.numeric.operations import commutation_matrix

    oracle = commutation(m, n)
    sympy_k = np.array(to_sympy(expr(f"commutation({m}, {n})")).doit(), dtype=float)
    np.testing.assert_array_equal(sympy_k, oracle)
    np.testing.assert_array_equal(commutation_matrix(m, n), oracle)
    a = np.arange(m * n, dtype=float).reshape(m, n)
    np.testing.assert_array_equal(oracle @ a.reshape(-1, order="F"), a.T.reshape(-1, order="F"))
    torch = pytest.importorskip("torch")
    from matcalc.codegen.backends import backend_header
    from matcalc.codegen.module import load

    module = load(backend_header("torch"))
    np.testing.assert_array_equal(
        module._commutation(m, n, torch.float64, None).numpy(), oracle)

"""Bad input: each error class, its message, its location and caret, its builtin base class."""

from __future__ import annotations

import pytest
from helpers import DECLARATIONS

import matcalc
from matcalc.errors import (
    AssumptionError,
    DeclarationError,
    DomainError,
    LimitError,
    MatcalcError,
    ParseError,
    ShapeError,
    UnknownNameError,
    UnsupportedError,
)


def error_of(source: str, let=None) -> MatcalcError:
    with pytest.raises(MatcalcError) as caught:
        matcalc.parse(source, let=let)
    return caught.value


@pytest.mark.parametrize("cls, builtin", [
    (ParseError, ValueError), (ShapeError, ValueError), (UnknownNameError, NameError),
    (DeclarationError, ValueError), (AssumptionError, ValueError), (DomainError, ValueError),
    (UnsupportedError, NotImplementedError), (LimitError, RuntimeError),
])
def test_each_error_is_a_matcalc_error_and_a_builtin(cls, builtin):
    assert issubclass(cls, MatcalcError) and issubclass(cls, builtin)
    assert matcalc.MatcalcError is MatcalcError


def test_shape_error_names_operation_operands_and_shapes():
    source = "x : vector(d)\nW : matrix(Dh, d)\nb : vector(k)\nz = W @ b"
    error = error_of(source)
    assert isinstance(error, ShapeError)
    assert "W @ b: W is Dh x d but b has k rows" in str(error)
    assert (error.line, error.column) == (4, 5)
    assert str(error).endswith("  z = W @ b\n      ^^^^^")


@pytest.mark.parametrize("body, fragment", [
    ("f = x + u", "x + u: x is n x 1 but u is m x 1"),
    ("f = A * C", "A * C: A is n x n but C is m x n"),
    ("f = A : C", "A : C: A is n x n but C is m x n"),
    ("f = tr(C)", "tr(C): needs a square matrix, but it is m x n"),
    ("f = inv(C)", "inv(C): needs a square matrix"),
    ("f = x ^ 2", "use .^ for an elementwise power"),
    ("f = A ^ 0.3", "integer exponent"),
    ("f = A .^ x", "the exponent must be a scalar"),
    ("f = norm2(A)", "use norm(...) for the Frobenius norm"),
    ("f = Diag(A)", "diag(A) takes a matrix's diagonal"),
    ("f = softmax(x, y)", "the axis of softmax(X, axis) is a whole number"),
    ("f = kron(A)", "kron takes 2 arguments, not 1"),
    ("f = tr(I)", "cannot tell the size of I here; write I(n)"),
    ("f = ones(0)", "a dimension must be a positive integer"),
    ("f = commutation(m)", "commutation takes 2 dimension arguments"),
    ("f = unvec(x, m, n)", "unvec(x, m, n): needs a vector of m*n entries"),
    ("f = unvec(x, n)", "unvec takes a vector and two dimensions"),
    ("grad x wrt x", "grad needs a scalar function"),
    ("hessian A wrt A", "hessian needs a scalar function"),
])
def test_shape_errors(body, fragment):
    error = error_of(DECLARATIONS + body)
    assert isinstance(error, ShapeError), error
    assert fragment in str(error)
    assert error.line == DECLARATIONS.count("\n") + 1


@pytest.mark.parametrize("body, fragment", [
    ("f = softmx(x)", "unknown function 'softmx' (did you mean 'softmax'?)"),
    ("f = xx + y", "unknown name 'xx' (did you mean 'x'?)"),
    ("f = sofmax", "unknown name 'sofmax'"),
    ("f = softmax", "'softmax' is a function; call it as softmax(...)"),
    ("f = A(x)", "'A' is not a function"),
    ("f = ones(k)", "unknown dimension 'k'"),
    ("grad a wrt zz", "unknown name 'zz'"),
])
def test_unknown_names(body, fragment):
    error = error_of(DECLARATIONS + body)
    assert isinstance(error, UnknownNameError)
    assert fragment in str(error)


@pytest.mark.parametrize("source, fragment, where", [
    ("x : vector(n)\nf = (x + 1", "'(' is never closed", (2, 5)),
    ("x : vector(n)\nf = x + 1)", "')' without a matching '('", (2, 10)),
    ("x : vector(n)\nf = x +", "the input ends too early", (2, 8)),
    ("x : vector(n)\nf = x $ 2", "unexpected character '$'", (2, 7)),
    ("x : vector(n)\nf = x ` 2", "a transpose is written A' or A.T", (2, 7)),
    ("x : vector(n)\nf = x x", "unexpected 'x'", (2, 7)),
    ("x : vectr(n)", "unknown type 'vectr' (did you mean 'vector'?)", (1, 5)),
    ("x : vector(n,)", "unexpected", (1, 13)),
    ("x : vector(n)\n= x", "unexpected '='", (2, 1)),
    ("x : vector(n)\nf = x\n\ng = * x", "unexpected '*'", (4, 5)),
    # a bracket inside quotes is the string's: not counted, placed by einsum's spec reader
    ('x : vector(n)\nf = sum(einsum("i->(i", x))', "a group of output letters", (2, 20)),
    ("x : vector(n)\nf = sum(einsum('i)->i', x))", "')' is not an index", (2, 18)),
    ('x : vector(n)\nf = sum(einsum("#i->i", x))', "'#' is not an index", (2, 17)),
    ("x : vector(n)\nf = sum(einsum(  # the spec\n  'i->(i', x))", "a group of", (3, 7)),
    ('x : vector(n)\nf = sum(einsum("i->i, x))', 'the string opened with " is never closed',
     (2, 16)),
    ("x : vector(n)\nf = (x'' + x)' @ x' @ (x", "'(' is never closed", (2, 23)),
])
def test_parse_errors_point_at_the_place(source, fragment, where):
    error = error_of(source)
    assert isinstance(error, ParseError), error
    assert fragment in str(error)
    assert (error.line, error.column) == where
    caret_line = str(error).splitlines()[-1]
    assert caret_line.strip().startswith("^")
    assert caret_line.index("^") - 2 == where[1] - 1


@pytest.mark.parametrize("source, cls, fragment", [
    ("x : vector(n)\nx : vector(n)", DeclarationError, "'x' is already declared"),
    ("x : vector(n)\nx = 2 * x", DeclarationError, "'x' is already declared"),
    ("x : vector(n)\nf = x\nf = 2 * x", DeclarationError, "'f' is already defined"),
    ("exp : vector(n)", DeclarationError, "'exp' is reserved"),
    ("n : scalar\nx : vector(n)", DeclarationError, "'n' is a variable"),
    ("x : vector(n)\nn : scalar", DeclarationError, "'n' is a dimension"),
    ("A : matrix(m, n) spd", AssumptionError, "'spd' needs a square matrix"),
    ("x : vector(n) symmetric", AssumptionError, "'symmetric' needs a square matrix"),
    ("a : scalar simplex", AssumptionError, "'simplex' applies to a vector or a matrix"),
    ("A : matrix(n, n) spdd", AssumptionError, "unknown attribute 'spdd' (did you mean 'spd'?)"),
    ("x : vector(0)", ShapeError, "a dimension must be at least 1"),
    ("x : vector(n)\ngrad x' @ x wrt x, x", DeclarationError, "a name is repeated"),
])
def test_declaration_errors(source, cls, fragment):
    error = error_of(source)
    assert isinstance(error, cls), error
    assert fragment in str(error)
    assert error.line is not None


def test_limits_on_nesting_and_size():
    error = error_of("(" * 10_000 + "x" + ")" * 10_000)
    assert isinstance(error, LimitError) and "MAX_NESTING" in str(error)
    deep = "x : vector(n)\nf = x" + " + x" * 400
    assert isinstance(error_of(deep), LimitError)
    assert isinstance(error_of("x" * 1_000_001), LimitError)


def test_let_errors_point_into_the_let_text():
    error = error_of("x' @ A @ x", let="A : matrix(n, m)")
    assert isinstance(error, ShapeError)
    error = error_of("x' @ A @ x", let="A = x")
    assert isinstance(error, DeclarationError) and "--let takes declarations only" in str(error)
    error = error_of("x' @ A @ x", let="A : matrix(n, n) spd spd2")
    assert isinstance(error, AssumptionError) and "A : matrix(n, n) spd spd2" in str(error)


def test_non_text_source():
    with pytest.raises(ParseError, match="a problem is text"):
        matcalc.parse(42)


@pytest.mark.parametrize("source", ["", "   \n", "# only a comment\n"])
def test_empty_problem(source):
    with pytest.raises(ParseError, match="the problem is empty"):
        matcalc.parse(source)


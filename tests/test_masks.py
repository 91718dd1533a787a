"""Masks and functions along an axis: tril / triu, a declared ``mask``, where(C, A, B) with a
-inf branch (causal attention), softmax / log_softmax / logsumexp along an axis, max / min over
every entry and along an axis.  Values against NumPy, derivatives against finite differences
(our own and matcalc.check), generated code against the interpreter, text and LaTeX read back."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    assert_generated_code_matches,
    finite_difference,
    program,
    proven_through,
)

import matcalc
from matcalc.errors import AssumptionError, ParseError, ShapeError, UnsupportedError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import to_latex

DECLARED = "S : matrix(T, T); V : matrix(T, d); X : matrix(m, n); Y : matrix(m, n)\n" \
           "M : matrix(T, T) mask; a : vector(m); b : vector(n)\n"
CAUSAL = DECLARED + "P = softmax(where(tril(ones(T, T)), S, -inf))\nf = sum(sin(P @ V))"


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _point(seed: int = 0, t: int = 4, m: int = 3, n: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"S": rng.normal(size=(t, t)), "V": rng.normal(size=(t, 2)),
            "X": rng.normal(size=(m, n)), "Y": rng.normal(size=(m, n)),
            "M": np.maximum(np.tril(np.ones((t, t))) * (rng.random((t, t)) < 0.7), np.eye(t)),
            "a": rng.normal(size=m), "b": rng.normal(size=n)}


def _proven(results, seed: int) -> None:
    results = results if isinstance(results, list) else [results]
    for verdict in matcalc.check(results, seed=seed, trials=1):
        assert verdict.ok, str(verdict)


@pytest.mark.parametrize("text, expected", [
    ("tril(X)", lambda p: np.tril(p["X"])),
    ("tril(X, -1)", lambda p: np.tril(p["X"], -1)),
    ("triu(X, 2)", lambda p: np.triu(p["X"], 2)),
    ("triu(S)", lambda p: np.triu(p["S"])),
    ("where(M, S, 0)", lambda p: np.where(p["M"] != 0, p["S"], 0)),
    ("where(triu(ones(T, T), 1), -inf, S)", lambda p: np.where(np.triu(np.ones((4, 4)), 1),
                                                              -np.inf, p["S"])),
    ("softmax(X, 0)", lambda p: _softmax(p["X"], 0)),
    ("softmax(X, -1)", lambda p: _softmax(p["X"], 1)),
    ("log_softmax(X)", lambda p: np.log(_softmax(p["X"], 1))),
    ("log_softmax(X, 0)", lambda p: np.log(_softmax(p["X"], 0))),
    ("logsumexp(X, 0)", lambda p: np.log(np.exp(p["X"]).sum(axis=0, keepdims=True))),
    ("logsumexp(X, 1)", lambda p: np.log(np.exp(p["X"]).sum(axis=1))),
    ("max(X)", lambda p: np.max(p["X"])),
    ("min(b)", lambda p: np.min(p["b"])),
    ("max(X, 1)", lambda p: np.max(p["X"], axis=1)),
    ("min(X, 0)", lambda p: np.min(p["X"], axis=0, keepdims=True)),
    ("max(b, 0)", lambda p: np.max(p["b"])),
    ("max(b', -1)", lambda p: np.max(p["b"])),
])
def test_values_are_numpys(text, expected):
    point = _point(1)
    got = evaluate(matcalc.parse(DECLARED + f"f = {text}"), "f", point)
    np.testing.assert_allclose(np.asarray(got, dtype=float), expected(point), rtol=1e-12)


def test_the_indicators_take_the_first_index_at_ties_as_argmax():
    program = matcalc.parse("X : matrix(m, n)\nE = ismax(X)\nR = ismax(X, 1)\nC = ismin(X, 0)")
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [3.0, -1.0, -1.0]])
    expected_all = np.zeros(9)
    expected_all[np.argmax(x)] = 1
    np.testing.assert_array_equal(evaluate(program, "E", {"X": x}), expected_all.reshape(3, 3))
    rows = np.zeros((3, 3))
    rows[np.arange(3), np.argmax(x, axis=1)] = 1
    np.testing.assert_array_equal(evaluate(program, "R", {"X": x}), rows)
    columns = np.zeros((3, 3))
    columns[np.argmin(x, axis=0), np.arange(3)] = 1
    np.testing.assert_array_equal(evaluate(program, "C", {"X": x}), columns)


def test_causal_attention_gets_no_gradient_behind_the_mask():
    # d/dS of sum(sin(softmax(where(tril(1 1'), S, -inf)) @ V)), against finite differences
    gradient = matcalc.derive(CAUSAL, wrt="S", check=False)
    # FlashAttention's dS = P * (dP - rowsum(P * dP)) (Dao et al. 2022, Algorithm 4): P is
    # exactly 0 behind the mask, so the mask need not be written again
    assert gradient.text.splitlines()[-1] == "df_dS = P * (delta1 - (P * delta1) @ ones(T))"
    point = _point(2)
    got = np.asarray(gradient.numpy()(**point))
    causal = np.tril(np.ones((4, 4)))

    def loss(s):
        return np.sum(np.sin(_softmax(np.where(causal != 0, s, -np.inf)) @ point["V"]))

    np.testing.assert_allclose(got, finite_difference(loss, point["S"]), atol=1e-8)
    assert np.all(got[np.triu_indices(4, 1)] == 0.0)  # exactly 0, not a tiny number
    assert np.all(np.isfinite(got))


def test_a_masked_log_softmax_loss_has_a_finite_exact_gradient():
    # entries behind the mask are -inf in log_softmax; where picks 0 there, and the cotangent is
    # picked with where, so no exp(-inf) * inf turns into NaN
    problem = DECLARED + "L = log_softmax(where(M, S, -inf))\nf = sum(where(M, L, 0))"
    gradient = matcalc.derive(problem, wrt="S", check=False)
    point = _point(3)
    mask = point["M"] != 0

    def loss(s):
        z = np.where(mask, s, -np.inf)
        logp = z - z.max(axis=1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
        return np.sum(np.where(mask, logp, 0.0))

    for compiled in (True, False):
        got = np.asarray(gradient.numpy(compiled=compiled)(**point))
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, finite_difference(loss, point["S"]), atol=1e-8)
        assert np.all(got[~mask] == 0.0)


def test_the_mask_stays_where_an_infinity_could_meet_a_zero():
    # P * where(C, S, -inf) is 0 * -inf behind the mask: where(C, ..., 0) is kept there
    problem = DECLARED + "P = softmax(where(M, S, -inf))\nf = sum(P * (1 + where(M, S, -inf)))"
    gradient = matcalc.derive(problem, wrt="S", check=False)
    # (the 1 of 1 + where(..) cancels in the softmax adjoint, whose rows sum to zero)
    assert "df_dS = P + where(M, P * (" in gradient.text
    assert "where" not in matcalc.derive(DECLARED + "P = softmax(where(M, S, -inf))\n"
                                                    "f = sum(P * S)", wrt="S", check=False).text


@pytest.mark.parametrize("text, wrt", [
    ("f = sum(Y * softmax(X, 0))", "X"),
    ("f = sum(Y * log_softmax(X, 0)) + sum(Y * log_softmax(X))", "X"),
    ("f = logsumexp(X, 0) @ b + a' @ logsumexp(X, -1)", "X"),
    ("f = a' @ max(X, 1) + min(X, 0) @ b + max(X) - 2 * min(X)", "X"),
    ("f = sum(sin(tril(S, -1)) + triu(S, 1) .^ 2)", "S"),
    ("f = sum(exp(where(M, S, -inf)) @ V)", "S"),
    ("f = sum(where(1 - M, cos(S), S .^ 3))", "S"),
    ("f = max(where(M, S, -inf), 1)' @ ones(T)", "S"),
])
@pytest.mark.parametrize("kind", ["grad", "hessian"])
def test_derivatives_are_proven(text, wrt, kind):
    _proven(matcalc.derive(DECLARED + text, wrt=wrt, kind=kind, check=False), seed=7)


@pytest.mark.parametrize("text", [
    "F = tril(S, 1) @ V", "F = where(M, S, 0) @ V", "F = softmax(X, 0)", "F = log_softmax(X)",
    "F = max(X, 0)", "F = min(X, 1)", "F = logsumexp(X, 0)", "F = max(X) * X",
])
def test_jacobians_are_proven(text):
    wrt = "S" if "S" in text else "X"
    _proven(matcalc.derive(DECLARED + text, wrt=wrt, kind="jacobian", check=False), seed=2)


def test_a_mask_is_never_differentiated_and_random_masks_are_zeros_and_ones():
    problem = DECLARED + "f = sum(where(M, S, 0) .^ 2)"
    with pytest.raises(UnsupportedError, match="mask"):
        matcalc.derive(problem, wrt="M")
    assert [d.wrt for d in matcalc.derive(problem, check=False)] == ["S"]
    for seed in range(3):
        drawn = random_instance(matcalc.parse(problem), seed=seed).arrays["M"]
        assert set(np.unique(drawn)) <= {0.0, 1.0} and np.all(drawn.max(axis=1) == 1.0)


# A vector mask is one line (its softmax runs over all of it): random points put a 1 somewhere
# in it, not in every entry, so an answer that ignores the mask is told apart (BERT's loss over
# the masked positions, J. Devlin et al., NAACL 2019, sec. 3.1: the mean over the chosen ones)
MASKED_MEAN = """Z : matrix(N, k); y : labels(N, k); m : vector(N) mask
L = -sum(m * log(pick(softmax(Z), y))) / sum(m)"""


def test_a_vector_mask_draws_zeros_and_a_one():
    program = matcalc.parse("m : vector(n) mask\nf = sum(m)")
    drawn = [random_instance(program, seed=seed).arrays["m"] for seed in range(6)]
    assert all(set(np.unique(m)) <= {0.0, 1.0} and m.max() == 1.0 for m in drawn)
    assert any(m.min() == 0.0 for m in drawn)


@pytest.mark.parametrize("declared", ["m : matrix(n, 1) mask", "m : tensor(B, T, 1) mask"])
def test_a_mask_of_one_column_draws_zeros_and_a_one_in_each_row_before_it(declared):
    program = matcalc.parse(f"{declared}\nf = sum(m)")
    drawn = [random_instance(program, seed=seed).arrays["m"] for seed in range(6)]
    assert all(set(np.unique(m)) <= {0.0, 1.0} and np.all(m.max(axis=-2) == 1.0)
               for m in drawn)
    assert any(m.min() == 0.0 for m in drawn)


@pytest.mark.parametrize(("problem", "answer", "right"), [
    (MASKED_MEAN, "Diag(m) @ (softmax(Z) - onehot(y)) / sum(m)", True),
    (MASKED_MEAN, "(softmax(Z) - onehot(y)) / N", False),
    (MASKED_MEAN, "(softmax(Z) - onehot(y)) / sum(m)", False),
    (MASKED_MEAN, "Diag(m) @ (softmax(Z) - onehot(y)) / N", False),
    ("x : vector(n); m : vector(n) mask\nf = sum(m * x .^ 2)", "2 * x", False),
    ("x : vector(n); m : vector(n) mask\nf = sum(m * x .^ 2)", "2 * m * x", True),
    # a column's rows are its entries: a mask of one column has zeros too
    ("x : matrix(n, 1); m : matrix(n, 1) mask\nf = sum(m * x .^ 2)", "2 * x", False),
    ("x : matrix(n, 1); m : matrix(n, 1) mask\nf = sum(m * x .^ 2)", "2 * m * x", True),
    ("X : tensor(B, T, 1); m : tensor(B, T, 1) mask\nf = sum(m * X .^ 2)", "2 * X", False),
    ("X : tensor(B, T, 1); m : tensor(B, T, 1) mask\nf = sum(m * X .^ 2)", "2 * m * X", True),
])
def test_an_answer_that_ignores_a_vector_mask_is_wrong(problem, answer, right):
    wrt = next(name for name in ("Z", "X", "x") if f"{name} :" in problem)
    assert matcalc.verify(problem, wrt, answer).ok is right


def test_given_mask_values_are_checked():
    point = _point(4)
    point["M"] = point["M"] * 0.5
    with pytest.raises(AssumptionError, match="other than 0 and 1"):
        evaluate(matcalc.parse(DECLARED + "f = where(M, S, 0)"), "f", point)


def test_random_points_keep_the_largest_entries_apart():
    program = matcalc.parse("X : matrix(m, n)\nf = sum(max(X, 1)) + sum(min(X, 0)) + max(X)")
    for seed in range(3):
        x = random_instance(program, seed=seed, sizes={"m": 6, "n": 7}).arrays["X"]
        for values in (np.sort(x, axis=1)[:, -2:], np.sort(-x, axis=0)[-2:].T):
            assert np.all(values[:, 1] - values[:, 0] > 1e-2)


@pytest.mark.parametrize("text, error, message", [
    ("f = S + -inf", ParseError, "only as a branch of where"),
    ("f = where(M, S, -inf) + inf", ParseError, "only as a branch of where"),
    ("f = where(S, S, 0)", AssumptionError, "is a mask"),
    ("f = where(M, S)", ShapeError, "3 arguments"),
    ("f = where(M, X, 0)", ShapeError, "the branch X"),
    ("f = tril(a)", ShapeError, "take a matrix"),
    ("f = tril(S, 0.5)", ShapeError, "whole number"),
    ("f = softmax(X, 2)", ShapeError, "0 \\(down each column\\) or 1"),
    ("f = max(X, T)", ShapeError, "whole number"),
    ("f = softmax(a, 1)", ShapeError, "column\\) vector: its axis is 0"),
    ("f = max(a', 0)", ShapeError, "row vector: its axis is 1"),
    ("f = logsumexp(X, 0, 1)", ShapeError, "1 or 2 arguments"),
])
def test_misuse_is_an_error_at_its_place(text, error, message):
    with pytest.raises(error, match=message) as raised:
        matcalc.parse(DECLARED + text)
    assert raised.value.location is not None and raised.value.location.line == 3


def test_an_attribute_beside_mask_is_refused():
    with pytest.raises(AssumptionError, match="mask's entries are 0 and 1"):
        matcalc.parse("M : matrix(n, n) mask positive")


def test_infinity_in_latex_is_a_branch_of_where_only():
    problem = DECLARED + "f = sum(exp(where(M, S, -inf)))"
    answer = r"\operatorname{where}\left(M, \exp\left(\operatorname{where}\left(M, S, " \
             r"-\infty\right)\right), 0\right)"
    assert matcalc.verify(problem, "S", answer, latex=True).ok
    with pytest.raises(UnsupportedError, match="infinity"):
        matcalc.verify(problem, "S", r"\exp(S) - \infty", latex=True)


@pytest.mark.parametrize("text, wrt", [
    ("f = sum(exp(where(M, S, -inf)) @ V)", "S"),
    ("f = sum(sin(tril(S, -1)) + triu(S, 1) .^ 2)", "S"),
    ("f = a' @ max(X, 1) + min(X, 0) @ b + max(X)", "X"),
    ("f = sum(Y * log_softmax(X, 0))", "X"),
    ("f = logsumexp(X, 0) @ b", "X"),
])
def test_text_and_latex_read_back(text, wrt):
    problem = DECLARED + text
    gradient = matcalc.derive(problem, wrt=wrt, check=False)
    assert matcalc.verify(problem, wrt, gradient.text.split(" = ", 1)[1]).ok
    assert matcalc.verify(problem, wrt, to_latex(gradient.result), latex=True).ok


def test_the_forms_print_and_read_back_as_themselves():
    program = matcalc.parse(DECLARED + "f = where(tril(ones(T, T), -1), S, -inf)\n"
                                       "g = max(X, 0) @ b + logsumexp(log_softmax(X))' @ a\n"
                                       "h = triu(ismin(S, 1), 2)\n"
                                       "k = softmax(X, 0) + log_softmax(Y, 0)")
    for name in "fghk":
        node = program.definitions[name].body
        again = matcalc.parse(DECLARED + f"e = {node}").definitions["e"].body
        assert again is node, (str(node), str(again))
    assert str(program.definitions["f"].body) == "where(tril(ones(T, T), -1), S, -inf)"
    assert str(program.definitions["k"].body) == "softmax(X, 0) + log_softmax(Y, 0)"
    assert to_latex(program.definitions["k"].body) == (
        r"\operatorname{softmax}\left(X, 0\right) + \operatorname{log\_softmax}\left(Y, 0\right)")
    assert to_latex(program.definitions["f"].body) == (
        r"\operatorname{where}\left(\operatorname{tril}\left(\mathbf{1}_{T} \mathbf{1}_{T}^\top,"
        r" -1\right), S, -\infty\right)")


def test_sympy_says_which_operation_has_no_form():
    for text, name in (("tril(S)", "tril"), ("where(M, S, 0)", "where"), ("max(X, 1)", "axis_max"),
                       ("log_softmax(X)", "log_softmax")):
        with pytest.raises(UnsupportedError, match=f"{name} has no SymPy"):
            matcalc.parse(DECLARED + f"f = {text}").to_sympy()


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_generated_code_matches_the_evaluator(backend):
    results = matcalc.derive(CAUSAL + " + sum(Y * log_softmax(X, 0)) + a' @ max(X, 1) + min(X)"
                                      " + sum(where(M, tril(S, -1), -inf) .^ 0)",
                             wrt=["S", "X"], check=False)
    assert_generated_code_matches(results, backend)


# -- random expressions through masks and along axes --------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import any_node  # noqa: E402

from matcalc.core import ir  # noqa: E402
from matcalc.core.shapes import Kind  # noqa: E402

BASE = program("M : matrix(n, n) mask\nbase = a")
CONSTRUCTS = ("tril", "triu", "where", "where_inf", "softmax0", "log_softmax", "log_softmax0",
              "logsumexp0", "max", "axis_max", "axis_min")


@st.composite
def through_a_mask_or_axis(draw):
    """A construct of this module applied to a random matrix expression."""
    variables = BASE.variables
    inner = any_node(variables, draw, 2)
    if inner.kind is not Kind.MATRIX:
        inner = ir.apply("mul", inner, variables["A"]) if inner.is_scalar else variables["C"]
    square = inner.shape.rows is inner.shape.cols
    op = draw(st.sampled_from(CONSTRUCTS))
    if op in ("tril", "triu"):
        return ir.apply(op, inner, params=(draw(st.integers(-1, 1)),))
    if op.startswith("where"):
        inner = inner if square else variables["A"]
        other = ir.const(-np.inf, infinite=True) if op == "where_inf" else variables["B"]
        masked = ir.apply("where", variables["M"], inner, other)
        return ir.apply("softmax", masked) if op == "where_inf" else masked
    if op.endswith("0"):
        return ir.apply("transpose", ir.apply(op[:-1], ir.apply("transpose", inner)))
    if op.startswith("axis_"):
        return ir.apply(op, inner, params=(draw(st.integers(0, 1)),))
    return ir.apply(op, inner)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(through_a_mask_or_axis())
def test_random_expressions_through_masks_and_axes_match_finite_differences(node):
    proven_through(BASE, node)


@pytest.mark.parametrize("text, op", [("softmax(Z, 0)", "axis_softmax"),
                                      ("max(Z, 1)", "axis_max"), ("max(Z)", "max"),
                                      ("tril(Z)", "tril"), ("softmax(Z, -1)", "softmax")])
def test_tensors_take_the_axis_forms_along_any_axis(text, op):
    # the last axis of a row-wise function is the plain operation (softmax(Z, -1) = softmax(Z))
    built = matcalc.parse(f"Z : tensor(B, T, T)\nf = {text}").definitions["f"].body
    assert built.op == op
    assert str(built) == ("softmax(Z)" if text == "softmax(Z, -1)" else text)

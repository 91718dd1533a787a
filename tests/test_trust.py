"""Cases that were silently wrong: each test here failed before its fix.

Symmetric and simplex variables in Hessians, a bare I next to a scalar, answers that are NaN,
huge literals, LaTeX juxtaposition before a transpose, and problems whose last definition is a
vector or a matrix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import matcalc
from matcalc.errors import UnsupportedError
from matcalc.grading.answers import answer_node
from matcalc.steps import check_steps

ROOT = Path(__file__).resolve().parent.parent

# -- Hessians with respect to symmetric (spd) and simplex variables ---------------------------
# The convention (docs/guide.md): the unconstrained derivative at a symmetric point.  The
# gradient of logdet(S) is inv(S)' (= inv(S) at the point); its derivative is
# -K @ kron(inv(S)', inv(S)) (Magnus & Neudecker 2019, ch. 9), which keeps the commutation matrix
# K that simplifying inv(S)' to inv(S) before differentiating loses.

SYMMETRIC_HESSIANS = {
    "logdet": "S : matrix(n, n) spd\nf = logdet(S)\nhessian f wrt S",
    "gaussian covariance": ("x : vector(n); mu : vector(n); S : matrix(n, n) spd\n"
                            "d = x - mu\nL = 0.5 * logdet(S) + 0.5 * d' @ inv(S) @ d\n"
                            "hessian L wrt S"),
    "trace of a square": "S : matrix(n, n) symmetric; A : matrix(n, n)\n"
                         "f = tr(S @ A @ S)\nhessian f wrt S",
    "simplex": "y : vector(n) simplex; t : vector(n)\nf = sum(y) * sum(y * t)\nhessian f wrt y",
    "inverse": "S : matrix(n, n) spd; a : vector(n)\nf = a' @ inv(S) @ a\nhessian f wrt S",
}


@pytest.mark.parametrize("problem", SYMMETRIC_HESSIANS.values(), ids=SYMMETRIC_HESSIANS)
def test_hessians_wrt_constrained_variables_are_proven(problem):
    hessian = matcalc.derive(problem)
    for seed in (0, 1, 2):
        assert matcalc.check(hessian, seed=seed).ok, hessian.text


def test_the_logdet_hessian_keeps_its_commutation_matrix():
    hessian = matcalc.derive(SYMMETRIC_HESSIANS["logdet"])
    assert hessian.result.op == "neg" and "commutation(n, n)" in str(hessian.result)


@pytest.mark.parametrize("name", ["logdet", "gaussian covariance"])
def test_the_steps_of_symmetric_hessians_hold(name):
    hessian = matcalc.derive(SYMMETRIC_HESSIANS[name])
    assert all(verdict.ok for verdict in check_steps(hessian.steps, seed=1))


def test_symmetry_still_shapes_what_is_printed():
    # the gradient itself is printed at the symmetric point: inv(S), not inv(S)'
    assert matcalc.derive("S : matrix(n, n) spd\nf = logdet(S)", wrt="S").text == \
        "df_dS = inv(S)"


# -- a bare I sizes itself from the sum or product it stands in --------------------------------


@pytest.mark.parametrize("text, expected", [
    ("W : matrix(n, k); s2 : scalar positive\nC = W @ W' + s2 * I\nL = logdet(C)",
     "W @ W' + s2 * I"),  # printed bare beside the matrix that sizes it
    ("A : matrix(n, n); lam : scalar\nC = A + lam * I / 2\nf = tr(inv(C))",
     "A + lam * I(n) / 2"),
    ("A : matrix(n, n); lam : scalar\nC = A - I * lam\nf = tr(C @ C)", "A - I * lam"),
    ("A : matrix(n, m)\nC = -I @ A\nf = sum(C)", "-I(n) @ A"),
])
def test_a_bare_identity_takes_its_size_from_the_matrix(text, expected):
    program = matcalc.parse(text)
    assert str(program.definitions["C"].body) == expected
    # the same function as with I(n) written out: the same derivative, proven
    explicit = matcalc.parse(text.replace("* I", "* I(n)").replace("I *", "I(n) *")
                             .replace("-I", "-I(n)"))
    variable = next(iter(program.variables))
    derived = matcalc.derive(program, wrt=variable)
    assert derived.text == matcalc.derive(explicit, wrt=variable).text
    assert matcalc.check(derived, seed=0).ok


@pytest.mark.parametrize("text", ["s : scalar\nf = s + I", "s : scalar\nf = 2 * I",
                                  "x : vector(n)\nf = x' @ x * I"])
def test_a_bare_identity_next_to_scalars_only_asks_for_its_size(text):
    with pytest.raises(matcalc.MatcalcError, match=r"write I\(n\)"):
        matcalc.parse(text)


@pytest.mark.parametrize("latex, expected", [
    (r"X^\top X + \lambda I", "X' @ X + lambda * I(n)"),
    (r"\sigma^2 I + X^\top X", "sigma ^ 2 * I(n) + X' @ X"),
    (r"(X^\top X + \lambda I)^{-1}", "inv(X' @ X + lambda * I(n))"),
    # the identity in a font: \mathbf{I} was read as the function I and wanted its argument
    (r"X^\top X + \lambda \mathbf{I}", "X' @ X + lambda * I(n)"),
    (r"X^\top X + \lambda \boldsymbol{I}_n", "X' @ X + lambda * I(n)"),
    (r"X^\top X + \lambda \mathrm{I}", "X' @ X + lambda * I(n)"),
])
def test_latex_sizes_a_bare_identity_too(latex, expected):
    declarations = "X : matrix(m, n); lambda : scalar; sigma : scalar positive"
    program = matcalc.parse(declarations)
    # the same node as the identity written with its size (results print it bare: lambda * I)
    sized = matcalc.parse(f"{declarations}\nE = {expected}").definitions["E"].body
    assert answer_node(program, latex, True)[1] == sized


# -- a NaN or infinite answer is never correct --------------------------------------------------

CS224N = (ROOT / "derivations" / "cs224n_one_layer.mc").read_text()


@pytest.mark.parametrize("answer", ["W' @ ((U' @ (yhat - y)) * step(z)) / 0",
                                    "W' @ ((U' @ (yhat - y)) * step(z)) / (sum(x) - sum(x))"])
def test_an_answer_without_a_finite_value_is_wrong(answer):
    verdict = matcalc.verify(CS224N, wrt="x", of="J", answer=answer)
    assert not verdict.ok and "no finite value" in verdict.hint


# an overflow is a finite value floating point cannot hold (0 * exp(1000) is 0): the answer is
# never correct, and never wrong for it either; the grader says it cannot judge it
@pytest.mark.parametrize("answer", ["0 * exp(1000 * ones(Dx)) * x",
                                    "(((U' @ (yhat - y)) * step(z)) @ x') * (exp(1000) * 0)",
                                    "W' @ ((U' @ (yhat - y)) * step(z)) * exp(800) * exp(-800)"])
def test_an_answer_that_overflows_is_not_judged(answer):
    wrt = "W" if "x'" in answer else "x"
    with pytest.raises(UnsupportedError, match="cannot judge this answer.*overflows"):
        matcalc.verify(CS224N, wrt=wrt, of="J", answer=answer)


def test_a_literal_beyond_float64_is_an_error_with_its_place():
    with pytest.raises(matcalc.MatcalcError, match="too large") as caught:
        matcalc.parse("x : vector(n)\nf = 0 * 1e999 * sum(x)")
    assert "line 2, column 9" in str(caught.value)


# -- LaTeX: a transpose after juxtaposed names binds to the last one ----------------------------

JUXTAPOSED = {
    r"BA^\top": r"B A^\top", r"BA^T": r"B A^T", r"xx^T": r"x x^T", r"A^TB^T": r"A^T B^T",
    r"CBA^T": r"C B A^T", r"BA^{-1}": r"B A^{-1}", r"BA'": r"B A'", r"x^Tx": r"x^T x",
    r"\mathbf{x}\mathbf{x}^\top": r"\mathbf{x} \mathbf{x}^\top", r"W_1x": r"W_1 x",
    r"\alpha xy^T": r"\alpha x y^T", r"A^TB^TC": r"A^T B^T C", r"W_{1}W_2^\top": r"W_1 W_2^T",
}


@pytest.mark.parametrize("joined, spaced", JUXTAPOSED.items(), ids=list(JUXTAPOSED))
def test_juxtaposition_reads_as_its_spaced_form(joined, spaced):
    import numpy as np

    from matcalc.numeric.evaluate import evaluate
    from matcalc.numeric.sampling import random_instance

    program = matcalc.parse("A, B, C, W1, W2 : matrix(n, n); x, y : vector(n); alpha : scalar")
    read, expected = answer_node(program, joined, True)[1], answer_node(program, spaced, True)[1]
    point = random_instance(program, seed=0)
    assert np.allclose(evaluate(program, read, point.arrays, sizes=point.sizes),
                       evaluate(program, expected, point.arrays, sizes=point.sizes))


def test_seed_000s_answer_written_juxtaposed_is_correct():
    problem = "A : matrix(m, n); B : matrix(p, m); X : matrix(n, p)\nf = tr(B @ A @ X)"
    assert matcalc.verify(problem, wrt="X", answer=r"A^TB^T").ok


# -- no request: a vector or matrix function gets its Jacobian ---------------------------------


@pytest.mark.parametrize("path", sorted((ROOT / "derivations").rglob("*.mc")),
                         ids=lambda path: path.name)
def test_every_gallery_file_derives_with_the_plain_command(path, capsys):
    from matcalc.cli.main import main

    assert main(["derive", str(path)]) == 0, capsys.readouterr().err


def test_a_vector_function_without_a_request_gets_its_jacobian():
    jacobian = matcalc.derive("z : vector(n)\ns = softmax(z)", wrt="z")
    assert jacobian.kind == "jacobian" and jacobian.text == "ds_dz = Diag(s) - s @ s'"
    assert matcalc.check(jacobian, seed=0).ok


# -- the safety net: derive checks its results by default ---------------------------------------


def _broken_tanh(monkeypatch):
    import matcalc.rules.operations as operations

    broken = dict(operations.ADJOINTS, tanh=(lambda node, out, g: g,))  # drops tanh'
    monkeypatch.setattr("matcalc.engine.accumulate.ADJOINTS", broken)


def test_derive_checks_its_result_by_default():
    derivative = matcalc.derive("sum(tanh(W @ x))", wrt="x")
    assert derivative.checked is not None and derivative.checked.ok
    assert derivative.checked.trials == 1  # quick: one point; matcalc.check is thorough
    assert matcalc.derive("sum(tanh(W @ x))", wrt="x", check=False).checked is None


def test_a_result_that_fails_its_check_warns(monkeypatch):
    _broken_tanh(monkeypatch)
    with pytest.warns(matcalc.CheckWarning, match="do not use it"):
        derivative = matcalc.derive("sum(tanh(W @ x))", wrt="x")
    assert not derivative.checked.ok


def test_the_command_line_never_prints_a_failed_result_as_fine(monkeypatch, capsys):
    from matcalc.cli.main import main

    _broken_tanh(monkeypatch)
    assert main(["derive", "sum(tanh(W @ x))", "--wrt", "x"]) == 1
    captured = capsys.readouterr()
    assert "# check FAILED" in captured.out and "not to be trusted" in captured.err
    assert main(["derive", "sum(tanh(W @ x))", "--wrt", "x", "--no-check"]) == 0
    assert "check" not in capsys.readouterr().out
    assert main(["derive", "sum(tanh(W @ x))", "--wrt", "x", "--format", "json"]) == 1
    assert '"ok": false' in capsys.readouterr().out


def test_a_result_that_passes_prints_as_before(capsys):
    from matcalc.cli.main import main

    assert main(["derive", "x' @ A @ x", "--wrt", "x"]) == 0
    assert capsys.readouterr().out == "# grad f wrt x\ndf_dx = (A' + A) @ x\n"


def test_maximum_at_a_tie_takes_one_side():
    # maximum(a, a) is a: a derivative that took neither side at the tie would be 0 (found by the
    # property campaign)
    derivative = matcalc.derive("a : vector(n)\nf = sum(maximum(a, a))", wrt="a")
    assert derivative.text == "df_da = ones(n)" and derivative.checked.ok
    relu = matcalc.derive("Z : matrix(n, m)\nf = sum(maximum(Z, 0) * maximum(Z, 0))", wrt="Z")
    assert relu.text == "df_dZ = 2 * maximum(Z, 0)"  # maximum(Z, 0) * step(Z) = maximum(Z, 0)
    assert matcalc.check(relu, seed=2).ok
    latex = answer_node(matcalc.parse("Z : matrix(n, m)"), r"\max(Z, 0) + \min(0, Z)", True)[1]
    assert str(latex) == "maximum(Z, 0) + minimum(0, Z)"


def test_a_result_that_inverts_a_singular_matrix_is_inconclusive_not_a_crash():
    # det(minimum(a, A)) with a below every entry of A is det of a matrix of equal entries: the
    # function is defined, f * inv(M)' is not (found by the property campaign: LinAlgError)
    derivative = matcalc.derive("A : matrix(3, 3); a : scalar\nf = det(minimum(a, A))", wrt="a",
                                check=False)
    verdict = matcalc.check(derivative, at={"A": np.full((3, 3), 5.0), "a": 1.0})
    assert verdict.inconclusive and not verdict.ok
    assert "singular" in str(verdict)

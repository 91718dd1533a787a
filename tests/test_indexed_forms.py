"""Hessians and Jacobians with a Kronecker or vec structure print as index sums (engine/indexed.py).

A Hessian with respect to a matrix came out of the vec rules as a chain of kron(I(k), .),
Diag(vec(.)) and I(N*k) that a reader had to contract by hand; it now prints as einsums whose
output groups the row and column letters (``->(ia)(jb)``), the sum over the batch that Bishop
(2006, eq. 4.110) writes for softmax regression.  Each form is proved by finite differences,
agrees with the Kronecker chain it was made from (which generated code computes), and reads back
in the text language and in LaTeX.
"""

from __future__ import annotations

import numpy as np
import pytest

import matcalc
from matcalc.core.ir import walk
from matcalc.engine.indexed import indexed
from matcalc.errors import ParseError, UnsupportedError
from matcalc.numeric.check import check
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

DECLARED = "X : matrix(N, d)\nW : matrix(d, k)\nY : matrix(N, k)\nb : vector(k)\n"
PROBLEMS = {
    "softmax regression": "L = -sum(Y * log(softmax(X @ W)))\nhessian L wrt W",
    "mean with a bias": "L = -sum(Y * log(softmax(X @ W + ones(N) @ b'))) / N\n"
                        "hessian L wrt W",
    "squared log-probabilities": "L = sum(log(softmax(X @ W)) .^ 2) / 2\nhessian L wrt W",
    "row log-sum-exp": "L = sum(logsumexp(X @ W))\nhessian L wrt W",
    "squared probabilities": "L = sum(softmax(X @ W) .^ 2)\nhessian L wrt W",
    "softmax Jacobian": "P = softmax(X @ W)\njacobian P wrt W",
}
HESSIANS = [name for name in PROBLEMS if "hessian" in PROBLEMS[name]]


def derived(name: str):
    return matcalc.derive(DECLARED + PROBLEMS[name], check=False)


def kronecker_chain(node) -> bool:
    return any(n.op in ("kron", "vec", "commutation") for n in walk(node))


@pytest.mark.parametrize("name", HESSIANS)
def test_a_hessian_wrt_a_matrix_prints_as_index_sums(name):
    result = derived(name)
    assert result.computed is not None and kronecker_chain(result.computed)
    assert not kronecker_chain(result.result), result.text
    assert "einsum(" in result.text and "->(ia)(jb)" in result.text, result.text
    assert r"\right]_{(ia)(jb)}" in result.latex and r"\sum_{n" in result.latex


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_the_index_sums_hold_by_finite_differences(name):
    verdict = check(derived(name), seed=4)
    assert verdict.ok, verdict


def test_diagonal_factors_met_in_the_chain_cancel():
    # Diag(vec(1 / P)) @ (Diag(vec(P)) @ ...) inside the Hessian's chain: one Diag of the
    # entrywise product, which cancels (it printed as a sum over 1 / P_ni P_ni)
    result = derived("squared log-probabilities")
    assert "1 / softmax" not in result.text and "1 / softmax" not in str(result.computed)
    assert 'einsum("na,nb,ij->(ia)(jb)", X, X, I(k))' in result.text, result.text
    assert check(result, seed=4).ok


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_the_index_sums_equal_the_chain_they_come_from(name):
    result = derived(name)
    chain = result.computed if result.computed is not None else result.result
    for seed in (1, 2):
        point = random_instance(result.program, seed=seed)
        np.testing.assert_allclose(
            evaluate(result.program, result.result, point.arrays, sizes=point.sizes),
            evaluate(result.program, chain, point.arrays, sizes=point.sizes),
            rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", HESSIANS)
def test_the_printed_forms_read_back(name):
    from matcalc.lang.answers import read_answer

    result = derived(name)
    _, right = result.latex_lines()[-1]
    point = random_instance(result.program, seed=6)
    want = evaluate(result.program, result.result, point.arrays, sizes=point.sizes)
    for text, latex in ((str(result.result), False), (right, True)):
        program, node = read_answer(result.program, text, latex)
        np.testing.assert_allclose(evaluate(program, node, point.arrays, sizes=point.sizes),
                                   want, rtol=1e-10, atol=1e-12, err_msg=text)


def test_the_printed_forms_are_right_answers_and_a_wrong_grouping_is_not():
    result = derived("softmax regression")
    _, right = result.latex_lines()[-1]
    problem = DECLARED + PROBLEMS["softmax regression"]
    assert matcalc.verify(problem, "W", str(result.result), kind="hessian").ok
    assert matcalc.verify(problem, "W", right, kind="hessian", latex=True).ok
    swapped = str(result.result).replace("->(ia)(jb)", "->(ai)(bj)")
    assert not matcalc.verify(problem, "W", swapped, kind="hessian").ok


def test_bishops_sum_over_the_batch():
    # sum_n kron(Diag(p_n) - p_n p_n', x_n x_n') for one-hot rows of Y (Bishop 2006, 4.110)
    result = matcalc.derive(DECLARED.replace("matrix(N, k)\n", "matrix(N, k) simplex\n", 1) +
                            PROBLEMS["softmax regression"], check=False)
    assert str(result.result) == (
        'einsum("na,ni,nb,ij->(ia)(jb)", X, softmax(X @ W), X, I(k)) - '
        'einsum("na,ni,nj,nb->(ia)(jb)", X, softmax(X @ W), softmax(X @ W), X)')
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(6, 3)), rng.normal(size=(3, 4))
    y = rng.dirichlet(np.ones(4), size=6)
    p = np.exp(x @ w) / np.exp(x @ w).sum(axis=1, keepdims=True)
    want = sum(np.kron(np.diag(p[n]) - np.outer(p[n], p[n]), np.outer(x[n], x[n]))
               for n in range(6))
    got = evaluate(result.program, result.result, {"X": x, "W": w, "Y": y, "b": np.zeros(4)})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("text", [
    "kron(A, B) @ commutation(m, n)", "commutation(n, m) @ kron(A, B)",
    "kron(I(n), A) @ Diag(vec(C)) @ kron(I(n), A')",
    "kron(ones(n) @ ones(n)', I(m)) @ Diag(vec(C))",
    "Diag(vec(C)) @ (I(m*n) - kron(ones(n) @ ones(n)', I(m)) @ Diag(vec(C)))",
    # a letter summed that no operand holds sums a constant: ones(n)' @ ones(n) = n
    "kron(ones(m) @ ones(n)', I(m)) @ kron(ones(n) @ ones(n)', I(m))",
    "kron(ones(m) @ ones(n)', I(m)) @ (I(m*n) - kron(ones(n) @ ones(n)', I(m)) @ Diag(vec(C)))",
    "kron(ones(n)', A) @ kron(ones(n), A')",
    "kron(ones(m*n)', I(m)) @ kron(ones(m*n), C)",
    "kron(C', I(m)) @ Diag(vec(I(m))) @ kron(ones(m) @ ones(n)', I(m))",  # joined, not summed
])
def test_kronecker_chains_and_their_index_sums_agree(text):
    program = matcalc.parse("A : matrix(m, m); B : matrix(n, n); C : matrix(m, n)\nF = " + text)
    node = program.definitions["F"].body
    found = indexed(node)
    assert found is not None and not kronecker_chain(found), found
    arrays = random_instance(program, seed=3).arrays
    np.testing.assert_allclose(evaluate(program, found, arrays), evaluate(program, node, arrays),
                               rtol=1e-10, atol=1e-12)


GROUPED = "X : matrix(N, d)\nP : matrix(N, k)\n"


def assert_grouped_code_matches(source: str, backend: str, arrays: dict, want) -> None:
    # the interpreter and generated code run the same _einsum helper of each backend
    library = pytest.importorskip(backend) if backend != "numpy" else np
    from matcalc.codegen.backends import backend as spelling
    from matcalc.codegen.module import load

    header = spelling(backend).header
    module = load(header + f"\n\ndef G(P, X):\n    return _einsum({SPEC!r}, P, X, P, X)\n")
    if backend == "torch":
        arrays = {k: library.as_tensor(v) for k, v in arrays.items()}
    np.testing.assert_allclose(np.asarray(module.G(**arrays)), want, rtol=1e-5, atol=1e-5)


SPEC = "ni,na,nj,nb->(ia)(jb)"


def test_grouped_output_letters_make_one_axis_in_every_backend():
    source = GROUPED + 'G = einsum("ni,na,nj,nb->(ia)(jb)", P, X, P, X)'
    program = matcalc.parse(source)
    node = program.definitions["G"].body
    assert str(node.shape) == "d*k x d*k" and str(node) == \
        'einsum("ni,na,nj,nb->(ia)(jb)", P, X, P, X)'
    rng = np.random.default_rng(2)
    x, p = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    want = np.einsum("ni,na,nj,nb->iajb", p, x, p, x).reshape(12, 12)
    np.testing.assert_allclose(evaluate(program, node, {"X": x, "P": p}), want, rtol=1e-12)
    for backend in ("numpy", "torch", "jax"):
        assert_grouped_code_matches(source, backend, {"X": x, "P": p}, want)


@pytest.mark.parametrize(("spec", "error", "message", "at"), [
    ("ni,na->(ia", ParseError, "never closed", 7),
    ("->(ia", ParseError, "never closed", 2),
    ("ni,na->i(a", ParseError, "never closed", 8),
    ("ni,na->((ia))", ParseError, "do not nest", 8),
    ("ni,na->ia)", ParseError, "closes no group", 9),
    ("ni,na->(i))a", ParseError, "closes no group", 10),
    ("ni,na->()ia", ParseError, "empty group", 8),
    ("ni,na)->ia", ParseError, r"'\)' is not an index", 5),
    ("ni,na,nb->(in)(a)(b)", UnsupportedError, "at most two groups", None),
])
@pytest.mark.parametrize("quote", ['"', "'"])
def test_malformed_groups_are_refused_with_their_place(spec, error, message, at, quote):
    # a bracket inside the spec is the spec's: the caret points at it, inside the quotes,
    # not at einsum's own bracket (at: the offset of the bad bracket in the spec)
    operands = "P, X, X" if spec.count(",") == 2 else "P, X"
    with pytest.raises(error, match=message) as caught:
        matcalc.parse(GROUPED + f"G = einsum({quote}{spec}{quote}, {operands})")
    assert caught.value.line == 3, str(caught.value)
    if at is not None:
        assert caught.value.column == len("G = einsum(\"") + 1 + at, str(caught.value)


@pytest.mark.parametrize(("subscript", "message", "at"), [
    ("(ia", "never closed", 0),
    ("i(a", "never closed", 1),
    ("ia)", "closes no group", 2),
    ("(i)a)", "closes no group", 4),
    ("((ia))", "do not nest", 1),
    ("()ia", "empty group", 1),
    ("(iz)", "z is in no operand's term", 2),
    ("(ia)(i)", "i is repeated", 5),
])
def test_a_malformed_bracket_subscript_in_latex_is_an_error_at_its_place(subscript, message, at):
    # the LaTeX form of a grouped output (\right]_{(ia)(jb)}) is checked as einsum's spec is:
    # the caret at the bad letter or parenthesis of the subscript, not at the bracket
    from matcalc.grading.answers import answer_node

    latex = r"\left[\sum_{n} P_{ni} X_{na}\right]_{" + subscript + "}"
    with pytest.raises(ParseError, match=message) as caught:
        answer_node(matcalc.parse(GROUPED), latex, True)
    assert caught.value.column == latex.index("]_{") + 4 + at, str(caught.value)


def test_a_grouped_einsum_is_not_differentiated_silently():
    with pytest.raises(UnsupportedError, match="groups letters"):
        matcalc.derive(GROUPED + 'f = sum(einsum("ni,na->(ia)", P, X))', wrt=["X"], check=False)


def test_sympy_gets_the_chain_the_index_sums_equal():
    pytest.importorskip("sympy")
    result = derived("softmax regression")
    assert "einsum" in str(result.result)
    assert "KroneckerProduct" in type(result.expr).__name__ or "Kronecker" in str(result.expr)


def test_the_check_proves_the_printed_form_not_the_chain_code_computes():
    from dataclasses import replace

    from matcalc.core.ir import apply, const

    result = derived("softmax regression")
    assert result.code_node is result.computed
    wrong = replace(result, result=apply("mul", const(1.01), result.result))
    assert wrong.code_node is wrong.result  # a changed result is computed as it is
    assert not check(wrong, seed=4).ok


@pytest.mark.parametrize("source", ["x : vector(m); u : vector(n)\ne = kron(x, u)",
                                    "x : vector(m); u : vector(n)\ne = unvec(kron(x, u), m, n)"])
def test_a_chain_with_axes_of_one_entry_keeps_its_form_and_holds(source):
    # kron of vectors: the vec rules meet I(1); an index form would need a letter of one entry
    results = matcalc.derive(source, wrt=["x", "u"], of="e", kind="jacobian")
    for verdict in check(results, seed=6):
        assert verdict.ok, verdict

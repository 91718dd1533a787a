"""Batch sums in LaTeX: ``sum(X' @ G, 0)`` prints as ``\\sum_{b} X_{b}^\\top G_{b}``, a bias
gradient ``sum(sum(delta, 0), 0)'`` as ``\\sum_{b,t} \\delta_{bt}``, and both read back."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import matcalc
from matcalc.errors import MatcalcError, UnsupportedError
from matcalc.lang.answers import read_answer
from matcalc.numeric.evaluate import evaluate
from matcalc.present.latex import result_lines, to_latex

DERIVATIONS = Path(__file__).resolve().parent.parent / "derivations"
# the attention problems, and every problem with a tensor (transformer block, next-token
# cross-entropy, ...)
GALLERY = sorted({path.stem for path in DERIVATIONS.glob("*.mc")
                  if "attention" in path.stem or "tensor(" in path.read_text()})
CASES = int(os.environ.get("MATCALC_BATCH_SUM_CASES", "12"))  # random expressions


def _answer(result) -> str:
    """The result's LaTeX as a student would hand it in: its definitions, then the result."""
    lines = result_lines(result)
    return "; ".join([f"{left} = {right}" for left, right in lines[:-1]] + [lines[-1][1]])


@pytest.mark.parametrize("name", GALLERY)
def test_the_gallerys_tensor_results_read_back_from_latex(name):
    source = (DERIVATIONS / f"{name}.mc").read_text()
    results = matcalc.derive(source, check=False)
    for result in [results] if isinstance(results, matcalc.Derivative) else results:
        assert matcalc.verify(source, result.wrt, _answer(result), latex=True).ok, result.wrt


def test_shared_weights_and_biases_are_sums_over_the_batch():
    results = {r.wrt: r for r in matcalc.derive((DERIVATIONS / "transformer_block.mc").read_text(),
                                                 check=False)}
    for wrt, expected in [
            ("Wq", r"\sum_{b} A_{b}^\top \delta_{10,b}"),
            ("W2", r"\sum_{b} \operatorname{relu}\left(M_{b} W_{1} + c_{1}^\top\right)^\top G_{b}"),
            ("Wo", r"\mathit{Wv}^\top \sum_{b} A_{b}^\top P_{b}^\top \delta_{4,b}"),
            ("b1", r"\sum_{b,t} \delta_{11,bt}"),
            ("g1", r"\sum_{b,t} \left(\delta_{11,bt} \odot N_{1,bt}\right)")]:
        assert f"&= {expected}\n" in results[wrt].latex, wrt
    assert results["b1"].text.endswith("dL_db1 = sum(sum(delta11, 0), 0)'")
    attention = matcalc.derive((DERIVATIONS / "batched_attention.mc").read_text(), wrt="Wv",
                               check=False)
    assert r"&= \sum_{b} X_{b}^\top P_{b}^\top G_{b}" in attention.latex


DECLARED = ("X, Y : tensor(B, n, n)\nZ, V : tensor(B, H, n, n)\nW : matrix(n, n)\n"
            "c : vector(n)\n")
SIZES = {"B": 3, "H": 2, "n": 4}


def _arrays(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = {"X": "Bnn", "Y": "Bnn", "Z": "BHnn", "V": "BHnn", "W": "nn", "c": "n"}
    return {name: rng.normal(size=tuple(SIZES[d] for d in dims)) for name, dims in shapes.items()}


def _random_body(rng: np.random.Generator, tensors: tuple[str, str], depth: int,
                 entrywise: bool) -> str:
    """A random expression of the two tensors (and, unless ``entrywise``, the matrix W and the
    row c'), built from operations that act on each batch entry alone."""
    if depth == 0:
        leaves = list(tensors) + ([] if entrywise else ["W", "c'"])
        leaf = leaves[rng.integers(len(leaves))]
        return f"({tensors[0]} + c')" if leaf == "c'" else leaf
    a = _random_body(rng, tensors, depth - 1, entrywise)
    b = _random_body(rng, tensors, depth - 1, entrywise)
    choices = ["add", "mul", "sub", "tanh"] + ([] if entrywise else ["matmul", "transpose",
                                                                    "softmax"])
    kind = choices[rng.integers(len(choices))]
    return {"add": f"({a} + {b})", "sub": f"({a} - {b})", "mul": f"({a} * {b})",
            "tanh": f"tanh({a})", "matmul": f"({a} @ {b})", "transpose": f"({a})'",
            "softmax": f"softmax({a})"}[kind]


@pytest.mark.parametrize("seed", range(CASES))
def test_random_batch_sums_read_back_from_latex(seed):
    rng = np.random.default_rng(seed)
    form = seed % 3  # a sum over the batch, over two leading axes, over batch and rows
    tensors = ("Z", "V") if form == 1 else ("X", "Y")
    body = _random_body(rng, tensors, int(rng.integers(1, 4)), entrywise=form == 2)
    if tensors[0] not in body and tensors[1] not in body:
        body = f"{tensors[0]} * ({body})"
    text = {0: f"sum({body}, 0)", 1: f"sum(sum({body}, 0), 0)",
            2: f"sum(sum({body}, 0), 0)'"}[form]
    program = matcalc.parse(DECLARED + f"f = {text}")
    node = program.definitions["f"].body
    latex = to_latex(node)
    assert r"\sum_{" in latex, (text, latex)
    arrays = _arrays(seed)
    extended, read = read_answer(program, latex, is_latex=True)
    np.testing.assert_allclose(evaluate(extended, read, arrays), evaluate(program, node, arrays),
                               err_msg=latex)
    # and the text form reads back too
    again = matcalc.parse(DECLARED + f"f = {node}")
    np.testing.assert_allclose(evaluate(again, "f", arrays), evaluate(program, node, arrays))


def test_a_batch_sum_that_is_no_sum_of_slices_prints_as_the_axis_sum():
    # a sum along an axis inside the batch sum does not act on each slice alone
    program = matcalc.parse(DECLARED + "f = sum(X * expand(sum(Y, 2), 2, n), 0)")
    assert to_latex(program.definitions["f"].body).startswith(r"\operatorname{sum}")


@pytest.mark.parametrize(("answer", "ok"), [
    (r"\sum_{b} X_{b}^\top G_{b}", True),
    (r"\sum_{b=1}^{B} X_b^\top G_b", True),
    (r"\left[\sum_{b} X_{b}^\top G_{b}\right]", True),  # square brackets without indices
    (r"\sum_b G_b^\top X_b", False),  # the transpose of the gradient
    (r"\frac{1}{B} \sum_{b} X_{b}^\top G_{b}", False),  # a mean, not the sum
    (r"\sum_{b} X_{b}^\top G_{b} + W", False),
])
def test_batch_sum_answers_are_judged(answer, ok):
    problem = "X : tensor(B, T, d)\nW : matrix(d, k)\nG : tensor(B, T, k)\nL = sum(G * (X @ W))"
    assert matcalc.verify(problem, "W", answer, latex=True).ok is ok


@pytest.mark.parametrize(("answer", "message"), [
    (r"\sum_{b} X_{b}^\top G", "G is a tensor: inside \\sum_{b} write its slice G_{b}"),
    (r"\sum_{b} W_{b}", "W is a matrix, not a tensor"),
    (r"\sum_{b} X_{bt}^\top G_{b}", "a slice carries the summed indices"),
    (r"\sum_{b} W", "nothing after it carries those indices"),
    (r"\sum_{b=1}^{T} X_b^\top G_b", "the index b runs to T, and the axis it indexes has B"),
    (r"\sum_{b,t} X_{bt}^\top X_{bt}", "transpose does not act on each slice alone"),
    (r"\sum_{b} \operatorname{sum}\left(X_{b}, 1\right)", "is a vector of slices"),
    (r"\sum_{b} X_b G_b^\top", "X[b] @ G[b]': X[b] is T x d but G[b]' has k rows"),
])
def test_a_malformed_batch_sum_is_refused_with_what_to_write(answer, message):
    problem = "X : tensor(B, T, d)\nW : matrix(d, k)\nG : tensor(B, T, k)\nL = sum(G * (X @ W))"
    with pytest.raises(MatcalcError) as raised:
        read_answer(matcalc.parse(problem), answer, is_latex=True)
    assert message in str(raised.value)


def test_slices_of_names_with_subscripts_of_their_own():
    program = matcalc.parse("delta2, N1 : tensor(B, T, d)\nW1 : matrix(d, d)\n"
                            "f = sum(delta2 @ W1, 0)\ng = sum(sum(delta2 * N1, 0), 0)'")
    arrays = {"delta2": np.arange(24.0).reshape(2, 3, 4) / 7,
              "N1": np.cos(np.arange(24.0)).reshape(2, 3, 4), "W1": np.eye(4) + 0.5}
    for name, expected in (("f", r"\sum_{b} \delta_{2,b} W_{1}"),
                           ("g", r"\sum_{b,t} \left(\delta_{2,bt} \odot N_{1,bt}\right)")):
        node = program.definitions[name].body
        assert to_latex(node) == expected
        extended, read = read_answer(program, expected, is_latex=True)
        np.testing.assert_allclose(evaluate(extended, read, arrays),
                                   evaluate(program, node, arrays))


def test_an_unsupported_batch_sum_is_an_unsupported_error():
    problem = "X : tensor(B, T, d)\nG : tensor(B, T, d)\nL = sum(G * X)"
    with pytest.raises(UnsupportedError):
        read_answer(matcalc.parse(problem), r"\sum_{b} \operatorname{tr}(X_b^\top X_b)",
                    is_latex=True)


@pytest.mark.parametrize(("answer", "latex", "hinted"), [
    (r"X^\top G", True, True),
    ("X' @ G", False, True),
    ("2 * X' @ G", False, False),  # its batch sum is wrong too: no such hint
    (r"G^\top X", True, False),
])
def test_a_missing_batch_sum_is_hinted(answer, latex, hinted):
    problem = "X : tensor(B, T, d)\nW : matrix(d, k)\nG : tensor(B, T, k)\nL = sum(G * (X @ W))"
    verdict = matcalc.verify(problem, "W", answer, latex=latex)
    assert not verdict.ok
    assert ("is their sum over the batch" in verdict.hint) is hinted, verdict.hint


@pytest.mark.parametrize(("text", "latex"), [
    ("W @ sum(X, 0)", r"W \sum_{b} X_{b}"),
    ("2 * sum(X, 0)", r"2 \sum_{b} X_{b}"),
    ("-sum(X @ W, 0)", r"-\sum_{b} X_{b} W"),
    ("W @ sum(X, 0) @ W", r"\left(W \sum_{b} X_{b}\right) W"),
    ("W - sum(X, 0) @ W + W @ sum(Y, 0)", r"W - \left(\sum_{b} X_{b}\right) W + W \sum_{b} Y_{b}"),
    ("W * sum(X, 0) * W", r"W \odot \sum_{b} X_{b} \odot W"),
    ("(W @ sum(X, 0))' + W", r"\left(W \sum_{b} X_{b}\right)^\top + W"),
    ("sum(X, 0) / B - W", r"\frac{\sum_{b} X_{b}}{B} - W"),
    ("sum(X' @ softmax(X @ W), 0)",
     r"\sum_{b} X_{b}^\top \operatorname{softmax}\left(X_{b} W\right)"),
    ("sum(log_softmax(X)' @ Y, 0)",
     r"\sum_{b} \operatorname{log\_softmax}\left(X_{b}\right)^\top Y_{b}"),
])
def test_a_batch_sum_inside_an_expression_keeps_what_follows_outside(text, latex):
    # \sum takes every factor after it: a factor after a batch sum needs brackets, an operand
    # of + - \odot after one does not
    program = matcalc.parse(DECLARED + f"f = {text}")
    node = program.definitions["f"].body
    assert to_latex(node) == latex
    arrays = _arrays(3)
    extended, read = read_answer(program, latex, is_latex=True)
    np.testing.assert_allclose(evaluate(extended, read, arrays), evaluate(program, node, arrays))

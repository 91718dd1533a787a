"""Joint Hessians: ``hessian L wrt w, b`` gives every block of d^2 L / d[vec w; vec b] d[...]',
the cross blocks d2L_dw_db included, each proven by mixed finite differences; ``--separate``
(``joint=False``) keeps the diagonal blocks only."""

from __future__ import annotations

import numpy as np
from helpers import inlined

import matcalc
from matcalc.cli.main import main
from matcalc.derive import derive_by_request, render
from matcalc.engine.result import Result
from matcalc.numeric.sampling import random_instance

LOGISTIC = ("X : matrix(N, d); w : vector(d); b : scalar; y : vector(N) pm1\n"
            "L = sum(softplus(-y * (X @ w + b)))\nhessian L wrt w, b\n")
MATRIX_AND_VECTOR = ("W : matrix(m, n); v : vector(n); A : matrix(m, m)\n"
                     "f = sum(sin(W @ v)) + tr(W' @ A @ W) * (v' @ v)\nhessian f wrt W, v\n")


def test_the_blocks_of_logistic_regression_with_an_intercept():
    blocks = matcalc.derive(LOGISTIC)
    assert [block.name for block in blocks] == ["d2L_dw_dw", "d2L_dw_db", "d2L_db_db"]
    # y .^ 2 = 1: the weights of labels in {0, 1}
    s = "sigmoid(X @ w + b) * sigmoid(-(X @ w + b))"
    # the weights the three blocks share are named once
    assert {name: str(body) for name, body in blocks["w,b"].where.items()} == {"q1": s}
    assert str(blocks["w,b"].result) == "X' @ q1"
    assert str(blocks["b"].result) == "sum(q1)"
    assert str(inlined(blocks["w,b"])) == f"X' @ ({s})"
    assert all(verdict.ok for verdict in matcalc.check(blocks, seed=1))


def test_a_hessian_names_each_variable_after_its_own_d():
    # the Hessian in W1 reads d2E_dW1_dW1, never d2E_dW12 (which reads as W12); mixed blocks
    # d2E_dW1_dW2; in the printed text, which parses back
    source = ("W1 : matrix(m, n); W2 : matrix(n, p); x : vector(p)\n"
              "E = sum(sin(W1 @ W2 @ x))\nhessian E wrt W1, W2\n")
    blocks = matcalc.derive(source)
    assert [block.name for block in blocks] == ["d2E_dW1_dW1", "d2E_dW1_dW2", "d2E_dW2_dW2"]
    printed = render(derive_by_request(matcalc.parse(source)))
    assert "d2E_dW2_dW1 = d2E_dW1_dW2'" in printed
    reread = matcalc.parse(source + printed)
    assert {"d2E_dW1_dW1", "d2E_dW1_dW2", "d2E_dW2_dW2"} <= set(reread.definitions)


def test_the_assembled_blocks_are_the_hessian_of_the_stacked_variables():
    # an independent reference: central differences of the gradient of [vec W; v] by NumPy
    blocks = matcalc.derive(MATRIX_AND_VECTOR)
    assert [block.type for block in blocks] == ["matrix(m*n, m*n)", "matrix(m*n, n)",
                                                "matrix(n, n)"]
    point = random_instance(blocks[0].program, seed=4)
    values = blocks.numpy()(sizes=point.sizes, **point.arrays)
    H = np.block([[values["W"], values["W,v"]], [values["W,v"].T, values["v"]]])
    gradient = matcalc.derive(blocks[0].program, wrt=["W", "v"], of="f", check=False).numpy()
    W0, v0 = point.arrays["W"], point.arrays["v"]
    m, n = W0.shape

    def stacked_gradient(z):
        arrays = {**point.arrays, "W": z[:m * n].reshape((m, n), order="F"), "v": z[m * n:]}
        g = gradient(sizes=point.sizes, **arrays)
        return np.concatenate([np.ravel(g["W"], order="F"), g["v"]])

    z0 = np.concatenate([np.ravel(W0, order="F"), v0])
    h = 1e-6
    numeric = np.column_stack([(stacked_gradient(z0 + h * e) - stacked_gradient(z0 - h * e))
                               / (2 * h) for e in np.eye(z0.size)])
    np.testing.assert_allclose(H, numeric, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-10)


def test_a_wrong_cross_block_fails_its_check():
    block = matcalc.derive(LOGISTIC)["w,b"]
    from matcalc.core import ir

    for wrong in (ir.apply("mul", ir.const(2.0), block.result), ir.apply("neg", block.result)):
        planted = Result(block.kind, block.of, block.wrt, wrong, block.program, block.of_node,
                         block.derivation, block.across)
        assert not matcalc.check(planted, seed=2).ok


def test_separate_blocks_and_the_command_line(capsys, tmp_path):
    separate = matcalc.derive(LOGISTIC.replace("hessian L wrt w, b\n", ""), wrt=["w", "b"],
                              kind="hessian", joint=False)
    assert [block.name for block in separate] == ["d2L_dw_dw", "d2L_db_db"]
    problem = tmp_path / "logistic.mc"
    problem.write_text(LOGISTIC)
    assert main(["derive", str(problem)]) == 0
    out = capsys.readouterr().out
    assert "# hessian L wrt w, b (blocks of d2L/d[w; b] d[w; b]'; d2L_db_dw = d2L_dw_db')" in out
    assert "d2L_dw_db = " in out
    assert main(["derive", str(problem), "--separate"]) == 0
    assert "d2L_dw_db" not in capsys.readouterr().out
    assert main(["derive", str(problem), "--wrt", "w,b", "--kind", "hessian",
                 "--format", "latex"]) == 0
    assert r"\frac{\partial^2 L}{\partial w \, \partial b^\top}" in capsys.readouterr().out


def test_the_steps_of_a_cross_block_differentiate_the_gradient_by_the_other_variable():
    block = matcalc.derive(LOGISTIC)["w,b"]
    gradient_steps, jacobian_steps = block.steps
    assert "jacobian grad_w wrt b" in jacobian_steps.text
    # the steps derive this block alone: the result with its named quantities written out
    assert str(inlined(block)) in jacobian_steps.text


def test_a_cross_block_is_graded():
    problem = LOGISTIC.replace("hessian L wrt w, b\n", "")
    s = "sigmoid(X @ w + b) * sigmoid(-(X @ w + b))"
    assert matcalc.verify(problem, "w,b", f"X' @ ({s})", kind="hessian").ok
    wrong = matcalc.verify(problem, "w,b", f"-X' @ ({s})", kind="hessian")
    assert not wrong.ok and "sign" in wrong.hint

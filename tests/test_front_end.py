"""The front end: Derivatives indexed by request, results that never collide, generated names
that never meet a user's name, and the command line's folder and prepare() conveniences."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import matcalc
from matcalc.cli.main import main
from matcalc.codegen.module import generate_many, load
from matcalc.lang.build import RESERVED
from matcalc.numeric.sampling import random_instance
from matcalc.steps import check_steps

ROOT = Path(__file__).resolve().parent.parent
LOGISTIC = (ROOT / "derivations" / "logistic_regression.mc").read_text()


def test_derivatives_are_indexed_by_variable_and_by_kind():
    results = matcalc.derive(LOGISTIC)
    assert [d.kind for d in results] == ["grad", "hessian"]
    assert results["grad", "w"].kind == "grad" and results["hessian", "w"].kind == "hessian"
    assert results["hessian", "J", "w"] is results[1]
    with pytest.raises(KeyError, match="index by"):
        results["w"]  # two results of w: the message says how to choose
    with pytest.raises(KeyError, match="no result"):
        results["X"]
    single = matcalc.derive("x' @ A @ x", wrt=["x"])
    assert single["x"] is single[0] and list(single) == [single[0]]


def test_a_gradient_and_a_hessian_of_one_variable_do_not_overwrite_each_other():
    # the defect: both results were returned under the key 'w', the gradient lost
    results = matcalc.derive(LOGISTIC)
    point = random_instance(results[0].program, seed=3)
    for compiled in (True, False):
        values = results.numpy(compiled=compiled)(sizes=point.sizes, **point.arrays)
        assert set(values) == {("grad", "w"), ("hessian", "w")}
        gradient = matcalc.derive(LOGISTIC, wrt="w").numpy()(**point.arrays)
        hessian = matcalc.derive(LOGISTIC, wrt="w", kind="hessian").numpy()(**point.arrays)
        assert np.allclose(values["grad", "w"], gradient)
        assert np.allclose(values["hessian", "w"], hessian)
    # and both are right: each proven by finite differences
    assert all(result.ok for result in matcalc.check(list(results), seed=1))


def test_generated_code_writes_each_key_once():
    source = matcalc.derive(LOGISTIC).code()
    dictionaries = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Dict)]
    for dictionary in dictionaries:
        keys = [ast.literal_eval(key) for key in dictionary.keys]
        assert len(keys) == len(set(keys)), keys


def _names_of_generated_code() -> set[str]:
    """Every identifier a generated module uses (helpers, temporaries, sizes, parameters)."""
    problem = ("X : matrix(N, d); w : vector(d); y : vector(N) pm1; A : matrix(d, d) spd\n"
               "J = sum(log(1 + exp(-y * (X @ w)))) + logdet(A) + sum(softmax(X @ A @ w))\n"
               "hessian J wrt w")
    module = matcalc.derive(problem).code()
    tree = ast.parse(module)
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    names |= {arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments)
              for arg in node.args + node.kwonlyargs}
    return names


# the language keeps function names for itself (a variable cannot be called sign)
COLLIDING = sorted((_names_of_generated_code() | {
    "size_n", "np", "dtype", "prepare", "prepared", "sizes", "float", "lambda", "lambda_",
    "gradient", "prepare_gradient", "_t1", "_size_n", "int", "print", "result", "torch"})
    - RESERVED - {"f"})  # f: the problem's own definition


@pytest.mark.parametrize("name", COLLIDING)
def test_a_user_name_never_meets_a_generated_name(name):
    # a variable named like anything the generated code uses: the code must still compute the
    # interpreter's value (the defect: size_n was overwritten by the size of n, np and dtype
    # crashed, lambda and lambda_ collided)
    # the problem's own definition is named f, so a variable named f (a helper's parameter) is
    # tested beside a definition named g
    value = "g" if name == "f" else "f"
    problem = (f"{name} : vector(size_q); A : matrix(size_q, size_q); lambda_ : scalar\n"
               f"{value} = sum(exp(A @ {name})) + {name}' @ {name} * (1 + lambda_ * lambda_)")
    if name in ("lambda_", "A", "size_q"):
        problem = (f"{name} : vector(n); B : matrix(n, n)\n"
                   f"{value} = sum(exp(B @ {name})) + {name}' @ {name}")
    derivative = matcalc.derive(problem, wrt=name)
    point = random_instance(derivative.program, seed=5)
    compiled = derivative.numpy()(**point.arrays)
    interpreted = derivative.numpy(compiled=False)(**point.arrays)
    assert np.allclose(compiled, interpreted)
    assert matcalc.check(derivative, seed=2).ok


def test_check_takes_a_folder(tmp_path, capsys):
    (tmp_path / "a.mc").write_text("x : vector(n)\nf = sum(exp(x))\ngrad f wrt x\n")
    (tmp_path / "b.mc").write_text("A : matrix(n, n)\nf = tr(A @ A)\ngrad f wrt A\n")
    (tmp_path / "notes.txt").write_text("not a problem")
    assert main(["check", str(tmp_path), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert f"# {tmp_path / 'a.mc'}" in out and f"# {tmp_path / 'b.mc'}" in out
    assert out.count("ok: grad") == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(empty)]) == 2
    assert "no problem files" in capsys.readouterr().err


def test_the_command_lines_numpy_module_has_prepare():
    # what does not depend on C (B @ A) is computed once by prepare(); the result is the same
    groups = [list(matcalc.derive((ROOT / "derivations" / "mathse_batch_softmax.mc").read_text(),
                                  wrt=["C"]))]
    module = load(generate_many(groups))
    point = random_instance(groups[0][0].program, seed=4)
    prepared = module.prepare(**point.arrays)
    direct = module.gradient(**point.arrays)["C"]
    assert np.allclose(module.gradient(**point.arrays, prepared=prepared)["C"], direct)
    assert np.allclose(direct, groups[0][0].numpy(compiled=False)(**point.arrays))


def test_several_requests_get_a_prepare_each():
    problem = ("A : matrix(n, n); B : matrix(n, n); C : matrix(n, n)\n"
               "f = tr(C @ B @ A)\ngrad f wrt C\nhessian f wrt C\n")
    from matcalc.derive import derive_by_request

    groups = derive_by_request(matcalc.parse(problem))
    source = generate_many(groups)
    module = load(source)
    point = random_instance(groups[0][0].program, seed=1)
    assert np.allclose(module.gradient(**point.arrays)["C"],
                       groups[0][0].numpy(compiled=False)(**point.arrays))
    assert "def prepare_gradient(" in source or "def prepare_hessian(" in source


def test_check_steps_says_what_it_takes():
    source = (ROOT / "derivations" / "cs224n_one_layer.mc").read_text()
    with pytest.raises(matcalc.MatcalcError, match="takes the steps of a derivation"):
        check_steps(source, "W", "J")
    hessian = matcalc.derive("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", wrt="x",
                             kind="hessian")
    assert all(verdict.ok for verdict in check_steps(hessian.steps))


def test_a_latex_answer_that_starts_with_equals_is_read():
    # '= 0' (found by the fuzz campaign: it raised IndexError)
    verdict = matcalc.verify("x : vector(n)\nf = sum(x)", "x", "=0", latex=True)
    assert not verdict.ok and "1 x 1" in verdict.hint


def test_verdicts_checks_and_steps_display_in_notebooks():
    problem = "A : matrix(m, n); x : vector(n); b : vector(m)\nL = sum((A @ x - b) .^ 2)"
    wrong = matcalc.verify(problem, "x", "A' @ (A @ x - b)")._repr_markdown_()
    assert wrong.startswith("**wrong**: your answer is 0.5 times") and "read as: $$" in wrong
    right = matcalc.verify(problem, "x", "2 * A' @ (A @ x - b)")._repr_markdown_()
    assert right.startswith("**correct** (max relative error")
    derivative = matcalc.derive(problem, wrt="x")
    assert matcalc.check(derivative)._repr_markdown_().startswith("**ok**: grad L wrt x")
    steps = derivative.steps._repr_latex_()
    assert steps.startswith("$$\n\\begin{aligned}") and steps.endswith("\\end{aligned}\n$$")


def test_an_answer_may_use_the_deltas_of_the_result_where_the_instructor_allows():
    # \delta_2 is the tool's own delta2 (as `matcalc derive` shows the CS224n gradients)
    problem = open("derivations/cs224n_one_layer.mc").read()
    assert matcalc.verify(problem, "W", "\\delta_2 x^\\top", latex=True, allow_deltas=True).ok
    assert matcalc.verify(problem, "U", "delta1 @ h'", allow_deltas=True).ok
    assert not matcalc.verify(problem, "W", "\\delta_1 x^\\top", latex=True,
                              allow_deltas=True).ok
    with pytest.raises(matcalc.MatcalcError, match="unknown name .delta3."):
        matcalc.verify(problem, "W", "delta3 @ x'", allow_deltas=True)
    with pytest.raises(matcalc.MatcalcError, match="allow-deltas"):  # off by default
        matcalc.verify(problem, "U", "delta1 @ h'")

"""Every printer keeps the meaning: what it prints reads back to the same value.

Random expression trees in the language (through the parser) and in LaTeX (through the LaTeX
reader, tests/test_latex_output.py has its own random trees too), every step of every gallery
gradient and Jacobian in both formats, and the expressions quoted in error messages.
"""

from __future__ import annotations

import pathlib
from dataclasses import replace

import numpy as np
import pytest
from helpers import program
from hypothesis import given
from strategies import expressions

import matcalc
from matcalc.core import ir
from matcalc.core.printer import operation_text
from matcalc.grading.answers import answer_node
from matcalc.numeric.evaluate import prepare
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import LatexStyle, latex_name, to_latex
from matcalc.present.steps import jacobian_steps, steps

BASE = program("base = a")
GALLERY = sorted(pathlib.Path("derivations").glob("*.mc"))


def _same_value(extended, node, read, message: str) -> None:
    assert read.shape == node.shape, message
    instance = random_instance(extended, seed=1)
    evaluation = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
    want, got = np.asarray(evaluation.value(node)), np.asarray(evaluation.value(read))
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1.0)
    assert np.allclose(got, want, rtol=1e-9, atol=1e-9 * scale), message


@given(expressions(BASE.variables, max_depth=4))
def test_random_expressions_read_back_from_text(node):
    extended = BASE.extended({"e": node})
    text = str(node)
    _, read = answer_node(extended, text, False)
    _same_value(BASE, node, read, text)


def _steps_of_gallery():
    for path in GALLERY:
        parsed = matcalc.parse(path.read_text())
        for request in parsed.requests:
            if request.of.op != "ref" or request.kind == "hessian":
                continue
            show = steps if request.kind == "grad" else jacobian_steps
            for wrt in request.wrt:
                yield pytest.param(parsed, show, request.of.name, wrt, id=f"{path.stem}-{wrt}")


def _claims(shown):
    """(node, its text, its LaTeX) of every differential and Frobenius or vec form."""
    program_ = shown.gradients[0].program
    renames = {}
    for step in shown.steps:
        for arg, direction in step.directions.items():
            renames[direction.name] = (arg, direction)
    for name in [step.name for step in shown.steps] + [shown.wrt]:
        direction = shown.direction(name)
        renames.setdefault(direction.name, (name, direction))
    directions = {direction.name: direction for _, direction in renames.values()}
    extended = program_.extended(
        {name: body for result in shown.gradients for name, body in result.where.items()})
    extended = replace(extended, variables={**extended.variables, **directions})
    for step in shown.steps:
        nodes = []
        if step.differential is not None:
            nodes.append(step.differential)
        if step.gradient is not None:
            for name, body in step.gradient.where.items():
                if name not in extended.definitions:
                    extended = extended.extended({name: body})
            nodes.append(shown.frobenius_form(step) if shown.kind == "grad"
                         else shown.vec_form(step))
        for node in nodes:
            yield extended, node


@pytest.mark.parametrize("parsed, show, of, wrt", list(_steps_of_gallery()))
def test_every_step_reads_back_in_text_and_latex(parsed, show, of, wrt):
    shown = show(parsed, wrt, of=of)
    style_taken = frozenset(parsed.variables) | frozenset(parsed.definitions)
    for extended, node in _claims(shown):
        text = str(node)
        _same_value(extended, node, answer_node(extended, text, False)[1], text)
        renames = tuple((name, "\\mathrm{d}" + latex_name(name[1:]))
                        for name in extended.variables if name.startswith("d") and
                        name[1:] in extended.variables | extended.definitions.keys())
        latex = to_latex(node, LatexStyle(taken=style_taken, renames=renames))
        _same_value(extended, node, answer_node(extended, latex, True)[1], latex)


def test_a_sum_against_a_differential_keeps_its_brackets():
    # the defect: the steps printed (W1 * lam + X' @ delta2) : dW1 as LaTeX without brackets,
    # \mathit{lam} W_{1} + X^\top \delta_{2} : \mathrm{d}W_{1}
    problem = matcalc.parse("X : matrix(N, d); W1 : matrix(d, h); lam : scalar; "
                            "delta2 : matrix(N, h); dW1 : matrix(d, h)")
    v = problem.variables
    total = ir.apply("add", ir.apply("mul", v["W1"], v["lam"]),
                     ir.apply("matmul", ir.apply("transpose", v["X"]), v["delta2"]))
    form = ir.apply("frob", total, v["dW1"])
    assert str(form) == "(W1 * lam + X' @ delta2) : dW1"
    latex = to_latex(form, LatexStyle(renames=(("dW1", r"\mathrm{d}W_{1}"),)))
    assert latex.startswith(r"\left(") and latex.endswith(r"\right) : \mathrm{d}W_{1}")
    _same_value(problem, form, answer_node(problem, latex, True)[1], latex)
    # and the steps print their forms through the same printers
    shown = steps(matcalc.parse(
        "X : matrix(N, d); W1 : matrix(d, h); lam : scalar; y : matrix(N, h)\n"
        "E = X @ W1 - y\nJ = sum(E * E) + lam * sum(W1 * W1)"), "W1", of="J")
    assert str(shown.frobenius_form(shown.steps[-1])) in shown.text


def test_messages_quote_expressions_with_their_brackets():
    # the defect: sigma(Wx)(1 - sigma(Wx)) was quoted as sigmoid(W @ x) @ 1 - sigmoid(W @ x)
    source = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()
    verdict = matcalc.verify(source, wrt="b1", of="J", answer=r"\sigma(Wx)(1-\sigma(Wx))")
    assert "sigmoid(W @ x) @ (1 - sigmoid(W @ x))" in verdict.hint
    a = BASE.variables["a"]
    total = ir.apply("add", a, a)
    assert operation_text("matmul", a, total) == "a @ (a + a)"


def test_a_simple_fraction_prints_in_lowest_terms_and_no_other_number_does():
    import math

    from matcalc.core.constants import DENOMINATORS, exact
    for q in range(2, 25):
        for p in range(1, q):
            written = exact(p / q, pi_taken=True)
            lowest = q // math.gcd(p, q)
            if lowest in DENOMINATORS:
                assert written is not None and written.text == f"{p // (q // lowest)}/{lowest}"
            else:
                assert written is None, (p, q, written)
            for near in (math.nextafter(p / q, 0), math.nextafter(p / q, 1)):
                assert exact(near, pi_taken=True) is None

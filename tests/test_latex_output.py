"""LaTeX output: every gallery result printed as LaTeX reads back (through the LaTeX reader) to
the same derivative, random expressions survive the round trip, and the documents compile."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import numpy as np
import pytest
from helpers import program
from hypothesis import given
from strategies import expressions

import matcalc
from matcalc.cli.main import main
from matcalc.core.shapes import Kind
from matcalc.derive import derive_by_request
from matcalc.grading.answers import answer_node
from matcalc.numeric.evaluate import prepare
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import LatexStyle, latex_name, standalone, to_latex

GALLERY = sorted(pathlib.Path("derivations").glob("*.mc"))


def gallery_groups():
    for path in GALLERY:
        parsed = matcalc.parse(path.read_text())
        for group in derive_by_request(parsed):
            yield path.stem, parsed, group


@pytest.mark.parametrize("bold", [False, True], ids=["plain", "bold"])
def test_every_gallery_result_reads_back_as_the_same_derivative(bold):
    for name, parsed, group in gallery_groups():
        for derivative in group:
            latex = derivative.latex_block(bold)
            verdict = matcalc.verify(parsed, derivative.variables, latex, of=derivative.of,
                                     kind=derivative.kind, latex=True)
            assert verdict.ok, f"{name} {derivative.wrt}: {verdict}\n{latex}"


def test_textbook_notation_for_the_cs224n_network():
    derivatives = matcalc.derive(pathlib.Path("derivations/cs224n_one_layer.mc").read_text())
    assert derivatives.latex.splitlines() == [
        r"\begin{aligned}",
        r"  \delta_{1} &= \hat{y} - y \\",
        r"  \delta_{2} &= U^\top \delta_{1} \odot \mathbf{1}\left[z > 0\right] \\",
        r"  \frac{\partial J}{\partial U} &= \delta_{1} h^\top \\",
        r"  \frac{\partial J}{\partial b_{2}} &= \delta_{1} \\",
        r"  \frac{\partial J}{\partial W} &= \delta_{2} x^\top \\",
        r"  \frac{\partial J}{\partial b_{1}} &= \delta_{2} \\",
        r"  \frac{\partial J}{\partial x} &= W^\top \delta_{2}",
        r"\end{aligned}",
    ]


@pytest.mark.parametrize("name, kind, bold, latex", [
    ("theta", Kind.VECTOR, False, r"\theta"),
    ("theta", Kind.VECTOR, True, r"\boldsymbol{\theta}"),
    ("yhat", Kind.VECTOR, False, r"\hat{y}"),
    ("yhat", Kind.VECTOR, True, r"\hat{\mathbf{y}}"),
    ("delta2", Kind.VECTOR, False, r"\delta_{2}"),
    ("W1", Kind.MATRIX, True, r"\mathbf{W}_{1}"),
    ("W_1", Kind.MATRIX, False, r"W_{1}"),
    ("s", Kind.SCALAR, True, "s"),
    ("logits", Kind.VECTOR, False, r"\mathit{logits}"),
    ("delta_yhat", Kind.VECTOR, False, r"\delta_{yhat}"),
    ("Sigma", Kind.MATRIX, False, r"\Sigma"),
])
def test_names(name, kind, bold, latex):
    assert latex_name(name, kind, LatexStyle(bold=bold)) == latex


def test_sigmoid_is_written_out_when_the_problem_names_sigma():
    node = program("f = sigmoid(x)").definitions["f"].body
    assert to_latex(node) == r"\sigma\left(x\right)"
    assert to_latex(node, LatexStyle(taken=frozenset({"sigma"}))).startswith(
        r"\operatorname{sigmoid}")


BASE = program("base = a")


@given(expressions(BASE.variables, max_depth=3))
def test_random_expressions_survive_the_round_trip(node):
    extended = BASE.extended({"e": node})
    latex = to_latex(node, LatexStyle(taken=frozenset(BASE.variables)))
    _, read = answer_node(extended, latex, True)
    assert read.shape == node.shape, latex
    instance = random_instance(BASE, seed=1)
    evaluation = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
    want, got = np.asarray(evaluation.value(node)), np.asarray(evaluation.value(read))
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1.0)
    assert np.allclose(got, want, rtol=1e-9, atol=1e-9 * scale), latex


def test_the_latex_command_line(capsys):
    assert main(["derive", "derivations/logistic_regression.mc", "--format", "latex",
                 "--bold"]) == 0
    out = capsys.readouterr().out
    assert r"\mathbf{X}^\top" in out and out.startswith("% grad J wrt w")
    assert main(["derive", "x' @ A @ x", "--wrt", "x", "--format", "latex",
                 "--standalone"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\documentclass") and out.rstrip().endswith(r"\end{document}")
    assert main(["derive", "x' @ A @ x", "--wrt", "x", "--standalone"]) == 2


def test_json_carries_latex(capsys):
    import json

    assert main(["derive", "x' @ A @ x", "--wrt", "x", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["latex"].startswith(r"\begin{aligned}")


def test_notebooks_render_derivatives():
    derivative = matcalc.derive("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", wrt="x")
    assert derivative._repr_latex_().startswith("$$") and r"\frac" in derivative._repr_latex_()
    assert "```" in derivative._repr_markdown_()


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="pdflatex is not installed (.ci/run installs it)")
def test_every_gallery_derivation_compiles(tmp_path):
    blocks = []
    for _, _, group in gallery_groups():
        blocks += [group.latex_block(False), group.latex_block(True)]
    document = tmp_path / "gallery.tex"
    document.write_text(standalone(blocks))
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           document.name], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "gallery.pdf").stat().st_size > 1000


def test_layouts_transpose_gradients_or_jacobians():
    cs224n = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()
    group = matcalc.derive(cs224n)
    assert r"\frac{\partial J}{\partial W} &= x \delta_{2}^\top" in group.latex_block(
        layout="numerator")
    parsed = matcalc.parse(cs224n)
    for derivative in group:
        lines = derivative.latex_lines(layout="numerator")
        answer = aligned_answer(lines)
        verdict = matcalc.verify(parsed, derivative.wrt, answer, of="J", latex=True)
        # every gradient written in the numerator layout is the transpose of matcalc's, the
        # bias vectors' (a row where the gradient is a column) included
        assert not verdict.ok and "transpose" in verdict.hint, (derivative.wrt, verdict)
    jacobian = matcalc.derive("W : matrix(n, m); x : vector(m)\nz = W @ x", wrt="x",
                              kind="jacobian")
    assert jacobian.latex_lines(layout="denominator")[-1][1] == r"W^\top"
    with pytest.raises(matcalc.MatcalcError, match="unknown layout"):
        jacobian.latex_lines(layout="sideways")


def aligned_answer(lines) -> str:
    return " \\\\ ".join(f"{left} = {right}" for left, right in lines)

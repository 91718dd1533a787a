"""LaTeX of a tensor spread along an axis: printed as papers write it, read back the same.

``expand(G, a, n)`` next to a tensor of its shape prints as ``G`` (``X - \\mu``,
``\\frac{X}{s}``) where the shapes name the axis: the one axis of the full tensor without which
its shape is G's.  The LaTeX reader spreads such an operand back along that axis, so the printed
form reads back as the same node.  Where the shapes cannot tell the axis (a ``(B, T)`` matrix
next to a ``(B, T, T)`` tensor), ``\\operatorname{expand}`` stays.  The language's own text keeps
``expand`` written out (its reader does not spread tensors).
"""

from __future__ import annotations

import numpy as np
import pytest

import matcalc
from matcalc.errors import MatcalcError
from matcalc.grading.answers import answer_node
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import LatexStyle, to_latex

PROBLEM = matcalc.parse("X : tensor(B, T, d)\nm, m2 : matrix(B, T)\nv : matrix(B, d)\n"
                        "M : matrix(T, d)\n"
                        "P : tensor(B, T, T)\nU : tensor(B, H, T, d)\nm3 : tensor(B, H, T)\n"
                        "base = m")


@pytest.mark.parametrize("text, latex", [
    ("X - expand(m, 2, d)", "X - m"),
    ("expand(m, 2, d) * X", r"m \odot X"),
    ("X / expand(m, 2, d)", r"\frac{X}{m}"),
    ("expand(v, 1, T) + X", "v + X"),  # the middle axis
    ("U * expand(m3, 3, d)", r"U \odot m_{3}"),  # four axes
    ("X - expand(mean(X, 2), 2, d)", r"X - \operatorname{mean}\left(X, 2\right)"),
    ("X / expand(sqrt(mean(X .^ 2, 2) + 2), 2, d)",
     r"\frac{X}{\sqrt{\operatorname{mean}\left(X^{\circ 2}, 2\right) + 2}}"),
    # one side at most
    ("expand(m, 2, d) - expand(m2, 2, d)", r"\operatorname{expand}\left(m, 2, d\right) - m_{2}"),
    # the shapes do not name the axis: (B, T) beside (B, T, T)
    ("P - expand(m, 2, T)", r"P - \operatorname{expand}\left(m, 2, T\right)"),
    # a matrix beside a batch of them: NumPy broadcasts it, no expand (and expand along the
    # leading axis stays written)
    ("X + M", "X + M"),
    ("X + expand(M, 0, B)", r"X + \operatorname{expand}\left(M, 0, B\right)"),
    # no tensor of its shape beside it
    ("sum(expand(m, 2, d), 2)",
     r"\operatorname{sum}\left(\operatorname{expand}\left(m, 2, d\right), 2\right)"),
])
def test_a_spread_tensor_prints_as_papers_write_it_and_reads_back(text, latex):
    _, node = answer_node(PROBLEM, text, False)
    printed = to_latex(node, LatexStyle(taken=frozenset(PROBLEM.variables)))
    assert printed == latex
    _, read = answer_node(PROBLEM, printed, True)
    assert read is node, str(read)


@pytest.mark.parametrize("latex", [r"P - m", r"m \odot P"])
def test_a_spread_the_shapes_cannot_place_is_refused(latex):
    with pytest.raises(MatcalcError):
        answer_node(PROBLEM, latex, True)


@pytest.mark.parametrize("problem, wrt", [
    # LayerNorm over a batch of sequences (Ba, Kiros & Hinton 2016)
    ("X, G : tensor(B, T, d)\nmu = mean(X, 2)\n"
     "s = sqrt(mean((X - expand(mu, 2, d)) .^ 2, 2) + 1e-5)\n"
     "Xn = (X - expand(mu, 2, d)) / expand(s, 2, d)\nL = sum(G * Xn)", "X"),
    # RMSNorm (Zhang & Sennrich 2019)
    ("X, G : tensor(B, T, d)\nr = sqrt(mean(X .^ 2, 2) + 1e-6)\n"
     "L = sum(G * (X / expand(r, 2, d)))", "X"),
    # a per-token scale, its gradient spread back
    ("X : tensor(B, T, d); a : matrix(B, T)\nL = sum(tanh(X * expand(a, 2, d)))", "X"),
])
def test_derived_results_with_spreads_read_back_from_latex(problem, wrt):
    result = matcalc.derive(problem, wrt=wrt, check=False)
    assert matcalc.check(result, seed=1).ok
    parsed = matcalc.parse(problem)
    latex = result.latex_block(False)
    assert r"\operatorname{expand}" not in latex, latex
    verdict = matcalc.verify(parsed, result.variables, latex, of=result.of, kind=result.kind,
                             latex=True, allow_deltas=True)
    assert verdict.ok, (latex, verdict)
    instance = random_instance(parsed, seed=3)
    extended = parsed.extended(dict(result.where))
    line = next(line for line in latex.splitlines() if r"\partial" in line)
    _, read = answer_node(extended, line.split("&=", 1)[1].strip().rstrip("\\").strip(), True)
    np.testing.assert_allclose(
        evaluate(extended.extended({"read": read}), "read", instance.arrays,
                 sizes=instance.sizes),
        result.numpy()(sizes=instance.sizes, **instance.arrays), rtol=1e-9, atol=1e-12)

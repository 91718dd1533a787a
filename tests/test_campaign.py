"""The campaign against an independent reference: random problems, every result proven.

The reference is the checker: finite differences of the problem itself, evaluated by NumPy,
never the engine's rules.  (tests/test_engine_property.py covers random gradients and
Jacobians.)  Here: Hessians of random functions, with respect to plain, symmetric, spd and
simplex variables alike; joint Hessians of two variables, cross blocks included; a bare I in
random sums and products; and a gradient and a Hessian of one variable asked for together.
HYPOTHESIS_PROFILE=large runs many more examples.
"""

from __future__ import annotations

import numpy as np
from helpers import program
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import expressions

import matcalc
from matcalc.core import ir
from matcalc.core.shapes import Kind
from matcalc.engine.pipeline import variables_of
from matcalc.errors import DomainError
from matcalc.numeric.sampling import random_instance

BASE = program("base = a")
EXAMPLES = settings().max_examples
SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much]


def _proven(results, seed: int = 3) -> None:
    try:
        verdicts = matcalc.check(results, seed=seed, trials=1, directions=2, tolerance=1e-5)
    except DomainError:
        assume(False)
    for verdict in verdicts:
        assume(not verdict.inconclusive)  # finite differences cannot decide at this point
        assert verdict.ok, f"{verdict}\n{results.text}"


@settings(max_examples=max(80, EXAMPLES), deadline=None, suppress_health_check=SLOW)
@given(expressions(BASE.variables, max_depth=3), st.integers(0, 3))
def test_random_hessians_match_finite_differences(node, pick):
    # every variable kind appears: the declarations hold spd P, symmetric S, simplex q and Y
    target = BASE.extended({"e": node, "F": ir.apply("sum", ir.apply(
        "sin", node)) if not node.is_scalar else ir.apply("sin", node)})
    names = variables_of(target, target.definitions["F"].ref)
    assume(names)
    wrt = names[pick % len(names)]
    assume(target.variables[wrt].shape.rows.is_symbol or target.variables[wrt].is_scalar)
    hessian = matcalc.derive(target, wrt=[wrt], of="F", kind="hessian", check=False)
    _proven(hessian)


@settings(max_examples=max(40, EXAMPLES // 2), deadline=None, suppress_health_check=SLOW)
@given(expressions(BASE.variables, max_depth=3), st.integers(0, 3), st.integers(1, 3))
def test_random_joint_hessians_match_finite_differences(node, pick, step):
    # the cross blocks d2F/dw db' of two variables, both moving at once in the differences
    target = BASE.extended({"F": ir.apply("sum", ir.apply("sin", node))
                            if not node.is_scalar else ir.apply("sin", node)})
    names = [name for name in variables_of(target, target.definitions["F"].ref)
             if target.variables[name].shape.rows.is_symbol or
             target.variables[name].is_scalar]
    assume(len(names) >= 2)
    first = pick % len(names)
    pair = [names[first], names[(first + step) % len(names)]]
    assume(pair[0] != pair[1])
    blocks = matcalc.derive(target, wrt=pair, of="F", kind="hessian", check=False)
    assert [block.name for block in blocks] == [f"d2F_d{pair[0]}_d{pair[0]}",
                                                f"d2F_d{pair[0]}_d{pair[1]}",
                                                f"d2F_d{pair[1]}_d{pair[1]}"]
    _proven(blocks)


SQUARE = ("A", "B", "P", "S", "Q")


@settings(max_examples=max(60, EXAMPLES // 2), deadline=None, suppress_health_check=SLOW)
@given(expressions(BASE.variables, max_depth=2), st.sampled_from(SQUARE),
       st.sampled_from(("a * I", "I * a", "I / s", "-I", "s * I / 2")),
       st.sampled_from(("+", "-", "@")))
def test_a_bare_identity_in_random_sums_and_products(node, square, identity, op):
    # X op (c I): the bare I takes X's size; the same function as with I(n), proven
    assume(node.kind is Kind.MATRIX and node.shape.rows is node.shape.cols and
           node.shape.rows is BASE.variables[square].shape.rows)
    text = f"M = ({node}) {op} ({identity})\nF = sum(sin(M @ {square}))"
    written = f"M = ({node}) {op} ({identity.replace('I', 'I(n)')})\nF = sum(sin(M @ {square}))"
    bare = matcalc.parse(BASE.source + "\n" + text)
    explicit = matcalc.parse(BASE.source + "\n" + written)
    assert str(bare.definitions["M"].body) == str(explicit.definitions["M"].body)
    names = variables_of(bare, bare.definitions["F"].ref)
    assume(names)
    gradients = matcalc.derive(bare, wrt=names, of="F", check=False)
    _proven(gradients)


@settings(max_examples=max(40, EXAMPLES // 2), deadline=None, suppress_health_check=SLOW)
@given(expressions(BASE.variables, max_depth=3), st.integers(0, 3))
def test_a_gradient_and_a_hessian_of_one_variable_stay_apart(node, pick):
    target = BASE.extended({"F": ir.apply("sum", ir.apply("sin", node))
                            if not node.is_scalar else ir.apply("sin", node)})
    names = variables_of(target, target.definitions["F"].ref)
    assume(names)
    wrt = names[pick % len(names)]
    text = target.source + f"\nF = {target.definitions['F'].body}\ngrad F wrt {wrt}\n" \
                           f"hessian F wrt {wrt}"
    results = matcalc.derive(text, check=False)
    point = random_instance(results[0].program, seed=2)
    try:
        values = results.numpy()(sizes=point.sizes, **point.arrays)
    except DomainError:
        assume(False)
    assert set(values) == {("grad", wrt), ("hessian", wrt)}
    for result in results:
        alone = matcalc.derive(results[0].program, wrt=wrt, of="F", kind=result.kind,
                               check=False)
        expected = alone.numpy(compiled=False)(sizes=point.sizes, **point.arrays)
        assert np.allclose(values[result.kind, wrt], expected, rtol=1e-8, atol=1e-10)
    _proven(results)

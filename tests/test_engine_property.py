"""Property: for random well-typed expressions (depth <= 4, every operation, domains respected),
the symbolic gradient and Jacobian agree with finite differences."""

from __future__ import annotations

from helpers import program
from hypothesis import HealthCheck, assume, given, settings
from strategies import expressions

import matcalc
from matcalc.core import ir
from matcalc.engine.pipeline import variables_of
from matcalc.errors import DomainError

BASE = program("base = a")
VARIABLES = BASE.variables
EXAMPLES = settings().max_examples


def scalar_of(node):
    return ir.apply("sin", node) if node.is_scalar else ir.apply("sum", ir.apply("sin", node))


def derive_and_check(node, kind: str):
    prog = BASE.extended({"e": node})
    e = prog.definitions["e"].ref
    target = prog.extended({"F": scalar_of(e)}) if kind == "grad" else prog
    of = "F" if kind == "grad" else "e"
    names = variables_of(target, target.definitions[of].ref)
    assume(names)
    results = matcalc.derive(target, wrt=names, of=of, kind=kind, check=False)
    try:
        verdicts = matcalc.check(results, seed=3, trials=1, directions=2, tolerance=1e-5)
    except DomainError:
        assume(False)
    for verdict in verdicts:
        assume(not verdict.inconclusive)  # finite differences cannot decide at this point
        assert verdict.ok, f"{verdict}\ne = {node}\n{results.text}"


@settings(max_examples=max(300, EXAMPLES), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(VARIABLES))
def test_random_gradients_match_finite_differences(node):
    derive_and_check(node, "grad")


@settings(max_examples=max(100, EXAMPLES // 3), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(VARIABLES, max_depth=3))
def test_random_jacobians_match_finite_differences(node):
    derive_and_check(node, "jacobian")

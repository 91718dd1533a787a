"""Every operation's adjoint and Jacobian rule, proven by finite differences.

Each construct of the language (tests/test_constructs.py) is wrapped into a smooth scalar
function, ``sum(sin(e))``, and differentiated with respect to every variable it uses: the
gradient exercises the adjoint rules (rules/adjoints.py) and the Jacobian of ``e`` itself the
vec-form rules (rules/jacobians.py).  matcalc.check compares each with central differences.
"""

from __future__ import annotations

import pytest
from helpers import program
from test_constructs import CASES

import matcalc
from matcalc.engine.pipeline import variables_of


def variables_in(source: str) -> list[str]:
    prog = program(f"f = {source}")
    return variables_of(prog, prog.definitions["f"].ref)


DIFFERENTIABLE = [case[0] for case in CASES if variables_in(case[0])]


@pytest.mark.parametrize("source", DIFFERENTIABLE)
def test_gradient_through_each_construct(source):
    wrapped = f"sum(sin({source}))" if not program(f"f = {source}").definitions[
        "f"].body.is_scalar else f"sin({source})"
    prog = program(f"e = {source}\nF = {wrapped.replace(source, 'e')}")
    results = matcalc.derive(prog, wrt=variables_in(source), of="F")
    for verdict in matcalc.check(results, seed=5):
        assert verdict.ok, f"{verdict}\n{results.text}"


@pytest.mark.parametrize("source", DIFFERENTIABLE)
def test_jacobian_of_each_construct(source):
    prog = program(f"e = {source}")
    results = matcalc.derive(prog, wrt=variables_in(source), of="e", kind="jacobian")
    for verdict in matcalc.check(results, seed=6):
        assert verdict.ok, f"{verdict}\n{results.text}"



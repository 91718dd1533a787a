"""Every operation of the IR has its rules in every table, each rule documented by its identity."""

from __future__ import annotations

import pytest

from matcalc.ir import SHAPE_RULES
from matcalc.numeric import EVALUATORS, SIZED_EVALUATORS
from matcalc.rules.adjoints import ADJOINTS
from matcalc.rules.differentials import DIFFERENTIALS
from matcalc.rules.jacobians import JACOBIANS
from matcalc.to_sympy import CONVERTERS

OPERATIONS = sorted(SHAPE_RULES)
ARITY = {"add": 2, "sub": 2, "mul": 2, "div": 2, "matmul": 2, "frob": 2, "pow": 2, "kron": 2}


@pytest.mark.parametrize("table", [ADJOINTS, JACOBIANS, DIFFERENTIALS, CONVERTERS],
                         ids=["adjoints", "jacobians", "differentials", "sympy"])
def test_every_operation_is_in_every_table(table):
    assert sorted(table) == OPERATIONS


def test_every_operation_evaluates():
    assert sorted(set(EVALUATORS) | set(SIZED_EVALUATORS)) == OPERATIONS


@pytest.mark.parametrize("op", OPERATIONS)
def test_rules_state_their_identity(op):
    adjoints = ADJOINTS[op]
    assert len(adjoints) == ARITY.get(op, 1)
    for rule in (*adjoints, JACOBIANS[op], DIFFERENTIALS[op]):
        assert rule.__doc__ and ("=" in rule.__doc__ or ":" in rule.__doc__), (op, rule)


def test_rule_catalogue_is_current():
    import pathlib

    from matcalc.catalogue import catalogue

    path = pathlib.Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    stale = "regenerate: python -m matcalc.catalogue > docs/rules.md"
    assert path.read_text() == catalogue(), stale

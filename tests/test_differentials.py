"""Matrix-form differentials (rules/differentials.py): d(e) along a random direction equals
the directional derivative by finite differences, for every construct of the language."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DECLARATIONS, program
from test_constructs import CASES
from test_engine_rules import DIFFERENTIABLE, variables_in

from matcalc.core.ir import walk
from matcalc.core.shapes import describe
from matcalc.engine.accumulate import Derivation, differential
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance


def direction_declarations(names, base) -> str:
    lines = []
    for name in names:
        node = base.variables[name]
        lines.append(f"d{name} : {describe(node.kind, node.shape)}")
    return "\n".join(lines)


@pytest.mark.parametrize("source", DIFFERENTIABLE)
def test_differential_of_each_construct(source):
    names = variables_in(source)
    base = program("f = a")
    extra = direction_declarations(names, base)
    prog = program(f"e = {source}", DECLARATIONS + extra + "\n")
    directions = {name: prog.variables[f"d{name}"] for name in names}
    derivation = Derivation(prog)
    d_e = differential(derivation, prog.definitions["e"].ref, directions)
    assert all(node.op != "var" or not node.name.startswith("d") or node.name[1:] in names
               for node in walk(d_e))
    full = prog.extended(dict(derivation.where, __d=d_e))
    instance = random_instance(prog, seed=8)
    arrays = instance.arrays
    symbolic = evaluate(full, "__d", arrays, check_attributes=False)
    step = 1e-5

    def e_at(t):
        moved = dict(arrays)
        for name in names:
            moved[name] = np.asarray(arrays[name]) + t * np.asarray(arrays[f"d{name}"])
        return np.asarray(evaluate(prog, "e", moved, check_attributes=False))

    numeric = (8 * (e_at(step) - e_at(-step)) - (e_at(2 * step) - e_at(-2 * step))) / (12 * step)
    assert np.shape(symbolic) == np.shape(e_at(0))
    scale = max(1.0, float(np.max(np.abs(numeric))))
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-6, atol=1e-7 * scale)


def test_cases_are_shared():
    assert len(DIFFERENTIABLE) > 80 and len(CASES) > len(DIFFERENTIABLE)

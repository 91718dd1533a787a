"""Every operation of the IR has its rules in every table, each rule documented by its identity."""

from __future__ import annotations

import pytest

import matcalc
from matcalc.core.functions import FUNCTIONS
from matcalc.core.ir import SHAPE_RULES
from matcalc.core.to_sympy import CONVERTERS
from matcalc.numeric.evaluate import EVALUATORS, SIZED_EVALUATORS, evaluate
from matcalc.rules.operations import ADJOINTS, DIFFERENTIALS, JACOBIANS
from matcalc.rules.ops.elementwise import derivative_of

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


# -- the elementwise functions' table (core/functions.py): one row serves every stage ----------

FUNCTION_NAMES = sorted(FUNCTIONS)


def _runtime_names(module: str) -> set[str]:
    """The functions and the ``np`` shim's attributes a runtime module defines (read, not
    imported: the PyTorch one needs torch)."""
    import ast
    import pathlib

    path = pathlib.Path(matcalc.__file__).parent / "codegen" / "runtime" / f"{module}.py"
    tree = ast.parse(path.read_text())
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "np":
            for item in ast.walk(node):
                if isinstance(item, ast.FunctionDef):
                    names.add(f"np.{item.name}")
                elif isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store):
                    names.add(f"np.{item.id}")
    return names


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_every_backend_computes_every_function(name):
    import numpy as np

    numpy_name = FUNCTIONS[name].numpy
    if numpy_name.startswith("np."):
        assert hasattr(np, numpy_name[3:])
        assert numpy_name in _runtime_names("torch_helpers"), f"torch shim lacks {numpy_name}"
    else:
        assert numpy_name in _runtime_names("numpy_helpers")
        assert numpy_name in _runtime_names("torch_helpers")


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_every_function_derivative_matches_finite_differences(name):
    # f'(x) from the table, evaluated by the interpreter, against a central difference of f
    import numpy as np

    function = FUNCTIONS[name]
    declaration = "x : vector(n) positive" if function.domain == "positive" else "x : vector(n)"
    program = matcalc.parse(f"{declaration}\ny = {name}(x)\nf = sum(y)")
    derivative = derivative_of(name, program.variables["x"], program.definitions["y"].ref)
    values = np.array([0.3, 0.7, 1.9, 2.6]) if function.domain == "positive" else \
        np.array([-1.7, -0.4, 0.6, 2.2])
    expected = np.zeros(4)
    if derivative is not None:
        extended = program.extended({"d": derivative})
        expected = np.ravel(evaluate(extended, "d", {"x": values}))
    h = 1e-6
    plus = np.ravel(evaluate(program, "y", {"x": values + h}))
    minus = np.ravel(evaluate(program, "y", {"x": values - h}))
    assert np.allclose(expected, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-8), name


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_every_function_prints_and_reads_back(name):
    # text and LaTeX of f(x) read back to the same node
    from matcalc.grading.answers import answer_node
    from matcalc.present.latex import to_latex

    program = matcalc.parse("x : vector(n) positive")
    node = matcalc.parse(f"x : vector(n) positive\nf = {name}(x)").definitions["f"].body
    assert answer_node(program, str(node), False)[1] is node
    assert answer_node(program, to_latex(node), True)[1] is node

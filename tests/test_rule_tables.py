"""Every operation of the IR has its rules in every table, each rule documented by its identity."""

from __future__ import annotations

import pytest

import matcalc
import matcalc.core.ir
from matcalc.core.functions import FUNCTIONS
from matcalc.core.registry import view
from matcalc.core.to_sympy import converters
from matcalc.errors import UnsupportedError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.operations import evaluator
from matcalc.ops.elementwise import derivative_of
from matcalc.rules.operations import ADJOINTS, DIFFERENTIALS, JACOBIANS

OPERATIONS = sorted(view("shape"))
ARITY = {"add": 2, "sub": 2, "mul": 2, "div": 2, "matmul": 2, "frob": 2, "pow": 2, "kron": 2,
         "hcat": 2, "vcat": 2, "conv1d": 2, "convolve": 2, "mpowk": 2, "trpowk": 2,
         "maximum": 2, "minimum": 2, "expm_frechet": 2, "logm_frechet": 2, "sylvester": 2,
         "pick": 2, "where": 3, "einsum": 32}  # einsum: any number of operands, up to NumPy's 32


@pytest.mark.parametrize("table", [ADJOINTS, JACOBIANS, DIFFERENTIALS, converters()],
                         ids=["adjoints", "jacobians", "differentials", "sympy"])
def test_every_operation_is_in_every_table(table):
    assert sorted(table) == OPERATIONS


@pytest.mark.parametrize("op", OPERATIONS)
def test_every_operation_evaluates(op):
    # the interpreter compiles every operation's NumPy template into a function
    function, fields = evaluator(op)
    assert callable(function) and set(fields) <= {"axis", "keep", "k", "n", "rows", "cols",
                                                  "spec"}


@pytest.mark.parametrize("op", OPERATIONS)
def test_rules_state_their_identity(op):
    adjoints = ADJOINTS[op]
    assert len(adjoints) == ARITY.get(op, 1)
    for rule in (*adjoints, JACOBIANS[op], DIFFERENTIALS[op]):
        assert rule.__doc__ and ("=" in rule.__doc__ or ":" in rule.__doc__), (op, rule)


def test_rule_catalogue_is_current():
    import pathlib

    from matcalc.cli.catalogue import catalogue

    path = pathlib.Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    stale = "regenerate: python -m matcalc.cli.catalogue > docs/rules.md"
    assert path.read_text() == catalogue(), stale


# -- the elementwise functions' table (core/functions.py): one row serves every stage ----------

FUNCTION_NAMES = sorted(FUNCTIONS)
NO_DERIVATIVE = {"trigamma"}  # polygamma(2, x) is not a function of the language


def _runtime_names(module: str) -> set[str]:
    """The functions a runtime module defines (read, not imported: the PyTorch one needs
    torch)."""
    import ast
    import pathlib

    path = pathlib.Path(matcalc.__file__).parent / "codegen" / "runtime" / f"{module}.py"
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_every_backend_computes_every_function(name):
    import numpy as np

    numpy_name = FUNCTIONS[name].numpy
    if numpy_name.startswith("np."):
        assert hasattr(np, numpy_name[3:])
        # generated PyTorch code calls torch itself
        template = view("code")[name].template("torch")
        assert template == f"torch.{numpy_name[3:]}({{0}})"
        torch = pytest.importorskip("torch")
        assert callable(getattr(torch, numpy_name[3:]))
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
    if name in NO_DERIVATIVE:  # refused by name, never a wrong or missing value
        with pytest.raises(UnsupportedError, match=name):
            derivative_of(name, program.variables["x"], program.definitions["y"].ref)
        return
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


# -- the three rules of each operation agree: the adjoint and the Jacobian written by hand are
# those that follow from its differential (rules/operation.py derives them: transposition and a
# forward pass, as JAX does for linear primitives) ---------------------------------------------

from helpers import program  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from strategies import expressions  # noqa: E402

from matcalc.core.algebra import identity, size  # noqa: E402
from matcalc.numeric.evaluate import prepare  # noqa: E402
from matcalc.numeric.sampling import random_instance  # noqa: E402
from matcalc.ops.operation import derived_adjoint, derived_jacobian  # noqa: E402

BASE = program("base = a")


def _value(extended, instance, node):
    if node is None:
        return 0.0
    evaluation = prepare(extended, instance.arrays, instance.sizes, check_attributes=False)
    return np.asarray(evaluation.value(node), dtype=float)


def _agree(extended, instance, hand, derived, what):
    want, got = _value(extended, instance, hand), _value(extended, instance, derived)
    want, got = np.broadcast_arrays(np.asarray(want), np.asarray(got))
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    assert np.allclose(got, want, rtol=1e-8, atol=1e-8 * scale), what


import numpy as np  # noqa: E402


@settings(max_examples=max(60, settings().max_examples // 4), deadline=None)
@given(expressions(BASE.variables, max_depth=3))
def test_hand_written_rules_are_those_the_differential_gives(node):
    for item in {n for n in matcalc.core.ir.walk(node) if n.args}:
        # a cotangent of the node's shape that varies with the point
        g = matcalc.core.ir.apply("cos", item)
        extended = BASE.extended({"e": node})
        instance = random_instance(extended, seed=4)
        for index in range(len(item.args)):
            if not any(n.op == "var" for n in matcalc.core.ir.walk(item.args[index])):
                continue  # a constant argument (an exponent) is never differentiated
            hand = ADJOINTS[item.op][index](item, item, g)
            _agree(extended, instance, hand, derived_adjoint(item.op, index)(item, item, g),
                   f"adjoint {index} of {item}")
            arg = item.args[index]
            seed = matcalc.core.ir.const(1.0) if arg.is_scalar else identity(size(arg))
            js = [seed if position == index else None for position in range(len(item.args))]
            _agree(extended, instance, JACOBIANS[item.op](item, item, js),
                   derived_jacobian(item.op)(item, item, js), f"Jacobian {index} of {item}")


def test_the_engine_derives_with_rules_that_follow_from_differentials_alone(monkeypatch):
    # every operation's adjoint and Jacobian replaced by the ones its differential gives: the
    # gallery's gradients, Jacobians and Hessians are still proven (so a new operation needs
    # only its differential)
    import pathlib

    from matcalc.core.registry import operations

    OPERATIONS = operations()

    monkeypatch.setattr("matcalc.engine.accumulate.ADJOINTS", {
        name: tuple(derived_adjoint(name, i) for i in range(len(op.adjoints)))
        for name, op in OPERATIONS.items()})
    monkeypatch.setattr("matcalc.engine.accumulate.JACOBIANS", {
        name: derived_jacobian(name) for name in OPERATIONS})
    for path in sorted(pathlib.Path("derivations").glob("*.mc")):
        if path.stem in ("mathse_batch_softmax",):  # 1568 x 1024 matrices: slow, not different
            continue
        results = matcalc.derive(path.read_text(), check=False)
        results = results if isinstance(results, list) else [results]
        for verdict in matcalc.check(results, seed=1, trials=1):
            assert verdict.ok, (path.stem, str(verdict))

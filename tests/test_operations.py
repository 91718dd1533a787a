"""The operation registry: every operation is defined once, in matcalc/ops/, with every facet.

Each facet is the one thing every stage reads (core/registry.py): a missing one would show
only when some stage met the operation at run time, so this test fails first.
"""

from __future__ import annotations

import numpy as np
import pytest

from matcalc.core import registry
from matcalc.core.registry import FACETS, Code, Latex, Stable, Syntax, operations


def _missing(name: str) -> list[str]:
    op = operations()[name]
    return [facet for facet in FACETS if getattr(op, facet) is None]


@pytest.mark.parametrize("name", sorted(operations()))
def test_every_operation_has_every_facet(name):
    assert _missing(name) == [], f"{name} lacks {', '.join(_missing(name))}"


@pytest.mark.parametrize("name", sorted(operations()))
def test_every_facet_has_the_right_form(name):
    op = operations()[name]
    assert isinstance(op.syntax, Syntax) and op.syntax.name
    assert isinstance(op.latex, Latex)
    forms = [op.latex.command, op.latex.infix, op.latex.template, op.latex.power,
             op.latex.special]
    assert sum(bool(form) for form in forms) == 1, f"{name}: one LaTeX form, not {forms}"
    assert isinstance(op.code, Code) and op.code.numpy and op.code.torch
    fields = {"axis": 0, "keep": True, "cols": 1, "operands": "a0, a1",
              **{param: 1 for param in op.code.params}}
    for backend in ("numpy", "jax", "torch"):
        template = op.code.template(backend)
        assert template.format(*(f"a{i}" for i in range(op.arity)), **fields), (name, backend)
    assert len(op.adjoints) == op.arity
    assert op.cost in registry.COSTS
    assert op.scalar, "say what the operation is on a number"
    if op.latex.special:  # set by a method of its own
        from matcalc.present.latex import _Printer

        assert hasattr(_Printer, f"_{name}"), name
    assert callable(op.sympy) and callable(op.shape) and callable(op.differential)
    assert all(isinstance(form, Stable) for form in op.stable)


def test_an_operation_is_defined_once():
    first = next(iter(operations().values()))
    with pytest.raises(ValueError, match="defined twice"):
        registry.register(first)


def test_a_stable_form_is_rooted_at_its_operation():
    from dataclasses import replace

    log = operations()["log"]
    misplaced = replace(log, name="log_elsewhere", stable=(Stable("softplus", ("1 +", "exp")),))
    with pytest.raises(ValueError, match="not rooted here"):
        registry.register(misplaced)
    assert "log_elsewhere" not in operations()


def test_views_hold_one_facet_of_every_operation_that_has_it():
    shapes = registry.view("shape")
    assert set(shapes) == set(operations())
    assert registry.view("code")["det"].numpy == "np.linalg.det({0})"
    with pytest.raises(ValueError, match="no facet"):
        registry.view("colour")


def test_the_helpers_a_template_names_are_runtime_helpers():
    from matcalc.codegen.backends import BACKENDS_BY_NAME, helper_source

    # every runtime module the backend copies into a generated module
    sources = {backend: "".join(helper_source(module)
                                for module in BACKENDS_BY_NAME[backend].helpers)
               for backend in ("numpy", "torch")}
    for name, code in registry.view("code").items():
        for helper in code.helpers:
            for backend, source in sources.items():
                assert f"def {helper}(" in source, (name, helper, backend)


def test_generated_code_inverts_a_number():
    # inv(a) of a scalar is 1 / a in generated code too (np.linalg.inv takes no 0-d array)
    import matcalc

    derivative = matcalc.derive("a : scalar positive; b : scalar\nF = b * inv(a)", wrt="b")
    assert derivative.numpy()(a=2.0, b=1.0) == 0.5


# -- where an operation is defined, and the values it takes: facets that stages act on ---------

def _use(name: str, argument: str) -> str:
    """``name`` applied to ``argument`` (and a second argument of its shape if it takes two)."""
    op = operations()[name]
    return f"{op.syntax.name}({', '.join([argument] * op.arity)})"


@pytest.mark.parametrize("name", sorted(operations()))
def test_where_an_operation_is_defined_random_points_draw_its_argument(name):
    # the domain facet is what sampling reads: an argument of an operation defined only on
    # invertible / spd / symmetric matrices, positive or bounded entries is drawn so
    import numpy as np

    import matcalc
    from matcalc.errors import MatcalcError
    from matcalc.numeric.sampling import implied_attributes, random_instance

    op = operations()[name]
    assert op.domain in registry.DOMAINS and op.values in registry.VALUES
    if op.domain == "real" or not op.syntax or op.syntax.symbol:
        return
    argument = "X" if op.domain in ("invertible", "spd", "symmetric") else "x"
    try:
        program = matcalc.parse(f"X : matrix(n, n)\nx : vector(n)\nf = {_use(name, argument)}")
    except MatcalcError:
        pytest.skip(f"{name} is not written as a call on one argument")
    assert op.domain in implied_attributes(program).get(argument, set())
    value = np.asarray(random_instance(program, seed=3).arrays[argument], dtype=float)
    checks = {"positive": lambda v: np.all(v > 0), "bounded": lambda v: np.all(np.abs(v) < 1),
              "invertible": lambda v: np.linalg.cond(v) < 1e6,
              "symmetric": lambda v: np.allclose(v, v.T),
              "spd": lambda v: np.allclose(v, v.T) and np.all(np.linalg.eigvalsh(v) > 0)}
    assert checks[op.domain](value), (name, value)


@pytest.mark.parametrize("name", sorted(operations()))
def test_the_values_an_operation_takes_are_facts_and_hold(name):
    # the values facet is what the simplifier's facts read; each claim holds at random points
    import numpy as np

    import matcalc
    from matcalc.engine.pipeline import facts_for
    from matcalc.errors import MatcalcError
    from matcalc.numeric.evaluate import evaluate
    from matcalc.numeric.sampling import random_instance

    op = operations()[name]
    if op.values == "real":
        return
    try:
        program = matcalc.parse(f"x : vector(n)\nf = {_use(name, 'x')}")
    except MatcalcError:
        pytest.skip(f"{name} is not written as a call on one argument")
    facts, node = facts_for(program), program.definitions["f"].body
    if name != "sqrt":  # the facts judge sqrt by its argument: defined where it is >= 0
        assert facts.nonnegative(node)
        assert facts.positive(node) == (op.values in ("positive", "unit"))
    for seed in range(3):
        instance = random_instance(program, seed=seed)
        value = np.asarray(evaluate(program, "f", instance.arrays, sizes=instance.sizes))
        assert np.all(value >= 0) and (op.values != "unit" or np.all(value < 1)), name
        if op.values in ("positive", "unit"):
            assert np.all(value > 0), name


# -- where random points keep away from, the limits values approach, when a result is symmetric ---

@pytest.mark.parametrize("name", sorted(operations()))
def test_the_limits_an_operation_approaches_hold_and_random_points_keep_away(name):
    import numpy as np

    import matcalc
    from matcalc.errors import MatcalcError
    from matcalc.numeric.evaluate import evaluate
    from matcalc.numeric.sampling import SATURATION, random_instance

    op = operations()[name]
    assert op.check in registry.CHECKS and op.symmetry in registry.SYMMETRIES
    if not op.bounds:
        assert op.values != "unit", "a unit operation's values approach 0 and 1"
        return
    low, high = op.bounds
    try:
        program = matcalc.parse(f"x : vector(n)\nf = {_use(name, 'x')}")
    except MatcalcError:
        pytest.skip(f"{name} is not written as a call on one argument")
    for seed in range(3):  # points scaled up to 3x, where saturation is near: kept away
        instance = random_instance(program, seed=seed, magnitude=(0.0, 0.5))
        value = np.asarray(evaluate(program, "f", instance.arrays, sizes=instance.sizes))
        assert np.all(value - low > SATURATION) and np.all(high - value > SATURATION), name


# arguments each check must refuse, and arguments none refuses (singular values 3, 2, 1;
# entries at least 0.25 from 0 and 0.5 from each other)
_ROTATION = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
_SPREAD = np.array([[1.5, -0.5, 2.0], [-1.0, 0.5, -1.5], [1.0, -0.25, 0.25]])
_TIED = np.array([[5.0, 4.995, 1.0], [0.0, 1.0, 2.0], [3.0, 4.0, 2.0]])  # in row 0 and overall
_MARK = np.diag([0.0, 1.0, 0.0])  # the entry an edge argument has near its edge
# near, not at, where each check refuses (the interpreter refuses exactly repeated values)
_REFUSED = {"conditioned": np.diag([1.0, 1.0, 1e-9]), "eigen gap": np.diag([1.0, 1.005, 2.0]),
            "singular gap": np.diag([2.0, 1.995, 1.0]),
            "singular floor": np.diag([2.0, 1.0, 1e-3]),
            "singular values": np.diag([3.0, 1.005, 1.0])}


def _arguments(check: str, arity: int, refused: bool) -> list[np.ndarray]:
    """Arguments of an operation with this ``check`` facet it must refuse, or not refuse."""
    if check == "kink":  # an entry 0.005 from 0, or the second argument 0.005 from the first
        if arity == 1:
            return [_SPREAD * (1 - _MARK) + 0.005 * _MARK if refused else _SPREAD]
        return [_SPREAD, _SPREAD + 1.0 - (0.995 * _MARK if refused else 0.0)]
    if check in ("largest tied", "smallest tied"):
        sign = 1.0 if check == "largest tied" else -1.0
        return [sign * (_TIED if refused else _SPREAD)]
    chosen = _REFUSED[check] if refused else np.diag([3.0, 2.0, 1.0])
    return [_ROTATION @ chosen @ _ROTATION.T]


@pytest.mark.parametrize("name", sorted(n for n, op in operations().items() if op.check))
def test_where_an_operation_is_checked_random_points_keep_away(name):
    # the check facet is what sampling and the checker read: the arguments it names are refused
    # (a random point is drawn again, a given one reported), others are not, and random points
    # keep away
    import matcalc
    from matcalc.numeric.evaluate import prepare
    from matcalc.numeric.sampling import (
        Instance,
        axis_of,
        instance_again,
        random_instance,
        unsuitable,
    )

    op = operations()[name]
    names = ["X", "Y"][:op.arity]
    declared = "symmetric" if op.domain == "symmetric" else ""
    params = ", 1" * len(op.syntax.params)
    program = matcalc.parse(f"X, Y : matrix(n, n) {declared}\n"
                            f"f = sum({op.syntax.name}({', '.join(names)}{params}))")
    node = program.definitions["f"].body.args[0]
    assert node.op == name, node
    for refused in (True, False):
        arguments = _arguments(op.check, op.arity, refused)
        assert unsuitable(op.check, arguments, axis_of(node)) == refused, (name, refused)
        arrays = {"Y": _SPREAD + 3.0} | dict(zip(names, arguments, strict=True))
        again = instance_again(program, Instance(arrays, {"n": 3}, 0, None))
        assert (again is None) == refused, (name, refused)
    for seed in range(3):
        instance = random_instance(program, seed=seed)
        evaluation = prepare(program, instance.arrays, instance.sizes)
        arguments = [np.asarray(evaluation.value(a), dtype=float) for a in node.args]
        assert not unsuitable(op.check, arguments, axis_of(node)), name


def _written(name: str, first: str, other: str) -> str:
    """``name`` applied to ``first`` (and ``other``), as the text language writes it."""
    syntax = operations()[name].syntax
    if not syntax.symbol:
        return f"{syntax.name}({', '.join([first, other][:operations()[name].arity])})"
    if operations()[name].arity == 2 or syntax.level == registry.POWER:  # S ^ 2: k a parameter
        return f"{first} {syntax.symbol} {other}"
    return f"{first}{syntax.symbol}" if syntax.symbol == "'" else f"{syntax.symbol}{first}"


@pytest.mark.parametrize("name", sorted(n for n, op in operations().items() if op.symmetry))
def test_a_result_the_facts_call_symmetric_is_symmetric(name):
    import matcalc
    from matcalc.engine.pipeline import facts_for
    from matcalc.numeric.evaluate import prepare

    op = operations()[name]
    first = "v" if op.symmetry == "always" else "S"
    # a number argument: a name (S ^ k is mpowk) or a whole number (S ^ 2 is mpow)
    for other in ("k", "2") if op.symmetry == "scalars or arguments" else ("T",):
        unsymmetric = _written(name, "X", other) if op.symmetry != "always" else "X"
        program = matcalc.parse("S, T : matrix(n, n) symmetric\nX : matrix(n, n)\n"
                                "v : vector(n)\nk : integer\n"
                                f"f = {_written(name, first, other)}\ng = {unsymmetric}")
        node = program.definitions["f"].body
        if node.op == name:
            break
    assert node.op == name, (name, node)
    facts = facts_for(program)
    assert facts.symmetric(node), name
    rng = np.random.default_rng(2)  # entries in (0.1, 0.9): inside every function's domain
    halves = rng.uniform(0.05, 0.45, size=(2, 3, 3))
    # an spd domain (logm): positive definite, its off-diagonal sums below its diagonal
    shift = 2 * np.eye(3) if op.domain == "spd" else np.zeros((3, 3))
    arrays = {"S": halves[0] + halves[0].T + shift, "T": halves[1] + halves[1].T + shift,
              "X": rng.uniform(0.1, 0.9, size=(3, 3)), "v": rng.uniform(0.1, 0.9, size=3),
              "k": 2.0}
    value = np.asarray(prepare(program, arrays, {"n": 3}).value(node))
    np.testing.assert_allclose(value, value.T, rtol=1e-12, atol=1e-12)
    # a matrix that is not symmetric makes no symmetric result
    assert not facts.symmetric(program.definitions["g"].body), name

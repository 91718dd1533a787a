"""Helpers shared by the tests: a fixed set of declarations and expression building."""

from __future__ import annotations

import numpy as np

import matcalc
from matcalc.core.ir import Node
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

DECLARATIONS = """
a, c : scalar
s : scalar positive
x, y : vector(n)
p : vector(n) positive
u : vector(m)
A, B : matrix(n, n)
C, D : matrix(m, n)
P : matrix(n, n) spd
S : matrix(n, n) symmetric
Q : matrix(n, n) invertible
R : matrix(m, n) positive
Y : matrix(m, n) simplex
q : vector(n) simplex
"""

SIZES = {"n": 3, "m": 4}


def program(body: str, declarations: str = DECLARATIONS):
    """Parse declarations plus a body of definitions."""
    return matcalc.parse(declarations + "\n" + body)


def expr(text: str, declarations: str = DECLARATIONS) -> Node:
    """The node of one expression over the shared declarations."""
    return program(f"f = {text}", declarations).definitions["f"].body


def point(seed: int = 0) -> dict[str, object]:
    """Arrays for the shared declarations honouring their attributes (user layout)."""
    rng = np.random.default_rng(seed)
    n, m = SIZES["n"], SIZES["m"]
    b = rng.normal(size=(n, n))
    s = rng.normal(size=(n, n))
    return {
        "a": float(rng.normal()),
        "c": float(rng.normal()),
        "s": float(np.exp(rng.normal())),
        "x": rng.normal(size=n),
        "y": rng.normal(size=n),
        "p": np.exp(rng.normal(size=n)),
        "u": rng.normal(size=m),
        "A": rng.normal(size=(n, n)),
        "B": rng.normal(size=(n, n)),
        "C": rng.normal(size=(m, n)),
        "D": rng.normal(size=(m, n)),
        "P": b @ b.T + n * np.eye(n),
        "S": (s + s.T) / 2,
        "Q": np.eye(n) * 2 + 0.3 * rng.normal(size=(n, n)),
        "R": np.exp(rng.normal(size=(m, n))),
        "Y": rng.dirichlet(np.ones(n), size=m),
        "q": rng.dirichlet(np.ones(n)),
    }


def value(text: str, arrays: dict | None = None, declarations: str = DECLARATIONS):
    """The value of an expression over the shared declarations at ``arrays``."""
    prog = program(f"f = {text}", declarations)
    return evaluate(prog, "f", arrays if arrays is not None else point())


def simplified_over(declarations: str, text: str) -> str:
    """``text`` over ``declarations``, as the simplifier leaves it (the problem's facts)."""
    from matcalc.engine.pipeline import facts_for
    from matcalc.engine.simplify import Simplifier

    prog = program(f"f = {text}", declarations)
    return str(Simplifier(facts_for(prog))(prog.definitions["f"].body))


def same_value_over(declarations: str, text: str, other: str, seed: int = 3) -> bool:
    """Whether ``text`` and ``other`` agree at a random point of ``declarations``."""
    prog = program(f"f = {text}\ng = {other}", declarations)
    instance = random_instance(prog, seed=seed)
    first = evaluate(prog, "f", instance.arrays, sizes=instance.sizes)
    second = evaluate(prog, "g", instance.arrays, sizes=instance.sizes)
    return np.allclose(first, second, rtol=1e-9, atol=1e-12)


def assert_error_at_line_2(problem: str, message: str, error: type = Exception) -> None:
    """Parsing ``problem`` raises ``error`` with ``message``, pointing at line 2."""
    import pytest

    with pytest.raises(error) as raised:
        matcalc.parse(problem)
    assert message in str(raised.value) and "line 2" in str(raised.value), str(raised.value)


def proven_from_text(text: str) -> None:
    """Derive every gradient of ``F`` in ``text`` (over the shared declarations) and prove each
    at one random point; a point outside the domain or an undecided comparison is skipped."""
    results = matcalc.derive(matcalc.parse(DECLARATIONS + "\n" + text), of="F", check=False)
    assert_proven_at_a_point(results, text)


def assert_proven_at_a_point(results, shown: str) -> None:
    """Prove each of ``results`` at one random point (``shown`` names the problem when one
    fails); a point outside the domain or an undecided comparison is skipped (hypothesis)."""
    from hypothesis import assume

    from matcalc.errors import DomainError

    try:
        verdicts = matcalc.check(results, seed=3, trials=1, directions=2, tolerance=1e-5)
    except DomainError:
        assume(False)
    for verdict in verdicts:
        assume(not verdict.inconclusive)
        assert verdict.ok, f"{verdict}\n{shown}\n{results.text}"


def assert_generated_code_matches(results, backend: str, seed: int = 5) -> None:
    """The module generated for ``results`` in ``backend`` (or the fused format ``numba``)
    computes what the evaluator does at a random point (skipped when the library is not
    installed)."""
    import pytest

    from matcalc.codegen.module import generate, load
    from matcalc.numeric.sampling import random_instance

    if backend != "numpy":
        library = pytest.importorskip(backend)
        if backend == "jax":
            library.config.update("jax_enable_x64", True)
    point = random_instance(results[0].program, seed=seed)
    expected = results.numpy(compiled=False)(sizes=point.sizes, **point.arrays)
    module = load(generate(list(results), backend=backend))
    arrays = dict(point.arrays)
    if backend == "torch":
        import torch

        arrays = {name: torch.as_tensor(np.asarray(v)) for name, v in arrays.items()}
    got = module.gradient(**arrays)
    rtol = 1e-9 if backend == "numba" else 1e-10  # kernels reassociate sums
    for key, value in expected.items():
        np.testing.assert_allclose(np.asarray(got[key]), value, rtol=rtol, atol=1e-12)
    if hasattr(module, "value_and_gradient"):  # the gradients with the value: their own code
        from matcalc.numeric.evaluate import evaluate

        loss, got = module.value_and_gradient(**arrays)
        expected_loss = evaluate(results[0].program, results[0].of, point.arrays,
                                 sizes=point.sizes)
        np.testing.assert_allclose(float(loss), float(expected_loss), rtol=1e-10)
        for key, value in expected.items():
            np.testing.assert_allclose(np.asarray(got[key]), value, rtol=1e-10, atol=1e-12)


def finite_difference(f, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The gradient of the scalar function ``f`` at ``z`` by central differences."""
    grad = np.zeros_like(z)
    for index in np.ndindex(*z.shape):
        step = np.zeros_like(z)
        step[index] = h
        grad[index] = (f(z + step) - f(z - step)) / (2 * h)
    return grad


def proven_through(base, node: Node) -> None:
    """sum(sin(e)) for the random expression ``e = node`` over ``base``'s variables: its
    gradient with respect to every variable of e is proven at one random point (a point
    where finite differences cannot decide is skipped)."""
    from hypothesis import assume

    from matcalc.core import ir
    from matcalc.engine.pipeline import variables_of

    target = base.extended({"e": node})
    e = target.definitions["e"].ref
    scalar = ir.apply("sin", e) if e.is_scalar else ir.apply("sum", ir.apply("sin", e))
    target = target.extended({"F": scalar})
    names = variables_of(target, target.definitions["F"].ref)
    assume(names)
    results = matcalc.derive(target, wrt=names, of="F", check=False)
    for verdict in matcalc.check(results, seed=3, trials=1, directions=2, tolerance=1e-5):
        assume(not verdict.inconclusive)  # finite differences cannot decide at this point
        assert verdict.ok, f"{verdict}\ne = {node}"


def assert_value_is_numpys(declarations: str, text: str, meaning, seed: int = 4) -> None:
    """``e = text`` over ``declarations`` evaluates, at a random point, to ``meaning(arrays)``
    (the NumPy meaning)."""
    from matcalc.numeric.sampling import random_instance

    problem = matcalc.parse(declarations + f"e = {text}")
    point = random_instance(problem, seed=seed)
    np.testing.assert_allclose(evaluate(problem, "e", point.arrays, sizes=point.sizes),
                               meaning(point.arrays), rtol=1e-12, atol=1e-12)


def inlined(result) -> Node:
    """A result's expression with its where-definitions (delta1, ...) written in place."""
    from matcalc.core import ir

    node = result.result
    for where, definition in reversed(list(result.where.items())):
        node = ir.replaced(node, lambda n, w=where, d=definition:
                           d if n.op == "ref" and n.params[0] == w else None)
    return node


def proven_and_read_back(problem: str, wrt: str | list[str], kind: str | None = None) -> str:
    """The derived text, after proving each result by finite differences, reading its text and
    its LaTeX back as the same derivative, and running its NumPy code."""
    results = matcalc.derive(problem, wrt=wrt, kind=kind, check=False)
    parsed = matcalc.parse(problem)
    instance = random_instance(parsed, seed=2)
    for result in [results] if isinstance(wrt, str) else list(results):
        assert matcalc.check(result, seed=1).ok
        for shown, latex in ((result.text, False), (result.latex_block(False), True)):
            verdict = matcalc.verify(parsed, result.variables, shown, of=result.of,
                                     kind=result.kind, latex=latex, allow_deltas=True)
            assert verdict.ok, (shown, verdict)
        np.testing.assert_allclose(
            result.numpy()(sizes=instance.sizes, **instance.arrays),
            result.numpy(compiled=False)(sizes=instance.sizes, **instance.arrays), rtol=1e-9)
    return results.text

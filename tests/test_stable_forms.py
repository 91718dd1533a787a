"""Every stable form (core/stable_forms.py, codegen/stable.py) computes its plain formula, in
every shape, and is found through names.

The interpreter and generated code compute a stable form from one template, so a finite
difference check sees the same value the result does: a stable form that is wrong (log(softmax)
of a tensor along its second axis, ones(n) - sigmoid(a) as a number) is never caught by checking
derivatives. Here each form is evaluated against its plain formula computed by NumPy, for
vectors, matrices and tensors of three and four axes, in the interpreter and in the code of
every backend, together with the forms whose 1 broadcasts a number (which must keep the shape).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.special import erf, erfc, expit, log_softmax

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.codegen.stable import CODE
from matcalc.core.stable_forms import kinds, no_names, stable_form
from matcalc.numeric.evaluate import evaluate


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# each stable form: an expression it computes and that expression's plain value
FORMS = {
    "sigmoid-of-negative": ("1 - sigmoid(X)", lambda x: 1 - _sigmoid(x)),
    "sech-squared": ("1 - tanh(X) .^ 2", lambda x: 1 - np.tanh(x) ** 2),
    "softplus": ("log(1 + exp(X))", lambda x: np.log(1 + np.exp(x))),
    "log-sigmoid": ("log(sigmoid(X))", lambda x: np.log(_sigmoid(x))),
    "log-softmax": ("log(softmax(X))", lambda x: log_softmax(x, axis=-1)),
    "complement-of-erf": ("1 + erf(X)", lambda x: 1 + erf(x)),
    "twice-sigmoid-of-twice": ("1 + tanh(X)", lambda x: 1 + np.tanh(x)),
}
# the same with a number a under a 1 of the array's shape: the value is spread, not a number
SPREAD = [
    ("ones({dims}) - sigmoid(a)", lambda a: 1 - _sigmoid(a)),
    ("ones({dims}) - tanh(a) .^ 2", lambda a: 1 - np.tanh(a) ** 2),
    ("ones({dims}) - tanh(a) * tanh(a)", lambda a: 1 - np.tanh(a) ** 2),
    ("log(ones({dims}) + exp(a))", lambda a: np.log(1 + np.exp(a))),
    ("ones({dims}) + erf(a)", lambda a: 1 + erf(a)),
    ("ones({dims}) + tanh(a)", lambda a: 1 + np.tanh(a)),
]
SHAPES = {  # declaration: (its dimensions, the sizes the test uses)
    "vector(n)": ("n", (5,)),
    "matrix(m, n)": ("m, n", (3, 5)),
    "tensor(B, T, n)": ("B, T, n", (2, 3, 5)),
    "tensor(B, H, T, n)": ("B, H, T, n", (2, 2, 3, 5)),
}


def test_every_stable_form_is_tested_here():
    assert set(FORMS) == set(CODE) == set(kinds())
    for kind, (text, _) in FORMS.items():
        node = matcalc.parse(f"X : matrix(m, n)\ny = {text}").definitions["y"].body
        found = stable_form(node, no_names)
        assert found is not None and found.kind == kind, text


@cache
def _problem(declared: str, dims: str):
    """y0, y1, ... the forms over X and the spread forms over a, and f = sum(G0 * y0) + ...
    whose gradient in Gi is yi; the problem, its number of forms and its gradients."""
    texts = [text for text, _ in FORMS.values()] + [text.format(dims=dims) for text, _ in SPREAD]
    lines = [f"X : {declared}", "a : scalar"]
    lines += [f"G{i} : {declared}\ny{i} = {text}" for i, text in enumerate(texts)]
    lines.append("f = " + " + ".join(f"sum(G{i} * y{i})" for i in range(len(texts))))
    problem = matcalc.parse("\n".join(lines))
    wrt = [f"G{i}" for i in range(len(texts))]
    return problem, len(texts), matcalc.derive(problem, wrt=wrt, check=False)


def _wanted(x: np.ndarray, a: float) -> list[np.ndarray]:
    plain = [value(x) for _, value in FORMS.values()]
    return plain + [np.full(x.shape, value(a)) for _, value in SPREAD]


def _computed(problem, results, arrays: dict, count: int, backend: str) -> list:
    """y0, y1, ... computed by the interpreter, or as the gradients of code of ``backend``."""
    if backend == "interpreter":
        return [evaluate(problem, f"y{i}", arrays) for i in range(count)]
    library = pytest.importorskip(backend)
    if backend == "jax":
        library.config.update("jax_enable_x64", True)
    module = load(generate(list(results), backend=backend))
    if backend == "torch":
        arrays = {name: library.as_tensor(np.asarray(value)) for name, value in arrays.items()}
    computed = module.gradient(**arrays)
    return [np.asarray(computed[f"G{i}"]) for i in range(count)]


# JAX runs NumPy's templates over jax.numpy (and its own erf): one shape, the one with most axes
CASES = [(declared, backend) for declared in SHAPES
         for backend in ("interpreter", "numpy", "torch")]
CASES.append(("tensor(B, H, T, n)", "jax"))


@pytest.mark.parametrize(("declared", "backend"), CASES)
def test_each_stable_form_computes_its_plain_formula(declared, backend):
    dims, shape = SHAPES[declared]
    problem, count, results = _problem(declared, dims)
    rng = np.random.default_rng(3)
    x, a = rng.normal(size=shape) * 2, 0.7
    arrays = {"X": x, "a": a} | {f"G{i}": np.ones(shape) for i in range(count)}
    wanted = _wanted(x, a)
    got = _computed(problem, results, arrays, count, backend)
    for i, (value, want) in enumerate(zip(got, wanted, strict=True)):
        assert np.shape(value) == want.shape, (i, backend)
        assert np.allclose(value, want, rtol=1e-12, atol=1e-14), (i, backend)


# -- a name where a form looks: the form is found through it ------------------------------------
# A name holds the plain value, the one whose cancellation or overflow the form avoids, so code
# and the interpreter look through names to the function the form reads (q = tanh(x), 1 + q).
# Each case: the definitions, the form written with their names, and its exact value; at inputs
# where the plain formula overflows or keeps no digit.
EXTREME = np.array([-800.0, -40.0, -19.0, -0.3, 19.0, 40.0, 800.0])


def _sech2(x):
    e = np.exp(-2 * np.abs(x))
    return 4 * e / (1 + e) ** 2


NAMED = [
    ("e = exp(x)", "log(1 + e)", lambda x: np.logaddexp(0, x)),
    ("e = exp(x)\nu = 1 + e", "log(u)", lambda x: np.logaddexp(0, x)),
    ("s = sigmoid(x)", "1 - s", lambda x: expit(-x)),
    ("s = sigmoid(x)", "log(s)", lambda x: -np.logaddexp(0, -x)),
    ("q = tanh(x)", "1 + q", lambda x: 2 * expit(2 * x)),
    ("q = tanh(x)", "1 - q .^ 2", _sech2),
    ("q = tanh(x)\nr = q", "1 - r * r", _sech2),
    ("q = tanh(x)\nw = q .^ 2", "1 - w", _sech2),
    ("r = erf(x)", "1 + r", lambda x: erfc(-x)),
    ("P = softmax(x)", "log(P)", lambda x: log_softmax(x)),
]


def test_every_stable_form_is_met_through_a_name():
    met = {stable_form(matcalc.parse(f"x : vector(n)\n{names}\ny = {text}").definitions["y"].body,
                       _bodies(names)).kind for names, text, _ in NAMED}
    assert met == set(CODE)


def _bodies(names: str):
    program = matcalc.parse(f"x : vector(n)\n{names}")
    return lambda name: program.definitions[name].body if name in program.definitions else None


@cache
def _named_problem():
    lines = ["x : vector(n)"]
    for i, (names, text, _) in enumerate(NAMED):  # each case's names made its own
        renamed = {name.split(" = ")[0]: f"{name.split(' = ')[0]}{i}" for name in
                   names.split("\n")}
        for old, new in renamed.items():
            names, text = _renamed(names, old, new), _renamed(text, old, new)
        lines += [names, f"G{i} : vector(n)", f"y{i} = {text}"]
    lines.append("f = " + " + ".join(f"sum(G{i} * y{i})" for i in range(len(NAMED))))
    problem = matcalc.parse("\n".join(lines))
    return problem, matcalc.derive(problem, wrt=[f"G{i}" for i in range(len(NAMED))],
                                   check=False)


def _renamed(text: str, old: str, new: str) -> str:
    import re

    return re.sub(rf"\b{old}\b", new, text)


@pytest.mark.parametrize("backend", ["interpreter", "numpy", "jax", "torch"])
def test_a_named_function_inside_a_stable_form_keeps_its_digits(backend):
    problem, results = _named_problem()
    arrays = {"x": EXTREME} | {f"G{i}": np.ones(EXTREME.size) for i in range(len(NAMED))}
    with np.errstate(over="ignore"):  # code computes exp(800) of a name no result reads
        got = _computed(problem, results, arrays, len(NAMED), backend)
    for value, (names, text, exact) in zip(got, NAMED, strict=True):
        assert np.allclose(value, exact(EXTREME), rtol=1e-12, atol=1e-300), (names, text, value)


def test_the_interpreter_looks_through_a_value_it_was_handed():
    # a grader hands a second evaluation the problem's definitions (grading/samples.py): their
    # values are their own, so a form still looks through them; a checker that moves one
    # (numeric/check.py) gets the value moved, with no form past it
    from matcalc.numeric.evaluate import prepare

    problem = matcalc.parse("x : vector(n)\nq = tanh(x)\ny = 1 + q")
    q = problem.definitions["q"].ref
    first = prepare(problem, {"x": EXTREME})
    first.value(q)
    handed = prepare(problem, {"x": EXTREME})
    handed.values[q] = first.values[q]
    got = handed.value(problem.definitions["y"].body).ravel()
    assert np.allclose(got, 2 * expit(2 * EXTREME), rtol=1e-12, atol=1e-300)
    moved = prepare(problem, {"x": EXTREME})
    moved.move(q, np.full((EXTREME.size, 1), 0.5))
    assert np.all(moved.value(problem.definitions["y"].body) == 1.5)


@pytest.mark.parametrize(("one", "kept"), [("1", True), ("2", False)])
def test_repeats_leave_what_a_form_reaches_through_a_name_written_out(one, kept):
    # w = tanh(A x) .^ 2 is a where-definition, and 1 - w is a form of tanh(A x) through it:
    # the tanh stays written out, as the textbook writes the form (2 - w is none: named)
    from matcalc.engine.repeats import named_repeats

    program = matcalc.parse(f"x : vector(n)\nA : matrix(n, n)\nw = tanh(A @ x) .^ 2\n"
                            f"r1 = ({one} - w) * tanh(A @ x)\nr2 = tanh(A @ x) + x")
    bodies = {name: d.body for name, d in program.definitions.items()}
    where, _ = named_repeats({"w": bodies["w"]}, {"r1": bodies["r1"], "r2": bodies["r2"]},
                             set())
    tanh = bodies["w"].args[0]
    assert (tanh not in where.values()) is kept, where

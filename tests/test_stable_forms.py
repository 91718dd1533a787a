"""Every stable form (codegen/stable.py) computes its plain formula, in every shape.

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
from scipy.special import erf, log_softmax

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.codegen.stable import CODE, stable_form
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
    assert set(FORMS) == set(CODE)
    for kind, (text, _) in FORMS.items():
        node = matcalc.parse(f"X : matrix(m, n)\ny = {text}").definitions["y"].body
        found = stable_form(node, lambda n: n)
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
    if backend == "interpreter":
        got = [evaluate(problem, f"y{i}", arrays) for i in range(count)]
    else:
        library = pytest.importorskip(backend)
        if backend == "jax":
            library.config.update("jax_enable_x64", True)
        module = load(generate(list(results), backend=backend))
        if backend == "torch":
            arrays = {name: library.as_tensor(np.asarray(value)) for name, value in
                      arrays.items()}
        computed = module.gradient(**arrays)
        got = [np.asarray(computed[f"G{i}"]) for i in range(count)]
    for i, (value, want) in enumerate(zip(got, wanted, strict=True)):
        assert np.shape(value) == want.shape, (i, backend)
        assert np.allclose(value, want, rtol=1e-12, atol=1e-14), (i, backend)

"""Numeric evaluation: dimensions read off arrays, layouts, attribute and domain checks."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import point, program

import matcalc
from matcalc.errors import AssumptionError, DomainError, ShapeError, UnknownNameError
from matcalc.numeric.evaluate import evaluate

CS224N = open("derivations/cs224n_one_layer.mc").read()


def cs224n_arrays(seed=0, Dx=4, Dh=5, Nc=3):
    rng = np.random.default_rng(seed)
    y = np.zeros(Nc)
    y[1] = 1
    return {"x": rng.normal(size=Dx), "W": rng.normal(size=(Dh, Dx)), "b1": rng.normal(size=Dh),
            "U": rng.normal(size=(Nc, Dh)), "b2": rng.normal(size=Nc), "y": y}


def test_cs224n_network_matches_numpy():
    # Forward pass of CS224n "Computing Neural Network Gradients", section 3.
    p = matcalc.parse(CS224N)
    v = cs224n_arrays()
    z = v["W"] @ v["x"] + v["b1"]
    h = np.maximum(z, 0)
    theta = v["U"] @ h + v["b2"]
    yhat = np.exp(theta) / np.exp(theta).sum()
    assert evaluate(p, "J", v) == pytest.approx(-np.log(yhat[1]), rel=1e-12)
    np.testing.assert_allclose(evaluate(p, "h", v), h)
    np.testing.assert_allclose(evaluate(p, "yhat", **v), yhat)
    assert evaluate(p, None, v) == evaluate(p, "J", v)
    np.testing.assert_allclose(evaluate(p, "W", v), v["W"])


def test_vectors_may_be_columns_and_scalars_zero_d():
    p = program("f = a * x")
    v = point()
    result = evaluate(p, "f", dict(v, x=v["x"].reshape(-1, 1), a=np.array(v["a"])))
    np.testing.assert_allclose(result, v["a"] * v["x"])
    assert result.ndim == 1


def test_dimensions_must_agree_across_arrays():
    p = matcalc.parse(CS224N)
    v = cs224n_arrays()
    with pytest.raises(ShapeError, match="'W' is declared matrix\\(Dh, Dx\\), so Dx = 3, but 'x' "
                                         "gives Dx = 4"):
        evaluate(p, "J", dict(v, W=np.ones((5, 3))))
    with pytest.raises(ShapeError, match="'x' is a vector, but its value has shape \\(4, 2\\)"):
        evaluate(p, "J", dict(v, x=np.ones((4, 2))))
    with pytest.raises(ShapeError, match="is a matrix"):
        evaluate(p, "J", dict(v, W=np.ones(5)))


def test_fixed_dimensions_are_checked():
    p = matcalc.parse("x : vector(3)\nf = sum(x)")
    assert evaluate(p, "f", x=np.ones(3)) == 3
    with pytest.raises(ShapeError, match="where 3 is required"):
        evaluate(p, "f", x=np.ones(4))


def test_missing_and_unknown_arrays():
    p = matcalc.parse(CS224N)
    v = cs224n_arrays()
    with pytest.raises(UnknownNameError, match="no value given for y"):
        evaluate(p, "J", {k: a for k, a in v.items() if k != "y"})
    with pytest.raises(UnknownNameError, match="'Ww' is not a variable.*did you mean 'W'"):
        evaluate(p, "J", dict(v, Ww=1.0))
    with pytest.raises(UnknownNameError):
        evaluate(p, "nothing", v)


@pytest.mark.parametrize("name, bad, message", [
    ("y", np.array([0.5, 0.6, 0.1]), "not on the simplex"),
    ("y", np.array([1.5, -0.5, 0.0]), "not on the simplex"),
])
def test_declared_attributes_are_checked(name, bad, message):
    p = matcalc.parse(CS224N)
    with pytest.raises(AssumptionError, match=message):
        evaluate(p, "J", dict(cs224n_arrays(), **{name: bad}))
    evaluate(p, "J", dict(cs224n_arrays(), **{name: bad}), check_attributes=False)


@pytest.mark.parametrize("name, bad, message", [
    ("P", np.array([[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1]]), "not positive definite"),
    ("P", np.array([[1.0, 0.5, 0], [0.0, 1.0, 0], [0, 0, 1]]), "not symmetric"),
    ("S", np.arange(9.0).reshape(3, 3), "not symmetric"),
    ("p", np.array([1.0, -1.0, 2.0]), "not positive"),
    ("Q", np.diag([1.0, 1.0, -1.0]), "not invertible with a positive determinant"),
    ("Y", np.ones((4, 3)), "each row's entries"),
])
def test_attribute_violations(name, bad, message):
    p = program("f = a")
    with pytest.raises(AssumptionError, match=message):
        evaluate(p, "f", dict(point(), **{name: bad}))


def test_pm1_attribute():
    p = matcalc.parse("s : vector(n) pm1\nf = sum(s)")
    assert evaluate(p, "f", s=np.array([1.0, -1.0, 1.0])) == 1
    with pytest.raises(AssumptionError, match="other than -1 and \\+1"):
        evaluate(p, "f", s=np.array([1.0, 0.5, 1.0]))


@pytest.mark.parametrize("source", ["log(x)", "sqrt(x)", "1 / (x - x)", "logdet(A)", "x .^ 0.5",
                                    "inv(A - A)", "exp(1000 * p)"])
def test_domain_errors(source):
    v = dict(point(), x=np.array([-1.0, 2.0, 3.0]), A=-np.eye(3))
    with pytest.raises(DomainError, match="is not finite here"):
        evaluate(program(f"f = {source}"), "f", v)


def test_non_finite_inputs_are_rejected():
    with pytest.raises(DomainError, match="NaN or infinity"):
        evaluate(program("f = sum(x)"), "f", dict(point(), x=np.array([1.0, np.nan, 0])))
    with pytest.raises(ShapeError, match="not an array of numbers"):
        evaluate(program("f = sum(x)"), "f", dict(point(), x="abc"))


def test_dimension_values_and_sizes_argument():
    p = matcalc.parse("x : vector(n)\nf = sum(x) / n + sum(ones(n, 2))")
    assert evaluate(p, "f", x=np.ones(4)) == pytest.approx(9.0)
    # a dimension no array determines comes from the sizes argument
    p = matcalc.parse("sum(x) + sum(ones(k))")
    assert evaluate(p, "f", x=np.ones(4), sizes={"k": 2}) == pytest.approx(6.0)


def test_deep_definition_chains_evaluate_without_recursion():
    lines = ["x : vector(n)", "h0 = x"] + [f"h{i} = tanh(h{i - 1})" for i in range(1, 2000)]
    p = matcalc.parse("\n".join(lines))
    expected = np.array([0.5, -0.2])
    for _ in range(1999):
        expected = np.tanh(expected)
    np.testing.assert_allclose(evaluate(p, "h1999", x=np.array([0.5, -0.2])), expected)


_T = np.array([-800.0, -40.0, -10.0, 0.0, 10.0, 40.0, 800.0])
_E = np.exp(-np.abs(_T))  # exp(-|t|), exact in floating point for these t
_SIGMOID = np.where(_T >= 0, 1 / (1 + _E), _E / (1 + _E))


@pytest.mark.parametrize("body, want", [
    ("1 - sigmoid(x)", np.where(_T >= 0, _E / (1 + _E), 1 / (1 + _E))),
    ("sigmoid(x) * (1 - sigmoid(x))", _E / (1 + _E) ** 2),
    ("log(1 + exp(x))", np.maximum(_T, 0) + np.log1p(_E)),
    ("log(sigmoid(x))", np.minimum(_T, 0) - np.log1p(_E)),
    ("1 - tanh(x) * tanh(x)", 4 * _E**2 / (1 + _E**2) ** 2),
])
def test_the_interpreter_computes_saturating_forms_stably(body, want):
    # the defects: 1 - sigmoid(40) gave 0 (relative error 1), log(1 + exp(800)) overflowed
    got = evaluate(matcalc.parse(f"x : vector(n)\ny = {body}"), "y", {"x": _T})
    assert np.allclose(got, want, rtol=1e-13, atol=0)


def test_the_interpreter_takes_log_softmax_through_logsumexp():
    logits = np.array([0.0, 800.0, -800.0])
    got = evaluate(matcalc.parse("x : vector(n)\ny = log(softmax(x))"), "y", {"x": logits})
    assert np.allclose(got, [-800.0, 0.0, -1600.0], rtol=1e-15)
    named = matcalc.parse("x : vector(n)\np = softmax(x)\ny = -sum(log(p))")  # through a name
    assert np.isclose(evaluate(named, "y", {"x": logits}), 2400.0, rtol=1e-15)


# log(softmax(Z)) runs along softmax's axis: the last one of a tensor (3 or 4 axes), each row of a
# matrix, all of a vector. Taken along axis 1 of a tensor, the value of a cross-entropy against
# soft targets (G. Hinton et al., "Distilling the Knowledge in a Neural Network", 2015, sec. 2)
# was wrong, and so was its gradient in the targets, -log(softmax(Z)), in generated code and in
# the interpreter alike, so that checking it by finite differences said ok
@pytest.mark.parametrize("declared, sizes", [
    ("tensor(B, T, k)", {"B": 2, "T": 3, "k": 4}),
    ("tensor(B, H, T, k)", {"B": 2, "H": 3, "T": 2, "k": 4}),
    ("matrix(T, k)", {"T": 3, "k": 4}),
    ("vector(k)", {"k": 4}),
])
@pytest.mark.parametrize("backend", ["numpy", "torch"])  # JAX runs NumPy's template
def test_log_softmax_runs_along_softmax_s_axis_in_every_shape(declared, sizes, backend):
    from helpers import assert_generated_code_matches

    from matcalc.numeric.sampling import random_instance

    source = f"Y, Z : {declared}\nL = -sum(Y * log(softmax(Z)))"
    problem = matcalc.parse(source)
    arrays = random_instance(problem, seed=1, sizes=sizes).arrays
    z = arrays["Z"].reshape(arrays["Z"].shape if arrays["Z"].ndim > 1 else (1, -1))
    log_p = z - z.max(-1, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(-1, keepdims=True))
    want = -np.sum(arrays["Y"].reshape(log_p.shape) * log_p)
    assert np.isclose(evaluate(problem, "L", arrays, sizes=sizes), want, rtol=1e-12)
    results = matcalc.derive(problem, check=False)
    assert all(verdict.ok for verdict in matcalc.check(results, seed=2))
    gradient = results["Y"].numpy()(sizes=sizes, **arrays)
    assert np.allclose(np.reshape(gradient, log_p.shape), -log_p, rtol=1e-12)
    assert_generated_code_matches(results, backend)


def test_every_stable_form_of_generated_code_has_its_meaning_in_the_interpreter():
    # the interpreter runs each stable form's template of codegen/stable.py, as generated code
    import numpy as np

    from matcalc.codegen.stable import CODE
    from matcalc.numeric.operations import evaluate_stable

    t = np.array([[-40.0], [0.5], [40.0]])
    for kind in CODE:
        assert np.all(np.isfinite(evaluate_stable(kind, t, 0))), kind


def _mp_gelu(t, tanh_form: bool):
    import mpmath

    if tanh_form:
        inner = mpmath.sqrt(2 / mpmath.pi) * (t + mpmath.mpf(0.044715) * t**3)
        return t * (1 + mpmath.tanh(inner)) / 2
    return t * (1 + mpmath.erf(t / mpmath.sqrt(2))) / 2


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh"])
def test_gelu_and_its_derivative_keep_their_digits_for_negative_inputs(name):
    # the defect: 1 + erf(x / sqrt 2) cancelled, so gelu(-10) was 0 (relative error 1), and
    # gelu's derivative lost every digit below x = -6
    import mpmath

    tanh_form = name == "gelu_tanh"
    # the smallest: gelu(-37) = 2e-298, gelu_tanh(-19) = 4e-225, still normal floats
    t = np.array([-19.0 if tanh_form else -37.0, -10.0, -3.0, 0.5, 6.0])
    with mpmath.workdps(400):  # 1 + erf(-26) = 1e-296 needs the digits
        exact = [float(_mp_gelu(mpmath.mpf(v), tanh_form)) for v in t]
        slopes = [float(mpmath.diff(lambda v: _mp_gelu(v, tanh_form), mpmath.mpf(v)))
                  for v in t]
    got = evaluate(matcalc.parse(f"x : vector(n)\ny = {name}(x)"), "y", {"x": t})
    assert np.allclose(got, exact, rtol=1e-13, atol=0)
    result = matcalc.derive(f"x : vector(n)\nf = sum({name}(x))", wrt="x", check=False)
    for compiled in (True, False):  # generated code, the interpreter
        assert np.allclose(result.numpy(compiled=compiled)(x=t), slopes, rtol=1e-12, atol=0)

"""Each simplification rule is sound: on its example it fires, both sides agree numerically at
random points honouring the declarations, and without the assumption it needs it does not fire."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matcalc
from matcalc.engine import polynomial as polynomial_module
from matcalc.engine.simplify import Simplifier, size
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import choose_sizes, draw, random_instance
from matcalc.rules.facts import Facts
from matcalc.rules.simplification import RULES


def simplified(program):
    body = program.definitions["f"].body
    simplifier = Simplifier(Facts(lambda name: program.definitions[name].body
                                  if name in program.definitions else None))
    return simplifier(body), simplifier.fired


# rules about a kink itself (step(0) = 0): their example sits on it, which sampling avoids
AT_A_KINK = {"step-of-zero"}


def _point(program, seed: int, at_kink: bool):
    if not at_kink:
        instance = random_instance(program, seed=seed)
        return instance.arrays, instance.sizes
    rng = np.random.default_rng(seed)
    sizes = choose_sizes(program, rng, None)
    return {name: draw(node, sizes, rng, set()) for name, node in program.variables.items()}, sizes


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule_is_sound(rule):
    program = matcalc.parse(rule.example)
    after, fired = simplified(program)
    assert rule.name in fired, f"{rule.name} did not fire on its example"
    extended = program.extended({"g": after})
    for seed in range(3):
        arrays, sizes = _point(extended, seed, at_kink=rule.name in AT_A_KINK)
        before_value = evaluate(extended, "f", arrays, sizes=sizes)
        after_value = evaluate(extended, "g", arrays, sizes=sizes)
        np.testing.assert_allclose(after_value, before_value, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rule", [r for r in RULES if r.needs],
                         ids=[r.name for r in RULES if r.needs])
def test_rule_needs_its_assumption(rule):
    attribute = {"positive": " positive", "simplex": " simplex", "symmetric": " symmetric",
                 "pm1": " pm1", "upper": " upper"}[rule.needs]
    assert attribute in rule.example
    program = matcalc.parse(rule.example.replace(attribute, ""))
    _, fired = simplified(program)
    assert rule.name not in fired


def test_facts_from_definitions():
    program = matcalc.parse("theta : vector(k); Z : matrix(m, k)\nyhat = softmax(theta)\n"
                            "P = softmax(Z)\ne = exp(theta)\nf = sum(yhat) + sum(P)")
    facts = Facts(lambda name: program.definitions[name].body
                  if name in program.definitions else None)
    refs = {name: d.ref for name, d in program.definitions.items()}
    assert facts.positive(refs["yhat"]) and facts.simplex(refs["yhat"])
    assert facts.row_simplex(refs["P"]) and not facts.simplex(refs["P"])
    assert facts.positive(refs["e"]) and not facts.simplex(refs["e"])
    assert not facts.positive(program.variables["theta"])
    after, fired = simplified(program)
    assert "sum-of-simplex" in fired and str(after) == "1 + m"


def test_simplification_never_grows_the_seeds():
    for path in ("derivations/cs224n_one_layer.mc", "derivations/relu_neuron_mse.mc"):
        raw = matcalc.derive(open(path).read())
        for derivative in raw:
            assert size(derivative.result) <= 12


@pytest.mark.parametrize("declarations, collects", [
    ("x, y : vector(n)\ns = sigmoid(x)", True),   # 1 - s > 0 for a sigmoid: cancels
    # s could be 1, but where it is the expression divides by zero: wherever it is defined
    # it is s - y
    ("x, y, s : vector(n)", True),
])
def test_collecting_terms_cancels_only_non_zero_divisors(declarations, collects):
    # Logistic regression's gradient: ((1 - y) / (1 - s) - y / s) * (s * (1 - s)) = s - y.
    program = matcalc.parse(declarations + "\nf = ((1 - y) / (1 - s) - y / s) * (s * (1 - s))")
    after, fired = simplified(program)
    assert (str(after) == "s - y") is collects
    if collects:
        extended = program.extended({"g": after})
        instance = random_instance(extended, seed=0)
        np.testing.assert_allclose(evaluate(extended, "g", instance.arrays),
                                   evaluate(extended, "f", instance.arrays), rtol=1e-12)


def test_collecting_terms_is_exact_algebra():
    program = matcalc.parse("a, b, c : vector(n)\nf = (a - b) * c - a * (c - b) + b * (c - a)")
    after, fired = simplified(program)
    assert "collect-terms" in fired and size(after) < size(program.definitions["f"].body)
    extended = program.extended({"g": after})
    for seed in range(3):
        instance = random_instance(extended, seed=seed)
        np.testing.assert_allclose(evaluate(extended, "g", instance.arrays),
                                   evaluate(extended, "f", instance.arrays), atol=1e-12)


def test_a_broadcast_scalar_over_a_quotient_is_not_summed_away():
    """a' @ (b / a) = sum(b) only when b has a's shape: for a scalar b it is n * b."""
    source = "x : vector(n)\ne = sum(log(softmax(tanh(x))))\nF = sin(e)"
    derivative = matcalc.derive(source, wrt="x", of="F")
    assert matcalc.check(derivative, seed=3, trials=2).ok, derivative.text
    raw = matcalc.derive("a : scalar; p : vector(n) positive\nf = p' @ (a / p)", wrt="a")
    assert matcalc.check(raw, seed=1).ok, raw.text


def test_positivity_through_sums_of_squares():
    """sqrt(mean((x - mu) .^ 2) + 1e-5) is positive: a positive plus a nonnegative."""
    source = "x : vector(n)\nmu = mean(x)\nsigma = sqrt(mean((x - mu) .^ 2) + 1e-5)\n" \
             "yn = (x - mu) / sigma\nL = sum(sin(yn)) + sum(x - mu)"
    parsed = matcalc.parse(source)
    facts = Facts(lambda name: parsed.definitions[name].body if name in parsed.definitions
                  else None)
    assert facts.positive(parsed.definitions["sigma"].ref)
    assert not facts.positive(parsed.definitions["mu"].ref)
    derivative = matcalc.derive(parsed, wrt="x", of="L")
    assert matcalc.check(derivative, seed=0).ok, derivative.text


@pytest.mark.parametrize("source, expected", [
    # the layer-norm term: the divisor n meets (g : y) and makes a mean
    ("g, y : vector(n); s : scalar positive\nf = (((g : y) / s) * y) / n",
     "(mean(g * y) / s) * y"),
    ("x : vector(n); a, s : scalar\nf = ((sum(x) / s) * x) / n", "(mean(x) / s) * x"),
    ("x : vector(n); t : scalar\nf = (sum(x) / t) / n", "mean(x) / t"),
])
def test_a_scalar_divisor_moves_inwards_where_it_simplifies(source, expected):
    program = matcalc.parse(source)
    after, fired = simplified(program)
    assert "regroup-quotient" in fired and str(after) == expected
    extended = program.extended({"g": after})
    for seed in range(3):
        instance = random_instance(extended, seed=seed)
        np.testing.assert_allclose(evaluate(extended, "g", instance.arrays, sizes=instance.sizes),
                                   evaluate(extended, "f", instance.arrays, sizes=instance.sizes),
                                   rtol=1e-12)


@pytest.mark.parametrize("source", [
    "x : vector(n); a, s : scalar\nf = (a * x) / s",          # a / s is no simpler
    "x : vector(n); s, t : scalar\nf = (x / t) / s",           # x / s is no simpler
    "x : vector(n); a : scalar; z : vector(m)\nf = ((sum(x) / a) * x) / m",  # m: not x's size
])
def test_a_scalar_divisor_stays_where_nothing_is_gained(source):
    _, fired = simplified(matcalc.parse(source))
    assert "regroup-quotient" not in fired


def test_products_are_written_left_to_right_except_onto_a_vector():
    from matcalc.engine.reading_order import left_to_right

    program = matcalc.parse("A, B, C : matrix(n, n); x : vector(n)\n"
                            "f = A @ (B @ (C @ x)) + (A @ (B @ C)) @ x")
    after = left_to_right(program.definitions["f"].body)
    assert str(after) == "A @ (B @ (C @ x)) + A @ B @ C @ x"
    extended = program.extended({"g": after})
    instance = random_instance(extended, seed=0)
    np.testing.assert_allclose(evaluate(extended, "g", instance.arrays),
                               evaluate(extended, "f", instance.arrays), rtol=1e-12)


def test_collecting_factors_out_what_every_term_shares():
    program = matcalc.parse("a, b : vector(n); s : scalar positive; X : matrix(n, n)\n"
                            "f = 2 * a / s - b * (2 / s)\ng = det(X) * inv(X)' + inv(X)'")
    after, fired = simplified(program)
    assert "collect-terms" in fired and str(after) == "2 * (a - b) / s"
    extended = program.extended({"h": after})
    instance = random_instance(extended, seed=0)
    np.testing.assert_allclose(evaluate(extended, "h", instance.arrays),
                               evaluate(extended, "f", instance.arrays), rtol=1e-12)
    simplifier = Simplifier(Facts(lambda name: None))
    assert str(simplifier(program.definitions["g"].body)) == "(det(X) + 1) * inv(X)'"


def test_the_functions_own_divisors_are_taken_as_non_zero_and_no_others():
    from matcalc.engine.simplify import divisors_of

    program = matcalc.parse("x, y : vector(n)\ng = sum(y) / (x' @ x)\ns = sum(y)\n"
                            "f = sum(x) / s")
    found = {str(node) for node in divisors_of(program, program.definitions["f"].ref)}
    assert found == {"s", "sum(y)"}
    # r divides by x' @ x, so its gradient may cancel it; a free divisor is never cancelled
    rayleigh = matcalc.derive("x : vector(n); A : matrix(n, n) symmetric\n"
                              "r = (x' @ A @ x) / (x' @ x)", wrt="x")
    assert rayleigh.text.endswith("2 * (A @ x - r * x) / (x' @ x)")
    # what an expression divides by is not zero wherever it is defined: s * (y / s) is y there
    free = matcalc.parse("x, y, s : vector(n)\nf = s * (y / s)")
    assert str(simplified(free)[0]) == "y"


_ATOMS = [matcalc.parse("a : vector(n)\nb : vector(n)\nc : vector(n)\nf = sin(a)").definitions[
    "f"].body.args[0], *(
    matcalc.parse(f"{name} : vector(n)\nf = {name}").definitions["f"].body
    for name in ("b", "c"))]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(
    st.lists(st.tuples(st.sampled_from(range(3)), st.sampled_from([-2, -1, 1, 2])),
             max_size=3, unique_by=lambda item: item[0]).map(tuple),
    st.sampled_from([1.0, -1.0, 2.0, -3.0, 0.5]), max_size=4))
def test_collecting_counts_the_nodes_it_would_build_exactly(terms):
    # collecting skips building forms that would not be smaller: the counts must be exact
    polynomial = {tuple((_ATOMS[index], power) for index, power in monomial): coefficient
                  for monomial, coefficient in terms.items()}
    assert polynomial_module._sum_size(polynomial) == size(polynomial_module._sum(polynomial))
    content = polynomial_module._content(polynomial)
    if content is not None:
        assert polynomial_module._factored_size(content) == size(
            polynomial_module._factored(content))

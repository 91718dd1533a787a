"""Random instances honour attributes, domains and kinks, and are reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DECLARATIONS

import matcalc
from matcalc.errors import DomainError
from matcalc.numeric.evaluate import check_attributes_of
from matcalc.numeric.sampling import instance_again, random_instance


def test_every_attribute_is_honoured():
    program = matcalc.parse(DECLARATIONS + "f = a")
    for seed in range(20):
        instance = random_instance(program, seed=seed)
        for name, node in program.variables.items():
            array = np.asarray(instance.arrays[name], dtype=float)
            internal = array.reshape(-1, 1) if array.ndim == 1 else array
            check_attributes_of(name, node, internal)  # raises when violated


def test_sizes_differ_between_dimensions_and_can_be_fixed():
    program = matcalc.parse("A : matrix(m, n)\nB : matrix(n, k)\nf = A @ B")
    instance = random_instance(program, seed=3)
    assert len(set(instance.sizes.values())) == 3
    assert random_instance(program, seed=3, sizes={"n": 9}).sizes["n"] == 9


def test_same_seed_same_point():
    program = matcalc.parse(DECLARATIONS + "f = a")
    one, two = random_instance(program, seed=11), random_instance(program, seed=11)
    for name in program.variables:
        np.testing.assert_array_equal(one.arrays[name], two.arrays[name])
    assert isinstance(random_instance(program).seed, int)


@pytest.mark.parametrize("source", ["sum(log(x))", "sum(sqrt(X))", "logdet(X)", "sum(inv(X))",
                                    "sum(log(x'))", "det(X)", "sum(x .^ 0.5)"])
def test_direct_arguments_of_restricted_functions_are_drawn_in_the_domain(source):
    program = matcalc.parse(source)
    for seed in range(10):
        instance = random_instance(program, seed=seed, max_tries=1)
        assert np.isfinite(instance.evaluation.value(program.definitions["f"].ref))


def test_kinks_are_avoided():
    program = matcalc.parse("sum(relu(W @ x)) + sum(abs(x - 0.5))")
    for seed in range(10):
        instance = random_instance(program, seed=seed)
        values = instance.evaluation.values
        for node in values:
            if node.op in ("relu", "abs"):
                assert np.min(np.abs(values[node.args[0]])) > 1e-2


def test_impossible_domains_end_in_a_clear_error():
    program = matcalc.parse("sum(log(-exp(x)))")
    with pytest.raises(DomainError, match="found no suitable random point in 20 tries .*log"):
        random_instance(program, seed=0, max_tries=20)


@pytest.mark.parametrize("source", ["S : matrix(n, n) symmetric\nf = sum(S ^ 2) + sum(inv(S))",
                                    "S : matrix(n, n) spd\nf = sum(log(S)) + logdet(S)",
                                    "S : matrix(n, n) symmetric\nf = logdet(S)"])
def test_implied_attributes_keep_the_declared_ones(source):
    # A symmetric S that inv/logdet also need invertible is drawn symmetric *and* invertible.
    program = matcalc.parse(source)
    for seed in range(5):
        s = random_instance(program, seed=seed).arrays["S"]
        np.testing.assert_allclose(s, s.T)
        assert np.linalg.det(s) > 0


def test_a_point_is_kept_only_where_the_new_definitions_are_defined():
    first = matcalc.parse("x : vector(n)\nf = x' @ x")
    point = random_instance(first, seed=1)
    assert np.min(point.arrays["x"]) < 0  # the point has a negative entry
    again = instance_again(first.extended({}), point)
    assert again is not None and again.arrays is point.arrays
    with_log = matcalc.parse("x : vector(n)\nf = x' @ x\ng = sum(log(x))")
    assert instance_again(with_log, point) is None  # log of a negative entry
    other = matcalc.parse("y : vector(n)\nf = y' @ y")
    assert instance_again(other, point) is None  # not the same variables

"""The finite-difference checker accepts right results and rejects wrong ones."""

from __future__ import annotations

import pathlib
from dataclasses import replace

import numpy as np
import pytest

import matcalc
from matcalc.core import ir
from matcalc.errors import DomainError
from matcalc.numeric.sampling import random_instance

QUADRATIC = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x + sum(sin(A @ x))"


def plus_diagonal(weight: float):
    """r + weight * Diag(diag(r)): a small error on the diagonal only."""
    return lambda r: ir.apply("add", r, ir.apply("mul", ir.const(weight),
                                                 ir.apply("Diag", ir.apply("diag", r))))


def wrong(derivative, make):
    return replace(derivative, result=make(derivative.result))


@pytest.mark.parametrize("kind, wrt", [("grad", "x"), ("grad", "A"), ("jacobian", "x"),
                                       ("hessian", "x"), ("hessian", "A")])
def test_right_results_pass(kind, wrt):
    derivative = matcalc.derive(QUADRATIC, wrt=wrt, kind=kind)
    verdict = matcalc.check(derivative, seed=1)
    assert verdict.ok and verdict.max_rel_error < 1e-7
    assert "ok" in str(verdict) and bool(verdict)


@pytest.mark.parametrize("kind, wrt, mistake", [
    ("grad", "x", lambda r: ir.apply("mul", ir.const(1.001), r)),
    ("grad", "x", lambda r: ir.apply("neg", r)),
    ("grad", "A", lambda r: ir.apply("transpose", r)),
    ("grad", "A", plus_diagonal(1e-3)),
    ("jacobian", "x", lambda r: ir.apply("transpose", r)),
    ("hessian", "x", lambda r: ir.apply("mul", ir.const(0.5), r)),
    ("hessian", "A", plus_diagonal(1e-2)),
])
def test_wrong_results_fail(kind, wrt, mistake):
    derivative = matcalc.derive(QUADRATIC, wrt=wrt, kind=kind)
    verdict = matcalc.check(wrong(derivative, mistake), seed=1)
    assert not verdict.ok, verdict
    assert "FAILED" in str(verdict)


def test_a_wrong_zero_is_caught():
    derivative = matcalc.derive("x : vector(n)\nf = sum(exp(x))", wrt="x")
    zero = ir.zeros(derivative.result.shape.rows, derivative.result.shape.cols,
                    derivative.result.kind)
    assert not matcalc.check(replace(derivative, result=zero), seed=0).ok


def test_seed_reproduces_the_verdict():
    derivative = matcalc.derive(QUADRATIC, wrt="A")
    first, second = matcalc.check(derivative, seed=42), matcalc.check(derivative, seed=42)
    assert first.max_rel_error == second.max_rel_error and first.seed == 42
    assert isinstance(matcalc.check(derivative).seed, int)


def test_gradient_with_respect_to_a_definition():
    derivative = matcalc.derive(
        "W : matrix(k, n); x : vector(n); y : vector(k) simplex\nz = W @ x\n"
        "J = -sum(y * log(softmax(z)))", wrt="z", of="J")
    assert matcalc.check(derivative, seed=3).ok
    broken = wrong(derivative, lambda r: ir.apply("mul", ir.const(2.0), r))
    assert not matcalc.check(broken, seed=3).ok


def test_check_at_a_given_point_float32_and_float64():
    derivative = matcalc.derive("x, w : vector(n)\nf = sum(relu(w * x))", wrt="x")
    for dtype in (np.float32, np.float64):
        result = matcalc.check(derivative, at={"x": np.array([1.0, -2.0, 0.5], dtype=dtype),
                                               "w": np.ones(3, dtype=dtype)}, seed=0)
        assert result.ok and result.trials == 1 and not result.kink


def test_a_point_at_a_kink_is_reported_as_a_kink_not_a_failure():
    derivative = matcalc.derive("x, w : vector(n)\nf = sum(relu(w * x))", wrt="x")
    result = matcalc.check(derivative, at={"x": np.array([1.0, -2.0, 0.0]), "w": np.ones(3)})
    assert not result.ok and "relu(w * x)" in result.kink
    assert str(result).startswith("kink:") and "FAILED" not in str(result)


@pytest.mark.parametrize("text, at", [
    ("x : vector(n)\nf = max(x)", {"x": [1.0, 1.0, 0.0]}),
    ("x : vector(n)\nf = sum(x * ismin(x))", {"x": [0.0, 2.0, 0.0]}),
    ("x : matrix(n, n)\nf = sum(max(x, 1))", {"x": [[1.0, 1.0], [0.0, 2.0]]}),
    ("x, y : vector(n)\nf = sum(maximum(x, y))", {"x": [1.0, 2.0, 0.0], "y": [1.0, 0.0, 3.0]}),
    ("x, y : vector(n)\nf = sum(minimum(x, 2 * y))", {"x": [1.0, 2.0], "y": [3.0, 1.0]}),
])
def test_a_point_at_a_tie_or_where_two_arguments_meet_is_a_kink_not_a_failure(text, at):
    # every operation whose check facet names an edge (core/registry.CHECKS): a subgradient
    # at the edge is no wrong answer, and finite differences cannot judge it
    derivative = matcalc.derive(text, wrt="x")
    result = matcalc.check(derivative, at={k: np.array(v) for k, v in at.items()})
    assert not result.ok and result.status == "inconclusive", str(result)
    assert "not differentiable" in result.kink and "FAILED" not in str(result)


def test_nan_or_infinity_in_a_given_point_is_a_clear_error():
    derivative = matcalc.derive("x : vector(n)\nf = sum(exp(x))", wrt="x")
    for bad in (np.nan, np.inf):
        with pytest.raises(DomainError, match="NaN or infinity"):
            matcalc.check(derivative, at={"x": np.array([1.0, bad])})


def test_a_point_near_the_edge_of_the_domain_shrinks_the_steps():
    derivative = matcalc.derive("A : matrix(n, n) invertible\nf = logdet(A)", wrt="A")
    nearly_singular = np.array([[1.0, 0.999999], [0.999999, 1.0]])
    result = matcalc.check(derivative, at={"A": nearly_singular}, seed=0)
    # the shrunk steps stay inside the domain and prove it: ok, not merely inconclusive
    assert result.ok and not result.inconclusive, result
    wrong = replace(derivative, result=ir.apply("mul", ir.const(2.0), derivative.result))
    assert not matcalc.check(wrong, at={"A": nearly_singular}, seed=0).ok


def test_second_differences_keep_the_coarser_step_where_rounding_is_smaller():
    """Ridge regression's Hessian at a point where the finer step's rounding (1e-6) once
    failed a right Hessian; and a wrong one (the penalty's factor 2 dropped) still fails."""
    source = pathlib.Path("derivations/ridge_regression.mc").read_text()
    hessian = matcalc.derive(source, wrt="w", kind="hessian")
    verdict = matcalc.check(hessian, seed=1667741987)
    assert verdict.ok and verdict.max_rel_error < 1e-8, verdict
    wrong = replace(hessian, result=matcalc.parse(
        source + "\nH = 2 * (X' @ X) + lam * I(d)").definitions["H"].body)
    assert not matcalc.check(wrong, seed=1667741987).ok


def test_points_are_found_at_other_sizes_when_none_exist_at_the_first():
    """log det(X' @ X) is undefined for X wider than tall: the sampler chooses other sizes,
    and rejects the nearly singular Gram matrices rounding makes of wide X."""
    program = matcalc.parse("X : matrix(m, n)\nf = logdet(X' @ X)")
    for seed in range(6):
        instance = random_instance(program, seed=seed)
        assert instance.sizes["m"] >= instance.sizes["n"]

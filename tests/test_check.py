"""The finite-difference checker accepts right results and rejects wrong ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

import matcalc
from matcalc import ir

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

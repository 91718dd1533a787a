"""Hessians (and Jacobians) through expm and logm of a symmetric matrix: the Daleckii-Krein form
kron(V, V) @ Diag(vec(F)) @ kron(V, V)' with F the first divided differences of the function at
the eigenvalues (ops/divided.py; Bhatia, Matrix Analysis, thm. V.3.3).  Each is proven by finite
differences at several random spd points, and at near-repeated and repeated eigenvalues against
finite differences of the gradient's own code; printed forms are read back; NumPy, JAX and
PyTorch code agree; what is not offered (second Fréchet derivatives, points not known symmetric,
third derivatives) is refused by name."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.errors import UnsupportedError
from matcalc.grading.answers import answer_node
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.present.latex import to_latex

SPD = "S : matrix(n, n) spd\nA : matrix(n, n)\nx : vector(n)\n"

HESSIANS = [  # (problem, wrt, kind): every one was refused before
    ("f = tr(expm(S))", "S", "hessian"),
    ("f = -tr(S @ logm(S))", "S", "hessian"),
    ("f = tr(expm(2 * S))", "S", "hessian"),
    ("f = sum(log(eigvalsh(S)) .^ 2)", "S", "hessian"),
    ("f = sum(exp(eigvalsh(S + x @ x')))", "x", "hessian"),
    ("f = tr(expm(A + A'))", "A", "hessian"),
    ("F = expm(S)", "S", "jacobian"),
    ("F = logm(S)", "S", "jacobian"),
    ("F = logm(A @ A' + I(n))", "A", "jacobian"),
]


@pytest.mark.parametrize("problem, wrt, kind", HESSIANS, ids=[h[0] for h in HESSIANS])
def test_the_daleckii_krein_form_is_proven_and_read_back(problem, wrt, kind):
    derivative = matcalc.derive(SPD + problem, wrt=wrt, kind=kind)
    assert {"expm_divdiff", "logm_divdiff"} & set(derivative.text.replace("(", " ").split())
    for seed in (1, 2, 3):  # several random spd points
        verdict = matcalc.check(derivative, seed=seed)
        assert verdict.ok and not verdict.inconclusive, (seed, verdict)
    node, program = derivative.result, derivative.program
    instance = random_instance(program, seed=4)
    want = derivative.numpy(compiled=False)(**instance.arrays)
    np.testing.assert_allclose(derivative.numpy()(**instance.arrays), want, rtol=1e-9,
                               atol=1e-11)
    for printed, latex in ((str(node), False), (to_latex(node), True)):
        read = answer_node(program, printed, latex)[1]
        got = evaluate(program.extended({"g": read}), "g", instance.arrays, sizes=instance.sizes)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11, err_msg=printed)


def _spd_with_gap(gap: float, n: int = 4) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(n, n)))
    s = q @ np.diag([0.5, 1.0, 1.0 + gap, 2.0]) @ q.T
    return (s + s.T) / 2


@pytest.mark.parametrize("problem", ["f = tr(expm(S))", "f = -tr(S @ logm(S))",
                                     "f = sum(exp(eigvalsh(S)))"])
@pytest.mark.parametrize("gap", [1e-3, 1e-7, 1e-12, 0.0])
def test_near_and_exactly_repeated_eigenvalues_take_the_derivative_limit(problem, gap):
    # the Hessian's code against central differences of the gradient's own code along
    # symmetric directions (where every convention for a symmetric S agrees): the divided
    # differences keep their digits as two eigenvalues meet, and at a repeated one they are the
    # derivative (any orthonormal eigenbasis gives the same Hessian)
    hessian = matcalc.derive("S : matrix(n, n) spd\n" + problem, wrt="S", kind="hessian")
    gradient = matcalc.derive("S : matrix(n, n) spd\n" + problem, wrt="S").numpy()
    s, h = _spd_with_gap(gap), 1e-5
    directions = [np.outer(np.eye(4)[i], np.eye(4)[j]) for i in range(4) for j in range(i, 4)]
    directions = [d + d.T for d in directions]
    expected = np.stack([np.ravel((gradient(S=s + h * d) - gradient(S=s - h * d)) / (2 * h))
                         for d in directions], axis=1)
    stacked = np.stack([np.ravel(d) for d in directions], axis=1)
    np.testing.assert_allclose(hessian.numpy()(S=s) @ stacked, expected, atol=1e-8)
    if gap >= 1e-7:  # the interpreter too; closer, eigvecsh refuses (never a wrong value)
        np.testing.assert_allclose(hessian.numpy(compiled=False)(S=s) @ stacked, expected,
                                   atol=1e-8)
    else:
        with pytest.raises(UnsupportedError, match="repeated eigenvalues"):
            hessian.numpy(compiled=False)(S=s)


def _divided(function: str):
    module = load(generate([matcalc.derive("S : matrix(n, n) spd\nf = tr(expm(S))", wrt="S",
                                           kind="hessian")]))
    return lambda s: module._divdiff(s, function)


@pytest.mark.parametrize("function, f, derivative", [("exp", np.exp, np.exp),
                                                     ("log", np.log, np.reciprocal)])
def test_divided_differences_meet_the_derivative_and_refuse_an_unsymmetric_matrix(
        function, f, derivative):
    divided = _divided(function)
    s = _spd_with_gap(0.3)
    lam = np.linalg.eigvalsh(s)
    a, b = lam[:, None], lam[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        naive = np.where(a != b, (f(a) - f(b)) / (a - b), derivative(a))
    np.testing.assert_allclose(divided(s), naive, rtol=1e-12)
    for gap in (1e-9, 1e-14, 0.0):  # the derivative limit, to the digits the gap allows
        close = divided(_spd_with_gap(gap))
        np.testing.assert_allclose(close[1, 2], derivative(1.0), rtol=1e-6)
        np.testing.assert_allclose(close, close.T, rtol=1e-12)
    assert np.all(np.isnan(divided(s + 1e-3 * np.triu(np.ones((4, 4)), 1))))
    single = divided(s.astype(np.float32))
    assert single.dtype == np.float32 and np.allclose(single, naive, rtol=1e-4)


@pytest.mark.parametrize("problem, wrt, kind, match", [
    ("f = x' @ expm(S) @ x", "S", "hessian", "second Fréchet derivatives of expm"),
    ("f = tr(A @ logm(S))", "S", "hessian", "second Fréchet derivatives of logm"),
    ("F = expm(A)", "A", "jacobian", "expm.*not known symmetric"),
    ("M = A @ x @ x'\nf = tr(expm(M))", "A", "hessian", "expm.*not known symmetric"),
    ("f = sum(expm_divdiff(S))", "S", "grad", "third derivatives of expm"),
])
def test_what_is_not_offered_is_refused_by_name(problem, wrt, kind, match):
    with pytest.raises(UnsupportedError, match=match):
        matcalc.derive(SPD + problem, wrt=wrt, kind=kind)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_jax_and_torch_code_agree_with_numpy(backend):
    library = pytest.importorskip(backend)
    if backend == "jax":
        library.config.update("jax_enable_x64", True)
    wrap = np.asarray if backend == "jax" else library.tensor
    for problem in ("f = tr(expm(S))", "f = -tr(S @ logm(S))"):
        derivative = matcalc.derive("S : matrix(n, n) spd\n" + problem, wrt="S", kind="hessian")
        module = load(generate([derivative], backend=backend))
        for s in (random_instance(derivative.program, seed=4).arrays["S"], _spd_with_gap(0.0)):
            got = getattr(module, "hessian", None) or module.gradient
            got = got(S=wrap(s))
            got = got["S"] if isinstance(got, dict) else got
            np.testing.assert_allclose(np.asarray(got), derivative.numpy()(S=s), rtol=1e-9,
                                       atol=1e-11)

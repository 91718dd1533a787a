"""Matrices of blocks of diagonals in generated code (codegen/blocks.py).

Jacobians and Hessians through a row-wise softmax come out of the vec rules as products of
kron(I_k, A), kron(C, I_N), Diag(vec(P)) and I(N*k).  Generated code computes them from an
(N, k, k) array, without a Kronecker product or an identity of N k rows: it agrees with the
interpreter (which forms every matrix as printed) in each backend and with an independent autodiff,
and on every gallery Hessian and Jacobian its peak memory stays within a small multiple of its
inputs and result (bench/peak_memory.py reports the ratios).
"""

from __future__ import annotations

import importlib.util
import pathlib
import re

import numpy as np
import pytest
from helpers import assert_generated_code_matches

import matcalc
from matcalc.derive import derive_by_request

_SPEC = importlib.util.spec_from_file_location("peak_memory", "bench/peak_memory.py")
peak_memory = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(peak_memory)

DECLARED = "X : matrix(N, d)\nW : matrix(d, k)\nY : matrix(N, k)\nb : vector(k)\n"
PROBLEMS = {
    # Bishop (2006) eq. 4.110: sum_n kron(Diag(p_n) - p_n p_n', x_n x_n'), weighted by sum(y_n)
    "softmax_regression_hessian": "L = -sum(Y * log(softmax(X @ W)))\nhessian L wrt W",
    "mean_with_bias": "L = -sum(Y * log(softmax(X @ W + ones(N) @ b'))) / N\nhessian L wrt W",
    "squared_log_probabilities": "L = sum(log(softmax(X @ W)) .^ 2) / 2\nhessian L wrt W",
    "softmax_jacobian_wrt_weights": "P = softmax(X @ W)\njacobian P wrt W",
    "softmax_jacobian_wrt_logits": "P = softmax(X @ W)\njacobian P wrt X",
}
LIMIT = 4.0  # peak / (inputs + result): the Kronecker forms reach 30 to 70 at the sizes used
# the gallery problems that request a Hessian or a Jacobian (the others have nothing to measure)
GALLERY = [path for path in sorted(pathlib.Path("derivations").glob("*.mc"))
           if re.search(r"^\s*(hessian|jacobian)\b", path.read_text(), re.MULTILINE)]


def measured(path: pathlib.Path, source: str | None = None, measure=peak_memory.peak_ratio):
    """peak_memory.ratios of a problem, each measured at a valid point (never an empty list)."""
    found = list(peak_memory.ratios(path, source, measure))
    assert found and all(sizes for _, _, sizes in found), (path, found)
    return found


def results_of(name: str):
    [group] = derive_by_request(matcalc.parse(DECLARED + PROBLEMS[name]))
    return group


@pytest.mark.parametrize("name", sorted(PROBLEMS))
@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_block_code_agrees_with_the_interpreter(name, backend):
    results = results_of(name)
    for seed in (3, 5):
        assert_generated_code_matches(results, backend, seed=seed)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_no_kronecker_product_or_large_identity_is_formed(name):
    code = results_of(name).code()
    assert "_diagonal_blocks_product(" in code
    # no Kronecker product, no identity of a product of sizes (I(N*k))
    assert "_np.kron(" not in code and not re.search(r"_np\.eye\(_size_\w+ \*", code), code


def test_the_softmax_regression_hessian_is_torch_autograd_s():
    # an independent autodiff: torch's Hessian of the loss, its (d, k, d, k) array read in
    # matcalc's order vec(W) (column i of W is entries i*d .. i*d + d - 1)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    n, d, k = 9, 4, 3
    x, w = rng.normal(size=(n, d)), rng.normal(size=(d, k))
    y = rng.dirichlet(np.ones(k), size=n)
    got = results_of("softmax_regression_hessian").numpy()(X=x, W=w, Y=y, b=np.zeros(k))["W"]

    def loss(weights):
        return -(torch.tensor(y) * torch.log_softmax(torch.tensor(x) @ weights, dim=1)).sum()

    want = torch.autograd.functional.hessian(loss, torch.tensor(w)).numpy()
    want = want.transpose(1, 0, 3, 2).reshape(d * k, d * k)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_peak_memory_of_block_problems(name):
    for request, ratio, sizes in measured(pathlib.Path(name), DECLARED + PROBLEMS[name]):
        assert ratio < LIMIT, (request, ratio, sizes)


def test_the_gallery_has_hessians_and_jacobians_to_measure():
    assert len(GALLERY) >= 10


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_peak_memory_of_gallery_hessians_and_jacobians(path):
    for request, ratio, sizes in measured(path):
        assert ratio < LIMIT, (request, ratio, sizes)


def test_the_measure_sees_a_kronecker_product(monkeypatch):
    # a test of the test: written the plain way (the Kronecker products formed), the softmax
    # regression Hessian's peak is far above the limit
    from matcalc.codegen import writer

    for name in ("diagonal_blocks_product", "diagonal_blocks_sum"):
        monkeypatch.setattr(writer, name, lambda node, writer: "")
    source = DECLARED + PROBLEMS["softmax_regression_hessian"]
    assert "_np.kron(" in matcalc.derive(source).code()
    [(_, ratio, _)] = peak_memory.ratios(pathlib.Path("plain"), source)
    assert ratio > 10 * LIMIT


@pytest.mark.parametrize("path", GALLERY + [pathlib.Path(name) for name in sorted(PROBLEMS)],
                         ids=lambda p: p.stem)
def test_no_kronecker_product_or_identity_larger_than_the_result_is_formed(path):
    # run with a recording NumPy: every kron, eye, identity and diagflat the code forms
    source = DECLARED + PROBLEMS[path.name] if path.name in PROBLEMS else None
    for request, ratio, sizes in measured(path, source, peak_memory.formed_ratio):
        assert ratio <= 1.0, (request, ratio, sizes)


def test_the_recording_sees_a_kronecker_product(monkeypatch):
    # a test of the test: written the plain way, the softmax regression Hessian forms
    # Kronecker products and identities of N k rows, many times its (d k)^2 entries
    from matcalc.codegen import writer

    for name in ("diagonal_blocks_product", "diagonal_blocks_sum"):
        monkeypatch.setattr(writer, name, lambda node, writer: "")
    source = DECLARED + PROBLEMS["softmax_regression_hessian"]
    [(_, ratio, _)] = peak_memory.ratios(pathlib.Path("plain"), source, peak_memory.formed_ratio)
    assert ratio > 10

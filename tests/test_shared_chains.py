"""Products shared by the chains of several results (codegen/shared_chains.py): computed once,
also where one result holds the other's transpose, and only where the shared product is no
larger than the results."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import assert_generated_code_matches

import matcalc
from matcalc.codegen.backends import helper_source
from matcalc.codegen.module import generate, load
from matcalc.codegen.shared_chains import shared_chains
from matcalc.numeric.sampling import random_instance

# queries and keys of the model's width, values of another
ATTENTION = """
X : tensor(B, T, d)
Wq, Wk : matrix(d, d)
Wv : matrix(d, e)
G : tensor(B, T, e)
Q = X @ Wq
K = X @ Wk
P = softmax(Q @ K' / sqrt(d))
L = sum(G * (P @ X @ Wv))
"""
BLOCK = """
X : matrix(n, d)
Wq, Wk, Wv : matrix(d, d)
G : matrix(n, d)
C = X - mean(X, 1) @ ones(d)'
Xn = C / (sqrt(mean(C .^ 2, 1) + 1e-5) @ ones(d)')
P = softmax((Xn @ Wq) @ (Xn @ Wk)' / sqrt(d))
L = sum(G * (P @ Xn @ Wv))
"""
ENDS = "X : matrix(n, d)\nM : matrix(n, n)\nA, B : matrix(d, d)\nf = tr(X' @ M @ X @ A @ B)"
VECTORS = "X : matrix(n, d)\nM : matrix(n, n)\nw, v : vector(d)\nf = w' @ X' @ M @ X @ v"


def gradient_code(source: str, wrt: list[str]) -> str:
    results = matcalc.derive(source, wrt=wrt, check=False)
    code = generate(list(results), hoist=False)
    return code[code.index("\ndef gradient"):]


def test_attention_weights_share_one_batch_sum():
    # sum(X' @ delta2 @ K, 0) and sum(X' @ delta2' @ Q, 0): S = sum(X' @ delta2 @ X, 0) once,
    # the gradients S @ Wk and S' @ Wq; no product of delta2 with K or Q is left
    code = gradient_code(ATTENTION, ["Wq", "Wk", "Wv"])
    assert code.count("_batch_gram(X, (delta2 @ X))") == 1, code
    assert re.search(r"'Wq': .*\(_t\d+ @ Wk\)", code) and re.search(r"'Wk': .*_t\d+\.T @ Wq",
                                                                   code), code
    assert "delta2 @ K" not in code and "@ Q" not in code


def test_layer_norm_attention_shares_the_normalised_product():
    code = gradient_code(BLOCK, ["Wq", "Wk", "Wv"])
    results = code[code.index("return {"):]
    assert code.count("delta2, Xn]") == 1 and "Xn, W" not in results, code


def test_a_common_part_at_the_start_of_one_and_the_end_of_another():
    # X' M' X B' and A' X' M' X: X' M' X (d x d, the results' size) once
    code = gradient_code(ENDS, ["A", "B"])
    assert code.count("multi_dot") == 1, code


def test_no_shared_product_larger_than_the_results():
    # X' M X v and X' M' X w are vectors: forming the d x d product X' M X would cost more than
    # the chains' matrix-vector products; the results stay as they are
    results = matcalc.derive(VECTORS, wrt=["w", "v"], check=False)
    nodes = [d.result for d in results]
    assert shared_chains(nodes, lambda name: None) == nodes


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
@pytest.mark.parametrize("source, wrt", [(ATTENTION, ["Wq", "Wk", "Wv"]),
                                         (ATTENTION, ["Wk", "Wq"]),
                                         (BLOCK, ["Wq", "Wk", "Wv"]), (ENDS, ["A", "B"]),
                                         (ENDS, ["B", "A", "X"])])
def test_shared_products_compute_what_the_interpreter_does(source, wrt, backend):
    assert_generated_code_matches(matcalc.derive(source, wrt=wrt, check=False), backend)


def test_shared_products_without_hoisting_match_the_interpreter():
    for source, wrt in ((ATTENTION, ["Wq", "Wk", "Wv"]), (BLOCK, ["Wk", "Wq"]),
                        (ENDS, ["A", "B"])):
        results = matcalc.derive(source, wrt=wrt, check=False)
        point = random_instance(results[0].program, seed=3)
        expected = results.numpy(compiled=False)(sizes=point.sizes, **point.arrays)
        got = load(generate(list(results), hoist=False)).gradient(**point.arrays)
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-10, atol=1e-12)


def test_jax_chains_are_ordered_products_by_at():
    # jax.numpy's multi_dot goes through einsum (transposed dots on XLA's CPU backend): JAX code
    # orders a chain by its shapes and multiplies with @; the value is the chain's product
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    namespace: dict = {}
    exec(compile("import jax.numpy as _np\n" + helper_source("jax_helpers"), "jax_helpers",
                 "exec"), namespace)
    rng = np.random.default_rng(4)
    for shapes in ([(128, 64), (64, 64), (64, 128)], [(3, 40), (40, 2), (2, 50)],
                   [(50, 2), (2, 40), (40, 3), (3, 1)],
                   [(4, 4), (4, 4), (4, 4), (4, 4), (4, 4)]):
        arrays = [rng.normal(size=shape) for shape in shapes]
        expected = np.linalg.multi_dot(arrays)
        got = namespace["_multi_dot"]([jax.numpy.asarray(a) for a in arrays])
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12)
        text = str(jax.make_jaxpr(namespace["_multi_dot"])(arrays))
        # each dot a plain product (rows by columns), none with transposed contractions
        contractions = re.findall(r"dimension_numbers=\(\((\[\d\]), (\[\d\])\)", text)
        assert contractions == [("[1]", "[0]")] * (len(shapes) - 1), text
    results = matcalc.derive(BLOCK, wrt=["Wq", "Wk", "Wv"], check=False)
    code = generate(list(results), backend="jax", hoist=False)
    assert "_multi_dot([" in code and "linalg.multi_dot" not in code.split("def _multi_dot")[0]

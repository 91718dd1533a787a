"""Generated code of row and column means (codegen/row_means.py): normalisation layers' backward
passes take sums along an axis without products with ones, dot products without Hadamard
temporaries, and write their entrywise chains in place into as few new arrays as they can."""

import re
import tracemalloc

import numpy as np
import pytest
from helpers import assert_generated_code_matches

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.codegen.reuse import Allocation, reuse_dead_arrays

NORMALISED = ("X, G : matrix(N, d)\nmu = mean(X, {axis})\n"
              "s = sqrt(mean((X - mu) .^ 2, {axis}) + 1e-5)\nXn = (X - mu) / s\n")
# Ba, Kiros & Hinton (2016) eqs. 3-4 (rows), Ioffe & Szegedy (2015) sec. 3 (columns), Zhang &
# Sennrich (2019) sec. 4 (RMSNorm); the gains multiply the normalised matrix row-wise
PROBLEMS = {
    "layer norm": (NORMALISED.format(axis=1) + "L = G : Xn", ["X"]),
    "batch norm": (NORMALISED.format(axis=0) + "L = G : Xn", ["X"]),
    "layer norm with gain": (NORMALISED.format(axis=1) + "gam : vector(d)\nL = G : (Xn * gam')",
                             ["X", "gam"]),
    "batch norm with gain and bias": (NORMALISED.format(axis=0) +
                                      "gam, bet : vector(d)\nL = G : (Xn * gam' + bet')",
                                      ["X", "gam", "bet"]),
    "RMSNorm": ("X, G : matrix(N, d)\nr = sqrt(mean(X .^ 2, 1) + 1e-6)\nXn = X / r\nL = G : Xn",
                ["X"]),
    "squared layer norm": (NORMALISED.format(axis=1) + "L = sum(Xn .^ 2 * G)", ["X"]),
}


def derived(name):
    source, wrt = PROBLEMS[name]
    return matcalc.derive(source, wrt=wrt)


@pytest.mark.parametrize("name", PROBLEMS)
@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_the_code_computes_what_the_interpreter_does(name, backend):
    assert_generated_code_matches(derived(name), backend)


@pytest.mark.parametrize("name", PROBLEMS)
def test_no_sum_is_a_product_with_ones_nor_of_a_hadamard_temporary(name):
    source = generate(list(derived(name)))
    body = source[source.index("\ndef gradient("):]
    assert "_np.ones(" not in body and "_np.sum(" not in body, body
    assert re.search(r"_(row|column)_dots\(", body), body


def _peak(function, arrays):
    function(**arrays)  # warm: helpers' first calls allocate nothing later ones do not
    tracemalloc.start()
    tracemalloc.reset_peak()
    function(**arrays)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("name, most", [("layer norm", 1), ("batch norm", 1), ("RMSNorm", 1),
                                        ("layer norm with gain", 4)])
def test_the_backward_pass_holds_few_matrices_at_once(name, most):
    # the LayerNorm gradient needs one N x d array: X - mu becomes Xn in place, and the
    # gradient is written into Xn's memory once nothing reads Xn; the gain's needs G * gam',
    # delta2 = that / s and Xn beside the result
    n, d = 64, 512
    rng = np.random.default_rng(0)
    arrays = {"X": rng.normal(size=(n, d)), "G": rng.normal(size=(n, d)),
              "gam": rng.normal(size=d), "bet": rng.normal(size=d)}
    results = derived(name)
    module = load(generate(list(results)))
    wanted = {k: v for k, v in arrays.items() if k in results[0].program.variables}
    matrix = n * d * 8
    assert _peak(module.gradient, wanted) < (most + 0.5) * matrix
    # a test of the test: the same gradient written one operation at a time holds more
    assert _peak(lambda **a: plain_layer_norm(a["X"], a["G"]), arrays) > 3 * matrix


def plain_layer_norm(X, G):
    centred = X - X.mean(axis=1, keepdims=True)
    s = np.sqrt((centred * centred).mean(axis=1, keepdims=True) + 1e-5)
    xn = centred / s
    return (G - xn * (G * xn).mean(axis=1, keepdims=True) - G.mean(axis=1, keepdims=True)) / s


@pytest.mark.parametrize("name", ["layer norm", "batch norm", "layer norm with gain"])
def test_float32_stays_float32_through_the_arrays_written_in_place(name):
    results = derived(name)
    rng = np.random.default_rng(1)
    arrays = {"X": rng.normal(size=(5, 7)), "G": rng.normal(size=(5, 7)),
              "gam": rng.normal(size=7)}
    arrays = {k: v for k, v in arrays.items() if k in results[0].program.variables}
    got = load(generate(list(results))).gradient(**{k: v.astype(np.float32)
                                                     for k, v in arrays.items()})
    want = results.numpy(compiled=False)(**arrays)
    for key in want:
        assert got[key].dtype == np.float32
        np.testing.assert_allclose(got[key], want[key], rtol=2e-4, atol=2e-4)


def test_the_layer_norm_gradient_scales_x_minus_mu_once_in_its_memory():
    # Xn = (X - mu) / s is never formed: the gradient reads (G * Xn) @ 1 as (G * (X - mu)) @ 1
    # / s and Xn * m as (X - mu) * (m / s), and is written into the memory of X - mu
    code = generate(list(derived("layer norm")))
    body = code[code.index("\ndef gradient("):]
    assert "Xn" not in body, body
    made = re.search(r"(_t\d+) = _np\.subtract\(X, mu, dtype=_dtype\)", body)
    assert made and re.search(rf"_t\d+ = _np\.multiply\({made[1]}, .*out={made[1]}\)", body), body
    assert body.count("dtype=_dtype)") == 1, body  # one new N x d array
    both = code[code.index("\ndef value_and_gradient("):code.index("\ndef gradient(")]
    assert "Xn" not in both and body.count("dtype=_dtype)") == 1, both  # L = sum(... / s)


@pytest.mark.parametrize("name, formed", [
    ("layer norm", False), ("batch norm", False), ("RMSNorm", False),
    ("layer norm with gain", True),  # Xn * gam' scales Xn's columns, not its rows
    ("batch norm with gain and bias", True),
    ("squared layer norm", True),  # Xn .^ 2 reads Xn otherwise
])
def test_a_scaled_matrix_is_formed_only_where_something_reads_it_otherwise(name, formed):
    code = generate(list(derived(name)))
    body = code[code.index("\ndef gradient("):]
    assert bool(re.search(r"^    Xn = ", body, re.M)) is formed, body


ALLOCATION = Allocation("multiply", ("_t1", "v"), ("_t1",))
MADE = "_t1 = _np.subtract(X, m, dtype=_dtype)"


@pytest.mark.parametrize("between, after, reused", [
    ([], [], True),
    (["s = _row_dots(_t1, _t1)"], [], True),
    (["s = _np.sqrt(_t1 * 2.0)"], [], True),
    ([], ["_np.asarray(_t1)"], False),  # read by a result
    (["_t5 = _t1.T"], ["_t5"], False),  # a view of it
    (["_t5 = _t1"], ["_t5"], False),  # another name for it
    (["_t5 = _np.reshape(_t1, -1)"], ["_t5"], False),
    (["_t5 = _helper(_t1)"], ["_t5"], False),  # a call that may keep it
    (["_t5 = _t1[0]"], ["_t5"], False),
])
def test_an_array_is_reused_only_when_nothing_reads_or_shares_it_later(between, after, reused):
    allocations = {"_np.subtract(X, m, dtype=_dtype)": Allocation("subtract", ("X", "m"), ("X",)),
                   "_np.multiply(_t1, v, dtype=_dtype)": ALLOCATION}
    lines = reuse_dead_arrays([MADE, *between, "Xn = _np.multiply(_t1, v, dtype=_dtype)"],
                              after, allocations)
    assert (lines[-1] == "Xn = _np.multiply(_t1, v, out=_t1)") is reused, lines
    assert lines[0] == MADE  # X is an argument: never written


def test_an_array_read_after_the_allocation_is_not_reused():
    allocations = {"_np.multiply(_t1, v, dtype=_dtype)": ALLOCATION,
                   "_np.subtract(X, m, dtype=_dtype)": Allocation("subtract", ("X", "m"), ("X",))}
    lines = [MADE, "Xn = _np.multiply(_t1, v, dtype=_dtype)", "s = _row_sums(_t1)"]
    assert reuse_dead_arrays(lines, [], allocations) == lines

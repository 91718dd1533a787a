"""Generated code of row and column means (codegen/row_means.py): normalisation layers' backward
passes take sums along an axis without products with ones, dot products without Hadamard
temporaries, and write their entrywise chains in place into as few new arrays as they can."""

import pathlib
import re
import tracemalloc

import numpy as np
import pytest
from helpers import assert_generated_code_matches, program
from hypothesis import assume, given, settings
from strategies import expressions

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.codegen.reuse import Allocation, reuse_dead_arrays
from matcalc.derive import derive_by_request
from matcalc.numeric.sampling import random_instance

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
    # (over blocks of rows, the new array is the block's rows of the result: out=_into.get)
    made = re.search(r"(_t\d+) = _np\.subtract\(X, mu, dtype=_dtype, out=_into.get\('X'\)\)",
                     body)
    assert made and re.search(rf"_t\d+ = _np\.multiply\({made[1]}, .*out={made[1]}\)", body), body
    assert body.count("dtype=_dtype") == 1, body  # one new N x d array
    both = code[code.index("\ndef value_and_gradient("):code.index("\ndef gradient(")]
    assert "Xn" not in both and both.count("dtype=_dtype)") == 1, both  # L = sum(... / s)


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


@pytest.mark.parametrize("source, wrt", [
    # Zhang & Sennrich (2019) sec. 4 and Ba et al. (2016) eq. 3-4 for one vector
    ("x, G : vector(n)\nr = sqrt(mean(x .^ 2) + 1e-6)\ny = x / r\nL = G' @ y", "x"),
    ("x, g : vector(n)\nmu = mean(x)\nsigma = sqrt(mean((x - mu) .^ 2) + 1e-5)\n"
     "yn = (x - mu) / sigma\nL = g' @ yn", "x"),
    ("X, Y : matrix(m, n)\nf = mean(X * Y) ^ 2 + sum(exp(X) * Y) ^ 2", "X"),
])
def test_a_sum_or_mean_of_a_hadamard_product_is_one_dot_product(source, wrt):
    results = matcalc.derive(source, wrt=[wrt])
    code = generate(list(results))
    body = code[code.index("\ndef gradient("):]
    assert "_np.vdot(" in body and not re.search(r"_np\.(sum|mean)\(\(\w+ \* \w+\)\)", body), body
    for backend in ("numpy", "jax", "torch"):
        assert_generated_code_matches(results, backend)


# a scaled matrix read in other ways too, arrays shared between readers: the rewrites and the
# reuse of memory keep every value (gradient and value_and_gradient, NumPy)
READERS = "X, G : matrix(N, d)\ngam : vector(d)\nv : vector(N)\n"


@pytest.mark.parametrize("body", [
    "mu = mean(X, 1)\ns = sqrt(mean((X - mu) .^ 2, 1) + 1e-5)\nY = (X - mu) / s\n"
    "L = G : Y + sum(Y .^ 3)",
    "Y = X - mean(X, 1) - mean(X, 0)\nL = G : (Y * Y)",
    "s = sqrt(mean(X .^ 2, 0) + 1)\nY = X / s\nL = G : Y + sum(mean(G * Y, 0))",
    "s = sqrt(mean(X .^ 2, 1) + 1)\nY = X / s\nL = G : (Y * gam') + sum(Y * v)",
    "s = sqrt(mean(X .^ 2, 1) + 1)\nY = X / s\nW = Y * (v * 2)\nL = G : W + sum(W)",
    "mu = mean(X, 1)\nY = (X - mu) * (X - mu)\nL = G : (Y / mean(Y, 1))",
])
def test_scaled_matrices_read_in_other_ways_keep_their_values(body):
    from matcalc.numeric.evaluate import evaluate

    parsed = matcalc.parse(READERS + body)
    results = matcalc.derive(parsed, wrt=["X", "G"])
    module = load(generate(list(results)))
    point = random_instance(parsed, seed=3)
    arrays = {k: v for k, v in point.arrays.items() if k in parsed.variables}
    want = results.numpy(compiled=False)(**arrays)
    value, both = module.value_and_gradient(**arrays)
    alone = module.gradient(**arrays)
    for key in want:
        for got in (both, alone):
            np.testing.assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-10)
    assert np.isclose(value, evaluate(parsed, "L", point.arrays), rtol=1e-10)


# --- row blocks ---------------------------------------------------------------------------

def blocked(results, rows_bytes=1):
    """The generated module of results with blocks of one row (every row its own block)."""
    module = load(generate(list(results)))
    module._ROW_BLOCK_BYTES = rows_bytes
    return module


@pytest.mark.parametrize("name", ["layer norm", "batch norm", "RMSNorm", "layer norm with gain",
                                  "squared layer norm"])
def test_a_row_local_gradient_over_blocks_of_rows_computes_the_same(name):
    results = derived(name)
    module = blocked(results)
    point = random_instance(results[0].program, seed=2, sizes={"N": 7, "d": 5})
    arrays = {k: v for k, v in point.arrays.items() if k in results[0].program.variables}
    want = results.numpy(compiled=False)(**arrays)
    got = module.gradient(**arrays)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-10, atol=1e-12)
    blocks = "return _in_row_blocks(" in generate(list(results))
    # rows are blocked only where the gradient is row-local: BatchNorm's column means and the
    # gain's column sum are not
    assert blocks is (name in ("layer norm", "RMSNorm", "squared layer norm")), name


def test_arrays_of_different_rows_are_refused_as_without_blocks():
    module = blocked(derived("layer norm"))
    with pytest.raises(ValueError):
        module.gradient(X=np.ones((6, 4)), G=np.ones((7, 4)))


@pytest.mark.parametrize("path", sorted(pathlib.Path("derivations").glob("*.mc")),
                         ids=lambda p: p.stem)
def test_gallery_gradients_over_blocks_of_one_row_compute_the_same(path):
    parsed = matcalc.parse(path.read_text())
    for group in derive_by_request(parsed):
        if "_in_row_blocks(" not in group.code():
            continue
        point = random_instance(parsed, seed=5)
        want = group.numpy(compiled=False)(sizes=point.sizes, **point.arrays)
        got = blocked(group).gradient(**point.arrays)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(expressions(program("base = a").variables, max_depth=3))
def test_random_gradients_over_blocks_of_one_row_compute_the_same(node):
    # whatever the expression, a function that runs in blocks of rows agrees with the
    # interpreter (the analysis never blocks a function whose rows are mixed)
    from matcalc.core import ir
    from matcalc.engine.pipeline import variables_of
    from matcalc.errors import DomainError

    base = program("base = a")
    target = base.extended({"F": ir.apply("sum", ir.apply("sin", node)) if not node.is_scalar
                            else ir.apply("sin", node)})
    names = variables_of(target, target.definitions["F"].ref)
    assume(names)
    results = matcalc.derive(target, wrt=names[:1], of="F", check=False)
    source = generate(list(results))
    assume("return _in_row_blocks(" in source)
    module = load(source)
    module._ROW_BLOCK_BYTES = 1
    try:  # (no point away from a kink, such as maximum(x, x)'s, or outside the domain)
        point = random_instance(target, seed=2)
        want = results.numpy(compiled=False)(sizes=point.sizes, **point.arrays)
    except DomainError:
        assume(False)
    got = module.gradient(**{k: v for k, v in point.arrays.items() if k in target.variables})
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-12)

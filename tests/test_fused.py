"""The numba format: row-local functions as fused kernels (codegen/fused.py).

Each kernel is compared with the NumPy module's code and the interpreter, in float64 and
float32, over odd and non-contiguous arrays; one is proven by finite differences.  Functions
the kernel writer does not compute keep the NumPy code (and say so), as does a module where
numba is not installed.  Each kernel compiles in about half a second on first use.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from helpers import assert_generated_code_matches, finite_difference

import matcalc
from matcalc.codegen.module import generate, generate_many, load
from matcalc.errors import UnsupportedError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

pytest.importorskip("numba")

MEAN = "mu = mean(X, 1)\ns = sqrt(mean((X - mu) .^ 2, 1) + 1e-5)\nXn = (X - mu) / s\n"
# row-local gradients with respect to X (every result row reads the same rows of the inputs)
ROW_LOCAL = {
    "layernorm": "X, G : matrix(N, d)\n" + MEAN + "L = G : Xn\n",
    "layernorm_gain": "X, G : matrix(N, d)\ng : vector(d)\n" + MEAN
                      + "L = G : (Xn * (ones(N) @ g'))\n",
    "rmsnorm": "X, G : matrix(N, d)\nr = sqrt(mean(X .^ 2, 1) + 1e-5)\nL = G : (X / r)\n",
    "row_quotient": "X, G : matrix(N, d)\nw : vector(d)\nL = G : (X / ((X .^ 2) @ w + 1))\n",
    "logistic_rows": "X : matrix(N, d)\nw : vector(d)\ny : vector(N)\n"
                     "L = sum(log(1 + exp(-y * (X @ w))))\n",
    "gated": "X, G : matrix(N, d)\nb : vector(d)\nc : scalar\n"
             "L = G : (c * tanh(X) * relu(X - ones(N) @ b'))\n",
    "contrastive_margin": "X, B : matrix(N, d)\ns : vector(N)\nm : scalar positive\n"
                          "D = sqrt(sum((X - B) .^ 2, 1))\n"
                          "L = 0.5 * sum(s * D .^ 2 + (1 - s) * maximum(m - D, 0) .^ 2)\n",
    # along each row: softmax, log_softmax, logsumexp, max and its indicator
    "softmax_cross_entropy": "X, Y : matrix(N, d)\nL = -sum(Y * log(softmax(X)))\n",
    "logsumexp_rows": "X : matrix(N, d)\nc : vector(N)\nL = c' @ logsumexp(X)\n",
    "max_rows": "X : matrix(N, d)\nc : vector(N)\nL = c' @ (max(X, 1) + logsumexp(2 * X))\n",
    "log_softmax_rows": "X, G : matrix(N, d)\nL = G : log_softmax(X)\n",
    "masked_softmax": "X, G : matrix(N, d)\nM : matrix(N, d) mask\n"
                      "L = G : softmax(where(M, X, -inf))\n",
}


def _modules(source: str):
    results = matcalc.derive(source, wrt=["X"], check=False)
    fused = generate_many([list(results)], backend="numba")  # as matcalc derive writes it
    assert fused == generate(list(results), backend="numba")
    return results, load(generate(list(results))), load(fused), fused


def _arrays(program, n: int, d: int, dtype, seed: int = 0) -> dict:
    point = random_instance(program, seed=seed, sizes={"N": n, "d": d})
    return {name: np.asarray(value, dtype=dtype) if np.ndim(value) else value
            for name, value in point.arrays.items()}


@pytest.mark.parametrize("name", sorted(ROW_LOCAL))
def test_each_kernel_computes_what_numpy_code_does(name):
    results, plain, fused, source = _modules(ROW_LOCAL[name])
    assert "_gradient_kernel = _fused_kernel(_gradient_loops)" in source
    assert "not a fused kernel" not in source
    compile(source, "<fused>", "exec")
    for dtype, rtol in ((np.float64, 1e-11), (np.float32, 2e-4)):
        for n, d in ((7, 5), (1, 3), (40, 33)):
            arrays = _arrays(results[0].program, n, d, dtype, seed=n)
            got, expected = fused.gradient(**arrays)["X"], plain.gradient(**arrays)["X"]
            assert got.dtype == expected.dtype == dtype
            scale = np.max(np.abs(expected))
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale)
    assert_generated_code_matches(results, "numba")


def test_a_kernel_reads_arrays_of_any_layout():
    results, plain, fused, _ = _modules(ROW_LOCAL["layernorm_gain"])
    arrays = _arrays(results[0].program, 9, 12, np.float64)
    strided = {"X": np.asfortranarray(arrays["X"]), "G": np.repeat(arrays["G"], 2, 1)[:, ::2],
               "g": arrays["g"][::-1].copy()[::-1]}
    assert not strided["G"].flags.c_contiguous
    np.testing.assert_allclose(fused.gradient(**strided)["X"], plain.gradient(**arrays)["X"],
                               rtol=1e-12, atol=1e-12)


def test_the_kernel_is_the_gradient_finite_differences_give():
    results, _, fused, _ = _modules(ROW_LOCAL["layernorm"])
    program = results[0].program
    arrays = _arrays(program, 4, 6, np.float64, seed=3)

    def loss(x):
        return float(evaluate(program, "L", {**arrays, "X": x}))

    np.testing.assert_allclose(fused.gradient(**arrays)["X"],
                               finite_difference(loss, arrays["X"]), rtol=1e-6, atol=1e-7)


def test_arrays_of_the_wrong_shape_are_an_error_naming_them():
    results, _, fused, _ = _modules(ROW_LOCAL["layernorm"])
    arrays = _arrays(results[0].program, 4, 6, np.float64)
    with pytest.raises(ValueError, match="G must have shape"):
        fused.gradient(X=arrays["X"], G=arrays["G"][:, :5])
    with pytest.raises(ValueError, match="G must have shape"):
        fused.gradient(X=arrays["X"], G=arrays["G"][:1])  # NumPy would broadcast it


@pytest.mark.parametrize("source, why", [
    # a column mean (BatchNorm): not row-local, the module's NumPy code as it is
    ("X, G : matrix(N, d)\nmu = mean(X, 0)\nL = G : (X - ones(N) @ mu)\n", ""),
    # row-local, but a product with a matrix: NumPy row blocks, with a comment saying why
    ("X, G : matrix(N, d)\nW : matrix(d, k)\nL = sum(tanh(X @ W))\n", "a product with a matrix"),
])
def test_what_the_kernel_writer_does_not_compute_keeps_the_numpy_code(source, why):
    results = matcalc.derive(source, wrt=["X"], check=False)
    fused = generate(list(results), backend="numba")
    assert "_fused_kernel(" not in fused
    assert (f"not a fused kernel: the kernel writer does not compute {why}" in fused) == bool(why)
    assert_generated_code_matches(results, "numba")


def test_without_numba_the_module_warns_once_and_runs_its_numpy_code(monkeypatch):
    results, plain, _, source = _modules(ROW_LOCAL["rmsnorm"])
    arrays = _arrays(results[0].program, 6, 4, np.float64)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    namespace: dict = {"__name__": "fused_without_numba"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(source, "<fused without numba>", "exec"), namespace)
    assert [str(w.message) for w in caught] == [
        "numba is not installed: this module runs its NumPy code instead of its fused kernels "
        "(slower; pip install numba)"]
    assert namespace["_gradient_kernel"] is None
    np.testing.assert_array_equal(namespace["gradient"](**arrays)["X"],
                                  plain.gradient(**arrays)["X"])


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "logsumexp_rows", "max_rows",
                                  "log_softmax_rows", "masked_softmax"])
def test_functions_along_the_rows_are_row_local_in_numpy_code_too(name):
    """softmax, logsumexp, max along each row (and Diag(v) @ M, where) leave the rows apart:
    the NumPy code runs over blocks of rows, here of one row each."""
    results = matcalc.derive(ROW_LOCAL[name], wrt=["X"], check=False)
    source = generate(list(results))
    assert "_in_row_blocks(_gradient_rows" in source
    namespace: dict = {"__name__": "one_row_blocks"}
    exec(compile(source.replace("_ROW_BLOCK_BYTES = 1 << 19", "_ROW_BLOCK_BYTES = 1"),
                 "<one-row blocks>", "exec"), namespace)
    point = random_instance(results[0].program, seed=2, sizes={"N": 6, "d": 5})
    expected = results.numpy(compiled=False)(**point.arrays)["X"]
    np.testing.assert_allclose(namespace["gradient"](**point.arrays)["X"], expected,
                               rtol=1e-10, atol=1e-12)


def test_a_kernel_whose_loops_would_read_a_reduction_early_is_not_written(monkeypatch):
    """The writer's own check: were a stage wrong, a loop or a row's number would read a
    reduction before it is complete; the function then keeps its NumPy code."""
    from matcalc.codegen import fused

    monkeypatch.setattr(fused._KernelWriter, "stage", lambda self, node: int(
        self.reduction(self.resolved(node)) is not None))
    for name in ("layernorm", "masked_softmax"):
        results = matcalc.derive(ROW_LOCAL[name], wrt=["X"], check=False)
        source = generate(list(results), backend="numba")
        assert "_fused_kernel(" not in source
        assert "not a fused kernel: the kernel writer does not compute a r" in source


def test_a_module_saved_as_a_file_keeps_its_compiled_kernels_on_disk(tmp_path):
    """njit(cache=True) where the module is a file: the machine code is kept beside it
    (__pycache__), so the next process loads it instead of compiling again."""
    import importlib.util

    results = matcalc.derive(ROW_LOCAL["rmsnorm"], wrt=["X"], check=False)
    path = tmp_path / "rms_kernels.py"
    path.write_text(generate(list(results), backend="numba"))
    spec = importlib.util.spec_from_file_location("rms_kernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    arrays = _arrays(results[0].program, 5, 4, np.float64)
    module.gradient(**arrays)
    assert list((tmp_path / "__pycache__").glob("rms_kernels._gradient_loops-*.nbi"))


def test_the_front_end_and_the_command_line_write_the_numba_format(capsys):
    from matcalc.cli.main import main

    result = matcalc.derive(ROW_LOCAL["layernorm"], wrt="X", check=False)
    assert "_fused_kernel(_gradient_loops)" in result.code(format="numba")
    with pytest.raises(UnsupportedError, match="numba"):
        result.code(format="numbaa")
    main(["derive", "x' @ A @ x", "--wrt", "x", "--format", "numba"])  # not row-local
    out = capsys.readouterr().out
    assert "import numpy as _np" in out and "def gradient(" in out

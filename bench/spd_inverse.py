"""The inverse of a symmetric positive definite matrix as generated code computes it (through
its Cholesky factor: LAPACK potrf + potri, or potri alone where the code already holds
L = chol(K)) against NumPy's LU inverse, in one process, interleaved, one BLAS thread; medians
and ratios; and a solve with 20 right-hand sides, Cholesky (potrf + potrs) against LU.  With
JAX and PyTorch installed, their Cholesky inverses (the generated code's
helpers) against their LU inverses too.

Run:  taskset -c 0 python bench/spd_inverse.py [--n 500] [--repeats 21] [--cpu-time]
"""

from __future__ import annotations

from timing import add_timing_options, one_thread, timed, use_timing_options

one_thread()

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from matcalc.codegen.runtime.factored_helpers import (  # noqa: E402
    _inv_cholesky,
    _inv_spd,
    _solve_spd,
)
from matcalc.codegen.runtime.numpy_helpers import _cholesky  # noqa: E402


def kernel_matrix(n: int, dtype, seed: int = 0) -> np.ndarray:
    """bench/versus.py B6's matrix: an RBF kernel of n points plus 0.1 I."""
    points = np.random.default_rng(seed).normal(size=(n, 3))
    squared = np.sum((points[:, None, :] - points[None, :, :]) ** 2, axis=-1)
    return (np.exp(-0.5 * squared) + 0.1 * np.eye(n)).astype(dtype)


def numpy_functions(k: np.ndarray) -> dict:
    factor = _cholesky(k)
    for got in (_inv_spd(k), _inv_cholesky(factor)):  # the same inverse, before any timing
        np.testing.assert_allclose(got @ k, np.eye(len(k)), atol=1e-3 if k.dtype == np.float32
                                   else 1e-8)
    right = np.random.default_rng(1).normal(size=(len(k), 20)).astype(k.dtype)
    np.testing.assert_allclose(k @ _solve_spd(k, right), right, atol=1e-2 if k.dtype ==
                               np.float32 else 1e-8)
    return {"np.linalg.inv(K)": lambda: np.linalg.inv(k), "_inv_spd(K)": lambda: _inv_spd(k),
            "_inv_cholesky(L)": lambda: _inv_cholesky(factor),
            "np.linalg.solve(K, B20)": lambda: np.linalg.solve(k, right),
            "_solve_spd(K, B20)": lambda: _solve_spd(k, right)}


def library_functions(k: np.ndarray) -> dict:
    """JAX's and PyTorch's inverses of k, where installed (the generated code's helpers)."""
    found = {}
    try:
        import torch

        torch.set_num_threads(1)
        t = torch.as_tensor(k)
        found["torch.linalg.inv(K)"] = lambda: torch.linalg.inv(t)
        found["torch cholesky_inverse"] = lambda: torch.cholesky_inverse(torch.linalg.cholesky(t))
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        import jax.scipy.linalg

        j = jnp.asarray(k)
        inverse = jax.jit(jnp.linalg.inv)
        eye = jnp.eye(len(k), dtype=j.dtype)
        spd = jax.jit(lambda m: jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(m), True), eye))
        found["jnp.linalg.inv(K)"] = lambda: inverse(j).block_until_ready()
        found["jax cho_solve(chol(K), I)"] = lambda: spd(j).block_until_ready()
    except ImportError:
        pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=21)
    add_timing_options(parser)
    arguments = parser.parse_args()
    use_timing_options(arguments)
    for dtype in (np.float64, np.float32):
        k = kernel_matrix(arguments.n, dtype)
        times = timed({**numpy_functions(k), **library_functions(k)}, arguments.repeats,
                      warm_ups=2)
        base = times["np.linalg.inv(K)"]
        print(f"n = {arguments.n}, {np.dtype(dtype).name}")
        for name, seconds in times.items():
            print(f"  {name:28s} {1e3 * seconds:8.2f} ms  {seconds / base:5.2f}x of np.linalg.inv")


if __name__ == "__main__":
    main()

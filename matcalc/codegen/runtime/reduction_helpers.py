"""Sums along one axis as generated NumPy code computes them (codegen/row_means.py).

:mod:`matcalc.codegen.backends` copies this file from the marker line on into generated NumPy
and JAX modules (JAX's own versions, in jax_helpers, follow and replace these).
"""

import numpy as _np


# ---- copied into every generated module from here on ----
def _summing_ones(x, n):
    # a vector of n ones for a BLAS matrix-vector product summing x (its dtype when floating)
    return _np.ones(n, dtype=x.dtype if x.dtype.kind == "f" else _np.float64)


def _row_sums(x):
    # x @ 1 (a column): one BLAS matrix-vector product, faster than a sum along each row
    return (x @ _summing_ones(x, x.shape[1]))[:, None]


def _column_sums(x):
    # 1' @ x (a row)
    return (_summing_ones(x, x.shape[0]) @ x)[None, :]


def _row_dots(a, b):
    # (a * b) @ 1 without the N x d product: one pass over a and b
    return _np.einsum("ij,ij->i", a, b)[:, None]


def _column_dots(a, b):
    # 1' @ (a * b)
    return _np.einsum("ij,ij->j", a, b)[None, :]


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


# rows of a block of _in_row_blocks: about this many bytes of each array, an L2 cache's share
_ROW_BLOCK_BYTES = 1 << 19


def _in_row_blocks(function, arrays, sliced):
    # function(**arrays), a row-local function (codegen/row_blocks.py), over blocks of the
    # sliced arrays' rows: each block's passes read the cache, not memory
    arrays = {name: _np.asarray(value) if name in sliced else value
              for name, value in arrays.items()}
    counts = {arrays[name].shape[0] if arrays[name].ndim else -1 for name in sliced}
    n = counts.pop()
    width = max(arrays[name].size // max(n, 1) * arrays[name].itemsize for name in sliced)
    rows = max(1, _ROW_BLOCK_BYTES // max(width, 1))
    if counts or n < 2 * rows:  # (arrays of different rows: the function says what is wrong)
        return function(**arrays)
    out = {}
    for start in range(0, n, rows):
        part = function(**{name: value[start:start + rows] if name in sliced else value
                           for name, value in arrays.items()})
        for key, value in part.items():
            if key not in out:
                out[key] = _np.empty((n, *value.shape[1:]), dtype=value.dtype)
            out[key][start:start + rows] = value
    return out

"""Helpers every backend's generated code shares, written with the backend's own helpers."""

import numpy as _np

from .numpy_helpers import _unvec, _vec, _with_block
from .plain_helpers import _einsum_groups, _grouped_shape


# ---- copied into every generated module from here on ----
def _kron_matvec(a, b, v):
    """kron(a, b) @ v without the Kronecker product: vec(b @ V @ a.T), V = unvec(v)."""
    return _vec(b @ _unvec(v, b.shape[1], a.shape[1]) @ a.T)


def _diagonal_blocks(x):
    """The (N, k, k) array of Diag(vec(x)) for an N x k matrix x, as blocks of N x N diagonals
    (codegen/blocks.py): entry n is Diag(x[n, :])."""
    return x[:, :, None] * _np.eye(x.shape[1], dtype=x.dtype)


def _selected_blocks(left, right):
    """The blocks of L @ Diag(vec(I_N)) @ R for blocks L (N or 1, r, N) and R (N or 1, N, c):
    Diag(vec(I_N)) keeps entry n of block n, so block n is L[n][:, n] R[n][n, :], an outer
    product (codegen/blocks.py), without the (N, N, N) array of Diag(vec(I_N))."""
    index = _np.arange(left.shape[-1])
    columns = left[0].T if left.shape[0] == 1 else left[index, :, index]
    rows = right[0] if right.shape[0] == 1 else right[index, index, :]
    return columns[:, :, None] * rows[:, None, :]


def _diagonal_blocks_product(a, t, b, n, symmetric=False):
    """kron(I, a) @ M @ kron(I, b) for the matrix M of r x c blocks of n x n diagonals, block
    (i, j)'s diagonal t[:, i, j] (a None for I, b too): sum_n a[:, n] t[n, i, j] b[n, :] for
    block (i, j), never forming M or a Kronecker product (codegen/blocks.py)."""
    t = _np.broadcast_to(t, (n,) + tuple(t.shape[1:]))
    r, c = t.shape[1], t.shape[2]
    if a is None and b is None:
        return _np.einsum("nij,nm->injm", t, _np.eye(n, dtype=t.dtype)).reshape(r * n, c * n)
    if a is None:
        return _np.einsum("nij,nb->injb", t, b).reshape(r * n, c * b.shape[1])
    if b is None:
        return _np.einsum("am,mij->iajm", a, t).reshape(r * a.shape[0], c * n)
    p, q = a.shape[0], b.shape[1]
    if symmetric:  # column j's blocks i <= j, the others mirrored: half the products
        out = _np.zeros((r, p, c, q), dtype=t.dtype)
        for j in range(c):
            column = (a @ (t[:, :j + 1, j][:, :, None] * b[:, None, :]).reshape(n, (j + 1) * q))
            column = column.reshape(p, j + 1, q)  # [x, i, y]: block (i, j)'s entry x, y
            out = _with_block(out, (slice(0, j + 1), slice(None), j), column.transpose(1, 0, 2))
            out = _with_block(out, (j, slice(None), slice(0, j + 1)), column.transpose(2, 1, 0))
        return out.reshape(r * p, c * q)
    # one column of blocks at a time: a @ (t[:, :, j] b, row by row), an n x r q intermediate
    # (r copies of b) made in memory order; columns[j][x, i*q + y] is block (i, j)'s entry x, y
    columns = [a @ (t[:, :, j][:, :, None] * b[:, None, :]).reshape(n, r * q) for j in range(c)]
    stacked = _np.stack(columns, axis=0).reshape(c, p, r, q)
    return stacked.transpose(2, 1, 0, 3).reshape(r * p, c * q)


def _hcat(a, b):
    """[a, b]: side by side (a number is a 1 x 1 block)."""
    return _np.concatenate((_np.reshape(a, (-1, 1)) if _np.ndim(a) == 0 else a,
                           _np.reshape(b, (-1, 1)) if _np.ndim(b) == 0 else b), axis=1)


def _vcat(a, b):
    """[a; b]: one above the other (a number is a 1 x 1 block)."""
    return _np.concatenate((_np.reshape(a, (1, -1)) if _np.ndim(a) == 0 else a,
                           _np.reshape(b, (1, -1)) if _np.ndim(b) == 0 else b), axis=0)


def _conv1d(x, w):
    """The valid cross-correlation y[i] = sum_j w[j] x[i + j] of each column (a one-column
    operand pairs with every column of the other), as a sum over the kernel's taps."""
    length = x.shape[0] - w.shape[0] + 1
    return sum(x[j:j + length] * w[j:j + 1] for j in range(w.shape[0]))


def _convolve(g, w):
    """The full convolution z[t] = sum_j w[j] g[t - j] of each column, length m + k - 1."""
    k = w.shape[0]
    columns = max(g.shape[1], w.shape[1])
    return sum(_np.concatenate((_np.zeros((j, columns), dtype=g.dtype), g * w[j:j + 1],
                               _np.zeros((k - 1 - j, columns), dtype=g.dtype)), axis=0)
               for j in range(k))


def _einsum(spec, *operands):
    """np.einsum over matcalc's layout: a vector operand (n x 1 or 1 x n) is read as its n
    entries, a result with one letter is a column.  Three operands or more over a large index
    space are contracted in pairs (optimize: 5x faster on btk,bsk,kj->btsj at 4 x 32 x 16);
    below that the path search costs more than it saves (20x slower on n = 3), and two operands
    left as an einsum have no product for BLAS (those become @)."""
    inputs, output = spec.split("->")
    groups = _einsum_groups(output)  # letters in parentheses: one axis (C order)
    terms = inputs.split(",")
    arrays = [_np.reshape(a, (-1,)) if len(term) == 1 else a
              for a, term in zip(operands, terms, strict=True)]
    sizes = {}
    for array, term in zip(arrays, terms, strict=True):
        sizes.update(zip(term, _np.shape(array), strict=True))
    space = 1
    for size in sizes.values():
        space *= size
    value = _np.einsum(f"{inputs}->{''.join(groups)}", *arrays,
                       optimize=len(arrays) > 2 and space > 65536)
    if len(groups) != len(value.shape):
        value = _np.reshape(value, _grouped_shape(groups, sizes))
    return _np.reshape(value, (-1, 1)) if len(groups) == 1 else value

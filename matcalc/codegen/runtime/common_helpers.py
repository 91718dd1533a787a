"""Helpers every backend's generated code shares, written with the backend's own helpers."""

import numpy as np

from .numpy_helpers import _unvec, _vec


# ---- copied into every generated module from here on ----
def _kron_matvec(a, b, v):
    """kron(a, b) @ v without the Kronecker product: vec(b @ V @ a.T), V = unvec(v)."""
    return _vec(b @ _unvec(v, b.shape[1], a.shape[1]) @ a.T)


def _hcat(a, b):
    """[a, b]: side by side (a number is a 1 x 1 block)."""
    return np.concatenate((np.reshape(a, (-1, 1)) if np.ndim(a) == 0 else a,
                           np.reshape(b, (-1, 1)) if np.ndim(b) == 0 else b), axis=1)


def _vcat(a, b):
    """[a; b]: one above the other (a number is a 1 x 1 block)."""
    return np.concatenate((np.reshape(a, (1, -1)) if np.ndim(a) == 0 else a,
                           np.reshape(b, (1, -1)) if np.ndim(b) == 0 else b), axis=0)

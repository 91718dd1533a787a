"""Helpers every backend's generated code shares, written with the backend's own helpers."""

from .numpy_helpers import _unvec, _vec


# ---- copied into every generated module from here on ----
def _kron_matvec(a, b, v):
    """kron(a, b) @ v without the Kronecker product: vec(b @ V @ a.T), V = unvec(v)."""
    return _vec(b @ _unvec(v, b.shape[1], a.shape[1]) @ a.T)

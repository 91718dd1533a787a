"""Generated PyTorch code's helpers that compute through a factorisation (the NumPy ones'
meaning, factored_helpers.py): triangular inverses, products and solves, and the
log-determinant and the inverse of a symmetric positive definite matrix through its Cholesky
factor.

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
PyTorch module, after torch_helpers.
"""

import torch as _torch

from .torch_helpers import _logdet


# ---- copied into every generated module from here on ----
def _logdet_spd(x):
    try:
        return 2.0 * _torch.sum(_torch.log(_torch.diagonal(_torch.linalg.cholesky(x))))
    except RuntimeError:  # not positive definite (_torch.linalg.LinAlgError)
        return _logdet(x)


def _inv_triangular(a, lower):
    identity = _torch.eye(a.shape[0], dtype=a.dtype, device=a.device)
    return _torch.linalg.solve_triangular(a, identity, upper=not lower)


def _triangular_product(t, m, lower, left):
    return t @ m if left else m @ t


def _triangular_congruence(s, m, lower):
    return s.T @ m @ s


def _solved_congruence(t, m, lower):
    # inv(T)' @ M @ inv(T): T' Y = M, then Z T = Y
    y = _torch.linalg.solve_triangular(t.T, m, upper=lower)
    return _torch.linalg.solve_triangular(t, y, upper=not lower, left=False)



def _inv_spd(x):
    # through the Cholesky factor; the LU inverse where x is not positive definite
    factor, info = _torch.linalg.cholesky_ex(x)
    if bool(info):
        return _torch.linalg.inv(x)
    return _torch.cholesky_inverse(factor)


def _inv_cholesky(factor):
    return _torch.cholesky_inverse(factor)


def _solve_spd(a, b):
    factor, info = _torch.linalg.cholesky_ex(a)
    if bool(info):
        return _torch.linalg.solve(a, b)
    return _torch.cholesky_solve(b, factor)

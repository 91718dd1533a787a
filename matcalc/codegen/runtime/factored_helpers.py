"""Generated NumPy code's helpers that compute through a factorisation (codegen/triangular.py,
codegen/writer.py): triangular inverses, products and solves, and the log-determinant and the
inverse of a symmetric positive definite matrix through its Cholesky factor.

:mod:`matcalc.codegen.backends` copies this file from the marker line on into generated NumPy
and JAX modules (JAX's own versions, in jax_helpers, follow and replace these).  SciPy is
imported on first use.
"""

import numpy as _np

from .numpy_helpers import _cholesky, _logdet


# ---- copied into every generated module from here on ----
def _logdet_spd(x):
    # log det of a symmetric positive definite matrix through its Cholesky factor,
    # 2 sum(log(diag(L))); a matrix that is not positive definite goes through slogdet
    factor = _cholesky(x)
    if factor is None:
        return _logdet(x)
    return 2.0 * _np.sum(_np.log(_np.diagonal(factor)))


def _inv_triangular(a, lower):
    # the inverse of a triangular matrix: LAPACK's trtri, n^3 / 3 multiplications
    from scipy import linalg

    trtri = linalg.get_lapack_funcs("trtri", (a,))
    inverse, info = trtri(a, lower=lower)
    if info != 0:  # singular: outside the domain
        return _np.full(a.shape, _np.nan)
    return _np.tril(inverse) if lower else _np.triu(inverse)


def _triangular_product(t, m, lower, left):
    # T @ M (left) or M @ T of a triangular T: BLAS trmm, n^3 multiplications instead of 2 n^3
    from scipy import linalg

    trmm = linalg.get_blas_funcs("trmm", (t, m))
    return trmm(1.0, t, m, side=0 if left else 1, lower=lower)


def _triangular_congruence(s, m, lower):
    # S' @ M @ S for a triangular S: two triangular products
    from scipy import linalg

    trmm = linalg.get_blas_funcs("trmm", (s, m))
    right = trmm(1.0, s, m, side=1, lower=lower)
    return trmm(1.0, s, right, side=0, lower=lower, trans_a=1)


def _solved_congruence(t, m, lower):
    # inv(T)' @ M @ inv(T) for a triangular T by two triangular solves (T' Y = M, T' Z' = Y'),
    # never inv(T)
    from scipy import linalg

    y = linalg.solve_triangular(t, m, lower=lower, trans=1, check_finite=False)
    return linalg.solve_triangular(t, y.T, lower=lower, trans=1, check_finite=False).T



def _inv_spd(x):
    # the inverse of a symmetric positive definite matrix through its Cholesky factor (LAPACK
    # potrf, then potri: n^3 multiplications where an LU inverse takes 2 n^3); a matrix that is
    # not positive definite goes through the LU inverse
    factor = _cholesky(x)
    if factor is None:
        return _np.linalg.inv(x)
    return _inv_cholesky(factor, owned=True)


def _inv_cholesky(factor, owned=False):
    # inv(L @ L') from the lower Cholesky factor L (LAPACK potri fills the lower triangle, which
    # is mirrored); ``owned``: L may be overwritten
    if _np.ndim(factor) != 2 or not _np.size(factor) or factor.dtype.kind != "f":
        return _np.linalg.inv(factor @ factor.T)
    from scipy import linalg

    potri = linalg.get_lapack_funcs("potri", (factor,))
    inverse, info = potri(factor, lower=1, overwrite_c=owned)
    if info != 0:  # a zero on L's diagonal: singular, outside the domain
        return _np.full(factor.shape, _np.nan)
    inverse = _np.tril(inverse)
    inverse += _np.tril(inverse, -1).T
    return inverse


def _solve_spd(a, b):
    # inv(A) @ B for a symmetric positive definite A through its Cholesky factor (potrf, then
    # two triangular solves: n^3 / 3 multiplications for the factor where an LU takes 2 n^3 / 3);
    # the LU solve where A is not positive definite
    factor = _cholesky(a)
    if factor is None or _np.ndim(factor) != 2:
        return _np.linalg.solve(a, b)
    from scipy import linalg

    return linalg.cho_solve((factor, True), b, check_finite=False)

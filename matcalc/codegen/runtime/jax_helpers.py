"""The helpers of generated JAX code that differ from the NumPy ones.

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
JAX module after the NumPy helpers, so these definitions replace theirs: NumPy has no erf, and
the NumPy helpers compute it with ``math.erf`` entry by entry, which JAX cannot trace; a scalar
result stays a 0-d array, as ``float()`` of a traced value fails under ``jax.jit``.
"""

import jax.numpy as np  # the generated module's header imports it under this name

# ---- copied into every generated module from here on ----
import jax.scipy.special as _jax_special  # noqa: E402


def _erf(x):
    return _jax_special.erf(x)


def _erfc(x):
    return _jax_special.erfc(x)


def _returned_number(x):
    return np.reshape(np.asarray(x), ())


def _lgamma(x):
    return _jax_special.gammaln(x)


def _digamma(x):
    return _jax_special.digamma(x)


def _trigamma(x):
    return _jax_special.polygamma(1, x)


def _solve_triangular(a, b, lower):
    import jax.scipy.linalg

    return jax.scipy.linalg.solve_triangular(a, b, lower=lower)


# functions of a matrix: jax.scipy.linalg where it has them; logm, sqrtm and the Sylvester solve
# through the eigendecomposition (jnp.linalg.eig: CPU only), as the NumPy helpers compute them
# when the eigenvectors are well conditioned
def _expm(x):
    import jax.scipy.linalg

    return jax.scipy.linalg.expm(x)


def _expm_frechet(a, e):
    import jax.scipy.linalg

    return jax.scipy.linalg.expm_frechet(a, e, compute_expm=False)


def _eiggap(x):
    lam = np.reshape(x, (-1, 1))
    gaps = lam.T - lam
    eye = np.eye(gaps.shape[0], dtype=bool)
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, gaps))


def _spectral(x, f, fallback=None):
    w, v = np.linalg.eig(x)
    return np.real((v * f(w)) @ np.linalg.inv(v))


def _spectral_frechet(f, df, fallback, a, e):
    w, v = np.linalg.eig(a)
    vinv = np.linalg.inv(v)
    gaps = w[:, None] - w[None, :]
    close = np.abs(gaps) <= 1e-8 * np.max(np.abs(w))
    fw = f(w)
    quotient = (fw[:, None] - fw[None, :]) / np.where(close, 1.0, gaps)
    differences = np.where(close, df((w[:, None] + w[None, :]) / 2), quotient)
    return np.real(v @ (differences * (vinv @ e @ v)) @ vinv)


def _sylvester(s, e):
    w, v = np.linalg.eig(s)
    vinv = np.linalg.inv(v)
    return np.real(v @ ((vinv @ e @ v) / (w[:, None] + w[None, :])) @ vinv)


def _logdet_spd(x):
    # NaN where x is not positive definite (jnp.linalg.cholesky does not raise)
    return 2.0 * np.sum(np.log(np.diagonal(np.linalg.cholesky(x))))


def _inv_triangular(a, lower):
    return _solve_triangular(a, np.eye(a.shape[0], dtype=a.dtype), lower)


def _triangular_product(t, m, lower, left):
    return t @ m if left else m @ t


def _triangular_congruence(s, m, lower):
    return s.T @ m @ s


def _plus_diagonal(m, v):
    index = np.arange(m.shape[0])
    return m.at[index, index].add(np.ravel(v))


def _top_singular_pair(x):
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    u1 = u[:, :1]
    u1 = u1 * np.where(u1[np.argmax(np.abs(u1)), 0] >= 0, 1.0, -1.0)
    return u1, x.T @ u1 / s[0]

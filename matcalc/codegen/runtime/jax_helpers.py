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

"""The helpers of generated JAX code that differ from the NumPy ones.

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
JAX module after the NumPy helpers, so these definitions replace theirs: NumPy has no erf, and
the NumPy helpers compute it with ``_math.erf`` entry by entry, which JAX cannot trace; a scalar
result stays a 0-d array, as ``float()`` of a traced value fails under ``jax.jit``.
"""

import jax.numpy as _np  # the generated module's header imports it under this name

# ---- copied into every generated module from here on ----
import jax.scipy.special as _jax_special  # noqa: E402


def _erf(x):
    return _jax_special.erf(x)


def _erfc(x):
    return _jax_special.erfc(x)


def _returned_number(x):
    return _np.reshape(_np.asarray(x), ())

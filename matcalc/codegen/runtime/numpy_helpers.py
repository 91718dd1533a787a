"""The helpers generated NumPy code calls (JAX's too: jax.numpy takes NumPy's place).

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
module, so the code runs with NumPy alone; here it is a module like any other, linted and tested.
"""

import math

import numpy as np


# ---- copied into every generated module from here on ----
def _sigmoid(x):
    # 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below: no overflow, no cancellation
    e = np.exp(-np.abs(x))
    return np.where(np.greater_equal(x, 0), 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(x, axis):
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _logsumexp(x, axis, keep):
    top = np.max(x, axis=axis, keepdims=True)
    value = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
    return value if keep else value.reshape(())[()]


def _softplus(x):
    return np.logaddexp(0, x)


def _erf(x):
    # NumPy has no erf: math.erf entry by entry (exact to the last bit, slow on huge arrays)
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=float)


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def _sech2(x):
    # 1 - tanh(x)^2 = 4 e / (1 + e)^2 with e = exp(-2 |x|): no cancellation, no overflow
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _relu(x):
    return np.maximum(x, 0)


def _step(x):
    return np.greater(x, 0).astype(np.result_type(x, np.float32))


def _logdet(x):
    sign, value = np.linalg.slogdet(x)
    return value if sign > 0 else np.nan


def _vec(x):
    return x.reshape((-1, 1), order="F")


def _unvec(x, rows, cols):
    return x.reshape((rows, cols), order="F")


def _diagonal(x):
    return np.diag(x).reshape(-1, 1)


def _number(x):
    return x.reshape(())[()]


def _commutation(m, n, dtype):
    rows = np.arange(m * n)
    return (np.arange(m * n)[None, :] == ((rows % n) * m + rows // n)[:, None]).astype(dtype)


def _column(x, name):
    x = np.asarray(x)
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2 and x.shape[1] == 1:
        return x
    raise ValueError(f"{name} must be a vector (a 1-D array), not an array of shape {x.shape}")


def _matrix(x, name):
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a matrix (a 2-D array), not an array of shape "
                         f"{x.shape}")
    return x


def _scalar(x, name):
    x = np.asarray(x)
    if x.size != 1:
        raise ValueError(f"{name} must be a number, not an array of shape {x.shape}")
    return x.reshape(())[()]

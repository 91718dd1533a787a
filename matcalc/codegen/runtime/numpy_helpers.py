"""The helpers generated NumPy code calls (JAX's too: jax.numpy takes NumPy's place).

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
module, so the code runs with NumPy alone; here it is a module like any other, linted and tested.
"""

import math as _math

import numpy as _np


# ---- copied into every generated module from here on ----
def _sigmoid(x):
    # 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below: no overflow, no cancellation
    e = _np.exp(-_np.abs(x))
    return _np.where(_np.greater_equal(x, 0), 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(x, axis):
    shifted = _np.exp(x - _np.max(x, axis=axis, keepdims=True))
    return shifted / _np.sum(shifted, axis=axis, keepdims=True)


def _logsumexp(x, axis, keep):
    top = _np.max(x, axis=axis, keepdims=True)
    value = top + _np.log(_np.sum(_np.exp(x - top), axis=axis, keepdims=True))
    return value if keep else value.reshape(())[()]


def _softplus(x):
    return _np.logaddexp(0, x)


def _erf(x):
    # NumPy has no erf: _math.erf entry by entry (exact to the last bit, slow on huge arrays)
    return _np.asarray(_np.frompyfunc(_math.erf, 1, 1)(x), dtype=float)


def _erfc(x):
    # 1 - erf(x) without cancellation (_math.erfc entry by entry)
    return _np.asarray(_np.frompyfunc(_math.erfc, 1, 1)(x), dtype=float)


def _two_product(a, b):
    # a * b = product + error exactly (Dekker 1971: each factor split into 26-bit halves)
    product = a * b
    a_high = a * 134217729.0 - (a * 134217729.0 - a)
    b_high = b * 134217729.0 - (b * 134217729.0 - b)
    a_low, b_low = a - a_high, b - b_high
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    return product, error


def _gelu(x):
    # x (1 + erf(x / sqrt 2)) / 2 = x erfc(z) / 2, z = -x / sqrt 2: no cancellation for x < 0.
    # erfc(z) changes by 2 z^2 times z's relative rounding error (1e-13 at x = -38), so z is
    # carried to twice the precision and erfc(z + dz) = erfc(z) - dz 2 exp(-z^2) / sqrt(pi)
    z, dz = _two_product(-x, 0.7071067811865476)
    dz = dz - x * -4.833646656726457e-17  # 1 / sqrt 2 = 0.7071067811865476 - 4.83e-17
    return 0.5 * x * (_erfc(z) - dz * (2.0 / _math.sqrt(_math.pi)) * _np.exp(-z * z))


def _gelu_tanh(x):
    # x (1 + tanh(u)) / 2 = x sigmoid(2 u): no cancellation for x < 0
    return x * _sigmoid(2.0 * _math.sqrt(2.0 / _math.pi) * (x + 0.044715 * x * x * x))


def _sech2(x):
    # 1 - tanh(x)^2 = 4 e / (1 + e)^2 with e = exp(-2 |x|): no cancellation, no overflow
    e = _np.exp(-2.0 * _np.abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _relu(x):
    return _np.maximum(x, 0)


def _step(x):
    return _np.greater(x, 0).astype(_np.result_type(x, _np.float32))


def _logdet(x):
    sign, value = _np.linalg.slogdet(x)
    return value if sign > 0 else _np.nan


def _vec(x):
    return x.reshape((-1, 1), order="F")


def _unvec(x, rows, cols):
    return x.reshape((rows, cols), order="F")


def _diagonal(x):
    return _np.diag(x).reshape(-1, 1)


def _number(x):
    return x.reshape(())[()]


def _commutation(m, n, dtype):
    rows = _np.arange(m * n)
    return (_np.arange(m * n)[None, :] == ((rows % n) * m + rows // n)[:, None]).astype(dtype)


def _column(x, name):
    x = _np.asarray(x)
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2 and x.shape[1] == 1:
        return x
    raise ValueError(f"{name} must be a vector (a 1-D array), not an array of shape {x.shape}")


def _matrix(x, name):
    x = _np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a matrix (a 2-D array), not an array of shape "
                         f"{x.shape}")
    return x


def _returned_number(x):
    # a scalar result as a Python float
    return float(x)


def _scalar(x, name):
    x = _np.asarray(x)
    if x.size != 1:
        raise ValueError(f"{name} must be a number, not an array of shape {x.shape}")
    return x.reshape(())[()]

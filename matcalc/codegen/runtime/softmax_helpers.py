"""The softmax and its pullback in generated NumPy code, each one new array of the input's size.

``softmax(s * x)`` shifts each row by its largest entry (the smallest for ``s < 0``, so that no
exponent is positive), scales, exponentiates and divides in place: the shift and the scale of an
attention's ``Q @ K' / sqrt(d)`` cost no array of their own.  The largest entry is ``fmax``'s,
which skips NaN where ``max`` returns it: a row holding a NaN gives NaN either way (the NaN's own
exponential reaches the row's sum), and ``fmax`` is the faster reduction in NumPy.

The pullback of ``P = softmax(X)`` along an axis is ``P * (D - sum(P * D, a))`` (Bridle 1990;
the Jacobian ``Diag(p) - p p'`` of each row applied to the incoming ``d``), times the softmax's
scale: each row's dot product ``sum(P * D)`` without a product array (a batch of 1 x n by
n x 1 products), then one new array, multiplied in place.

JAX arrays cannot be written in place: jax_helpers replaces both, with the same arithmetic.
"""

import numpy as _np


# ---- copied into every generated module from here on ----
def _softmax(x, axis, scale=1.0):
    # softmax(scale * x) along axis: shift, scale, exp and divide in one new array
    top = (_np.fmax if scale >= 0 else _np.fmin).reduce(x, axis=axis, keepdims=True)
    shifted = _np.subtract(x, top, dtype=_np.result_type(x, 1.0))  # integers: floats
    if scale != 1.0:
        shifted *= scale
    _np.exp(shifted, out=shifted)
    shifted /= _np.sum(shifted, axis=axis, keepdims=True)
    return shifted


def _softmax_pullback(p, d, axis, scale=1.0):
    # scale * p * (d - sum(p * d, axis)): the rows' dot products, then one new array
    if _np.shape(p) == _np.shape(d) and axis in (-1, _np.ndim(p) - 1):
        dot = _np.matmul(p[..., None, :], d[..., :, None])[..., 0]  # each row's p . d
    else:
        dot = _np.sum(p * d, axis=axis, keepdims=True)
    out = _np.subtract(d, dot)
    if out.shape == _np.shape(p):
        out *= p
    else:
        out = out * p
    if scale != 1.0:
        out *= scale
    return out

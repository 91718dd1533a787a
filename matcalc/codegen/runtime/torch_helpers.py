"""The helpers generated PyTorch code calls: torch operations only, on the inputs' dtype and
device (nothing here names a device).

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
PyTorch module (without the NumPy helpers); here it is a module like any other, linted and tested.
"""

import math as _math

import torch as _torch


# ---- copied into every generated module from here on ----
def _sigmoid(x):
    return _torch.sigmoid(x)


def _softmax(x, axis):
    return _torch.softmax(x, dim=axis)


def _logsumexp(x, axis, keep):
    value = _torch.logsumexp(x, dim=axis, keepdim=True)
    return value if keep else value.reshape(())


def _softplus(x):
    return _torch.nn.functional.softplus(x)


def _erf(x):
    return _torch.erf(x)


def _erfc(x):
    return _torch.special.erfc(x)


def _gelu(x):
    # x erfc(-x / sqrt 2) / 2, as the NumPy helper: no cancellation for x < 0
    return 0.5 * x * _torch.special.erfc(-x / _math.sqrt(2.0))


def _gelu_tanh(x):
    return x * _torch.sigmoid(2.0 * _math.sqrt(2.0 / _math.pi) * (x + 0.044715 * x * x * x))


def _sech2(x):
    e = _torch.exp(-2.0 * _torch.abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _relu(x):
    return _torch.relu(x)


def _step(x):
    return _torch.gt(x, 0).to(x.dtype)


def _logdet(x):
    sign, value = _torch.linalg.slogdet(x)
    return _torch.where(sign > 0, value, _torch.full_like(value, float("nan")))


def _vec(x):
    return x.T.reshape(-1, 1)


def _unvec(x, rows, cols):
    return x.reshape(cols, rows).T


def _diagonal(x):
    return _torch.diagonal(x).reshape(-1, 1)


def _number(x):
    return x.reshape(())


def _commutation(m, n, dtype, device):
    rows = _torch.arange(m * n, device=device)
    return (_torch.arange(m * n, device=device)[None, :] ==
            ((rows % n) * m + rows // n)[:, None]).to(dtype)


def _maximum(a, b):
    if not isinstance(a, _torch.Tensor):
        return _torch.clamp(b, min=a)
    return _torch.clamp(a, min=b) if not isinstance(b, _torch.Tensor) else _torch.maximum(a, b)


def _minimum(a, b):
    if not isinstance(a, _torch.Tensor):
        return _torch.clamp(b, max=a)
    return _torch.clamp(a, max=b) if not isinstance(b, _torch.Tensor) else _torch.minimum(a, b)


def _power(a, b):
    return _torch.pow(a, b) if isinstance(a, _torch.Tensor) or isinstance(b, _torch.Tensor) \
        else a ** b


def _column(x, name):
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2 and x.shape[1] == 1:
        return x
    raise ValueError(f"{name} must be a vector (a 1-D tensor), not of shape {tuple(x.shape)}")


def _matrix(x, name):
    if x.ndim != 2:
        raise ValueError(f"{name} must be a matrix (a 2-D tensor), not of shape "
                         f"{tuple(x.shape)}")
    return x


def _scalar(x, name, dtype, device):
    if not isinstance(x, _torch.Tensor):
        return _torch.as_tensor(float(x), dtype=dtype, device=device)
    if x.numel() != 1:
        raise ValueError(f"{name} must be a number, not of shape {tuple(x.shape)}")
    return x.reshape(())


def _dtype_of(*tensors):
    dtype = tensors[0].dtype
    for tensor in tensors[1:]:
        dtype = _torch.promote_types(dtype, tensor.dtype)
    return dtype if dtype.is_floating_point else _torch.get_default_dtype()


def _as(x, dtype, device):
    """A result as a tensor of the inputs' dtype, on their device (a number becomes one)."""
    return _torch.as_tensor(x, dtype=dtype, device=device)


def _kron_matvec(a, b, v):
    """kron(a, b) @ v without the Kronecker product: vec(b @ V @ a.T), V = unvec(v)."""
    return _vec(b @ _unvec(v, b.shape[1], a.shape[1]) @ a.T)


def _hcat(a, b):
    """[a, b]: side by side (a number is a 1 x 1 block)."""
    a, b = _as_block(a, b), _as_block(b, a)
    return _torch.cat((a, b), dim=1)


def _vcat(a, b):
    """[a; b]: one above the other (a number is a 1 x 1 block)."""
    a, b = _as_block(a, b), _as_block(b, a)
    return _torch.cat((a, b), dim=0)


def _as_block(x, other):
    if isinstance(x, _torch.Tensor) and x.ndim == 2:
        return x
    like = other if isinstance(other, _torch.Tensor) else None
    return _torch.as_tensor(x, dtype=like.dtype if like is not None else None,
                            device=like.device if like is not None else None).reshape(1, 1)


def _conv1d(x, w):
    """The valid cross-correlation y[i] = sum_j w[j] x[i + j] of each column (a one-column
    operand pairs with every column of the other), as a sum over the kernel's taps."""
    length = x.shape[0] - w.shape[0] + 1
    return sum(x[j:j + length] * w[j:j + 1] for j in range(w.shape[0]))


def _convolve(g, w):
    """The full convolution z[t] = sum_j w[j] g[t - j] of each column, length m + k - 1."""
    k = w.shape[0]
    columns = max(g.shape[1], w.shape[1])
    return sum(_torch.cat((g.new_zeros((j, columns)), g * w[j:j + 1],
                           g.new_zeros((k - 1 - j, columns))), dim=0)
               for j in range(k))


def _integer(value):
    """An integer-valued scalar (a matrix power's exponent) as a Python int."""
    return int(round(float(value)))


def _given_size(sizes, dimension):
    """The size of a dimension no argument shows, from the caller's sizes."""
    return int(sizes[dimension])


def _dimension(size):
    """The size of a dimension as a number in arithmetic."""
    return float(size)


def _refuse_differentiating(needs, positions, names, differentiated):
    """A Function's backward pass has no gradient for the variables at positions:
    differentiating through one of them is an error, never a zero."""
    for position, name in zip(positions, names, strict=True):
        if needs[position]:
            raise RuntimeError(f"{name} requires grad, but this function was derived with "
                               f"respect to {', '.join(differentiated)} only; derive it with "
                               f"respect to {name} too")


from torch.autograd.function import once_differentiable as _once_differentiable  # noqa: E402, F401

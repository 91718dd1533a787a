"""The helpers generated PyTorch code calls: torch operations only, on the inputs' dtype and
device (nothing here names a device).

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
PyTorch module (without the NumPy helpers); here it is a module like any other, linted and tested.
"""

import math as _math

import torch as _torch

from ...core.indices import _commutation_columns
from .plain_helpers import _einsum_groups, _grouped_shape


# ---- copied into every generated module from here on ----
def _sigmoid(x):
    return _torch.sigmoid(x)


def _softmax(x, axis):
    return _torch.softmax(x, dim=axis)


def _logsumexp(x, axis, keep):
    value = _torch.logsumexp(x, dim=axis, keepdim=True)
    if keep:
        return value
    return value.squeeze(axis) if x.dim() > 2 else value.reshape(())


def _softmax_pullback(p, d, axis):
    weighted = p * d
    return weighted - p * _torch.sum(weighted, dim=axis, keepdim=True)


def _batch_gram(a, m):
    return a.reshape(-1, a.shape[-1]).T @ m.reshape(-1, m.shape[-1])


def _swap_last(x):
    return x.transpose(-1, -2)


def _expand(g, axis, n):
    shape = list(g.shape)
    return g.unsqueeze(axis).expand(*(shape[:axis] + [n] + shape[axis:]))


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
    return _torch.eye(m * n, dtype=dtype, device=device)[_commutation_columns(m, n)]


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


def _tensor(x, name, axes):
    if x.ndim != axes:
        raise ValueError(f"{name} must be a tensor of {axes} axes, not of shape "
                         f"{tuple(x.shape)}")
    return x


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
        if tensor.dtype is not dtype:
            dtype = _torch.promote_types(dtype, tensor.dtype)
    return dtype if dtype.is_floating_point else _torch.get_default_dtype()


def _as(x, dtype, device):
    """A result as a tensor of the inputs' dtype, on their device (a number becomes one)."""
    if type(x) is _torch.Tensor and x.dtype is dtype and x.device == device:
        return x  # most results already are: as_tensor's call is the cost of a small step
    return _torch.as_tensor(x, dtype=dtype, device=device)


def _result(x, dtype, device, shape):
    """A result in the inputs' dtype, on their device, in shape: a call only for what is not
    so already (a small training step is mostly such calls)."""
    x = _as(x, dtype, device)
    return x if x.shape == shape else x.reshape(shape)


def _seeded_product(g, a, b):
    """g * (a @ b), g applied to the smallest of a, b and a @ b (a backward pass's seed)."""
    sizes = (a.numel(), b.numel(), a.shape[0] * b.shape[-1])
    if sizes[0] == min(sizes):
        return (g * a) @ b
    if sizes[1] == min(sizes):
        return a @ (g * b)
    return (a @ b).mul_(g)


def _kron_matvec(a, b, v):
    """kron(a, b) @ v without the Kronecker product: vec(b @ V @ a.T), V = unvec(v)."""
    return _vec(b @ _unvec(v, b.shape[1], a.shape[1]) @ a.T)


def _diagonal_blocks(x):
    """The (N, k, k) array of Diag(vec(x)) for an N x k matrix x, as blocks of N x N diagonals
    (codegen/blocks.py): entry n is Diag(x[n, :])."""
    return _torch.diag_embed(x)


def _selected_blocks(left, right):
    """The blocks of L @ Diag(vec(I_N)) @ R for blocks L (N or 1, r, N) and R (N or 1, N, c):
    Diag(vec(I_N)) keeps entry n of block n, so block n is L[n][:, n] R[n][n, :], an outer
    product (codegen/blocks.py), without the (N, N, N) array of Diag(vec(I_N))."""
    index = _torch.arange(left.shape[-1], device=left.device)
    columns = left[0].T if left.shape[0] == 1 else left[index, :, index]
    rows = right[0] if right.shape[0] == 1 else right[index, index, :]
    return columns[:, :, None] * rows[:, None, :]


def _diagonal_blocks_product(a, t, b, n, symmetric=False):
    """kron(I, a) @ M @ kron(I, b) for the matrix M of r x c blocks of n x n diagonals, block
    (i, j)'s diagonal t[:, i, j] (a None for I, b too): sum_n a[:, n] t[n, i, j] b[n, :] for
    block (i, j), never forming M or a Kronecker product (codegen/blocks.py)."""
    t = t.expand(n, -1, -1)
    r, c = t.shape[1], t.shape[2]
    if a is None and b is None:
        identity = _torch.eye(n, dtype=t.dtype, device=t.device)
        return _torch.einsum("nij,nm->injm", t, identity).reshape(r * n, c * n)
    if a is None:
        return _torch.einsum("nij,nb->injb", t, b).reshape(r * n, c * b.shape[1])
    if b is None:
        return _torch.einsum("am,mij->iajm", a, t).reshape(r * a.shape[0], c * n)
    p, q = a.shape[0], b.shape[1]
    if symmetric:  # column j's blocks i <= j, the others mirrored: half the products
        out = _torch.zeros((r, p, c, q), dtype=t.dtype, device=t.device)
        for j in range(c):
            column = (a @ (t[:, :j + 1, j][:, :, None] * b[:, None, :]).reshape(n, (j + 1) * q))
            column = column.reshape(p, j + 1, q)  # [x, i, y]: block (i, j)'s entry x, y
            out[:j + 1, :, j] = column.permute(1, 0, 2)
            out[j, :, :j + 1] = column.permute(2, 1, 0)
        return out.reshape(r * p, c * q)
    # one column of blocks at a time: a @ (t[:, :, j] b, row by row), an n x r q intermediate
    # (r copies of b) made in memory order; columns[j][x, i*q + y] is block (i, j)'s entry x, y
    columns = [a @ (t[:, :, j][:, :, None] * b[:, None, :]).reshape(n, r * q) for j in range(c)]
    stacked = _torch.stack(columns, dim=0).reshape(c, p, r, q)
    return stacked.permute(2, 1, 0, 3).reshape(r * p, c * q)


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


def _refuse_differentiating(needs, positions, names, differentiated):
    """A Function's backward pass has no gradient for the variables at positions:
    differentiating through one of them is an error, never a zero."""
    for position, name in zip(positions, names, strict=True):
        if needs[position]:
            raise RuntimeError(f"{name} requires grad, but this function was derived with "
                               f"respect to {', '.join(differentiated)} only; derive it with "
                               f"respect to {name} too")


from torch.autograd.function import once_differentiable as _once_differentiable  # noqa: E402, F401


def _lgamma(x):
    return _torch.lgamma(_torch.as_tensor(x))


def _digamma(x):
    return _torch.digamma(_torch.as_tensor(x))


def _trigamma(x):
    return _torch.polygamma(1, _torch.as_tensor(x))


def _solve_triangular(a, b, lower):
    return _torch.linalg.solve_triangular(a, b, upper=not lower)


# functions of a matrix (the NumPy helpers' meaning: chol and the eigenproblem of the symmetric
# part; eigenvectors with their largest entry positive)
def _chol(x):
    return _torch.linalg.cholesky((x + x.T) / 2)


def _sym(x):
    return 0.5 * (x + x.T)


def _phi(x):
    return _torch.tril(x) - 0.5 * _torch.diag(_torch.diag(x))


def _divdiff(x, function):
    # the NumPy helper's divided differences of exp or log at a symmetric x (NaN off one)
    if x.dim() == 0:
        return _torch.exp(x) if function == "exp" else 1.0 / x
    lam = _torch.linalg.eigvalsh((x + x.T) / 2)
    low = _torch.minimum(lam[:, None], lam[None, :])
    gap = _torch.abs(lam[:, None] - lam[None, :])
    apart = _torch.where(gap > 0, gap, _torch.ones_like(gap))
    if function == "exp":
        values = _torch.exp(low) * _torch.where(gap > 0, _torch.expm1(gap) / apart, 1.0)
    else:
        values = _torch.where(gap > 0, _torch.log1p(gap / low) / apart, 1.0 / low)
    tolerance = 64 * x.shape[0] * _torch.finfo(lam.dtype).eps * _torch.max(_torch.abs(x))
    symmetric = _torch.max(_torch.abs(x - x.T)) <= tolerance
    return _torch.where(symmetric, values, _torch.full_like(values, float("nan")))


def _eigvalsh(x):
    return _torch.linalg.eigvalsh((x + x.T) / 2).reshape(-1, 1)


def _eigvecsh(x):
    vectors = _torch.linalg.eigh((x + x.T) / 2)[1]
    rows = _torch.argmax(_torch.abs(vectors), dim=0)
    signs = _torch.sign(vectors[rows, _torch.arange(vectors.shape[1], device=vectors.device)])
    return vectors * _torch.where(signs == 0, _torch.ones_like(signs), signs)


def _eiggap(x):
    lam = x.reshape(-1, 1)
    gaps = lam.T - lam
    eye = _torch.eye(gaps.shape[0], dtype=_torch.bool, device=x.device)
    return _torch.where(eye, _torch.zeros_like(gaps),
                        1.0 / _torch.where(eye, _torch.ones_like(gaps), gaps))


def _expm(x):
    return _torch.linalg.matrix_exp(x)


def _expm_frechet(a, e):
    # the upper right block of expm([[A, E], [0, A]]) (Higham 2008, thm. 3.6)
    n = a.shape[0]
    block = _torch.cat((_torch.cat((a, e), 1), _torch.cat((_torch.zeros_like(a), a), 1)), 0)
    return _torch.linalg.matrix_exp(block)[:n, n:]


def _eig(x):
    w, v = _torch.linalg.eig(x)
    return w, v, _torch.linalg.inv(v)


def _logm(x):
    w, v, vinv = _eig(x)
    return ((v * _torch.log(w)) @ vinv).real


def _sqrtm(x):
    w, v, vinv = _eig(x)
    return ((v * _torch.sqrt(w)) @ vinv).real


def _logm_frechet(a, e):
    w, v, vinv = _eig(a)
    gaps = w[:, None] - w[None, :]
    close = _torch.abs(gaps) <= 1e-8 * _torch.max(_torch.abs(w))
    logs = _torch.log(w)
    quotient = (logs[:, None] - logs[None, :]) / _torch.where(close, _torch.ones_like(gaps), gaps)
    differences = _torch.where(close, 2.0 / (w[:, None] + w[None, :]), quotient)
    return (v @ (differences * (vinv @ e.to(v.dtype) @ v)) @ vinv).real


def _sylvester(s, e):
    w, v, vinv = _eig(s)
    return (v @ ((vinv @ e.to(v.dtype) @ v) / (w[:, None] + w[None, :])) @ vinv).real


def _plus_diagonal(m, v):
    return m + _torch.diag(_torch.as_tensor(v).reshape(-1))


def _norm_spec(x):
    return _torch.linalg.matrix_norm(x, 2)


def _norm_nuc(x):
    return _torch.linalg.matrix_norm(x, "nuc")


def _top_singular_pair(x):
    u, s, vh = _torch.linalg.svd(x, full_matrices=False)
    u1 = u[:, :1]
    u1 = u1 * _torch.sign(u1[_torch.argmax(_torch.abs(u1)), 0])
    return u1, x.T @ u1 / s[0]


def _svd_u1(x):
    return _top_singular_pair(x)[0]


def _svd_v1(x):
    return _top_singular_pair(x)[1]


def _polar(x):
    u, _, vh = _torch.linalg.svd(x, full_matrices=False)
    return u @ vh


def _svdvals(x):
    return _torch.linalg.svdvals(x).reshape(-1, 1)


def _singular_vectors(x):
    u, _, vh = _torch.linalg.svd(x, full_matrices=False)
    rows = _torch.argmax(_torch.abs(u), dim=0)
    picked = u[rows, _torch.arange(u.shape[1], device=u.device)]
    signs = _torch.where(picked >= 0, 1.0, -1.0).to(u.dtype)
    return u * signs, vh.T * signs


def _svd_u(x):
    return _singular_vectors(x)[0]


def _svd_v(x):
    return _singular_vectors(x)[1]


def _onehot(y, k, grid, dtype):
    if grid:  # a B x T grid of labels: B x T x k
        return (y.unsqueeze(-1) == _torch.arange(k, device=y.device)).to(dtype)
    return (y.reshape(-1, 1) == _torch.arange(k, device=y.device)).to(dtype)


def _pick(p, y):
    if p.dim() > 2:  # a B x T x k tensor and a B x T grid of labels
        return _torch.take_along_dim(p, y.unsqueeze(-1).long(), dim=-1)[..., 0]
    return _torch.take_along_dim(p, y.reshape(-1, 1).long(), dim=1)


def _log_softmax(x, axis):
    return _torch.log_softmax(x, dim=axis)


def _isextreme(x, axis, lowest):
    # 1 at the arg-max (arg-min if lowest) as torch.argmax takes it (the first at ties), else 0
    pick = _torch.argmin if lowest else _torch.argmax
    if axis is None:
        positions = _torch.arange(x.numel(), device=x.device).reshape(x.shape)
        return (positions == pick(x)).to(x.dtype)
    positions = _torch.arange(x.shape[axis], device=x.device)
    positions = positions.reshape((-1,) + (1,) * (x.dim() - 1 - axis))
    return (positions == pick(x, dim=axis).unsqueeze(axis)).to(x.dtype)


def _einsum(spec, *operands):
    """torch.einsum over matcalc's layout: a vector operand (n x 1 or 1 x n) is read as its n
    entries, a result with one letter is a column."""
    inputs, output = spec.split("->")
    groups = _einsum_groups(output)  # letters in parentheses: one axis (C order)
    arrays = [a.reshape(-1) if len(term) == 1 else a
              for a, term in zip(operands, inputs.split(","), strict=True)]
    value = _torch.einsum(f"{inputs}->{''.join(groups)}", *arrays)
    if len(groups) != value.dim():
        sizes = {}
        for array, term in zip(arrays, inputs.split(","), strict=True):
            sizes.update(zip(term, array.shape, strict=True))
        value = value.reshape(_grouped_shape(groups, sizes))
    return value.reshape(-1, 1) if len(groups) == 1 else value

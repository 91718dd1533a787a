"""The NumPy calls of generated code over PyTorch, and the helpers it calls.

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
PyTorch module, whose code then calls ``np.*`` as the NumPy code does, computed by torch.
"""

import math

import torch


# ---- copied into every generated module from here on ----
def _lift(function):
    def lifted(*args, **keywords):
        # a Python number becomes a float64 0-d tensor, which does not widen float32 arrays
        return function(*(torch.as_tensor(a, dtype=torch.float64)
                          if isinstance(a, (int, float)) else a for a in args), **keywords)
    return lifted


def _tensors(a, b):
    """Both as tensors of one dtype (a Python number takes the other's)."""
    like = b if isinstance(b, torch.Tensor) else a
    dtype = like.dtype if isinstance(like, torch.Tensor) else torch.float64
    return torch.as_tensor(a, dtype=dtype), torch.as_tensor(b, dtype=dtype)


class _Linalg:
    det = staticmethod(torch.linalg.det)
    inv = staticmethod(torch.linalg.inv)
    solve = staticmethod(torch.linalg.solve)
    slogdet = staticmethod(torch.linalg.slogdet)
    matrix_power = staticmethod(torch.linalg.matrix_power)
    multi_dot = staticmethod(torch.linalg.multi_dot)
    norm = staticmethod(torch.linalg.norm)


class np:  # noqa: N801 - the NumPy calls of the generated code, over torch
    float32 = torch.float32
    nan = float("nan")
    linalg = _Linalg
    exp, log, sin, cos = (_lift(f) for f in (torch.exp, torch.log, torch.sin, torch.cos))
    tanh, sign, sqrt, abs = (_lift(f) for f in (torch.tanh, torch.sign, torch.sqrt, torch.abs))
    sum, mean, trace, kron = (_lift(f) for f in (torch.sum, torch.mean, torch.trace, torch.kron))
    asarray = staticmethod(torch.as_tensor)

    tan, log1p, expm1 = (staticmethod(_lift(f)) for f in (torch.tan, torch.log1p, torch.expm1))

    @staticmethod
    def logaddexp(a, b):
        return torch.logaddexp(torch.as_tensor(a, dtype=b.dtype), b)

    @staticmethod
    def maximum(a, b):
        return torch.maximum(*_tensors(a, b))

    @staticmethod
    def minimum(a, b):
        return torch.minimum(*_tensors(a, b))

    @staticmethod
    def vdot(a, b):
        return torch.sum(a * b)

    @staticmethod
    def power(a, b):
        return torch.pow(torch.as_tensor(a, dtype=torch.float64)
                         if isinstance(a, (int, float)) else a, b)

    @staticmethod
    def diagflat(v):
        return torch.diag(v.reshape(-1))

    @staticmethod
    def eye(n, dtype=None):
        return torch.eye(n, dtype=dtype)

    @staticmethod
    def ones(shape, dtype=None):
        return torch.ones(shape, dtype=dtype)

    @staticmethod
    def zeros(shape, dtype=None):
        return torch.zeros(shape, dtype=dtype)

    @staticmethod
    def reshape(x, shape):
        x = x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64)
        return torch.reshape(x, (shape,) if isinstance(shape, int) else shape)

    @staticmethod
    def ndim(x):
        return x.ndim if isinstance(x, torch.Tensor) else 0

    @staticmethod
    def concatenate(parts, axis=0):
        return torch.cat(tuple(parts), dim=axis)

    @staticmethod
    def result_type(*values):
        dtype = torch.float32
        for value in values:
            dtype = torch.promote_types(dtype, value if isinstance(value, torch.dtype)
                                        else value.dtype)
        return dtype


def _sigmoid(x):
    return torch.sigmoid(x)


def _softmax(x, axis):
    return torch.softmax(x, dim=axis)


def _logsumexp(x, axis, keep):
    value = torch.logsumexp(x, dim=axis, keepdim=True)
    return value if keep else value.reshape(())


def _softplus(x):
    return torch.nn.functional.softplus(x)


def _erf(x):
    return torch.erf(x)


def _erfc(x):
    return torch.special.erfc(x)


def _gelu(x):
    # x erfc(-x / sqrt 2) / 2, as the NumPy helper: no cancellation for x < 0
    return 0.5 * x * torch.special.erfc(-x / math.sqrt(2.0))


def _gelu_tanh(x):
    return x * torch.sigmoid(2.0 * math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x))


def _sech2(x):
    e = torch.exp(-2.0 * torch.abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _relu(x):
    return torch.clamp(x, min=0)


def _step(x):
    return torch.gt(x, 0).to(x.dtype if x.is_floating_point() else torch.float32)


def _logdet(x):
    sign, value = torch.linalg.slogdet(x)
    return torch.where(sign > 0, value, torch.full_like(value, float("nan")))


def _vec(x):
    return x.T.reshape(-1, 1)


def _unvec(x, rows, cols):
    return x.reshape(cols, rows).T


def _diagonal(x):
    return torch.diagonal(x).reshape(-1, 1)


def _number(x):
    return x.reshape(())


def _commutation(m, n, dtype):
    rows = torch.arange(m * n)
    return (torch.arange(m * n)[None, :] == ((rows % n) * m + rows // n)[:, None]).to(dtype)


def _column(x, name):
    x = torch.as_tensor(x)
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2 and x.shape[1] == 1:
        return x
    raise ValueError(f"{name} must be a vector (a 1-D tensor), not of shape {tuple(x.shape)}")


def _matrix(x, name):
    x = torch.as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a matrix (a 2-D tensor), not of shape "
                         f"{tuple(x.shape)}")
    return x


def _returned_number(x):
    return float(x)


def _scalar(x, name):
    x = torch.as_tensor(x)
    if x.numel() != 1:
        raise ValueError(f"{name} must be a number, not of shape {tuple(x.shape)}")
    return x.reshape(())


def _lgamma(x):
    return torch.lgamma(torch.as_tensor(x))


def _digamma(x):
    return torch.digamma(torch.as_tensor(x))


def _trigamma(x):
    return torch.polygamma(1, torch.as_tensor(x))


def _solve_triangular(a, b, lower):
    return torch.linalg.solve_triangular(a, b, upper=not lower)


# functions of a matrix (the NumPy helpers' meaning: chol and the eigenproblem of the symmetric
# part; eigenvectors with their largest entry positive)
def _chol(x):
    return torch.linalg.cholesky((x + x.T) / 2)


def _sym(x):
    return 0.5 * (x + x.T)


def _phi(x):
    return torch.tril(x) - 0.5 * torch.diag(torch.diag(x))


def _eigvalsh(x):
    return torch.linalg.eigvalsh((x + x.T) / 2).reshape(-1, 1)


def _eigvecsh(x):
    vectors = torch.linalg.eigh((x + x.T) / 2)[1]
    rows = torch.argmax(torch.abs(vectors), dim=0)
    signs = torch.sign(vectors[rows, torch.arange(vectors.shape[1])])
    return vectors * torch.where(signs == 0, torch.ones_like(signs), signs)


def _eiggap(x):
    lam = x.reshape(-1, 1)
    gaps = lam.T - lam
    eye = torch.eye(gaps.shape[0], dtype=torch.bool)
    return torch.where(eye, torch.zeros_like(gaps), 1.0 / torch.where(eye, torch.ones_like(gaps),
                                                                        gaps))


def _expm(x):
    return torch.linalg.matrix_exp(x)


def _expm_frechet(a, e):
    # the upper right block of expm([[A, E], [0, A]]) (Higham 2008, thm. 3.6)
    n = a.shape[0]
    block = torch.cat((torch.cat((a, e), 1), torch.cat((torch.zeros_like(a), a), 1)), 0)
    return torch.linalg.matrix_exp(block)[:n, n:]


def _eig(x):
    w, v = torch.linalg.eig(x)
    return w, v, torch.linalg.inv(v)


def _logm(x):
    w, v, vinv = _eig(x)
    return ((v * torch.log(w)) @ vinv).real


def _sqrtm(x):
    w, v, vinv = _eig(x)
    return ((v * torch.sqrt(w)) @ vinv).real


def _logm_frechet(a, e):
    w, v, vinv = _eig(a)
    gaps = w[:, None] - w[None, :]
    close = torch.abs(gaps) <= 1e-8 * torch.max(torch.abs(w))
    logs = torch.log(w)
    quotient = (logs[:, None] - logs[None, :]) / torch.where(close, torch.ones_like(gaps), gaps)
    differences = torch.where(close, 2.0 / (w[:, None] + w[None, :]), quotient)
    return (v @ (differences * (vinv @ e.to(v.dtype) @ v)) @ vinv).real


def _sylvester(s, e):
    w, v, vinv = _eig(s)
    return (v @ ((vinv @ e.to(v.dtype) @ v) / (w[:, None] + w[None, :])) @ vinv).real


def _logdet_spd(x):
    try:
        return 2.0 * torch.sum(torch.log(torch.diagonal(torch.linalg.cholesky(x))))
    except RuntimeError:  # not positive definite (torch.linalg.LinAlgError)
        return _logdet(x)


def _inv_triangular(a, lower):
    return torch.linalg.solve_triangular(a, torch.eye(a.shape[0], dtype=a.dtype),
                                         upper=not lower)


def _triangular_product(t, m, lower, left):
    return t @ m if left else m @ t


def _triangular_congruence(s, m, lower):
    return s.T @ m @ s


def _plus_diagonal(m, v):
    return m + torch.diag(torch.as_tensor(v).reshape(-1))


def _norm_spec(x):
    return torch.linalg.matrix_norm(x, 2)


def _norm_nuc(x):
    return torch.linalg.matrix_norm(x, "nuc")


def _top_singular_pair(x):
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    u1 = u[:, :1]
    u1 = u1 * torch.sign(u1[torch.argmax(torch.abs(u1)), 0])
    return u1, x.T @ u1 / s[0]


def _svd_u1(x):
    return _top_singular_pair(x)[0]


def _svd_v1(x):
    return _top_singular_pair(x)[1]


def _polar(x):
    u, _, vh = torch.linalg.svd(x, full_matrices=False)
    return u @ vh

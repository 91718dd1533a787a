"""The helpers generated NumPy code calls (JAX's too: jax.numpy takes NumPy's place).

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
module, so the code runs with NumPy alone; here it is a module like any other, linted and tested.
"""

import math as _math

import numpy as _np

from ...core.indices import _commutation_columns


# ---- copied into every generated module from here on ----
def _sigmoid(x):
    # 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below: no overflow, no cancellation
    e = _np.exp(-_np.abs(x))
    return _np.where(_np.greater_equal(x, 0), 1.0 / (1.0 + e), e / (1.0 + e))


def _logsumexp(x, axis, keep):
    top = _np.max(x, axis=axis, keepdims=True)
    value = top + _np.log(_np.sum(_np.exp(x - top), axis=axis, keepdims=True))
    if keep:
        return value
    return _np.squeeze(value, axis) if _np.ndim(x) > 2 else value.reshape(())[()]


def _batch_gram(a, m):
    return a.reshape(-1, a.shape[-1]).T @ m.reshape(-1, m.shape[-1])


def _swap_last(x):
    return _np.swapaxes(x, -1, -2)


def _expand(g, axis, n):
    shape = _np.shape(g)
    return _np.broadcast_to(_np.expand_dims(g, axis), shape[:axis] + (n,) + shape[axis:])


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
    return _np.eye(m * n, dtype=dtype)[_np.asarray(_commutation_columns(m, n))]  # JAX: an array


def _column(x, name):
    x = _np.asarray(x)
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2 and x.shape[1] == 1:
        return x
    raise ValueError(f"{name} must be a vector (a 1-D array), not an array of shape {x.shape}")


def _tensor(x, name, axes):
    x = _np.asarray(x)
    if x.ndim != axes:
        raise ValueError(f"{name} must be a tensor of {axes} axes, not an array of shape "
                         f"{x.shape}")
    return x


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


def _lgamma(x):
    # SciPy, imported on first use: the log-gamma function and its derivatives
    from scipy import special

    return special.gammaln(x)


def _digamma(x):
    from scipy import special

    return special.psi(x)


def _trigamma(x):
    from scipy import special

    return special.polygamma(1, x)


def _solve_triangular(a, b, lower):
    # a triangular solve, O(n^2) a column (SciPy, imported on first use)
    from scipy import linalg

    return linalg.solve_triangular(a, b, lower=lower, check_finite=False)


# -- functions of a matrix (docs/language.md "Matrix functions"); SciPy is imported on first use.
# chol, eigvalsh and eigvecsh act on the symmetric part (S + S') / 2, so that their derivatives
# are the symmetric ones (the gradient of f(chol((S + S') / 2))).


def _cholesky(x):
    # the lower Cholesky factor, None where x is not positive definite; one matrix through
    # LAPACK's potrf (SciPy), several times faster than np.linalg.cholesky in float32
    if _np.ndim(x) == 2 and _np.size(x) and _np.asarray(x).dtype.kind == "f":
        from scipy import linalg

        potrf = linalg.get_lapack_funcs("potrf", (x,))
        factor, info = potrf(x, lower=1, clean=1)
        return factor if info == 0 else None
    try:
        return _np.linalg.cholesky(x)
    except _np.linalg.LinAlgError:
        return None


def _chol(x):
    factor = _cholesky(_sym(x))
    if factor is None:  # not positive definite: outside the domain
        return _np.full(_np.shape(x), _np.nan)
    return factor


def _sym(x):
    # the symmetric part (X + X') / 2
    return 0.5 * (x + x.T)


def _phi(x):
    # Phi(A): the lower triangle of A with its diagonal halved (Murray 2016, sec. 2)
    return _np.tril(x) - 0.5 * _np.diag(_np.diag(x))


def _eigh(x):
    # eigenvalues ascending; each eigenvector's entry of largest magnitude positive
    values, vectors = _np.linalg.eigh(_sym(x))
    rows = _np.argmax(_np.abs(vectors), axis=0)
    signs = _np.sign(vectors[rows, _np.arange(vectors.shape[1])])
    return values, vectors * _np.where(signs == 0, 1.0, signs)


def _eigvalsh(x):
    return _np.linalg.eigvalsh(_sym(x)).reshape(-1, 1)


def _eigvecsh(x):
    return _eigh(x)[1]


def _divdiff(x, function):
    # F[i, j] = (f(a) - f(b)) / (a - b) for the eigenvalues a = l[i], b = l[j] of a symmetric x,
    # f'(a) where they meet (ops/divided.py): with b = min(a, b), exp: e^b expm1(d) / d and log:
    # log1p(d / b) / d, d = |a - b|, keep their digits as the gap closes; NaN off symmetric x
    if _np.ndim(x) == 0:
        return _np.exp(x) if function == "exp" else 1.0 / x
    lam = _np.linalg.eigvalsh(_sym(x))
    low = _np.minimum(lam[:, None], lam[None, :])
    gap = _np.abs(lam[:, None] - lam[None, :])
    apart = _np.where(gap > 0, gap, 1.0)
    if function == "exp":
        values = _np.exp(low) * _np.where(gap > 0, _np.expm1(gap) / apart, 1.0)
    else:
        values = _np.where(gap > 0, _np.log1p(gap / low) / apart, 1.0 / low)
    tolerance = 64 * x.shape[0] * _np.finfo(lam.dtype).eps * _np.max(_np.abs(x))
    return _np.where(_np.max(_np.abs(x - x.T)) <= tolerance, values, _np.nan)


def _eiggap(x):
    # F[i, j] = 1 / (lam[j] - lam[i]) off the diagonal, 0 on it (Magnus & Neudecker, ch. 8)
    lam = _np.reshape(x, (-1, 1))
    gaps = lam.T - lam
    n = gaps.shape[0]
    eye = _np.eye(n, dtype=bool)
    with _np.errstate(divide="ignore"):
        return _np.where(eye, 0.0, 1.0 / _np.where(eye, 1.0, gaps))


def _expm(x):
    from scipy import linalg

    return linalg.expm(x)


def _expm_frechet(a, e):
    # L_exp(A, E), the Frechet derivative of expm at A in the direction E (Al-Mohy & Higham 2009)
    from scipy import linalg

    return linalg.expm_frechet(a, e, compute_expm=False)


def _real_or_nan(x):
    # a real matrix function's value: NaN where the principal branch is complex (outside the
    # domain: an eigenvalue on the closed negative real axis)
    if _np.iscomplexobj(x):
        if _np.max(_np.abs(x.imag), initial=0.0) > 1e-8 * max(1.0, _np.max(_np.abs(x.real))):
            return _np.full(x.shape, _np.nan)
        return x.real
    return x


def _eigen(x):
    # x = v @ diag(w) @ inv(v), or None when v is too ill-conditioned to compute through
    # (then SciPy's Schur-based algorithms do it)
    w, v = _np.linalg.eig(x)
    if _np.linalg.cond(v) > 1e6:
        return None
    return w, v, _np.linalg.inv(v)


def _on_branch_cut(w):
    # an eigenvalue on the closed negative real axis: log and sqrt have no real principal value
    return _np.any((w.real <= 0) & (_np.abs(w.imag) <= 1e-12 * _np.max(_np.abs(w), initial=1.0)))


def _spectral(x, f, fallback):
    # f(x) = v @ diag(f(w)) @ inv(v) for a diagonalisable x (Higham 2008, sec. 4.5)
    eigen = _eigen(x)
    if eigen is None:
        from scipy import linalg

        return _real_or_nan(getattr(linalg, fallback)(x))
    w, v, vinv = eigen
    if _on_branch_cut(w):
        return _np.full(x.shape, _np.nan)
    return _real_or_nan((v * f(w)) @ vinv)


def _divided_differences(w, f, df):
    # F[i, j] = (f(w_i) - f(w_j)) / (w_i - w_j), f'(w_i) where w_i = w_j
    gaps = w[:, None] - w[None, :]
    close = _np.abs(gaps) <= 1e-8 * _np.max(_np.abs(w), initial=1.0)
    fw = f(w)
    with _np.errstate(divide="ignore", invalid="ignore"):
        quotient = (fw[:, None] - fw[None, :]) / _np.where(close, 1.0, gaps)
    return _np.where(close, df((w[:, None] + w[None, :]) / 2), quotient)


def _spectral_frechet(f, df, fallback, a, e):
    # L_f(A, E) = V (F * (inv(V) E V)) inv(V), F the divided differences of f at the
    # eigenvalues (Daleckii-Krein; Higham 2008, thm. 3.11); else the block form
    eigen = _eigen(a)
    if eigen is None:
        return _block_frechet(fallback, a, e)
    w, v, vinv = eigen
    if _on_branch_cut(w):
        return _np.full(a.shape, _np.nan)
    return _real_or_nan(v @ (_divided_differences(w, f, df) * (vinv @ e @ v)) @ vinv)


def _block_frechet(f, a, e):
    # f([[A, E], [0, A]]) = [[f(A), L_f(A, E)], [0, f(A)]] (Higham 2008, thm. 3.6): the upper
    # right block is the Frechet derivative
    n = a.shape[0]
    block = _np.block([[a, e], [_np.zeros_like(a), a]])
    return f(block)[:n, n:]


def _scipy_logm(x):
    from scipy import linalg

    return _real_or_nan(linalg.logm(x))


def _logm(x):
    return _spectral(x, _np.log, "logm")


def _sqrtm(x):
    return _spectral(x, _np.sqrt, "sqrtm")


def _logm_frechet(a, e):
    return _spectral_frechet(_np.log, _np.reciprocal, _scipy_logm, a, e)


def _sylvester(s, e):
    # the X with S @ X + X @ S = E: X = V ((inv(V) E V) / (w_i + w_j)) inv(V) for S = V diag(w)
    # inv(V), else Bartels-Stewart (SciPy)
    eigen = _eigen(s)
    if eigen is None:
        from scipy import linalg

        return linalg.solve_sylvester(s, s, e)
    w, v, vinv = eigen
    return _real_or_nan(v @ ((vinv @ e @ v) / (w[:, None] + w[None, :])) @ vinv)


def _plus_diagonal(m, v):
    # M + Diag(v) without forming Diag(v)
    out = _np.array(m, dtype=_np.result_type(m, v), copy=True)
    index = _np.arange(out.shape[0])
    out[index, index] += _np.ravel(v)
    return out


# -- norms from the SVD (matcalc/ops/svd.py): u1 with its largest entry positive, v1 = X' u1 / s1
def _norm_spec(x):
    return _np.linalg.norm(x, 2)


def _norm_nuc(x):
    return _np.linalg.norm(x, "nuc")


def _top_singular_pair(x):
    u, s, vt = _np.linalg.svd(x, full_matrices=False)
    u1 = u[:, :1]
    u1 = u1 * (1.0 if u1[_np.argmax(_np.abs(u1)), 0] >= 0 else -1.0)
    return u1, x.T @ u1 / s[0]


def _svd_u1(x):
    return _top_singular_pair(x)[0]


def _svd_v1(x):
    return _top_singular_pair(x)[1]


def _polar(x):
    u, _, vt = _np.linalg.svd(x, full_matrices=False)
    return u @ vt


def _svdvals(x):
    return _np.linalg.svd(x, compute_uv=False).reshape(-1, 1)


def _singular_vectors(x):
    # the thin U and V; each column of U with its entry of largest magnitude positive, the
    # matching column of V flipped with it, so u_i v_i' is unchanged
    u, _, vt = _np.linalg.svd(x, full_matrices=False)
    rows = _np.argmax(_np.abs(u), axis=0)
    signs = _np.where(u[rows, _np.arange(u.shape[1])] >= 0, 1.0, -1.0)
    return u * signs, vt.T * signs


def _svd_u(x):
    return _singular_vectors(x)[0]


def _svd_v(x):
    return _singular_vectors(x)[1]


def _onehot(y, k, grid, dtype):
    if grid:  # a B x T grid of labels: B x T x k
        return (_np.expand_dims(y, -1) == _np.arange(k)).astype(dtype)
    return (_np.reshape(y, (-1, 1)) == _np.arange(k)).astype(dtype)


def _pick(p, y):
    if _np.ndim(p) > 2:  # a B x T x k tensor and a B x T grid of labels
        return _np.take_along_axis(p, _np.expand_dims(y, -1).astype(int), axis=-1)[..., 0]
    return _np.take_along_axis(p, _np.reshape(y, (-1, 1)).astype(int), axis=1)


def _log_softmax(x, axis):
    shifted = x - _np.max(x, axis=axis, keepdims=True)
    return shifted - _np.log(_np.sum(_np.exp(shifted), axis=axis, keepdims=True))


def _isextreme(x, axis, lowest):
    # 1 at the arg-max (arg-min if lowest) as np.argmax takes it (the first at ties), else 0
    index = (_np.argmin if lowest else _np.argmax)(x, axis=axis)
    if axis is None:
        return (_np.arange(_np.size(x)).reshape(_np.shape(x)) == index).astype(x.dtype)
    positions = _np.arange(_np.shape(x)[axis]).reshape((-1,) + (1,) * (_np.ndim(x) - 1 - axis))
    return (positions == _np.expand_dims(index, axis)).astype(x.dtype)


def _with_block(out, index, value):
    """out with out[index] = value (in place; JAX's helper makes a new array)."""
    out[index] = value
    return out

"""The helpers of generated JAX code that differ from the NumPy ones.

:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
JAX module after the NumPy helpers, so these definitions replace theirs: NumPy has no erf, and
the NumPy helpers compute it with ``math.erf`` entry by entry, which JAX cannot trace; a scalar
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
    lam = _np.reshape(x, (-1, 1))
    gaps = lam.T - lam
    eye = _np.eye(gaps.shape[0], dtype=bool)
    return _np.where(eye, 0.0, 1.0 / _np.where(eye, 1.0, gaps))


def _spectral(x, f, fallback=None):
    w, v = _np.linalg.eig(x)
    return _np.real((v * f(w)) @ _np.linalg.inv(v))


def _spectral_frechet(f, df, fallback, a, e):
    w, v = _np.linalg.eig(a)
    vinv = _np.linalg.inv(v)
    gaps = w[:, None] - w[None, :]
    close = _np.abs(gaps) <= 1e-8 * _np.max(_np.abs(w))
    fw = f(w)
    quotient = (fw[:, None] - fw[None, :]) / _np.where(close, 1.0, gaps)
    differences = _np.where(close, df((w[:, None] + w[None, :]) / 2), quotient)
    return _np.real(v @ (differences * (vinv @ e @ v)) @ vinv)


def _sylvester(s, e):
    w, v = _np.linalg.eig(s)
    vinv = _np.linalg.inv(v)
    return _np.real(v @ ((vinv @ e @ v) / (w[:, None] + w[None, :])) @ vinv)


def _cholesky(x):
    return _np.linalg.cholesky(x)  # NaN where x is not positive definite


def _logdet_spd(x):
    # NaN where x is not positive definite (jnp.linalg.cholesky does not raise)
    return 2.0 * _np.sum(_np.log(_np.diagonal(_np.linalg.cholesky(x))))


def _inv_spd(x):
    # NaN where x is not positive definite (jnp.linalg.cholesky does not raise)
    return _inv_cholesky(_np.linalg.cholesky(x))


def _solve_spd(a, b):
    import jax.scipy.linalg

    return jax.scipy.linalg.cho_solve((_np.linalg.cholesky(a), True), b)


def _inv_cholesky(factor):
    import jax.scipy.linalg

    identity = _np.eye(factor.shape[0], dtype=factor.dtype)
    return jax.scipy.linalg.cho_solve((factor, True), identity)


def _inv_triangular(a, lower):
    return _solve_triangular(a, _np.eye(a.shape[0], dtype=a.dtype), lower)


def _triangular_product(t, m, lower, left):
    return t @ m if left else m @ t


def _triangular_congruence(s, m, lower):
    return s.T @ m @ s


def _solved_congruence(t, m, lower):
    import jax.scipy.linalg

    y = jax.scipy.linalg.solve_triangular(t, m, lower=lower, trans=1)
    return jax.scipy.linalg.solve_triangular(t, y.T, lower=lower, trans=1).T


def _plus_diagonal(m, v):
    index = _np.arange(m.shape[0])
    return m.at[index, index].add(_np.ravel(v))


def _top_singular_pair(x):
    u, s, vt = _np.linalg.svd(x, full_matrices=False)
    u1 = u[:, :1]
    u1 = u1 * _np.where(u1[_np.argmax(_np.abs(u1)), 0] >= 0, 1.0, -1.0)
    return u1, x.T @ u1 / s[0]


import jax as _jax  # noqa: E402, F401 - custom_vjp in the generated module


def _primal_values(*primals):
    """The arrays of a custom_vjp forward pass's primals (symbolic_zeros wraps them)."""
    return tuple(getattr(p, "value", p) for p in primals)


def _refuse_differentiating(primals, positions, names, differentiated):
    """The backward pass has no gradient for the variables at positions: differentiating
    through one of them is an error, never a zero."""
    for position, name in zip(positions, names, strict=True):
        if getattr(primals[position], "perturbed", False):
            raise ValueError(f"{name} is differentiated, but this function was derived with "
                             f"respect to {', '.join(differentiated)} only; derive it with "
                             f"respect to {name} too")


def _logdet(x):
    sign, value = _np.linalg.slogdet(x)
    return _np.where(sign > 0, value, _np.nan)


def _matrix_power_k(a, k):
    """a ^ k for an integer-valued scalar k, also where k is traced (under jax.jit): then by a
    loop of products, as matrix_power needs a Python int."""
    try:
        return _np.linalg.matrix_power(a, int(round(float(k))))
    except _jax.errors.ConcretizationTypeError:
        k = _np.round(k).astype(int)
        base = _np.where(k < 0, _np.linalg.inv(a), a)
        return _jax.lax.fori_loop(0, _np.abs(k), lambda _, p: p @ base,
                                  _np.eye(a.shape[0], dtype=a.dtype))


def _with_block(out, index, value):
    return out.at[index].set(value)


def _softmax(x, axis, scale=1.0):  # the NumPy helper writes in place, JAX arrays cannot
    scaled = x * scale
    shifted = _np.exp(scaled - _np.max(scaled, axis=axis, keepdims=True))
    return shifted / _np.sum(shifted, axis=axis, keepdims=True)


def _softmax_pullback(p, d, axis, scale=1.0):  # the NumPy helper multiplies in place
    weighted = p * d
    return (weighted - p * _np.sum(weighted, axis=axis, keepdims=True)) * scale


def _seeded_product(g, a, b):
    """g * (a @ b), g applied to the smallest of a, b and a @ b (a backward pass's seed)."""
    sizes = (a.size, b.size, a.shape[0] * b.shape[-1])
    if sizes[0] == min(sizes):
        return (g * a) @ b
    if sizes[1] == min(sizes):
        return a @ (g * b)
    return g * (a @ b)


def _multi_dot(arrays):
    """The product of matrices in the order of fewest multiplications (the shapes are known
    when JAX traces), by @: the dots XLA runs fastest (Cormen et al., Introduction to
    Algorithms, sec. 15.2, matrix-chain order)."""
    if any(_np.ndim(a) != 2 for a in arrays):
        return _np.linalg.multi_dot(arrays)
    sizes = [a.shape[0] for a in arrays] + [arrays[-1].shape[1]]
    count = len(arrays)
    cost = {(i, i): 0 for i in range(count)}
    split = {}
    for length in range(2, count + 1):
        for i in range(count - length + 1):
            j = i + length - 1
            cost[i, j], split[i, j] = min(
                (cost[i, k] + cost[k + 1, j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                for k in range(i, j))

    def product(i, j):
        return arrays[i] if i == j else product(i, split[i, j]) @ product(split[i, j] + 1, j)

    return product(0, count - 1)


def _row_sums(x):  # XLA fuses a sum with what feeds it; a product with ones it does not
    return _np.sum(x, axis=1, keepdims=True)


def _column_sums(x):
    return _np.sum(x, axis=0, keepdims=True)


def _row_dots(a, b):
    return _np.sum(a * b, axis=1, keepdims=True)


def _column_dots(a, b):
    return _np.sum(a * b, axis=0, keepdims=True)

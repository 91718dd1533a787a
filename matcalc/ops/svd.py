"""The singular values of a matrix and the norms made of them, from the singular value
decomposition X = U Diag(s) V' (thin, s descending): ``svdvals(X)`` = s, the spectral norm s[0]
and the nuclear (trace) norm sum(s), with the factors their gradients are written with.

- ``d svdvals(X) = diag(svd_u(X)' @ dX @ svd_v(X))`` for distinct non-zero singular values,
  ``svd_u(X)`` = U and ``svd_v(X)`` = V the thin factors: the gradient of f(svdvals(X)) is
  ``U @ Diag(g) @ V'``.  The length of s is min(m, n), which the shapes must decide
  (:func:`matcalc.core.shape_rules.smaller_side`);
- ``d norm_spec(X) = u1' @ dX @ v1`` for a simple largest singular value, u1 = ``svd_u1(X)``,
  v1 = ``svd_v1(X)``: the gradient is ``u1 @ v1'``;
- ``d norm_nuc(X) = polar(X) : dX`` for X of full rank, ``polar(X) = U @ V'`` (the orthogonal
  factor of the polar decomposition): the gradient is ``U @ V'``.

Sign convention: each left singular vector (u1, each column of U) has its entry of largest
magnitude positive and its right one flips with it (v1 = X' u1 / s[0]), so u @ v' does not
depend on it.  The factors' own derivatives (second derivatives of svdvals and the norms) are
not offered.  Sources: T. Papadopoulo & M. I. A. Lourakis, *Estimating the Jacobian of the
singular value decomposition* (ECCV 2000); G. A. Watson, *Characterization of the
subdifferential of some matrix norms* (1992).

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core.algebra import call, frob, matmul, transpose
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import singular_shape
from ..errors import UnsupportedError
from .operation import define


def d_spectral_norm(node, out, ds):
    """d norm_spec(X) = svd_u1(X)' @ dX @ svd_v1(X) (Papadopoulo & Lourakis 2000), for a simple
    largest singular value."""
    x = node.args[0]
    if x.is_scalar:
        return matmul(call("sign", x), ds[0])
    return matmul(matmul(transpose(call("svd_u1", x)), ds[0]), call("svd_v1", x))


def d_nuclear_norm(node, out, ds):
    """d norm_nuc(X) = polar(X) : dX, polar(X) = U @ V' (Watson 1992), for X of full rank."""
    x = node.args[0]
    if x.is_scalar:
        return matmul(call("sign", x), ds[0])
    return frob(call("polar", x), ds[0])


def d_singular_values(node, out, ds):
    """d svdvals(X) = diag(svd_u(X)' @ dX @ svd_v(X)), ds_i = u_i' dX v_i (Papadopoulo &
    Lourakis 2000), for distinct non-zero singular values."""
    x = node.args[0]
    if x.is_scalar:
        return matmul(call("sign", x), ds[0])
    return call("diag", matmul(matmul(transpose(call("svd_u", x)), ds[0]), call("svd_v", x)))


def no_derivative(name: str):
    """A factor whose derivative is not offered."""

    def rule(node, out, ds):
        raise UnsupportedError(f"the derivative of {name}(X) is not supported: second "
                               "derivatives of svdvals, norm_spec and norm_nuc are not offered")

    rule.__doc__ = f"d {name}(X): not offered (d {name}(X) = ... needs all singular vectors)"
    return rule


def _facets(name: str, latex: Latex, scalar: str, scalar_code: str, shape, check: str) -> dict:
    # check: which singular values random points keep apart (not differentiable where they meet)
    return dict(shape=shape, syntax=Syntax(name), latex=latex, check=check,
                code=Code(numpy=f"_{name}({{0}})", torch=f"_{name}({{0}})", helpers=(f"_{name}",),
                          scalar=scalar_code),
                sympy=lambda s, node, *args: s.no_form(node), stable=(), scalar=scalar,
                cost="costly")


def _named(name: str) -> Latex:
    return Latex(command=rf"\operatorname{{{name.replace('_', chr(92) + '_')}}}", reads=(name,))


define("norm_spec", differential=d_spectral_norm,
       **_facets("norm_spec", Latex(template=r"\left\|{0}\right\|_{{2}}"),
                 "norm_spec(a) = abs(a)", "np.abs({0})", singular_shape("norm_spec", "scalar"),
                 "singular gap"))
define("norm_nuc", differential=d_nuclear_norm,
       **_facets("norm_nuc", Latex(template=r"\left\|{0}\right\|_{{*}}"),
                 "norm_nuc(a) = abs(a)", "np.abs({0})", singular_shape("norm_nuc", "scalar"),
                 "singular floor"))
define("svdvals", differential=d_singular_values,
       **_facets("svdvals", _named("svdvals"), "svdvals(a) = abs(a)", "np.abs({0})",
                 singular_shape("svdvals", "values"), "singular values"))
for _name, _side, _scalar, _check in (
        ("svd_u1", "rows", "svd_u1(a) = sign(a)", "singular gap"),
        ("svd_v1", "cols", "svd_v1(a) = 1", "singular gap"),
        ("svd_u", "U", "svd_u(a) = sign(a)", "singular values"),
        ("svd_v", "V", "svd_v(a) = 1", "singular values")):
    define(_name, differential=no_derivative(_name),
           **_facets(_name, _named(_name), _scalar,
                     "np.sign({0})" if _name.startswith("svd_u") else "(0.0 * {0} + 1.0)",
                     singular_shape(_name, _side), _check))
define("polar", differential=no_derivative("polar"),
       **_facets("polar", _named("polar"), "polar(a) = sign(a)", "np.sign({0})",
                 singular_shape("polar", "same"), "singular floor"))

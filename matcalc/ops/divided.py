"""The first divided differences of expm and logm at a symmetric matrix: the matrices their
Jacobians, and so Hessians through them, are written with.

For a symmetric S = V Diag(l) V' and a function f of its eigenvalues, the Fréchet derivative
of f at S in any direction E (symmetric or not) is the Daleckii-Krein form
L_f(S, E) = V (F * (V' E V)) V', F[i, j] = f^[1](l_i, l_j) = (f(l_i) - f(l_j)) / (l_i - l_j),
and f'(l_i) where l_i = l_j (R. Bhatia, *Matrix Analysis*, 1997, thm. V.3.3; N. J. Higham,
*Functions of Matrices*, 2008, thm. 3.11).  In vec form
vec(L_f(S, E)) = kron(V, V) Diag(vec(F)) kron(V, V)' vec(E) (vec(A X B) = kron(B', A) vec(X)):
the Jacobian of f(S), with which the Hessian of tr(f(S)) is the Jacobian of its gradient
f'(S)'.

``expm_divdiff(S)`` and ``logm_divdiff(S)`` are F for exp and log of the eigenvalues of S
(ascending, as ``eigvalsh`` and ``eigvecsh`` order them), computed in forms that keep their
digits as two eigenvalues meet: e^b expm1(a - b) / (a - b) and log1p((a - b) / b) / (a - b)
for b = min(a, b), the derivative at a = b.  They are NaN where S is not symmetric (their
domain: the form holds at symmetric points only), so they never stand for another matrix.
(``sqrtm``'s Jacobian is the Sylvester operator's, which holds at every point.)

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core.algebra import add, call, kron, matmul, mul, neg, transpose, vec
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import matrix_function_shape
from ..errors import UnsupportedError
from .operation import define


def no_third_derivative(name: str):
    """The divided differences' own derivative (a third derivative of the function): not
    offered."""

    def rule(node, out, ds):
        raise UnsupportedError(f"the derivative of {name}(S) is not supported: third "
                               f"derivatives of {name.split('_')[0]} are not offered")

    rule.__doc__ = f"d {name}(S): not offered (second divided differences)"
    return rule


def divided_jacobian(frechet: str):
    """The Jacobian of ``frechet(A, E)`` in E at a symmetric A (Daleckii-Krein); in A (a second
    Fréchet derivative) refused."""
    function = frechet.split("_")[0]

    def rule(node: Node, out: Node, js):
        a, e = node.args
        moved = None
        if js[0] is not None:
            if e.op != "identity":
                raise UnsupportedError(
                    f"Jacobians and Hessians that differentiate {frechet}(A, E) in A are not "
                    f"supported (second Fréchet derivatives of {function}, as in the Hessian "
                    f"of x' @ {function}(S) @ x); those of tr({function}(S)) and gradients are")
            # L_f(A, I) = f'(A): expm's is expm(A), whose Jacobian is this one's; logm's inv(A)
            moved = _jacobian(a, function, js[0]) if function == "expm" else \
                neg(matmul(kron(transpose(call("inv", a)), call("inv", a)), js[0]))
        return add(moved, _jacobian(a, function, js[1]))

    rule.__doc__ = (f"vec(d {frechet}(S, E)) = kron(V, V) Diag(vec({function}_divdiff(S))) "
                    f"kron(V, V)' vec(dE) at a symmetric S, V = eigvecsh(S) (Daleckii-Krein; "
                    f"Bhatia 1997, thm. V.3.3); in S not offered")
    return rule


DIVIDED = frozenset({"expm_divdiff", "logm_divdiff"})

def _jacobian(a: Node, function: str, j):
    """kron(V, V) @ Diag(vec(F)) @ kron(V, V)' @ J, V = eigvecsh(A), F = function_divdiff(A)."""
    if j is None:
        return None
    difference = call(f"{function}_divdiff", a)
    if a.is_scalar:
        return mul(difference, j)
    basis = kron(call("eigvecsh", a), call("eigvecsh", a))
    return matmul(matmul(basis, matmul(call("Diag", vec(difference)), transpose(basis))), j)


for _function, _scalar, _code, _domain in (("expm", "exp(a)", "np.exp({0})", "symmetric"),
                                           ("logm", "1 / a", "(1.0 / {0})", "spd")):
    _name = f"{_function}_divdiff"
    define(_name, differential=no_third_derivative(_name),
           shape=matrix_function_shape(_name), syntax=Syntax(_name),
           latex=Latex(command=rf"\operatorname{{{_name.replace('_', chr(92) + '_')}}}",
                       reads=(_name,)),
           code=Code(numpy=f"_divdiff({{0}}, '{_function[:3]}')",
                     torch=f"_divdiff({{0}}, '{_function[:3]}')", helpers=("_divdiff",),
                     scalar=_code),
           sympy=lambda s, node, *args: s.no_form(node), stable=(),
           scalar=f"{_name}(a) = {_scalar}", cost="costly", domain=_domain,
           symmetry="arguments")

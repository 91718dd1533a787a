"""Analytic functions of a square matrix: expm, logm, sqrtm, and the operations their
derivatives are written with (Fréchet derivatives and a Sylvester solve).

The differential of a matrix function f is its Fréchet derivative, d f(A) = L_f(A, dA), linear
in dA.  For f with a power series of real coefficients, L_f(A, .)'s adjoint is L_f(A', .):
G : L_f(A, E) = L_f(A', G) : E (Higham, *Functions of Matrices* (2008), sec. 3.2 and
problem 3.2; for expm, Najfeld & Havel 1995).  Differentiating L_f(A, E) in A uses the block
form f([[A, E], [0, A]]) = [[f(A), L_f(A, E)], [0, f(A)]] (Higham 2008, thm. 3.6): the
derivative of a Fréchet derivative is again a Fréchet derivative, of the block matrix.

``sqrtm``'s derivative is the solution X of S X + X S = dA with S = sqrtm(A) (Higham 2008,
sec. 6.1), written ``sylvester(S, dA)``.  Jacobians through expm and logm are written at a
symmetric point with their divided differences (:mod:`matcalc.ops.divided`).

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import add, call, identity, kron, matmul, neg, transpose
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import matrix_function_shape
from ..core.shapes import Kind
from .divided import divided_jacobian
from .operation import define, derived_adjoint


def _zeros(a: Node) -> Node:
    return ir.zeros(a.shape.rows, a.shape.cols, Kind.MATRIX)


def _block(a: Node, b: Node, c: Node, d: Node) -> Node:
    """[[a, b], [c, d]]."""
    return call("vcat", call("hcat", a, b), call("hcat", c, d))


def _upper_right(block: Node, n) -> Node:
    """[I 0] @ block @ [0; I]: the upper right n x n block of a 2n x 2n matrix."""
    zero = ir.zeros(n, n, Kind.MATRIX)
    left = call("hcat", identity(n), zero)
    right = call("vcat", zero, identity(n))
    return matmul(matmul(left, block), right)


def frechet_differential(frechet: str):
    """The differential of ``frechet(A, E)`` = L_f(A, E): linear in E, and in A the upper right
    block of L_f([[A, E], [0, A]], [[dA, 0], [0, dA]]) (Higham 2008, thm. 3.6)."""

    def rule(node, out, ds):
        a, e = node.args
        da, de = ds
        moved_e = call(frechet, a, de) if de is not None else None
        if da is None:
            return moved_e
        zero = _zeros(a)
        block = call(frechet, _block(a, e, zero, a), _block(da, zero, zero, da))
        return add(_upper_right(block, a.shape.rows), moved_e)

    rule.__doc__ = (f"d {frechet}(A, E) = {frechet}(A, dE) + [I 0] {frechet}([[A, E], [0, A]], "
                    f"[[dA, 0], [0, dA]]) [0; I] (Higham 2008, thm. 3.6)")
    return rule


def frechet_adjoint(frechet: str):
    """The adjoint in E: G : L_f(A, dE) = L_f(A', G) : dE."""

    def rule(node, out, g):
        return call(frechet, transpose(node.args[0]), g)

    rule.__doc__ = (f"G : {frechet}(A, dE) = {frechet}(A', G) : dE (Higham 2008, sec. 3.2: "
                    "f has real coefficients)")
    return rule


def d_expm(node, out, ds):
    """d expm(A) = expm_frechet(A, dA) (Higham 2008, sec. 10.6)."""
    return call("expm_frechet", node.args[0], ds[0])


def d_logm(node, out, ds):
    """d logm(A) = logm_frechet(A, dA) (Higham 2008, sec. 11.8)."""
    return call("logm_frechet", node.args[0], ds[0])


def d_sqrtm(node, out, ds):
    """d sqrtm(A) = sylvester(S, dA), S = sqrtm(A): S dX + dX S = dA (Higham 2008, sec. 6.1)."""
    return call("sylvester", out, ds[0])


def d_sylvester(node, out, ds):
    """d sylvester(S, E) = sylvester(S, dE - dS @ X - X @ dS), X = sylvester(S, E): from
    S X + X S = E."""
    s, _ = node.args
    ds_, de = ds
    moved = neg(add(matmul(ds_, out), matmul(out, ds_))) if ds_ is not None else None
    return call("sylvester", s, add(de, moved))


def pull_sylvester_e(node, out, g):
    """G : sylvester(S, dE) = sylvester(S', G) : dE: the adjoint of X -> S X + X S is
    Y -> S' Y + Y S'."""
    return call("sylvester", transpose(node.args[0]), g)


def vec_sylvester(node, out, js):
    """vec(d sylvester(S, E)) = inv(kron(I, S) + kron(S', I)) (vec(dE) - (kron(X', I) +
    kron(I, X)) vec(dS)), X = sylvester(S, E): vec(S X + X S) = (kron(I, S) + kron(S', I))
    vec(X) (Magnus & Neudecker, ch. 2)."""
    s, _ = node.args
    n = s.shape.rows
    moved = js[1]
    if js[0] is not None:
        spread = add(kron(transpose(out), identity(n)), kron(identity(n), out))
        moved = add(moved, neg(matmul(spread, js[0])))
    operator = add(kron(identity(n), s), kron(transpose(s), identity(n)))
    return matmul(call("inv", operator), moved)


def _facets(name: str, scalar: str, scalar_code: str, torch: str = "") -> dict:
    """Every facet but the rules: ``name(A)`` (or ``name(A, E)``) computed by the runtime
    helper ``_name``, LaTeX ``\\operatorname{name}``."""
    pair = name in ("expm_frechet", "logm_frechet", "sylvester")
    call_text = f"_{name}({{0}}, {{1}})" if pair else f"_{name}({{0}})"
    escaped = name.replace("_", r"\_")
    latex = Latex(template=rf"\operatorname{{{{{escaped}}}}}\left({{0}}, {{1}}\right)",
                  reads=(name,)) if pair else Latex(command=rf"\operatorname{{{name}}}",
                                                     reads=(name,))
    return dict(shape=matrix_function_shape(name), syntax=Syntax(name), latex=latex,
                code=Code(numpy=call_text, torch=torch or call_text, helpers=(f"_{name}",),
                          scalar=scalar_code),
                sympy=lambda s, node, *args: s.no_form(node), stable=(), scalar=scalar,
                cost="costly")


# each is its elementwise function on the eigenvalues (spectral), and symmetric at a symmetric
# argument: f(A)' = f(A') for a function with a power series of real coefficients (Higham
# 2008, sec. 1.2); so are the Frechet derivatives and the Sylvester solve, in both arguments
define("expm", differential=d_expm, spectral="exp", symmetry="arguments",
       **_facets("expm", "expm(a) = exp(a)", "np.exp({0})"))
# logm and sqrtm: random points draw an spd argument, its spectrum off the negative real axis
define("logm", differential=d_logm, domain="spd", spectral="log", symmetry="arguments",
       **_facets("logm", "logm(a) = log(a)", "np.log({0})"))
define("sqrtm", differential=d_sqrtm, domain="spd", spectral="sqrt", symmetry="arguments",
       **_facets("sqrtm", "sqrtm(a) = sqrt(a)", "np.sqrt({0})"))
define("expm_frechet", differential=frechet_differential("expm_frechet"), arity=2,
       symmetry="arguments",
       adjoints=(derived_adjoint("expm_frechet", 0), frechet_adjoint("expm_frechet")),
       jacobian=divided_jacobian("expm_frechet"),
       **_facets("expm_frechet", "expm_frechet(a, e) = exp(a) e", "(np.exp({0}) * {1})"))
define("logm_frechet", differential=frechet_differential("logm_frechet"), arity=2,
       symmetry="arguments", domain="spd",
       adjoints=(derived_adjoint("logm_frechet", 0), frechet_adjoint("logm_frechet")),
       jacobian=divided_jacobian("logm_frechet"),
       **_facets("logm_frechet", "logm_frechet(a, e) = e / a", "({1} / {0})"))
define("sylvester", differential=d_sylvester, arity=2, symmetry="arguments",
       adjoints=(derived_adjoint("sylvester", 0), pull_sylvester_e), jacobian=vec_sylvester,
       **_facets("sylvester", "sylvester(s, e) = e / (2 s)", "({1} / (2.0 * {0}))"))

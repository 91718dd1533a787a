"""Matrix products, Frobenius products, transposes and Kronecker products.

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import (
    Term,
    add,
    call,
    frob,
    identity,
    kron,
    like,
    matmul,
    mul,
    ones_vector,
    transpose,
    vec,
)
from ..core.ir import Node
from ..core.registry import FROB, POSTFIX, PRODUCT, Code, Latex, Syntax
from ..core.shape_rules import frob_shape, kron_shape, matmul_shape, transpose_shape
from ..core.shapes import ONE, Kind
from .common import vec_hadamard
from .operation import Rule, defbilinear, define


def pull_product_left(node, out, g):
    """G : (dA @ B) = (G @ B') : dA (Cookbook 2.5, Magnus & Neudecker ch. 9)."""
    return like(matmul(g, transpose(node.args[1])), node.args[0])


def pull_product_right(node, out, g):
    """G : (A @ dB) = (A' @ G) : dB."""
    return like(matmul(transpose(node.args[0]), g), node.args[1])


def vec_product(node, out, js):
    """vec(dA @ B) = kron(B', I) vec(dA), vec(A @ dB) = kron(I, A) vec(dB) (Cookbook eq. 520)."""
    a, b = node.args
    first = second = None
    if js[0] is not None:
        first = matmul(kron(transpose(b), identity(a.shape.rows)), js[0])
    if js[1] is not None:
        second = matmul(kron(identity(b.shape.cols), a), js[1])
    return add(first, second)


def pull_frobenius(index: int) -> Rule:
    def rule(node: Node, out: Node, g: Node) -> Term:
        """g (dA : B) = (g B) : dA, and likewise for B (g a scalar)."""
        return like(mul(g, node.args[1 - index]), node.args[index])

    return rule


def vec_frobenius(node, out, js):
    """d(A : B) = vec(B)' vec(dA) + vec(A)' vec(dB)."""
    a, b = node.args
    first = matmul(transpose(vec(b)), js[0]) if js[0] is not None else None
    second = matmul(transpose(vec(a)), js[1]) if js[1] is not None else None
    return add(first, second)


def d_transposition(node, out, ds):
    """d(A') = (dA)' (Cookbook eq. 44)."""
    return transpose(ds[0])


def pull_transposition(node, out, g):
    """G : dA' = G' : dA (Cookbook 2.2)."""
    return like(transpose(g), node.args[0])


def vec_transposition(node, out, js):
    """vec(dA') = K(m, n) vec(dA) for A m x n (Magnus & Neudecker ch. 3, sec. 7)."""
    a = node.args[0]
    if a.kind is not Kind.MATRIX or a.shape.rows is ONE or a.shape.cols is ONE:
        return js[0]
    return matmul(call_commutation(a), js[0])


def call_commutation(a: Node) -> Node:
    return ir.commutation(a.shape.rows, a.shape.cols)


def pull_kron_left(node, out, g):
    """G : kron(dA, B) = (kron(I, 1') @ (G * kron(1 1', B)) @ kron(I, 1)) : dA: each entry of
    dA meets one p x q block of G weighted by B (Magnus & Neudecker ch. 2)."""
    a, b = node.args
    if a.is_scalar:
        return frob(g, b)
    if b.is_scalar:
        return like(mul(g, b), a)
    (m, n), (p, q) = (a.shape.rows, a.shape.cols), (b.shape.rows, b.shape.cols)
    tiled = call("kron", ir.ones(m, n, Kind.MATRIX), b)
    left, right = pull_block_sums(m, n, p, q)
    return like(matmul(matmul(left, mul(g, tiled)), right), a)


def pull_block_sums(m, n, p, q) -> tuple[Node, Node]:
    """(kron(I_m, 1_p'), kron(I_n, 1_q)): L @ M @ R sums the p x q blocks of an mp x nq M."""
    return kron(identity(m), transpose(ones_vector(p))), kron(identity(n), ones_vector(q))


def pull_kron_right(node, out, g):
    """G : kron(A, dB) = (kron(1', I) @ (G * kron(A, 1 1')) @ kron(1, I)) : dB: the sum of the
    blocks of G weighted by the entries of A."""
    a, b = node.args
    if b.is_scalar:
        return frob(g, a)
    if a.is_scalar:
        return like(mul(g, a), b)
    (m, n), (p, q) = (a.shape.rows, a.shape.cols), (b.shape.rows, b.shape.cols)
    spread = call("kron", a, ir.ones(p, q, Kind.MATRIX))
    left = kron(transpose(ones_vector(m)), identity(p))
    right = kron(ones_vector(n), identity(q))
    return like(matmul(matmul(left, mul(g, spread)), right), b)


def vec_kron(node, out, js):
    """vec(kron(dA, B)) = P (I_mn kron vec(B)) vec(dA) and vec(kron(A, dB)) = P (vec(A) kron
    I_pq) vec(dB) with P = kron(I_n, K(q, m), I_p) (Magnus & Neudecker ch. 3, Theorem 10)."""
    a, b = node.args
    if a.is_scalar or b.is_scalar:
        return vec_hadamard(node, out, js)  # kron with a scalar factor is a scalar product
    (m, n), (p, q) = (a.shape.rows, a.shape.cols), (b.shape.rows, b.shape.cols)
    permute = call("kron", call("kron", identity(n), ir.commutation(q, m)), identity(p))
    first = second = None
    if js[0] is not None:
        first = matmul(permute, matmul(call("kron", identity(m * n), vec(b)), js[0]))
    if js[1] is not None:
        second = matmul(permute, matmul(call("kron", vec(a), identity(p * q)), js[1]))
    return add(first, second)


defbilinear('matmul',
            matmul,
            'd(A @ B) = dA @ B + A @ dB (Cookbook eq. 37).',
            adjoints=(pull_product_left, pull_product_right),
            jacobian=vec_product,
            shape=matmul_shape,
            syntax=Syntax("matmul", "@", PRODUCT),
            latex=Latex(special=True),
            code=Code(numpy="({0} @ {1})", torch="({0} @ {1})", scalar="({0} * {1})"),
            sympy=lambda s, node, a, b: s.matrix_product(node, a, b),
            stable=(),
            scalar="a @ B = a B: a product with a number scales",
            cost="costly",
       tensors=True)
defbilinear('frob',
            frob,
            'd(A : B) = dA : B + A : dB.',
            adjoints=(pull_frobenius(0), pull_frobenius(1)),
            jacobian=vec_frobenius,
            shape=frob_shape,
            syntax=Syntax("frob", ":", FROB),
            latex=Latex(infix=":"),
            code=Code(numpy="np.vdot({0}, {1})", torch="torch.sum({0} * {1})"),
            sympy=lambda s, node, a, b: a * b if node.args[0].is_scalar else s.Trace(a.T @ b),
            stable=(),
            scalar="a : b = a b",
            cost="cheap",
       tensors=True)
define('transpose',
       differential=d_transposition,
       adjoints=(pull_transposition,),
       jacobian=vec_transposition,
       shape=transpose_shape,
       syntax=Syntax("transpose", "'", POSTFIX), symmetry="arguments",
       latex=Latex(special=True),
       code=Code(numpy="{0}.T", torch="{0}.T", scalar="{0}", tensor="_swap_last({0})",
                 helpers=("_swap_last",)),
       sympy=lambda s, node, a: a if node.is_scalar else a.T,
       stable=(),
       scalar="a' = a",
       cost="cheap",
       tensors=True)
defbilinear('kron',
            lambda a, b: call("kron", a, b),
            'd kron(A, B) = kron(dA, B) + kron(A, dB) (Cookbook eq. 39).',
            adjoints=(pull_kron_left, pull_kron_right),
            jacobian=vec_kron,
            shape=kron_shape,
            syntax=Syntax("kron"),
            latex=Latex(infix=r"\otimes", reads=("otimes",)),
            code=Code(numpy="np.kron({0}, {1})", torch="torch.kron({0}, {1})"),
            sympy=lambda s, node, a, b: a * b if any(x.is_scalar for x in node.args)
            else s.KroneckerProduct(a, b),
            stable=(),
            scalar="kron(a, B) = a B",
            cost="structure")

"""Masks: tril(X, k) and triu(X, k), the triangles of a matrix as NumPy cuts them, and
where(C, A, B), the entries of A where the mask C is 1 and those of B where it is 0.

One entry per operation (see :mod:`matcalc.ops.operation`).  A branch of ``where`` may be the
number ``-inf`` (a causal attention's ``softmax(where(tril(ones(T, T)), S, -inf))``): it never
moves, and the cotangents are picked with ``where`` as well, so an entry behind the mask gets
exactly 0, never ``0 * inf``.
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import add, call, const, like, matmul, sub, unbroadcast, vec
from ..core.registry import Code, Latex, Syntax
from ..core.shapes import Kind, Shape
from ..core.tensor_shapes import lead_of, tensor_result
from ..core.unify import same
from ..errors import ShapeError
from .operation import define, deflinear


def triangle_shape(args: tuple, params: tuple) -> tuple[Shape, Kind]:
    """tril(X, k), triu(X, k): X a matrix, or a tensor whose last two axes are cut (NumPy's
    triangles), k a whole number; the result has X's shape."""
    (a,) = args
    if a.kind not in (Kind.MATRIX, Kind.TENSOR):
        raise ShapeError(f"the triangles tril and triu take a matrix or a tensor, but {a} is "
                         f"{'a number' if a.is_scalar else 'a vector'}")
    return a.shape, a.kind


def where_shape(args: tuple, params: tuple) -> tuple[Shape, Kind]:
    """where(C, A, B): C a matrix (or vector) of 0s and 1s; A and B of C's shape, or numbers."""
    c, a, b = args
    if c.is_scalar:
        raise ShapeError("the mask of where(C, A, B) is a matrix or vector of 0s and 1s, not a "
                         "number")
    for branch in (a, b):
        if not branch.is_scalar and not (same(branch.shape.rows, c.shape.rows) and
                                         same(branch.shape.cols, c.shape.cols)):
            raise ShapeError(f"where(C, A, B): the mask {c} is {c.shape} but the branch "
                             f"{branch} is {branch.shape}")
    if any(arg.kind is Kind.TENSOR for arg in args):  # a mask of the last two axes
        branches = [x for x in (a, b) if not x.is_scalar]
        leads = [lead_of(c, x, "where(C, A, B)") for x in branches] + [c.shape.lead]
        if len(branches) == 2:
            leads.append(lead_of(a, b, "where(C, A, B)"))
        return tensor_result(c.shape.rows, c.shape.cols, max(leads, key=len), Kind.MATRIX)
    kinds = {arg.kind for arg in args if not arg.is_scalar}
    return c.shape, kinds.pop() if len(kinds) == 1 else Kind.MATRIX


def _ones_of(node) -> ir.Node:
    return ir.ones(node.shape.rows, node.shape.cols, node.kind)


def pull_triangle(node, out, g):
    """G : tril(dX, k) = tril(G, k) : dX (and triu likewise): keeping a triangle is a
    projection, its own adjoint."""
    return like(call(node.op, g, params=node.params), node.args[0])


def vec_triangle(node, out, js):
    """vec(tril(dX, k)) = Diag(vec(tril(1 1', k))) vec(dX): the kept entries' rows of J."""
    kept = call(node.op, _ones_of(node.args[0]), params=node.params)
    return matmul(call("Diag", vec(kept)), js[0])


def d_where(node, out, ds):
    """d where(C, A, B) = where(C, dA, dB): the mask does not move (a -inf branch neither)."""
    if ds[1] is None and ds[2] is None:
        return None
    zero = const(0.0)
    return call("where", node.args[0], ds[1] if ds[1] is not None else zero,
                ds[2] if ds[2] is not None else zero)


def pull_mask(node, out, g):
    """G : d where(C, A, B) = 0 as C moves: a mask is data, never differentiated."""
    return None


def pull_chosen(node, out, g):
    """G : where(C, dA, 0) = where(C, G, 0) : dA: only the entries the mask takes get G (a
    number A collects their sum)."""
    return unbroadcast(call("where", node.args[0], g, const(0.0)), node.args[1])


def pull_other(node, out, g):
    """G : where(C, 0, dB) = where(C, 0, G) : dB: only the entries behind the mask get G."""
    return unbroadcast(call("where", node.args[0], const(0.0), g), node.args[2])


def vec_where(node, out, js):
    """vec(where(C, dA, dB)) = Diag(vec(C)) vec(dA) + Diag(vec(1 - C)) vec(dB) (a number
    branch: vec(C) da)."""
    c = node.args[0]
    total = None
    for branch, j, taken in ((node.args[1], js[1], c), (node.args[2], js[2], sub(const(1.0), c))):
        if j is None:
            continue
        spread = matmul(vec(taken), j) if branch.is_scalar else \
            matmul(call("Diag", vec(taken)), j)
        total = add(total, spread)
    return total


for _name, _kept in (("tril", "on and below"), ("triu", "on and above")):
    deflinear(_name, adjoints=(pull_triangle,), jacobian=vec_triangle, shape=triangle_shape,
              syntax=Syntax(_name, params=(0,)),
              latex=Latex(template=rf"\operatorname{{{{{_name}}}}}\left({{0}}, {{1}}\right)"),
              code=Code(numpy=f"np.{_name}({{0}}, {{k}})", torch=f"torch.{_name}({{0}}, {{k}})",
                        params=("k",)),
              sympy=lambda s, node, a: s.no_form(node),
              stable=(),
              scalar=f"{_name} keeps the entries {_kept} the k-th diagonal of a matrix (of "
                     f"the last two axes of a tensor)",
              cost="cheap",
              tensors=True)
define("where",
       differential=d_where,
       adjoints=(pull_mask, pull_chosen, pull_other),
       jacobian=vec_where,
       shape=where_shape,
       syntax=Syntax("where"),
       latex=Latex(template=r"\operatorname{{where}}\left({0}, {1}, {2}\right)"),
       code=Code(numpy="np.where({0} != 0, {1}, {2})", torch="torch.where({0} != 0, {1}, {2})"),
       sympy=lambda s, node, c, a, b: s.no_form(node),
       stable=(),
       scalar="where(c, a, b) = a where c is 1, b where c is 0",
       cost="cheap",
       tensors=True)

"""Structure: Diag, diag, vec, unvec, and the concatenations hcat and vcat (all linear).

One entry per operation (see :mod:`matcalc.ops.operation`).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import (
    add,
    call,
    identity,
    like,
    matmul,
    ones_vector,
    size,
    transpose,
    vec,
    zeros_like,
)
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import (
    concatenation_shape,
    diag_matrix_shape,
    diag_of_shape,
    unvec_shape,
    vec_shape,
)
from ..core.shapes import ONE, Kind
from .operation import define, deflinear


def pull_diag_matrix(node, out, g):
    """G : Diag(dx) = diag(G) : dx."""
    x = node.args[0]
    return g if x.is_scalar else like(call("diag", g), x)


def vec_diag_matrix(node, out, js):
    """vec(Diag(dx)) = Diag(vec(I)) kron(1, I) dx (the columns of Diag(dx) select dx)."""
    x = node.args[0]
    if x.is_scalar:
        return js[0]
    n = node.shape.rows
    select = matmul(call("Diag", vec(identity(n))), call("kron", ones_vector(n), identity(n)))
    return matmul(select, js[0])


def pull_diagonal(node, out, g):
    """g : diag(dA) = Diag(g) : dA."""
    a = node.args[0]
    return g if a.is_scalar else call("Diag", g)


def vec_diagonal(node, out, js):
    """diag(dA) = kron(1, I)' Diag(vec(I)) vec(dA)."""
    a = node.args[0]
    if a.is_scalar:
        return js[0]
    n = a.shape.rows
    select = matmul(transpose(call("kron", ones_vector(n), identity(n))),
                    call("Diag", vec(identity(n))))
    return matmul(select, js[0])


def pull_vec(node, out, g):
    """g : vec(dA) = unvec(g) : dA."""
    a = node.args[0]
    if a.kind is Kind.MATRIX:
        return call("unvec", g, params=(a.shape.rows, a.shape.cols))
    return like(g, a)


def vec_same(node, out, js):
    """vec(vec(dA)) = vec(dA); vec(unvec(dv)) = dv."""
    return js[0]


def pull_unvec(node, out, g):
    """G : unvec(dv) = vec(G) : dv."""
    return like(call("vec", g) if g.kind is Kind.MATRIX else g, node.args[0])


deflinear('Diag', adjoints=(pull_diag_matrix,), jacobian=vec_diag_matrix, shape=diag_matrix_shape,
          syntax=Syntax("Diag"), symmetry="always",
          latex=Latex(command=r"\operatorname{Diag}"),
          code=Code(numpy="np.diagflat({0})", torch="torch.diag({0}.reshape(-1))", scalar="{0}"),
          sympy=lambda s, node, a: a if node.args[0].is_scalar else s.DiagMatrix(a),
          stable=(),
          scalar="Diag(a) = a",
          cost="costly structure")
deflinear('diag', adjoints=(pull_diagonal,), jacobian=vec_diagonal, shape=diag_of_shape,
          syntax=Syntax("diag"),
          latex=Latex(command=r"\operatorname{diag}", reads=("diag", "Diag")),
          code=Code(numpy="_diagonal({0})", torch="torch.diagonal({0}).reshape(-1, 1)",
          helpers=("_diagonal",), scalar="{0}"),
sympy=lambda s, node, a: a if node.args[0].is_scalar else s.DiagonalOf(a),
stable=(),
scalar="diag(a) = a",
cost="cheap")
deflinear('vec', adjoints=(pull_vec,), jacobian=vec_same, shape=vec_shape,
          syntax=Syntax("vec"),
          latex=Latex(command=r"\operatorname{vec}", reads=("vec",)),
          code=Code(numpy="_vec({0})", torch="{0}.T.reshape(-1, 1)", helpers=("_vec",),
          scalar="{0}"),
sympy=lambda s, node, a: a if node.args[0].is_scalar else s.Vec(a),
stable=(),
scalar="vec(a) = a",
cost="cheap")
deflinear('unvec', adjoints=(pull_unvec,), jacobian=vec_same, shape=unvec_shape,
          syntax=Syntax("unvec"),
          latex=Latex(special=True),
          code=Code(numpy="_unvec({0}, {rows}, {cols})", torch="{0}.reshape({cols}, {rows}).T",
          helpers=("_unvec",), scalar="{0}", params=("rows", "cols")),
sympy=lambda s, node, a: a if node.is_scalar
                         else s.Unvec(a, *(s.dim_to_sympy(d) for d in node.params)),
stable=(),
scalar="unvec(a, 1, 1) = a",
cost="cheap")


def _selection(first: Node, second: Node, index: int, side_by_side: bool) -> Node:
    """The block of I that picks argument ``index`` out of a concatenation: ``vcat(I(k),
    zeros(m, k))`` takes hcat's first k columns (as ``G @ ...``), ``hcat(I(n), zeros(n, p))``
    vcat's first n rows (as ``... @ G``)."""
    sizes = [first.shape.cols, second.shape.cols] if side_by_side else \
        [first.shape.rows, second.shape.rows]
    mine, other = sizes[index], sizes[1 - index]
    if side_by_side:
        parts = [identity(mine), ir.zeros(other, mine, Kind.MATRIX)]
    else:
        parts = [identity(mine), ir.zeros(mine, other, Kind.MATRIX)]
    if index == 1:
        parts.reverse()
    return call("vcat" if side_by_side else "hcat", *parts)


def d_concatenation(node, out, ds):
    """d hcat(A, B) = hcat(dA, dB) and d vcat(A, B) = vcat(dA, dB): both are linear."""
    parts = [d if d is not None else zeros_like(arg) for d, arg in zip(ds, node.args,
                                                                    strict=True)]
    return call(node.op, *parts)


def pull_concatenation(index: int):
    def rule(node, out, g):
        """G : hcat(dA, dB) = (G @ vcat(I, 0)) : dA + (G @ vcat(0, I)) : dB, the columns of G
        that each argument fills; for vcat, (hcat(I, 0) @ G) : dA + (hcat(0, I) @ G) : dB."""
        first, second = node.args
        side_by_side = node.op == "hcat"
        select = _selection(first, second, index, side_by_side)
        picked = matmul(g, select) if side_by_side else matmul(select, g)
        return like(picked, node.args[index])

    return rule


def vec_concatenation(node, out, js):
    """vec(hcat(dA, dB)) = vcat(vec(dA), vec(dB)) (columns are stacked in order); vec(vcat(dA,
    dB)) = kron(I, vcat(I, 0)) vec(dA) + kron(I, vcat(0, I)) vec(dB), each column of the
    result stacking a column of dA on one of dB."""
    first, second = node.args
    if node.op == "hcat":
        columns = next(j for j in js if j is not None).shape.cols  # the variable's size
        parts = [j if j is not None else ir.zeros(size(arg), columns, Kind.MATRIX)
                 for j, arg in zip(js, node.args, strict=True)]
        return call("vcat", *parts)
    cols = node.shape.cols
    total = None
    for index, j in enumerate(js):
        if j is None:
            continue
        select = _selection(first, second, index, side_by_side=False)
        spread = call("kron", identity(cols), transpose(select)) if cols is not ONE else \
            transpose(select)
        total = add(total, matmul(spread, j))
    return total


for _name, _side in (("hcat", "side by side"), ("vcat", "one above the other")):
    define(_name, d_concatenation, (pull_concatenation(0), pull_concatenation(1)),
           vec_concatenation, arity=2,
           shape=concatenation_shape(_name == "hcat"),
           syntax=Syntax(_name),
           latex=Latex(special=True),
           code=Code(numpy=f"_{_name}({{0}}, {{1}})", torch=f"_{_name}({{0}}, {{1}})",
                     helpers=(f"_{_name}",)),
           sympy=lambda s, node, a, b: s.concatenation(node, a, b),
           stable=(),
           scalar=f"{_name}(a, b) sets the numbers {_side} as a 1 x 2 or 2 x 1 block",
           cost="cheap")

"""The largest (smallest) entry: max(X), min(X) over every entry, max(X, axis), min(X, axis)
along one axis, and the indicators of where they are taken, ismax and ismin.

One entry per operation (see :mod:`matcalc.ops.operation`).  The derivative of a maximum is the
indicator of its arg-max, ``d max(X) = ismax(X) : dX``: one entry moves the value, the others do
not.  At ties the arg-max is the first index, as ``np.argmax`` takes it (the first in row-major
order over every entry); there the function has no derivative, and random test points keep the
largest two entries apart (``numeric/sampling.py``).  Axes are NumPy's: ``1`` gives the row
maxima, a vector; ``0`` the column maxima, a row vector.
"""

from __future__ import annotations

from ..core.algebra import call, frob, matmul, mul, ones_vector, transpose, vec
from ..core.registry import Code, Latex, Syntax
from ..core.shape_rules import same_shape, scalar_result
from ..core.shapes import ONE, Kind, Shape
from ..core.tensor_shapes import axis_removed, normal_axis
from ..errors import ShapeError
from .operation import define
from .tensors import axis_sum, expand


def axis_shape(args: tuple, params: tuple) -> tuple[Shape, Kind]:
    """max(X, axis) of a matrix: axis 1 gives a vector of its rows' values, axis 0 a row vector
    of its columns'; of a tensor, the axis removed."""
    (a,) = args
    (axis,) = params
    if a.kind is Kind.TENSOR:  # the axis removed, as np.max(X, axis=a)
        return axis_removed(a, normal_axis(axis, len(a.shape.dims), f"max({a}, axis)"))
    if a.kind is not Kind.MATRIX or axis not in (0, 1):
        raise ShapeError(f"along axis {axis}: the axis of a matrix is 0 or 1 (here {a} is "
                         f"{a.shape})")
    if axis == 1:
        return Shape(a.shape.rows, ONE), Kind.VECTOR
    return Shape(ONE, a.shape.cols), Kind.ROW


def _indicator(node):
    """ismax(X) (ismin, along the node's axis): where the extreme value is taken."""
    kind = "ismax" if node.op.endswith("max") else "ismin"
    if node.op.startswith("axis_"):
        return call(f"axis_{kind}", node.args[0], params=node.params)
    return call(kind, node.args[0])


def d_extreme(node, out, ds):
    """d max(X) = ismax(X) : dX (and min with ismin): only the entry where the extreme is taken
    moves it (np.argmax's, the first at ties)."""
    if node.args[0].is_scalar:
        return ds[0]
    return frob(_indicator(node), ds[0])


def pull_extreme(node, out, g):
    """g d max(X) = (g ismax(X)) : dX."""
    return g if node.args[0].is_scalar else mul(g, _indicator(node))


def vec_extreme(node, out, js):
    """d max(X) = vec(ismax(X))' vec(dX)."""
    if node.args[0].is_scalar:
        return js[0]
    return matmul(transpose(vec(_indicator(node))), js[0])


def d_along(node, out, ds):
    """d max(X, 1) = (ismax(X, 1) * dX) @ 1 (each row's largest entry moves it); d max(X, 0) =
    1' @ (ismax(X, 0) * dX) (each column's); of a tensor, d max(X, a) = sum(ismax(X, a) * dX,
    a)."""
    x = node.args[0]
    picked = mul(_indicator(node), ds[0])
    if x.kind is Kind.TENSOR:  # d max(X, a) = sum(ismax(X, a) * dX, a), the axis removed
        return axis_sum(picked, node.params[0])
    if node.params[0] == 1:
        return matmul(picked, ones_vector(x.shape.cols))
    return matmul(transpose(ones_vector(x.shape.rows)), picked)


def pull_along(node, out, g):
    """g : max(dX, 1) = (Diag(g) @ ismax(X, 1)) : dX, g : max(dX, 0) = (ismax(X, 0) @
    Diag(g')) : dX for the row vector g: the cotangent of each row (column) goes to its
    arg-max; of a tensor, G : max(dX, a) = (expand(G, a, n) * ismax(X, a)) : dX."""
    indicator = _indicator(node)
    x, axis = node.args[0], node.params[0]
    if x.kind is Kind.TENSOR:  # G : max(dX, a) = (expand(G, a, n) * ismax(X, a)) : dX
        return mul(expand(g, axis, x.shape.dims[axis]), indicator)
    if axis == 1:
        return matmul(call("Diag", g), indicator)
    return matmul(indicator, call("Diag", transpose(g)))


def d_constant(node, out, ds):
    """d ismax(X) = 0: the indicator is constant between ties (it has no derivative there)."""
    return None


def pull_constant(node, out, g):
    """G : d ismax(X) = 0."""
    return None


def vec_constant(node, out, js):
    """vec(d ismax(X)) = 0."""
    return None


for _name, _arg, _which in (("max", "argmax", "largest"), ("min", "argmin", "smallest")):
    _tied = f"{_which} tied"  # not differentiable (ismax: not continuous) at ties
    define(_name, differential=d_extreme, adjoints=(pull_extreme,), jacobian=vec_extreme,
           shape=scalar_result,
           syntax=Syntax(_name),
           latex=Latex(template=rf"\operatorname{{{{{_name}}}}}\left({{0}}\right)"),
           code=Code(numpy=f"np.{_name}({{0}})", torch=f"torch.{_name}({{0}})", scalar="{0}"),
           sympy=lambda s, node, a: a if node.args[0].is_scalar else s.no_form(node),
           stable=(),
           scalar=f"{_name}(a) = a",
           cost="cheap",
           tensors=True, check=_tied)
    define(f"axis_{_name}", differential=d_along, adjoints=(pull_along,), shape=axis_shape,
           syntax=Syntax(_name, params=(None,)),
           latex=Latex(template=rf"\operatorname{{{{{_name}}}}}\left({{0}}, {{1}}\right)"),
           code=Code(numpy=f"np.{_name}({{0}}, axis={{axis}}, keepdims={{keep}})",
                     torch=f"torch.a{_name}({{0}}, dim={{axis}}, keepdim={{keep}})",
                     params=("axis",)),
           sympy=lambda s, node, a: s.no_form(node),
           stable=(),
           scalar=f"{_name}(X, axis) takes a matrix or a tensor",
           cost="cheap",
           tensors=True, check=_tied)
    for _prefix, _params, _written in (("", (), "None"), ("axis_", ("axis",), "{axis}")):
        _indicator_name = f"is{_name}"
        define(f"{_prefix}{_indicator_name}", differential=d_constant,
               adjoints=(pull_constant,), jacobian=vec_constant, shape=same_shape,
               syntax=Syntax(_indicator_name, params=(None,) if _params else ()),
               latex=Latex(template=rf"\operatorname{{{{{_indicator_name}}}}}\left({{0}}"
                                    + (", {1}" if _params else "") + r"\right)"),
               code=Code(numpy=f"_isextreme({{0}}, {_written}, {_name == 'min'})",
                         torch=f"_isextreme({{0}}, {_written}, {_name == 'min'})",
                         helpers=("_isextreme",), scalar="1.0", params=_params),
               sympy=lambda s, node, a: s.no_form(node),
               stable=(),
               scalar=f"{_indicator_name}(a) = 1: the 0/1 indicator of the {_which} entry "
                      f"({_arg}, the first at ties)",
               cost="cheap",
               tensors=True, check=_tied)

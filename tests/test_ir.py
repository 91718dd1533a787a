"""The IR: interned, immutable nodes with their shapes; dimensions interned too."""

from __future__ import annotations

import gc
import pickle

import pytest

from matcalc.core import ir
from matcalc.core.shapes import ONE, Kind, Shape, dim
from matcalc.errors import ShapeError


def test_dimensions_are_interned_products():
    assert dim("n") is dim("n")
    assert dim(3) is dim(3)
    assert dim("m") * dim("n") is dim("n") * dim("m")
    assert str(dim(2) * dim("n") * dim("n")) == "2*n*n"
    assert dim("n") is not dim("m")
    with pytest.raises(ValueError):
        dim(0)
    with pytest.raises(TypeError):
        dim("not a name")
    with pytest.raises(AttributeError):
        dim("n").coefficient = 2


def test_nodes_are_interned_and_immutable():
    x = ir.var("x", Shape(dim("n"), ONE), Kind.VECTOR)
    a = ir.var("A", Shape(dim("n"), dim("n")), Kind.MATRIX)
    first = ir.apply("matmul", a, x)
    assert ir.apply("matmul", a, x) is first
    assert hash(first) == hash(ir.apply("matmul", a, x))
    with pytest.raises(AttributeError):
        first.op = "add"
    assert pickle.loads(pickle.dumps(first)) is first


def test_the_intern_table_is_weak():
    before = len(ir._INTERNED)
    x = ir.var("weak_x", Shape(dim("n"), ONE), Kind.VECTOR)
    for k in range(100):
        ir.apply("mul", ir.const(k + 0.5), x)
    del x
    gc.collect()
    assert len(ir._INTERNED) <= before + 5


def test_strict_shapes_at_construction():
    x = ir.var("x", Shape(dim("n"), ONE), Kind.VECTOR)
    y = ir.var("y", Shape(dim("m"), ONE), Kind.VECTOR)
    with pytest.raises(ShapeError, match="x \\+ y: x is n x 1 but y is m x 1"):
        ir.apply("add", x, y)
    # same name, different shapes: different nodes, never silently added
    x_other = ir.var("x", Shape(dim("m"), ONE), Kind.VECTOR)
    assert x_other is not x
    with pytest.raises(ShapeError):
        ir.apply("add", x, x_other)


def test_one_by_one_results_are_scalars():
    x = ir.var("x", Shape(dim("n"), ONE), Kind.VECTOR)
    quadratic = ir.apply("matmul", ir.apply("transpose", x), x)
    assert quadratic.kind is Kind.SCALAR and quadratic.shape.is_scalar
    assert ir.var("v", Shape(ONE, ONE), Kind.VECTOR).kind is Kind.SCALAR


def test_walk_is_iterative_and_children_first():
    x = ir.var("x", Shape(dim("n"), ONE), Kind.VECTOR)
    node = x
    for _ in range(5000):
        node = ir.apply("tanh", node)
    order = list(ir.walk(node))
    assert order[0] is x and order[-1] is node and len(order) == 5001

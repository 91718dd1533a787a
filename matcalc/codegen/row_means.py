"""Row and column means in generated code: the normalisation layers' backward passes.

LayerNorm, BatchNorm and RMSNorm gradients are entrywise expressions over N x d matrices with
columns spread along the rows (``v @ ones(d)'``, a row mean) or rows spread down the columns
(``ones(N) @ r``), and sums along one axis of Hadamard products (``(G * Xn) @ ones(d)``): e.g.
``(G - Xn * mean(G * Xn, 1) - mean(G, 1)) / s`` (Ba, Kiros & Hinton 2016, eqs. 3-4; Ioffe &
Szegedy 2015, sec. 3).  Written one operation at a time, each operation is a pass over N x d
memory into a new array.  Here:

- a sum along an axis is a matrix-vector product with ones (BLAS), and a sum of a Hadamard
  product along an axis takes the factors' row (column) dot products, the product never formed
  (runtime helpers ``_row_sums``, ``_row_dots``, ...);
- a spread operand is its vector, broadcast: ``1 1'`` is never built;
- a division by a spread vector multiplies by the vector's reciprocal, computed once;
- in NumPy, an entrywise expression of two or more operations over full matrices writes into
  one new array in place (``t = Xn * m; np.subtract(G, t, out=t); t -= m0; t *= 1 / s``): one
  array allocated where each operation allocated one; an array nothing reads any more lends
  its memory to the next (codegen/reuse.py), and a matrix scaled by a spread vector is never
  formed where it is only read in sums and scalings (codegen/unscaled.py).
"""

from __future__ import annotations

from ..core.ir import Node
from ..core.shapes import Kind
from ..core.stable_forms import stable_form
from .reuse import Allocation
from .tensor_code import softmax_pullback

_ARRAYS = (Kind.MATRIX, Kind.TENSOR)  # the kinds written in place
# the entrywise operations written in place, as NumPy's ufuncs
UFUNCS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide",
          "neg": "negative"}
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
# operands of structure, written by their own shortcuts (Diag(v) + M, never a dense Diag)
_STRUCTURE = frozenset({"Diag", "kron", "identity", "commutation", "ones", "zeros"})


def column_spread(node: Node) -> bool:
    """Whether node is ``v @ ones(k)'``, a column v repeated along the rows."""
    return node.op == "matmul" and node.args[0].kind is Kind.VECTOR and \
        node.args[1].op == "transpose" and node.args[1].args[0].op == "ones"


def spread_vector(node: Node) -> Node | None:
    """v of ``v @ ones(k)'`` (a column repeated along the rows), r of ``ones(k) @ r`` (a row,
    or a vector's transpose, repeated down the columns); None for anything else.  The vector's
    own value broadcasts to the spread's."""
    if node.op != "matmul":
        return None
    a, b = node.args
    if column_spread(node):
        return a
    if a.op == "ones" and a.kind is Kind.VECTOR and b.kind is Kind.ROW:
        return b
    return None


def axis_sums(writer, m: Node, axis: int) -> str:
    """The code of ``m @ 1`` (axis 1: the rows' sums, a column) or ``1' @ m`` (axis 0: the
    columns' sums, a row): of a Hadamard product by its factors' dot products, of a transpose
    as the other axis's sums transposed."""
    if m.op == "transpose" and m.kind is Kind.MATRIX and writer.inline(m):
        return f"{axis_sums(writer, m.args[0], 1 - axis)}.T"
    factors = _hadamard_factors(writer, m)
    if factors:
        return writer.code("row dots" if axis else "column dots", *factors)
    return writer.code("row sums" if axis else "column sums", writer.value(m))


def axis_dots(writer, node: Node) -> str:
    """NumPy's code of ``sum(A * B, axis)`` of tensors (one einsum) and of ``sum(A * B)`` and
    ``mean(A * B)`` (one dot product): the product never formed; "" for another node (or
    backend: XLA fuses the product into the sum)."""
    if node.op not in ("axis_sum", "sum", "mean") or writer.code.name != "numpy":
        return ""
    factors = _hadamard_factors(writer, node.args[0])
    if factors is None:
        return ""
    if node.op != "axis_sum":
        dot = f"_np.vdot({factors[0]}, {factors[1]})"
        if node.op == "sum":
            return dot
        size = " * ".join([writer.dim(d) for d in node.args[0].shape.dims
                           if writer.dim(d) != "1"] or ["1"])
        return f"({dot} / {writer.code('dimension', size)})"
    axes = "abcdefgh"[:len(node.args[0].shape.dims)]
    kept = axes.replace(axes[node.params[0]], "")
    return f"_np.einsum('{axes},{axes}->{kept}', {factors[0]}, {factors[1]})"


def _hadamard_factors(writer, m: Node) -> tuple[str, str] | None:
    """The code of A and B where m is ``A * B`` (or ``A .^ 2``) of two full matrices, computed
    here only; None otherwise."""
    if m.kind not in (*_ARRAYS, Kind.VECTOR) or not writer.inline(m):
        return None
    if m.op == "mul" and all(full(arg, m) for arg in m.args):
        return writer.value(m.args[0]), writer.value(m.args[1])
    if m.op == "pow" and m.args[1].op == "const" and m.args[1].params[0] == 2.0 and \
            full(m.args[0], m):
        text = writer.once(m.args[0])
        return text, text
    return None


def elementwise(writer, node: Node) -> str:
    """The code of an entrywise ``+ - * /`` (or negation) over a matrix: in NumPy, where it
    and its operands computed here only make two operations or more, one new array written in
    place, and where a spread operand takes part, a new array that a later operation may
    write into (``reuse_dead_arrays``); elsewhere spread operands broadcast as their vectors;
    "" where none applies."""
    if node.op not in UFUNCS or node.kind not in _ARRAYS or _structured(node) or \
            _claimed(writer, node):
        return ""
    spread = any(spread_vector(arg) is not None for arg in node.args)
    if writer.code.name == "numpy" and (_operations(writer, node) >= 2 or
                                        spread and _operations(writer, node)):
        return _into_array(writer, node)
    if node.op == "neg" or not spread or not any(full(arg, node) for arg in node.args):
        return ""  # a spread broadcasts beside a matrix of its shape only
    a = _operand(writer, node, node.args[0])
    if node.op == "div" and spread_vector(node.args[1]) is not None:
        return f"({a} * {reciprocal(writer, spread_vector(node.args[1]))})"
    return f"({a} {_SYMBOLS[node.op]} {_operand(writer, node, node.args[1])})"


def reciprocal(writer, v: Node) -> str:
    """A temporary holding 1 / v, computed once for every division by v."""
    if v not in writer.reciprocals:
        writer.reciprocals[v] = writer.temporary(f"(1.0 / {writer.value(v)})")
    return writer.reciprocals[v]


def _structured(node: Node) -> bool:
    """Whether an entrywise expression has structure among its operands (``lam * I + M``,
    ``Diag(v) + M``): the writer's structure shortcuts and results' code write those."""
    return any(arg.op in _STRUCTURE or arg.op in UFUNCS and _structured(arg)
               for arg in node.args)


def _claimed(writer, node: Node) -> bool:
    """Whether another of the writer's forms computes node (the softmax pullback's helper)."""
    return bool(softmax_pullback(lambda _: "", node, writer.inline))


def full(arg: Node, node: Node) -> bool:
    """Whether arg is an operand of node's whole shape (not a number, not a spread vector)."""
    return not arg.is_scalar and arg.shape == node.shape and spread_vector(arg) is None


def _fused(writer, arg: Node, node: Node) -> bool:
    """Whether arg, an operand of node, is an entrywise operation computed here only that has
    an operand of node's whole shape (so it can be the array node writes into)."""
    return arg.op in UFUNCS and arg.kind in _ARRAYS and full(arg, node) and \
        writer.inline(arg) and any(full(a, arg) for a in arg.args) and \
        not _claimed(writer, arg) and \
        stable_form(arg, writer.facts.body_of) is None


def _operations(writer, node: Node) -> int:
    """How many entrywise operations one array would hold: node's and its operands' chain."""
    if not any(full(arg, node) for arg in node.args):
        return 0
    inner = [_operations(writer, arg) for arg in node.args if _fused(writer, arg, node)]
    return 1 + max(inner, default=0)


def _operand(writer, node: Node, arg: Node) -> str:
    """The code of an operand: a spread vector as the vector (broadcast)."""
    vector = spread_vector(arg)
    return writer.value(vector if vector is not None else arg)


def _into_array(writer, node: Node) -> str:
    """The code of a new array holding node's value: the allocating operation's call, or the
    name of a temporary that the chain of node's operands after it writes in place."""
    op, args = node.op, node.args
    for position, arg in enumerate(args):
        if _fused(writer, arg, node) and _operations(writer, arg):
            buffer = _into_array(writer, arg)
            if not buffer.isidentifier():
                buffer = writer.temporary(buffer)
            writer.lines.append(_in_place(writer, node, buffer, position))
            return buffer
    if op == "div" and spread_vector(args[1]) is not None:
        codes, ufunc = [_operand(writer, node, args[0]),
                        reciprocal(writer, spread_vector(args[1]))], "multiply"
    else:
        codes, ufunc = [_operand(writer, node, arg) for arg in args], UFUNCS[op]
    text = f"_np.{ufunc}({', '.join(codes)}, dtype=_dtype)"
    writer.allocations[text] = Allocation(ufunc, tuple(codes), tuple(
        code for code, arg in zip(codes, args, strict=False) if full(arg, node)))
    return text


def _in_place(writer, node: Node, buffer: str, position: int) -> str:
    """The line applying node's operation to the array ``buffer`` (its operand at
    ``position``) and the other operand, in place."""
    op = node.op
    if op == "neg":
        return f"_np.negative({buffer}, out={buffer})"
    if op == "div" and position == 0 and spread_vector(node.args[1]) is not None:
        return f"{buffer} *= {reciprocal(writer, spread_vector(node.args[1]))}"
    operand = _operand(writer, node, node.args[1 - position])
    if op in ("add", "mul") or position == 0:
        return f"{buffer} {_SYMBOLS[op]}= {operand}"
    return f"_np.{UFUNCS[op]}({operand}, {buffer}, out={buffer})"

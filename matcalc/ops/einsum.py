"""einsum: NumPy's Einstein summation with an explicit output, ``einsum("ij,jk->ik", A, B)``.

:func:`einsum` builds one: in matrix form when it has one (``A @ B``, ``sum(A * B)``, ``tr(A)``,
``A'``: :mod:`matcalc.ops.einsum_forms`), so that every stage sees the operations it knows; as
an ``einsum`` node with the spec as its parameter otherwise.  Numbers factor out (``,ij->ij``
is ``a * X``) and a matrix's repeated letter is its diagonal (``ii,...`` reads ``diag(A)``).

The derivative (the einsum is linear in each operand):

- ``d einsum(s, A_1, ..., A_n) = sum_i einsum(s, A_1, ..., dA_i, ..., A_n)``;
- ``G : einsum(s, ..., dA_i, ...) = einsum(s_i, G, A_j (j != i)) : dA_i``, with ``s_i`` the
  spec that moves the output's letters in as the cotangent's term and sends ``A_i``'s letters
  out; a letter of ``A_i`` that nothing else holds was summed out of ``A_i`` alone, so the
  cotangent is constant along it (a ``ones`` operand carries it).
"""

from __future__ import annotations

from ..core import ir
from ..core.algebra import add, call, like, matmul, mul, ones_like, ones_vector, transpose, vec
from ..core.einsum_spec import MAX_OPERANDS, axes, einsum_shape, parse_spec
from ..core.ir import Node
from ..core.registry import Code, Latex, Syntax
from ..errors import UnsupportedError
from .einsum_forms import matrix_form
from .operation import define


def einsum(spec_text: str, *operands: Node) -> Node:
    """``einsum(spec, operands)``, checked (ParseError / ShapeError with the place in the spec)
    and in matrix form when it has one."""
    spec = parse_spec(spec_text)
    einsum_shape(operands, (spec.text,))  # checks the operands against the spec
    terms, kept, scale = [], [], None
    for term, operand in zip(spec.terms, operands, strict=True):
        if not term:  # a number multiplies the rest
            scale = operand if scale is None else mul(scale, operand)
            continue
        if len(term) == 2 and term[0] == term[1]:
            operand, term = ir.apply("diag", operand), term[0]
        terms.append(term)
        kept.append(operand)
    if not kept:
        return scale
    spec = parse_spec(f"{','.join(terms)}->{spec.output_text}")
    found = None if spec.groups else matrix_form(spec, tuple(kept))
    if found is None:
        found = ir.apply("einsum", *kept, params=(spec.text,))
    return found if scale is None else mul(scale, found)


def _moving(node: Node, index: int, d: Node) -> Node:
    """The differential of operand ``index`` with the operand's shape (a number standing for
    its broadcast is spread over it)."""
    operand = node.args[index]
    if d.is_scalar and not operand.is_scalar:
        return mul(d, ones_like(operand))
    return d


def d_einsum(node, out, ds):
    """d einsum(s, A_1, ..., A_n) = sum_i einsum(s, A_1, ..., dA_i, ..., A_n): it is linear in
    each operand."""
    total = None
    for index, d in enumerate(ds):
        if d is not None:
            operands = list(node.args)
            operands[index] = _moving(node, index, d)
            total = add(total, einsum(node.params[0], *operands))
    return total


def _pulled_spec(node: Node, index: int) -> tuple[str, list[Node]]:
    """The spec and operands of the cotangent's einsum for operand ``index``: the output's
    letters in as the cotangent's term, the operand's letters out; a letter only the operand
    holds comes with a ones vector."""
    spec = parse_spec(node.params[0])
    _refuse_groups(node, spec)
    term = spec.terms[index]
    if len(set(term)) != len(term):
        raise UnsupportedError(f"the gradient of einsum with respect to an operand with a "
                               f"repeated letter (its diagonal, '{term}') is not supported")
    others = [t for k, t in enumerate(spec.terms) if k != index]
    operands = [a for k, a in enumerate(node.args) if k != index]
    held = set(spec.output).union(*others)
    dims = axes(node.args[index])
    for letter, size in zip(term, dims, strict=True):
        if letter not in held:
            others.append(letter)
            operands.append(ones_vector(size))
    return f"{','.join([spec.output, *others])}->{term}", operands


def _refuse_groups(node: Node, spec) -> None:
    if spec.groups:
        raise UnsupportedError(f"derivatives of an einsum whose output groups letters "
                               f"('{spec.output_text}') are not supported: {node}")


def pull_einsum(index: int):
    """The adjoint for operand ``index`` (module docstring)."""

    def rule(node, out, g):
        if index >= len(node.args):  # pragma: no cover - the engine asks for operands only
            return None
        spec, operands = _pulled_spec(node, index)
        return like(einsum(spec, g, *operands), node.args[index])

    rule.__doc__ = ("G : einsum(s, ..., dA_i, ...) = einsum(s_i, G, A_j (j != i)) : dA_i, "
                    "the output's letters in as G's and A_i's out (for each operand i)")
    return rule


def vec_einsum(node, out, js):
    """vec(d einsum(s, ..., dA_i, ...)) = einsum(s'_i, A_j (j != i)) vec(dA_i), the local
    Jacobian an einsum whose output letters are the output's then A_i's (Diag of it when the
    two are one letter): a matrix when they are two letters at most."""
    total = None
    for index, j in enumerate(js):
        if j is None:
            continue
        spec = parse_spec(node.params[0])
        _refuse_groups(node, spec)
        term, output = spec.terms[index], spec.output
        others = [t for k, t in enumerate(spec.terms) if k != index]
        operands = [a for k, a in enumerate(node.args) if k != index]
        if len(set(term)) != len(term) or len(output) + len(term) > 2 or \
                (output and output == term and len(term) != 1):
            raise UnsupportedError(f"the Jacobian of {node} needs an array of more than two "
                                   "axes; ask for a gradient")
        local = _local_jacobian(node, index, spec.output, others, operands)
        total = add(total, matmul(local, j))
    return total


def _local_jacobian(node: Node, index: int, output: str, others: list[str],
                    operands: list[Node]) -> Node:
    spec, moving = parse_spec(node.params[0]), node.args[index]
    term = spec.terms[index]
    held = set(output).union(*others)
    for letter, size in zip(term, axes(moving), strict=True):
        if letter not in held:
            others.append(letter)
            operands.append(ones_vector(size))
    if output and output == term:  # out_i = c_i x_i: Diag(c)
        return call("Diag", einsum(f"{','.join(others)}->{term}", *operands))
    local = einsum(f"{','.join(others)}->{output + term}", *operands)
    if not output:  # a number: the gradient's vec as a row
        return transpose(vec(local))
    return vec(local) if not term else local


define('einsum',
       differential=d_einsum,
       adjoints=tuple(pull_einsum(index) for index in range(MAX_OPERANDS)),
       jacobian=vec_einsum,
       shape=einsum_shape,
       syntax=Syntax("einsum"),
       latex=Latex(special=True, reads=("einsum",)),
       code=Code(numpy="_einsum({spec}, {operands})", torch="_einsum({spec}, {operands})",
                 helpers=("_einsum",), params=("spec",)),
       sympy=lambda s, node, *args: s.no_form(node),
       tensors=True,
       stable=(),
       scalar="einsum(',->', a, b) = a * b: numbers are factored out before an einsum is "
              "built",
       cost="cheap")

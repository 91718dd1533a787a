"""Matrices of r x c blocks of N x N diagonals, and the Kronecker products around them, never
formed.

The vec rules write Jacobians and Hessians through a row-wise operation (softmax over a batch of N
rows) as products of ``kron(I_k, A)``, ``kron(C, I_N)``, ``Diag(vec(P))`` and ``I(N*k)``.  Each
middle factor M is r x c blocks, each block an N x N diagonal, so it is held as an (N, r, c)
array T with

    M[i*N + n, j*N + m] = delta_nm T[n, i, j]

(``kron(C, I_N)``: T[n] = C; ``Diag(vec(P))``: T[n] = Diag(P[n, :]); ``I(N*k)``: T[n] = I_k).
Sums, scalar multiples and transposes of such matrices are those of their arrays, and a product
is the batched product T1[n] @ T2[n].  The Kronecker factors outside contract over the batch:

    (kron(I_k, A) @ M @ kron(I_c, B))[i*p + a, j*q + b] = sum_n A[a, n] T[n, i, j] B[n, b],

the block (i, j) being ``A @ Diag(T[:, i, j]) @ B`` (Magnus & Neudecker 2019, ch. 2, the
mixed-product rule of kron; Bishop 2006, eq. 4.110 for softmax regression's Hessian, the sum over
n of kron(Diag(p_n) - p_n p_n', x_n x_n')).  Nothing of size N^2 k^2 is built: the softmax
regression Hessian takes an (N, k, k) array, where the Kronecker form took (N k)^2 entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..core.ir import Node
from ..core.shapes import Dim
from .backends import Backend


class Writing(Protocol):
    """What this module needs of the writer: operands' code, dimensions' code, the spelling."""

    code: Backend
    names: dict[Node, str]
    uses: dict[Node, int]
    held_blocks: dict
    symmetric: frozenset  # nodes known symmetric (Hessians): half their blocks are computed

    def temporary(self, text: str) -> str: ...

    def value(self, node: Node) -> str: ...

    def dim(self, d: Dim) -> str: ...

    def inline(self, node: Node) -> bool: ...


@dataclass(frozen=True)
class Blocks:
    """The code of an (N, r, c) array (or (1, r, c), the same for every n) holding a matrix of
    r x c blocks of N x N diagonals."""

    code: str
    rows: Dim
    cols: Dim


def diagonal_blocks_product(node: Node, writer: Writing) -> str:
    """The code of a product ``[kron(I_k, A) @] M1 @ ... @ Mj [@ kron(I_c, B)]`` whose middle
    factors are blocks of N x N diagonals with an identity or a Kronecker product among them,
    or "" when node is not one (the module's docstring).  A sum among the factors is
    distributed: ``L @ (M1 - M2) @ R`` as ``L @ M1 @ R - L @ M2 @ R``, one contraction of
    ``M1 - M2``'s blocks where both terms are such products.  Of a symmetric product
    (a Hessian) the blocks above the diagonal are computed, the others are their transposes."""
    parts = _factors(node.args[0], writer) + _factors(node.args[1], writer)
    return _written(parts, writer, node in writer.symmetric)


def diagonal_blocks_sum(node: Node, writer: Writing) -> str:
    """The code of a sum of products ``kron(I_k, A) @ Mi @ kron(I_k, B)`` with the same outer
    factors, as one contraction of the summed blocks (one result formed, not one a term), or
    "" when node is not one."""
    expanded = []
    for sign, term in _signed_terms(node, writer, "+", top=True):
        if term.op != "matmul" or any(a.is_scalar for a in term.args):
            return ""
        parts = _factors(term.args[0], writer) + _factors(term.args[1], writer)
        expanded += _expanded(parts, writer, sign)
    return _summed(expanded, writer, node in writer.symmetric) if len(expanded) > 1 else ""


def _signed_terms(node: Node, writer: Writing, sign: str, top: bool = False
                  ) -> list[tuple[str, Node]]:
    """The terms of a sum computed here, each with its sign ("+" or "-")."""
    flipped = "-" if sign == "+" else "+"
    if node.op in ("add", "sub") and not node.is_scalar and (top or writer.inline(node)):
        second = flipped if node.op == "sub" else sign
        return _signed_terms(node.args[0], writer, sign) + \
            _signed_terms(node.args[1], writer, second)
    if node.op == "neg" and (top or writer.inline(node)):
        return _signed_terms(node.args[0], writer, flipped)
    return [(sign, node)]


def _expanded(parts: list[Node], writer: Writing, sign: str = "+"
              ) -> list[tuple[str, list[Node]]]:
    """The product of parts with its sums among the factors distributed: signed lists of
    factors (``L @ (M1 - M2) @ R`` is ``+ L @ M1 @ R`` and ``- L @ M2 @ R``)."""
    for index, part in enumerate(parts):
        if part.op in ("add", "sub") and not part.is_scalar and writer.inline(part) and \
                _formed_large(part):
            before, after = parts[:index], parts[index + 1:]
            return [signed for term_sign, term in _signed_terms(part, writer, "+", top=True)
                    for signed in _expanded(before + _factors(term, writer) + after, writer,
                                            "+" if term_sign == sign else "-")]
    return [(sign, parts)]


def _summed(expanded: list[tuple[str, list[Node]]], writer: Writing, symmetric: bool) -> str:
    """The code of a signed sum of products with the same Kronecker factors outside, as one
    contraction of the sum of their middles' blocks, or ""."""
    ends = {(parts[0], parts[-1]) for _, parts in expanded}
    if len(ends) != 1 or any(len(parts) < 3 for _, parts in expanded):
        return ""
    [(first, last)] = ends
    left, right = _outer(first, writer), _outer(last, writer)
    if left is None or right is None:
        return ""
    middles = [parts[1:-1] for _, parts in expanded]
    for n in _batch_sizes(left, right, [part for middle in middles for part in middle]):
        folded = [_folded(middle, n, writer) for middle in middles]
        if any(f is None or f.rows is not left[0] or f.cols is not right[0] for f in folded):
            continue
        summed = "".join(f" {sign} {f.code}" for (sign, _), f in zip(expanded, folded,
                                                                      strict=True))
        summed = summed[3:] if summed.startswith(" + ") else f"(-{summed[3:]})"
        return writer.code("diagonal blocks product", left[1], f"({summed})", right[1],
                           writer.dim(n), symmetric)
    return ""


def _written(parts: list[Node], writer: Writing, symmetric: bool = False) -> str:
    written = _product(parts, writer, symmetric)
    if written:
        return written
    expanded = _expanded(parts, writer)
    summed = _summed(expanded, writer, symmetric) if len(expanded) > 1 else ""
    if summed:
        return summed
    for index, part in enumerate(parts):
        if part.op in ("add", "sub") and not part.is_scalar and writer.inline(part) and \
                _formed_large(part):
            before, after = parts[:index], parts[index + 1:]
            terms = [_written(before + _factors(term, writer) + after, writer)
                     for term in part.args]
            sign = "+" if part.op == "add" else "-"
            return f"({terms[0]} {sign} {terms[1]})" if all(terms) else ""
    return ""


def _product(parts: list[Node], writer: Writing, symmetric: bool = False) -> str:
    """The code of the product of parts as blocks between Kronecker factors, or ""."""
    if len(parts) < 2:
        return ""
    left, right = _outer(parts[0], writer), _outer(parts[-1], writer)
    middle = parts[(left is not None):len(parts) - (right is not None)]
    if not middle or not any(_formed_large(part) for part in middle):
        return ""
    for n in _batch_sizes(left, right, middle):
        folded = _folded(middle, n, writer)
        if folded is None or (left and left[0] is not folded.rows) or \
                (right and right[0] is not folded.cols):
            continue
        return writer.code("diagonal blocks product", left[1] if left else "None",
                           folded.code, right[1] if right else "None", writer.dim(n),
                           bool(symmetric and left and right))
    return ""


def _factors(node: Node, writer: Writing) -> list[Node]:
    """The factors of a matrix product computed here (nested products flattened)."""
    if node.op == "matmul" and not any(a.is_scalar for a in node.args) and \
            writer.inline(node):
        return _factors(node.args[0], writer) + _factors(node.args[1], writer)
    return [node]


def _outer(node: Node, writer: Writing) -> tuple[Dim, str, Node] | None:
    """(k, A's code, A) for ``kron(I_k, A)`` of a matrix A, else None."""
    if node.op != "kron" or not writer.inline(node):
        return None
    first, second = node.args
    if first.op != "identity" or second.is_scalar or second.op == "Diag":
        return None
    return first.params[0], writer.value(second), second


def _formed_large(node: Node) -> bool:
    """Whether written plainly node would form an identity or a Kronecker product (what costs
    N^2 entries), looking inside sums and products."""
    if node.op in ("identity", "kron"):
        return True
    return node.op in ("matmul", "add", "sub", "neg", "transpose", "mul", "div") and \
        any(_formed_large(arg) for arg in node.args)


def _batch_sizes(left, right, middle: list[Node]) -> list[Dim]:
    """The candidates for N: the columns of A in kron(I, A), the rows of B, the identity of
    kron(C, I_N), the rows of P in Diag(vec(P))."""
    found: list[Dim] = []
    if left:
        found.append(left[2].shape.cols)
    if right:
        found.append(right[2].shape.rows)
    pending = list(middle)
    while pending:
        node = pending.pop()
        if node.op == "kron" and node.args[1].op == "identity":
            found.append(node.args[1].params[0])
        elif node.op == "kron" and node.args[1].op == "Diag":
            found.append(node.args[1].shape.rows)
        elif node.op == "Diag" and node.args[0].op == "vec":
            found.append(node.args[0].args[0].shape.rows)
        else:
            pending.extend(node.args)
    return [n for index, n in enumerate(found) if n.is_symbol and n not in found[:index]]


def _folded(middle: list[Node], n: Dim, writer: Writing) -> Blocks | None:
    """The blocks of the product of the middle factors, or None if one is not such a matrix.
    ``Diag(vec(I_N))`` between two factors L and R selects: block n of L @ it @ R is the outer
    product L[n][:, n] R[n][n, :], computed without its (N, N, N) array."""
    result, selecting = None, False
    for part in middle:
        if result is not None and not selecting and _selection(part, n):
            selecting = True
            continue
        blocks = _blocks(part, n, writer)
        if blocks is None:
            return None
        if selecting:
            result = Blocks(writer.code("selected blocks", result.code, blocks.code),
                            result.rows, blocks.cols)
            selecting = False
            continue
        result = blocks if result is None else \
            Blocks(f"({result.code} @ {blocks.code})", result.rows, blocks.cols)
    return None if selecting else result


def _selection(node: Node, n: Dim) -> bool:
    """Whether node is Diag(vec(I_n))."""
    return node.op == "Diag" and node.args[0].op == "vec" and \
        node.args[0].args[0].op == "identity" and node.args[0].args[0].params[0] is n


def _blocks(node: Node, n: Dim, writer: Writing) -> Blocks | None:
    """node as blocks of n x n diagonals, or None where it is not one; a node used several
    times has its blocks computed once."""
    if node.op == "identity":
        r = _quotient(node.params[0], n)
        return Blocks(f"{writer.code('identity', writer.dim(r))}[None]", r, r) if r else None
    if node in writer.names or node.is_scalar:
        return None
    if writer.inline(node):
        return _blocks_of(node, n, writer)
    if (node, n) not in writer.held_blocks:
        blocks = _blocks_of(node, n, writer)
        writer.held_blocks[node, n] = blocks and \
            Blocks(writer.temporary(blocks.code), blocks.rows, blocks.cols)
    return writer.held_blocks[node, n]


def _blocks_of(node: Node, n: Dim, writer: Writing) -> Blocks | None:
    op, args = node.op, node.args
    if op == "kron" and args[1].op == "identity" and args[1].params[0] is n and \
            not args[0].is_scalar:
        return Blocks(f"{writer.value(args[0])}[None]", args[0].shape.rows, args[0].shape.cols)
    if op == "kron" and args[0].op == "identity" and args[1].op == "Diag" and \
            args[1].shape.rows is n:  # kron(I_k, Diag(v)): every diagonal block v
        k = args[0].params[0]
        identity = writer.code("identity", writer.dim(k))
        return Blocks(f"({writer.value(args[1].args[0])}[:, :, None] * {identity}[None])", k, k)
    if op == "Diag":
        return _diagonal(args[0], n, writer)
    if op in ("matmul", "add", "sub", "mul", "div") and args[0].is_scalar != args[1].is_scalar:
        return _scaled(node, n, writer)
    parts = [_blocks(arg, n, writer) for arg in args]
    if any(part is None for part in parts):
        return None
    if op == "transpose":
        return Blocks(f"{parts[0].code}.swapaxes(-1, -2)", parts[0].cols, parts[0].rows)
    if op == "neg":
        return Blocks(f"(-{parts[0].code})", parts[0].rows, parts[0].cols)
    if op in ("matmul", "add", "sub"):
        first, second = parts
        sign = {"matmul": "@", "add": "+", "sub": "-"}[op]
        cols = second.cols if op == "matmul" else first.cols
        return Blocks(f"({first.code} {sign} {second.code})", first.rows, cols)
    return None


def _diagonal(v: Node, n: Dim, writer: Writing) -> Blocks | None:
    """Diag(v) of a column v of r*n entries: block (i, i)'s diagonal is v's i-th run of n."""
    r = _quotient(v.shape.rows, n) if v.shape.cols is Dim(1) else None
    if not r:
        return None
    if v.op == "vec" and v.args[0].shape.rows is n:  # vec(P)'s i-th run is P's column i
        columns = writer.value(v.args[0])
    else:
        columns = f"{writer.value(v)}.reshape({writer.dim(r)}, {writer.dim(n)}).T"
    return Blocks(writer.code("diagonal blocks", columns), r, r)


def _scaled(node: Node, n: Dim, writer: Writing) -> Blocks | None:
    """s * M, M * s, M / s for a number s (and s @ M, as the IR writes a 1 x 1 factor)."""
    first, second = node.args
    if node.op in ("add", "sub") or node.op == "div" and first.is_scalar:
        return None
    scalar, matrix = (first, second) if first.is_scalar else (second, first)
    blocks = _blocks(matrix, n, writer)
    if blocks is None:
        return None
    sign = "/" if node.op == "div" else "*"
    return Blocks(f"({blocks.code} {sign} {writer.value(scalar)})", blocks.rows, blocks.cols)


def _quotient(m: Dim, n: Dim) -> Dim | None:
    """r with m = r * n for a symbol n (``k`` for ``N*k`` and N), or None."""
    (symbol,) = n.symbols
    terms = []
    for symbols, coefficient in m.terms:
        if symbol not in symbols:
            return None
        rest = list(symbols)
        rest.remove(symbol)
        terms.append((tuple(rest), coefficient))
    r = Dim.of_terms(terms)
    return r if terms and r * n is m else None

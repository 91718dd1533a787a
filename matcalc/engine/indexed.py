"""Kronecker and vec forms written as index sums: einsum with grouped output axes.

The vec rules write a Hessian with respect to a matrix W (d x k) as products of ``kron(I_k, A)``,
``Diag(vec(P))``, ``kron(C, I_N)`` and ``I(N*k)``, a chain a reader must contract by hand.  Each
such factor is, entry by entry, a product of entries and Kronecker deltas over composite indices
(Magnus & Neudecker 2019, ch. 2):

    kron(A, B)[(i, a), (j, b)] = A[i, j] B[a, b],   I(m)[x, y] = delta_xy,
    Diag(v)[x, y] = v[x] delta_xy,                   vec(P)[(c, r)] = P[r, c],

a row index (i, a) running over i, then a within each i (vec's column-major order).  A product
contracts the left factor's column index with the right one's row index, axis by axis; an
identity's index splits into any factors of its size.  What is left is a sum of terms, each an
einsum of the operands with the result's row and column letters as two groups: the softmax
regression Hessian is

    einsum("na,n,ni,ij,nb->(ia)(jb)", X, w, P, I(k), X) - einsum("na,n,ni,nj,nb->(ia)(jb)", ...)

the sum over the batch of kron(Diag(p_n) - p_n p_n', x_n x_n') weighted by w_n (Bishop 2006,
eq. 4.110), which LaTeX prints as index sums.  :func:`indexed` returns that form, or None where a
factor has no such reading or the terms are too many; the pipeline keeps it where it prints
shorter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from string import ascii_lowercase

from ..core.algebra import add, const, div, identity, mul, neg, ones_vector, sub
from ..core.ir import Node, apply, dimval, size, walk
from ..core.shapes import ONE, Dim, Kind
from ..errors import MatcalcError
from ..ops.einsum import einsum

MAX_TERMS = 12  # more terms than this print longer than the chain they replace
STRUCTURE = frozenset({"kron", "vec", "commutation"})  # what a reader contracts by hand
GROWTH = 1.25  # a Hessian's index form is taken up to this much longer than its chain


@dataclass
class Term:
    """A sign times the product of operands' entries, its row and column indices as letters
    (ints until printed; several letters: a composite index, the first running slowest)."""

    sign: int
    factors: list[tuple[Node, tuple[int, ...]]]
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    sizes: dict[int, Dim] = field(default_factory=dict)
    scale: Node | None = None

    def renamed(self, old: int, new: tuple[int, ...]) -> Term:
        """Every ``old`` replaced by the letters ``new`` (one letter: a rename; several: an
        identity's index split into factors)."""
        def swap(letters: tuple[int, ...]) -> tuple[int, ...]:
            return tuple(x for letter in letters for x in (new if letter == old else (letter,)))
        return replace(self, factors=[(node, swap(letters)) for node, letters in self.factors],
                       rows=swap(self.rows), cols=swap(self.cols))

    def held(self, letter: int) -> bool:
        return any(letter in letters for _, letters in self.factors)


class _Letters:
    def __init__(self) -> None:
        self.count = 0

    def fresh(self) -> int:
        self.count += 1
        return self.count


def indexed(node: Node) -> Node | None:
    """``node`` (a matrix with a Kronecker, vec or identity structure) as a sum of einsums, or
    None (also where building one fails: a printed form is a choice, never an error)."""
    if node.kind is not Kind.MATRIX or not any(n.op in STRUCTURE for n in walk(node)):
        return None
    try:
        return _indexed(node)
    except MatcalcError:
        return None


def _indexed(node: Node) -> Node | None:
    letters = _Letters()
    terms = _terms(node, letters)
    if terms is None or not terms or len(terms) > MAX_TERMS or \
            any(size is ONE for term in terms for size in term.sizes.values()):
        return None  # an axis of one entry is no index
    scales = {term.scale for term in terms}
    common = scales.pop() if len(scales) == 1 else None  # one scale for all: written once
    total = None
    for term in terms:
        written = _written(replace(term, scale=None) if common is not None else term, letters)
        if written is None:
            return None
        if total is None:
            total = written if term.sign > 0 else neg(written)
        else:
            total = add(total, written) if term.sign > 0 else sub(total, written)
    if common is None:
        return total
    if common.op == "div" and common.args[0].op == "const" and common.args[0].params[0] == 1:
        return div(total, common.args[1])
    return mul(common, total)


def _terms(node: Node, letters: _Letters) -> list[Term] | None:
    """The terms of node's entries, or None."""
    op, args = node.op, node.args
    if node.is_scalar:
        return None
    if op in ("add", "sub"):
        first, second = _terms(args[0], letters), _terms(args[1], letters)
        if first is None or second is None:
            return None
        sign = -1 if op == "sub" else 1
        return first + [replace(t, sign=sign * t.sign) for t in second]
    if op == "neg":
        inner = _terms(args[0], letters)
        return None if inner is None else [replace(t, sign=-t.sign) for t in inner]
    if (op in ("mul", "matmul") and (args[0].is_scalar or args[1].is_scalar)) or \
            (op == "div" and args[1].is_scalar and not args[0].is_scalar):
        scalar, matrix = (args[0], args[1]) if args[0].is_scalar else (args[1], args[0])
        inner = _terms(matrix, letters)
        if inner is None:
            return None
        factor = scalar if op == "mul" else div(const(1.0), scalar)
        return [replace(t, scale=factor if t.scale is None else mul(t.scale, factor))
                for t in inner]
    if op == "matmul":
        return _product(args, letters)
    if op == "mul" and node.kind is Kind.VECTOR and all(a.op == "vec" for a in args):
        return _hadamard(args, letters)  # vec(A) * vec(B): entry by entry
    if op == "transpose":
        inner = _terms(args[0], letters)
        return None if inner is None else [replace(t, rows=t.cols, cols=t.rows) for t in inner]
    if op == "kron":
        return _kron(args, letters)
    if op == "identity" or (op == "ones" and node.kind is Kind.VECTOR):
        x = letters.fresh()
        return [Term(1, [], (x,), (x,) if op == "identity" else (), {x: node.shape.rows})]
    if op == "commutation":  # K(m, n) vec(A) = vec(A') for an m x n A
        r, c = letters.fresh(), letters.fresh()
        m, n = node.params
        return [Term(1, [], (r, c), (c, r), {r: m, c: n})]
    if op == "Diag" and args[0].kind is Kind.VECTOR:
        inner = _terms(args[0], letters)
        return None if inner is None else [replace(t, cols=t.rows) for t in inner]
    if op == "vec":
        inner = _terms(args[0], letters)
        return None if inner is None else [replace(t, rows=t.cols + t.rows, cols=())
                                           for t in inner]
    return _operand(node, letters)


def _operand(node: Node, letters: _Letters) -> list[Term] | None:
    """An operand's entries: a matrix two letters, a vector one."""
    if node.kind is Kind.MATRIX:
        r, c = letters.fresh(), letters.fresh()
        return [Term(1, [(node, (r, c))], (r,), (c,), {r: node.shape.rows, c: node.shape.cols})]
    if node.kind is Kind.VECTOR:
        r = letters.fresh()
        return [Term(1, [(node, (r,))], (r,), (), {r: node.shape.rows})]
    if node.kind is Kind.ROW:
        c = letters.fresh()
        return [Term(1, [(node, (c,))], (), (c,), {c: node.shape.cols})]
    return None


def _kron(args: tuple[Node, ...], letters: _Letters) -> list[Term] | None:
    first, second = _terms(args[0], letters), _terms(args[1], letters)
    if first is None or second is None or len(first) * len(second) > MAX_TERMS:
        return None
    return [_joined(a, b, a.rows + b.rows, a.cols + b.cols) for a in first for b in second]


def _joined(a: Term, b: Term, rows: tuple[int, ...], cols: tuple[int, ...]) -> Term:
    scale = a.scale if b.scale is None else (b.scale if a.scale is None else
                                             mul(a.scale, b.scale))
    return Term(a.sign * b.sign, a.factors + b.factors, rows, cols, {**a.sizes, **b.sizes},
                scale)


def _product(args: tuple[Node, ...], letters: _Letters) -> list[Term] | None:
    return _pairwise(args, letters, lambda a, b: _contracted(_joined(a, b, a.rows, b.cols),
                                                             a.cols, b.rows))


def _hadamard(args: tuple[Node, ...], letters: _Letters) -> list[Term] | None:
    return _pairwise(args, letters, lambda a, b: _contracted(_joined(a, b, a.rows, a.cols),
                                                             a.rows, b.rows))


def _pairwise(args: tuple[Node, ...], letters: _Letters,
              combined: Callable[[Term, Term], Term | None]) -> list[Term] | None:
    """Every term of the first argument combined with every term of the second (None when one
    side has no index form, a pair cannot combine, or the terms would be too many)."""
    first, second = _terms(args[0], letters), _terms(args[1], letters)
    if first is None or second is None or len(first) * len(second) > MAX_TERMS:
        return None
    terms = []
    for a in first:
        for b in second:
            joined = combined(a, b)
            if joined is None:
                return None
            terms.append(joined)
    return terms


def _contracted(term: Term, left: tuple[int, ...], right: tuple[int, ...]) -> Term | None:
    """The term with the left factor's column letters made the right one's row letters, axis by
    axis (a letter no operand holds splits into letters whose sizes multiply to its own).  A
    letter summed over that no operand holds (ones(k)' @ ones(k)) sums a constant: its size
    scales the term."""
    left, right = list(left), list(right)
    joined: list[int] = []  # the letters made one, as they are now called

    def renamed(letters: list[int], old: int, new: tuple[int, ...]) -> list[int]:
        return [z for letter in letters for z in (new if letter == old else (letter,))]

    while left and right:
        x, y = left[0], right[0]
        if term.sizes[x] == term.sizes[y]:
            term = term.renamed(y, (x,))
            right, joined = renamed(right, y, (x,)), [*renamed(joined, y, (x,)), x]
            left, right = left[1:], right[1:]
            continue
        split = _split(term, x, right) or _split(term, y, left)
        if split is None:
            return None
        old, new = split
        term = term.renamed(old, new)
        left, right, joined = (renamed(part, old, new) for part in (left, right, joined))
    if left or right:
        return None
    for x in dict.fromkeys(joined):
        if x not in term.rows + term.cols and not term.held(x):
            size = dimval(term.sizes[x])
            term = replace(term, scale=size if term.scale is None else mul(term.scale, size))
    return term


def _split(term: Term, letter: int, other: list[int]) -> tuple[int, tuple[int, ...]] | None:
    """(letter, the first letters of ``other`` whose sizes multiply to letter's) where no
    operand holds ``letter``."""
    if term.held(letter):
        return None
    product = None
    for count, x in enumerate(other, 1):
        product = term.sizes[x] if product is None else product * term.sizes[x]
        if product == term.sizes[letter]:
            return letter, tuple(other[:count])
    return None


def _written(term: Term, letters: _Letters) -> Node | None:
    """The term as einsum(...) with (rows)(cols) output groups, or None."""
    factors = _squared(term.factors)
    output: list[int] = []
    for letter in term.rows + term.cols:
        if letter in output:  # a delta between two output positions: I(size) joins them
            twin = letters.fresh()
            factors.append((identity(term.sizes[letter]), (letter, twin)))
            output.append(twin)
        else:
            output.append(letter)
    held = {x for _, xs in factors for x in xs}
    for letter in output:
        if letter not in held:  # constant along it: a ones vector carries it
            factors.append((ones_vector(term.sizes[letter]), (letter,)))
    summed = {x for _, xs in term.factors for x in xs} - set(output)
    if any(not any(x in xs for _, xs in factors) for x in summed):
        return None
    name = _names(factors, output[:len(term.rows)], output[len(term.rows):])
    if name is None or not factors:
        return None
    rows, cols = output[:len(term.rows)], output[len(term.rows):]
    groups = "".join(_group([name[x] for x in part]) for part in (rows, cols) if part)
    spec = f"{','.join(''.join(name[x] for x in xs) for _, xs in factors)}->{groups}"
    node = einsum(spec, *(operand for operand, _ in factors))
    return node if term.scale is None else mul(term.scale, node)


def _squared(factors: list[tuple[Node, tuple[int, ...]]]) -> list[tuple[Node, tuple[int, ...]]]:
    """An operand met twice with the same letters as one operand squared:
    A_ni A_ni = (A .^ 2)_ni."""
    counts: dict[tuple[Node, tuple[int, ...]], int] = {}
    for factor in factors:
        counts[factor] = counts.get(factor, 0) + 1
    merged = []
    for (node, letters), count in counts.items():
        if count == 1:
            merged.append((node, letters))
        else:
            merged.append((apply("pow", node, const(float(count))), letters))
    return merged


ROW_LETTERS, COLUMN_LETTERS, SUMMED_LETTERS = "iacegk", "jbdfhl", "nmpqrstuvwxyz"


def _names(factors: list[tuple[Node, tuple[int, ...]]], rows: list[int], cols: list[int]
           ) -> dict[int, str] | None:
    """Letters as a book writes them: the row index (i, a), the column index (j, b), the summed
    ones n, m, ...; None past 26 letters."""
    name: dict[int, str] = {}
    for letters, pool in ((rows, ROW_LETTERS), (cols, COLUMN_LETTERS)):
        for x, letter in zip(letters, pool, strict=False):
            name[x] = letter
    spare = [c for c in SUMMED_LETTERS + ascii_lowercase if c not in name.values()]
    for x in dict.fromkeys([x for _, xs in factors for x in xs] + rows + cols):
        if x not in name:
            if not spare:
                return None
            name[x] = spare.pop(0)
            spare = [c for c in spare if c != name[x]]
    return name


def _group(letters: list[str]) -> str:
    return letters[0] if len(letters) == 1 else f"({''.join(letters)})"


# the printed-token model of the gallery's sizes: a name, a number, an operator, a bracket
TOKEN = re.compile(r"[0-9]+/[0-9]+(?![0-9.])|[A-Za-z_]\w*|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?"
                   r"|\.\^|\.T|\S")


def printed_size(node: Node) -> tuple[int, int]:
    """(printed tokens, tree size): the measure a printed form is chosen by."""
    return len(TOKEN.findall(str(node))), size(node)


def chosen(node: Node, hessian: bool) -> Node:
    """The printed form of a Jacobian or Hessian: its index-sum form where that prints smaller
    (:func:`printed_size`); for a Hessian whose chain a reader contracts by hand (a scalar's
    Hessian should never need that) also where it prints at most GROWTH times longer."""
    found = indexed(node)
    if found is None:
        return node
    (tokens, tree), (old_tokens, old_tree) = printed_size(found), printed_size(node)
    if (tokens, tree) < (old_tokens, old_tree) or \
            hessian and by_hand(node) and tokens <= GROWTH * old_tokens:
        return found
    return node


def by_hand(node: Node) -> bool:
    """Whether a reader contracts node's Kronecker structure by hand: a Kronecker product with
    an identity inside a longer product, or a Diag(vec(.)) (``kron(I(p), A)`` alone is a
    textbook form)."""
    for n in walk(node):
        if n.op == "Diag" and n.args[0].op == "vec":
            return True
        if n.op == "matmul" and any(arg.op == "kron" and "identity" in (a.op for a in arg.args)
                                    for arg in n.args):
            return True
    return False

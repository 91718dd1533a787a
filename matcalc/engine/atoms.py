"""How the collector (``polynomial.py``) reads some of its atoms.

- Mirror identities of the elementwise functions, ``f(-x) = a + b f(x) + c x`` (a facet of each
  row of ``core/functions.py``): ``f(-t)`` is written by ``f(t)`` where that occurs too, and
  ``f(y * t)`` with ``y`` +-1 entrywise by ``f(t)``, ``y``'s even powers being 1.
- Rows scaled by their sums, ``Diag(W @ 1) @ M = ((W @ 1) 1') * M``, where ``M`` stands in
  the expression as a factor too (the softmax adjoint ``P * G - Diag((P * G) @ 1) @ P``).
- A quotient the problem named, ``Y = X / r``, written by its name where a term divides ``X``
  by ``r``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core import ir
from ..core.constants import is_whole
from ..core.functions import FUNCTIONS
from ..core.ir import Node
from ..core.shapes import Kind
from ..errors import ShapeError
from .laurent import Monomial, Polynomial, _add, _atom, _multiply, _order

Quotients = dict[Node, tuple[Node, Monomial]]  # X -> (Y, r) for a definition Y = X / r


def scaled_rows(node: Node) -> tuple[Node, Node] | None:
    """(v, M) for Diag(v) @ M with M a matrix: M's rows scaled, the entrywise product of v
    spread over the columns with M ((v 1') * M)."""
    if node.op != "matmul" or node.kind is not Kind.MATRIX:
        return None
    diagonal, matrix = node.args
    if diagonal.op != "Diag" or diagonal.args[0].kind is not Kind.VECTOR or \
            matrix.kind is not Kind.MATRIX or not _row_sums(diagonal.args[0]):
        return None  # other diagonals (Diag(vec(P)) of a Kronecker chain) stay as they are
    return diagonal.args[0], matrix


def _row_sums(v: Node) -> bool:
    """Whether v is W @ ones(m), the row sums of a matrix (the softmax adjoint's diagonal)."""
    return v.op == "matmul" and v.args[1].op == "ones" and v.args[0].kind is Kind.MATRIX


def scan(node: Node, kept: frozenset[Node], descend: Callable[[Node], bool]
         ) -> tuple[frozenset[Node], frozenset[Node]]:
    """The atoms of ``node`` (below the nodes ``descend`` says are of the algebra, ``kept``
    ones staying whole): the calls of functions with a mirror identity, and every atom."""
    calls: set[Node] = set()
    atoms: set[Node] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if item not in kept and descend(item):
            stack.extend(item.args)
            continue
        atoms.add(item)
        if FUNCTIONS.get(item.op) is not None and FUNCTIONS[item.op].mirror is not None:
            calls.add(item)
    return frozenset(calls), frozenset(atoms)


def mirrored(item: Node, scanned: Callable[[], tuple[frozenset[Node], frozenset[Node]]],
             pm1: Callable[[Node], bool]) -> tuple[str, Node, Polynomial] | None:
    """(f, t, z) with item = f(z t) and z = -1, y or -y entrywise (y a +-1 factor), when f has a
    mirror identity and writing item by f(t) lets it meet f(t) among the expression's calls
    (``scanned``, asked only here) or y's powers cancel; else None."""
    function = FUNCTIONS.get(item.op)
    if function is None or function.mirror is None:
        return None
    argument, sign = item.args[0], 1.0
    if argument.op == "neg":
        argument, sign = argument.args[0], -1.0
    factor = None
    if argument.op == "mul":
        factor = next((i for i in (0, 1) if pm1(argument.args[i])), None)
    if factor is not None:
        sign_factor = argument.args[factor]
        inner = argument.args[1 - factor]
        try:
            plain = ir.apply(item.op, inner)
        except ShapeError:
            return None
        if plain.shape != item.shape:
            return None
        return item.op, inner, {((sign_factor, 1.0),): sign}
    if sign > 0 or argument.op == "neg":
        return None
    plain = ir.apply(item.op, argument)
    return (item.op, argument, {(): -1.0}) if plain in scanned()[0] else None


def reflected(name: str, argument: Node, z: Polynomial,
              expand_argument: Callable[[Node], Polynomial]) -> Polynomial:
    """f(z t) for z = +-1 entrywise: ((1 + z) / 2) f(t) + ((1 - z) / 2) (a + b f(t) + c t),
    from f(-t) = a + b f(t) + c t."""
    a, b, c = FUNCTIONS[name].mirror
    plain = _atom(ir.apply(name, argument))
    mirror = _add({(): float(a)} if a else {}, {m: b * k for m, k in plain.items()})
    if c:
        mirror = _add(mirror, {m: c * k for m, k in expand_argument(argument).items()})
    half = {m: k / 2 for m, k in z.items()}
    plus = _add({(): 0.5}, half)
    minus = _add({(): 0.5}, half, -1.0)
    return _add(_multiply(plus, plain), _multiply(minus, mirror))


def pm1_reduced(polynomial: Polynomial, pm1: Callable[[Node], bool]) -> Polynomial:
    """Powers of +-1 atoms taken modulo 2 (y * y = 1, 1 / y = y)."""
    if not any(pm1(a) for m in polynomial for a, _ in m):
        return polynomial
    result: Polynomial = {}
    for monomial, coefficient in polynomial.items():
        powers = tuple((a, k % 2 if pm1(a) and is_whole(k) else k) for a, k in monomial)
        key = tuple(item for item in powers if item[1] != 0)
        result[key] = result.get(key, 0.0) + coefficient
    return {m: c for m, c in result.items() if c != 0}


def contracted(polynomial: Polynomial, quotients: Quotients) -> Polynomial:
    """Each named quotient y = x / s written by its name where a term has x over s: x * s ^ -2
    -> y / s (x an atom, s a monomial of atoms: the polynomial of s, so that s = sqrt(u) meets
    u ^ -1/2; a term without the divisor keeps x)."""
    if not quotients:
        return polynomial
    result: Polynomial = {}
    for monomial, coefficient in polynomial.items():
        powers = dict(monomial)
        for top, (name, divisor) in quotients.items():
            times = min([powers.get(top, 0)] + [-powers.get(atom, 0) / k for atom, k in divisor])
            if times < 1 or times != int(times):
                continue
            changes = [(top, -times), (name, times), *((atom, times * k) for atom, k in divisor)]
            for atom, change in changes:
                powers[atom] = powers.get(atom, 0) + change
                if powers[atom] == 0:
                    del powers[atom]
        key = tuple(sorted(powers.items(), key=lambda item: _order(item[0])))
        result[key] = result.get(key, 0.0) + coefficient
    return {m: c for m, c in result.items() if c != 0}

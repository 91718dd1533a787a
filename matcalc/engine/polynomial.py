"""Collecting terms of elementwise algebra: expand, cancel, rebuild when smaller.

An expression made of ``+ - * /`` (elementwise or by scalars) and numbers is a polynomial in its
other subexpressions (the *atoms*: ``s``, ``y``, ``X @ w``): products of atoms commute, so
``(1 - y) * s - y * (1 - s)`` expands to ``s - y s - y + y s`` and collects to ``s - y``.  An atom
may have a negative power only when it is known to be non-zero (positive), so ``(1 - y) / (1 -
s) * (1 - s)`` cancels to ``1 - y`` only for ``s = sigmoid(...)``.  A sum that divides is kept
whole (an atom) while it divides, so that it can cancel; once it no longer divides anything it is
expanded too.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core import ir
from ..core.ir import Node, size
from ..errors import ShapeError

Monomial = tuple[tuple[Node, int], ...]
Polynomial = dict[Monomial, float]

MAX_TERMS = 24
_REGION = frozenset({"add", "sub", "mul", "div", "neg", "const", "ones"})


class _TooLarge(Exception):
    pass


def _multiply(p: Polynomial, q: Polynomial) -> Polynomial:
    result: Polynomial = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            powers: dict[Node, int] = dict(m1)
            for atom, power in m2:
                powers[atom] = powers.get(atom, 0) + power
            monomial = tuple(sorted(((a, k) for a, k in powers.items() if k != 0),
                                    key=lambda item: _order(item[0])))
            result[monomial] = result.get(monomial, 0.0) + c1 * c2
            if len(result) > MAX_TERMS:
                raise _TooLarge
    return {m: c for m, c in result.items() if c != 0}


def _order(atom: Node) -> tuple[str, str, int]:
    """A stable order of atoms: names alphabetically, then by operation and size (ties keep
    the order of appearance), without printing deep atoms."""
    name = str(atom.params[0]) if atom.op in ("var", "ref", "const") else ""
    return (atom.op if not name else "", name, size(atom))


def _add(p: Polynomial, q: Polynomial, sign: float = 1.0) -> Polynomial:
    result = dict(p)
    for monomial, coefficient in q.items():
        result[monomial] = result.get(monomial, 0.0) + sign * coefficient
    if len(result) > MAX_TERMS:
        raise _TooLarge
    return {m: c for m, c in result.items() if c != 0}


def _atom(node: Node, power: int = 1) -> Polynomial:
    return {((node, power),): 1.0}


def expand(node: Node, nonzero: Callable[[Node], bool], kept: frozenset[Node]) -> Polynomial:
    """The polynomial of ``node``; nodes in ``kept`` stay atoms (bottom-up, without recursion:
    a chain of thousands of sums expands as well as a short one)."""
    done: dict[Node, Polynomial] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        item, ready = stack.pop()
        if item in done:
            continue
        inner = item not in kept and item.op in _REGION and item.op not in ("const", "ones")
        if inner and not ready:
            stack.append((item, True))
            stack.extend((arg, False) for arg in item.args if arg not in done)
            continue
        done[item] = _expanded(item, nonzero, kept, done) if inner else _leaf(item, kept)
    return done[node]


def _leaf(node: Node, kept: frozenset[Node]) -> Polynomial:
    if node in kept or node.op not in _REGION:
        return _atom(node)
    if node.op == "const":
        return {(): node.params[0]} if node.params[0] != 0 else {}
    return {(): 1.0}  # ones: 1 in every entry; the rebuilt result keeps the shape (collected())


def _expanded(node: Node, nonzero: Callable[[Node], bool], kept: frozenset[Node],
              done: dict[Node, Polynomial]) -> Polynomial:
    """The polynomial of an operation of the region, its arguments' polynomials known."""
    op = node.op
    if op == "neg":
        return {m: -c for m, c in done[node.args[0]].items()}
    left = done[node.args[0]]
    if op in ("add", "sub"):
        return _add(left, done[node.args[1]], 1.0 if op == "add" else -1.0)
    if op == "mul":
        return _multiply(left, done[node.args[1]])
    divisor = node.args[1]  # div
    if divisor.op == "const" and divisor.params[0] != 0:
        return {m: c / divisor.params[0] for m, c in left.items()}
    if nonzero(divisor):
        return _multiply(left, _reciprocal(divisor, nonzero, kept))
    return _atom(node)


def _reciprocal(divisor: Node, nonzero: Callable[[Node], bool], kept: frozenset[Node]
                ) -> Polynomial:
    """1 / divisor for a product of atoms; a divisor with a sum in it is one atom."""
    if divisor.op == "mul" and all(arg.op not in ("add", "sub") for arg in divisor.args) \
            and all(nonzero(arg) for arg in divisor.args):
        return _multiply(_reciprocal(divisor.args[0], nonzero, kept),
                         _reciprocal(divisor.args[1], nonzero, kept))
    return _atom(divisor, -1)


def divisors(node: Node) -> frozenset[Node]:
    """The nodes that divide something inside the elementwise region of ``node``."""
    found: set[Node] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if item.op not in _REGION:
            continue
        if item.op == "div":
            found.add(item.args[1])
        stack.extend(item.args)
    return frozenset(found)


def rebuild(polynomial: Polynomial, below: int | None = None) -> Node | None:
    """The polynomial as an expression, with what all its terms share factored out when that is
    smaller: 2 * (A x) / s - 2 * r * x / s -> 2 * (A x - r * x) / s.  None when ``below`` is
    given and neither form would have fewer than ``below`` nodes (sizes are counted from the
    polynomial, before any node is built)."""
    content = _content(polynomial)
    plain_size = _sum_size(polynomial)
    factored_size = _factored_size(content) if content is not None else plain_size
    if below is not None and min(plain_size, factored_size) >= below:
        return None
    if content is not None and factored_size < plain_size:
        return _factored(content)
    return _sum(polynomial)


def _sum(polynomial: Polynomial) -> Node:
    """Terms in order, positive ones first, negative ones subtracted."""
    result: Node | None = None
    ordered = sorted(polynomial.items(), key=lambda item: item[1] < 0)
    for monomial, coefficient in ordered:
        term = _monomial(monomial, abs(coefficient))
        if result is None:
            result = term if coefficient > 0 else ir.apply("neg", term)
        else:
            result = ir.apply("add" if coefficient > 0 else "sub", result, term)
    return result if result is not None else ir.const(0.0)


def _sum_size(polynomial: Polynomial) -> int:
    """The number of nodes of ``_sum(polynomial)``."""
    if not polynomial:
        return 1
    terms = sum(_monomial_size(monomial, abs(c)) for monomial, c in polynomial.items())
    all_negative = all(c < 0 for c in polynomial.values())
    return terms + len(polynomial) - 1 + (1 if all_negative else 0)


Content = tuple[dict[Node, int], float, Polynomial]


def _content(polynomial: Polynomial) -> Content | None:
    """What all terms share: a number (their common magnitude) and atoms each term has to a
    power of the same sign; with the rest of each term.  None when they share nothing."""
    if len(polynomial) < 2:
        return None
    monomials = [dict(m) for m in polynomial]
    common: dict[Node, int] = {}
    for atom in monomials[0]:
        powers = [m.get(atom, 0) for m in monomials]
        if all(p > 0 for p in powers):
            common[atom] = min(powers)
        elif all(p < 0 for p in powers):
            common[atom] = max(powers)
    magnitudes = {abs(c) for c in polynomial.values()}
    number = magnitudes.pop() if len(magnitudes) == 1 else 1.0
    if all(c < 0 for c in polynomial.values()):
        number = -number  # -a - b = -(a + b)
    if not common and number == 1.0:
        return None
    rest: Polynomial = {}
    for monomial, coefficient in polynomial.items():
        reduced = tuple((atom, power - common.get(atom, 0)) for atom, power in monomial
                        if power != common.get(atom, 0))
        rest[reduced] = coefficient / number
    return common, number, rest


def _factored(content: Content) -> Node:
    """content * (the rest)."""
    common, number, rest = content
    product = _sum(rest)
    factors = [atom for atom, power in common.items() for _ in range(max(power, 0))]
    for factor in reversed(factors):  # a scalar sum first: (1 + det(X)) * inv(X)'
        scalar_first = product.is_scalar and not factor.is_scalar
        product = ir.apply("mul", *((product, factor) if scalar_first else (factor, product)))
    if number != 1.0:
        product = ir.apply("mul", ir.const(number), product)
    for atom, power in common.items():
        for _ in range(max(-power, 0)):
            product = ir.apply("div", product, atom)
    return product


def _factored_size(content: Content) -> int:
    """The number of nodes of ``_factored(content)``."""
    common, number, rest = content
    shared = sum((size(atom) + 1) * abs(power) for atom, power in common.items())
    return _sum_size(rest) + shared + (2 if number != 1.0 else 0)


def _monomial_size(monomial: Monomial, coefficient: float) -> int:
    """The number of nodes of ``_monomial(monomial, coefficient)``."""
    factors = sum(max(power, 0) for _, power in monomial)
    atoms = sum(size(atom) * abs(power) for atom, power in monomial)
    divisions = sum(max(-power, 0) for _, power in monomial)
    constant = 0 if coefficient == 1.0 and factors else (1 if not factors else 2)
    return atoms + max(factors - 1, 0) + divisions + constant


def _monomial(monomial: Monomial, coefficient: float) -> Node:
    numerator = [atom for atom, power in monomial for _ in range(max(power, 0))]
    denominator = [atom for atom, power in monomial for _ in range(max(-power, 0))]
    product: Node | None = None
    for factor in numerator:
        product = factor if product is None else ir.apply("mul", product, factor)
    if coefficient != 1.0 or product is None:
        constant = ir.const(coefficient)
        product = constant if product is None else ir.apply("mul", constant, product)
    for factor in denominator:
        product = ir.apply("div", product, factor)
    return product


def collected(node: Node, nonzero: Callable[[Node], bool]) -> Node | None:
    """``node`` with its terms collected, or None when that does not apply or fails."""
    if node.op not in ("add", "sub", "mul", "div"):
        return None
    try:
        current = node
        for _ in range(3):
            kept = divisors(current)
            if not kept:  # nothing divides: one rebuild is final, worth it only when smaller
                candidate = rebuild(expand(current, nonzero, kept), below=size(node))
                current = candidate if candidate is not None else current
                break
            candidate = rebuild(expand(current, nonzero, kept))
            if candidate is None or candidate is current:
                break
            current = candidate
    except (_TooLarge, ShapeError):
        return None
    if current.shape != node.shape or current.kind is not node.kind:
        return None
    return current

"""Elementwise terms over one common denominator ("together"), kept by the simplifier only when
smaller.

The collector (``polynomial.py``) keeps a sum that divides whole, so ``1 / sqrt(u) - r .^ 2 /
c ^ 2 / u .^ 1.5`` with ``u = 1 + (r / c) .^ 2`` stays two terms.  Over the common denominator
``u .^ 1.5`` the numerator is ``u - r .^ 2 / c ^ 2``, and with ``u`` expanded there it is ``1``:
the pseudo-Huber weight ``(1 + (r / c) .^ 2) .^ -1.5`` (Hartley and Zisserman, Multiple View
Geometry, 2003, sec. A6.8).  What every term divides by (``c ^ 2`` in ``2 r / (1 + (r / c) .^
2) / c ^ 2``) is multiplied into a dividing sum that is not raised to a fraction, where it may
cancel: ``2 r / (c ^ 2 + r .^ 2)`` (the Cauchy loss's weight, Black and Anandan, 1996, eq. 7).
This is SymPy's ``together`` followed by ``cancel``, over the atoms of our own collector, so that
what is known to be non-zero, and the names the problem gave, stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.constants import is_whole
from ..core.ir import Node, size, walk
from .polynomial import (
    TERMS,
    Monomial,
    Numerators,
    Polynomial,
    _multiply,
    _TooLarge,
    divisors,
    expand,
    rebuild,
)

MAX_SUM_POWER = 3  # a dividing sum's power expanded in the numerator, at most


def together(node: Node, nonzero: Callable[[Node], bool],
             numerators: Numerators | None = None,
             pm1: Callable[[Node], bool] | None = None) -> Node | None:
    """``node`` over the common denominator of its terms, the dividing sums expanded in the
    numerator; None when no sum divides or the form cannot be built."""
    if node.op not in TERMS:
        return None
    kept = divisors(node)
    if not any(atom.op in ("add", "sub") for atom in kept):
        return None  # a sum is an atom of the expansion only where it divides: none here
    # a sum that multiplies the quotient kept whole: (nu + p) / 2 / (1 + b / nu) / nu is
    # (nu + p) / 2 / (nu + b), where expanding nu + p would cancel the nu the terms share;
    # and a sum raised to a power as well: (y - X @ w) .^ 2 / nu, not y .^ 2 - 2 * y * ...
    whole = (_multiplying_sums(node) - kept) if node.op in ("mul", "div") else frozenset()
    powered = _powered_sums(node) - kept
    trials = dict.fromkeys((kept, kept | whole, kept | whole | powered))
    candidates = [c for c in (_over_one_denominator(node, nonzero, trial, numerators, pm1)
                              for trial in trials) if c is not None]
    return min(candidates, key=size, default=None)


def _powered_sums(node: Node) -> frozenset[Node]:
    """The sums raised to a whole power inside ``node``: (y - X @ w) .^ 2."""
    return frozenset(item.args[0] for item in walk(node) if item.op == "pow" and
                     item.args[0].op in ("add", "sub") and item.args[1].op == "const" and
                     is_whole(item.args[1].params[0]))


def _multiplying_sums(node: Node) -> frozenset[Node]:
    """The sums among the factors of a product or quotient's numerator."""
    if node.op in ("add", "sub"):
        return frozenset({node})
    if node.op == "mul":
        return _multiplying_sums(node.args[0]) | _multiplying_sums(node.args[1])
    if node.op == "div":
        return _multiplying_sums(node.args[0])
    return frozenset()


def _over_one_denominator(node: Node, nonzero: Callable[[Node], bool], kept: frozenset[Node],
                          numerators: Numerators | None,
                          pm1: Callable[[Node], bool] | None) -> Node | None:
    """``node`` over one common denominator, the nodes ``kept`` staying atoms."""
    try:
        polynomial = _merged_sums(expand(node, nonzero, kept, numerators, pm1), nonzero, kept)
        sums = _dividing_sums(polynomial)
        if not sums:
            return None
        shared = _shared_divisors(polynomial, sums)
        denominator = dict(sums) | shared
        numerator = _expanded_sums(_times(polynomial, denominator), sums, nonzero, kept)
        folded = _folded(sums, shared, nonzero, kept)
        if folded is not None:
            denominator = {folded: 1.0}
        result = rebuild(_times(numerator, {a: -k for a, k in denominator.items()}))
    except (_TooLarge, ValueError):
        return None
    if result is None or result.shape != node.shape or result.kind is not node.kind:
        return None
    return result


def _merged_sums(polynomial: Polynomial, nonzero: Callable[[Node], bool],
                 kept: frozenset[Node]) -> Polynomial:
    """Each sum that is a monomial times another sum of the terms, to whole powers only,
    written as that: c ^ 2 + r .^ 2 = c ^ 2 * (1 + (r / c) .^ 2), so that the two meet."""
    atoms = list(dict.fromkeys(a for m in polynomial for a, _ in m if a.op in ("add", "sub")))
    if len(atoms) < 2:
        return polynomial
    expansions = {atom: expand(atom, nonzero, _inside(atom, kept)) for atom in atoms}
    replaced: dict[Node, Polynomial] = {}
    for atom in atoms:
        powers = [k for m in polynomial for a, k in m if a is atom]
        if not all(is_whole(k) for k in powers):
            continue
        for other in atoms:
            if other is atom or other in replaced:
                continue
            factor = _ratio(expansions[atom], expansions[other])
            if factor is not None and (min(powers) > 0 or all(nonzero(a) for a, _ in factor)):
                replaced[atom] = {factor + ((other, 1.0),): 1.0}
                break
    if not replaced:
        return polynomial
    result: Polynomial = {}
    for monomial, coefficient in polynomial.items():
        term: Polynomial = {(): coefficient}
        for atom, power in monomial:
            if atom in replaced:
                base = next(iter(replaced[atom]))
                term = _multiply(term, {tuple((a, k * power) for a, k in base): 1.0})
            else:
                term = _multiply(term, {((atom, power),): 1.0})
        for key, value in term.items():
            result[key] = result.get(key, 0.0) + value
    return {m: c for m, c in result.items() if c != 0}


def _inside(atom: Node, kept: frozenset[Node]) -> frozenset[Node]:
    """What stays whole when the sum ``atom`` is expanded: its divisors, and what the whole
    expansion keeps, but not the sum itself."""
    return (divisors(atom) | kept) - {atom}


def _ratio(p: Polynomial, q: Polynomial) -> Monomial | None:
    """A monomial m (coefficient 1) with p = m q, or None."""
    if len(p) != len(q):
        return None
    wanted = {frozenset(m): c for m, c in p.items()}
    first, coefficient = next(iter(p.items()))
    for monomial, other in q.items():
        if other != coefficient:
            continue
        powers = dict(first)
        for atom, power in monomial:
            powers[atom] = powers.get(atom, 0.0) - power
        factor = _monomial(powers)
        product = _multiply(q, {factor: 1.0})
        if {frozenset(m): c for m, c in product.items()} == wanted:
            return factor
    return None


def _dividing_sums(polynomial: Polynomial) -> dict[Node, float]:
    """Each sum with a negative power in some term, with the largest such power's size."""
    found: dict[Node, float] = {}
    for monomial in polynomial:
        for atom, power in monomial:
            if power < 0 and atom.op in ("add", "sub"):
                found[atom] = max(found.get(atom, 0.0), -power)
    return found


def _shared_divisors(polynomial: Polynomial, sums: dict[Node, float]) -> dict[Node, float]:
    """The other atoms every term divides by, with the smallest power's size."""
    monomials = [dict(m) for m in polynomial]
    shared: dict[Node, float] = {}
    for atom, power in monomials[0].items():
        if atom in sums or power >= 0:
            continue
        powers = [m.get(atom, 0.0) for m in monomials]
        if all(p < 0 for p in powers):
            shared[atom] = min(-p for p in powers)
    return shared


def _times(polynomial: Polynomial, powers: dict[Node, float]) -> Polynomial:
    """Every term multiplied by the atoms to the given powers."""
    return _multiply(polynomial, {_monomial(powers): 1.0})


def _monomial(powers: dict[Node, float]) -> Monomial:
    return tuple((atom, power) for atom, power in powers.items() if power != 0)


def _expanded_sums(polynomial: Polynomial, sums: dict[Node, float],
                   nonzero: Callable[[Node], bool], kept: frozenset[Node]) -> Polynomial:
    """The numerator with each dividing sum's whole powers (up to MAX_SUM_POWER) expanded."""
    result: Polynomial = {}
    expansions = {atom: expand(atom, nonzero, _inside(atom, kept)) for atom in sums}
    for monomial, coefficient in polynomial.items():
        term: Polynomial = {(): coefficient}
        rest: dict[Node, float] = {}
        for atom, power in monomial:
            whole = int(min(power, MAX_SUM_POWER + 1)) if atom in sums and power > 0 else 0
            if whole > MAX_SUM_POWER:
                raise ValueError("a dividing sum to a high power stays whole")
            for _ in range(whole):
                term = _multiply(term, expansions[atom])
            if power - whole:
                rest[atom] = power - whole
        term = _times(term, rest)
        for key, value in term.items():
            result[key] = result.get(key, 0.0) + value
    return {m: c for m, c in result.items() if abs(c) > 1e-12}


def _folded(sums: dict[Node, float], shared: dict[Node, float],
            nonzero: Callable[[Node], bool], kept: frozenset[Node]) -> Node | None:
    """One dividing sum to the first power times the shared divisors, as one new sum:
    (1 + (r / c) .^ 2) * c ^ 2 = c ^ 2 + r .^ 2; None when that does not apply."""
    if len(sums) != 1 or not shared:
        return None
    ((atom, power),) = sums.items()
    if power != 1:
        return None
    product = _times(expand(atom, nonzero, _inside(atom, kept)), shared)
    if any(p < 0 for monomial in product for _, p in monomial):
        return None
    return rebuild(product)

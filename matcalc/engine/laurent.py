"""Laurent polynomials in atoms (subexpressions that commute under the elementwise product):
monomials with whole or half powers, and their sums and products, bounded in size."""

from __future__ import annotations

from ..core.ir import Node, size

Monomial = tuple[tuple[Node, float], ...]  # powers are integers or halves (sqrt)
Polynomial = dict[Monomial, float]

MAX_TERMS = 24


class _TooLarge(Exception):
    pass


def _multiply(p: Polynomial, q: Polynomial) -> Polynomial:
    result: Polynomial = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            powers: dict[Node, float] = dict(m1)
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


def _atom(node: Node, power: float = 1) -> Polynomial:
    return {((node, power),): 1.0}

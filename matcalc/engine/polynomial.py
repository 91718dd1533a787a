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
from ..core.constants import is_whole, number_power
from ..core.ir import Node, size
from ..core.shapes import ONE, Dim, Kind
from ..core.spreads import Spread, axis_length, broadcast_operand, spread_of
from ..errors import ShapeError
from .atoms import contracted, mirrored, pm1_reduced, reflected, scaled_rows, scan
from .laurent import MAX_TERMS, Monomial, Polynomial, _add, _atom, _multiply, _order, _TooLarge

__all__ = ["MAX_TERMS", "Monomial", "Numerators", "Polynomial", "_TooLarge", "_multiply",
           "collected", "divisors", "expand", "rebuild"]

_REGION = frozenset({"add", "sub", "mul", "div", "neg", "const", "ones", "pow", "sqrt"})
_SPREAD = _REGION - {"const", "ones"}  # ones(n) @ ones(m)' stays a matrix of ones

TERMS = frozenset({"add", "sub", "mul", "div"})  # the nodes whose terms collect or combine
Numerators = dict[Node, tuple[Node, Node]]  # X - mu -> (Xn, s) for a definition Xn = (X - mu) / s


def expand(node: Node, nonzero: Callable[[Node], bool], kept: frozenset[Node],
           numerators: Numerators | None = None,
           pm1: Callable[[Node], bool] | None = None) -> Polynomial:
    """The polynomial of ``node``; nodes in ``kept`` stay atoms (bottom-up, without recursion:
    a chain of thousands of sums expands as well as a short one).  A column spread over the
    columns (v @ 1') is the polynomial of v with each atom spread (spreading is a homomorphism
    of the elementwise algebra), and the numerator of a named quotient is the name times the
    divisor (X - mu = Xn * s for Xn = (X - mu) / s: where Xn is defined, s is not zero); a
    quotient of atoms is written by its name where a term divides its numerator by its divisor
    (X / r = Y for Y = X / r).  A function of a negated argument is written by the function of
    the argument where that occurs too (f(-t) = a + b f(t) + c t: sigmoid(-t) = 1 -
    sigmoid(t)), and a function of y * t with y +-1 (``pm1``) by the function of t, y's even
    powers being 1."""
    numerators = numerators or {}
    pm1 = pm1 or (lambda _: False)
    scanned: list[tuple[frozenset[Node], frozenset[Node]]] = []

    def atoms_of_node() -> tuple[frozenset[Node], frozenset[Node]]:
        """(calls with a mirror identity, every atom) of ``node``, scanned once when asked."""
        if not scanned:
            scanned.append(scan(node, kept, lambda item: item.op in _REGION or
                                _spread(item) is not None))
        return scanned[0]

    quotients = {top: named for top, named in numerators.items() if top.op not in ("add", "sub")}
    if quotients:
        numerators = {top: named for top, named in numerators.items() if top not in quotients}
    done: dict[Node, Polynomial] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        item, ready = stack.pop()
        if item in done:
            continue
        named = numerators.get(item)
        spread = _spread(item) if named is None and item not in kept else None
        rows = scaled_rows(item) if named is None and spread is None and item not in kept \
            else None
        rows = rows if rows is not None and rows[1] in atoms_of_node()[1] else None
        inner = named is None and item not in kept and (spread is not None or (
            rows is not None) or (item.op in _REGION and item.op not in ("const", "ones")
                                  and (item.op not in ("pow", "sqrt") or
                                       _power_of(item) is not None)))
        if (inner or named is not None) and not ready:
            stack.append((item, True))
            below = (named[1],) if named is not None else (spread[0],) if spread else \
                rows if rows is not None else item.args
            stack.extend((arg, False) for arg in below if arg not in done)
            continue
        if named is not None:
            done[item] = _multiply(_atom(named[0]), done[named[1]])
        elif spread is not None:
            spread_out = _spread_polynomial(done[spread[0]], spread)
            done[item] = spread_out if spread_out is not None else _atom(item)
        elif rows is not None:
            v, matrix = rows
            ones = ir.apply("transpose", ir.ones(matrix.shape.cols, ONE, Kind.VECTOR))
            spread_rows = _spread_polynomial(done[v], spread_of(ir.apply("matmul", v, ones)))
            done[item] = _multiply(spread_rows, done[matrix]) if spread_rows is not None \
                else _atom(item)
        elif inner:
            done[item] = _expanded(item, nonzero, kept, done)
        else:
            mirrored_call = mirrored(item, atoms_of_node, pm1) if item not in kept else None
            done[item] = _leaf(item, kept) if mirrored_call is None else reflected(
                *mirrored_call, lambda t: expand(t, nonzero, kept, numerators, pm1))
    divided = {top: (name, _monomial_of(divisor, nonzero, kept, pm1))
               for top, (name, divisor) in quotients.items()}
    return pm1_reduced(contracted(_joined_means(done[node]), divided), pm1)


def _monomial_of(divisor: Node, nonzero: Callable[[Node], bool], kept: frozenset[Node],
                 pm1: Callable[[Node], bool]) -> Monomial:
    """A named quotient's divisor as the product of atoms the collector writes it with (s for
    an atom s; u ^ 1/2 for sqrt(u), spread where s is)."""
    polynomial = expand(divisor, nonzero, kept, None, pm1) if _spread(divisor) else {}
    if len(polynomial) == 1:
        ((monomial, coefficient),) = polynomial.items()
        if coefficient == 1.0 and monomial:
            return monomial
    return ((divisor, 1.0),)


def _joined_means(polynomial: Polynomial) -> Polynomial:
    """Sums along an axis divided by their length joined as the axis' mean, spread or not:
    (X @ 1) * m ^ -1 -> mean(X, 1), so that rebuilding writes the mean by its name; a sum of a
    sum likewise, each by its own length (1' @ sum(X, 0) / (T B) -> mean(mean(X, 0), 0))."""
    if not any(a.op == "dimval" for m in polynomial for a, _ in m):
        return polynomial
    result: Polynomial = {}
    for monomial, coefficient in polynomial.items():
        powers = dict(monomial)
        take = _counts(powers)
        for atom, power in monomial:
            length = _axis_length(atom)
            if power != 1 or length is None or atom not in powers:
                continue
            count = take(length)
            if count is not None:
                del powers[atom]
                powers[_mean_of(atom, count, take)] = 1
        key = tuple(sorted(powers.items(), key=lambda item: _order(item[0])))
        result[key] = result.get(key, 0.0) + coefficient
    return {m: c for m, c in result.items() if c != 0}


def _counts(powers: dict[Node, float]) -> Callable[[Dim], Node | None]:
    """take(length): a count of ``length`` that ``powers`` divides by, taken out of it; None
    when it divides by none."""
    def take(length: Dim) -> Node | None:
        count = next((a for a in powers if a.op == "dimval" and a.params[0] == length
                      and powers[a] < 0), None)
        if count is not None:
            powers[count] += 1
            if powers[count] == 0:
                del powers[count]
        return count
    return take


def _axis_length(atom: Node) -> Dim | None:
    """The length summed over by a sum along an axis (X @ ones(m), sum(X, a)) or its spread."""
    spread = _spread(atom, region=False)
    return axis_length(spread[0] if spread is not None else atom)


def _mean_of(atom: Node, count: Node, take: Callable[[Dim], Node | None]) -> Node:
    """The sum ``atom`` (or its spread) divided by ``count``: the mean (spread); what it sums,
    when that is a sum along an axis whose length ``take`` gives, is that mean in turn."""
    spread = _spread(atom, region=False)
    if spread is not None and _axis_length(spread[0]) is None:
        return ir.apply("div", atom, count)
    inner, again = spread if spread is not None else (atom, lambda u: u)
    index = 1 if inner.op == "matmul" and inner.args[0].op == "transpose" else 0
    summed = inner.args[index]
    length = axis_length(summed)
    below = take(length) if length is not None else None
    if below is not None:
        args = list(inner.args)
        args[index] = _mean_of(summed, below, take)
        inner = ir.apply(inner.op, *args, params=inner.params)
    return again(ir.apply("div", inner, count))


def _spread(node: Node, region: bool = True) -> Spread | None:
    """(v, spread) for what repeats v along an axis (core/spreads.py); None also when v is not
    elementwise algebra, unless ``region`` is False."""
    return spread_of(node, (lambda g: g.op in _SPREAD) if region else (lambda _: True))


def _spread_polynomial(polynomial: Polynomial, spread: Spread) -> Polynomial | None:
    """The polynomial of a spread of v from v's: each non-scalar atom spread (None when an
    atom is not of v's shape: a row broadcast inside v, which is not spread alike)."""
    inner, again = spread
    if any(not a.is_scalar and a.shape != inner.shape for m in polynomial for a, _ in m):
        return None

    def spread_atom(atom: Node) -> Node:  # a tensor spread over its leading axes: broadcast
        return atom if atom.is_scalar else broadcast_operand(again(atom))

    return {tuple(sorted(((spread_atom(a), k) for a, k in m), key=lambda item: _order(item[0]))):
            c for m, c in polynomial.items()}


def _leaf(node: Node, kept: frozenset[Node]) -> Polynomial:
    if node in kept or node.op not in ("const", "ones"):
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
    if op in ("pow", "sqrt"):
        return _powered(node, nonzero, done)
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
    """1 / divisor for a product or quotient of atoms (1 / (a / b) = b / a, a and b non-zero),
    a power of one (1 / a ^ k = a ^ -k); a divisor with a sum in it is one atom."""
    if divisor.op in ("mul", "div") and all(nonzero(arg) for arg in divisor.args):
        first = _reciprocal(divisor.args[0], nonzero, kept)
        second = _reciprocal(divisor.args[1], nonzero, kept)
        if divisor.op == "div":
            second = {tuple((a, -k) for a, k in m): 1 / c for m, c in second.items()}
        return _multiply(first, second)
    if divisor.op == "const" and divisor.params[0] != 0:
        return {(): 1 / divisor.params[0]}
    spread = _spread(divisor)
    if spread is not None:  # 1 / spread(v) = spread(1 / v)
        spread_out = _spread_polynomial(_reciprocal(spread[0], nonzero, kept), spread)
        return spread_out if spread_out is not None else _atom(divisor, -1)
    power = _power_of(divisor)
    if power is not None and divisor.args[0].op not in ("mul", "div"):
        return _atom(divisor.args[0], -power)
    return _atom(divisor, -1)


def _power_of(node: Node) -> float | None:
    """k for a ^ k (an integer or a half) and sqrt(a) (a half), else None."""
    if node.op == "sqrt":
        return 0.5
    if node.op == "pow" and node.args[1].op == "const":
        k = node.args[1].params[0]
        if is_whole(2 * k) and abs(k) <= 8:
            return k
    return None


def _powered(node: Node, nonzero: Callable[[Node], bool], done: dict[Node, Polynomial]
             ) -> Polynomial:
    """a ^ k of a polynomial: a monomial's powers multiplied by k, its atoms non-zero for a
    negative k; a half power only of c a ^ p with c > 0 and p odd (then a >= 0 where sqrt is
    defined: sqrt(a * a) is |a|, not a); a sum raised to a whole power k <= 3 is expanded."""
    k = _power_of(node)
    base = done[node.args[0]]
    whole = is_whole(k)
    if len(base) == 1:
        ((monomial, coefficient),) = base.items()
        odd_atom = len(monomial) == 1 and monomial[0][1] % 2 == 1 and coefficient > 0
        if (whole or odd_atom) and (k > 0 or all(nonzero(a) for a, _ in monomial)):
            return {tuple((a, p * k) for a, p in monomial): number_power(coefficient, k)}
    if whole and 1 < k <= 3:
        result = base
        for _ in range(int(k) - 1):
            result = _multiply(result, base)
        return result
    return _atom(node)


def divisors(node: Node) -> frozenset[Node]:
    """The nodes that divide something inside the elementwise region of ``node``."""
    found: set[Node] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        spread = _spread(item)
        if spread is not None:  # what a spread divides by divides its repeats
            stack.append(spread[0])
            continue
        if item.op not in _REGION:
            continue
        if item.op == "div":  # a power's base is what stays whole: 1 / sqrt(u) is u ^ -1/2
            divisor = item.args[1]
            while _spread(divisor) is not None:  # 1 / expand(sqrt(u), a, n): u stays whole
                divisor = _spread(divisor)[0]
            found |= _divisor_parts(divisor)
        power = _power_of(item)
        if power is not None and (power < 0 or not is_whole(power)):  # u .^ -2, sqrt(u)
            found.add(item.args[0])
        stack.extend(item.args)
    return frozenset(found)


def _divisor_parts(divisor: Node) -> set[Node]:
    """What stays whole of a divisor: a power's base, the sums of a product or quotient
    ((a + b) / 2 divides as 2 / (a + b): a + b stays whole), else the divisor itself."""
    if _power_of(divisor) is not None:
        return {divisor.args[0]}
    if divisor.op in ("mul", "div"):
        parts = [arg for arg in divisor.args if arg.op in ("add", "sub")]
        if parts:
            return set(parts)
    return {divisor}


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


Content = tuple[dict[Node, float], float, Polynomial]


def _content(polynomial: Polynomial) -> Content | None:
    """What all terms share: a number (their common magnitude) and atoms each term has to a
    power of the same sign; with the rest of each term.  None when they share nothing."""
    if len(polynomial) < 2:
        return None
    monomials = [dict(m) for m in polynomial]
    common: dict[Node, float] = {}
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
    factors = [_factor(atom, power) for atom, power in common.items() if power > 0]
    for factor in reversed(factors):  # a scalar sum first: (1 + det(X)) * inv(X)'
        scalar_first = product.is_scalar and not factor.is_scalar
        product = ir.apply("mul", *((product, factor) if scalar_first else (factor, product)))
    if number != 1.0:
        product = ir.apply("mul", ir.const(number), product)
    for atom, power in common.items():
        if power < 0:
            product = ir.apply("div", product, _factor(atom, -power))
    return product


def _factored_size(content: Content) -> int:
    """The number of nodes of ``_factored(content)``."""
    common, number, rest = content
    shared = sum(_factor_size(atom, abs(power)) + 1 for atom, power in common.items())
    return _sum_size(rest) + shared + (2 if number != 1.0 else 0)


def _factor_size(atom: Node, power: float) -> int:
    """The number of nodes of ``_factor(atom, power)``."""
    return size(atom) + (0 if power == 1 else 1 if power == 0.5 else 2)


def _factor(atom: Node, power: float) -> Node:
    """atom ^ power for a positive power: the atom, its sqrt, or a power (x * x -> x .^ 2)."""
    if power == 1:
        return atom
    if power == 0.5:
        return ir.apply("sqrt", atom)
    return ir.apply("pow", atom, ir.const(power))


def _lone_power(monomial: Monomial, coefficient: float) -> bool:
    """A monomial with no positive power whose first atom's power is not -1 or -1/2: written
    a .^ -1.5 / b, as books write it, not 1 / a .^ 1.5 / b."""
    return coefficient == 1.0 and bool(monomial) and all(p < 0 for _, p in monomial) and \
        monomial[0][1] not in (-1, -0.5)


def _monomial_size(monomial: Monomial, coefficient: float) -> int:
    """The number of nodes of ``_monomial(monomial, coefficient)``."""
    if _lone_power(monomial, coefficient):
        rest = monomial[1:]
        return size(monomial[0][0]) + 2 + sum(_factor_size(a, -p) + 1 for a, p in rest)
    factors = sum(1 for _, power in monomial if power > 0)
    atoms = sum(_factor_size(atom, abs(power)) for atom, power in monomial)
    divisions = sum(1 for _, power in monomial if power < 0)
    constant = 0 if coefficient == 1.0 and factors else (1 if not factors else 2)
    return atoms + max(factors - 1, 0) + divisions + constant


def _monomial(monomial: Monomial, coefficient: float) -> Node:
    if _lone_power(monomial, coefficient):
        product = ir.apply("pow", monomial[0][0], ir.const(monomial[0][1]))
        for atom, power in monomial[1:]:
            product = ir.apply("div", product, _factor(atom, -power))
        return product
    numerator = [_factor(atom, power) for atom, power in monomial if power > 0]
    denominator = [_factor(atom, -power) for atom, power in monomial if power < 0]
    product: Node | None = None
    for factor in numerator:
        product = factor if product is None else ir.apply("mul", product, factor)
    if coefficient != 1.0 or product is None:
        constant = ir.const(coefficient)
        product = constant if product is None else ir.apply("mul", constant, product)
    for factor in denominator:
        product = ir.apply("div", product, factor)
    return product


def collected(node: Node, nonzero: Callable[[Node], bool],
              numerators: Numerators | None = None,
              pm1: Callable[[Node], bool] | None = None) -> Node | None:
    """``node`` with its terms collected, or None when that does not apply or fails."""
    if node.op not in TERMS:
        return None
    try:
        current = node
        for _ in range(3):
            kept = divisors(current)
            if not kept:  # nothing divides: one rebuild is final, worth it only when smaller
                candidate = rebuild(expand(current, nonzero, kept, numerators, pm1),
                                    below=size(node))
                current = candidate if candidate is not None else current
                break
            candidate = rebuild(expand(current, nonzero, kept, numerators, pm1))
            if candidate is None or candidate is current:
                break
            current = candidate
    except (_TooLarge, ShapeError):
        return None
    if current.op == "const" and node.kind is not Kind.SCALAR:
        current = _constant_entries(current, node)
    if current.shape != node.shape or current.kind is not node.kind:
        return None
    return current


def _constant_entries(number: Node, node: Node) -> Node:
    """Every term cancelled to a number c (p / p, sqrt(p) ^ 3 / p ^ 1.5): the value is c in
    every entry of ``node``'s shape, ones(shape) or c * ones(shape); p's own division means p is
    non-zero wherever the expression is defined."""
    shape = node.shape
    filled = ir.ones(shape.rows, shape.cols, node.kind, shape.lead)
    return filled if number.params[0] == 1.0 else ir.apply("mul", number, filled)

"""Rewrite to a fixed point under a size model.

``simplify`` works bottom-up: each node's children are simplified first, then the rules of
``rules/simplification.py`` that look at its operation are tried until none fires.  These rewrites
are only kept when they make the expression smaller (the size model: nodes of the expression
tree): distributing a product over a sum (``s * (1 - y / s)`` -> ``s - y``), taking a transpose
out of a sum (``B' @ X' + X' @ B'`` -> ``(X @ B + B @ X)'``), and inlining a where-definition
into the places that use it.
(``tidy.py`` then gives a derivation's results their textbook shape.)
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core import ir
from ..core.ir import LEAVES, Node, size, walk
from ..core.program import Program
from ..core.spreads import spread_inner
from ..errors import ShapeError
from ..limits import check_time
from ..rules.facts import Facts
from ..rules.simplification import RULES
from .polynomial import TERMS, collected
from .together import together

MAX_REWRITES = 200  # at one node, before giving up on a fixed point
MAX_NESTED_COLLECTS = 8
MAX_NESTED_SIMPLIFICATIONS = 40  # a rewrite's result is simplified in turn, this deep at most

_BY_OP: dict[str, list] = {}
for _rule in RULES:
    for _op in _rule.ops:
        _BY_OP.setdefault(_op, []).append(_rule)


class Simplifier:
    """Simplifies nodes of one problem, remembering results."""

    def __init__(self, facts: Facts, names: dict[Node, Node] | None = None,
                 divisors: frozenset[Node] = frozenset()):
        self.facts = facts
        self.names = names or {}  # a definition's body -> the reference to it
        # what the function divides by: not zero wherever it and its derivative are defined
        self.divisors = divisors
        self.done: dict[Node, Node] = {}
        # X - mu -> (Xn, s) for each named quotient Xn = (X - mu) / s whose divisor is never
        # zero: the collector writes the numerator as the name times the divisor; for a
        # numerator that is no sum (Y = X / r) it writes X / r as Y where a term has both
        # S -> expand(s, 2, d) for a definition that spreads what it names along an axis: the
        # collector reads S as the spread, so that S and the s it repeats meet (LayerNorm's
        # sigma over a tensor's last axis)
        self._spreads = {ref: body for body, ref in self.names.items()
                         if ref.op == "ref" and spread_inner(body) is not None}
        self._shown: dict[Node, Node] = {}
        self._numerators = {body.args[0]: (ref, self._spreads.get(body.args[1], body.args[1]))
                            for body, ref in self.names.items()
                            if body.op == "div" and body.args[0].op not in ("const", "ones")
                            and self._nonzero(body.args[1])}
        self.fired: list[str] = []
        self._divisors_below: dict[Node, frozenset[Node]] = {}
        self._collecting = 0
        # (trial, node) pairs whose trial gave nothing smaller: a node met again (from another
        # rewrite, or while it was being settled) is not expanded again
        self._declined: set[tuple[str, Node]] = set()
        self._depth = 0
        # nodes being settled further up: a rewrite that leads back to one (distributing,
        # then collecting the same terms again) meets it as it stands instead of settling it
        # again, which repeated the same trials down to MAX_NESTED_SIMPLIFICATIONS
        self._settling: set[Node] = set()

    def __call__(self, root: Node) -> Node:
        if root in self.done:
            return self.done[root]
        if root in self._settling:
            return root
        if self._depth >= MAX_NESTED_SIMPLIFICATIONS:
            return root  # rewrites proposing rewrites this deep: leave this part as it is
        self._depth += 1
        try:
            for node in walk(root):
                if node not in self.done and node not in self._settling:
                    check_time()
                    settled = self._settled(node)
                    self.done[node] = self.names.get(settled, settled)
        finally:
            self._depth -= 1
        return self.done[root]

    def _settled(self, node: Node) -> Node:
        rebuilt = self._rebuilt(node)
        entered = {node, rebuilt} - self._settling
        self._settling |= entered
        try:
            return self._settle(rebuilt)
        finally:
            self._settling -= entered

    def _rebuilt(self, node: Node) -> Node:
        if node.op in LEAVES:
            return node
        # an argument being settled further up stands for itself
        args = tuple(self.done.get(arg, arg) for arg in node.args)
        if all(new is old for new, old in zip(args, node.args, strict=True)):
            return node
        return ir.apply(node.op, *args, params=node.params)

    def _settle(self, node: Node) -> Node:
        for _ in range(MAX_REWRITES):
            rewritten = self._rewrite_once(node)
            if rewritten is None:
                return node
            node = rewritten
        return node

    def _rewrite_once(self, node: Node) -> Node | None:
        for rule in _BY_OP.get(node.op, ()):
            try:
                result = rule.rewrite(node, self.facts)
            except ShapeError:  # pragma: no cover - a rule proposing an ill-shaped form declines
                result = None
            if result is not None and result is not node:
                self.fired.append(rule.name)
                return self(result)
        expanded = self._distributed(node)
        if expanded is not None:
            return expanded
        regrouped = self._regrouped_quotient(node)
        if regrouped is not None:
            return regrouped
        moved = self._number_moved_in(node)
        if moved is not None:
            return moved
        collected_terms = self._collected(node)
        if collected_terms is not None:
            return collected_terms
        common = self._together(node)
        if common is not None:
            return common
        return self._transpose_factored(node)

    def _collected(self, node: Node) -> Node | None:
        """Terms collected (polynomial.py), kept only when that alone makes it smaller (so
        collecting never cycles)."""
        return self._smaller(node, collected, "collect-terms")

    def _together(self, node: Node) -> Node | None:
        """Terms over one common denominator (together.py), kept only when smaller."""
        return self._smaller(node, together, "together")

    def _smaller(self, node: Node, trial, name: str) -> Node | None:
        """The trial's form of ``node``, simplified, when it is smaller than ``node``."""
        if node.op not in TERMS or self._collecting > MAX_NESTED_COLLECTS or \
                (name, node) in self._declined:
            return None
        own = self._own_divisors(node)
        nonzero = self._nonzero if not own else (lambda n: n in own or self._nonzero(n))
        candidate = trial(self._spreads_shown(node), nonzero, self._numerators, self.facts.pm1)
        if candidate is None or size(candidate) >= size(node):
            self._declined.add((name, node))
            return None
        self._collecting += 1
        try:
            candidate = self(candidate)
        finally:
            self._collecting -= 1
        self.fired.append(name)
        return candidate

    def _spreads_shown(self, root: Node) -> Node:
        """``root`` with each named spread (S = expand(s, 2, d)) written as its body, so that
        the collector sees what S repeats; remembered node by node."""
        if not self._spreads:
            return root
        shown = self._shown
        for node in walk(root):
            if node in shown:
                continue
            body = self._spreads.get(node)
            if body is not None or not node.args:
                shown[node] = body if body is not None else node
                continue
            args = tuple(shown[arg] for arg in node.args)
            shown[node] = node if all(a is b for a, b in zip(args, node.args, strict=True)) \
                else ir.apply(node.op, *args, params=node.params)
        return shown[root]

    def _own_divisors(self, root: Node) -> frozenset[Node]:
        """What ``root`` divides by (elementwise or as a scalar) and raises to negative powers,
        with their factors: wherever ``root`` is defined these are not zero, so a form that
        cancels them has its value there ((a / d) * d = a).  Remembered node by node."""
        known = self._divisors_below
        stack = [root]
        while stack:
            node = stack[-1]
            if node in known:
                stack.pop()
                continue
            missing = [arg for arg in node.args if arg not in known]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            found = frozenset().union(*(known[arg] for arg in node.args))
            own = None
            if node.op == "div" and node.args[1].op != "const":
                own = node.args[1]
            elif node.op == "pow" and node.args[1].op == "const" and node.args[1].params[0] < 0:
                own = node.args[0]
            if own is not None and own not in found:
                found = found | _with_factors({own})
            known[node] = found
        return known[root]

    def _nonzero(self, node: Node) -> bool:
        """Every entry is non-zero: the function divides by it, or the facts say so; a column
        spread over the columns (v @ 1') or a row over the rows when v is."""
        inner = spread_inner(self._spreads.get(node, node))
        if inner is not None:
            return self._nonzero(inner)
        return node in self.divisors or self.facts.nonzero(node)

    def _distributed(self, node: Node) -> Node | None:
        """a * (b +- c) as a * b +- a * c (either side), A @ (B +- C) likewise where A meets a
        term it cancels with (A @ (inv(A) @ B - I) = B - A), and (a +- b)' as a' +- b' and
        sum(a +- b, k) as sum(a, k) +- sum(b, k), kept only when that is smaller."""
        if node.op in ("transpose", "axis_sum") and node.args[0].op in ("add", "sub"):
            total = node.args[0]
            try:
                candidate = self(ir.apply(total.op, *(ir.apply(node.op, t, params=node.params)
                                                      for t in total.args)))
            except ShapeError:  # pragma: no cover - transposes of a sum's terms always fit
                return None
            if size(candidate) < size(node):
                self.fired.append("distribute")
                return candidate
            return None
        if node.op not in ("mul", "matmul") or (node.op == "matmul" and node.is_scalar):
            return None
        a, b = node.args
        for factor, total, left in ((a, b, True), (b, a, False)):
            if total.op not in ("add", "sub") or (node.op == "matmul" and not any(
                    _meets(factor, t, left) for t in total.args)):
                continue
            try:
                terms = [ir.apply(node.op, factor, t) if left else ir.apply(node.op, t, factor)
                         for t in total.args]
                candidate = self(ir.apply(total.op, *terms))
            except ShapeError:
                continue
            if size(candidate) < size(node):
                self.fired.append("distribute")
                return candidate
        return None

    def _transpose_factored(self, node: Node) -> Node | None:
        """A sum of transposed terms as the transpose of a sum, kept only when that is smaller:
        B' @ X' + X' @ B' = (X @ B + B @ X)'."""
        if node.op not in ("add", "sub") or node.is_scalar:
            return None
        terms = [_untransposed(term) for term in node.args]
        if _transposes(terms) >= _transposes(node.args):
            return None
        try:
            candidate = self(ir.apply("transpose", ir.apply(node.op, *terms)))
        except ShapeError:  # pragma: no cover - the terms' transposes always fit
            return None
        if size(candidate) >= size(node):
            return None
        self.fired.append("factor-transpose")
        return candidate

    def _regrouped_quotient(self, node: Node) -> Node | None:
        """A scalar divisor moved inwards, kept only when what it meets simplifies and the whole
        gets smaller: (c * v) / s = (c / s) * v for a scalar c, (a / t) / s = (a / s) / t; so
        (((g : y) / sigma) * y) / n becomes (mean(g * y) / sigma) * y; and (c / s) * v =
        c * (v / s), where v / s has a name (x / r -> y)."""
        if node.op == "mul":
            return self._quotient_moved_to(node)
        if node.op != "div" or not node.args[1].is_scalar:
            return None
        top, divisor = node.args
        if top.op == "mul" and sum(arg.is_scalar for arg in top.args) == 1:
            index = 0 if top.args[0].is_scalar else 1
        elif top.op == "div" and top.args[1].is_scalar:
            index = 0
        else:
            return None
        plain = ir.apply("div", top.args[index], divisor)
        met = self(plain)
        if met is plain:
            return None  # nothing gained where the divisor arrives
        args = list(top.args)
        args[index] = met
        candidate = self(ir.apply(top.op, *args))
        if size(candidate) >= size(node):
            return None
        self.fired.append("regroup-quotient")
        return candidate


    def _number_moved_in(self, node: Node) -> Node | None:
        """c * (A @ B) for a number c as (c * A) @ B or A @ (c * B), and (A @ B) / s for a
        scalar s as (A / s) @ B or A @ (B / s), kept only when the factor the number meets gets
        smaller and so does the whole: 2 * X' @ ((1/2 / q) * r) = X' @ (r / q), X' @ (a * r /
        (1 + r .^ 2 / nu)) / nu = X' @ (a * r / (nu + r .^ 2))."""
        if node.op == "mul" and node.args[0].op == "const":
            number, product = node.args
        elif node.op == "div" and node.args[1].is_scalar:
            product, number = node.args
        else:
            return None
        if product.op != "matmul" or product.is_scalar or ("number-in", node) in self._declined:
            return None
        for index, factor in enumerate(product.args):
            if factor.is_scalar:
                continue
            plain = ir.apply(node.op, *((number, factor) if node.op == "mul" else
                                        (factor, number)))
            met = self(plain)
            if size(met) >= size(plain):
                continue
            args = list(product.args)
            args[index] = met
            candidate = self(ir.apply("matmul", *args))
            if size(candidate) < size(node):
                self.fired.append("number-in")
                return candidate
        self._declined.add(("number-in", node))
        return None

    def _quotient_moved_to(self, node: Node) -> Node | None:
        """(c / s) * v as c * (v / s) for scalars c and s, kept only when v / s simplifies (to
        a name the problem gave it) and the whole gets smaller."""
        for quotient, other in (node.args, reversed(node.args)):
            if quotient.op != "div" or not quotient.is_scalar or other.is_scalar:
                continue
            plain = ir.apply("div", other, quotient.args[1])
            met = self(plain)
            if met is plain:
                continue
            candidate = self(ir.apply("mul", quotient.args[0], met))
            if size(candidate) < size(node):
                self.fired.append("regroup-quotient")
                return candidate
        return None


def _with_factors(divisors: set[Node]) -> set[Node]:
    """The divisors with the factors of their products and quotients and the bases of their
    powers: a product is non-zero only where each factor is (|a| |b| != 0 gives |a| != 0 and |b|
    != 0); a quotient a / b only where a is, and b divides, so it is not zero either."""
    found = set(divisors)
    stack = list(divisors)
    while stack:
        item = stack.pop()
        parts = item.args if item.op in ("mul", "div") else item.args[:1] if item.op in (
            "pow", "sqrt", "neg") else ()
        for part in parts:
            if part.op != "const" and part not in found:
                found.add(part)
                stack.append(part)
    return found


def _end(node: Node, last: bool) -> Node:
    """The first (or last) factor of a product of matrices, its scalings looked through."""
    while node.op in ("matmul", "mul", "neg", "div"):
        if node.op == "neg":
            node = node.args[0]
        elif node.op == "matmul":
            node = node.args[1 if last else 0]
        else:
            node = node.args[0] if not node.args[0].is_scalar else node.args[1]
    return node


def _meets(factor: Node, term: Node, left: bool) -> bool:
    """Whether ``factor @ term`` (``term @ factor`` when not ``left``) cancels where they meet:
    the term is the identity, or an inverse meets what it inverts."""
    near = _end(term, last=not left)
    if near.op == "identity":
        return True
    other = _end(factor, last=left)
    return (other.op == "inv" and other.args[0] is near) or \
        (near.op == "inv" and near.args[0] is other)


def _untransposed(term: Node) -> Node:
    """u with u' = term, taking the transposes off where they are: (B' @ X') -> X @ B."""
    if term.op == "transpose":
        return term.args[0]
    if term.op == "matmul":
        return ir.apply("matmul", _untransposed(term.args[1]), _untransposed(term.args[0]))
    if term.op == "mul" and term.args[0].is_scalar:
        return ir.apply("mul", term.args[0], _untransposed(term.args[1]))
    if term.op in ("neg", "add", "sub"):
        return ir.apply(term.op, *(_untransposed(arg) for arg in term.args))
    if term.is_scalar or term.op in ("identity", "Diag"):
        return term
    return ir.apply("transpose", term)


def _transposes(roots: Iterable[Node]) -> int:
    return sum(node.op == "transpose" for root in roots for node in walk(root))


def divisors_of(program: Program, of: Node) -> frozenset[Node]:
    """The divisors of the function ``of`` and the definitions it uses (as written and as named;
    scalars, and elementwise divisors with the vector a spread divisor spreads), and the
    arguments of its logarithms: the function, hence its derivative, is defined only where
    every entry of these is non-zero."""
    roots = [of] + [program.definitions[n].body for n in program.needed_definitions(of)]
    found = {node.args[1] for root in roots for node in walk(root)
             if node.op == "div" and node.args[1].op != "const"}
    found |= {node.args[0] for root in roots for node in walk(root)
              if node.op == "log" and node.args[0].op != "const"}
    refs = {definition.body: definition.ref for definition in program.definitions.values()}
    for node in list(found):
        if node.op == "ref" and node.name in program.definitions:
            found.add(program.definitions[node.name].body)
    found |= {inner for inner in map(spread_inner, found) if inner is not None}
    found = _with_factors(found)
    found |= {refs[node] for node in found if node in refs}
    return frozenset(found)


def substitute(root: Node, replacements: dict[str, Node]) -> Node:
    """``root`` with references to the named definitions replaced by the given nodes."""
    return ir.replaced(root, lambda node: replacements.get(node.name)
                       if node.op == "ref" else None)

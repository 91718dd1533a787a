"""Rewrite to a fixed point under a size model, and tidy a derivation's where-definitions.

``simplify`` works bottom-up: each node's children are simplified first, then the rules of
``rules/simplification.py`` that look at its operation are tried until none fires.  These rewrites
are only kept when they make the expression smaller (the size model: nodes of the expression
tree): distributing a product over a sum (``s * (1 - y / s)`` -> ``s - y``), taking a transpose
out of a sum (``B' @ X' + X' @ B'`` -> ``(X @ B + B @ X)'``), and inlining a where-definition
into the places that use it.

``tidy`` then gives a derivation's results their textbook shape: single-use deltas inlined,
deltas renumbered ``delta1, delta2, ...`` in the order they were made.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core import ir
from ..core.algebra import chain
from ..core.ir import LEAVES, Node, size, walk
from ..core.program import Program
from ..core.shapes import Kind
from ..errors import ShapeError
from ..limits import check_time
from ..rules.facts import Facts
from ..rules.simplification import RULES
from .polynomial import collected
from .together import together

MAX_REWRITES = 200  # at one node, before giving up on a fixed point
MAX_NESTED_COLLECTS = 8
MAX_INLINED_SIZE = 60  # a single-use delta is not inlined into an expression growing past this
MAX_NESTED_SIMPLIFICATIONS = 40  # a rewrite's result is simplified in turn, this deep at most
INLINE_SIZE = 6  # a delta used once that refers to other deltas is inlined when it is this
# small (U' @ delta1); larger ones stay named, so that a deep network's deltas stay a chain, one
# a layer, not one nested expression

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
        # zero: the collector writes the numerator as the name times the divisor
        self._numerators = {body.args[0]: (ref, body.args[1]) for body, ref in self.names.items()
                            if body.op == "div" and body.args[0].op in ("add", "sub")
                            and facts.nonzero(body.args[1])}
        self.fired: list[str] = []
        self._collecting = 0
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
        if self._collecting > MAX_NESTED_COLLECTS:
            return None
        candidate = trial(node, self._nonzero, self._numerators)
        if candidate is None or size(candidate) >= size(node):
            return None
        self._collecting += 1
        try:
            candidate = self(candidate)
        finally:
            self._collecting -= 1
        self.fired.append(name)
        return candidate

    def _nonzero(self, node: Node) -> bool:
        return node in self.divisors or self.facts.nonzero(node)

    def _distributed(self, node: Node) -> Node | None:
        """a * (b +- c) as a * b +- a * c (either side), and (a +- b)' as a' +- b', kept only
        when that is smaller."""
        if node.op == "transpose" and node.args[0].op in ("add", "sub"):
            total = node.args[0]
            try:
                candidate = self(ir.apply(total.op, *(ir.apply("transpose", t)
                                                      for t in total.args)))
            except ShapeError:  # pragma: no cover - transposes of a sum's terms always fit
                return None
            if size(candidate) < size(node):
                self.fired.append("distribute")
                return candidate
            return None
        if node.op != "mul":
            return None
        a, b = node.args
        for factor, total, left in ((a, b, True), (b, a, False)):
            if total.op not in ("add", "sub"):
                continue
            try:
                terms = [ir.apply("mul", factor, t) if left else ir.apply("mul", t, factor)
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


def left_to_right(root: Node) -> Node:
    """Matrix products written as papers write them, A @ (B @ C) as A @ B @ C (the same value:
    the product is associative), except where C is a column vector, whose product from the
    right keeps every step a matrix-vector product (W' @ (U' @ d))."""
    done: dict[Node, Node] = {}
    for node in walk(root):
        if not node.args:
            done[node] = node
            continue
        args = tuple(done[arg] for arg in node.args)
        if node.op == "matmul":
            done[node] = _chained(*args)
        elif node.op == "mul" and _scales_first_factor(*args):
            first, *rest = chain(args[1])
            product = ir.apply("mul", args[0], first)
            for factor in rest:
                product = ir.apply("matmul", product, factor)
            done[node] = product
        elif all(new is old for new, old in zip(args, node.args, strict=True)):
            done[node] = node
        else:
            done[node] = ir.apply(node.op, *args, params=node.params)
    return done[root]


def _scales_first_factor(scalar: Node, product: Node) -> bool:
    """Whether c * (A @ B) is written c * A @ B, as papers write it (the same value): for a
    number or a name c (scaling A costs less than the product A @ B that reads it)."""
    if not scalar.is_scalar or product.op != "matmul" or scalar.op not in (
            "const", "var", "ref", "dimval"):
        return False
    first = chain(product)[0]
    return first.op not in ("mul", "div", "neg") and not first.is_scalar


def _chained(left: Node, right: Node) -> Node:
    if right.op == "matmul" and right.args[1].kind is not Kind.VECTOR:
        return ir.apply("matmul", _chained(left, right.args[0]), right.args[1])
    return ir.apply("matmul", left, right)


def divisors_of(program: Program, of: Node) -> frozenset[Node]:
    """The scalar divisors of the function ``of`` and the definitions it uses (as written and as
    named), and the scalar arguments of its logarithms: the function, hence its derivative, is
    defined only where they are not zero."""
    roots = [of] + [program.definitions[n].body for n in program.needed_definitions(of)]
    found = {node.args[1] for root in roots for node in walk(root)
             if node.op == "div" and node.args[1].is_scalar and node.args[1].op != "const"}
    found |= {node.args[0] for root in roots for node in walk(root)
              if node.op == "log" and node.args[0].is_scalar and node.args[0].op != "const"}
    refs = {definition.body: definition.ref for definition in program.definitions.values()}
    for node in list(found):
        if node.op == "ref" and node.name in program.definitions:
            found.add(program.definitions[node.name].body)
        if node in refs:
            found.add(refs[node])
    return frozenset(found)


def substitute(root: Node, replacements: dict[str, Node]) -> Node:
    """``root`` with references to the named definitions replaced by the given nodes."""
    return ir.replaced(root, lambda node: replacements.get(node.name)
                       if node.op == "ref" else None)


def uses(roots: Iterable[Node], name: str) -> int:
    """How many times the expression trees under ``roots`` refer to ``name``."""
    count = 0
    for root in roots:
        memo: dict[Node, int] = {}
        for node in walk(root):
            own = 1 if node.op == "ref" and node.name == name else 0
            memo[node] = own + sum(memo[arg] for arg in node.args)
        count += memo[root]
    return count


def _direct_references(body: Node) -> set[str]:
    return {node.name for node in walk(body) if node.op == "ref"}


def tidy(where: dict[str, Node], results: dict[str, Node], simplifier: Simplifier,
         reserved: Iterable[str] = (), prefix: str = "delta_"
         ) -> tuple[dict[str, Node], dict[str, Node]]:
    """Simplified where-definitions and results: deltas that are small and used once, or that
    vanish into their users, are inlined; those that remain are renumbered delta1, delta2, ..."""
    bodies: dict[tuple[str, str], Node] = {("where", n): simplifier(b) for n, b in where.items()}
    bodies.update({("result", n): simplifier(b) for n, b in results.items()})
    references = {key: _direct_references(body) for key, body in bodies.items()}
    users_of: dict[str, list[tuple[str, str]]] = {}
    for key, names in references.items():
        for referenced in names:
            users_of.setdefault(referenced, []).append(key)
    # a second round: a delta kept for its users may be worth inlining once the deltas it
    # met there are inlined themselves (LayerNorm's G / s beside the mean terms); it looks
    # again only at the deltas whose body, users or references the first round changed (the
    # others would meet the same trial and the same answer)
    changed: set[tuple[str, str]] | None = None
    for _ in range(2):
        inlining = _Inlining(bodies, references, users_of, simplifier, changed)
        if not any([inlining(name) for name in list(where) if ("where", name) in bodies]):
            break
        changed = inlining.changed
    where = {n: b for (kind, n), b in bodies.items() if kind == "where"}
    results = {n: b for (kind, n), b in bodies.items() if kind == "result"}
    return _renumbered(where, results, prefix, set(reserved))


class _Inlining:
    """One round of inlining where-definitions into their users, recording the bodies it
    changed or dropped."""

    def __init__(self, bodies: dict[tuple[str, str], Node],
                 references: dict[tuple[str, str], set[str]],
                 users_of: dict[str, list[tuple[str, str]]], simplifier: Simplifier,
                 changed_before: set[tuple[str, str]] | None):
        self.bodies = bodies
        self.references = references
        self.users_of = users_of
        self.simplifier = simplifier
        self.before = changed_before  # None: the first round, every delta is looked at
        self.changed: set[tuple[str, str]] = set()

    def __call__(self, name: str) -> bool:
        """Whether the where-definition ``name`` was inlined into its users (or dropped
        unused)."""
        key = ("where", name)
        if self.before is not None and key not in self.before and \
                not any(k in self.before for k in self.users_of.get(name, ())) and \
                not any(("where", r) in self.before for r in self.references[key]):
            return False  # nothing it depends on changed since it was last kept
        bodies, references, users_of = self.bodies, self.references, self.users_of
        body = bodies[key]
        users = [k for k in dict.fromkeys(users_of.get(name, ()))
                 if k != key and k in bodies and name in references[k]]
        count = uses([bodies[k] for k in users], name)
        if count == 0:
            del bodies[key]
            self.changed.add(key)
            return True
        # inlined when used once and small or not a link in a chain of deltas, or when
        # simplifying after the substitution gains something over the plain substitution
        # (delta_yhat vanishing into yhat - y); a link of a chain used more than once, or
        # used once but large, stays named (decided before the costly trial)
        chained = any(("where", r) in bodies for r in references[key])
        alias = body.op in ("ref", "var")  # delta1 = e: a second name for a name
        if chained and not alias and (count > 1 or size(body) > INLINE_SIZE):
            return False
        inlined = {k: self.simplifier(substitute(bodies[k], {name: body})) for k in users}
        before = size(body) + sum(size(bodies[k]) for k in users)
        after = sum(size(value) for value in inlined.values())
        plain = before + (count - 1) * size(body) - count
        small_enough = all(size(value) <= MAX_INLINED_SIZE for value in inlined.values())
        if not (alias or (count == 1 and small_enough and (size(body) <= INLINE_SIZE or
                                                           not chained)) or
                (count > 1 and after < plain and after <= before)):
            return False
        del bodies[key]
        self.changed.add(key)
        for k, value in inlined.items():
            bodies[k] = value
            self.changed.add(k)
            references[k] = _direct_references(value)
            for referenced in references[k]:
                users_of.setdefault(referenced, []).append(k)
        return True


def _renumbered(where: dict[str, Node], results: dict[str, Node], prefix: str,
                reserved: set[str]) -> tuple[dict[str, Node], dict[str, Node]]:
    deltas = [name for name in where if name.startswith(prefix)]
    taken = (set(where) - set(deltas)) | reserved
    renames: dict[str, str] = {}
    number = 0
    for name in deltas:
        number += 1
        while f"delta{number}" in taken:
            number += 1
        renames[name] = f"delta{number}"
    if not renames:
        return where, results
    new_where: dict[str, Node] = {}
    references: dict[str, Node] = {}
    for name, body in where.items():
        body = substitute(body, references)
        new_name = renames.get(name, name)
        new_where[new_name] = body
        references[name] = ir.ref(new_name, body)
    new_results = {name: substitute(body, references) for name, body in results.items()}
    return new_where, new_results

"""Tidy a derivation's where-definitions: give its results their textbook shape.

Deltas that are small and used once, or that vanish into their users, are inlined; the small
deltas one result alone uses are inlined together where they meet; a delta takes the sign its
users need; those that remain are renumbered ``delta1, delta2, ...`` in the order they were made.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core import ir
from ..core.ir import Node, size, walk
from .simplify import Simplifier, substitute

MAX_INLINED_SIZE = 60  # a single-use delta is not inlined into an expression growing past this
MAX_MET_GROUP = 5  # small deltas one result alone uses, met there together, at most this many
INLINE_SIZE = 6  # a delta used once that refers to other deltas is inlined when it is this
# small (U' @ delta1); larger ones stay named, so that a deep network's deltas stay a chain, one
# a layer, not one nested expression


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
    users = _users(bodies)
    for key in [k for k in bodies if k[0] == "result"]:
        if _met_in_one_result(key, bodies, users, simplifier):
            users = _users(bodies)
    for name in [n for kind, n in bodies if kind == "where" and n.startswith(prefix)]:
        if _negated_where_smaller(name, bodies, users.get(name, set()), simplifier):
            users = _users(bodies)
        if _rescaled_where_smaller(name, bodies, users.get(name, set()), simplifier):
            users = _users(bodies)
    where = {n: b for (kind, n), b in bodies.items() if kind == "where"}
    results = {n: b for (kind, n), b in bodies.items() if kind == "result"}
    return _renumbered(where, results, prefix, set(reserved))


def _users(bodies: dict[tuple[str, str], Node]) -> dict[str, set[tuple[str, str]]]:
    """Each where-definition's name -> the bodies that refer to it (other than its own)."""
    users: dict[str, set[tuple[str, str]]] = {}
    for k, body in bodies.items():
        for name in _direct_references(body):
            if ("where", name) in bodies and k != ("where", name):
                users.setdefault(name, set()).add(k)
    return users


def _met_in_one_result(key: tuple[str, str], bodies: dict[tuple[str, str], Node],
                       users: dict[str, set[tuple[str, str]]], simplifier: Simplifier) -> bool:
    """The small deltas only one result uses, inlined there together when that is smaller than
    the result and their definitions: LayerNorm's delta1 / s, (delta1 * Xn) @ 1 / s and
    mean(delta1 / s, 1) collect into (delta1 - Xn * mean(delta1 * Xn, 1) - mean(delta1, 1)) / s
    only when all three meet (one at a time, none gets smaller).  Those it uses directly are
    tried first, then with the small deltas only they use (BatchNorm's chain of deltas ending
    in one result).  Whether it did."""
    direct = {name for name, keys in users.items() if keys == {key}
              and size(bodies[("where", name)]) <= 2 * INLINE_SIZE}
    direct = {name for name in direct
              if not _direct_references(bodies[("where", name)]) & direct}
    group = _used_only_by(key, bodies, users)
    if len(group) > MAX_MET_GROUP:
        group = direct  # a deep network's chain of deltas stays a chain
    for own in dict.fromkeys((frozenset(direct), frozenset(group))):
        if len(own) >= 2 and _inlined_together(key, own, bodies, simplifier):
            return True
    return False


def _inlined_together(key: tuple[str, str], own: frozenset[str],
                      bodies: dict[tuple[str, str], Node], simplifier: Simplifier) -> bool:
    """The deltas ``own`` inlined into ``key`` when that is smaller than it and their
    definitions.  Whether they were."""
    definitions = {name: bodies[("where", name)] for name in own}
    whole = bodies[key]
    for _ in range(len(own)):  # a delta of the group may refer to others of it
        whole = substitute(whole, definitions)
        if not _direct_references(whole) & own:
            break
    inlined = simplifier(whole)
    if size(inlined) >= size(bodies[key]) + sum(size(body) for body in definitions.values()):
        return False
    bodies[key] = inlined
    for name in own:
        del bodies[("where", name)]
    return True


def _used_only_by(key: tuple[str, str], bodies: dict[tuple[str, str], Node],
                  users: dict[str, set[tuple[str, str]]]) -> set[str]:
    """The small deltas that only ``key`` uses, directly or through others of them (BatchNorm's
    chain of small deltas ending in one result), by name."""
    group = {name for name in users if size(bodies[("where", name)]) <= 2 * INLINE_SIZE}
    while True:
        inside = {("where", name) for name in group} | {key}
        kept = {name for name in group if users[name] <= inside}
        if kept == group:
            return group
        group = kept


def _negated_where_smaller(name: str, bodies: dict[tuple[str, str], Node],
                           users: set[tuple[str, str]], simplifier: Simplifier) -> bool:
    """The delta ``name`` defined with the opposite sign where that makes it and its users
    smaller: delta1 = X - U @ V' - b used as -(delta1 @ V) becomes delta1 = U @ V' + b - X
    used as delta1 @ V (E = -delta1 everywhere, so the values are the same).  Whether it was."""
    key = ("where", name)
    if bodies[key].op not in ("sub", "neg") or not users:
        return False  # the negation of anything else is no smaller
    if not any(n.op == "neg" for k in users for n in walk(bodies[k])):
        return False
    negated = simplifier(ir.apply("neg", bodies[key]))
    reference = ir.ref(name, negated)
    flipped = {k: simplifier(substitute(bodies[k], {name: ir.apply("neg", reference)}))
               for k in users}
    before = size(bodies[key]) + sum(size(bodies[k]) for k in users)
    after = size(negated) + sum(size(body) for body in flipped.values())
    if after >= before:
        return False
    bodies[key] = negated
    bodies.update(flipped)
    return True


def _coefficient(body: Node) -> tuple[float, Node] | None:
    """(c, rest) for a body that is a number c (not 0 or +-1) times the rest: 2 * A, 1/2 / s,
    (3 * a) / s, a / 2."""
    if body.op == "mul" and body.args[0].op == "const":
        number, rest = body.args[0].params[0], body.args[1]
    elif body.op == "div" and body.args[1].op == "const" and body.args[1].params[0] != 0:
        number, rest = 1 / body.args[1].params[0], body.args[0]
    elif body.op == "div" and body.args[0].op == "const":
        number, rest = body.args[0].params[0], ir.apply("div", ir.const(1.0), body.args[1])
    elif body.op == "div" and (inner := _coefficient(body.args[0])) is not None:
        number, rest = inner[0], ir.apply("div", inner[1], body.args[1])
    else:
        return None
    return None if number in (0.0, 1.0, -1.0) else (number, rest)


def _rescaled_where_smaller(name: str, bodies: dict[tuple[str, str], Node],
                            users: set[tuple[str, str]], simplifier: Simplifier) -> bool:
    """The delta ``name`` defined without its number where that makes it and its users
    smaller and the number cancels where it is used: delta1 = 1/2 / r used as 2 * (delta1 * a)
    becomes delta1 = 1 / r used as delta1 * a.  Whether it was."""
    key = ("where", name)
    found = _coefficient(bodies[key])
    if found is None or not users:
        return False
    number, rest = found
    plain = simplifier(rest)
    scaled = ir.apply("mul", ir.const(number), ir.ref(name, plain))
    moved = {k: simplifier(substitute(bodies[k], {name: scaled})) for k in users}
    before = size(bodies[key]) + sum(size(bodies[k]) for k in users)
    if size(plain) + sum(size(body) for body in moved.values()) >= before or \
            _numbers([plain, *moved.values()]) >= _numbers([bodies[key], *map(bodies.get, users)]):
        return False  # kept only where the number cancels somewhere
    bodies[key] = plain
    bodies.update(moved)
    return True


def _numbers(roots: Iterable[Node]) -> int:
    """How many numbers other than 1 and -1 the expression trees under ``roots`` write."""
    return sum(node.op == "const" and abs(node.params[0]) != 1.0
               for root in roots for node in walk(root))


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
        # dL_dB = delta2: the result is the delta itself, which needs no second name
        alias = alias or (count == 1 and all(k[0] == "result" and bodies[k].op == "ref"
                                             for k in users))
        # a small link used several times by one user alone is tried: LayerNorm's dC in
        # dC - expand(mean(dC, a), a, n) meets the terms of dC there
        one_user = len(users) == 1 and count > 1 and size(body) <= 4 * INLINE_SIZE
        if chained and not alias and not one_user and (count > 1 or size(body) > INLINE_SIZE):
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

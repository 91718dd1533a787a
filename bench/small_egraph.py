"""A small e-graph in plain Python: the alternative to egglog that bench/egraph.py measures.

Union-find over e-classes, a hash-cons of canonical e-nodes, rebuilding after each round, and
e-matching of the rewrite rules written for egglog (bench/egraph.py ``ALGEBRA``: the same text
is parsed here, so both engines saturate with the same rules). Extraction picks, per e-class, the
e-node of fewest tree nodes. Only what the measurement needs: no analyses, no explanations.
(Willsey et al., "egg: Fast and Extensible Equality Saturation", POPL 2021, describe the design.)
"""

from __future__ import annotations

import operator
from collections.abc import Iterator

Label = tuple  # ("Op2", "add") / ("Op1", "neg") / ("Leaf", "X") / ("Num", 2.0)
ENode = tuple[Label, tuple[int, ...]]
_ARITHMETIC = {"*": operator.mul, "+": operator.add}


def _tokens(text: str) -> Iterator[str]:
    token = ""
    quoted = False
    for char in text:
        if quoted:
            token += char
            if char == '"':
                yield token
                token, quoted = "", False
        elif char == '"':
            token, quoted = '"', True
        elif char in "()":
            if token:
                yield token
                token = ""
            yield char
        elif char.isspace():
            if token:
                yield token
                token = ""
        else:
            token += char
    if token:
        yield token


def parse_sexprs(text: str) -> list:
    """S-expressions as nested lists of atoms (strings keep their quotes)."""
    stack: list[list] = [[]]
    for token in _tokens(text):
        if token == "(":
            stack.append([])
        elif token == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    return stack[0]


def rules_of(text: str) -> list[tuple[list, list]]:
    """The (left, right) pattern pairs of the ``rewrite`` and ``birewrite`` commands in text."""
    rules = []
    for command in parse_sexprs(text):
        if command[0] == "rewrite":
            rules.append((command[1], command[2]))
        elif command[0] == "birewrite":
            rules += [(command[1], command[2]), (command[2], command[1])]
    return rules


class EGraph:
    """E-classes of equal terms; ``add`` a term, ``saturate`` with rules, ``extract`` sizes."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.hashcons: dict[ENode, int] = {}
        self.nodes: dict[int, set[ENode]] = {}

    def find(self, cls: int) -> int:
        while self.parent[cls] != cls:
            self.parent[cls] = self.parent[self.parent[cls]]
            cls = self.parent[cls]
        return cls

    def _canonical(self, enode: ENode) -> ENode:
        return enode[0], tuple(self.find(child) for child in enode[1])

    def add(self, label: Label, children: tuple[int, ...] = ()) -> int:
        enode = self._canonical((label, children))
        found = self.hashcons.get(enode)
        if found is not None:
            return self.find(found)
        cls = len(self.parent)
        self.parent.append(cls)
        self.hashcons[enode] = cls
        self.nodes[cls] = {enode}
        return cls

    def union(self, a: int, b: int) -> bool:
        a, b = self.find(a), self.find(b)
        if a == b:
            return False
        self.parent[b] = a
        self.nodes[a] |= self.nodes.pop(b)
        return True

    def rebuild(self) -> None:
        """Canonical e-nodes again, merging the classes whose e-nodes became equal."""
        changed = True
        while changed:
            changed = False
            table: dict[ENode, int] = {}
            for cls in list(self.nodes):
                if cls not in self.nodes:
                    continue
                canonical = {self._canonical(enode) for enode in self.nodes[cls]}
                self.nodes[cls] = canonical
                for enode in canonical:
                    other = table.get(enode)
                    if other is not None and self.find(other) != self.find(cls):
                        self.union(other, cls)
                        changed = True
                    table[enode] = self.find(cls)
            self.hashcons = table

    def _match(self, pattern, cls: int, bound: dict) -> Iterator[dict]:
        if isinstance(pattern, str):  # a variable
            known = bound.get(pattern)
            if known is None:
                yield {**bound, pattern: cls}
            elif known == cls:
                yield bound
            return
        head = pattern[0]
        for label, children in list(self.nodes.get(self.find(cls), ())):
            if label[0] != head:
                continue
            if head == "Num":
                value, slot = label[1], pattern[1]
                if isinstance(slot, str) and not slot[0].isdigit() and slot[0] != "-":
                    if bound.get(slot, value) == value:
                        yield {**bound, slot: value}
                elif float(slot) == value:
                    yield bound
                continue
            if head in ("Op1", "Op2") and label[1] != pattern[1].strip('"'):
                continue
            if head == "Leaf":
                if label[1] == pattern[1].strip('"'):
                    yield bound
                continue
            yield from self._match_children(pattern[2:], children, bound)

    def _match_children(self, patterns, children, bound) -> Iterator[dict]:
        if not patterns:
            yield bound
            return
        for partial in self._match(patterns[0], children[0], bound):
            yield from self._match_children(patterns[1:], children[1:], partial)

    def _number(self, slot, bound: dict) -> float:
        if isinstance(slot, list):  # (* a b), (+ c 1.0)
            return _ARITHMETIC[slot[0]](self._number(slot[1], bound), self._number(slot[2], bound))
        return bound[slot] if slot in bound else float(slot)

    def _build(self, pattern, bound: dict) -> int:
        if isinstance(pattern, str):
            return bound[pattern]
        head = pattern[0]
        if head == "Num":
            return self.add(("Num", self._number(pattern[1], bound)))
        if head == "Leaf":
            return self.add(("Leaf", pattern[1].strip('"')))
        children = tuple(self._build(p, bound) for p in pattern[2:])
        return self.add((head, pattern[1].strip('"')), children)

    def saturate(self, rules: list[tuple[list, list]], rounds: int, limit: int = 20000) -> None:
        """Apply every rule at every match found, ``rounds`` times (or until nothing changes
        or the e-graph holds ``limit`` e-nodes)."""
        for _ in range(rounds):
            matches = [(right, cls, bound) for left, right in rules for cls in list(self.nodes)
                       for bound in self._match(left, cls, {})]
            changed = False
            for right, cls, bound in matches:
                changed |= self.union(cls, self._build(right, bound))
            self.rebuild()
            if not changed or len(self.hashcons) > limit:
                return

    def extract(self, cls: int) -> int:
        """The fewest tree nodes of a term in ``cls``'s e-class."""
        best: dict[int, int] = {}
        changed = True
        while changed:
            changed = False
            for klass, enodes in self.nodes.items():
                for _, children in enodes:
                    if all(self.find(child) in best for child in children):
                        cost = 1 + sum(best[self.find(child)] for child in children)
                        if cost < best.get(klass, cost + 1):
                            best[klass] = cost
                            changed = True
        return best[self.find(cls)]

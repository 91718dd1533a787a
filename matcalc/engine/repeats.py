"""Naming what results repeat: a forward quantity written out several times gets a name.

Books name a quantity their formulas use more than once (``q = x' A x``, ``s = sigmoid(X w)``,
``r = A x - b``) and write the formulas with it.  A subexpression of the results and their
deltas that refers to the problem's own names only (no delta), and that they repeat, is made a
where-definition ``q1 = ...`` (``Q1`` for a matrix or tensor) when that makes the printed
results smaller: ``(count - 1) size - count`` nodes at least :data:`MIN_GAIN` (each use becomes
one name; the definition is written once), of :data:`MIN_SIZE` nodes at least and not a whole
result or delta.  The largest gain is named first, then the results
are looked at again.
"""

from __future__ import annotations

from ..core import ir
from ..core.batch_sums import summed_slices
from ..core.ir import LEAVES, Node, size, walk
from ..core.shapes import Kind
from ..core.stable_forms import stable_form

MIN_GAIN = 2
MIN_SIZE = 3  # inv(L) or x' stays written out
MAX_NAMED = 4  # quantities named in one group of results at most


def named_repeats(where: dict[str, Node], results: dict[str, Node], taken: set[str]
                  ) -> tuple[dict[str, Node], dict[str, Node]]:
    """``where`` and ``results`` with each repeated forward quantity named (new names first in
    ``where``, none of them in ``taken``)."""
    named: dict[str, Node] = {}
    for _ in range(MAX_NAMED):
        roots = list(where.values()) + list(results.values())
        best = _most_repeated(roots, where)
        if best is None:
            break
        name = _fresh("Q" if best.kind in (Kind.MATRIX, Kind.TENSOR) else "q",
                      taken | set(where) | set(named))
        reference = ir.ref(name, best)
        swap = {best: reference}
        where = {key: _replaced(body, swap) for key, body in where.items()}
        results = {key: _replaced(body, swap) for key, body in results.items()}
        named = {key: _replaced(body, swap) for key, body in named.items()}
        named[name] = best
    if not named:
        return where, results
    return {**_in_order(named), **where}, results


def _in_order(named: dict[str, Node]) -> dict[str, Node]:
    """The definitions each after those it refers to (a later name may sit inside an earlier
    one's body, or use it)."""
    ordered: dict[str, Node] = {}
    pending = dict(named)
    while pending:
        for name, body in list(pending.items()):
            needs = {n.name for n in walk(body) if n.op == "ref"} & set(pending)
            if not needs - {name}:
                ordered[name] = body
                del pending[name]
    return ordered


def _fresh(prefix: str, taken: set[str]) -> str:
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def _most_repeated(roots: list[Node], where: dict[str, Node]) -> Node | None:
    """The repeated forward subexpression whose name saves the most nodes, or None (``where``:
    the deltas and the names given so far, by name)."""
    occurrences: dict[Node, int] = {}
    for root in roots:  # positions in the printed trees: a child once per parent position
        occurrences[root] = occurrences.get(root, 0) + 1
    order = _top_down(roots)
    for node in order:
        count = occurrences.get(node, 0)
        for arg in node.args:
            occurrences[arg] = occurrences.get(arg, 0) + count
    forward = _forward(order, set(where))
    tensors = _with_tensors(order)
    sliced = _in_batch_sums(order)
    held_whole = _in_stable_forms(order, where)
    whole = set(roots)  # a result or delta that is the quantity itself keeps it written out
    best, best_gain = None, MIN_GAIN - 1
    for node in order:
        count = occurrences.get(node, 0)
        if count < 2 or not forward[node] or node in whole or size(node) < MIN_SIZE or \
                not _nameable(node) or (tensors[node] and node in sliced) or \
                node in held_whole:
            continue
        gain = (count - 1) * size(node) - count
        if gain > best_gain or (gain == best_gain and best is not None and
                                size(node) > size(best)):
            best, best_gain = node, gain
    return best


def _nameable(node: Node) -> bool:
    """Worth a name: not a leaf, not a leaf transposed or negated, not a number."""
    if node.op in LEAVES or node.is_scalar and node.op == "const":
        return False
    return not (node.op in ("neg", "transpose") and node.args[0].op in LEAVES)


def _forward(order: list[Node], deltas: set[str]) -> dict[Node, bool]:
    """Whether each node refers to no delta (a where-definition), directly or below."""
    forward: dict[Node, bool] = {}
    for node in reversed(order):  # children first
        own = not (node.op == "ref" and node.name in deltas)
        forward[node] = own and all(forward[arg] for arg in node.args)
    return forward


def _in_stable_forms(order: list[Node], where: dict[str, Node]) -> set[Node]:
    """The nodes that generated code and the interpreter look through to compute a numerically
    stable form from its argument (core/stable_forms.py: 1 - sigmoid(t), 1 - tanh(t) .^ 2,
    log(1 + exp(t)), ...): they stay written out, as the textbook writes the form."""
    found: set[Node] = set()
    for node in order:
        form = stable_form(node, where.get)
        if form is not None:
            found.update(form.through)
    return found


def _in_batch_sums(order: list[Node]) -> set[Node]:
    """The nodes inside a batch sum printed over its slices (core/batch_sums.py: sum(X' @ G, 0)
    is \\sum_b X_b' G_b): a tensor there prints per entry, so it is not named."""
    found: set[Node] = set()
    for node in order:
        sliced = summed_slices(node)
        if sliced is not None:
            found.update(walk(sliced[0]))
    return found


def _with_tensors(order: list[Node]) -> dict[Node, bool]:
    """Whether each node is or holds a tensor (named only outside a batch sum)."""
    found: dict[Node, bool] = {}
    for node in reversed(order):
        found[node] = node.kind is Kind.TENSOR or any(found[arg] for arg in node.args)
    return found


def _top_down(roots: list[Node]) -> list[Node]:
    """Every node under ``roots``, each after all its parents (a reversed post-order)."""
    post: list[Node] = []
    seen: set[Node] = set()
    for root in roots:
        for node in walk(root):  # children before parents
            if node not in seen:
                seen.add(node)
                post.append(node)
    return post[::-1]


def _replaced(root: Node, swap: dict[Node, Node]) -> Node:
    return ir.replaced(root, lambda node: swap.get(node))

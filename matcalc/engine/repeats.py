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

from collections.abc import Callable

from ..core import ir
from ..core.algebra import chain
from ..core.batch_sums import summed_slices
from ..core.functions import FUNCTIONS
from ..core.ir import LEAVES, Node, size, walk
from ..core.shapes import Kind
from ..core.stable_forms import stable_form

MIN_GAIN = 2
MIN_SIZE = 3  # inv(L) or x' stays written out
MIN_CALLS = 3  # ... unless a function of one name is written this many times: inv(C)
MAX_NAMED = 4  # quantities named in one group of results at most


Group = tuple[dict[str, Node], dict]  # (where-definitions, results by key)


def named_repeats(where: dict[str, Node], results: dict, taken: set[str]
                  ) -> tuple[dict[str, Node], dict]:
    """``where`` and ``results`` with each repeated forward quantity named (new names first in
    ``where``, none of them in ``taken``)."""
    return named_across([(where, results)], taken, lambda node: False)[0]


def named_across(groups: list[Group], taken: set[str], moves: Callable[[Node], bool]
                 ) -> list[Group]:
    """Each group (the where-definitions and results of one request) with the forward
    quantities that all the groups together repeat named, one name for one quantity in every
    group (a gradient and a Hessian that both write ``sigmoid(X @ w)`` share ``q1``); each group
    gets the definitions of the names it uses, first in its where-definitions.  A quantity
    named for its uses in several groups is a function's value that ``moves`` with the
    variables (the point's ``s = sigmoid(X @ w)`` or ``e = exp(-(y * (X @ w)))``, as books
    name them; not ``2 * A'`` nor ``X @ w``); within one group, any.  A
    group left as it was is returned as it came (the same dictionaries)."""
    named: dict[str, Node] = {}
    deltas = {name for where, _ in groups for name in where}
    for _ in range(MAX_NAMED):
        found = _most_repeated(groups, deltas, moves)
        if found is None:
            break
        best, images = found
        name = _fresh("Q" if best.kind in (Kind.MATRIX, Kind.TENSOR) else "q",
                      taken | deltas | set(named))
        reference = ir.ref(name, best)
        swap = {best: reference, **{image: _mirror_written(image, reference)
                                    for image in images}}
        groups = [_group_replaced(group, swap) for group in groups]
        named = {key: _replaced(body, swap) for key, body in named.items()}
        named[name] = best
    if not named:
        return groups
    ordered = _in_order(named)
    return [(_with_named(where, results, ordered), results) for where, results in groups]


def _group_replaced(group: Group, swap: dict[Node, Node]) -> Group:
    where, results = group
    new_where = {key: _replaced(body, swap) for key, body in where.items()}
    new_results = {key: _replaced(body, swap) for key, body in results.items()}
    if all(new_where[key] is where[key] for key in where) and \
            all(new_results[key] is results[key] for key in results):
        return group
    return new_where, new_results


def _with_named(where: dict[str, Node], results: dict, named: dict[str, Node]
                ) -> dict[str, Node]:
    """``where`` after the definitions of ``named`` that it or ``results`` use (directly or
    through each other), in ``named``'s order."""
    used: set[str] = set()
    pending = [*where.values(), *results.values()]
    while pending:
        for node in walk(pending.pop()):
            if node.op == "ref" and node.name in named and node.name not in used:
                used.add(node.name)
                pending.append(named[node.name])
    if not used:
        return where
    return {**{name: body for name, body in named.items() if name in used}, **where}


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


def _most_repeated(groups: list[Group], deltas: set[str], moves: Callable[[Node], bool]
                   ) -> tuple[Node, list[Node]] | None:
    """The repeated forward subexpression of the groups' results and deltas whose name saves
    the most nodes, with its mirror images to write by the name (``sigmoid(-t)`` as ``1 - q``
    where ``q = sigmoid(t)``), or None (``deltas``: the names of every group's deltas)."""
    rooted = [[*where.values(), *results.values()] for where, results in groups]
    counts = [_occurrences(roots) for roots in rooted]
    held_whole: set[Node] = set()
    for roots, (where, _) in zip(rooted, groups, strict=True):  # each group's own deltas
        held_whole |= _in_stable_forms(_top_down(roots), where)
    occurrences: dict[Node, int] = {}
    for counted in counts:
        for node, count in counted.items():
            occurrences[node] = occurrences.get(node, 0) + count
    roots = [root for group in rooted for root in group]
    order = _top_down(roots)
    forward = _forward(order, deltas)
    tensors = _with_tensors(order)
    sliced = _in_batch_sums(order)
    images = _mirror_images(order, held_whole)
    whole = set(roots)  # a result or delta that is the quantity itself keeps it written out
    best, best_images, best_gain = None, [], MIN_GAIN - 1
    for node in order:
        if occurrences.get(node, 0) < 1 or not forward[node] or node in whole or \
                (size(node) < MIN_SIZE and not _called_often(node, occurrences[node])) or \
                not _nameable(node) or \
                (tensors[node] and node in sliced) or node in held_whole:
            continue
        mirrored = images.get(node, [])
        # one name across the groups for a function's value of the point; else as each group
        # alone would name it
        across = len(counts) > 1 and _valued(node) and moves(node)
        gain = _gain(node, mirrored, occurrences) if across or len(counts) == 1 else \
            max(_gain(node, mirrored, counted) for counted in counts)
        if gain > best_gain or (gain == best_gain and best is not None and
                                size(node) > size(best)):
            best, best_images, best_gain = node, mirrored, gain
    return None if best is None else (best, best_images)


def _gain(node: Node, mirrored: list[Node], occurrences: dict[Node, int]) -> int:
    """The nodes a name for ``node`` saves: each use becomes the name (a mirror image a + b q,
    written only beside a use of ``node`` itself), the definition is written once."""
    own = occurrences.get(node, 0)
    if not own:
        return 0
    images = [(image, occurrences.get(image, 0)) for image in mirrored]
    if own + sum(count for _, count in images) < 2:
        return 0
    written = size(node) + 2 * _called_often(node, own)  # a call's brackets count
    return own * (written - 1) - written + sum(
        count * (size(image) - _MIRROR_SIZE[_mirror_of(image)]) for image, count in images)


def _called_often(node: Node, count: int) -> bool:
    """A function of one name written MIN_CALLS times or more (inv(C) three times: books name
    it, Ci = inv(C))."""
    return count >= MIN_CALLS and size(node) == 2 and node.op not in ("neg", "transpose")


def _valued(node: Node) -> bool:
    """A function's value (``sigmoid(X @ w)``, ``exp(-(y * r))``, ``inv(S)``, a power), not a
    linear form of the point (``X @ w``, ``2 * A'``)."""
    return node.op in FUNCTIONS or node.op in ("softmax", "log_softmax", "inv", "pow", "div")


def _occurrences(roots: list[Node]) -> dict[Node, int]:
    """How often each node is written under ``roots``: a child once per parent position."""
    occurrences: dict[Node, int] = {}
    for root in roots:
        occurrences[root] = occurrences.get(root, 0) + 1
    for node in _top_down(roots):
        count = occurrences.get(node, 0)
        for arg in node.args:
            occurrences[arg] = occurrences.get(arg, 0) + count
    return occurrences


def _mirror_of(image: Node) -> tuple[float, float]:
    a, b, _ = FUNCTIONS[image.op].mirror
    return a, b


# the nodes of a + b q (a mirror image written by the name q), by (a, b)
_MIRROR_SIZE = {(0, 1): 1, (0, -1): 2, (1, -1): 3}


def _mirror_images(order: list[Node], held_whole: set[Node]) -> dict[Node, list[Node]]:
    """``f(-t)`` by ``f(t)`` for the functions whose mirror identity ``f(-t) = a + b f(t)``
    has no term in t (core/functions.py: sigmoid, tanh, cos, ...)."""
    images: dict[Node, list[Node]] = {}
    for node in order:
        function = FUNCTIONS.get(node.op)
        if function is None or function.mirror is None or node in held_whole or \
                (function.mirror[0], function.mirror[1]) not in _MIRROR_SIZE or \
                function.mirror[2]:
            continue
        argument = _negated(node.args[0])
        plain = None if argument is None else ir.apply(node.op, argument)
        if plain is not None and plain.shape == node.shape:
            images.setdefault(plain, []).append(node)
    return images


def _negated(node: Node) -> Node | None:
    """t where ``node`` is -t: ``-(t)``, or a product whose first factor is negated (-X @ w,
    as results print -(X @ w)); else None."""
    if node.op == "neg":
        return node.args[0]
    factors = chain(node) if node.op == "matmul" else []
    if not factors or factors[0].op != "neg":
        return None
    product = factors[0].args[0]
    for factor in factors[1:]:
        product = ir.apply("matmul", product, factor)
    return product


def _mirror_written(image: Node, reference: Node) -> Node:
    """The mirror image f(-t) written by the name of f(t): a + b q."""
    a, b = _mirror_of(image)
    if b < 0:
        return ir.apply("sub", ir.const(a), reference) if a else ir.apply("neg", reference)
    return reference


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

"""Products shared by the chains of several results, also where one is the other's transpose.

The gradients of attention's two projections are the chains ``X' @ delta @ X @ Wk`` and
``X' @ delta' @ X @ Wq`` (``K = X @ Wk`` and ``Q = X @ Wq`` written out).  Their leading factors
are one product and its transpose: ``S = X' @ delta @ X`` computed once makes the two gradients
``S @ Wk`` and ``S' @ Wq``, where each chain alone computes a product as large as ``delta`` with
``K`` (or ``Q``) and then one with ``X'``: half the work of the two chains for the price of two
products of the weights' size.  For a batch of sequences (tensors) the gradients are batch sums,
``sum(X' @ delta @ K, 0)``; a weight does not vary over the batch, so ``sum(S_b @ W, 0) =
sum(S_b, 0) @ W`` and the batch sum is what is shared.

The transpose of a chain reverses it and transposes each factor: ``(F1 @ ... @ Fp)' = Fp' @ ...
@ F1'``.  A common part is taken only where it is no larger than the results it serves (its rows
and columns are theirs): sharing ``S`` is wrong for ``X' @ delta @ X @ w`` with a vector ``w``,
whose chain costs a few matrix-vector products alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from ..core import ir
from ..core.algebra import chain, matmul, transpose
from ..core.ir import Node, const
from ..core.program import dependencies
from ..core.shapes import Kind, Shape
from .solves import parents_of
from .tensor_code import batch_gram_operands
from .writer import count_uses

# factors the writer computes with their structure (a Diag folds into the product, an inverse is
# a solve, ...): a chain holding one is left to it
STRUCTURED = frozenset({"Diag", "inv", "kron", "ones", "identity", "commutation", "zeros"})
ZERO = const(0.0)
Body = Callable[[str], "Node | None"]  # a definition's body by its name (None: not one)


def shared_chains(results: list[Node], body_of: Body) -> list[Node]:
    """The results, each pair of product chains sharing a part of two or more factors (one
    directly, the other maybe transposed) rewritten to use that part as one node, which the
    writer then computes once."""
    results = list(results)
    done: set[int] = set()
    for i in range(len(results)):
        for j in range(i + 1, len(results)):
            if i in done or j in done:
                continue
            pair = _rewritten(results[i], results[j], body_of)
            if pair is not None:
                results[i], results[j] = pair
                done |= {i, j}
    return results


def _rewritten(first: Node, second: Node, body_of: Body) -> tuple[Node, Node] | None:
    """The two results with their longest common part (two factors or more, in the second maybe
    transposed) as one node, or None where they share none that fits."""
    unwrapped = [_factors(result, body_of) for result in (first, second)]
    if None in unwrapped or unwrapped[0][0] != unwrapped[1][0]:
        return None
    batch, one, spans_one = unwrapped[0]
    _, two, spans_two = unwrapped[1]
    for length in range(min(len(one), len(two)), 1, -1):
        for i in range(len(one) - length + 1):
            part = one[i:i + length]
            for j in range(len(two) - length + 1):
                other = two[j:j + length]
                flipped = part != other
                if flipped and part != _reversed(other):
                    continue
                rests = (one[:i] + one[i + length:], two[:j] + two[j + length:])
                if not _fits(part, rests, batch, (first.shape, second.shape)):
                    continue
                shared = _product(part, batch)
                return (_around(one, spans_one, i, length, shared),
                        _around(two, spans_two, j, length,
                                transpose(shared) if flipped else shared))
    return None


def _factors(result: Node, body_of: Body) -> tuple[bool, list[Node], list] | None:
    """(whether a batch sum, the factors of the product with products by name written out, and
    where each written-out name stands: (first, end, name)), or None when ``result`` is no
    product of three or more factors."""
    batch = result.op == "axis_sum" and result.params[0] == 0 and \
        result.args[0].kind is Kind.TENSOR and len(result.args[0].shape.dims) == 3
    product = result.args[0] if batch else result
    if product.op != "matmul":
        return None
    factors: list[Node] = []
    spans = []
    for factor in chain(product):
        body = body_of(factor.params[0]) if factor.op == "ref" else None
        if body is not None and body.op == "matmul":  # K = X @ Wk: its factors
            spans.append((len(factors), len(factors) + len(chain(body)), factor))
            factors += chain(body)
        else:
            factors.append(factor)
    return (batch, factors, spans) if len(factors) >= 3 else None


def _around(factors: list[Node], spans: list, first: int, length: int, shared: Node) -> Node:
    """The product of the factors with ``factors[first:first + length]`` replaced by
    ``shared``, and each name written out whose factors are all outside that part back in
    (``K``, computed anyway, rather than ``X @ Wk`` again)."""
    end = first + length
    items: list[Node] = []
    index = 0
    while index < len(factors):
        if index == first:
            items.append(shared)
            index = end
            continue
        span = next((s for s in spans if s[0] == index and (s[1] <= first or index >= end)),
                    None)
        items.append(span[2] if span else factors[index])
        index = span[1] if span else index + 1
    return _product(items)


def _fits(part: list[Node], rests: tuple[list[Node], list[Node]], batch: bool,
          shapes: tuple) -> bool:
    """Whether the common part's product is no larger than each result it serves (its shape is
    theirs, or their transpose's), its factors are matrices (tensors in a batch sum) and the
    rests' factors matrices (free of the batch, so that the batch sum moves inside), none of
    them structure the writer computes in its own way (Diag, inv, kron, ones)."""
    kind = Kind.TENSOR if batch else Kind.MATRIX
    if any(factor.kind is not kind or _structured(factor) for factor in part) or any(
            factor.kind is not Kind.MATRIX or _structured(factor)
            for rest in rests for factor in rest):
        return False
    size = (part[0].shape.rows, part[-1].shape.cols)
    return all(size in ((shape.rows, shape.cols), (shape.cols, shape.rows)) for shape in shapes)


def _structured(factor: Node) -> bool:
    if factor.op == "transpose":
        factor = factor.args[0]
    return factor.op in STRUCTURED


def _reversed(factors: list[Node]) -> list[Node]:
    """The factors of the transposed product: reversed, each transposed."""
    return [transpose(factor) for factor in reversed(factors)]


def _product(factors: list[Node], batch: bool = False) -> Node:
    """The product of the factors (left to right), summed over the batch where ``batch``."""
    built = factors[0]
    for factor in factors[1:]:
        built = matmul(built, factor)
    return ir.apply("axis_sum", built, params=(0,)) if batch else built


# the forward pass's products, kept for the backward pass ------------------------------------
#
# A training step computes the function's value (the forward pass) and then its gradients (the
# backward pass).  Where a chain of the backward pass holds a part of a chain the forward pass
# computes, directly or transposed, the forward pass can compute that part as a value of its
# own and the backward pass read it: the LayerNorm + attention block's value reads
# ``P @ Xn @ Wv`` and its gradient with respect to ``Wv`` is ``Xn' @ P' @ G``; ``S = P @ Xn``
# in the forward pass (as cheap there as ``Xn @ Wv`` first, at any sizes) makes that gradient
# ``S' @ G``, one product where there were two.  A chain's cost is that of its cheapest order
# (multi_dot's, the textbook dynamic programme over the order of products), counted at several
# sizes of the problem's dimensions: a part is kept only where at each of them the forward pass
# costs no more than about as much (the cheapest orders tie or nearly tie: 5%) and the two
# passes together cost less.

NEAR_TIE = 0.05  # a forward chain may cost this much more (of its cheapest order) to keep a part
SIZES = (64, 8, 512)  # every dimension at the first, then each alone at the others


@dataclass(eq=False)
class _Chain:
    """A product of factors the writer computes as one chain (``multi_dot``)."""

    node: Node
    factors: list  # nodes, and _Part where a backward chain reads a kept part
    kept: set[tuple[int, int]] = field(default_factory=set)  # parts computed as values


@dataclass(eq=False)
class _Part:
    """A part of a forward chain, kept, standing as one factor of a backward chain."""

    ahead: _Chain
    part: tuple[int, int]
    flipped: bool

    @property
    def shape(self) -> Shape:
        factors = self.ahead.factors[self.part[0]:self.part[1]]
        lead = next((f.shape.lead for f in factors if f.shape.lead), ())
        shape = Shape(factors[0].shape.rows, factors[-1].shape.cols, lead)
        return shape.T if self.flipped else shape


def forward_shared(forward: list[Node], backward: list[Node],
                   fixed: set[Node] | frozenset = frozenset()) -> Callable[[Node], Node]:
    """A rewrite of the nodes of a training step whose backward pass (``backward``: the
    statements only it computes, and the results) reads the parts of the forward pass's chains
    (``forward``: the value and the statements it needs) that it holds, computed once by the
    forward pass; nodes in ``fixed`` (computed elsewhere, e.g. hoisted) are left alone."""
    uses = count_uses(forward + backward, set())
    forward_nodes = {node for root in forward for node in ir.walk(root)}
    ahead = _chains(forward, uses, fixed)
    behind = [c for c in _chains(backward, uses, fixed) if c.node not in forward_nodes]
    if not ahead or not behind:
        return lambda node: node
    samples = _samples(ahead + behind)
    while True:
        best = None
        for chain_ahead in ahead:
            for first in range(len(chain_ahead.factors) - 1):
                for end in range(first + 2, len(chain_ahead.factors) + 1):
                    found = _worth(chain_ahead, (first, end), behind, samples)
                    if found is not None and (best is None or found[0] > best[0]):
                        best = (*found, chain_ahead, (first, end))
        if best is None:
            break
        _, readers, chain_ahead, part = best
        chain_ahead.kept.add(part)
        for chain_behind, at, flipped in readers:
            chain_behind.factors[at:at + part[1] - part[0]] = [_Part(chain_ahead, part, flipped)]
    rewrites: dict[Node, Node] = {}
    kept_nodes: dict[tuple[int, tuple[int, int]], Node] = {}
    for chain_ahead in ahead:
        if chain_ahead.kept:
            rewrites[chain_ahead.node], nodes = _bracketed(chain_ahead.factors, chain_ahead.kept,
                                                           samples[0])
            kept_nodes.update({(id(chain_ahead), part): nodes[part] for part in nodes})
    for chain_behind in behind:
        if any(isinstance(f, _Part) for f in chain_behind.factors):
            factors = [f if isinstance(f, Node) else _flipped(kept_nodes[id(f.ahead), f.part],
                                                              f.flipped)
                       for f in chain_behind.factors]
            rewrites[chain_behind.node] = _bracketed(factors, set(), samples[0])[0]
    if not rewrites:
        return lambda node: node
    done: dict[Node, Node] = {}
    for old in sorted(rewrites, key=ir.size):  # smaller first: a chain inside another
        done[old] = ir.replaced(rewrites[old], done.get)
    return lambda node: ir.replaced(node, done.get)


def _flipped(node: Node, flipped: bool) -> Node:
    return transpose(node) if flipped else node


def _chains(roots: list[Node], uses: dict[Node, int], fixed) -> list[_Chain]:
    """The product chains under ``roots`` as the writer computes them: a product used more
    than once is a value (a factor of the chains around it), one used once is flattened into
    its parent's chain; chains of structure (Diag, inv, ...) or with fixed nodes left out."""
    parents = parents_of(roots)
    found = []
    for node in dict.fromkeys(n for root in roots for n in ir.walk(root)):
        if not _multiplied(node) or node in fixed:
            continue
        if uses.get(node, 0) <= 1 and any(_multiplied(p) for p in parents.get(node, [])):
            continue  # a part of its parent's chain
        factors, pending = [], [node]
        while pending:
            item = pending.pop()
            if item is node or (_multiplied(item) and uses.get(item, 0) <= 1):
                pending += [item.args[1], item.args[0]]
            else:
                factors.append(item)
        if not any(f.is_scalar or _structured(f) or f in fixed for f in factors):
            found.append(_Chain(node, factors))
    return found


def _multiplied(node: Node) -> bool:
    return node.op == "matmul" and not any(arg.is_scalar for arg in node.args)


def _worth(ahead: _Chain, part: tuple[int, int], behind: list[_Chain], samples: list[dict]
           ) -> tuple[float, list] | None:
    """(what keeping ``part`` of the forward chain saves at the first sizes, the backward
    chains reading it: (chain, where, transposed)), or None where it costs the forward pass
    more than a near tie, or the two passes more, at some sizes."""
    wanted = ahead.factors[part[0]:part[1]]
    flipped_part = _reversed(wanted)
    readers = []
    for chain_behind in behind:
        factors = chain_behind.factors
        for at in range(len(factors) - len(wanted) + 1):
            window = factors[at:at + len(wanted)]
            if _same(window, wanted) or _same(window, flipped_part):
                readers.append((chain_behind, at, not _same(window, wanted)))
                break
    if not readers:
        return None
    savings = []
    for sizes in samples:
        before = _cost(ahead.factors, ahead.kept, sizes)
        extra = _cost(ahead.factors, ahead.kept | {part}, sizes) - before
        saved = sum(_cost(c.factors, set(), sizes) - _cost(
            [*c.factors[:at], _Part(ahead, part, flipped), *c.factors[at + len(wanted):]],
            set(), sizes) for c, at, flipped in readers)
        if extra > NEAR_TIE * _cost(ahead.factors, set(), sizes) or saved - extra <= 0:
            return None
        savings.append(saved - extra)
    return savings[0], readers


def _same(one: list, other: list) -> bool:
    return len(one) == len(other) and all(a is b for a, b in zip(one, other, strict=True))


def _samples(chains: list[_Chain]) -> list[dict[str, int]]:
    """The sizes costs are counted at: every dimension at SIZES[0], then each one alone at
    each of the others."""
    symbols = sorted({s for c in chains for f in c.factors for d in f.shape.dims
                      for s in d.symbols})
    base = dict.fromkeys(symbols, SIZES[0])
    return [base] + [{**base, s: size} for s in symbols for size in SIZES[1:]]


def _cost(factors: list, kept: set[tuple[int, int]], sizes: dict[str, int]) -> float:
    return _orders(factors, kept, sizes)[0][(0, len(factors))]


def _orders(factors: list, kept: set[tuple[int, int]], sizes: dict[str, int]
            ) -> tuple[dict, dict]:
    """(the least cost of each part of the chain, where it splits), keeping each part in
    ``kept`` a product of its own: the textbook dynamic programme over the order of the
    products (each a rows x inner x columns count, times the batch of a tensor)."""
    dims = [(f.shape.rows.value(sizes), f.shape.cols.value(sizes),
             math.prod(d.value(sizes) for d in f.shape.lead)) for f in factors]
    cost: dict[tuple[int, int], float] = {(i, i + 1): 0.0 for i in range(len(factors))}
    split: dict[tuple[int, int], int] = {}
    for length in range(2, len(factors) + 1):
        for first in range(len(factors) - length + 1):
            end = first + length
            best = math.inf
            inside = [(a, b) for a, b in kept if first <= a and b <= end and (a, b) != (first, end)]
            if not any(a < first < b < end or first < a < end < b for a, b in kept):
                for middle in range(first + 1, end):
                    if any(a < middle < b for a, b in inside):
                        continue
                    batch = max(d[2] for d in dims[first:end])
                    here = cost[first, middle] + cost[middle, end] + \
                        dims[first][0] * dims[middle][0] * dims[end - 1][1] * batch
                    if here < best:
                        best, split[first, end] = here, middle
            cost[first, end] = best
    return cost, split


def _bracketed(factors: list[Node], kept: set[tuple[int, int]], sizes: dict[str, int]
               ) -> tuple[Node, dict[tuple[int, int], Node]]:
    """The product of the factors in the cheapest order at ``sizes`` keeping the parts in
    ``kept``, and the node of each part it multiplies."""
    _, split = _orders(factors, kept, sizes)
    nodes: dict[tuple[int, int], Node] = {}

    def built(first: int, end: int) -> Node:
        if end - first == 1:
            return factors[first]
        middle = split[first, end]
        nodes[first, end] = matmul(built(first, middle), built(middle, end))
        return nodes[first, end]

    return built(0, len(factors)), nodes


def kept_for_backward(statements: list[tuple[str, Node]], results: list[Node], value: Node,
                      body_of: Body, fixed: Collection[Node] = ()
                      ) -> tuple[list[tuple[str, Node]], list[Node], Node]:
    """A training step's statements, results and value (the value and the statements it reads
    are its forward pass) with the parts of the forward pass's chains that the backward pass
    reads kept (:func:`forward_shared`); nodes in ``fixed`` (hoisted) are left as they are."""
    forward_names = dependencies(value, lambda item: body_of(item) or ZERO)
    statements = [(name, _as_written(body)) for name, body in statements]
    results, value = [_as_written(result) for result in results], _as_written(value)
    forward = [body for name, body in statements if name in forward_names] + [value]
    backward = [body for name, body in statements if name not in forward_names] + results
    rewrite = forward_shared(forward, backward, frozenset(fixed))
    return ([(name, rewrite(body)) for name, body in statements],
            [rewrite(result) for result in results], rewrite(value))


def _as_written(node: Node) -> Node:
    """``node`` with each batch sum ``sum(A' @ B @ C, 0)`` bracketed as its code computes it,
    ``A' @ (B @ C)`` (tensor_code.batch_gram_operands): ``B @ C`` is a product the code may
    share with other chains."""
    def written(item: Node) -> Node | None:
        operands = batch_gram_operands(item)
        if operands is None:
            return None
        return ir.apply("axis_sum", matmul(transpose(operands[0]), operands[1]), params=(0,))

    return ir.replaced(node, written)

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

from collections.abc import Callable

from ..core import ir
from ..core.algebra import chain, matmul, transpose
from ..core.ir import Node
from ..core.shapes import Kind

# factors the writer computes with their structure (a Diag folds into the product, an inverse is
# a solve, ...): a chain holding one is left to it
STRUCTURED = frozenset({"Diag", "inv", "kron", "ones", "identity", "commutation", "zeros"})
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

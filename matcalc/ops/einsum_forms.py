"""The matrix form of an einsum, where one exists: ``ij,jk->ik`` is ``A @ B``, ``ij,ij->`` is
``sum(A * B)``, ``ii->`` is ``tr(A)``, ``ij->ji`` is ``A'``.

Each operand is a factor with its letters (a number none, a vector one, a matrix two).  A
letter in one factor only, and not in the output, is summed out of it (``X @ 1``, ``sum(x)``;
``tr`` and ``diag`` for a repeated letter); then two factors are joined at a time, as long as
what they make has at most two letters:

- a letter the two share and nothing else holds is summed: ``X @ Y``, ``x' @ y``, ``X @ y``,
  ``sum(X * Y)``, ``tr(X @ Y)``, ``(X * Y) @ 1``;
- a letter they share that the output or another factor still holds is kept: ``X * Y``,
  ``x * y``, ``X @ Diag(y)``, ``Diag(y) @ X``;
- no letter shared: the outer product ``x @ y'``, or a number times the other.

The joins are tried in every order (a few hundred at most) until one reaches the output; when
none does, the einsum has no matrix form (a network that needs three letters at once, such as
``ij,ik,il,jk,jl,kl->``) and stays an einsum.
"""

from __future__ import annotations

from itertools import combinations

from ..core import ir
from ..core.algebra import call, matmul, mul, ones_vector, transpose
from ..core.einsum_spec import Spec
from ..core.ir import Node
from ..core.shapes import Kind

Factor = tuple[Node, str]  # a node and its letters: a column for one letter, rows x columns for two
MAX_TRIALS = 400  # joins tried before giving up on a matrix form


def column(node: Node) -> Node:
    """A vector operand as a column (a row is transposed)."""
    return transpose(node) if node.kind is Kind.ROW else node


def diagonal_factor(node: Node, term: str) -> Factor | None:
    """``ii`` of a matrix is its diagonal ``diag(A)`` with the one letter i; None for an
    operand of more axes with a repeated letter."""
    if len(set(term)) == len(term):
        return (column(node) if len(term) == 1 else node), term
    if len(term) == 2:
        return ir.apply("diag", node), term[0]
    return None


def sum_out(factor: Factor, letter: str) -> Factor:
    """The factor with ``letter`` summed over: ``sum(x)`` (``tr(A)`` for ``diag(A)``),
    ``X @ 1``, ``X' @ 1``."""
    node, letters = factor
    if len(letters) == 1:
        if node.op == "diag":
            return ir.apply("tr", node.args[0]), ""
        return ir.apply("sum", node), ""
    if letters == letter * 2:  # pragma: no cover - repeated letters are a diagonal already
        raise AssertionError(letters)
    if letters[1] == letter:
        return matmul(node, ones_vector(node.shape.cols)), letters[0]
    return matmul(transpose(node), ones_vector(node.shape.rows)), letters[1]


def _row(node: Node) -> Node:
    """A column transposed, a product's factors transposed in turn: ``(A' @ x)' = x' @ A``."""
    if node.op == "matmul":
        return matmul(_row(node.args[1]), transpose(node.args[0]))
    return transpose(node)


def _hadamard(node: Node) -> bool:
    """Whether ``node`` is a Hadamard product of two arrays (not a number times one)."""
    return node.op == "mul" and not any(arg.is_scalar for arg in node.args)


def _aligned(node: Node, letters: str, order: str) -> Node:
    """A two-letter factor with its letters in ``order`` (transposed when reversed)."""
    return node if letters == order else transpose(node)


def join(first: Factor, second: Factor, summed: set[str]) -> Factor | None:
    """The product of two factors with the ``summed`` letters they share summed over; None
    when it would need more than two letters."""
    (a, la), (b, lb) = sorted((first, second), key=lambda f: -len(f[1]))
    shared = [letter for letter in la if letter in lb]
    kept = "".join(letter for letter in la + lb if letter not in summed)
    kept = "".join(dict.fromkeys(kept))
    if len(kept) > 2:
        return None
    if not lb:
        return mul(b, a), la
    if len(la) == 1:  # two vectors
        if not shared:
            return matmul(a, _row(b)), la + lb
        if shared[0] not in summed:
            return mul(a, b), la
        if _hadamard(a) or _hadamard(b):  # i,i,i-> is sum(x * y * z), as books write it
            return ir.apply("sum", mul(a, b)), ""
        return matmul(_row(a), b), ""
    if len(lb) == 1:  # a matrix and a vector it shares a letter with
        letter = lb
        if la[1] == letter:
            return (matmul(a, b), la[0]) if letter in summed else \
                (matmul(a, call("Diag", b)), la)
        return (matmul(transpose(a), b), la[1]) if letter in summed else \
            (matmul(call("Diag", b), a), la)
    if len(shared) == 1:  # two matrices sharing one letter, summed over: a product
        letter = shared[0]
        left = la[::-1] if la[0] == letter else la
        right = lb[::-1] if lb[1] == letter else lb
        return matmul(_aligned(a, la, left), _aligned(b, lb, right)), left[0] + right[1]
    reversed_pair = la != lb
    b = _aligned(b, lb, la)
    if not summed & set(la):
        return mul(a, b), la
    if set(la) <= summed:
        if reversed_pair:
            return ir.apply("tr", matmul(a, transpose(b))), ""
        return ir.apply("sum", mul(a, b)), ""
    return sum_out((mul(a, b), la), la[0] if la[0] in summed else la[1])


def _counts(factors: list[Factor], output: str) -> dict[str, int]:
    counts: dict[str, int] = {letter: 1 for letter in output}
    for _, letters in factors:
        for letter in set(letters):
            counts[letter] = counts.get(letter, 0) + 1
    return counts


def _reduced(factors: list[Factor], output: str) -> list[Factor]:
    """Each factor with its letters that nothing else holds summed out."""
    counts = _counts(factors, output)
    done = []
    for factor in factors:
        for letter in factor[1]:
            if counts[letter] == 1:
                factor = sum_out(factor, letter)
        done.append(factor)
    return done


def _search(factors: list[Factor], output: str, budget: list[int]) -> Node | None:
    factors = _reduced(factors, output)
    if len(factors) == 1:
        node, letters = factors[0]
        if letters == output:
            return node
        return transpose(node)  # the same two letters, reversed
    counts = _counts(factors, output)
    pairs = sorted(combinations(range(len(factors)), 2),
                   key=lambda p: -len(set(factors[p[0]][1]) & set(factors[p[1]][1])))
    for i, j in pairs:
        if budget[0] <= 0:
            return None
        budget[0] -= 1
        shared = set(factors[i][1]) & set(factors[j][1])
        joined = join(factors[i], factors[j], {s for s in shared if counts[s] == 2})
        if joined is None:
            continue
        rest = [f for k, f in enumerate(factors) if k not in (i, j)]
        found = _search([joined, *rest], output, budget)
        if found is not None:
            return found
    return None


def matrix_form(spec: Spec, operands: tuple[Node, ...]) -> Node | None:
    """The einsum as products, sums, traces, transposes and Diag of its operands, or None
    when it has none (or it has more than two axes somewhere)."""
    if len(spec.output) > 2 or any(len(term) > 2 for term in spec.terms):
        return batched_form(spec, operands)
    factors = []
    for node, term in zip(operands, spec.terms, strict=True):
        factor = diagonal_factor(node, term)
        if factor is None:  # pragma: no cover - terms of two letters at most here
            return None
        factors.append(factor)
    found = _search(factors, spec.output, [MAX_TRIALS])
    if found is not None and len(spec.output) == 1 and found.kind is not Kind.VECTOR \
            and not found.is_scalar:
        found = column(found) if found.kind is Kind.ROW else ir.apply("vec", found)
    return found


def batched_form(spec: Spec, operands: tuple[Node, ...]) -> Node | None:
    """A batched product or transpose of tensors (NumPy's matmul over the leading axes, a
    matrix broadcast): ``btk,bsk->bts`` is ``Q @ K'``, ``bts,bsk->btk`` is ``P @ V``,
    ``btk,kj->btj`` is ``X @ W``, ``btk,kj,bsj->bts`` is ``Q @ W @ K'``, ``bij->bji`` is
    ``X'``, and summed over the batch, ``btk,btj->kj`` is ``sum(Q' @ K, 0)``; None for any
    other einsum."""
    batched = [term for term in spec.terms if len(term) == 3]
    if len(spec.output) == 2 and len(operands) >= 2 and batched and \
            all(len(term) in (2, 3) for term in spec.terms) and \
            all(term[0] == batched[0][0] for term in batched) and \
            batched[0][0] not in spec.output + "".join(t for t in spec.terms if len(t) == 2):
        # a batch summed over: b, t and s of bts,bsk->tk are sum(P @ V, 0)
        batch = batched[0][0]
        inner = batched_form(Spec(spec.terms, batch + spec.output, spec.offsets,
                                  spec.output_offset), operands)
        return None if inner is None else ir.apply("axis_sum", inner, params=(0,))
    lead = spec.output[:-2]
    if len(spec.output) < 3:
        return None
    cores = []
    for node, term in zip(operands, spec.terms, strict=True):
        if term[:len(lead)] == lead and len(term) == len(lead) + 2:
            cores.append((node, term[len(lead):]))
        elif len(term) == 2 and not set(term) & set(lead) and node.kind is Kind.MATRIX:
            cores.append((node, term))
        else:
            return None
    if all(node.kind is Kind.MATRIX for node, _ in cores):
        return None  # pragma: no cover - an output of three letters needs a tensor operand
    return _chain(cores, spec.output[-2:], [MAX_TRIALS])


def _chain(cores: list[Factor], core: str, budget: list[int]) -> Node | None:
    """The matrix product of two-letter factors (batched: each stands for its entries) whose
    letters are the output's ``core``, joining two factors at a time over a letter that they
    alone hold; None when there is none."""
    if len(cores) == 1:
        node, letters = cores[0]
        return node if letters == core else transpose(node) if letters == core[::-1] else None
    for i, j in combinations(range(len(cores)), 2):
        if budget[0] <= 0:
            return None
        budget[0] -= 1
        rest = [f for k, f in enumerate(cores) if k not in (i, j)]
        held = core + "".join(letters for _, letters in rest)
        shared = set(cores[i][1]) & set(cores[j][1])
        if len(shared) != 1 or shared & set(held):
            continue
        letter = shared.pop()
        # the factor holding the output's row letter goes first: no transpose of the product
        (a, la), (b, lb) = (cores[j], cores[i]) if core[0] in cores[j][1] or \
            core[1] in cores[i][1] else (cores[i], cores[j])
        left = la[::-1] if la[0] == letter else la
        right = lb[::-1] if lb[1] == letter else lb
        joined = matmul(_aligned(a, la, left), _aligned(b, lb, right)), left[0] + right[1]
        found = _chain([joined, *rest], core, budget)
        if found is not None:
            return found
    return None

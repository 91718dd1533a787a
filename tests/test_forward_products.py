"""A training step's backward pass reads the products its forward pass computed
(codegen/shared_chains.forward_shared): the forward pass keeps a part of its chain as a value
where the backward pass's chains hold it, directly or transposed, and the orders of the forward
chain tie; the backward pass then never multiplies what the forward pass already did."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from helpers import assert_generated_code_matches
from test_shared_chains import ATTENTION, BLOCK

import matcalc
from matcalc.codegen import module, seeded
from matcalc.codegen.module import load
from matcalc.codegen.wrappers import formatted
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

# self-attention with values of the model's width
SQUARE_ATTENTION = ATTENTION.replace("matrix(d, e)", "matrix(d, d)").replace("tensor(B, T, e)",
                                                                           "tensor(B, T, d)")
# a two-layer perceptron over a graph: each layer mixes the rows by A
GRAPH_MLP = """
A : matrix(n, n)
X : matrix(n, d)
W1, W2 : matrix(d, d)
Y : matrix(n, d) simplex
H = tanh(A @ X @ W1)
L = -sum(Y * log(softmax(A @ H @ W2)))
"""
RAYLEIGH = "x : vector(n)\nA : matrix(n, n) symmetric\nr = (x' @ A @ x) / (x' @ x)"
# the products the backward pass would recompute without the forward pass's
KEPT = {"block": (BLOCK, ["Wq", "Wk", "Wv"], "P @ Xn"),
        "attention": (SQUARE_ATTENTION, ["Wq", "Wk", "Wv"], "P @ X"),
        "graph MLP": (GRAPH_MLP, ["W1", "W2"], "A @ H"),
        "Rayleigh quotient": (RAYLEIGH, ["x"], "A @ x")}


def _flip(text: str) -> str:
    return text[:-2] if text.endswith(".T") else f"{text}.T"


class _Products:
    """The matrix products a pass of generated code computes, each as its factors' code (a
    name standing for a transpose, ``_t4 = Xn.T``, read as that transpose)."""

    def __init__(self, body: list[ast.stmt]):
        self.aliases: dict[str, str] = {}
        self.computed: list[list[str]] = []  # what is multiplied (any order of a multi_dot)
        self.chains: list[list[str]] = []  # each product as one chain of factors
        self.assigned: dict[str, list[str]] = {}  # _t3 = P @ Xn: the factors of a name
        self.names = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name)}
        for statement in body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.BinOp):
                self.assigned[ast.unparse(statement.targets[0])] = self.factors(
                    statement.value)
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                    isinstance(statement.targets[0], ast.Name) and \
                    self._transposed(statement.value):
                self.aliases[statement.targets[0].id] = self.factor(statement.value)
            for node in ast.walk(statement):
                self._read(node)

    @staticmethod
    def _transposed(node: ast.expr) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "T" or \
            isinstance(node, ast.Call) and ast.unparse(node.func) == "_swap_last"

    def factor(self, node: ast.expr) -> str:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return _flip(self.factor(node.value))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "_swap_last":
            return _flip(self.factor(node.args[0]))
        return f"({ast.unparse(node)})"

    def factors(self, node: ast.expr) -> list[str]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            return self.factors(node.left) + self.factors(node.right)
        return [self.factor(node)]

    def _read(self, node: ast.AST) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            self.chains.append(self.factors(node))
            self.computed.append(self.chains[-1])
        if not isinstance(node, ast.Call):
            return
        name = ast.unparse(node.func)
        if name.endswith("multi_dot"):
            chain = [self.factor(item) for item in node.args[0].elts]
            self.chains.append(chain)
            self.computed += _windows(chain)
        elif name == "_batch_gram":  # sum(A' @ M, 0)
            self.chains.append([_flip(self.factor(node.args[0]))] + self.factors(node.args[1]))
        elif name == "_seeded_product":  # _grad * (A @ B)
            self.chains.append(self.factors(node.args[1]) + self.factors(node.args[2]))


def _windows(chain: list[str]) -> list[list[str]]:
    return [chain[i:j] for i in range(len(chain)) for j in range(i + 2, len(chain) + 1)]


def recomputed(forward: _Products, backward: _Products) -> list[list[str]]:
    """The parts of the backward pass's chains that the forward pass computed, directly or
    transposed."""
    done = {tuple(p) for p in forward.computed}
    done |= {tuple(_flip(f) for f in reversed(p)) for p in forward.computed}
    return [part for chain in backward.chains for part in _windows(chain) if tuple(part) in done]


def passes(source: str, code_format: str) -> tuple[_Products, _Products]:
    """The forward and the backward pass of training code (jax-vjp, torch-function)."""
    tree = ast.parse(source)
    if code_format == "torch-function":  # the methods of the autograd.Function
        tree = next(node for node in tree.body if isinstance(node, ast.ClassDef) and
                    node.name.endswith("Function"))
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    if code_format == "jax-vjp":
        forward = next(f for name, f in functions.items() if name.endswith("_forward"))
        backward = next(f for name, f in functions.items() if name.endswith("_backward"))
    else:
        forward, backward = functions["forward"], functions["backward"]
    return _Products(forward.body), _Products(backward.body)


def training_code(source: str, wrt: list[str], code_format: str) -> str:
    return formatted(list(matcalc.derive(source, wrt=wrt, check=False)), code_format)


@pytest.mark.parametrize("code_format", ["jax-vjp", "torch-function"])
@pytest.mark.parametrize("problem", KEPT)
def test_the_backward_pass_multiplies_nothing_the_forward_pass_did(problem, code_format):
    source, wrt, kept = KEPT[problem]
    forward, backward = passes(training_code(source, wrt, code_format), code_format)
    assert not recomputed(forward, backward)
    # the kept product: a value of the forward pass, read by the backward pass
    name = next(n for n, factors in forward.assigned.items() if factors == kept.split(" @ "))
    assert name in backward.names


def test_the_check_finds_the_products_recomputed_without_keeping_them(monkeypatch):
    # a test of the test: the code written before the forward pass kept its products
    monkeypatch.setattr(seeded, "kept_for_backward", lambda s, r, v, f, x=(): (s, r, v))
    for problem in ("block", "graph MLP", "Rayleigh quotient"):
        source, wrt, kept = KEPT[problem]
        forward, backward = passes(training_code(source, wrt, "jax-vjp"), "jax-vjp")
        assert recomputed(forward, backward), problem


def test_a_part_is_kept_only_where_the_forward_orders_tie(monkeypatch):
    # values of another width e: (P @ X) @ Wv costs B T (T d + d e), P @ (X @ Wv) B T e (d + T):
    # at some sizes keeping P @ X for the backward pass's X' @ P' @ G costs the forward pass
    # more than the backward pass saves, and no order serves both at every size; the code is
    # as written without keeping
    results = list(matcalc.derive(ATTENTION, wrt=["Wq", "Wk", "Wv"], check=False))
    code = module.generate(results, hoist=False)
    monkeypatch.setattr(seeded, "kept_for_backward", lambda s, r, v, f, x=(): (s, r, v))
    assert code == module.generate(results, hoist=False)


@pytest.mark.parametrize("problem", KEPT)
def test_value_and_gradient_with_kept_products_compute_what_the_interpreter_does(problem):
    # NumPy's value_and_gradient (JAX's and PyTorch's are the training code's passes, below)
    source, wrt, _ = KEPT[problem]
    assert_generated_code_matches(matcalc.derive(source, wrt=wrt, check=False), "numpy")


@pytest.mark.parametrize("problem", KEPT)
def test_training_code_with_kept_products_agrees_with_autodiff(problem):
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.test_util import check_grads

    source, wrt, _ = KEPT[problem]
    results = list(matcalc.derive(source, wrt=wrt, check=False))
    program = results[0].program
    point = random_instance(program, seed=3)
    names = list(program.variables)
    symmetric = [bool({"symmetric"} & program.variables[v].params[1]) for v in names]
    of = results[0].of
    function = getattr(load(formatted(results, "torch-function")), f"{of[:1].upper()}{of[1:]}"
                                                                    "Function")
    arguments = [torch.tensor(np.asarray(point.arrays[v], dtype=float), requires_grad=v in wrt)
                 for v in names]

    def symmetrised(*values, apply=function.apply):
        return apply(*((v + v.T) / 2 if s else v for v, s in zip(values, symmetric,
                                                                   strict=True)))

    assert np.isclose(function.apply(*arguments).item(), evaluate(program, of, point.arrays))
    assert torch.autograd.gradcheck(symmetrised, arguments, fast_mode=True)
    vjp = getattr(load(formatted(results, "jax-vjp")), of)
    arrays = [jax.numpy.asarray(point.arrays[v], dtype=float) for v in names]
    moving = [i for i, v in enumerate(names) if v in wrt]

    def of_moving(*values):
        given = list(arrays)
        for index, value in zip(moving, values, strict=True):
            given[index] = (value + value.T) / 2 if symmetric[index] else value
        return vjp(*given)

    check_grads(of_moving, tuple(arrays[i] for i in moving), order=1, modes=("rev",))


def test_a_kept_product_returned_as_a_gradient_is_not_scaled_in_place():
    # dL/dX = (A @ B)', the transpose of the forward pass's kept A @ B: scaling it by the
    # incoming gradient in place would change the saved product (a second backward pass, or
    # autograd's check of saved tensors, would see it)
    torch = pytest.importorskip("torch")
    source = "X : matrix(n, d)\nA : matrix(d, d)\nB : matrix(d, n)\nL = tr(X @ A @ B)"
    results = list(matcalc.derive(source, wrt=["X", "A"], check=False))
    function = load(formatted(results, "torch-function")).LFunction
    rng = np.random.default_rng(1)
    X, A, B = (torch.tensor(rng.normal(size=shape), requires_grad=grad) for shape, grad in
               (((4, 3), True), ((3, 3), True), ((3, 4), False)))
    loss = 3.0 * function.apply(X, A, B)
    loss.backward(retain_graph=True)
    first = X.grad.clone()
    X.grad = None
    loss.backward()
    expected = 3.0 * (A @ B).T
    assert torch.allclose(first, expected) and torch.allclose(X.grad, expected)

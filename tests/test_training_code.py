"""Derived gradients as backward passes: the torch.autograd.Function (--format torch-function)
passes gradcheck and the jax.custom_vjp function (--format jax-vjp) check_grads on every gallery
problem with a gradient; both follow the inputs' dtype, run compiled, and refuse to differentiate
a variable they were not derived for.

JAX checks every problem with MATCALC_CHECK_GRADS_ALL=1 (CI sets it), a few by default, as each
eager evaluation is slow. Compiling is slower: one small problem is compiled by default
(torch.compile through AOTAutograd, jax.jit), every one with MATCALC_COMPILE_ALL=1 (torch.compile
with its default backend, inductor, which needs a C++ compiler).
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import matcalc
from matcalc.cli.main import main
from matcalc.codegen.module import load
from matcalc.codegen.wrappers import jax_vjp, torch_function
from matcalc.derive import derive_by_request
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

COMPILE_ALL = os.environ.get("MATCALC_COMPILE_ALL") == "1"
CHECK_GRADS_ALL = COMPILE_ALL or os.environ.get("MATCALC_CHECK_GRADS_ALL") == "1"


def _gradient_problems() -> list[pathlib.Path]:
    found = []
    for path in sorted(pathlib.Path("derivations").glob("*.mc")):
        groups = derive_by_request(matcalc.parse(path.read_text()))
        if any(all(d.kind == "grad" for d in g) for g in groups):
            found.append(path)
    return found


GRADIENTS = _gradient_problems()
SMALL = pathlib.Path("derivations/softmax_regression_batch.mc")
FEW = [SMALL] + [pathlib.Path(f"derivations/{name}.mc") for name in (
    "cookbook_trace_power", "gaussian_likelihood")]


def _gradient_groups(path: pathlib.Path):
    parsed = matcalc.parse(path.read_text())
    groups = [list(g) for g in derive_by_request(parsed) if all(d.kind == "grad" for d in g)]
    return parsed, groups


SYMMETRIC = frozenset({"symmetric", "spd"})


def _symmetrised(parsed, function, symmetrise):
    """function taking the symmetric part of the arguments declared symmetric (spd): their
    functions are defined on symmetric matrices only (logdet by Cholesky reads one triangle),
    so the derivatives compared are along symmetric directions."""
    names = list(parsed.variables)
    marked = [bool(SYMMETRIC & parsed.variables[name].params[1]) for name in names]

    def symmetrised(*arguments):
        return function(*(symmetrise(a) if mark else a
                          for a, mark in zip(arguments, marked, strict=True)))

    return symmetrised


def _class_name(of: str, suffix: str) -> str:
    return f"{of[:1].upper()}{of[1:]}{suffix}"


def test_the_gallery_has_gradients_to_check():
    # a test of the tests: they see the gallery's gradient problems
    assert len(GRADIENTS) >= 20 and SMALL in GRADIENTS


@pytest.mark.parametrize("path", GRADIENTS, ids=lambda p: p.stem)
def test_the_torch_function_passes_gradcheck(path):
    torch = pytest.importorskip("torch")
    parsed, groups = _gradient_groups(path)
    module = load(torch_function(groups))
    point = random_instance(parsed, seed=3)
    for group in groups:
        function = getattr(module, _class_name(group[0].of, "Function"))
        wrt = {name for d in group for name in d.names}
        arguments = [torch.tensor(np.asarray(point.arrays[v], dtype=float),
                                  requires_grad=v in wrt) for v in parsed.variables]
        value = function.apply(*arguments)
        assert isinstance(value, torch.Tensor) and value.dtype == torch.float64
        assert np.isclose(value.item(), evaluate(parsed, group[0].of, point.arrays), rtol=1e-10)
        # fast mode: the Jacobian along random directions (the problems' sizes reach 1568)
        symmetrised = _symmetrised(parsed, function.apply, lambda a: (a + a.T) / 2)
        assert torch.autograd.gradcheck(symmetrised, arguments, fast_mode=True)
        # an incoming gradient other than 1 scales every gradient (the backward pass applies it
        # to the deltas the gradients start from, or to each gradient)
        moving = [a for a in arguments if a.requires_grad]
        once = torch.autograd.grad(function.apply(*arguments), moving)
        scaled = torch.autograd.grad(-2.5 * function.apply(*arguments), moving)
        assert all(torch.allclose(-2.5 * a, b, rtol=1e-10, atol=1e-12)
                   for a, b in zip(once, scaled, strict=True))
        if COMPILE_ALL:
            _compiles(torch, function, arguments, wrt, list(parsed.variables), "inductor")


def _compiles(torch, function, arguments, wrt, names, backend):
    torch._dynamo.reset()
    compiled = torch.compile(function.apply, backend=backend)
    leaves = [a.detach().clone().requires_grad_(name in wrt) for a, name in
              zip(arguments, names, strict=True)]
    twins = [a.detach().clone().requires_grad_(name in wrt) for a, name in
             zip(arguments, names, strict=True)]
    compiled(*leaves).backward()
    function.apply(*twins).backward()
    for leaf, twin in zip(leaves, twins, strict=True):
        if twin.grad is not None:
            assert torch.allclose(leaf.grad, twin.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("path", GRADIENTS, ids=lambda p: p.stem)
def test_the_jax_function_passes_check_grads(path):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.test_util import check_grads

    if not CHECK_GRADS_ALL and path not in FEW:
        pytest.skip("MATCALC_CHECK_GRADS_ALL=1 checks every problem")
    parsed, groups = _gradient_groups(path)
    module = load(jax_vjp(groups))
    point = random_instance(parsed, seed=3)
    names = list(parsed.variables)
    arrays = [jax.numpy.asarray(point.arrays[v], dtype=float) for v in names]
    for group in groups:
        function = _symmetrised(parsed, getattr(module, group[0].of), lambda a: (a + a.T) / 2)
        wrt = [i for i, v in enumerate(names) if any(v in d.names for d in group)]

        def of_differentiated(*moving, function=function, wrt=wrt):
            values = list(arrays)
            for index, value in zip(wrt, moving, strict=True):
                values[index] = value
            return function(*values)

        moving = tuple(arrays[i] for i in wrt)
        assert np.isclose(float(of_differentiated(*moving)),
                          evaluate(parsed, group[0].of, point.arrays), rtol=1e-10)
        check_grads(of_differentiated, moving, order=1, modes=("rev",))
        if COMPILE_ALL or path == SMALL:
            gradients = jax.jit(jax.grad(of_differentiated, argnums=tuple(range(len(wrt)))))(
                *moving)
            eager = jax.grad(of_differentiated, argnums=tuple(range(len(wrt))))(*moving)
            assert all(np.allclose(a, b, rtol=1e-10) for a, b in
                       zip(gradients, eager, strict=True))


def test_the_torch_function_compiles():
    torch = pytest.importorskip("torch")
    parsed, groups = _gradient_groups(SMALL)
    module = load(torch_function(groups))
    point = random_instance(parsed, seed=1)
    function = getattr(module, _class_name(groups[0][0].of, "Function"))
    wrt = {name for name in groups[0][0].names}
    arguments = [torch.tensor(np.asarray(point.arrays[v], dtype=float)) for v in parsed.variables]
    _compiles(torch, function, arguments, wrt, list(parsed.variables), "aot_eager")


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_torch_function_follows_the_dtype(dtype):
    torch = pytest.importorskip("torch")
    parsed, groups = _gradient_groups(pathlib.Path("derivations/cs224n_one_layer.mc"))
    module = load(torch_function(groups))
    point = random_instance(parsed, seed=2)
    chosen = getattr(torch, dtype)
    arguments = [torch.tensor(np.asarray(point.arrays[v], dtype=float), dtype=chosen,
                              requires_grad=v != "y") for v in parsed.variables]
    value = module.JFunction.apply(*arguments)
    value.backward()
    exact = [torch.tensor(np.asarray(point.arrays[v], dtype=float), requires_grad=v != "y")
             for v in parsed.variables]
    module.JFunction.apply(*exact).backward()
    tolerance = 1e-4 if dtype == "float32" else 5e-2
    assert value.dtype == chosen
    for argument, reference in zip(arguments[:-1], exact[:-1], strict=True):
        assert argument.grad.dtype == chosen and argument.grad.shape == argument.shape
        assert torch.allclose(argument.grad.double(), reference.grad, rtol=tolerance,
                              atol=tolerance)


def test_the_module_trains_its_parameters():
    torch = pytest.importorskip("torch")
    parsed, groups = _gradient_groups(SMALL)
    module = load(torch_function(groups))
    point = random_instance(parsed, seed=0)
    tensors = {k: torch.tensor(np.asarray(v, dtype=float)) for k, v in point.arrays.items()}
    (of,) = {g[0].of for g in groups}
    wrt = list(groups[0][0].names) if len(groups[0]) == 1 else [d.names[0] for d in groups[0]]
    model = getattr(module, _class_name(of, "Module"))(*(tensors[v] for v in wrt))
    assert [name for name, _ in model.named_parameters()] == wrt
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
    fixed = [tensors[v] for v in parsed.variables if v not in wrt]
    losses = []
    for _ in range(5):
        optimiser.zero_grad()
        loss = model(*fixed)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_differentiating_a_variable_not_derived_for_is_an_error():
    # the backward pass has no gradient for X: asking for one is an error, never a zero
    torch = pytest.importorskip("torch")
    problem = "X : matrix(N, d); W : matrix(d, k); Y : matrix(N, k) simplex\n" \
              "L = -sum(Y * log(softmax(X @ W)))\ngrad L wrt W"
    groups = derive_by_request(matcalc.parse(problem))
    module = load(torch_function(groups))
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    W = torch.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    Y = torch.softmax(torch.tensor(rng.normal(size=(4, 2))), 1)
    with pytest.raises(RuntimeError, match="X requires grad.*respect to W only"):
        module.LFunction.apply(X, W, Y)
    jax = pytest.importorskip("jax")
    functions = load(jax_vjp(groups))
    arrays = [jax.numpy.asarray(t.detach().numpy()) for t in (X, W, Y)]
    with pytest.raises(ValueError, match="X is differentiated.*respect to W only"):
        jax.grad(functions.L, argnums=0)(*arrays)
    assert jax.grad(functions.L, argnums=1)(*arrays).shape == (3, 2)


def test_the_command_line_writes_both_formats(capsys):
    assert main(["derive", "derivations/cs224n_one_layer.mc", "--format", "torch-function"]) == 0
    source = capsys.readouterr().out
    assert "class JFunction(_torch.autograd.Function):" in source
    assert "ctx.save_for_backward(" in source and "class JModule(_torch.nn.Module):" in source
    assert "numpy" not in source
    assert main(["derive", "derivations/cs224n_one_layer.mc", "--format", "jax-vjp"]) == 0
    source = capsys.readouterr().out
    assert "@_jax.custom_vjp\ndef J(x, W, b1, U, b2, y):" in source
    assert main(["derive", "x : vector(n)\ny = exp(x)", "--format", "jax-vjp"]) == 2
    assert "needs the gradient of a scalar function" in capsys.readouterr().err


def test_the_backward_pass_applies_the_incoming_gradient_once():
    # CS224n's gradients all follow linearly from delta1 = yhat - y: the incoming gradient
    # scales delta1 (10 entries), not each of the five gradients
    source = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()
    code = matcalc.derive(source, check=False).code(format="torch-function")
    backward = code[code.index("def backward"):code.index("_JFunction = ")]
    assert "delta1 = (_grad * " in backward and backward.count("_grad") == 2, backward

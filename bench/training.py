"""Training steps with matcalc's backward passes against autodiff: the loss and its gradients of
the CS224n net, a LayerNorm + attention block and softmax regression, as a
``torch.autograd.Function`` (``--format torch-function``) against the same function in plain
PyTorch ops under autograd, and as a ``jax.custom_vjp`` function (``--format jax-vjp``) against
``jax.grad`` of the plain function, both under ``jax.jit``.  One process, one thread, the
implementations timed in turn within each repetition, medians; float64.

Also the memory backward keeps alive in PyTorch: the bytes of the tensors saved for the backward
pass (``torch.autograd.graph.saved_tensors_hooks``), counted once each and leaving out the
inputs, which the caller holds anyway.

Run:  taskset -c 0 python bench/training.py [--repeats 30]
"""

from __future__ import annotations

from timing import add_timing_options, one_thread, timed, use_timing_options

one_thread()

import argparse  # noqa: E402
import pathlib  # noqa: E402
from collections.abc import Callable  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import matcalc  # noqa: E402
from matcalc.codegen.module import load  # noqa: E402
from matcalc.derive import Derivative  # noqa: E402

torch.set_num_threads(1)
ROOT = pathlib.Path(__file__).resolve().parent.parent

BLOCK = """
X : matrix(n, d)
Wq, Wk, Wv : matrix(d, d)
G : matrix(n, d)
mu = mean(X, 1)
C = X - mu @ ones(d)'
s = sqrt(mean(C .^ 2, 1) + 1e-5)
Xn = C / (s @ ones(d)')
P = softmax(Xn @ Wq @ (Xn @ Wk)' / sqrt(d))
L = G : (P @ Xn @ Wv)
grad L wrt Wq, Wk, Wv
"""

SOFTMAX_REGRESSION = """
X : matrix(N, d)
W : matrix(d, k)
Y : matrix(N, k) simplex
L = -sum(Y * log(softmax(X @ W)))
grad L wrt W
"""


def cs224n(lib):
    def loss(x, W, b1, U, b2, y):
        h = lib.relu(W @ x + b1)
        return -lib.sum(y * lib.log_softmax(U @ h + b2, 0))
    return loss


def block(lib):
    def loss(X, Wq, Wk, Wv, G):
        mu = lib.mean(X, 1)
        C = X - mu
        Xn = C / lib.sqrt(lib.mean(C * C, 1) + 1e-5)
        P = lib.softmax(Xn @ Wq @ (Xn @ Wk).T / np.sqrt(X.shape[1]), 1)
        return lib.sum(G * (P @ Xn @ Wv))
    return loss


def softmax_regression(lib):
    def loss(X, W, Y):
        return -lib.sum(Y * lib.log_softmax(X @ W, 1))
    return loss


class Torch:
    relu = staticmethod(torch.relu)
    sum = staticmethod(torch.sum)
    sqrt = staticmethod(torch.sqrt)

    @staticmethod
    def log_softmax(x, axis):
        return torch.log_softmax(x, dim=axis)

    @staticmethod
    def softmax(x, axis):
        return torch.softmax(x, dim=axis)

    @staticmethod
    def mean(x, axis):
        return torch.mean(x, dim=axis, keepdim=True)


class Jax:
    relu = staticmethod(jax.nn.relu)
    sum = staticmethod(jnp.sum)
    sqrt = staticmethod(jnp.sqrt)

    @staticmethod
    def log_softmax(x, axis):
        return jax.nn.log_softmax(x, axis=axis)

    @staticmethod
    def softmax(x, axis):
        return jax.nn.softmax(x, axis=axis)

    @staticmethod
    def mean(x, axis):
        return jnp.mean(x, axis=axis, keepdims=True)


def problems(rng: np.random.Generator, scale: int):
    """(label, source, plain loss, arrays in declaration order, names differentiated)."""
    dx, dh, nc = 784 // scale, 256 // scale, 10
    onehot = np.eye(nc)[rng.integers(nc)]
    yield (f"CS224n net (Dx, Dh, Nc = {dx}, {dh}, {nc})",
           (ROOT / "derivations" / "cs224n_one_layer.mc").read_text(), cs224n,
           {"x": rng.normal(size=(dx, 1)), "W": rng.normal(size=(dh, dx)) / np.sqrt(dx),
            "b1": rng.normal(size=(dh, 1)), "U": rng.normal(size=(nc, dh)) / np.sqrt(dh),
            "b2": rng.normal(size=(nc, 1)), "y": onehot.reshape(-1, 1)},
           ("x", "W", "b1", "U", "b2"))
    n, d = 128 // scale, 64 // scale
    yield (f"LayerNorm + attention (n, d = {n}, {d})", BLOCK, block,
           {"X": rng.normal(size=(n, d)), "Wq": rng.normal(size=(d, d)) / np.sqrt(d),
            "Wk": rng.normal(size=(d, d)) / np.sqrt(d), "Wv": rng.normal(size=(d, d)) / np.sqrt(d),
            "G": rng.normal(size=(n, d))}, ("Wq", "Wk", "Wv"))
    for n, d, k in ((2000 // scale, 300 // scale, 10), (64, 20, 5)):
        yield (f"softmax regression (N, d, k = {n}, {d}, {k})", SOFTMAX_REGRESSION,
               softmax_regression,
               {"X": rng.normal(size=(n, d)), "W": rng.normal(size=(d, k)) / np.sqrt(d),
                "Y": np.eye(k)[rng.integers(0, k, n)]}, ("W",))


def saved_bytes(step: Callable[[], torch.Tensor], inputs: list[torch.Tensor]) -> int:
    """Bytes of the tensors the forward pass saves for backward, inputs left out."""
    held = {t.untyped_storage().data_ptr() for t in inputs}
    seen: dict[int, int] = {}

    def pack(tensor):
        pointer = tensor.untyped_storage().data_ptr()
        if pointer not in held:
            seen[pointer] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = step()
    loss.backward()
    return sum(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    add_timing_options(parser)
    arguments = parser.parse_args()
    use_timing_options(arguments)
    print(f"PyTorch {torch.__version__}; JAX {jax.__version__}; float64, one thread\n")
    print("| training step | matcalc Function | PyTorch autograd | ratio | saved for backward "
          "(matcalc / autograd) | matcalc custom_vjp (jit) | jax.grad (jit) | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for label, source, plain, arrays, wrt in problems(rng, 4 if arguments.quick else 1):
        results = matcalc.derive(source, check=False)
        torch_module = load(results.code(format="torch-function"))
        jax_module = load(results.code(format="jax-vjp"))
        of = results.of if isinstance(results, Derivative) else results[0].of
        function = getattr(torch_module, f"{of[:1].upper()}{of[1:]}Function")
        names = list(arrays)
        tensors = [torch.tensor(arrays[name]) for name in names]
        leaves = [t.clone().requires_grad_(name in wrt) for t, name in zip(tensors, names,
                                                                        strict=True)]
        plain_torch = plain(Torch)

        def ours(leaves=leaves, function=function):
            for leaf in leaves:
                leaf.grad = None
            loss = function.apply(*leaves)
            loss.backward()
            return loss

        def theirs(leaves=leaves, plain_torch=plain_torch):
            for leaf in leaves:
                leaf.grad = None
            loss = plain_torch(*leaves)
            loss.backward()
            return loss

        ours_loss = ours()
        ours_grads = [leaf.grad.clone() for leaf in leaves if leaf.requires_grad]
        theirs_loss = theirs()
        assert torch.allclose(ours_loss, theirs_loss), label
        assert all(torch.allclose(a, leaf.grad) for a, leaf in
                   zip(ours_grads, [x for x in leaves if x.requires_grad], strict=True)), label
        memory = (saved_bytes(lambda f=function, a=leaves: f.apply(*a), leaves),
                  saved_bytes(lambda f=plain_torch, a=leaves: f(*a), leaves))
        indices = tuple(names.index(name) for name in wrt)
        jax_arrays = [jnp.asarray(arrays[name]) for name in names]
        vjp_function = getattr(jax_module, of)
        ours_jax = jax.jit(jax.value_and_grad(vjp_function, argnums=indices))
        theirs_jax = jax.jit(jax.value_and_grad(plain(Jax), argnums=indices))
        check = ours_jax(*jax_arrays), theirs_jax(*jax_arrays)
        assert np.allclose(check[0][0], check[1][0]), label
        medians = timed({
            "ours": ours, "theirs": theirs,
            "ours jax": lambda f=ours_jax, a=jax_arrays: jax.block_until_ready(f(*a)),
            "theirs jax": lambda f=theirs_jax, a=jax_arrays: jax.block_until_ready(f(*a)),
        }, arguments.repeats, warm_ups=2)
        print(f"| {label} | {medians['ours'] * 1e6:.0f} us | {medians['theirs'] * 1e6:.0f} us | "
              f"{medians['ours'] / medians['theirs']:.2f}x | {memory[0] / 1024:.1f} / "
              f"{memory[1] / 1024:.1f} KiB | {medians['ours jax'] * 1e6:.0f} us | "
              f"{medians['theirs jax'] * 1e6:.0f} us | "
              f"{medians['ours jax'] / medians['theirs jax']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()

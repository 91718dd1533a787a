"""matcalc's generated code against JAX (jit of grad / hessian) and PyTorch autograd, in one
process, interleaved, one BLAS thread; medians and ratios.  Also the checker on a
100,000-parameter gradient, derivation + code generation time against JAX's compile time, and
the command line's cold start.

Run:  taskset -c 0 python bench/versus.py [--repeats 15] [--quick]
JAX, PyTorch and numba are optional (pip install 'matcalc-derive[bench]'); what is missing is
skipped.  A row-local gradient (B10) is also timed as `--format numba` writes it (fused kernels),
in a row of its own under its problem's.
"""

from __future__ import annotations

from timing import add_timing_options, one_thread, timed, use_timing_options

one_thread()

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import matcalc  # noqa: E402
from matcalc.codegen.module import compiled, generate, load  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - optional
    torch = None
try:
    import jax
    import jax.numpy as jnp
except ImportError:  # pragma: no cover - optional
    jax = None
try:  # --format numba's fused kernels (one thread: numba's loops are not parallel)
    import numba
except ImportError:  # pragma: no cover - optional
    numba = None

SOFTMAX_REGRESSION = """
X : matrix(N, d)
W : matrix(d, k)
Y : matrix(N, k) simplex
L = -sum(Y * log(softmax(X @ W)))
"""
# (N, d, k) of each softmax regression problem
SOFTMAX_SIZES = {"B8": (2000, 300, 10), "B8s": (64, 20, 5), "B9": (500, 50, 10),
                 "B9s": (64, 20, 5)}
PROBLEMS = {
    "B1": ("batched 1-layer MLP grads", """
X : matrix(N, D)
W1 : matrix(D, H)
W2 : matrix(H, K)
Y : matrix(N, K) simplex
Z = X @ W1
P = softmax(relu(Z) @ W2)
J = -sum(Y * log(P))
""", ["W1", "W2"], "grad"),
    "B2": ("math.SE grad wrt C", """
A : matrix(p, k)
B : matrix(q, p)
C : matrix(N, q)
Y : matrix(N, k) simplex
E = -sum(Y * log(softmax(C @ B @ A)))
""", ["C"], "grad"),
    "B3": ("logistic regression Hessian", """
X : matrix(N, d)
w : vector(d)
y : vector(N)
s = sigmoid(X @ w)
J = -sum(y * log(s) + (1 - y) * log(1 - s))
""", ["w"], "hessian"),
    "B5": ("logistic Hessian, labels +-1", """
X : matrix(N, d)
w : vector(d)
y : vector(N) pm1
L = sum(log(1 + exp(-y * (X @ w))))
""", ["w"], "hessian"),
    "B5g": ("logistic gradient, labels +-1", """
X : matrix(N, d)
w : vector(d)
y : vector(N) pm1
L = sum(log(1 + exp(-y * (X @ w))))
""", ["w"], "grad"),
    "B4": ("tr(X' A X) grad", """
X, A : matrix(n, n)
f = tr(X' @ A @ X)
""", ["X"], "grad"),
    "B8": ("softmax regression grad", SOFTMAX_REGRESSION, ["W"], "grad"),
    "B8s": ("softmax regression grad, small", SOFTMAX_REGRESSION, ["W"], "grad"),
    "B9": ("softmax regression Hessian", SOFTMAX_REGRESSION, ["W"], "hessian"),
    "B9s": ("softmax regression Hessian, small", SOFTMAX_REGRESSION, ["W"], "hessian"),
    "B6": ("GP likelihood through chol, grad wrt K", """
K : matrix(n, n) spd
y : vector(n)
L = chol(K)
a = inv(L) @ y
J = 0.5 * a' @ a + sum(log(diag(L)))
""", ["K"], "grad"),
    "B7": ("batched self-attention, grads wrt Wq, Wk, Wv", """
X : tensor(B, T, d)
Wq, Wk, Wv : matrix(d, d)
G : tensor(B, T, d)
Q = X @ Wq
K = X @ Wk
V = X @ Wv
P = softmax(Q @ K' / sqrt(d))
L = sum(G * (P @ V))
""", ["Wq", "Wk", "Wv"], "grad"),
    "B10": ("batched LayerNorm backward, grad wrt X", """
X, G : matrix(N, d)
mu = mean(X, 1)
s = sqrt(mean((X - mu) .^ 2, 1) + 1e-5)
Xn = (X - mu) / s
L = G : Xn
""", ["X"], "grad"),
}
LAYERNORM_WIDTHS = (256, 1024, 2048)  # B10 runs at each, N = 256 rows


def arrays_for(name: str, dtype, rng: np.random.Generator, quick: bool) -> dict:
    scale = 4 if quick else 1
    if name == "B1":
        n, d, h, k = 512 // scale, 784 // scale, 256 // scale, 10
        y = np.eye(k)[rng.integers(0, k, n)]
        return {"X": rng.normal(size=(n, d)), "W1": rng.normal(size=(d, h)) / np.sqrt(d),
                "W2": rng.normal(size=(h, k)) / np.sqrt(h), "Y": y}
    if name == "B2":
        n, q, p, k = 64, 1568 // scale, 1024 // scale, 10
        return {"A": rng.normal(size=(p, k)) / np.sqrt(p), "B": rng.normal(size=(q, p)) /
                np.sqrt(q), "C": rng.normal(size=(n, q)), "Y": np.eye(k)[rng.integers(0, k, n)]}
    if name == "B3":
        n, d = 2000 // scale, 1000 // scale
        return {"X": rng.normal(size=(n, d)) / np.sqrt(d), "w": rng.normal(size=d),
                "y": rng.uniform(0.05, 0.95, size=n)}
    if name in ("B5", "B5g"):
        n, d = 2000 // scale, 1000 // scale
        return {"X": rng.normal(size=(n, d)) / np.sqrt(d), "w": rng.normal(size=d),
                "y": rng.choice([-1.0, 1.0], size=n)}
    if name in SOFTMAX_SIZES:
        n, d, k = SOFTMAX_SIZES[name]
        if quick and name in ("B8", "B9"):
            n, d = n // scale, d // scale
        return {"X": rng.normal(size=(n, d)), "W": rng.normal(size=(d, k)) / np.sqrt(d),
                "Y": np.eye(k)[rng.integers(0, k, n)]}
    if name == "B6":  # an spd kernel matrix of n = 500 points (noise 0.1) and its targets
        n = 500 // scale
        points = rng.normal(size=(n, 3))
        squared = np.sum((points[:, None, :] - points[None, :, :]) ** 2, axis=-1)
        return {"K": np.exp(-0.5 * squared) + 0.1 * np.eye(n), "y": rng.normal(size=n)}
    if name.startswith("B10"):  # 256 rows of width d (B10@256, B10@1024, B10@2048)
        d = int(name.split("@")[1]) if "@" in name else 1024
        return {"X": rng.normal(size=(256, d // scale)), "G": rng.normal(size=(256, d // scale))}
    if name == "B7":  # B, T, d = 16, 128, 64
        b, t, d = 16 // scale, 128, 64
        return {"X": rng.normal(size=(b, t, d)), "G": rng.normal(size=(b, t, d)),
                **{w: rng.normal(size=(d, d)) / np.sqrt(d) for w in ("Wq", "Wk", "Wv")}}
    n = 300 // scale
    return {"X": rng.normal(size=(n, n)), "A": rng.normal(size=(n, n))}


# -- the same functions for JAX and PyTorch -------------------------------------------------

def jax_function(name: str):
    def b1(W1, W2, X, Y):
        logits = jnp.maximum(X @ W1, 0) @ W2
        return -jnp.sum(Y * jax.nn.log_softmax(logits, axis=1))

    def b2(C, A, B, Y):
        return -jnp.sum(Y * jax.nn.log_softmax(C @ B @ A, axis=1))

    def b3(w, X, y):
        s = jax.nn.sigmoid(X @ w)
        return -jnp.sum(y * jnp.log(s) + (1 - y) * jnp.log(1 - s))

    def b4(X, A):
        return jnp.trace(X.T @ A @ X)

    def b5(w, X, y):
        return jnp.sum(jnp.log(1 + jnp.exp(-y * (X @ w))))

    def b6(K, y):  # the same function of the symmetric part, as matcalc's chol reads it
        chol = jnp.linalg.cholesky((K + K.T) / 2)
        a = jax.scipy.linalg.solve_triangular(chol, y, lower=True)
        return 0.5 * a @ a + jnp.sum(jnp.log(jnp.diagonal(chol)))

    def b7(Wq, Wk, Wv, X, G):
        q, k, v = X @ Wq, X @ Wk, X @ Wv
        p = jax.nn.softmax(q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(X.shape[-1]), axis=-1)
        return jnp.sum(G * (p @ v))

    def b8(W, X, Y):
        return -jnp.sum(Y * jax.nn.log_softmax(X @ W, axis=1))

    def b10(X, G):
        centred = X - jnp.mean(X, axis=1, keepdims=True)
        s = jnp.sqrt(jnp.mean(centred * centred, axis=1, keepdims=True) + 1e-5)
        return jnp.sum(G * centred / s)

    return {"B10": (b10, ("X",), ("G",)),
            "B7": (b7, ("Wq", "Wk", "Wv"), ("X", "G")), "B1": (b1, ("W1", "W2"), ("X", "Y")),
            "B8": (b8, ("W",), ("X", "Y")), "B8s": (b8, ("W",), ("X", "Y")),
            "B9": (b8, ("W",), ("X", "Y")), "B9s": (b8, ("W",), ("X", "Y")),
            "B2": (b2, ("C",), ("A", "B", "Y")),
            "B3": (b3, ("w",), ("X", "y")), "B4": (b4, ("X",), ("A",)),
            "B5": (b5, ("w",), ("X", "y")), "B5g": (b5, ("w",), ("X", "y")),
            "B6": (b6, ("K",), ("y",))}[name]


def torch_function(name: str):
    def b1(W1, W2, X, Y):
        logits = torch.relu(X @ W1) @ W2
        return -torch.sum(Y * torch.log_softmax(logits, dim=1))

    def b2(C, A, B, Y):
        return -torch.sum(Y * torch.log_softmax(C @ B @ A, dim=1))

    def b3(w, X, y):
        s = torch.sigmoid(X @ w)
        return -torch.sum(y * torch.log(s) + (1 - y) * torch.log(1 - s))

    def b4(X, A):
        return torch.trace(X.T @ A @ X)

    def b5(w, X, y):
        return torch.sum(torch.log(1 + torch.exp(-y * (X @ w))))

    def b6(K, y):
        chol = torch.linalg.cholesky((K + K.T) / 2)
        a = torch.linalg.solve_triangular(chol, y.reshape(-1, 1), upper=False)
        return 0.5 * torch.sum(a * a) + torch.sum(torch.log(torch.diagonal(chol)))

    def b7(Wq, Wk, Wv, X, G):
        q, k, v = X @ Wq, X @ Wk, X @ Wv
        p = torch.softmax(q @ k.transpose(-1, -2) / X.shape[-1] ** 0.5, dim=-1)
        return torch.sum(G * (p @ v))

    def b8(W, X, Y):
        return -torch.sum(Y * torch.log_softmax(X @ W, dim=1))

    def b10(X, G):
        centred = X - torch.mean(X, dim=1, keepdim=True)
        s = torch.sqrt(torch.mean(centred * centred, dim=1, keepdim=True) + 1e-5)
        return torch.sum(G * centred / s)

    return {"B1": b1, "B2": b2, "B3": b3, "B4": b4, "B5": b5, "B5g": b5, "B6": b6,
            "B7": b7, "B8": b8, "B8s": b8, "B9": b8, "B9s": b8, "B10": b10}[name]


def numpy_by_hand(name: str):
    """Softmax regression's gradient X'(P - Y) and Hessian sum_n kron(Diag(p_n) - p_n p_n',
    x_n x_n') (Bishop 2006, eqs. 4.109 and 4.110; Y's rows sum to one) as one writes them in
    NumPy, the Hessian through its structure: -Z'Z for the rows z_n = p_n (x) x_n, plus the
    diagonal blocks X' Diag(P[:, i]) X."""
    def probabilities(X, W):
        logits = X @ W
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def gradient(X, W, Y):
        return X.T @ (probabilities(X, W) - Y)

    def hessian(X, W, Y):
        p = probabilities(X, W)
        (n, d), k = X.shape, W.shape[1]
        rows = (p[:, :, None] * X[:, None, :]).reshape(n, k * d)
        result = -(rows.T @ rows)
        for i in range(k):
            result[i * d:(i + 1) * d, i * d:(i + 1) * d] += (X * p[:, i:i + 1]).T @ X
        return result

    return gradient if PROBLEMS[name][3] == "grad" else hessian


def layernorm_by_hand(X, G):
    """The LayerNorm backward pass as one writes it in NumPy (Ba, Kiros & Hinton 2016): the
    forward statistics, then (G - mean(G) - Xn mean(G Xn)) / s along each row."""
    centred = X - X.mean(axis=1, keepdims=True)
    s = np.sqrt((centred * centred).mean(axis=1, keepdims=True) + 1e-5)
    normalised = centred / s
    return (G - G.mean(axis=1, keepdims=True) -
            normalised * (G * normalised).mean(axis=1, keepdims=True)) / s


def implementations(name: str, arrays: dict, dtype) -> dict[str, Callable[[], object]]:
    title, source, wrt, kind = PROBLEMS[name]
    derived = matcalc.derive(source, wrt=wrt, kind=kind, check=False)
    group = derived if isinstance(derived, list) else [derived]
    typed = {k: np.asarray(v, dtype=dtype) for k, v in arrays.items()}
    function = compiled(group, hoist=False)
    result: dict[str, Callable[[], object]] = {"matcalc": lambda: function(**typed)}
    if name in SOFTMAX_SIZES:
        by_hand = numpy_by_hand(name)
        result["NumPy by hand"] = lambda: by_hand(typed["X"], typed["W"], typed["Y"])
    if name == "B10":
        result["NumPy by hand"] = lambda: layernorm_by_hand(typed["X"], typed["G"])
    fused = generate(group, "gradient", False, backend="numba")
    if numba is not None and "_fused_kernel(_gradient_loops)" in fused:  # a row-local gradient
        kernels = load(fused)
        kernels.gradient(**typed)  # compiled for this dtype before it is timed
        result["matcalc numba"] = lambda: kernels.gradient(**typed)
    if name == "B2":
        module = load(generate(group, "gradient", True))
        prepared = module.prepare(**typed)
        result["matcalc hoisted"] = lambda: module.gradient(**typed, prepared=prepared)
    if jax is not None:
        fn, moving, fixed = jax_function(name)
        argnums = tuple(range(len(moving)))
        transform = jax.hessian(fn, argnums=0) if kind == "hessian" else \
            jax.grad(fn, argnums=argnums)
        jitted = jax.jit(transform)
        jax_args = [jnp.asarray(typed[k]) for k in (*moving, *fixed)]
        jax.block_until_ready(jitted(*jax_args))
        result["JAX jit"] = lambda: jax.block_until_ready(jitted(*jax_args))
    if torch is not None:
        fn = torch_function(name)
        _, moving, fixed = jax_function(name)
        tensors = {k: torch.tensor(typed[k]) for k in typed}
        if kind == "hessian":
            def torch_run():
                return torch.autograd.functional.hessian(
                    lambda w: fn(w, *(tensors[k] for k in fixed)), tensors[moving[0]])
        else:
            def torch_run():
                leaves = [tensors[k].clone().requires_grad_(True) for k in moving]
                value = fn(*leaves, *(tensors[k] for k in fixed))
                return torch.autograd.grad(value, leaves)
        result["PyTorch"] = torch_run
    return result


def versus(repeats: int, quick: bool, only: list[str] | None = None) -> None:
    rng = np.random.default_rng(0)
    others = ("JAX jit", "PyTorch", "NumPy by hand")
    print("| problem | dtype | matcalc | " + " | ".join(others) + " | " +
          " | ".join(f"matcalc / {other}" for other in others) + " |")
    print("|---|---|---|---|---|---|---|---|---|")
    cases = [(name, f"{name}@{d}" if name == "B10" else name)
             for name in only or PROBLEMS for d in (LAYERNORM_WIDTHS if name == "B10" else (0,))]
    for name, case in cases:
        arrays = arrays_for(case, np.float64, rng, quick)
        for dtype in (np.float64, np.float32):
            medians = timed(implementations(name, arrays, dtype), repeats)
            ours = medians["matcalc"]
            cells = [f"{ours * 1e3:.2f} ms"]
            for other in others:
                cells.append(f"{medians[other] * 1e3:.2f} ms" if other in medians else "-")
            for other in others:
                cells.append(f"{ours / medians[other]:.2f}x" if other in medians else "-")
            label = f"{case} {PROBLEMS[name][0]}"
            print(f"| {label} | {np.dtype(dtype).name} | " + " | ".join(cells) + " |",
                  flush=True)
            if "matcalc numba" in medians:  # the same gradient as fused kernels
                fused = medians["matcalc numba"]
                ratios = [f"{fused / medians[other]:.2f}x" if other in medians else "-"
                          for other in others]
                print(f"| {case} matcalc --format numba | {np.dtype(dtype).name} | "
                      f"{fused * 1e3:.2f} ms | - | - | - | " + " | ".join(ratios) + " |",
                      flush=True)
            if "matcalc hoisted" in medians:
                hoisted = medians["matcalc hoisted"]
                ratio = f"{hoisted / medians['JAX jit']:.3f}x" if "JAX jit" in medians else "-"
                print(f"| {name} with B @ A hoisted | {np.dtype(dtype).name} | "
                      f"{hoisted * 1e3:.3f} ms | | | {ratio} | |", flush=True)


def training_step(repeats: int, quick: bool) -> None:
    """B1's loss with its gradients (one step of a training loop), the forward pass shared:
    matcalc's value_and_gradient against jax.jit(jax.value_and_grad) and PyTorch's forward and
    backward."""
    rng = np.random.default_rng(2)
    _, source, wrt, _ = PROBLEMS["B1"]
    arrays = arrays_for("B1", np.float64, rng, quick)
    module = load(generate(list(matcalc.derive(source, wrt=wrt, check=False)), "gradient",
                           True))
    functions: dict[str, Callable[[], object]] = {
        "matcalc": lambda: module.value_and_gradient(**arrays)}
    if jax is not None:
        fn, moving, fixed = jax_function("B1")
        step = jax.jit(jax.value_and_grad(fn, argnums=(0, 1)))
        args = [jnp.asarray(arrays[k]) for k in (*moving, *fixed)]
        jax.block_until_ready(step(*args))
        functions["JAX jit"] = lambda: jax.block_until_ready(step(*args))
    if torch is not None:
        fn = torch_function("B1")
        tensors = {k: torch.tensor(v) for k, v in arrays.items()}

        def torch_step():
            leaves = [tensors[k].clone().requires_grad_(True) for k in ("W1", "W2")]
            value = fn(*leaves, tensors["X"], tensors["Y"])
            return value.item(), torch.autograd.grad(value, leaves)

        functions["PyTorch"] = torch_step
    medians = timed(functions, repeats)
    ours = medians["matcalc"]
    parts = [f"matcalc {ours * 1e3:.2f} ms"] + [
        f"{name} {medians[name] * 1e3:.2f} ms ({ours / medians[name]:.2f}x)"
        for name in ("JAX jit", "PyTorch") if name in medians]
    print("\nB1 training step (loss and gradients, float64): " + "; ".join(parts))


def checker(quick: bool) -> None:
    side = 100 if quick else 316  # 316^2 = 99,856 parameters
    source = f"W : matrix({side}, {side}); x : vector({side})\nf = sum(tanh(W @ x)) + " \
             "norm(W) ^ 2"
    derivative = matcalc.derive(source, wrt="W")
    start = time.perf_counter()
    result = matcalc.check(derivative, seed=0)
    elapsed = time.perf_counter() - start
    print(f"\nChecker: a {side * side:,}-parameter gradient proven by finite differences in "
          f"{elapsed:.2f} s ({'ok' if result.ok else 'FAILED'}, {result.comparisons} "
          f"comparisons at {result.trials} points)")


def derivation_against_compile() -> None:
    _, source, wrt, kind = PROBLEMS["B1"]
    start = time.perf_counter()
    derived = matcalc.derive(source, wrt=wrt, kind=kind)
    compiled(list(derived), hoist=True)
    ours = time.perf_counter() - start
    line = f"\nB1 derivation + code generation (cold, first call): {ours * 1e3:.0f} ms"
    if jax is not None:
        fn, moving, fixed = jax_function("B1")
        rng = np.random.default_rng(1)
        arrays = arrays_for("B1", np.float64, rng, quick=False)
        args = [jnp.asarray(arrays[k]) for k in (*moving, *fixed)]
        start = time.perf_counter()
        jax.block_until_ready(jax.jit(jax.grad(fn, argnums=(0, 1)))(*args))
        line += f"; JAX jit compile + first run of the same gradient: " \
                f"{(time.perf_counter() - start) * 1e3:.0f} ms"
    print(line)


def cold_start() -> None:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "matcalc", "derive", "x' @ A @ x", "--wrt", "x"],
                       capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    print(f"Command line cold start (derive a one-line expression): "
          f"{statistics.median(times) * 1e3:.0f} ms (median of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    add_timing_options(parser)
    parser.add_argument("--only", nargs="+", choices=sorted(PROBLEMS),
                        help="these problems only (and nothing else)")
    parser.add_argument("--training-step", action="store_true",
                        help="only the training-step comparison")
    arguments = parser.parse_args()
    use_timing_options(arguments)
    print(f"JAX: {jax.__version__ if jax else 'not installed'}; PyTorch: "
          f"{torch.__version__ if torch else 'not installed'}; NumPy {np.__version__}\n")
    if arguments.training_step:
        training_step(arguments.repeats, arguments.quick)
        return
    versus(arguments.repeats, arguments.quick, arguments.only)
    if arguments.only:
        return
    training_step(arguments.repeats, arguments.quick)
    checker(arguments.quick)
    derivation_against_compile()
    cold_start()


if __name__ == "__main__":
    main()

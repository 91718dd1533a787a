"""Derivation speed: the CS224n gradients warm, and time and result size against depth (L = 2..64).

Run: python bench/derivation_speed.py   (pin it for stable figures: taskset -c 0 ...)
Reports medians and the ratios that the goals are stated in; no timed assertions.
"""

from __future__ import annotations

import pathlib
import statistics
import time

import matcalc

ROOT = pathlib.Path(__file__).resolve().parent.parent


def median_ms(function, repeats: int = 30) -> float:
    function()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def mlp(layers: int) -> str:
    lines = ["x : vector(n)", "y : vector(k) simplex", "h0 = x"]
    lines += [f"W{i} : matrix(n, n);  b{i} : vector(n)" for i in range(1, layers)]
    lines += [f"h{i} = relu(W{i} @ h{i - 1} + b{i})" for i in range(1, layers)]
    lines += ["U : matrix(k, n)", f"J = -sum(y * log(softmax(U @ h{layers - 1})))"]
    return "\n".join(lines)


def main() -> None:
    source = (ROOT / "derivations" / "cs224n_one_layer.mc").read_text()
    program = matcalc.parse(source)
    parse_ms = median_ms(lambda: matcalc.parse(source))
    derive_ms = median_ms(lambda: matcalc.derive(program, check=False))
    print(f"CS224n one-layer net, five gradients: derive {derive_ms:.2f} ms, "
          f"parse {parse_ms:.2f} ms (medians, warm)")
    gallery = [matcalc.parse(path.read_text())
               for path in sorted((ROOT / "derivations").glob("*.mc"))]
    per_problem = [median_ms(lambda p=p: matcalc.derive(p, check=False), repeats=5)
                   for p in gallery]
    median = statistics.median(per_problem)
    print(f"gallery ({len(gallery)} problems): median derivation {median:.2f} ms, largest "
          f"{max(per_problem):.2f} ms (warm)")
    print()
    print("| layers | derive (ms) | result size (chars) | time / previous | size / previous |")
    print("|---|---|---|---|---|")
    previous = None
    for layers in (2, 4, 8, 16, 32, 64):
        prog = matcalc.parse(mlp(layers))
        wrt = [name for name in prog.variables if name[0] in "WbU"]
        elapsed = median_ms(lambda p=prog, w=wrt: matcalc.derive(p, wrt=w, check=False),
                            repeats=10)
        size = len(matcalc.derive(prog, wrt=wrt, check=False).text)
        ratios = ("", "") if previous is None else (f"{elapsed / previous[0]:.2f}",
                                                     f"{size / previous[1]:.2f}")
        print(f"| {layers} | {elapsed:.2f} | {size} | {ratios[0]} | {ratios[1]} |")
        previous = (elapsed, size)


if __name__ == "__main__":
    main()

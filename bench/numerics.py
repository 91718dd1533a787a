"""Accuracy of the elementwise functions and their derivatives at saturating inputs.

Run: python bench/numerics.py
For every elementwise function f of the language: the relative error, against a 50-digit mpmath
reference, of f(t) and of f'(t) as matcalc's generated NumPy code computes them (the gradient of
sum(f(x))), over t from -40 to 40 (positive t for functions defined there).  Goal: at most 1e-13.
Reports figures, asserts nothing.
"""

from __future__ import annotations

import mpmath
import numpy as np

import matcalc
from matcalc.core.functions import FUNCTIONS
from matcalc.numeric.evaluate import evaluate

mpmath.mp.dps = 50
GOAL = 1e-13
REFERENCE = {
    "exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin, "cos": mpmath.cos,
    "tanh": mpmath.tanh, "sigmoid": lambda t: 1 / (1 + mpmath.exp(-t)),
    "relu": lambda t: max(t, 0), "step": lambda t: 1 if t > 0 else 0,
    "sign": mpmath.sign, "sqrt": mpmath.sqrt, "abs": abs,
    "softplus": lambda t: mpmath.log(1 + mpmath.exp(t)),
}
KINKED = {"relu", "step", "sign", "abs"}


def _relative(got: float, want) -> float:
    want = float(want)
    if want == 0:
        return abs(got)
    return abs(got - want) / abs(want)


def main() -> None:
    points = np.concatenate([np.linspace(-40, 40, 161), [-24.0, 24.0, -10.0, 10.0]])
    rows, worst_all = [], 0.0
    for name in FUNCTIONS:
        reference = REFERENCE.get(name)
        if reference is None:
            continue
        t = points[points > 0] if FUNCTIONS[name].domain == "positive" else points
        if name in KINKED:
            t = t[np.abs(t) > 1e-3]
        program = matcalc.parse(f"x : vector(n)\ny = {name}(x)\nf = sum(y)")
        gradient = matcalc.derive(program, wrt="x", check=False).numpy()
        values = np.ravel(evaluate(program, "y", {"x": t}))
        derivatives = np.ravel(gradient(x=t))
        value_error = max(_relative(v, reference(mpmath.mpf(float(p))))
                          for v, p in zip(values, t, strict=True))
        derivative_error = max(
            _relative(d, mpmath.diff(reference, mpmath.mpf(float(p))) if name not in KINKED else
                      mpmath.diff(reference, mpmath.mpf(float(p)), h=mpmath.mpf("1e-30")))
            for d, p in zip(derivatives, t, strict=True))
        worst = max(value_error, derivative_error)
        worst_all = max(worst_all, worst)
        rows.append(f"| {name} | {value_error:.1e} | {derivative_error:.1e} | "
                    f"{'met' if worst <= GOAL else 'missed'} |")
    print("| function | f(t), worst relative error | f'(t), worst relative error | goal 1e-13 |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nworst over all: {worst_all:.1e}")


if __name__ == "__main__":
    main()

"""Accuracy of the elementwise functions and their derivatives at saturating inputs.

Run: python bench/numerics.py
For every elementwise function f of the language: the relative error, against an mpmath
reference, of f(t) and of f'(t) as matcalc's generated NumPy code and its interpreter compute them
(the gradient of sum(f(x))), worst relative errors over t from -40 to 40 (positive t for
functions defined there).  Goal: at most 1e-13.
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
SMALLEST_NORMAL = float(np.finfo(float).tiny)
REFERENCE = {
    "exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin, "cos": mpmath.cos,
    "tanh": mpmath.tanh, "sigmoid": lambda t: 1 / (1 + mpmath.exp(-t)),
    "relu": lambda t: max(t, 0), "step": lambda t: 1 if t > 0 else 0,
    "sign": mpmath.sign, "sqrt": mpmath.sqrt, "abs": abs,
    "softplus": lambda t: mpmath.log(1 + mpmath.exp(t)),
    "erf": mpmath.erf, "log1p": lambda t: mpmath.log(1 + t), "expm1": lambda t: mpmath.exp(t) - 1,
    "gelu": lambda t: t * (1 + mpmath.erf(t / mpmath.sqrt(2))) / 2,
    "gelu_tanh": lambda t: t * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi)
                                                * (t + mpmath.mpf("0.044715") * t**3))) / 2,
}
KINKED = {"relu", "step", "sign", "abs"}


def _derivative(reference, point: float, kinked: bool):
    """f'(point) to 50 digits: mpmath differentiates numerically, at 800 digits so that erf(40)
    = 1 - 1e-697 still has digits to difference."""
    with mpmath.workdps(800):
        if kinked:
            return mpmath.diff(reference, mpmath.mpf(point), h=mpmath.mpf("1e-30"))
        return mpmath.diff(reference, mpmath.mpf(point))


def _relative(got: float, want) -> float:
    """The relative error where the true value is a normal float; below that (exp(-t^2) at
    t = 40 is 1e-695) a float cannot hold it to relative precision, and the error is absolute."""
    want = float(want) if abs(want) >= SMALLEST_NORMAL else 0.0
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
        result = matcalc.derive(program, wrt="x", check=False)
        values = np.ravel(evaluate(program, "y", {"x": t}))
        with mpmath.workdps(800):  # 1 + erf(-28) = 1e-350 needs the digits too
            value_error = max(_relative(v, reference(mpmath.mpf(float(p))))
                              for v, p in zip(values, t, strict=True))
        wanted = [_derivative(reference, float(p), name in KINKED) for p in t]
        errors = []
        for compiled in (True, False):  # generated code, then the interpreter
            derivatives = np.ravel(result.numpy(compiled=compiled)(x=t))
            errors.append(max(_relative(d, want)
                              for d, want in zip(derivatives, wanted, strict=True)))
        worst = max(value_error, *errors)
        worst_all = max(worst_all, worst)
        rows.append(f"| {name} | {value_error:.1e} | {errors[0]:.1e} | {errors[1]:.1e} | "
                    f"{'met' if worst <= GOAL else 'missed'} |")
    print("| function | f(t) | f'(t), generated code | f'(t), interpreter | goal 1e-13 |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nworst over all: {worst_all:.1e}")


if __name__ == "__main__":
    main()

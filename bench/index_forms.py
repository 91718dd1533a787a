"""Printed size of Hessians and Jacobians with a Kronecker or vec structure: the chain the vec
rules give against its index-sum form (einsum with grouped output, engine/indexed.py).

Run: python bench/index_forms.py

For every Hessian and Jacobian of the gallery (derivations/*.mc) and a set of Hessians with
respect to a matrix that no gallery problem holds, the printed tokens (the gallery test's count,
engine.indexed.printed_size) of the chain (``Result.computed``, or the result where it was kept)
and of what is printed now, and which form was taken.
"""

from __future__ import annotations

import pathlib

import matcalc
from matcalc.derive import derive_by_request
from matcalc.engine.indexed import printed_size

DECLARED = "X : matrix(N, d)\nW : matrix(d, k)\nY : matrix(N, k)\nb : vector(k)\n"
SIMPLEX = DECLARED.replace("matrix(N, k)\n", "matrix(N, k) simplex\n", 1)
UNSEEN = {
    "softmax regression": DECLARED + "L = -sum(Y * log(softmax(X @ W)))\nhessian L wrt W",
    "softmax regression, Y on the simplex": SIMPLEX + "L = -sum(Y * log(softmax(X @ W)))\n"
                                                      "hessian L wrt W",
    "mean cross-entropy with a bias": DECLARED + "L = -sum(Y * log(softmax(X @ W + ones(N) @ "
                                                 "b'))) / N\nhessian L wrt W",
    "squared log-probabilities": DECLARED + "L = sum(log(softmax(X @ W)) .^ 2) / 2\n"
                                            "hessian L wrt W",
    "row log-sum-exp": DECLARED + "L = sum(logsumexp(X @ W))\nhessian L wrt W",
    "Poisson with k outputs": DECLARED + "L = sum(exp(X @ W))\nhessian L wrt W",
    "softmax Jacobian wrt W": DECLARED + "P = softmax(X @ W)\njacobian P wrt W",
    "softmax Jacobian wrt X": DECLARED + "P = softmax(X @ W)\njacobian P wrt X",
    "logdet Hessian": "S : matrix(n, n) spd\nf = logdet(S)\nhessian f wrt S",
    "least squares in a matrix": "A : matrix(m, n); X : matrix(n, p)\nf = sum((A @ X) .^ 2)\n"
                                 "hessian f wrt X",
}


def rows() -> list[tuple[str, str, int, int, str]]:
    problems = dict(UNSEEN)
    for path in sorted(pathlib.Path("derivations").glob("*.mc")):
        problems[f"gallery {path.stem}"] = path.read_text()
    found = []
    for name, source in problems.items():
        for group in derive_by_request(matcalc.parse(source)):
            for result in group:
                if result.kind not in ("hessian", "jacobian"):
                    continue
                chain = result.code_node
                taken = "index sums" if result.computed is not None else "kept"
                found.append((name, result.kind, printed_size(chain)[0],
                              printed_size(result.result)[0], taken))
    return found


def main() -> None:
    print("| problem | kind | chain (tokens) | printed (tokens) | form |")
    print("|---|---|---|---|---|")
    for name, kind, before, after, taken in rows():
        print(f"| {name} | {kind} | {before} | {after} | {taken} |")


if __name__ == "__main__":
    main()

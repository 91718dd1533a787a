"""Peak memory of generated Hessians and Jacobians against their inputs and result.

For every Hessian and Jacobian of the gallery (derivations/*.mc, and the files named on the
command line) the generated NumPy function runs at sizes with one dimension large (48) and the
others small (8), each dimension in turn; the peak of what NumPy allocates during the call
(tracemalloc) is divided by the bytes of the inputs and the result plus a 16 KiB allowance for the
interpreter's own objects.  A dense intermediate far larger than inputs and result (a Kronecker
product with an identity, an identity of N k rows) shows as a ratio far above 1.

Run:  python bench/peak_memory.py [FILE.mc ...]
tests/test_block_structure.py runs the same measure and holds every ratio under its limit.
"""

from __future__ import annotations

import pathlib
import sys
import tracemalloc
from collections.abc import Iterator

import numpy as np

import matcalc
from matcalc.codegen.module import generate, load
from matcalc.derive import derive_by_request
from matcalc.errors import DomainError
from matcalc.numeric.sampling import random_instance

SMALL, LARGE = 8, 48
ALLOWANCE = 16 * 1024  # bytes of Python objects a call makes whatever the sizes


def peak_ratio(function, arrays: dict, keywords: dict) -> float:
    """The peak bytes allocated while ``function`` runs over (inputs + result + allowance)."""
    function(**arrays, **keywords)  # warm: imports and caches do not count
    tracemalloc.start()
    try:
        result = function(**arrays, **keywords)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    inputs = sum(np.asarray(a).nbytes for a in arrays.values())
    output = sum(np.asarray(v).nbytes for v in result.values())
    return peak / (inputs + output + ALLOWANCE)


def ratios(path: pathlib.Path, source: str | None = None) -> Iterator[tuple[str, float, dict]]:
    """(request, worst ratio, sizes where it is worst) for each Hessian and Jacobian of a
    problem; sizes where the problem has no valid point are passed over."""
    parsed = matcalc.parse(source if source is not None else path.read_text())
    for group in derive_by_request(parsed):
        group = list(group)
        if group[0].kind not in ("hessian", "jacobian"):
            continue
        code = generate(group)
        function = load(code).gradient
        dims = sorted(random_instance(parsed, seed=1).sizes)
        worst, where = 0.0, {}
        for large in [None, *dims]:
            sizes = {d: LARGE if d == large else SMALL for d in dims}
            try:
                point = random_instance(parsed, seed=1, sizes=sizes)
            except DomainError:
                continue
            keywords = {"sizes": point.sizes} if "sizes=None" in code else {}
            ratio = peak_ratio(function, point.arrays, keywords)
            if ratio > worst:
                worst, where = ratio, dict(point.sizes)
        yield f"{group[0].kind} {group[0].of} wrt {', '.join(group[0].names)}", worst, where


def main(extra: list[str]) -> None:
    paths = sorted(pathlib.Path("derivations").glob("*.mc")) + [pathlib.Path(p) for p in extra]
    print(f"{'problem':36s} {'request':32s} {'peak / (inputs + result)':>24s}  sizes")
    for path in paths:
        for request, worst, where in ratios(path):
            print(f"{path.stem:36s} {request:32s} {worst:24.2f}  {where}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Peak memory of generated Hessians and Jacobians against their inputs and result.

For every Hessian and Jacobian of the gallery (derivations/*.mc, and the files named on the
command line) the generated NumPy function runs at sizes with one dimension large (48) and the
others small (8), each dimension in turn; the peak of what NumPy allocates during the call
(tracemalloc) is divided by the bytes of the inputs and the result plus a 16 KiB allowance for the
interpreter's own objects.  A dense intermediate far larger than inputs and result (a Kronecker
product with an identity, an identity of N k rows) shows as a ratio far above 1.

A second measure runs the code with a recording NumPy and reports the largest Kronecker product,
identity or dense diagonal (``kron``, ``eye``, ``identity``, ``diagflat``) it forms, against the
entries of its result: a ratio above 1 is an intermediate larger than the result.

Run:  python bench/peak_memory.py [FILE.mc ...]
tests/test_block_structure.py runs the same measures and holds every ratio under its limit.
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


FORMING = ("kron", "eye", "identity", "diagflat")  # what forms a structured matrix dense


def peak_ratio(module, arrays: dict, keywords: dict) -> float:
    """The peak bytes allocated while the module's ``gradient`` runs over (inputs + result +
    allowance)."""
    function = module.gradient
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


class _Recording:
    """NumPy as generated code sees it (``_np``), recording the entries of the largest
    Kronecker product, identity or dense diagonal formed."""

    def __init__(self) -> None:
        self.largest = 0

    def __getattr__(self, name: str):
        attribute = getattr(np, name)
        if name not in FORMING:
            return attribute

        def formed(*args, **keywords):
            out = attribute(*args, **keywords)
            self.largest = max(self.largest, int(np.size(out)))
            return out

        return formed


def formed_ratio(module, arrays: dict, keywords: dict) -> float:
    """The entries of the largest Kronecker product, identity or dense diagonal the module's
    ``gradient`` forms, over the entries of its result."""
    recording = _Recording()
    module._np = recording
    try:
        result = module.gradient(**arrays, **keywords)
    finally:
        module._np = np
    return recording.largest / sum(int(np.size(value)) for value in result.values())


def ratios(path: pathlib.Path, source: str | None = None, measure=peak_ratio
           ) -> Iterator[tuple[str, float, dict]]:
    """(request, worst ratio, sizes where it is worst) for each Hessian and Jacobian of a
    problem, by ``measure`` (peak_ratio or formed_ratio); sizes where the problem has no valid
    point are passed over."""
    parsed = matcalc.parse(source if source is not None else path.read_text())
    for group in derive_by_request(parsed):
        group = list(group)
        if group[0].kind not in ("hessian", "jacobian"):
            continue
        code = generate(group)
        module = load(code)
        dims = sorted(random_instance(parsed, seed=1).sizes)
        worst, where = 0.0, {}
        for large in [None, *dims]:
            sizes = {d: LARGE if d == large else SMALL for d in dims}
            try:
                point = random_instance(parsed, seed=1, sizes=sizes)
            except DomainError:
                continue
            keywords = {"sizes": point.sizes} if "sizes=None" in code else {}
            ratio = measure(module, point.arrays, keywords)
            if ratio > worst or not where:  # where: the worst valid point (the first at 0)
                worst, where = ratio, dict(point.sizes)
        yield f"{group[0].kind} {group[0].of} wrt {', '.join(group[0].names)}", worst, where


def main(extra: list[str]) -> None:
    paths = sorted(pathlib.Path("derivations").glob("*.mc")) + [pathlib.Path(p) for p in extra]
    print(f"{'problem':36s} {'request':32s} {'peak / (inputs + result)':>24s} "
          f"{'largest formed / result':>24s}  sizes")
    for path in paths:
        formed = {request: worst for request, worst, _ in ratios(path, measure=formed_ratio)}
        for request, worst, where in ratios(path):
            print(f"{path.stem:36s} {request:32s} {worst:24.2f} {formed[request]:24.2f}  "
                  f"{where}")


if __name__ == "__main__":
    main(sys.argv[1:])

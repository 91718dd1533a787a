"""Held-out transformer problems over batches of sequences: how many go through, correctly.

Run: python bench/heldout_tensors.py [--verbose]

The problems of bench/heldout_tensors/ (attention variants, norms over sequences, MLP blocks
over batches, written from the papers each cites) are read by no test. A problem goes through
when every result it asks for is derived and proven by finite differences at random points;
one that is refused says why (a refusal is never counted as a pass).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matcalc  # noqa: E402
from matcalc.errors import MatcalcError  # noqa: E402

FOLDER = ROOT / "bench" / "heldout_tensors"


def attempt(path: pathlib.Path) -> tuple[str, str]:
    """('ok', the results), ('wrong', why) or ('refused', the error)."""
    try:
        results = matcalc.derive(path.read_text(), check=False)
        results = [results] if isinstance(results, matcalc.Derivative) else list(results)
        for result in results:
            verdict = matcalc.check(result, seed=3)
            if not verdict.ok:
                return "wrong", f"{result.name}: {verdict}"
        return "ok", "\n".join(f"  {r.name} = {r.text}" for r in results)
    except MatcalcError as error:
        return "refused", f"{type(error).__name__}: {error}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--verbose", action="store_true")
    verbose = parser.parse_args().verbose
    counts: dict[str, int] = {}
    for path in sorted(FOLDER.glob("*.mc")):
        status, detail = attempt(path)
        counts[status] = counts.get(status, 0) + 1
        print(f"{status:8} {path.name}" + (f"\n{detail}" if verbose or status != "ok" else ""))
    total = sum(counts.values())
    print(f"{counts.get('ok', 0)} of {total} go through, proven by finite differences; "
          f"{counts.get('refused', 0)} refused, {counts.get('wrong', 0)} wrong")


if __name__ == "__main__":
    main()

"""The cost of derive()'s default quick check, per gallery problem.

Run: python bench/default_check.py   (pin it for stable figures: taskset -c 0 ...)
For each problem of derivations/: the median time of derive(check=False) and of derive() (which
proves each result at one random point along two directions), and what the check adds.  Goal:
at most 0.1 s added to a gallery problem.  Reports figures, asserts nothing.
"""

from __future__ import annotations

import pathlib
import statistics
import time

import matcalc

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOAL_SECONDS = 0.1


def median_seconds(function, repeats: int = 5) -> float:
    function()  # warm: generated code is compiled once per result
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    rows, added = [], []
    for path in sorted((ROOT / "derivations").glob("*.mc")):
        program = matcalc.parse(path.read_text())
        bare = median_seconds(lambda program=program: matcalc.derive(program, check=False))
        checked = median_seconds(lambda program=program: matcalc.derive(program))
        added.append(checked - bare)
        rows.append(f"| {path.stem} | {bare * 1000:.1f} | {checked * 1000:.1f} | "
                    f"{(checked - bare) * 1000:.1f} | {checked / bare:.1f}x |")
    print("| problem | derive, no check (ms) | derive (ms) | the check adds (ms) | ratio |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    worst = max(added)
    print(f"\nmedian added {statistics.median(added) * 1000:.1f} ms, largest {worst * 1000:.1f} ms "
          f"(goal: at most {GOAL_SECONDS * 1000:.0f} ms): "
          f"{'met' if worst <= GOAL_SECONDS else 'missed'}")


if __name__ == "__main__":
    main()

"""Grading throughput: answers graded per second on the answers corpus, with 1 and 2 workers.

Run: python bench/grading_throughput.py [--copies N]
The corpus (derivations/corpus.csv, 90 rows over a dozen problems) is repeated ``--copies`` times
(default 5) under new student names, as a class would hand it in; each run starts its workers
afresh, so the figures include start-up. Reports medians of 3 runs and the ratio of 2 workers
to 1; asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcalc.grading.batch import grade, read_answers  # noqa: E402

CORPUS = ROOT / "derivations" / "corpus.csv"
REPEATS = 3


def class_of(copies: int):
    """The corpus handed in ``copies`` times, each copy by differently named students."""
    rows = read_answers(CORPUS)
    return [dataclasses.replace(row, student=f"{row.student}{copy}")
            for copy in range(copies) for row in rows]


def answers_per_second(submissions, jobs: int) -> tuple[float, int]:
    """The median rate over the repeats, and how many answers had an ``error`` verdict."""
    rates, errors = [], 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        grades = grade(submissions, jobs=jobs)
        rates.append(len(submissions) / (time.perf_counter() - start))
        errors = sum(g.verdict == "error" for g in grades)
    return statistics.median(rates), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=5)
    arguments = parser.parse_args()
    submissions = class_of(arguments.copies)
    print(f"{len(submissions)} answers ({arguments.copies} copies of the corpus)\n")
    print("| workers | answers / s | error verdicts |")
    print("|---|---|---|")
    rates = {}
    for jobs in (1, 2):
        rates[jobs], errors = answers_per_second(submissions, jobs)
        print(f"| {jobs} | {rates[jobs]:.1f} | {errors} |")
    print(f"\n2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()

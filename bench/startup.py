"""Start-up: the command line's time against a bare Python start, in one run.

Run: python bench/startup.py   (pin it for stable figures: taskset -c 0 ...)
Goals: ``matcalc --help`` within 0.15 s of ``python -c pass``; a one-line derive within 0.35 s.
Reports medians of fresh processes, asserts nothing.  Each command runs once unmeasured first,
with Python free to write its bytecode, so the figures are those of an installed matcalc (not of
compiling every module, as under PYTHONDONTWRITEBYTECODE).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

REPEATS = 9
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import matcalc": [sys.executable, "-c", "import matcalc"],
    "matcalc --help": [sys.executable, "-m", "matcalc", "--help"],
    "matcalc derive \"x' @ A @ x\" --wrt x (checked)": [
        sys.executable, "-m", "matcalc", "derive", "x' @ A @ x", "--wrt", "x"],
    "the same, --no-check": [
        sys.executable, "-m", "matcalc", "derive", "x' @ A @ x", "--wrt", "x", "--no-check"],
}


ENVIRONMENT = {name: value for name, value in os.environ.items()
               if name != "PYTHONDONTWRITEBYTECODE"}


def median_seconds(command: list[str]) -> float:
    subprocess.run(command, capture_output=True, check=True, env=ENVIRONMENT)  # warm
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=ENVIRONMENT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    medians = {name: median_seconds(command) for name, command in CASES.items()}
    bare = medians["python -c pass"]
    print("| command | median (s) | over python -c pass (s) |")
    print("|---|---|---|")
    for name, seconds in medians.items():
        print(f"| {name} | {seconds:.3f} | {seconds - bare:+.3f} |")
    help_over = medians["matcalc --help"] - bare
    derive = medians["matcalc derive \"x' @ A @ x\" --wrt x (checked)"]
    print(f"\n--help over a bare start: {help_over:.3f} s (goal 0.15 s: "
          f"{'met' if help_over <= 0.15 else 'missed'}); one-line derive {derive:.3f} s "
          f"(goal 0.35 s: {'met' if derive <= 0.35 else 'missed'})")


if __name__ == "__main__":
    main()

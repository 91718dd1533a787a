"""The timing of the benchmarks that race implementations in one process: one BLAS and XLA
thread, a clock (wall time, or the process's CPU time), a summary of the repetitions (the median,
or the best) and repetitions that take the implementations in a new random order each.

A benchmark calls ``one_thread()`` before it imports NumPy, JAX or PyTorch (their thread pools
read the environment when they load).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable

# the clock of the timings: wall time, or with --cpu-time the CPU time of this process (on a
# shared machine, what the step itself costs, the waits for a core left out)
CLOCK = {"clock": time.perf_counter, "summary": statistics.median}


def one_thread() -> None:
    """One thread for OpenMP, OpenBLAS, MKL and XLA, unless the environment already says."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_ENABLE_X64", "1")


def add_timing_options(parser: argparse.ArgumentParser) -> None:
    """--cpu-time and --best."""
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by this process's CPU time (a machine others share)")
    parser.add_argument("--best", action="store_true",
                        help="the best repetition, not the median (the least disturbed by "
                             "other processes)")


def use_timing_options(arguments: argparse.Namespace) -> None:
    """Set the clock and the summary that --cpu-time and --best ask for."""
    if arguments.cpu_time:
        CLOCK["clock"] = time.process_time
    if arguments.best:
        CLOCK["summary"] = min


def timed(functions: dict[str, Callable[[], object]], repeats: int,
          warm_ups: int = 1) -> dict[str, float]:
    """Each function's time (the summary of ``repeats`` calls) after ``warm_ups`` calls each."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for function in functions.values():
        for _ in range(warm_ups):
            function()
    names = list(functions)
    shuffled = random.Random(0)
    for _ in range(repeats):
        # each repetition in a new random order: none always runs right after another
        # library's call (whose caches and threads slow the first call after it); a rotation
        # keeps each one's predecessor the same and would charge that to one of them
        order = shuffled.sample(names, len(names))
        for name in order:
            function = functions[name]
            start = CLOCK["clock"]()
            function()
            times[name].append(CLOCK["clock"]() - start)
    return {name: CLOCK["summary"](values) for name, values in times.items()}

"""Worker processes that grade one answer at a time, each under a hard time and memory limit.

A worker is started once and reused for many answers (it keeps the derivations it has made, so
the rows of one problem share one).  Whatever an answer does to its worker (an exception of any
kind, a recursion, memory exhausted, a hang past its time) costs that answer's row only: the
row gets an ``error`` verdict saying why, a worker that overran is killed and replaced, and
grading goes on.  Workers ignore Ctrl-C; the parent stops them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait

# seconds a worker may take beyond an answer's own time budget before it is stopped
GRACE_SECONDS = 2.0
MEMORY_BYTES = 4 * 1024**3  # address space of one worker (matcalc grade --memory-limit)
# each worker runs one BLAS thread: workers already use the cores, and BLAS threads of
# several workers competing for them made 2 workers grade slower than 1
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def _one_blas_thread():
    """Processes started inside (and the fork server started with them) see one BLAS thread."""
    saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
    os.environ.update({name: "1" for name in BLAS_THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _limit_memory(limit: int | None) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    if limit:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _serve(connection: Connection, task: Callable[[object], object],
           memory: int | None) -> None:
    """A worker's loop: run ``task`` on each item received, send back what it returns."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(memory)
    while True:
        try:
            item = connection.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        try:
            outcome = (True, task(item))
        except BaseException as error:  # whatever the item does, it is reported
            outcome = (False, f"{type(error).__name__}: {error}"[:500])
        connection.send(outcome)


class Worker:
    """One worker process running ``task`` on what it is given, and its pipe."""

    def __init__(self, context, task: Callable[[object], object], memory: int | None):
        parent, child = context.Pipe()
        self.connection = parent
        self.process = context.Process(target=_serve, args=(child, task, memory), daemon=True)
        with _one_blas_thread():
            self.process.start()
        child.close()
        self.job: tuple[int, object] | None = None
        self.started = 0.0

    def give(self, index: int, item: object) -> None:
        self.job = (index, item)
        self.started = time.monotonic()
        self.connection.send(item)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


def start_context(preload: str = "matcalc.grading.batch"):
    """The multiprocessing context workers start in, its server preloading ``preload``."""
    # forkserver: workers never inherit the threads of libraries loaded in this process
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload([preload])
    return context


def run_isolated(items: Iterable[object], task: Callable[[object], object], jobs: int,
                 seconds: float, failed: Callable[[object, str], object],
                 memory: int | None = MEMORY_BYTES) -> Iterator[tuple[int, object]]:
    """``(index, task(item))`` for every item, as they finish, on ``jobs`` reused worker
    processes.  An item whose worker dies or overruns ``seconds`` plus a grace gives
    ``failed(item, why)`` instead, and its worker is replaced."""
    pending = list(enumerate(items))
    pending.reverse()
    context = start_context()
    workers = [Worker(context, task, memory) for _ in range(max(1, min(jobs, len(pending))))]
    try:
        while pending or any(worker.job for worker in workers):
            for worker in workers:
                if worker.job is None and pending:
                    worker.give(*pending.pop())
            busy = [worker for worker in workers if worker.job is not None]
            ready = wait([worker.connection for worker in busy], timeout=0.2)
            now = time.monotonic()
            for index, worker in enumerate(workers):
                if worker.job is None:
                    continue
                job_index, item = worker.job
                if worker.connection in ready:
                    try:
                        finished, result = worker.connection.recv()
                    except (EOFError, OSError):
                        result = failed(item, death(worker))
                        workers[index] = _replace(worker, context, task, memory)
                    else:
                        worker.job = None
                        if not finished:
                            result = failed(item, result)
                    yield job_index, result
                elif now - worker.started > seconds + GRACE_SECONDS:
                    yield job_index, failed(item, f"stopped after {seconds:g} s: the answer "
                                                  "took longer than its time limit")
                    workers[index] = _replace(worker, context, task, memory)
    finally:
        for worker in workers:
            worker.stop()


def _replace(worker: Worker, context, task, memory) -> Worker:
    worker.stop()
    return Worker(context, task, memory)


def death(worker: Worker) -> str:
    """Why a worker's process ended."""
    worker.process.join(timeout=1)
    code = worker.process.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return f"the grading process was stopped by {name} (out of memory or killed)"
    return f"the grading process ended unexpectedly (exit code {code})"


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1

"""A pool of worker processes for the server: each request runs in one, under hard limits.

The workers are the batch grader's (``grading.workers``): started once, reused, under an
address-space limit.  A request waits for an idle worker (at most ``jobs`` run at once), and a
worker that overruns the request's time plus a grace is killed and replaced, so one hostile
request costs its own answer only while the event loop goes on serving the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ..grading.workers import GRACE_SECONDS, MEMORY_BYTES, Worker, death, start_context


class RequestFailed(Exception):
    """A request that its worker could not answer (overran its time, died, or raised)."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class Pool:
    """``jobs`` reusable worker processes running ``task``; ``await pool.run(item, seconds)``."""

    def __init__(self, task: Callable[[object], object], jobs: int,
                 memory: int | None = MEMORY_BYTES):
        self.task, self.memory = task, memory
        self.context = start_context("matcalc.derive")
        self.idle: asyncio.Queue[Worker] | None = None
        self.jobs = max(1, jobs)
        self.workers: list[Worker] = []

    def _start(self) -> None:
        self.idle = asyncio.Queue()
        for _ in range(self.jobs):
            worker = Worker(self.context, self.task, self.memory)
            self.workers.append(worker)
            self.idle.put_nowait(worker)

    async def run(self, item: object, seconds: float) -> object:
        """What ``task(item)`` returns, computed in a worker within ``seconds`` (plus a grace)."""
        if self.idle is None:
            self._start()
        assert self.idle is not None
        worker = await self.idle.get()
        answered = False
        try:
            worker.give(0, item)
            finished, result = await asyncio.get_running_loop().run_in_executor(
                None, _receive, worker, seconds + GRACE_SECONDS)
            answered = True
            worker.job = None
        except TimeoutError:
            raise RequestFailed(f"stopped after {seconds:g} s: the request took longer than its "
                                "time limit", timed_out=True) from None
        except (EOFError, OSError):
            raise RequestFailed(death(worker)) from None
        finally:
            # a worker that did not answer (overran, died, or its request was cancelled while
            # it worked) is replaced: its late answer must never reach another request
            self.idle.put_nowait(worker if answered else self._replace(worker))
        if not finished:
            raise RequestFailed(str(result))
        return result

    def _replace(self, worker: Worker) -> Worker:
        worker.stop()
        fresh = Worker(self.context, self.task, self.memory)
        self.workers = [fresh if known is worker else known for known in self.workers]
        return fresh

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []
        self.idle = None


def _receive(worker: Worker, seconds: float) -> tuple[bool, object]:
    deadline = time.monotonic() + seconds
    while not worker.connection.poll(max(0.0, min(0.5, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise TimeoutError
        if not worker.process.is_alive() and not worker.connection.poll(0):
            raise EOFError
    return worker.connection.recv()

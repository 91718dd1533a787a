"""A pool of worker processes for the server: each request runs in one, under hard limits.

The workers are the batch grader's (``grading.workers``): started once, reused, under an
address-space limit.  A request waits for an idle worker (at most ``jobs`` run at once, at most
``queue`` wait: past that :meth:`Pool.admit` says no and the server answers 429).  A worker that
overruns the request's time plus a grace is killed and replaced, and so is one whose request is
cancelled while it works (its client went away): a request cancelled while it waits never
reaches a worker.  One hostile or abandoned request costs its own answer only while the event
loop goes on serving the others.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from ..grading.workers import GRACE_SECONDS, MEMORY_BYTES, Worker, death, start_context


class RequestFailed(Exception):
    """A request that its worker could not answer (overran its time, died, or raised)."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class Pool:
    """``jobs`` reusable worker processes running ``task``; ``await pool.run(item, seconds)``;
    at most ``queue`` requests wait for a worker beside those running."""

    def __init__(self, task: Callable[[object], object], jobs: int,
                 memory: int | None = MEMORY_BYTES, queue: int | None = None):
        self.task, self.memory = task, memory
        self.context = start_context("matcalc.derive")
        self.idle: asyncio.Queue[Worker] | None = None
        self.jobs = max(1, jobs)
        self.queue = 4 * self.jobs if queue is None else max(0, queue)
        self.workers: list[Worker] = []
        self.admitted = 0  # requests running or waiting
        self.started = 0  # requests given to a worker (cancelled ones that waited are not)
        self.seconds_per_request = 1.0  # a running mean, for Retry-After

    def _start(self) -> None:
        self.idle = asyncio.Queue()
        for _ in range(self.jobs):
            worker = Worker(self.context, self.task, self.memory)
            self.workers.append(worker)
            self.idle.put_nowait(worker)

    def admit(self) -> bool:
        """Whether one more request may wait its turn (the caller then runs it, or releases)."""
        if self.admitted >= self.jobs + self.queue:
            return False
        self.admitted += 1
        return True

    def release(self) -> None:
        self.admitted -= 1

    def retry_after(self) -> int:
        """Seconds after which a refused request may find room: the queue's length of work."""
        return max(1, math.ceil(self.seconds_per_request * self.admitted / self.jobs))

    async def run(self, item: object, seconds: float) -> object:
        """What ``task(item)`` returns, computed in a worker within ``seconds`` (plus a grace).
        Cancelled while it waits, nothing runs; cancelled while it runs, its worker is killed."""
        if self.idle is None:
            self._start()
        assert self.idle is not None
        worker = await self.idle.get()
        self.started += 1
        answered = False
        began = time.monotonic()
        try:
            worker.give(0, item)
            finished, result = await _receive(worker, seconds + GRACE_SECONDS)
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
            self.seconds_per_request += 0.2 * (time.monotonic() - began -
                                               self.seconds_per_request)
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


async def _receive(worker: Worker, seconds: float) -> tuple[bool, object]:
    """The worker's answer, awaited on the event loop (no thread blocks on it); TimeoutError
    past ``seconds``, EOFError when the worker died."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + seconds
    readable = asyncio.Event()
    descriptor = worker.connection.fileno()
    loop.add_reader(descriptor, readable.set)
    try:
        while not readable.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            try:
                await asyncio.wait_for(readable.wait(), min(0.5, left))
            except TimeoutError:
                if not worker.process.is_alive() and not worker.connection.poll(0):
                    raise EOFError from None
    finally:
        loop.remove_reader(descriptor)
    return worker.connection.recv()

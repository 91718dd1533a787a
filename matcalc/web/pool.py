"""A pool of worker processes for the server: each request runs in one, under hard limits.

The workers are the batch grader's (``grading.workers``): started once, reused, under an
address-space limit.  A request waits for an idle worker (at most ``jobs`` run at once, at most
``queue`` wait: past that :meth:`Pool.admit` says no and the server answers 429), in the order of
its expected finish, and slow ones leave a worker to quick ones (:class:`Pool`).  A worker that
overruns the request's time plus a grace is killed and replaced, and so is one whose request is
cancelled while it works (its client went away): a request cancelled while it waits never
reaches a worker.  One hostile or abandoned request costs its own answer only while the event
loop goes on serving the others.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..grading.workers import GRACE_SECONDS, MEMORY_BYTES, Worker, death, start_context

INITIAL_SECONDS = 0.1  # what a request of a kind not seen yet is expected to take
SLOW_SECONDS = 1.0  # a kind expected to take this long is slow: it leaves a worker to others


class RequestFailed(Exception):
    """A request that its worker could not answer (overran its time, died, or raised)."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(order=True)
class _Turn:
    """A request waiting for a worker: its expected finish first, then its arrival."""

    key: float
    arrival: int
    kind: object = field(compare=False)
    worker: asyncio.Future[Worker] = field(compare=False)
    slow: bool = field(default=False, compare=False)  # whether it runs as a slow one


class Pool:
    """``jobs`` reusable worker processes running ``task``; ``await pool.run(item, seconds)``;
    at most ``queue`` requests wait for a worker beside those running.

    The seconds a request takes are learned per ``kind`` of request (the caller's classes: the
    server's are the endpoint and the body's size).  Waiting requests are served by their
    expected finish, ``arrival + expected seconds``: a quick request overtakes slow ones that
    arrived less than their expected time before it, and none waits behind later work beyond
    that, so none starves.  Slow requests (expected :data:`SLOW_SECONDS` or more) run on at most
    ``jobs - 1`` workers, so that quick ones always find a worker soon however many slow ones
    wait."""

    def __init__(self, task: Callable[[object], object], jobs: int,
                 memory: int | None = MEMORY_BYTES, queue: int | None = None):
        self.task, self.memory = task, memory
        self.context = start_context("matcalc.web.preload")
        self.jobs = max(1, jobs)
        self.queue = 16 * self.jobs if queue is None else max(0, queue)
        self.workers: list[Worker] = []
        self.idle: list[Worker] | None = None
        self.waiting: list[_Turn] = []  # a heap
        self.arrivals = itertools.count()
        self.admitted = 0  # requests running or waiting
        self.started = 0  # requests given to a worker (cancelled ones that waited are not)
        self.running_slow = 0
        self.expected: dict[object, float] = {}  # seconds a request of a kind takes
        self.pending = 0.0  # the expected seconds of the requests waiting and running

    def _start(self) -> None:
        self.idle = [Worker(self.context, self.task, self.memory) for _ in range(self.jobs)]
        self.workers = list(self.idle)

    def admit(self) -> bool:
        """Whether one more request may wait its turn (the caller then runs it, or releases)."""
        if self.admitted >= self.jobs + self.queue:
            return False
        self.admitted += 1
        return True

    def release(self) -> None:
        self.admitted -= 1

    def retry_after(self) -> int:
        """Whole seconds after which a refused request may find room: a place frees when one
        of the requests admitted ends, about every (their mean expected seconds) / jobs (1 to
        60)."""
        return min(60, max(1, math.ceil(self.pending / max(1, self.admitted) / self.jobs)))

    def _dispatch(self) -> None:
        """Idle workers go to the waiting requests with the earliest expected finish that may
        start (a slow one only while another worker is left for quick ones)."""
        assert self.idle is not None
        skipped = []
        while self.idle and self.waiting:
            turn = heapq.heappop(self.waiting)
            if turn.worker.done():  # cancelled while it waited
                continue
            # slow as far as is known now (a kind may have been learned while it waited)
            turn.slow = self.expected.get(turn.kind, INITIAL_SECONDS) >= SLOW_SECONDS
            if turn.slow and self.jobs > 1 and self.running_slow >= self.jobs - 1:
                skipped.append(turn)
                continue
            self.running_slow += turn.slow
            turn.worker.set_result(self.idle.pop())
        for turn in skipped:
            heapq.heappush(self.waiting, turn)

    async def run(self, item: object, seconds: float, kind: object = None) -> object:
        """What ``task(item)`` returns, computed in a worker within ``seconds`` (plus a grace).
        Cancelled while it waits, nothing runs; cancelled while it runs, its worker is killed."""
        if self.idle is None:
            self._start()
        assert self.idle is not None
        expected = self.expected.get(kind, INITIAL_SECONDS)
        turn = _Turn(time.monotonic() + expected, next(self.arrivals), kind,
                     asyncio.get_running_loop().create_future())
        heapq.heappush(self.waiting, turn)
        self.pending += expected
        try:
            self._dispatch()
            worker = await turn.worker
        except asyncio.CancelledError:
            self.pending -= expected
            if turn.worker.done() and not turn.worker.cancelled():  # given one as it went
                self.running_slow -= turn.slow
                self.idle.append(turn.worker.result())
                self._dispatch()
            raise
        self.started += 1
        answered = cancelled = False
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
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            # a worker that did not answer (overran, died, or its request was cancelled while
            # it worked) is replaced: its late answer must never reach another request
            self.idle.append(worker if answered else self._replace(worker))
            self.running_slow -= turn.slow
            self.pending -= expected
            self._learn(kind, time.monotonic() - began, cancelled)
            self._dispatch()
        if not finished:
            raise RequestFailed(str(result))
        return result

    def _learn(self, kind: object, took: float, cancelled: bool) -> None:
        """A running mean of the seconds a kind takes (from :data:`INITIAL_SECONDS`, so that one
        slow first answer does not mark a kind slow); a cancelled request says only that it
        takes at least that long."""
        known = self.expected.get(kind, INITIAL_SECONDS)
        if not cancelled or took > known:
            known += 0.3 * (took - known)
            self.expected[kind] = known if not cancelled else max(known, took)

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

"""How one API request is computed: admitted to the pool's queue (429 past it), its body read
(bounded in size and time), run in a worker, and cancelled when its client goes away."""

from __future__ import annotations

import asyncio
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive

from .pool import Pool, RequestFailed

MAX_BODY_BYTES = 256 * 1024  # a problem, an answer or a derivation is far smaller
BODY_SECONDS = 10.0  # a request body arrives within this, else 408
WORKBENCH = ("derive", "verify", "derivation")


def error(status: int, kind: str, message: str, field: str | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "field": field,
                                   "line": None, "column": None, "length": None}},
                        status_code=status, headers=headers)


async def _body(request: Request) -> bytes | JSONResponse:
    """The request's body, read up to :data:`MAX_BODY_BYTES` within :data:`BODY_SECONDS` (an
    error response else).  It is parsed by the worker, not here."""
    declared = request.headers.get("content-length", "")
    too_big = error(413, "LimitError", f"the request body is over {MAX_BODY_BYTES} bytes")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return too_big
    chunks, size = [], 0
    try:
        async with asyncio.timeout(BODY_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    return too_big
                chunks.append(chunk)
    except TimeoutError:
        return error(408, "LimitError", f"the request body did not arrive within "
                                        f"{BODY_SECONDS:g} s")
    return b"".join(chunks)


_THOROUGH = re.compile(rb'"check"\s*:\s*true')
_BACKEND = re.compile(rb'"(?:numpy|jax|torch)"')


def request_kind(endpoint: str, body: bytes) -> tuple:
    """Requests that take like times, as far as the raw body tells without being parsed: the
    endpoint, the body's size to a factor of 2, a thorough check asked or not, and how many
    backends' code (a guess that orders the queue only: a wrong one costs no answer)."""
    return (endpoint, len(body).bit_length(), bool(_THOROUGH.search(body)),
            min(3, len(_BACKEND.findall(body))))


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class Workbench:
    """The pool, its limits, and how one request is computed."""

    def __init__(self, pool: Pool, seconds: float):
        self.pool, self.seconds = pool, seconds

    async def compute(self, request: Request, endpoint: str, practice: dict | None = None,
                      ) -> dict | Response:
        """The worker's answer to the request (a dict), or the response that ends it: 429 past
        the queue, an error with the body, 504 past the time limit; a request whose client goes
        away is cancelled (its worker, if it had one, killed)."""
        if not self.pool.admit():
            return error(429, "LimitError", "the server is busy: try again shortly",
                         headers={"retry-after": str(self.pool.retry_after())})
        try:
            body = await _body(request)
            if isinstance(body, Response):
                return body
            kind = request_kind(endpoint, body)
            work = asyncio.ensure_future(
                self.pool.run((endpoint, body, self.seconds, practice), self.seconds, kind))
            gone = asyncio.ensure_future(_until_disconnected(request.receive))
            try:
                await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
                if not work.done():
                    work.cancel()
                    await asyncio.gather(work, return_exceptions=True)
            if work.cancelled():
                return Response(status_code=499)  # nobody is listening
            try:
                return work.result()
            except RequestFailed as failure:
                return error(504 if failure.timed_out else 500,
                             "LimitError" if failure.timed_out else "InternalError",
                             str(failure))
        finally:
            self.pool.release()


def respond(result: dict | Response) -> Response:
    if isinstance(result, Response):
        return result
    return JSONResponse(result, status_code=400 if "error" in result else 200)

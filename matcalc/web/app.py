"""The workbench's web application (Starlette): the page, its static files, and the JSON API.

``/api/derive``, ``/api/verify`` and ``/api/derivation`` take a JSON object and answer with the
schema of ``matcalc derive --format json`` (docs/guide.md, "The workbench"); every one runs in a
worker process of a :class:`~matcalc.web.pool.Pool`, under the request's time limit and the
worker's memory limit.  Bodies are limited in size, and every answer carries security headers
(a content security policy that allows only the page's own scripts).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import limits
from .pool import Pool, RequestFailed
from .tasks import ENDPOINTS, handle

STATIC = Path(__file__).resolve().parent / "static"
KATEX = Path(__file__).resolve().parent.parent / "present" / "katex"
# the gallery's problems: beside the package in a checkout, else in the folder served from
GALLERIES = (Path(__file__).resolve().parent.parent.parent / "derivations",
             Path("derivations"))
MAX_BODY_BYTES = 256 * 1024  # a problem, an answer or a derivation is far smaller
SECURITY_HEADERS = {
    # KaTeX sets inline styles on the elements it renders, hence style-src 'unsafe-inline'
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' "
                               "'unsafe-inline'; font-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(name.encode(), value.encode())
                            for name, value in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "line": None,
                                   "column": None, "length": None}}, status_code=status)


async def _body(request: Request) -> dict | JSONResponse:
    """The request's JSON object, read up to :data:`MAX_BODY_BYTES` (an error response else)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _error(413, "LimitError", f"the request body is over {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return _error(413, "LimitError", f"the request body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        fields = json.loads(b"".join(chunks) or b"{}")
    except (ValueError, RecursionError):
        return _error(400, "ParseError", "the request body is not JSON")
    if not isinstance(fields, dict):
        return _error(400, "ParseError", "the request body is a JSON object")
    return fields


def create_app(jobs: int = 2, seconds: float | None = None,
               memory: int | None = None, gallery: Path | None = None) -> Starlette:
    """The workbench: ``jobs`` worker processes, ``seconds`` a request (default
    ``limits.DERIVATION_SECONDS``), ``memory`` bytes a worker (default 4 GB); the examples are
    the ``.mc`` files of ``gallery`` (default: the first of :data:`GALLERIES` that exists)."""
    from ..grading.workers import MEMORY_BYTES

    pool = Pool(handle, jobs, memory or MEMORY_BYTES)
    budget = seconds or limits.DERIVATION_SECONDS

    def endpoint(name: str):
        async def answer(request: Request) -> Response:
            fields = await _body(request)
            if isinstance(fields, JSONResponse):
                return fields
            try:
                result = await pool.run((name, fields, budget), budget)
            except RequestFailed as failure:
                return _error(504 if failure.timed_out else 500,
                              "LimitError" if failure.timed_out else "InternalError",
                              str(failure))
            return JSONResponse(result, status_code=400 if "error" in result else 200)
        return answer

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def examples(request: Request) -> Response:
        return JSONResponse({"examples": _examples(gallery)})

    routes = [Route("/", page), Route("/api/examples", examples)]
    routes += [Route(f"/api/{name}", endpoint(name), methods=["POST"]) for name in ENDPOINTS]
    routes += [Mount("/static", StaticFiles(directory=STATIC)),
               Mount("/katex", StaticFiles(directory=KATEX))]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            pool.close()

    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.pool = pool
    return app


def _examples(gallery: Path | None) -> list[dict]:
    """The gallery's problems (``derivations/*.mc``), each with its first comment line as title."""
    gallery = gallery or next((folder for folder in GALLERIES if folder.is_dir()), None)
    if gallery is None or not gallery.is_dir():
        return []
    found = []
    for path in sorted(gallery.glob("*.mc")):
        source = path.read_text(encoding="utf-8")
        first = source.splitlines()[0] if source else ""
        title = first.lstrip("# ").strip() if first.startswith("#") else path.stem
        found.append({"name": path.stem, "title": title, "source": source})
    return found

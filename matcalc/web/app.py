"""The workbench's web application (Starlette): the page, its static files, and the JSON API.

``/api/derive``, ``/api/verify`` and ``/api/derivation`` take a JSON object and answer with the
schema of ``matcalc derive --format json`` (docs/guide.md, "The workbench"); every one runs in a
worker process of a :class:`~matcalc.web.pool.Pool`, under the request's time limit and the
worker's memory limit, and is cancelled (its worker killed) when its client goes away.  Requests
past the pool's queue get 429 at once, before their body is read; bodies are limited in size and
in the time they take to arrive.  Only the server's own hosts and origins are served
(:mod:`~matcalc.web.guard`), and every answer carries security headers (a content security
policy that allows only the page's own scripts).  With ``practice``, the practice mode's
endpoints replace the workbench's (:mod:`~matcalc.web.practice`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import limits
from .compute import WORKBENCH, Workbench, respond
from .guard import RequestGuard
from .pool import Pool
from .practice import title_of
from .tasks import handle

STATIC = Path(__file__).resolve().parent / "static"
KATEX = Path(__file__).resolve().parent.parent / "present" / "katex"
# the gallery's problems: beside the package in a checkout, else in the folder served from
GALLERIES = (Path(__file__).resolve().parent.parent.parent / "derivations",
             Path("derivations"))
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


def create_app(jobs: int = 2, seconds: float | None = None, memory: int | None = None,
               gallery: Path | None = None, hosts: Iterable[str] = (),
               practice: Path | None = None, queue: int | None = None) -> Starlette:
    """The workbench: ``jobs`` worker processes, ``seconds`` a request (default
    ``limits.DERIVATION_SECONDS``), ``memory`` bytes a worker (default 4 GB), ``queue``
    requests waiting beside the running ones (default 16 a worker); the examples are the ``.mc``
    files of ``gallery`` (default: the first of :data:`GALLERIES` that exists); ``hosts`` are
    served beside the local names.  With ``practice`` (a folder of problems), the practice
    mode."""
    from ..grading.workers import MEMORY_BYTES

    pool = Pool(handle, jobs, memory or MEMORY_BYTES, queue)
    bench = Workbench(pool, seconds or limits.DERIVATION_SECONDS)
    if practice is not None:
        from .practice_routes import practice_routes

        routes = practice_routes(bench, practice)
    else:
        routes = _workbench_routes(bench, gallery)
    routes += [Mount("/static", StaticFiles(directory=STATIC)),
               Mount("/katex", StaticFiles(directory=KATEX))]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            pool.close()

    app = Starlette(routes=routes, lifespan=lifespan, middleware=[
        Middleware(SecurityHeaders), Middleware(RequestGuard, hosts=tuple(hosts))])
    app.state.pool = pool
    return app


def _workbench_routes(bench: Workbench, gallery: Path | None) -> list:
    def endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            result = await bench.compute(request, name)
            if isinstance(result, dict) and name == "verify" and "error" not in result:
                result = result["answer"]  # the reference is /api/derive's, not the verdict's
            return respond(result)
        return answer

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def examples(request: Request) -> Response:
        return JSONResponse({"examples": _examples(gallery)})

    routes = [Route("/", page), Route("/api/examples", examples)]
    return routes + [Route(f"/api/{name}", endpoint(name), methods=["POST"])
                     for name in WORKBENCH]


def _examples(gallery: Path | None) -> list[dict]:
    """The gallery's problems (``derivations/*.mc``), each with its first comment line as title."""
    gallery = gallery or next((folder for folder in GALLERIES if folder.is_dir()), None)
    if gallery is None or not gallery.is_dir():
        return []
    found = []
    from ..errors import MatcalcError
    from ..grading.batch import read_problem_file

    for path in sorted(gallery.glob("*.mc")):
        try:
            source = read_problem_file(str(path), path.name)
        except MatcalcError:  # not UTF-8, not a file, too big: not an example
            continue
        found.append({"name": path.stem, "title": title_of(source, path.stem),
                      "source": source})
    return found

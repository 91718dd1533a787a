"""The practice mode's page and endpoints (docs/guide.md, "Practice mode").

``GET /api/problems`` lists the problems (text without comments, questions, points);
``POST /api/problems/NAME/verify`` checks an answer and ``POST /api/problems/NAME/derivation`` a
derivation, each giving the verdict, the hint, the rubric's feedback and a counterexample, the
reference only as :func:`~matcalc.web.practice.may_reveal` allows.  The workbench's own
endpoints, which would derive the answer, are not served.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .compute import WORKBENCH, Workbench, error, respond
from .practice import Attempts, Problem, browser_id, cookie_header, load_problems, may_reveal

STATIC = Path(__file__).resolve().parent / "static"


def practice_routes(bench: Workbench, folder: Path) -> list[Route]:
    """The routes of practice mode over the problems of ``folder`` (read once, now)."""
    problems = load_problems(folder)
    attempts = Attempts()

    def with_cookie(response: Response, token: str, new: bool) -> Response:
        if new:
            response.headers.append("set-cookie", cookie_header(token))
        return response

    async def page(request: Request) -> Response:
        token, new = browser_id(request.cookies)
        return with_cookie(FileResponse(STATIC / "practice.html"), token, new)

    async def listing(request: Request) -> Response:
        token, new = browser_id(request.cookies)
        shown = [problem.public() | {"attempts": attempts.made(token, problem.name)}
                 for problem in problems.values()]
        return with_cookie(JSONResponse({"problems": shown}), token, new)

    def check(endpoint: str):
        async def answer(request: Request) -> Response:
            problem: Problem | None = problems.get(request.path_params["name"])
            if problem is None:
                return error(404, "UnknownNameError", "no practice problem is called "
                             f"{request.path_params['name']!r}", "name")
            token, new = browser_id(request.cookies)
            result = await bench.compute(request, f"practice-{endpoint}",
                                         problem.worker_view())
            if not isinstance(result, dict) or "error" in result:
                return with_cookie(respond(result), token, new)
            made = attempts.add(token, problem.name)
            shown = dict(result["answer"])
            shown |= {"attempts": made,
                      "reveal_after": problem.rubric.reveal_after if problem.rubric else None}
            if may_reveal(problem, made):
                shown |= result["reference"]
            return with_cookie(JSONResponse(shown), token, new)
        return answer

    async def not_here(request: Request) -> Response:
        return error(404, "UnsupportedError", "this server runs in practice mode: it checks "
                     "answers to its problems (/api/problems) and derives nothing")

    routes = [Route("/", page), Route("/api/problems", listing),
              Route("/api/problems/{name}/verify", check("verify"), methods=["POST"]),
              Route("/api/problems/{name}/derivation", check("derivation"), methods=["POST"])]
    return routes + [Route(f"/api/{name}", not_here, methods=["GET", "POST"])
                     for name in (*WORKBENCH, "examples")]

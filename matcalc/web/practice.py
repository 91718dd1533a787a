"""Practice mode (``matcalc serve --practice FOLDER``): the folder's problems, checked but never
answered.

Each ``.mc`` file of the folder is a problem; its requests (``grad L wrt x``) are its questions,
and ``<problem>.rubric.toml`` beside it, when there is one, gives the points and the feedback per
kind of mistake, and may let the reference be shown after a number of attempts
(``[practice] reveal_after = N``).  A problem is served without its comments (the author's
notes, where a textbook answer often sits) but for a ``# title: ...`` line, its title.

The reference is computed in a worker with every verdict but comes back apart from the answer,
and is passed on only when the rubric allows it and this browser has made that many attempts
at the problem.  Attempts are counted here, in the server's memory, per browser (a random id in
an HttpOnly cookie): a restart forgets them, and a new browser, a private window or cleared
cookies start again from 0 (docs/guide.md, "Practice mode", says what this cannot stop).
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from ..errors import MatcalcError, ParseError
from ..grading.batch import read_problem_file
from ..grading.rubrics import Rubric, load_rubric

COOKIE = "matcalc_practice"
MAX_COUNTED = 100_000  # (browser, problem) pairs remembered; the oldest are forgotten
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_TITLE = re.compile(r"^#\s*title:(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    """A practice problem: its name (the file's stem), title, text without comments, questions
    ``(of, wrt, kind)``, and rubric (None: no points, no feedback, the reference never shown)."""

    name: str
    title: str
    source: str
    questions: tuple[tuple[str, str, str], ...]
    rubric: Rubric | None

    def public(self) -> dict:
        return {"name": self.name, "title": self.title, "source": self.source,
                "questions": [{"of": of, "wrt": wrt, "kind": kind}
                              for of, wrt, kind in self.questions],
                "points": self.rubric.points if self.rubric else None,
                "reveal_after": self.rubric.reveal_after if self.rubric else None}

    def worker_view(self) -> dict:
        """What a worker needs to check an answer (``tasks``' ``practice``)."""
        return {"source": self.source, "questions": list(self.questions),
                "rubric": self.rubric}


def without_comments(source: str) -> str:
    """The problem's text with every comment (``#`` to the end of its line) removed."""
    lines = [line.split("#", 1)[0].rstrip() for line in source.splitlines()]
    return "\n".join(line for line in lines if line) + "\n"


def title_of(text: str, name: str) -> str:
    """A gallery problem's title: its first line when that is a comment, else its file's name."""
    first = text.splitlines()[0] if text else ""
    return first.lstrip("# ").strip() if first.startswith("#") else name


def practice_title(text: str, name: str) -> str:
    """A practice problem's title: its ``# title: ...`` line, else its file's name (no other
    comment is shown: the gallery's first lines often give the answer away)."""
    found = _TITLE.search(text)
    return found.group(1).strip() if found else name.replace("_", " ")


def load_problems(folder: Path) -> dict[str, Problem]:
    """The folder's problems by name; a ParseError names a file that cannot be one."""
    from ..lang.parse import parse

    if not folder.is_dir():
        raise ParseError(f"--practice {folder}: no such folder")
    problems = {}
    for path in sorted(folder.glob("*.mc")):
        if not _NAME.match(path.stem):
            raise ParseError(f"{path}: a practice problem's file name has letters, digits, "
                             "'_', '-' and '.' only")
        text = read_problem_file(str(path), str(path))  # a UTF-8 regular file, not too big
        title, source = practice_title(text, path.stem), without_comments(text)
        try:
            program = parse(source)
        except MatcalcError as error:
            raise ParseError(f"{path}: {error}") from None
        questions = tuple((str(request.of), wrt, request.kind)
                          for request in program.requests for wrt in request.wrt)
        if not questions:
            raise ParseError(f"{path}: a practice problem asks for something "
                             "(a line such as 'grad L wrt x')")
        beside = path.with_suffix(".rubric.toml")
        rubric = load_rubric(beside) if beside.is_file() else None
        problems[path.stem] = Problem(path.stem, title, source, questions, rubric)
    if not problems:
        raise ParseError(f"--practice {folder}: the folder has no .mc problem")
    return problems


class Attempts:
    """How many checks each browser made at each problem (at most :data:`MAX_COUNTED` pairs)."""

    def __init__(self, limit: int = MAX_COUNTED):
        self.counts: OrderedDict[tuple[str, str], int] = OrderedDict()
        self.limit = limit

    def add(self, browser: str, problem: str) -> int:
        """Count one more attempt; the number made so far, this one included."""
        key = (browser, problem)
        self.counts[key] = self.counts.pop(key, 0) + 1
        while len(self.counts) > self.limit:
            self.counts.popitem(last=False)
        return self.counts[key]

    def made(self, browser: str, problem: str) -> int:
        return self.counts.get((browser, problem), 0)


def browser_id(cookies: dict[str, str]) -> tuple[str, bool]:
    """The browser's id from its cookie, and whether it is new (to be set in the answer)."""
    known = cookies.get(COOKIE, "")
    if _TOKEN.match(known):
        return known, False
    return secrets.token_urlsafe(18), True


def cookie_header(token: str) -> str:
    return f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"


def may_reveal(problem: Problem, attempts: int) -> bool:
    """Whether the reference may be shown after ``attempts`` (the rubric says; else never)."""
    after = problem.rubric.reveal_after if problem.rubric else None
    return after is not None and attempts >= after

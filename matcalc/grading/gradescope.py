"""One submission's grades as Gradescope's autograder ``results.json``.

The format is Gradescope's "Autograder Specifications" (gradescope-autograders.readthedocs.io,
/specs/): an object with ``score``, ``output`` and ``tests``, a test being an object with
``name``, ``number``, ``score``, ``max_score``, ``status`` (passed or failed), ``output`` (shown
to the student in a ``<pre>``) and ``extra_data``.  One test per problem of the assignment: the
instructor's list of requests (``--assignment``: columns ``problem, wrt`` and optionally ``kind,
of``) decides the tests, their order and their points, so a submission cannot answer one problem
twice, skip one unnoticed, or bring a problem of its own; without a list, each distinct request
the submission answers is a test.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import MatcalcError, ParseError
from .batch import KINDS, Grade, Submission, summary
from .rubrics import Rubric, rubric_for
from .withholding import withhold_terms


@dataclass(frozen=True)
class Task:
    """One problem of an assignment: a request on a problem file (one Gradescope test)."""

    problem: str
    wrt: str
    kind: str = "grad"
    of: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (os.path.normpath(self.problem), self.kind, self.wrt, self.of)

    @property
    def name(self) -> str:
        of = f" of {self.of}" if self.of else ""
        return f"{self.problem}: {self.kind}{of} wrt {self.wrt}"


def task_of(item: Submission | Grade) -> Task:
    return Task(item.problem, item.wrt, item.kind, getattr(item, "of", ""))


def read_assignment(path: str | os.PathLike) -> list[Task]:
    """The tasks of an assignment CSV (``problem, wrt`` and optionally ``kind, of``)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ParseError(f"cannot read the assignment {file}: {error}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if "problem" not in header or "wrt" not in header:
        raise ParseError(f"the assignment {file} needs the columns problem and wrt (optional: "
                         "kind, of)")
    reader.fieldnames = header
    tasks: list[Task] = []
    for row in reader:
        fields = {name: (row.get(name) or "").strip() for name in ("problem", "wrt", "kind", "of")}
        task = Task(fields["problem"], fields["wrt"], fields["kind"] or "grad", fields["of"])
        if not task.problem or not task.wrt or task.kind not in KINDS:
            raise ParseError(f"the assignment {file}, line {reader.line_num}: give a problem, "
                             f"a wrt and a kind among {', '.join(KINDS)}")
        if task.key in {known.key for known in tasks}:
            raise ParseError(f"the assignment {file}, line {reader.line_num}: {task.name} is "
                             "listed twice")
        tasks.append(task)
    if not tasks:
        raise ParseError(f"the assignment {file} lists no problems")
    return tasks


def select(submissions: Sequence[Submission], tasks: Sequence[Task] | None,
           folder: str | os.PathLike | None = None) -> tuple[list[Submission], list[str]]:
    """The rows to grade: the first answer to each task (each distinct request without tasks);
    and a note for every row left out.  With the problems' ``folder``, a request naming the
    definition differentiated (``of``) is the same as one leaving out that default (the
    problem's last definition)."""
    key = _Keys(folder)
    wanted = {key(task) for task in tasks} if tasks is not None else None
    chosen: dict[tuple, Submission] = {}
    notes = []
    for item in submissions:
        item_key = key(task_of(item))
        if wanted is not None and item_key not in wanted:
            notes.append(f"line {item.line}: {task_of(item).name} is not a problem of this "
                         "assignment; not graded")
        elif item_key in chosen:
            notes.append(f"line {item.line}: a second answer to {task_of(item).name}; the "
                         f"first (line {chosen[item_key].line}) is graded")
        else:
            chosen[item_key] = item
    return list(chosen.values()), notes


class _Keys:
    """A request's key: its problem, kind and wrt, and ``of`` (the problem's last definition
    where the request leaves it out, when the problems' folder is known)."""

    def __init__(self, folder: str | os.PathLike | None):
        self.folder, self.defaults = folder, {}

    def __call__(self, task: Task) -> tuple[str, str, str, str]:
        problem, kind, wrt, of = task.key
        if self.folder is not None and not of:
            if problem not in self.defaults:
                self.defaults[problem] = _last_definition(Path(self.folder) / problem)
            of = self.defaults[problem]
        return problem, kind, wrt, of


def _last_definition(path: Path) -> str:
    """The name of a problem file's last definition ("" when it cannot be read)."""
    from ..lang.parse import parse
    from .batch import read_problem_file

    try:
        last = parse(read_problem_file(str(path), str(path))).last_definition
    except (MatcalcError, OSError, RecursionError):
        return ""
    return last.name if last is not None else ""


def _number(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else 0.0


def _output(item: Grade, withhold: bool) -> str:
    hint = withhold_terms(item.hint) if withhold else item.hint
    lines = [f"{item.verdict}: {hint}" if hint else item.verdict]
    if item.feedback:
        lines.append(f"feedback: {item.feedback}")
    if item.read_as:
        lines.append(f"your answer, as read: {item.read_as}")
    return "\n".join(lines)


def results(grades: Sequence[Grade], tasks: Sequence[Task] | None = None,
            notes: Sequence[str] = (), folder: str | os.PathLike = ".",
            rubric: Rubric | None = None, withhold: bool = True) -> dict[str, object]:
    """The ``results.json`` object: a test per task (a task with no answer scores 0 of its
    rubric's points, the problem's rubric being read from ``folder``).

    With ``withhold`` (the default) a hint quoting a piece of the reference (a missing term or
    factor: :mod:`.withholding`) names the mistake without the piece, since a student who may
    submit again would read the reference off it; a problem's rubric saying ``withhold_terms``
    decides for that problem."""
    key = _Keys(folder)
    by_key = {key(task_of(item)): item for item in grades}
    order = list(tasks) if tasks is not None else [task_of(item) for item in grades]
    tests = []
    for number, task in enumerate(order, start=1):
        item = by_key.get(key(task))
        own = rubric_for(str(Path(folder) / task.problem), rubric or Rubric())
        if item is None:
            possible = own.points
            tests.append({"name": task.name, "number": str(number), "score": 0.0,
                          "max_score": possible, "status": "failed",
                          "output": "no answer to this problem in the submission",
                          "extra_data": {"verdict": "missing"}})
            continue
        tests.append({"name": task.name, "number": str(number), "score": _number(item.points),
                      "max_score": _number(item.max_points),
                      "status": "passed" if item.verdict == "correct" else "failed",
                      "output": _output(item, withhold if own.withhold_terms is None
                                        else own.withhold_terms),
                      "extra_data": {"verdict": item.verdict, "mistake": item.mistake,
                                     "feedback": item.feedback, "line": item.line}})
    score = math.fsum(test["score"] for test in tests)
    output = "\n".join([summary(grades), *notes])
    return {"score": score, "output": output, "tests": tests}


def write_results(data: dict[str, object], stream) -> None:
    """The object as JSON (never NaN or Infinity: Gradescope reads strict JSON)."""
    json.dump(data, stream, indent=2, allow_nan=False, ensure_ascii=False)
    stream.write("\n")

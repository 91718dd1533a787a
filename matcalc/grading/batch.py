"""Batch grading: a CSV of hand-derived answers in, a report of verdicts and hints out.

Each row names a student, a problem file (relative to the CSV's folder), the variable and the
answer; optional columns give ``kind`` (grad, jacobian, hessian), ``of`` (the definition
differentiated) and ``latex`` (yes/no; empty decides by the answer's look).  Rows that share a
problem and a request share one derivation, and groups are graded on several cores.
A row whose answer cannot be read, or that is itself malformed (a wrong number of fields, an
unknown kind), is reported as ``error`` with the message; it does not stop the batch.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .. import limits
from ..engine.pipeline import run
from ..engine.result import KINDS, Result
from ..errors import MatcalcError, ParseError
from ..lang.files import read_text_file
from ..lang.parse import parse
from ..lang.syntax import MAX_LENGTH
from ..limits import time_budget
from .rubrics import Rubric, rubric_for
from .verdicts import verify_against
from .workers import MEMORY_BYTES, cores, run_isolated

REQUIRED = ("student", "problem", "wrt", "answer")
OPTIONAL = ("kind", "of", "latex")
_YES, _NO = frozenset({"yes", "true", "1", "y"}), frozenset({"no", "false", "0", "n"})


@dataclass(frozen=True)
class Submission:
    """One row of the answers file."""

    line: int
    student: str
    problem: str
    wrt: str
    answer: str
    kind: str = "grad"
    of: str = ""
    latex: bool | None = None
    path: str = ""
    refused: str = ""  # why the row is not graded (malformed, or its path leaves the folder)
    allow_deltas: bool = False  # the answer may use the result's named deltas (the instructor's)
    extra: tuple[tuple[str, str], ...] = ()  # the other columns of the row, passed through

    @property
    def request(self) -> tuple[str, str, str, str]:
        return (self.path, self.wrt, self.of, self.kind)


@dataclass(frozen=True)
class Grade:
    """The verdict on one submission: correct, wrong (with a hint) or error (with why)."""

    line: int
    student: str
    problem: str
    wrt: str
    kind: str
    answer: str
    verdict: str
    max_rel_error: float | None
    hint: str
    points: float | None = None
    max_points: float | None = None
    mistake: str = ""  # the kind of mistake the hint names (grading/rubrics.py)
    feedback: str = ""
    reference: str = ""  # the correct result
    read_as: str = ""  # the answer as matcalc read it
    reference_latex: str = ""
    read_as_latex: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    of: str = ""  # the definition differentiated (empty: the last)


def read_answers(path: str | os.PathLike, allow_outside: bool = False,
                 one_student: bool = False) -> list[Submission]:
    """The submissions of a CSV file; a ParseError when the file as a whole cannot be read (no
    header, an unbalanced quote, no rows); a malformed row is kept and graded ``error``.

    Problem paths are relative to the CSV's folder and may not leave it (no absolute paths, no
    ``..``) unless ``allow_outside``; a row whose path does is graded ``error``.  The answers
    of ``one_student`` (a submission to an autograder) may leave out the student column, and
    may not name two students."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ParseError(f"no such file: {file}") from None
    except UnicodeDecodeError:
        raise ParseError(f"{file} is not UTF-8 text") from None
    except OSError as error:
        raise ParseError(f"cannot read {file}: {error.strerror}") from None
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LENGTH))
    reader = csv.DictReader(io.StringIO(text), strict=True)
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        raise ParseError(f"{file}, line {reader.line_num}: {error}") from None
    missing = [name for name in REQUIRED if name not in header and
               not (one_student and name == "student")]
    if missing:
        raise ParseError(f"{file}: the header must name the columns {', '.join(REQUIRED)} "
                         f"(optional: {', '.join(OPTIONAL)}); missing {', '.join(missing)}")
    reader.fieldnames = header
    submissions = []
    rows = iter(reader)
    while True:
        start = reader.line_num + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:
            # an unbalanced quote swallows every later row: say where it opened
            raise ParseError(f"{file}, line {start}: {error} (a quote opened in this row is "
                             f"never closed; {len(submissions)} rows were read before it)"
                             ) from None
        line = reader.line_num
        submissions.append(_submission(file, line, row, len(header), allow_outside))
    if not submissions:
        raise ParseError(f"{file} holds no answers")
    students = sorted({item.student for item in submissions} - {""})
    if one_student and len(students) > 1:
        raise ParseError(f"{file} holds the answers of {len(students)} students "
                         f"({', '.join(students[:3])}{', ...' if len(students) > 3 else ''}); "
                         "an autograder's results are one submission's")
    return submissions


def _submission(file: Path, line: int, row: dict, width: int, allow_outside: bool = False
                ) -> Submission:
    """One row; a row that cannot be graded (a wrong number of fields, an unknown kind, a path
    leaving the folder) is kept with why, and graded ``error`` while the others go on."""
    fields = {name: (row.get(name) or "").strip() for name in (*REQUIRED, *OPTIONAL)}
    kind = fields["kind"] or "grad"
    latex_text = fields["latex"].lower()
    problem = fields["problem"]
    extra = tuple((name, value or "") for name, value in row.items()
                  if name is not None and name not in REQUIRED and name not in OPTIONAL)
    submission = Submission(line=line, student=fields["student"], problem=problem,
                            path=str(file.parent / problem), wrt=fields["wrt"],
                            answer=row.get("answer") or "", kind=kind, of=fields["of"],
                            latex=None if latex_text not in _YES | _NO else latex_text in _YES,
                            extra=extra)
    return replace(submission, refused=_row_error(row, width, kind, latex_text, problem,
                                                  fields["wrt"], allow_outside) or
                   ("" if allow_outside or not problem or _inside(file.parent, problem) else
                    f"the problem path {problem} leads out of the folder of the answers file "
                    "through a link; give paths inside it (or grade with --allow-outside-paths)"))


def _inside(folder: Path, problem: str) -> bool:
    """Whether ``problem`` (relative to ``folder``) stays in it once links are followed."""
    return (folder / problem).resolve().is_relative_to(folder.resolve())


def _row_error(row: dict, width: int, kind: str, latex_text: str, problem: str, wrt: str,
               allow_outside: bool) -> str:
    """Why a row is not graded ("" when it is)."""
    found = sum(value is not None for name, value in row.items() if name is not None) + \
        len(row.get(None) or ())
    if found != width:
        return (f"this row has {found} field{'s' if found != 1 else ''} where the header "
                f"names {width} (a comma inside an answer needs the answer in double quotes)")
    if kind not in KINDS:
        return f"kind is one of {', '.join(KINDS)}, not {kind!r}"
    if latex_text and latex_text not in _YES | _NO:
        return f"latex is yes, no or empty, not {latex_text!r}"
    if not problem or not wrt:
        return "problem and wrt must not be empty"
    if not allow_outside and (os.path.isabs(problem) or ".." in Path(problem).parts):
        return (f"the problem path {problem} leaves the folder of the answers file; "
                "give paths inside it (or grade with --allow-outside-paths)")
    return ""


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


_EXCERPT = 100  # characters of the source line kept around the caret


def _message(error: BaseException) -> str:
    """The error's message and, when it points into the answer, the answer's line with the
    caret line under it (clipped around the caret: an answer may be one very long line)."""
    head, *rest = str(error).splitlines() or [type(error).__name__]
    if len(rest) != 2 or not rest[1].strip() or set(rest[1].strip()) != {"^"}:
        return head
    text, carets = rest[0][2:], rest[1][2:]
    start = max(0, carets.index("^") - _EXCERPT // 2)
    cut = "..." if start else ""
    text = cut + text[start:start + _EXCERPT] + ("..." if len(text) > start + _EXCERPT else "")
    carets = " " * len(cut) + carets[start:start + _EXCERPT]
    return f"{head}\n  {text}\n  {carets}"


# the derivations a worker has made, by request: the rows of one problem share one
_DERIVED: dict[tuple, Result | str] = {}


def read_problem_file(path: str, shown: str) -> str:
    """A problem file's text; what is not a small regular file is refused before reading."""
    return read_text_file(path, "problem file", shown)


def _expected(item: Submission) -> Result:
    """The derivation a row is graded against (made once per request in each worker)."""
    known = _DERIVED.get(item.request)
    if known is None:
        try:
            source = read_problem_file(item.path, item.problem)
            (known,) = run(parse(source), wrt=[item.wrt], of=item.of or None, kind=item.kind)
        except MatcalcError as error:
            known = f"the problem: {_first_line(error)}"
        if len(_DERIVED) > 64:
            _DERIVED.clear()
        _DERIVED[item.request] = known
    if isinstance(known, str):
        raise _ProblemFailed(known)
    return known


class _ProblemFailed(Exception):
    """The row's problem itself cannot be derived (the message says why)."""


def grade_one(job: tuple[Submission, float]) -> Grade:
    """Grade one row under its own time budget; whatever happens, a Grade comes back."""
    item, seconds = job
    limits.DERIVATION_SECONDS = seconds  # messages name the limit that applies
    if item.refused:
        return _grade(item, "error", None, item.refused)
    try:
        with time_budget(seconds):
            expected = _expected(item)
            verdict = verify_against(expected, item.answer, item.latex, item.allow_deltas)
    except _ProblemFailed as failure:
        return _grade(item, "error", None, str(failure))
    except MatcalcError as error:
        return _grade(item, "error", None, _message(error))
    except RecursionError:
        return _grade(item, "error", None, "the answer is nested too deeply to read")
    except MemoryError:
        return _grade(item, "error", None, "the answer needs more memory than a grading "
                                          "process may use")
    except Exception as error:  # a defect of matcalc: this row says so, the others go on
        return _grade(item, "error", None, f"internal error of matcalc ({type(error).__name__}: "
                                          f"{_first_line(error)}); please report it")
    graded = _grade(item, "correct" if verdict.ok else "wrong", verdict.max_rel_error,
                    verdict.hint)
    return replace(graded, reference=expected.text, read_as=verdict.read_as,
                   reference_latex=_latex_of(expected), read_as_latex=verdict.read_as_latex)


def grade_group(submissions: Sequence[Submission], seconds: float | None = None) -> list[Grade]:
    """Grade submissions in this process, one after another (no isolation: see grade)."""
    limit = seconds or limits.DERIVATION_SECONDS
    return [grade_one((item, limit)) for item in submissions]


def _grade(item: Submission, verdict: str, error: float | None, hint: str) -> Grade:
    return Grade(item.line, item.student, item.problem, item.wrt, item.kind, item.answer,
                 verdict, error, hint, extra=item.extra, of=item.of)


def _latex_of(expected: Result) -> str:
    from ..present.latex import aligned, latex_name, result_symbol, to_latex

    lines = [(latex_name(name, body.kind), to_latex(body)) for name, body in
             expected.where.items()]
    return aligned([*lines, (result_symbol(expected), to_latex(expected.result))])


def _failed(job: tuple[Submission, float], why: str) -> Grade:
    return _grade(job[0], "error", None, why)


def grade(submissions: Sequence[Submission], jobs: int | None = None,
          progress: Callable[[int, int], None] | None = None, seconds: float | None = None,
          on_grade: Callable[[Grade], None] | None = None,
          memory: int | None = MEMORY_BYTES, rubric: Rubric | None = None,
          allow_deltas: bool = False) -> list[Grade]:
    """Grade every submission, in the input's order, each answer isolated in a worker process
    (``jobs`` of them, default: the cores) under ``seconds`` (default the derivation limit) and
    ``memory`` bytes: an answer that fails, hangs or exhausts memory gets an ``error`` row and
    the others go on.  ``on_grade`` sees each grade as it is made.  Each grade is scored with
    its problem's rubric (``<problem>.rubric.toml``), else ``rubric``, else one point a correct
    answer.  Answers may use the result's named deltas only with ``allow_deltas`` or where the
    rubric says ``allow_deltas = true``."""
    seconds = seconds or limits.DERIVATION_SECONDS
    jobs = max(1, jobs or cores())
    rubrics: dict[str, Rubric] = {}
    for item in submissions:
        if item.path not in rubrics:
            rubrics[item.path] = rubric_for(item.path, rubric or Rubric()) if not \
                item.refused else (rubric or Rubric())
    # rows of one request in a row, so each worker derives a problem once
    order = sorted(range(len(submissions)), key=lambda i: submissions[i].request)
    jobs_list = [(replace(submissions[i], allow_deltas=allow_deltas or
                          rubrics[submissions[i].path].allow_deltas), seconds) for i in order]
    grades: list[Grade | None] = [None] * len(submissions)
    done, total = 0, len(submissions)
    if progress:
        progress(0, total)
    for index, graded in run_isolated(jobs_list, grade_one, jobs, seconds, _failed, memory):
        item = submissions[order[index]]
        graded = scored(graded, rubrics[item.path])
        grades[order[index]] = graded
        done += 1
        if on_grade:
            on_grade(graded)
        if progress:
            progress(done, total)
    return [graded for graded in grades if graded is not None]


def scored(graded: Grade, rubric: Rubric) -> Grade:
    """The grade with its points, kind of mistake and feedback under ``rubric``."""
    points, mistake, feedback = rubric.score(graded.verdict, graded.hint)
    return replace(graded, points=points, max_points=rubric.points, mistake=mistake,
                   feedback=feedback)


def totals(grades: Sequence[Grade]) -> list[dict[str, object]]:
    """Per student: answers, correct ones, points and the points possible."""
    students: dict[str, dict[str, object]] = {}
    for item in grades:
        row = students.setdefault(item.student, {"student": item.student, "answers": 0,
                                                 "correct": 0, "points": 0.0,
                                                 "max_points": 0.0})
        row["answers"] += 1
        row["correct"] += item.verdict == "correct"
        row["points"] += item.points or 0.0
        row["max_points"] += item.max_points or 0.0
    return list(students.values())


def statistics(grades: Sequence[Grade]) -> list[dict[str, object]]:
    """Per problem and request: answers, correct ones, and the commonest mistakes."""
    problems: dict[tuple, dict[str, object]] = {}
    for item in grades:
        key = (item.problem, item.kind, item.wrt)
        row = problems.setdefault(key, {"problem": item.problem, "kind": item.kind,
                                        "wrt": item.wrt, "answers": 0, "correct": 0,
                                        "mistakes": {}})
        row["answers"] += 1
        row["correct"] += item.verdict == "correct"
        if item.mistake:
            row["mistakes"][item.mistake] = row["mistakes"].get(item.mistake, 0) + 1
    for row in problems.values():
        row["mistakes"] = dict(sorted(row["mistakes"].items(), key=lambda kv: -kv[1]))
    return list(problems.values())


def progress_bar(stream=sys.stderr, width: int = 30) -> Callable[[int, int], None]:
    """A progress bar on a terminal; silent when ``stream`` is not one."""
    if not getattr(stream, "isatty", lambda: False)():
        return lambda done, total: None

    def show(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        stream.write(f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            stream.write("\n")
        stream.flush()

    return show


# a cell a spreadsheet would run as a formula (=HYPERLINK(...), +, -, @, a tab or a return)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell that spreadsheets show as text: one that could start a formula gets a
    leading ' (OWASP, "CSV Injection")."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_report(grades: Sequence[Grade], stream, fmt: str = "csv") -> None:
    """Write the grades as CSV (one row each, cells escaped against formula injection) or
    JSON (a list of objects; a number that is not finite is null: strict JSON, never NaN or
    Infinity)."""
    rows = []
    for item in grades:
        row = asdict(item)
        extra = dict(row.pop("extra"))
        for name, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[name] = None
        rows.append({**row, **{name: value for name, value in extra.items() if name not in row}})
    if fmt == "json":
        json.dump(rows, stream, indent=2, allow_nan=False)
        stream.write("\n")
        return
    names = [name for name in Grade.__dataclass_fields__ if name != "extra"]
    for row in rows:
        names += [name for name in row if name not in names]
    writer = csv.DictWriter(stream, fieldnames=names, restval="")
    writer.writerow({name: _cell(name) for name in names})  # passed-through columns' names
    for row in rows:
        row["max_rel_error"] = "" if row["max_rel_error"] is None else \
            f"{row['max_rel_error']:.3g}"
        writer.writerow({name: _cell(value) for name, value in row.items()})


def write_totals(grades: Sequence[Grade], stream) -> None:
    """Write each student's answers, correct ones and points as CSV, cells escaped against
    formula injection as the report's are."""
    names = ["student", "answers", "correct", "points", "max_points"]
    writer = csv.DictWriter(stream, fieldnames=names)
    writer.writeheader()
    for row in totals(grades):
        writer.writerow({name: _cell(value) for name, value in row.items()})


def summary(grades: Sequence[Grade]) -> str:
    """``graded 87 answers: 32 correct, 55 wrong, 0 errors``."""
    counts = {name: sum(g.verdict == name for g in grades) for name in ("correct", "wrong",
                                                                        "error")}
    return (f"graded {len(grades)} answers: {counts['correct']} correct, {counts['wrong']} "
            f"wrong, {counts['error']} error{'s' if counts['error'] != 1 else ''}")


__all__ = ["Grade", "Submission", "grade", "grade_group", "progress_bar", "read_answers",
           "summary", "totals", "write_report", "write_totals"]

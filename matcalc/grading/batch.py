"""Batch grading: a CSV of hand-derived answers in, a report of verdicts and hints out.

Each row names a student, a problem file (relative to the CSV's folder), the variable and the
answer; optional columns give ``kind`` (grad, jacobian, hessian), ``of`` (the definition
differentiated) and ``latex`` (yes/no; empty decides by the answer's look).  Rows that share a
problem and a request share one derivation, and groups are graded on several cores.
A row whose answer cannot be read is reported as ``error`` with the message; it does not stop
the batch.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from ..engine.pipeline import run
from ..errors import MatcalcError, ParseError
from ..lang.parse import parse
from .verdicts import verify_against

REQUIRED = ("student", "problem", "wrt", "answer")
OPTIONAL = ("kind", "of", "latex")
KINDS = ("grad", "jacobian", "hessian")
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


def read_answers(path: str | os.PathLike) -> list[Submission]:
    """The submissions of a CSV file; a ParseError names the line of a malformed row."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ParseError(f"no such file: {file}") from None
    except UnicodeDecodeError:
        raise ParseError(f"{file} is not UTF-8 text") from None
    except OSError as error:
        raise ParseError(f"cannot read {file}: {error.strerror}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ParseError(f"{file}: the header must name the columns {', '.join(REQUIRED)} "
                         f"(optional: {', '.join(OPTIONAL)}); missing {', '.join(missing)}")
    reader.fieldnames = header
    submissions = []
    for row in reader:
        line = reader.line_num
        if None in row or any(row.get(name) is None for name in REQUIRED):
            raise ParseError(f"{file}, line {line}: expected {len(header)} fields")
        submissions.append(_submission(file, line, row))
    if not submissions:
        raise ParseError(f"{file} holds no answers")
    return submissions


def _submission(file: Path, line: int, row: dict[str, str]) -> Submission:
    fields = {name: (row.get(name) or "").strip() for name in (*REQUIRED, *OPTIONAL)}
    kind = fields["kind"] or "grad"
    if kind not in KINDS:
        raise ParseError(f"{file}, line {line}: kind is one of {', '.join(KINDS)}, not {kind!r}")
    latex_text = fields["latex"].lower()
    if latex_text and latex_text not in _YES | _NO:
        raise ParseError(f"{file}, line {line}: latex is yes, no or empty, not {latex_text!r}")
    problem = fields["problem"]
    if not problem or not fields["wrt"]:
        raise ParseError(f"{file}, line {line}: problem and wrt must not be empty")
    return Submission(line=line, student=fields["student"],
                      problem=problem, path=str(file.parent / problem), wrt=fields["wrt"],
                      answer=row["answer"], kind=kind, of=fields["of"],
                      latex=None if not latex_text else latex_text in _YES)


def _first_line(error: MatcalcError) -> str:
    return str(error).splitlines()[0]


def grade_group(submissions: Sequence[Submission]) -> list[Grade]:
    """Grade submissions that share one problem and request (one derivation)."""
    first = submissions[0]
    try:
        source = Path(first.path).read_text(encoding="utf-8")
        (expected,) = run(parse(source), wrt=[first.wrt], of=first.of or None, kind=first.kind)
        failure = ""
    except FileNotFoundError:
        failure = f"no such problem file: {first.problem}"
    except (OSError, UnicodeDecodeError):
        failure = f"cannot read the problem file {first.problem}"
    except MatcalcError as error:
        failure = f"the problem: {_first_line(error)}"
    grades = []
    for item in submissions:
        if failure:
            grades.append(_grade(item, "error", None, failure))
            continue
        try:
            verdict = verify_against(expected, item.answer, item.latex)
        except MatcalcError as error:
            grades.append(_grade(item, "error", None, _first_line(error)))
            continue
        grades.append(_grade(item, "correct" if verdict.ok else "wrong",
                             verdict.max_rel_error, verdict.hint))
    return grades


def _grade(item: Submission, verdict: str, error: float | None, hint: str) -> Grade:
    return Grade(item.line, item.student, item.problem, item.wrt, item.kind, item.answer,
                 verdict, error, hint)


def grade(submissions: Sequence[Submission], jobs: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> list[Grade]:
    """Grade every submission, in the input's order, on ``jobs`` processes (default: cores)."""
    groups: dict[tuple, list[Submission]] = {}
    for item in submissions:
        groups.setdefault(item.request, []).append(item)
    jobs = max(1, jobs or os.cpu_count() or 1)
    done, total, grades = 0, len(submissions), []
    if progress:
        progress(0, total)
    if jobs == 1 or len(groups) == 1:
        for group in groups.values():
            grades.extend(grade_group(group))
            done += len(group)
            if progress:
                progress(done, total)
    else:
        # forkserver: workers never inherit the threads of libraries loaded in this process
        context = multiprocessing.get_context(
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None)
        with ProcessPoolExecutor(max_workers=min(jobs, len(groups)), mp_context=context) as pool:
            futures = {pool.submit(grade_group, group): len(group) for group in groups.values()}
            for future in as_completed(futures):
                grades.extend(future.result())
                done += futures[future]
                if progress:
                    progress(done, total)
    return sorted(grades, key=lambda g: g.line)


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


def write_report(grades: Sequence[Grade], stream, fmt: str = "csv") -> None:
    """Write the grades as CSV (one row each) or JSON (a list of objects)."""
    rows = [asdict(item) for item in grades]
    if fmt == "json":
        json.dump(rows, stream, indent=2)
        stream.write("\n")
        return
    writer = csv.DictWriter(stream, fieldnames=list(Grade.__dataclass_fields__))
    writer.writeheader()
    for row in rows:
        row["max_rel_error"] = "" if row["max_rel_error"] is None else \
            f"{row['max_rel_error']:.3g}"
        writer.writerow(row)


def summary(grades: Sequence[Grade]) -> str:
    """``graded 87 answers: 32 correct, 55 wrong, 0 errors``."""
    counts = {name: sum(g.verdict == name for g in grades) for name in ("correct", "wrong",
                                                                        "error")}
    return (f"graded {len(grades)} answers: {counts['correct']} correct, {counts['wrong']} "
            f"wrong, {counts['error']} error{'s' if counts['error'] != 1 else ''}")


__all__ = ["Grade", "Submission", "grade", "grade_group", "progress_bar", "read_answers",
           "summary", "write_report"]

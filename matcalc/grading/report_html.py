"""The HTML report of a graded class: a class page and a page per student, offline.

Formulas (the reference and each answer as matcalc read it) are rendered by KaTeX, whose files
(matcalc/present/katex, MIT licence) are copied beside the report, so the pages need no network.
Every text from the CSV is escaped; a student's page has a file name made from the name alone
(stable from one run to the next, safe on every file system, distinct for distinct names).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from html import escape
from importlib import resources
from pathlib import Path

from .batch import Grade, statistics, totals

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
.correct{color:#176b2c}.wrong{color:#a3271f}.error{color:#8a5a00}code{white-space:pre-wrap}
.hint{white-space:pre-wrap}pre{margin:.2em 0}"""
_RENDER = """<script>document.querySelectorAll('[data-latex]').forEach(function (e) {
  try { katex.render(e.getAttribute('data-latex'), e, {displayMode: true, throwOnError: false}); }
  catch (error) { e.textContent = e.getAttribute('data-latex'); } });</script>"""
# a name used as it is: lower case (two names differing in case stay two files on a file system
# that ignores case), no leading dot, not a device name of Windows
_PLAIN = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,59}")
_DIGESTED = re.compile(r"-[0-9a-f]{16}$")  # how a digested name ends: no plain name does
_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                      *(f"lpt{i}" for i in range(10))})


def _page(title: str, body: str, assets: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<link rel='stylesheet' href='{assets}/katex.min.css'>"
            f"<script src='{assets}/katex.min.js'></script><style>{_STYLE}</style></head>"
            f"<body><h1>{escape(title)}</h1>{body}{_RENDER}</body></html>\n")


def _formula(latex: str, text: str) -> str:
    return f"<div data-latex='{escape(latex, quote=True)}'><code>{escape(text)}</code></div>"


def page_name(student: str) -> str:
    """The file name of a student's page: the name itself when it is plain (``ann.html``), else
    a plain slug and a digest of the whole name (``zhang_wei-3f2a...html`` is never another
    student's file: 张伟 and 王芳 get two pages)."""
    if _PLAIN.fullmatch(student) and student.split(".")[0] not in _DEVICES \
            and not student.endswith(".") and not _DIGESTED.search(student):
        return f"{student}.html"
    slug = re.sub(r"[^a-z0-9_-]+", "_", student.lower()).strip("_")[:40] or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{slug}-{digest}.html"


def _hint(text: str) -> str:
    """A hint: its message, then the answer's line with the caret under it kept as it is."""
    head, _, excerpt = text.partition("\n")
    return f"<div class='hint'>{escape(head)}" + (
        f"<pre>{escape(excerpt)}</pre>" if excerpt else "") + "</div>"


def _extra_names(grades: Sequence[Grade]) -> list[str]:
    names: list[str] = []
    for item in grades:
        names += [name for name, _ in item.extra if name not in names]
    return names


def write_html(grades: Sequence[Grade], path: str | Path) -> list[Path]:
    """Write the class page at ``path`` and a page per student in ``<path stem>_students/``
    (with the KaTeX files beside them); returns the pages written."""
    page = Path(path)
    folder = page.parent / f"{page.stem}_students"
    folder.mkdir(parents=True, exist_ok=True)
    assets = page.parent / "katex"
    source = resources.files("matcalc.present").joinpath("katex")
    with resources.as_file(source) as katex:
        shutil.copytree(katex, assets, dirs_exist_ok=True)
    pages = {str(row["student"]): page_name(str(row["student"])) for row in totals(grades)}
    links = {name: f"{folder.name}/{file_name}" for name, file_name in pages.items()}
    page.write_text(_page("Grades", _class_page(grades, links), "katex"), encoding="utf-8")
    written = [page]
    for name, file_name in pages.items():
        answers = "".join(_answer(item) for item in grades if item.student == name)
        student_page = folder / file_name
        student_page.write_text(_page(f"Grades of {name}", answers, "../katex"),
                                encoding="utf-8")
        written.append(student_page)
    return written


def _class_page(grades: Sequence[Grade], links: dict[str, str]) -> str:
    """Students with their points; per problem the reference, how many got it right and the
    commonest mistakes; every answer with its verdict, hint, feedback and passed-through
    columns."""
    students = "".join(
        f"<tr><td><a href='{escape(links[str(row['student'])], quote=True)}'>"
        f"{escape(str(row['student']))}</a></td><td>{row['answers']}</td>"
        f"<td>{row['correct']}</td><td>{row['points']:g} / {row['max_points']:g}</td></tr>"
        for row in totals(grades))
    references: dict[tuple[str, str, str], Grade] = {}
    for item in grades:
        if item.reference and (item.problem, item.kind, item.wrt) not in references:
            references[(item.problem, item.kind, item.wrt)] = item
    problems = ""
    for row in statistics(grades):
        known = references.get((str(row["problem"]), str(row["kind"]), str(row["wrt"])))
        reference = _formula(known.reference_latex, known.reference) if known else ""
        problems += (
            f"<tr><td>{escape(str(row['problem']))}</td><td>{escape(str(row['kind']))} wrt "
            f"{escape(str(row['wrt']))}</td><td>{reference}</td><td>{row['correct']} / "
            f"{row['answers']}</td><td>"
            + escape(", ".join(f"{kind} ({count})" for kind, count in row["mistakes"].items()))
            + "</td></tr>")
    extra = _extra_names(grades)
    heads = "".join(f"<th>{escape(name)}</th>" for name in extra)
    answers = "".join(_answer_row(item, links, extra) for item in grades)
    return ("<h2>Students</h2><table><tr><th>student</th><th>answers</th><th>correct</th>"
            f"<th>points</th></tr>{students}</table><h2>Problems</h2><table><tr>"
            "<th>problem</th><th>request</th><th>reference</th><th>correct</th>"
            f"<th>commonest mistakes</th></tr>{problems}</table><h2>Answers</h2><table><tr>"
            "<th>line</th><th>student</th><th>problem</th><th>verdict</th><th>points</th>"
            f"<th>answer, as read</th><th>hint</th><th>feedback</th>{heads}</tr>{answers}"
            "</table>")


def _points(item: Grade) -> str:
    return "" if item.points is None else f"{item.points:g} / {item.max_points:g}"


def _read(item: Grade) -> str:
    return _formula(item.read_as_latex, item.read_as) if item.read_as else \
        f"<code>{escape(item.answer)}</code>"


def _answer_row(item: Grade, links: dict[str, str], extra: list[str]) -> str:
    values = dict(item.extra)
    cells = "".join(f"<td>{escape(values.get(name, ''))}</td>" for name in extra)
    return (f"<tr><td>{item.line}</td><td><a href='{escape(links[item.student], quote=True)}'>"
            f"{escape(item.student)}</a></td><td>{escape(item.problem)}: {escape(item.kind)} "
            f"wrt {escape(item.wrt)}</td><td class='{escape(item.verdict)}'>"
            f"{escape(item.verdict)}</td><td>{_points(item)}</td><td>{_read(item)}</td>"
            f"<td>{_hint(item.hint) if item.hint else ''}</td><td>{escape(item.feedback)}</td>"
            f"{cells}</tr>")


def _answer(item: Grade) -> str:
    """An answer on its student's page (the passed-through columns, which may be the staff's
    notes, stay on the class page)."""
    points = f" &mdash; {_points(item)}" if item.points is not None else ""
    parts = [f"<h2>{escape(item.problem)}: {escape(item.kind)} wrt {escape(item.wrt)}</h2>",
             f"<p class='{escape(item.verdict)}'><b>{escape(item.verdict)}</b>{points}</p>"]
    if item.hint:
        parts.append(_hint(item.hint))
    if item.feedback:
        parts.append(f"<p><i>{escape(item.feedback)}</i></p>")
    parts.append("<p>Your answer, as read:</p>" + _read(item))
    if item.reference:
        parts.append("<p>The result:</p>" + _formula(item.reference_latex, item.reference))
    return "".join(parts)

"""The HTML report of a graded class: a class page and a page per student, offline.

Formulas (the reference and each answer as matcalc read it) are rendered by KaTeX, whose files
(matcalc/present/katex, MIT licence) are copied beside the report, so the pages need no network.
Every text from the CSV is escaped.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from html import escape
from importlib import resources
from pathlib import Path

from .batch import Grade, statistics, totals

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
.correct{color:#176b2c}.wrong{color:#a3271f}.error{color:#8a5a00}code{white-space:pre-wrap}"""
_RENDER = """<script>document.querySelectorAll('[data-latex]').forEach(function (e) {
  try { katex.render(e.getAttribute('data-latex'), e, {displayMode: true, throwOnError: false}); }
  catch (error) { e.textContent = e.getAttribute('data-latex'); } });</script>"""


def _page(title: str, body: str, assets: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<link rel='stylesheet' href='{assets}/katex.min.css'>"
            f"<script src='{assets}/katex.min.js'></script><style>{_STYLE}</style></head>"
            f"<body><h1>{escape(title)}</h1>{body}{_RENDER}</body></html>\n")


def _formula(latex: str, text: str) -> str:
    return f"<div data-latex='{escape(latex, quote=True)}'><code>{escape(text)}</code></div>"


def _file_name(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", student)[:80] or "student"


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
    written = []
    rows = []
    pages: dict[str, str] = {}
    for student in totals(grades):
        name = str(student["student"])
        pages[name] = f"{_file_name(name)}.html"
        rows.append(f"<tr><td><a href='{folder.name}/{escape(pages[name], quote=True)}'>"
                    f"{escape(name)}</a></td><td>{student['answers']}</td>"
                    f"<td>{student['correct']}</td><td>{student['points']:g} / "
                    f"{student['max_points']:g}</td></tr>")
    problems = "".join(
        f"<tr><td>{escape(str(p['problem']))}</td><td>{escape(str(p['kind']))} wrt "
        f"{escape(str(p['wrt']))}</td><td>{p['correct']} / {p['answers']}</td><td>"
        + escape(", ".join(f"{kind} ({count})" for kind, count in p["mistakes"].items()))
        + "</td></tr>" for p in statistics(grades))
    body = ("<h2>Students</h2><table><tr><th>student</th><th>answers</th><th>correct</th>"
            f"<th>points</th></tr>{''.join(rows)}</table><h2>Problems</h2><table><tr>"
            "<th>problem</th><th>request</th><th>correct</th><th>commonest mistakes</th></tr>"
            f"{problems}</table>")
    page.write_text(_page("Grades", body, "katex"), encoding="utf-8")
    written.append(page)
    for name, file_name in pages.items():
        answers = "".join(_answer(item) for item in grades if item.student == name)
        student_page = folder / file_name
        student_page.write_text(_page(f"Grades of {name}", answers, "../katex"),
                                encoding="utf-8")
        written.append(student_page)
    return written


def _answer(item: Grade) -> str:
    points = "" if item.points is None else f" &mdash; {item.points:g} / {item.max_points:g}"
    parts = [f"<h2>{escape(item.problem)}: {escape(item.kind)} wrt {escape(item.wrt)}</h2>",
             f"<p class='{escape(item.verdict)}'><b>{escape(item.verdict)}</b>{points}</p>"]
    if item.hint:
        parts.append(f"<p>{escape(item.hint)}</p>")
    if item.feedback:
        parts.append(f"<p><i>{escape(item.feedback)}</i></p>")
    parts.append("<p>Your answer, as read:</p>" + (
        _formula(item.read_as_latex, item.read_as) if item.read_as else
        f"<code>{escape(item.answer)}</code>"))
    if item.reference:
        parts.append("<p>The result:</p>" + _formula(item.reference_latex, item.reference))
    return "".join(parts)

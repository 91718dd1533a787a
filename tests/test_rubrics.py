"""Rubrics with partial credit, per-student totals, per-problem statistics and the HTML report."""

from __future__ import annotations

import csv
import html
import io
import json
import pathlib
import re

import pytest

from matcalc.cli.main import main
from matcalc.errors import ParseError
from matcalc.grading.batch import grade, read_answers, statistics, totals, write_report
from matcalc.grading.report_html import page_name, write_html
from matcalc.grading.rubrics import Rubric, load_rubric, mistake_kind

PROBLEM = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x\n"


@pytest.mark.parametrize("hint, kind", [
    ("your answer is the transpose of the gradient", "transpose"),
    ("your answer is the gradient with the sign flipped", "sign"),
    ("your answer is 0.5 times the gradient: a constant factor is off", "factor"),
    ("your answer is N times the gradient: a factor 1 / N is missing", "factor"),
    ("the relu mask step(z) is missing (relu' = step)", "mask"),
    ("a term of the sum is missing: -y @ h'", "term"),
    ("in A * B, a Hadamard product (*) stands where a matrix product (@) belongs", "product"),
    ("your answer does not type-check: ...", "shape"),
    ("your answer holds only when A is symmetric, which ...", "assumption"),
    ("your answer is not the gradient (worst relative error ...)", "other"),
])
def test_hints_are_sorted_into_kinds_of_mistake(hint, kind):
    assert mistake_kind(hint) == kind


@pytest.mark.parametrize("text, message", [
    ("points = 10\nbonus = 1", "unknown keys"),
    ("points = 10\n[partial]\ntranspose = 12", "from 0 to points"),
    ("points = 10\n[partial]\ntypo = 1", "unknown kinds"),
    ("points = -1", "from 0 to"),
    ("points = [", "not TOML"),
    ("points = nan", "finite number"),
    ("points = inf", "finite number"),
    ("points = 1e308", "finite number from 0 to 1,000,000"),
    ("points = true", "finite number"),
    ("points = 10\n[partial]\nsign = nan", "partial.sign"),
    ("points = 10\n[partial]\nsign = -inf", "partial.sign"),
    ("points = 10\n[partial]\nsign = inf", "partial.sign"),
])
def test_a_bad_rubric_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(ParseError, match=message):
        load_rubric(path)


def _class(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "quadratic.mc").write_text(PROBLEM)
    (tmp_path / "quadratic.rubric.toml").write_text(
        'points = 10\n[partial]\ntranspose = 6\nsign = 7\n'
        '[feedback]\nassumption = "A is not symmetric: keep both A and its transpose."\n')
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "problem", "wrt", "answer", "section"])
        writer.writerows([
            ["ann", "quadratic.mc", "x", "(A + A') @ x", "A"],
            ["ann", "quadratic.mc", "x", "-((A + A') @ x)", "A"],
            ["<b>bob</b>", "quadratic.mc", "x", "2 * A @ x", "B"],
            ["cid", "quadratic.mc", "x", "x' @ (A + A')", "B"],
        ])
    return path


def test_partial_credit_and_feedback_come_from_the_problems_rubric(tmp_path):
    grades = grade(read_answers(_class(tmp_path)), jobs=1)
    by = [(g.student, g.verdict, g.points, g.mistake) for g in grades]
    # cid's row x' (A + A') is the gradient transposed: a transpose (6), not a shape mistake
    assert by == [("ann", "correct", 10.0, ""), ("ann", "wrong", 7.0, "sign"),
                  ("<b>bob</b>", "wrong", 0.0, "assumption"), ("cid", "wrong", 6.0, "transpose")]
    assert "keep both" in grades[2].feedback and grades[0].max_points == 10
    assert grades[2].read_as == "2 * A @ x" and grades[2].reference.endswith("(A' + A) @ x")


def test_totals_statistics_and_columns_that_pass_through(tmp_path):
    grades = grade(read_answers(_class(tmp_path)), jobs=1)
    ann = next(row for row in totals(grades) if row["student"] == "ann")
    assert ann["points"] == 17 and ann["max_points"] == 20 and ann["correct"] == 1
    (problem,) = statistics(grades)
    assert problem["correct"] == 1 and problem["answers"] == 4
    stream = io.StringIO()
    write_report(grades, stream)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert rows[0]["section"] == "A" and rows[0]["points"] == "10.0" and "mistake" in rows[0]


def test_the_html_report_is_offline_and_escaped(tmp_path):
    grades = grade(read_answers(_class(tmp_path)), jobs=1)
    pages = write_html(grades, tmp_path / "out" / "report.html")
    assert (tmp_path / "out" / "katex" / "katex.min.js").is_file()
    assert (tmp_path / "out" / "katex" / "LICENSE").is_file()
    index = pages[0].read_text()
    assert "<b>bob</b>" not in index and "&lt;b&gt;bob&lt;/b&gt;" in index
    assert "http" not in index.replace("http-equiv", "")  # nothing fetched from a network
    student = next(page for page in pages if "ann" in page.name).read_text()
    assert "data-latex=" in student and "10 / 10" in student


def test_the_command_line_writes_html_and_totals(tmp_path, capsys):
    answers = _class(tmp_path)
    report, table = tmp_path / "report.html", tmp_path / "totals.csv"
    assert main(["verify", "--batch", str(answers), "--report", str(report),
                 "--totals", str(table), "--jobs", "1"]) == 1
    assert report.is_file() and "ann" in table.read_text()
    rubric = tmp_path / "all.toml"
    rubric.write_text("points = 3\n")
    (tmp_path / "quadratic.rubric.toml").unlink()
    assert main(["verify", "--batch", str(answers), "--rubric", str(rubric), "--jobs", "1"]) == 1
    assert ",3.0,3.0," in capsys.readouterr().out  # a correct answer: 3 of 3


def test_a_rubric_defaults_to_one_point():
    assert Rubric().score("correct", "") == (1.0, "", "")
    assert Rubric().score("wrong", "a term of the sum is missing: x") == (0.0, "term", "")


CS224N = pathlib.Path(__file__).resolve().parent.parent / "derivations" / "cs224n_one_layer.mc"


@pytest.mark.parametrize("wrt, answer, kind, points", [
    # d J / d U = (yhat - y) h' (Nc x Dh): its transpose h (yhat - y)' is Dh x Nc
    ("U", r"h (\hat y - y)^T", "transpose", 6.0),
    ("U", "h @ (yhat - y)'", "transpose", 6.0),
    # d J / d W = delta2 x' (Dh x Dx), delta2 = (U' (yhat - y)) * step(z)
    ("W", "x @ ((U' @ (yhat - y)) * step(z))'", "transpose", 6.0),
    ("b2", "(yhat - y)'", "transpose", 6.0),
    # transposed and wrong besides: the shape is the mistake a rubric can name
    ("U", r"h (y - \hat y)^T", "shape", 2.0),
    ("W", "x @ (U' @ (yhat - y))'", "shape", 2.0),
    ("U", "h @ h'", "shape", 2.0),
])
def test_a_transposed_answer_to_a_non_square_gradient_is_a_transpose(tmp_path, wrt, answer,
                                                                     kind, points):
    for name in ("cs224n_one_layer.mc", "cs224n_one_layer.rubric.toml"):
        (tmp_path / name).write_text((CS224N.parent / name).read_text())
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([["student", "problem", "wrt", "answer"],
                                      ["s", "cs224n_one_layer.mc", wrt, answer]])
    (graded,) = grade(read_answers(path), jobs=1)
    assert (graded.verdict, graded.mistake, graded.points) == ("wrong", kind, points)
    assert graded.hint.startswith("your answer is the transpose") == (kind == "transpose")



def test_totals_cells_cannot_start_a_formula(tmp_path):
    # OWASP "CSV Injection": a cell starting with = + - @ tab or return gets a leading '
    answers = _class(tmp_path)
    rows = list(csv.reader(answers.open(newline="")))
    evil = {"ann": '=HYPERLINK("http://x")', "<b>bob</b>": "-2+3", "cid": "@SUM(A1)"}
    with answers.open("w", newline="") as handle:
        csv.writer(handle).writerows([[evil.get(row[0], row[0]), *row[1:]] for row in rows])
    table = tmp_path / "totals.csv"
    assert main(["verify", "--batch", str(answers), "--totals", str(table), "--jobs", "1",
                 "--report", str(tmp_path / "report.csv")]) == 1
    students = [row["student"] for row in csv.DictReader(table.open())]
    assert students == ["'=HYPERLINK(\"http://x\")", "'-2+3", "'@SUM(A1)"]


def _named_class(tmp_path: pathlib.Path, names: list[str]) -> pathlib.Path:
    (tmp_path / "quadratic.mc").write_text(PROBLEM)
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "problem", "wrt", "answer", "ta_note"])
        writer.writerows([[name, "quadratic.mc", "x", "(A + A') @ x", f"note {i}"]
                          for i, name in enumerate(names)])
    return path


@pytest.mark.parametrize("names", [
    ["张伟", "王芳"],              # non-ASCII letters only: once both __.html
    ["Zoë", "Zoé"],               # differ in an accented letter
    ["ann", "Ann", "ANN"],        # differ in case: one file on a file system ignoring case
    ["a b", "a_b", "a/b", "../a_b"],
    [".", "..", "con", "", "x" * 300],
    ["张伟", "student-a3a0bafd0beed44d"],  # a plain name that is 张伟's digested file name
])
def test_each_student_gets_their_own_stable_safe_page(tmp_path, names):
    grades = grade(read_answers(_named_class(tmp_path, names)), jobs=1)
    pages = write_html(grades, tmp_path / "out" / "report.html")[1:]
    assert len(pages) == len(names)
    assert len({page.name.lower() for page in pages}) == len(names)  # no page overwrites one
    folder = tmp_path / "out" / "report_students"
    for name, page in zip(names, pages, strict=True):
        assert page.parent == folder and page.is_file()
        assert re.fullmatch(r"[a-z0-9_][a-z0-9_.-]*\.html", page.name) and len(page.name) < 90
        assert page.name == page_name(name)  # stable: made from the name alone
        assert f"Grades of {html.escape(name)}<" in page.read_text()
    assert page_name("ann") == "ann.html"


def test_the_class_page_has_references_feedback_math_and_passed_through_columns(tmp_path):
    answers = _class(tmp_path)
    grades = grade(read_answers(answers), jobs=1)
    index = write_html(grades, tmp_path / "report.html")[0].read_text()
    # the reference, rendered by the vendored KaTeX: its LaTeX in data-latex, with d f / d x
    # written as a partial derivative, not df_{dx}
    assert "<th>reference</th>" in index and "df_{dx}" not in index
    assert html.escape(r"\frac{\partial f}{\partial x}", quote=True) in index
    assert index.count("data-latex=") >= 5  # the reference and each answer as read
    assert "katex/katex.min.js" in index
    assert "keep both A and its transpose" in index  # bob's feedback
    assert "<th>section</th>" in index and "<td>B</td>" in index  # passed through
    assert "http" not in index.replace("http-equiv", "")


def test_a_reference_reads_as_the_partial_derivative(tmp_path):
    grades = grade(read_answers(_class(tmp_path)), jobs=1)
    assert grades[0].reference_latex.splitlines()[-2].strip().startswith(
        r"\frac{\partial f}{\partial x} &=")


def test_caret_lines_keep_their_place_in_reports(tmp_path):
    answers = _named_class(tmp_path, ["ann"])
    answers.write_text(answers.read_text().replace("(A + A') @ x", "A @ (x + x"))
    (graded,) = grade(read_answers(answers), jobs=1)
    assert graded.verdict == "error"
    # the message, the answer's line and the caret under the bracket never closed
    assert graded.hint.splitlines()[1:] == ["  A @ (x + x", "      ^"]
    pages = write_html([graded], tmp_path / "report.html")
    for page in pages:
        assert "<pre>  A @ (x + x\n      ^</pre>" in page.read_text()


def test_a_caret_under_a_very_long_answer_is_clipped_around_it(tmp_path):
    answers = _named_class(tmp_path, ["ann"])
    answers.write_text(answers.read_text().replace("(A + A') @ x", "x + " * 5000 + "A @ (x"))
    (graded,) = grade(read_answers(answers), jobs=1)
    head, line, carets = graded.hint.splitlines()
    assert "never closed" in head
    assert len(line) < 120 and line.startswith("  ...") and line.endswith("A @ (x")
    assert line[carets.index("^")] == "("


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_report_holds_only_finite_numbers(tmp_path, fmt):
    from dataclasses import replace

    grades = grade(read_answers(_class(tmp_path)), jobs=1)
    broken = [replace(grades[0], points=float("nan"), max_points=float("inf")), *grades[1:]]
    stream = io.StringIO()
    write_report(broken, stream, fmt)
    text = stream.getvalue()
    assert not re.search(r"\b(nan|inf|infinity)\b", text, re.IGNORECASE)
    if fmt == "json":
        rows = json.loads(text, parse_constant=lambda name: pytest.fail(name))
        assert rows[0]["points"] is None and rows[0]["max_rel_error"] is not None
        assert rows[3]["max_rel_error"] is None  # a wrong shape: no finite error


def test_report_headers_cannot_start_a_formula(tmp_path):
    # a passed-through column is named by the answers file: its name is a cell of the report too
    answers = _class(tmp_path)
    rows = list(csv.reader(answers.open(newline="")))
    with answers.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0] + ['=HYPERLINK("http://x")', "-1+1"]] +
                                     [row + ["a", "b"] for row in rows[1:]])
    report = tmp_path / "report.csv"
    main(["verify", "--batch", str(answers), "--jobs", "1", "--report", str(report)])
    header = next(csv.reader(report.open(newline="")))
    assert header[-2:] == ["'=HYPERLINK(\"http://x\")", "'-1+1"]
    assert "student" in header and not any(name.startswith(("=", "-")) for name in header)

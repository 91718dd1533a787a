"""Batch grading and the answers corpus: every right answer accepted, every wrong one rejected
with the hint that says how it is wrong."""

from __future__ import annotations

import csv
import io
import json
import pathlib

import pytest

from matcalc.cli.main import main
from matcalc.errors import ParseError
from matcalc.grading.batch import grade, progress_bar, read_answers, summary
from matcalc.lang.latex_tokens import looks_like_latex

CORPUS = pathlib.Path("derivations") / "corpus.csv"


@pytest.fixture(scope="module")
def corpus():
    submissions = read_answers(CORPUS)
    expectations = {row["student"] + row["answer"]: row
                    for row in csv.DictReader(CORPUS.open(encoding="utf-8"))}
    grades = grade(submissions, jobs=1)
    return [(expectations[g.student + g.answer], g) for g in grades]


def test_corpus_size_and_variety(corpus):
    right = [row for row, _ in corpus if row["expected_verdict"] == "right"]
    wrong = [row for row, _ in corpus if row["expected_verdict"] == "wrong"]
    assert len(right) >= 25 and len(wrong) >= 40
    assert sum(looks_like_latex(row["answer"]) for row in right) >= 10
    assert sum(looks_like_latex(row["answer"]) for row in wrong) >= 10


def test_every_right_answer_is_accepted(corpus):
    rejected = [(row["answer"], g.hint) for row, g in corpus
                if row["expected_verdict"] == "right" and g.verdict != "correct"]
    assert not rejected


def test_every_wrong_answer_is_rejected_with_its_hint(corpus):
    wrong = [(row, g) for row, g in corpus if row["expected_verdict"] == "wrong"]
    assert all(g.verdict == "wrong" for _, g in wrong), \
        [(row["answer"], g.verdict, g.hint) for row, g in wrong if g.verdict != "wrong"]
    missed = [(row["answer"], row["expected_hint"], g.hint) for row, g in wrong
              if row["expected_hint"] not in g.hint]
    assert not missed
    specific = sum(bool(row["expected_hint"]) for row, _ in wrong)
    assert specific / len(wrong) >= 0.8


def _answers_file(tmp_path: pathlib.Path, rows: list[list[str]]) -> pathlib.Path:
    problem = tmp_path / "quadratic.mc"
    problem.write_text("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x\n")
    (tmp_path / "trace.mc").write_text("X, A : matrix(n, n)\nt = tr(A @ X)\n")
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "problem", "wrt", "answer", "latex"])
        writer.writerows(rows)
    return path


ROWS = [
    ["ann", "quadratic.mc", "x", "(A + A') @ x", ""],
    ["bob", "quadratic.mc", "x", r"2 A x", "yes"],
    ["cy", "quadratic.mc", "x", "A @ (x", ""],
    ["di", "trace.mc", "X", "A'", ""],
    ["ed", "trace.mc", "X", "A", ""],
    ["fi", "missing.mc", "X", "A", ""],
]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_command_writes_a_report(tmp_path, capsys, jobs):
    answers = _answers_file(tmp_path, ROWS)
    report = tmp_path / "report.json"
    assert main(["verify", "--batch", str(answers), "--report", str(report),
                 "--jobs", jobs]) == 1
    grades = json.loads(report.read_text())
    assert [g["student"] for g in grades] == ["ann", "bob", "cy", "di", "ed", "fi"]
    verdicts = {g["student"]: (g["verdict"], g["hint"]) for g in grades}
    assert verdicts["ann"][0] == "correct" and verdicts["di"][0] == "correct"
    assert verdicts["bob"] == ("wrong", verdicts["bob"][1]) and "symmetric" in verdicts["bob"][1]
    assert verdicts["cy"][0] == "error" and "never closed" in verdicts["cy"][1]
    assert "transpose" in verdicts["ed"][1]
    assert verdicts["fi"][0] == "error" and "no such problem file" in verdicts["fi"][1]
    assert "graded 6 answers: 2 correct, 2 wrong, 2 errors" in capsys.readouterr().err


def test_batch_report_to_stdout_as_csv(tmp_path, capsys):
    answers = _answers_file(tmp_path, ROWS[:1])
    assert main(["verify", "--batch", str(answers)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["verdict"] == "correct" and rows[0]["line"] == "2"


@pytest.mark.parametrize("content, message", [
    ("name,problem,wrt,answer\n", "missing student"),
    ("student,problem,wrt,answer\n", "holds no answers"),
    ('student,problem,wrt,answer\na,p.mc,x,"x\n', "never closed"),
])
def test_malformed_answer_files(tmp_path, content, message):
    path = tmp_path / "answers.csv"
    path.write_text(content)
    with pytest.raises(ParseError, match=message):
        read_answers(path)


@pytest.mark.parametrize("row, message", [
    ("a,quadratic.mc,x", "this row has 3 fields where the header names 5"),
    ("a,quadratic.mc,x,kron(A, B) @ x,", "this row has 6 fields where the header names 5"),
    ("a,quadratic.mc,x,(A + A') @ x,,extra,more", "7 fields"),
    ("a", "1 field where"),
    ("a,quadratic.mc,x,x,maybe", "latex is yes, no or empty"),
    ("a,quadratic.mc,,x,", "problem and wrt must not be empty"),
])
def test_a_malformed_row_is_that_rows_error_and_the_rest_are_graded(tmp_path, row, message):
    # the rows around the malformed one are graded as usual
    answers = _answers_file(tmp_path, [ROWS[0]])
    good = answers.read_text().splitlines()[1]
    answers.write_text(answers.read_text().splitlines()[0] + f"\n{good}\n{row}\n{good}\n")
    grades = grade(read_answers(answers), jobs=1)
    assert [(g.line, g.verdict) for g in grades] == [(2, "correct"), (3, "error"),
                                                      (4, "correct")]
    assert message in grades[1].hint and grades[1].student == "a"


def test_a_row_of_an_unknown_kind_is_that_rows_error(tmp_path):
    path = tmp_path / "answers.csv"
    (tmp_path / "p.mc").write_text("x : vector(n)\nf = x' @ x\n")
    path.write_text("student,problem,wrt,answer,kind\na,p.mc,x,2 * x,gradient\n"
                    "b,p.mc,x,2 * x,grad\n")
    grades = grade(read_answers(path), jobs=1)
    assert [g.verdict for g in grades] == ["error", "correct"]
    assert "kind is one of grad, jacobian, hessian, not 'gradient'" in grades[0].hint


def test_the_command_line_grades_the_rest_of_a_class_around_a_malformed_row(tmp_path, capsys):
    answers = _answers_file(tmp_path, [ROWS[0]])
    answers.write_text(answers.read_text() + "b,quadratic.mc,x\n")
    assert main(["verify", "--batch", str(answers), "--jobs", "1"]) == 1
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [row["verdict"] for row in rows] == ["correct", "error"]
    assert "1 correct, 0 wrong, 1 error" in captured.err


def test_batch_command_rejects_mixed_arguments(tmp_path, capsys):
    answers = _answers_file(tmp_path, ROWS[:1])
    assert main(["verify", "problem.mc", "--batch", str(answers)]) == 2
    assert "come from the CSV" in capsys.readouterr().err
    assert main(["verify", "--batch", str(tmp_path / "nothing.csv")]) == 2


def test_progress_bar_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    show = progress_bar(terminal, width=10)
    show(0, 4)
    show(4, 4)
    assert "[##########] 4/4" in terminal.getvalue()
    piped = io.StringIO()
    progress_bar(piped)(1, 2)
    assert piped.getvalue() == ""


def test_summary_counts():
    assert summary([]) == "graded 0 answers: 0 correct, 0 wrong, 0 errors"

"""Gradescope's autograder results.json: checked against the published format.

The schema below transcribes Gradescope's "Autograder Specifications" (the results.json
"Output format": gradescope-autograders.readthedocs.io/en/latest/specs/): the keys a results
object and a test may hold, their types and the values of status and visibility.  No other
key is allowed, so a key Gradescope does not document fails the test."""

from __future__ import annotations

import csv
import json
import math
import pathlib

import pytest

from matcalc.cli.main import main
from matcalc.errors import ParseError
from matcalc.grading.batch import grade, read_answers
from matcalc.grading.gradescope import Task, read_assignment, results, select

ROOT = pathlib.Path(__file__).resolve().parent.parent
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
TEST = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
        "name_format": FORMAT, "number": {"type": "string"}, "output": {"type": "string"},
        "output_format": FORMAT, "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": VISIBILITY, "extra_data": {"type": "object"},
    },
}
RESULTS = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"},
        "output": {"type": "string"}, "output_format": FORMAT, "test_output_format": FORMAT,
        "test_name_format": FORMAT, "visibility": VISIBILITY, "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"}, "tests": {"type": "array", "items": TEST},
        "leaderboard": {"type": "array"},
    },
}
_TYPES = {"object": dict, "array": list, "string": str}


def _problems(schema: dict, value: object, where: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (the JSON Schema keywords used above)."""
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    kind = schema.get("type")
    if kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool) or \
                not math.isfinite(value):
            found.append(f"{where}: {value!r} is not a finite number")
    elif kind and not isinstance(value, _TYPES[kind]):
        return [f"{where}: {value!r} is not of type {kind}"]
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key in schema["properties"]:
                found += _problems(schema["properties"][key], item, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: {key!r} is not in the format")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += _problems(schema["items"], item, f"{where}[{index}]")
    return found


def test_the_schema_check_finds_what_breaks_the_format():
    assert _problems(RESULTS, {"score": 1.0, "tests": [{"name": "a", "score": 1}]}) == []
    assert _problems(RESULTS, {"score": float("nan")})  # NaN is no number in JSON
    assert _problems(RESULTS, {"tests": [{"feedback": "x"}]})  # not a documented key
    assert _problems(RESULTS, {"tests": [{"status": "ok"}]})
    assert _problems(RESULTS, {"tests": [{"number": 1}]})


def _folder(tmp_path: pathlib.Path, rows: list[list[str]], header=("problem", "wrt", "answer")
            ) -> pathlib.Path:
    for name in ("cs224n_one_layer.mc", "cs224n_one_layer.rubric.toml"):
        (tmp_path / name).write_text((ROOT / "derivations" / name).read_text())
    (tmp_path / "assignment.csv").write_text(
        "problem,wrt\ncs224n_one_layer.mc,U\ncs224n_one_layer.mc,W\ncs224n_one_layer.mc,x\n")
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([list(header), *rows])
    return path


ROWS = [
    ["cs224n_one_layer.mc", "U", r"(\hat y - y) h^T"],             # right: 10 of 10
    ["cs224n_one_layer.mc", "W", "x @ ((U' @ (yhat - y)) * step(z))'"],  # transposed: 6
    ["cs224n_one_layer.mc", "U", "0"],                              # a second answer to U
    ["other.mc", "x", "x"],                                         # not a problem of it
]


def test_the_command_line_writes_results_json_in_gradescopes_format(tmp_path, capsys):
    answers = _folder(tmp_path, ROWS)
    out = tmp_path / "results.json"
    main(["verify", "--batch", str(answers), "--gradescope", str(out), "--assignment",
          str(tmp_path / "assignment.csv"), "--jobs", "1"])
    assert "read 4 rows; graded 2 answers" in capsys.readouterr().err
    data = json.loads(out.read_text(), parse_constant=lambda name: pytest.fail(name))
    assert _problems(RESULTS, data) == []
    tests = data["tests"]
    # one test per problem of the assignment, in its order, each with its points
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in tests] == [
        ("cs224n_one_layer.mc: grad wrt U", 10.0, 10.0, "passed"),
        ("cs224n_one_layer.mc: grad wrt W", 6.0, 10.0, "failed"),
        ("cs224n_one_layer.mc: grad wrt x", 0.0, 10.0, "failed")]
    assert data["score"] == 16.0
    # the hint and the rubric's feedback are in the output the student sees
    assert "transpose of the gradient" in tests[1]["output"]
    assert "feedback: The gradient of a scalar has the shape" in tests[1]["output"]
    assert tests[1]["extra_data"]["mistake"] == "transpose"
    assert tests[2]["output"] == "no answer to this problem in the submission"
    assert "a second answer" in data["output"] and "not a problem of this" in data["output"]


def test_without_an_assignment_each_request_answered_is_a_test(tmp_path):
    answers = _folder(tmp_path, ROWS[:3] + [["cs224n_one_layer.mc", "x", "W' @ (yhat"]])
    submissions, notes = select(read_answers(answers, one_student=True), None)
    data = results(grade(submissions, jobs=1), notes=notes)
    assert _problems(RESULTS, data) == []
    assert [(t["name"][-1], t["score"], t["status"]) for t in data["tests"]] == [
        ("U", 10.0, "passed"), ("W", 6.0, "failed"), ("x", 0.0, "failed")]
    assert "never closed" in data["tests"][2]["output"]  # an unreadable answer says why


def test_a_submission_is_one_students(tmp_path):
    answers = _folder(tmp_path, [["ann", *ROWS[0]], ["bob", *ROWS[1]]],
                      header=("student", "problem", "wrt", "answer"))
    with pytest.raises(ParseError, match="the answers of 2 students"):
        read_answers(answers, one_student=True)
    assert len(read_answers(answers)) == 2  # a class's batch is many students'
    with pytest.raises(ParseError, match="missing student"):
        read_answers(_folder(tmp_path, ROWS))


@pytest.mark.parametrize("text, message", [
    ("problem\nq.mc\n", "columns problem and wrt"),
    ("problem,wrt\n", "lists no problems"),
    ("problem,wrt,kind\nq.mc,x,gradient\n", "a kind among"),
    ("problem,wrt\nq.mc,x\n./q.mc,x\n", "listed twice"),
])
def test_a_bad_assignment_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "assignment.csv"
    path.write_text(text)
    with pytest.raises(ParseError, match=message):
        read_assignment(path)


def test_results_hold_only_finite_numbers(tmp_path):
    answers = _folder(tmp_path, [ROWS[0]])
    (graded,) = grade(read_answers(answers, one_student=True), jobs=1)
    from dataclasses import replace

    broken = replace(graded, points=float("nan"), max_points=float("inf"))
    data = results([broken], [Task("cs224n_one_layer.mc", "U")])
    assert _problems(RESULTS, data) == []
    assert data["tests"][0]["score"] == 0.0


# -- hints that quote a piece of the reference --------------------------------------------------
# With resubmissions, "a term of the sum is missing: -y @ h'" beside the answer is the reference;
# by default the output names the mistake without the piece (--no-withhold-terms, or a rubric's
# withhold_terms = false, shows it).
QUOTING = [  # (wrt, answer, the piece of the reference its hint quotes, the kind of mistake)
    ("U", r"\hat{y} h^T", "-y @ h'", "term"),
    ("b2", "yhat + y", "-y", "sign"),
    ("W", "(U' @ (yhat - y)) @ x'", "step(z)", "mask"),
]


def test_gradescope_output_withholds_the_pieces_of_the_reference_a_hint_quotes(tmp_path,
                                                                              capsys):
    for name in ("mlp_two_layer.mc", "cs224n_one_layer.mc", "cs224n_one_layer.rubric.toml"):
        (tmp_path / name).write_text((ROOT / "derivations" / name).read_text())
    rows = [["cs224n_one_layer.mc", wrt, answer] for wrt, answer, _, _ in QUOTING]
    rows.append(["mlp_two_layer.mc", "W1", r"(W_2^T(\hat y - y)) x^T"])  # 1 - h .^ 2 missing
    pieces = [piece for _, _, piece, _ in QUOTING] + ["1 - h .^ 2"]
    answers = tmp_path / "answers.csv"
    with answers.open("w", newline="") as handle:
        csv.writer(handle).writerows([["problem", "wrt", "answer"], *rows])
    out = tmp_path / "results.json"
    assert main(["verify", "--batch", str(answers), "--gradescope", str(out), "--jobs", "1"]) == 1
    tests = json.loads(out.read_text())["tests"]
    for test, piece, kind in zip(tests, pieces, [k for *_, k in QUOTING] + ["mask"],
                                 strict=True):
        assert piece not in test["output"].splitlines()[0]  # (the feedback is the staff's)
        assert test["extra_data"]["mistake"] == kind  # classed on the whole hint
    assert tests[0]["output"].startswith("wrong: a term of the sum is missing\n")
    assert tests[2]["output"].startswith("wrong: the relu mask is missing (relu' = step)")
    assert [t["score"] for t in tests] == [4.0, 7.0, 5.0, 0.0]
    # the instructor's choice: the command line for every problem, a rubric for its own
    graded = grade(select(read_answers(answers, one_student=True), None)[0], jobs=1)
    shown = results(graded, folder=tmp_path, withhold=False)["tests"]
    assert all(piece in test["output"].splitlines()[0]
               for test, piece in zip(shown, pieces, strict=True))
    rubric = tmp_path / "cs224n_one_layer.rubric.toml"
    rubric.write_text("withhold_terms = false\n" + rubric.read_text())
    by_rubric = results(graded, folder=tmp_path)["tests"]
    assert [piece in test["output"].splitlines()[0]
            for test, piece in zip(by_rubric, pieces, strict=True)] == \
        [True, True, True, False]
    assert main(["verify", "--batch", str(answers), "--no-withhold-terms"]) == 2
    assert "--gradescope" in capsys.readouterr().err


@pytest.mark.parametrize("hint, withheld", [
    ("a term of the sum is missing: -2 * A' @ b", "a term of the sum is missing"),
    ("the sign of one term is flipped: -y", "the sign of one term is flipped"),
    ("a factor of an elementwise product is missing: 1 - h .^ 2",
     "a factor of an elementwise product is missing"),
    ("the relu mask step(z1) is missing (relu' = step)", "the relu mask is missing (relu' = step)"),
    # the answer's own term tells nothing of the reference: kept
    ("the sign of one term is flipped: b in your answer",
     "the sign of one term is flipped: b in your answer"),
    ("your answer is 0.5 times the gradient: a constant factor is off",
     "your answer is 0.5 times the gradient: a constant factor is off"),
])
def test_withholding_cuts_only_the_pieces_of_the_reference(hint, withheld):
    from matcalc.grading.withholding import withhold_terms

    assert withhold_terms(hint) == withheld
    assert withhold_terms(f"wrong: {hint}\nfeedback: x") == f"wrong: {withheld}\nfeedback: x"


def test_a_request_naming_the_default_of_is_the_assignments_problem(tmp_path):
    # "of J" is what the assignment's "cs224n_one_layer.mc, U" asks (J is the last definition):
    # the answer was "not a problem of this assignment" and the problem scored 0
    answers = _folder(tmp_path, [[*ROWS[0], "J"]], header=("problem", "wrt", "answer", "of"))
    out = tmp_path / "results.json"
    main(["verify", "--batch", str(answers), "--gradescope", str(out), "--assignment",
          str(tmp_path / "assignment.csv"), "--jobs", "1"])
    data = json.loads(out.read_text())
    assert data["tests"][0]["status"] == "passed" and data["score"] == 10.0
    assert "not a problem" not in data["output"]

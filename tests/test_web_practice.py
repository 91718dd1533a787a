"""Practice mode (``matcalc serve --practice FOLDER``): its problems are checked, never answered.

Every endpoint's every answer is searched for each question's reference (its text, its result,
its LaTeX and the LaTeX's right-hand side); the reference comes only after the rubric's number
of attempts in one browser, and never for a problem without that rubric."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

pytest.importorskip("starlette", reason="matcalc serve needs starlette (a dependency)")
pytest.importorskip("httpx", reason="the test client needs httpx (a dev dependency)")

from starlette.testclient import TestClient  # noqa: E402

from matcalc.errors import ParseError  # noqa: E402
from matcalc.web.app import create_app  # noqa: E402
from matcalc.web.practice import load_problems, without_comments  # noqa: E402

GALLERY = pathlib.Path(__file__).resolve().parent.parent / "derivations"
LEAST_SQUARES_DERIVATION = "dL = 2 (A x - b) : A dx\n= 2 A' (A x - b) : dx"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> pathlib.Path:
    """Gallery problems whose comments give the answer away, one with a rubric that shows the
    reference after two attempts."""
    folder = tmp_path_factory.mktemp("practice")
    for name in ("least_squares", "cookbook_inverse", "cs224n_one_layer"):
        shutil.copy(GALLERY / f"{name}.mc", folder)
    rubric = (GALLERY / "cs224n_one_layer.rubric.toml").read_text()
    (folder / "cs224n_one_layer.rubric.toml").write_text(rubric + "\n[practice]\n"
                                                         "reveal_after = 2\n")
    (folder / "least_squares.rubric.toml").write_text("points = 4\n[partial]\nfactor = 2\n"
                                                      "[feedback]\nfactor = 'Count the 2s.'\n")
    return folder


def references(folder: pathlib.Path) -> dict[str, list[str]]:
    """Each problem's reference texts: what must never be sent before it may be."""
    from matcalc import derive

    found: dict[str, list[str]] = {}
    for name, problem in load_problems(folder).items():
        texts = found.setdefault(name, [])
        for of, wrt, kind in problem.questions:
            result = derive(problem.source, wrt=wrt, of=of, kind=kind, check=False)
            right_side = result.latex.split("&=")[-1].replace("\\end{aligned}", "").strip()
            texts += [result.text, str(result.result), result.latex, right_side,
                      json.dumps(result.latex)[1:-1], json.dumps(right_side)[1:-1]]
            texts += [str(body) for body in result.where.values()]
    return found


def leaks(answer, refs: dict[str, list[str]]) -> list[str]:
    """The references found in an answer (its headers and its body, less the student's own
    answer as read back)."""
    text = answer.text
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key not in ("read_as",
                                                                          "read_as_latex")}
        text = json.dumps(body) + json.dumps(body, ensure_ascii=False)
    text += json.dumps(dict(answer.headers))
    return [ref for texts in refs.values() for ref in texts if ref and ref in text]


@pytest.fixture(scope="module")
def practice(folder):
    with TestClient(create_app(jobs=1, seconds=30, practice=folder),
                    base_url="http://localhost") as client:
        yield client


def test_the_problems_are_listed_without_their_comments(practice, folder):
    problems = {problem["name"]: problem for problem in
                practice.get("/api/problems").json()["problems"]}
    assert set(problems) == {"least_squares", "cookbook_inverse", "cs224n_one_layer"}
    assert "#" not in problems["least_squares"]["source"]
    assert "textbook" not in json.dumps(problems)
    assert [(q["kind"], q["wrt"]) for q in problems["least_squares"]["questions"]] == \
        [("grad", "x"), ("hessian", "x")]
    assert problems["cs224n_one_layer"]["reveal_after"] == 2
    assert problems["cookbook_inverse"]["title"] == "cookbook inverse"


def test_practice_mode_never_returns_the_reference(practice, folder):
    refs = references(folder)
    fresh = TestClient(practice.app, base_url="http://localhost")  # its own browser
    answers = [fresh.get("/"), fresh.get("/api/problems"), fresh.get("/static/practice.js"),
               fresh.get("/static/common.js"), fresh.get("/api/examples")]
    source = (folder / "least_squares.mc").read_text()
    for endpoint in ("derive", "verify", "derivation"):  # the workbench's: not served
        refused = fresh.post(f"/api/{endpoint}", json={"problem": source, "wrt": "x",
                                                       "answer": "x", "derivation": "dL = 0"})
        assert refused.status_code == 404
        answers.append(refused)
    checks = [
        ("least_squares", "verify", {"wrt": "x", "kind": "grad", "answer": "A' @ (A @ x - b)"}),
        ("least_squares", "verify", {"wrt": "x", "kind": "grad", "answer": "2 A^T (A x - b)"}),
        ("least_squares", "verify", {"wrt": "x", "kind": "hessian", "answer": "A' @ A"}),
        ("least_squares", "verify", {"wrt": "x", "kind": "grad", "answer": "A' @ (A @ x +"}),
        ("least_squares", "verify", {"wrt": "x", "answer": "x"}),  # which question: an error
        ("least_squares", "derivation", {"wrt": "x", "kind": "grad",
                                         "derivation": LEAST_SQUARES_DERIVATION}),
        ("least_squares", "derivation", {"wrt": "x", "kind": "grad",
                                         "derivation": "dL = 2 (A x - b) : dx"}),
        ("least_squares", "derivation", {"wrt": "x", "kind": "grad",  # stops short of it
                                         "derivation": "dL = 2 (A x - b) : A dx"}),
        ("cookbook_inverse", "verify", {"answer": "-inv(X) @ a @ b' @ inv(X)"}),
        ("cookbook_inverse", "verify", {"answer": "-inv(X)' @ a @ b' @ inv(X)'"}),
        ("cs224n_one_layer", "verify", {"wrt": "W", "answer": "(U' @ (yhat - y)) @ x'"}),
        ("nothing", "verify", {"answer": "x"}),
    ]
    for name, endpoint, fields in checks:
        answers.append(fresh.post(f"/api/problems/{name}/{endpoint}", json=fields))
    assert [answer.status_code for answer in answers[-len(checks):]] == \
        [200, 200, 200, 400, 400, 200, 200, 200, 200, 200, 200, 404]
    for answer in answers:
        assert leaks(answer, refs) == [], (answer.request.url, answer.text[:300])
    # and the verdicts are there: the hint, the rubric's feedback, a counterexample
    wrong = answers[-len(checks)].json()
    assert not wrong["ok"] and "0.5 times" in wrong["hint"]
    assert wrong["feedback"] == "Count the 2s." and (wrong["points"], wrong["max_points"]) == \
        (2, 4)
    assert wrong["counterexample"]["got"] is not None
    assert answers[-len(checks) + 1].json()["ok"]
    assert "incomplete" in answers[-len(checks) + 7].json()["summary"]
    assert answers[-len(checks) + 8].json()["ok"] is False
    assert answers[-len(checks) + 9].json()["ok"] is True


def test_the_rubric_can_show_the_reference_after_a_number_of_attempts(practice, folder):
    refs = references(folder)
    browser = TestClient(practice.app, base_url="http://localhost")
    url = "/api/problems/cs224n_one_layer/verify"
    assert browser.post(url, json={"wrt": "W", "answer": "(U' @"}).status_code == 400
    first = browser.post(url, json={"wrt": "W", "answer": "(U' @ (yhat - y)) @ x'"})
    assert first.json()["attempts"] == 1 and "reference" not in first.json()  # errors don't count
    assert leaks(first, refs) == []
    second = browser.post(url, json={"wrt": "W", "answer": "(U' @ (yhat - y)) @ x'"}).json()
    assert second["attempts"] == 2 and second["reveal_after"] == 2
    assert second["reference"] == "dJ_dW = ((U' @ (yhat - y)) * step(z)) @ x'"
    assert "\\partial J" in second["reference_latex"]
    # another browser (no cookie, or another one) starts again from 0
    other = TestClient(practice.app, base_url="http://localhost")
    again = other.post(url, json={"wrt": "W", "answer": "(U' @ (yhat - y)) @ x'"})
    assert again.json()["attempts"] == 1 and leaks(again, refs) == []
    # a problem whose rubric says nothing of it never shows its reference
    for _ in range(3):
        never = browser.post("/api/problems/least_squares/verify",
                             json={"wrt": "x", "kind": "grad", "answer": "x"})
        assert "reference" not in never.json() and leaks(never, refs) == []


def test_the_browser_is_told_its_id_once_in_an_http_only_cookie(practice):
    browser = TestClient(practice.app, base_url="http://localhost")
    page = browser.get("/")
    assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=Strict" in \
        page.headers["set-cookie"]
    assert "set-cookie" not in browser.get("/api/problems").headers


@pytest.mark.parametrize("files, message", [
    ({}, "has no .mc problem"),
    ({"p.mc": "x : vector(n)\nf = x' @ x\n"}, "asks for something"),
    ({"p.mc": "x : vector(n)\nf = x' @@ x\ngrad f wrt x\n"}, "p.mc"),
    ({"p.mc": "x : vector(n)\nf = x' @ x\ngrad f wrt x\n",
      "p.rubric.toml": "[practice]\nreveal_after = 0\n"}, "reveal_after"),
    ({"p.mc": "x : vector(n)\nf = x' @ x\ngrad f wrt x\n",
      "p.rubric.toml": "[practice]\nshow = true\n"}, "reveal_after"),
])
def test_a_folder_that_cannot_be_served_is_refused_at_start(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ParseError, match=message):
        load_problems(tmp_path)


def test_serve_refuses_a_practice_folder_that_is_not_there(capsys, tmp_path):
    from matcalc.cli.main import main

    assert main(["serve", "--practice", str(tmp_path / "missing"), "--port", "1"]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_comments_are_removed_and_a_title_line_is_kept():
    text = "# title: Least squares\n# textbook: 2 A'(Ax - b)\nx : vector(n)  # a vector\n" \
           "f = x' @ x\ngrad f wrt x\n"
    assert without_comments(text) == "x : vector(n)\nf = x' @ x\ngrad f wrt x\n"
    from matcalc.web.practice import practice_title

    assert practice_title(text, "p") == "Least squares"


@pytest.mark.parametrize(("answer", "withheld"), [
    ("2 * A' @ A @ x", "A' @ b"),                  # a term missing: the hint would name it
    ("-2 * A' @ b", "A' @ (A @ x)"),
    ("2 * A' @ (A @ x + b)", "-2 * A' @ b"),       # one sign flipped: the hint would name it
])
def test_a_hint_never_names_a_term_of_the_reference(practice, answer, withheld):
    browser = TestClient(practice.app, base_url="http://localhost")
    checked = browser.post("/api/problems/least_squares/verify",
                           json={"wrt": "x", "kind": "grad", "answer": answer})
    shown = checked.json()
    assert shown["ok"] is False and "reference" not in shown
    assert withheld not in shown["hint"] and withheld not in shown["verdict"]
    assert "which is shown with the reference" in shown["hint"]
    assert shown["mistake"] in ("term", "sign")  # the rubric still classes the mistake
    written = answer.replace("*", "").replace("@", "").replace("  ", " ")
    derivation = browser.post("/api/problems/least_squares/derivation",
                              json={"wrt": "x", "kind": "grad",
                                    "derivation": f"\\nabla_x L = {written}"})
    assert withheld not in derivation.text and "shown with the reference" in derivation.text


def test_a_withheld_term_comes_back_with_the_reference(practice):
    browser = TestClient(practice.app, base_url="http://localhost")
    url = "/api/problems/cs224n_one_layer/verify"  # its rubric shows the reference at 2
    first, second = (browser.post(url, json={"wrt": "b2", "answer": "yhat + y"}).json()
                     for _ in range(2))
    assert "reference" not in first and first["hint"] == ("the sign of one term is flipped "
                                                          "(which is shown with the reference)")
    assert second["reference"] == "dJ_db2 = yhat - y"
    assert second["hint"] == "the sign of one term is flipped: -y"
    assert second["verdict"] == "wrong: the sign of one term is flipped: -y"


@pytest.mark.parametrize(("make", "message"), [
    (lambda path: path.write_bytes(b"\xff\xfe x : scalar\n"), "not UTF-8 text"),
    (lambda path: path.mkdir(), "not a regular file"),
    (lambda path: path.write_text("# " + "x" * 2_000_000 + "\n"), "bytes, more than"),
])
def test_a_problem_file_that_cannot_be_read_is_refused_naming_it(tmp_path, make, message):
    from matcalc.errors import MatcalcError

    make(tmp_path / "p.mc")
    with pytest.raises(MatcalcError, match=message) as refused:
        load_problems(tmp_path)
    assert "p.mc" in str(refused.value)


def _practice_check(tmp_path: pathlib.Path, rubric: str, endpoint: str, body: dict) -> dict:
    """One practice request answered as a worker answers it (no server)."""
    from matcalc.web.tasks import handle

    shutil.copy(GALLERY / "cs224n_one_layer.mc", tmp_path)
    (tmp_path / "cs224n_one_layer.rubric.toml").write_text(rubric)
    problem = load_problems(tmp_path)["cs224n_one_layer"]
    return handle((endpoint, json.dumps(body).encode(), 30.0, problem.worker_view()))


def test_a_practice_rubric_decides_withholding_and_deltas(tmp_path):
    body = {"wrt": "W", "answer": "(U' @ (yhat - y)) @ x'"}
    withheld = _practice_check(tmp_path, "points = 2\n", "practice-verify", body)
    assert withheld["answer"]["hint"] == ("the relu mask (which is shown with the reference) "
                                          "is missing (relu' = step)")
    assert "step(z)" in withheld["reference"]["hint"]  # for when the reference may be shown
    shown = _practice_check(tmp_path, "withhold_terms = false\n", "practice-verify", body)
    assert shown["answer"]["hint"] == "the relu mask step(z) is missing (relu' = step)"
    deltas = {"wrt": "x", "answer": "W' @ delta2"}
    refused = _practice_check(tmp_path, "points = 2\n", "practice-verify", deltas)
    assert "allow-deltas" in refused["error"]["message"]
    allowed = _practice_check(tmp_path, "allow_deltas = true\n", "practice-verify", deltas)
    assert allowed["answer"]["ok"] is True

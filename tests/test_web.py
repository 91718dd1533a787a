"""The workbench's server: its JSON API through Starlette's test client, its limits and headers,
and requests that must not stall the others."""

from __future__ import annotations

import asyncio
import pathlib
import time

import pytest

pytest.importorskip("starlette", reason="matcalc serve needs starlette (a dependency)")
httpx = pytest.importorskip("httpx", reason="the test client needs httpx (a dev dependency)")

from starlette.testclient import TestClient  # noqa: E402

from matcalc.web.app import MAX_BODY_BYTES, create_app  # noqa: E402
from matcalc.web.pool import Pool, RequestFailed  # noqa: E402

LEAST_SQUARES = "A : matrix(m, n); x : vector(n); b : vector(m)\nL = sum((A @ x - b) .^ 2)\n" \
                "grad L wrt x"
CS224N = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(jobs=2, seconds=20)) as test_client:
        yield test_client


def test_derive_answers_in_the_json_schema_of_the_command_line(client):
    answer = client.post("/api/derive", json={"problem": LEAST_SQUARES, "steps": True,
                                              "code": ["numpy"]})
    assert answer.status_code == 200
    entry = answer.json()["results"][0]
    assert entry["text"] == "dL_dx = 2 * A' @ (A @ x - b)"
    assert entry["quick_check"]["ok"] and entry["steps"]
    assert "\\frac{\\partial L}{\\partial x} &= 2" in entry["latex"]
    assert "def " in answer.json()["code"]["numpy"]


def test_derive_gives_every_request_of_the_cs224n_problem(client):
    results = client.post("/api/derive", json={"problem": CS224N}).json()["results"]
    assert {entry["wrt"] for entry in results} == {"U", "b2", "W", "b1", "x"}
    assert all(entry["quick_check"]["ok"] for entry in results)


def test_a_thorough_check_can_be_asked_for(client):
    entry = client.post("/api/derive", json={"problem": LEAST_SQUARES,
                                             "check": True}).json()["results"][0]
    assert entry["check"]["ok"] and "quick_check" not in entry


def test_an_error_comes_back_with_its_place(client):
    answer = client.post("/api/derive", json={"problem": "x : vector(n)\nf = sum(x +* x)"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "ParseError" and (error["line"], error["column"]) == (2, 12)


def test_unknown_names_and_shapes_are_errors_at_their_place(client):
    error = client.post("/api/derive", json={"problem": "x : vector(n)\nf = sum(y)"}) \
        .json()["error"]
    assert "y" in error["message"] and error["line"] == 2
    error = client.post("/api/derive", json={
        "problem": "A : matrix(m, n); x : vector(m)\nf = sum(A @ x)"}).json()["error"]
    assert error["type"] == "ShapeError" and error["line"] == 2


def test_verify_says_what_is_wrong(client):
    wrong = client.post("/api/verify", json={"problem": LEAST_SQUARES, "wrt": "x",
                                             "answer": "A' @ (A @ x - b)"}).json()
    assert not wrong["ok"] and "0.5 times the gradient" in wrong["hint"]
    assert wrong["expected"] == "dL_dx = 2 * A' @ (A @ x - b)"
    right = client.post("/api/verify", json={"problem": LEAST_SQUARES, "wrt": "x",
                                             "answer": "2 A^\\top (A x - b)"}).json()
    assert right["ok"] and right["read_as"] == "(2 * A') @ (A @ x - b)"


def test_the_derivation_check_finds_seed_000s_false_step(client):
    # 1568 pixels made small: the step is false for any batch of more than one row
    problem = pathlib.Path("derivations/mathse_batch_softmax.mc").read_text()
    answer = client.post("/api/derivation", json={
        "problem": problem.replace("1568", "7"),
        "derivation": pathlib.Path("derivations/steps/mathse_batch_softmax.tex").read_text(),
    }).json()
    assert not answer["ok"] and answer["first_error_line"] == 9
    assert [step["line"] for step in answer["steps"] if not step["ok"]][0] == 9


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400), (b"[1, 2]", 400), (b"x" * (MAX_BODY_BYTES + 1), 413),
])
def test_bad_bodies_are_refused(client, body, status):
    answer = client.post("/api/derive", content=body,
                         headers={"content-type": "application/json"})
    assert answer.status_code == status and answer.json()["error"]["message"]


def test_a_missing_field_is_named(client):
    error = client.post("/api/verify", json={"problem": LEAST_SQUARES, "wrt": "x"}) \
        .json()["error"]
    assert "'answer'" in error["message"]


@pytest.mark.parametrize("problem", [
    "A : matrix(n, n)\nf = tr(A^1000000)",
    "x : vector(n)\nf = sum(" + "(" * 10_000 + "x" + ")" * 10_000 + ")",
    "x : vector(n)\nf = sum(" + "-" * 6000 + "x)",
])
def test_hostile_problems_get_an_error(client, problem):
    answer = client.post("/api/derive", json={"problem": problem})
    assert answer.status_code in (400, 504) and answer.json()["error"]["message"]


def test_every_answer_carries_the_security_headers(client):
    for answer in (client.get("/"), client.post("/api/derive", json={"problem": "x'@x"}),
                   client.get("/static/app.js"), client.get("/katex/katex.min.js")):
        assert answer.status_code == 200
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-eval" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_page_uses_only_its_own_files(client):
    page = client.get("/").text
    assert "http://" not in page and "https://" not in page and "<script>" not in page
    assert "/katex/katex.min.js" in page and "katex" in client.get("/static/app.js").text


def test_the_gallery_is_offered(client):
    examples = client.get("/api/examples").json()["examples"]
    assert any(example["name"] == "cs224n_one_layer" for example in examples)


def test_fifty_concurrent_requests_are_all_answered_while_a_hostile_one_runs():
    app = create_app(jobs=2, seconds=3)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as session:
            hostile = asyncio.ensure_future(session.post("/api/derive", json={
                "problem": "x : vector(n)\nf = sum(" + "-" * 6000 + "x)"}))
            started = time.monotonic()
            answers = await asyncio.gather(*[
                session.post("/api/derive", json={"problem": f"x : vector(n)\nf = {k} * x' @ x"})
                for k in range(1, 51)])
            elapsed = time.monotonic() - started
            return answers, await hostile, elapsed

    try:
        answers, hostile, elapsed = asyncio.run(scenario())
    finally:
        app.state.pool.close()  # no lifespan runs without a server
    assert all(answer.status_code == 200 for answer in answers)
    assert [answer.json()["results"][0]["text"] for answer in answers][1] == \
        "df_dx = 4 * x"
    assert hostile.status_code in (400, 504)
    assert elapsed < 60


def test_a_request_past_its_time_is_stopped_and_its_worker_replaced():
    pool = Pool(time.sleep, jobs=1)

    async def scenario():
        with pytest.raises(RequestFailed, match="stopped after 0.2 s") as failure:
            await pool.run(60, 0.2)
        assert failure.value.timed_out
        return await pool.run(0.01, 5)

    started = time.monotonic()
    try:
        assert asyncio.run(scenario()) is None
    finally:
        pool.close()
    assert time.monotonic() - started < 15


def test_serve_refuses_a_port_that_is_not_one(capsys):
    from matcalc.cli import main

    assert main(["serve", "--port", "99999"]) == 2
    assert "--port 99999 is not a port" in capsys.readouterr().err


def test_a_cancelled_request_never_answers_the_next_one():
    # a client that goes away cancels its request while the worker computes: that worker is
    # replaced, so its late answer cannot be taken for the next request's
    pool = Pool(sum, jobs=1)

    async def scenario():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pool.run(range(10**9), 30), 0.3)
        return await pool.run(range(5), 5)

    try:
        assert asyncio.run(scenario()) == 10
    finally:
        pool.close()

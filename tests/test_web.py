"""The workbench's server: its JSON API through Starlette's test client, its limits and headers,
and requests that must not stall the others."""

from __future__ import annotations

import asyncio
import json
import pathlib
import time

import pytest

pytest.importorskip("starlette", reason="matcalc serve needs starlette (a dependency)")
httpx = pytest.importorskip("httpx", reason="the test client needs httpx (a dev dependency)")

from starlette.testclient import TestClient  # noqa: E402

from matcalc.web.app import create_app  # noqa: E402
from matcalc.web.compute import MAX_BODY_BYTES  # noqa: E402
from matcalc.web.pool import Pool, RequestFailed  # noqa: E402

LEAST_SQUARES = "A : matrix(m, n); x : vector(n); b : vector(m)\nL = sum((A @ x - b) .^ 2)\n" \
                "grad L wrt x"
CS224N = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()


def answer_text(answer: dict) -> str:
    import json

    return json.dumps(answer)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(jobs=2, seconds=20), base_url="http://localhost") as test_client:
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
    # the verdict never carries the expected answer (a class practises on the verdict)
    assert "expected" not in wrong and "2 * A' @ (A @ x - b)" not in answer_text(wrong)
    right = client.post("/api/verify", json={"problem": LEAST_SQUARES, "wrt": "x",
                                             "answer": "2 A^\\top (A x - b)"}).json()
    assert right["ok"] and right["read_as"] == "2 * A' @ (A @ x - b)"


def test_the_derivation_check_finds_seed_000s_false_step(client):
    # 1568 pixels made small: the step is false for any batch of more than one row
    problem = pathlib.Path("derivations/mathse_batch_softmax.mc").read_text()
    answer = client.post("/api/derivation", json={
        "problem": problem.replace("1568", "7"),
        "derivation": pathlib.Path("derivations/steps/mathse_batch_softmax.tex").read_text(),
    }).json()
    assert not answer["ok"] and answer["first_error_line"] == 9
    assert [step["line"] for step in answer["steps"] if step["ok"] is False][0] == 9
    assert answer["status"] == "false" and "line 9" in answer["summary"]


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
    assert "/katex/katex.min.js" in page and "katex" in client.get("/static/common.js").text


def test_the_gallery_is_offered(client):
    examples = client.get("/api/examples").json()["examples"]
    assert any(example["name"] == "cs224n_one_layer" for example in examples)


def test_fifty_concurrent_requests_are_all_answered_while_a_hostile_one_runs():
    app = create_app(jobs=2, seconds=3, queue=60)  # all wait their turn

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as session:
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
    from matcalc.cli.main import main

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


# -- which requests are served at all -------------------------------------------------------------

@pytest.fixture(scope="module")
def class_client():
    """A server told to serve the name a class uses (--allow-host class.example)."""
    with TestClient(create_app(jobs=1, seconds=20, hosts=["0.0.0.0", "class.example"]),
                    base_url="http://localhost") as test_client:
        yield test_client


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000",
                                  "localhost.attacker.example", "127.0.0.1.nip.io",
                                  "classXexample", "0.0.0.0", "",
                                  "[::1]attacker.example", "[::1]:80x", "[::1"])
def test_a_host_it_does_not_serve_gets_421(class_client, host):
    # DNS rebinding: a page whose name now points at 127.0.0.1 sends its own name
    for method, path in (("GET", "/"), ("GET", "/api/examples"), ("POST", "/api/derive")):
        answer = class_client.request(method, path, headers={"host": host},
                                      json={"problem": "x : vector(n)\nf = x' @ x"})
        assert answer.status_code == 421, (method, path)
        assert "does not serve the host" in answer.json()["error"]["message"]


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000",
                                  "LOCALHOST", "class.example", "class.example:8000"])
def test_the_hosts_it_serves_are_answered(class_client, host):
    assert class_client.get("/api/examples", headers={"host": host}).status_code == 200


def test_the_address_a_connection_arrived_at_is_served_but_no_other():
    from matcalc.web.guard import RequestGuard

    guard = RequestGuard(None, hosts=["0.0.0.0"])

    def scope(host: str) -> dict:
        return {"type": "http", "method": "GET", "server": ("192.168.1.5", 8000),
                "headers": [(b"host", host.encode())]}

    assert guard.refusal(scope("192.168.1.5:8000")) is None
    assert guard.refusal(scope("192.168.1.6:8000"))[0] == 421
    assert guard.refusal(scope("lab-machine:8000"))[0] == 421  # a name must be allowed


@pytest.mark.parametrize("content_type", [
    "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", None, "application/jsonp"])
def test_a_computing_request_that_is_not_declared_json_gets_415(client, content_type):
    # a page on any site may send these cross-site without a preflight
    headers = {"content-type": content_type} if content_type else {}
    for endpoint in ("derive", "verify", "derivation"):
        answer = client.post(f"/api/{endpoint}", headers=headers,
                             content=b'{"problem": "x : vector(n)\\nf = x\' @ x"}')
        assert answer.status_code == 415 and "application/json" in \
            answer.json()["error"]["message"]


def test_json_with_a_charset_is_json(client):
    answer = client.post("/api/derive", headers={"content-type": "application/json; "
                                                 "charset=utf-8"},
                         content=b'{"problem": "x : vector(n)\\nf = x\' @ x"}')
    assert answer.status_code == 200


@pytest.mark.parametrize("origin", ["http://attacker.example", "null", "http://localhost:3000",
                                    "https://localhost.attacker.example", "file://",
                                    "http://[::1", "http://["])
def test_a_foreign_origin_is_refused(client, origin):
    for method, path in (("POST", "/api/derive"), ("GET", "/api/examples")):
        answer = client.request(method, path, headers={"origin": origin, "host": "localhost:8000"},
                                json={"problem": "x : vector(n)\nf = x' @ x"})
        assert answer.status_code == 403 and "refused" in answer.json()["error"]["message"]
        assert answer.headers["x-frame-options"] == "DENY"  # refusals carry the headers too


def test_the_pages_own_origin_is_served(client):
    answer = client.post("/api/derive", headers={"origin": "http://localhost:8000",
                                                 "host": "localhost:8000"},
                         json={"problem": "x : vector(n)\nf = x' @ x"})
    assert answer.status_code == 200


# -- every bad field is a 400 naming it -----------------------------------------------------------

@pytest.mark.parametrize("endpoint, fields, field", [
    ("derive", {"problem": LEAST_SQUARES, "code": [["numpy"]]}, "code"),
    ("derive", {"problem": LEAST_SQUARES, "code": "numpy"}, "code"),
    ("derive", {"problem": LEAST_SQUARES, "code": ["fortran"]}, "code"),
    ("derive", {"problem": 5}, "problem"),
    ("derive", {"problem": ["x"]}, "problem"),
    ("derive", {}, "problem"),
    ("derive", {"problem": LEAST_SQUARES, "wrt": 3}, "wrt"),
    ("derive", {"problem": LEAST_SQUARES, "wrt": "y"}, "wrt"),
    ("derive", {"problem": LEAST_SQUARES, "of": "M"}, "of"),
    ("derive", {"problem": LEAST_SQUARES, "of": {"a": 1}}, "of"),
    ("derive", {"problem": LEAST_SQUARES, "kind": "grads"}, "kind"),
    ("derive", {"problem": LEAST_SQUARES, "steps": "yes"}, "steps"),
    ("derive", {"problem": LEAST_SQUARES, "check": 1}, "check"),
    ("derive", {"problem": LEAST_SQUARES, "wtr": "x"}, "wtr"),
    ("verify", {"problem": LEAST_SQUARES, "wrt": "x", "answer": 2}, "answer"),
    ("verify", {"problem": LEAST_SQUARES, "wrt": ["x", "b"], "answer": "x"}, "wrt"),
    ("verify", {"problem": LEAST_SQUARES, "wrt": "x", "answer": "x", "latex": "no"}, "latex"),
    ("verify", {"problem": LEAST_SQUARES, "answer": "x"}, "wrt"),
    ("derivation", {"problem": LEAST_SQUARES, "derivation": None}, "derivation"),
    ("derivation", {"problem": LEAST_SQUARES, "derivation": "dL = 0", "layout": "foo"},
     "layout"),
])
def test_a_bad_field_is_a_400_naming_it(client, endpoint, fields, field):
    answer = client.post(f"/api/{endpoint}", json=fields)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == field and f"'{field}'" in error["message"]


@pytest.mark.parametrize("answer_text, place", [
    ("y : vector(n)\n2 * A' @ (A @ x - b)", (1, 1)),
    ("r = A @ x - b\nz : matrix(m, n)\n2 * A' @ r", (2, 1)),
    ("x : vector(n); 2 * A' @ (A @ x - b)", (1, 1)),
    ("grad L wrt x\n2 * A' @ (A @ x - b)", (1, 1)),
])
def test_an_answer_that_declares_something_is_a_400_at_its_place(client, answer_text, place):
    answer = client.post("/api/verify", json={"problem": LEAST_SQUARES, "wrt": "x",
                                              "answer": answer_text})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == "answer" and (error["line"], error["column"]) == place
    assert "cannot hold a" in error["message"]


@pytest.mark.parametrize("derivation", ["hence", "dL = 2 (A x - b) : A dx\nhence",
                                        "therefore"])
def test_a_derivation_line_that_is_a_lone_connective_is_skipped(client, derivation):
    # prose between steps (hence, therefore) is not a step: it is skipped, never an error
    answer = client.post("/api/derivation", json={"problem": LEAST_SQUARES,
                                                  "derivation": derivation})
    assert answer.status_code == 200
    assert [step["text"] for step in answer.json()["steps"]] == \
        (["dL = 2 (A x - b) : A dx"] if "dL" in derivation else [])


@pytest.mark.parametrize("derivation", ["where t", "where", "dL = 2 (A x - b) : A dx\nwhere"])
def test_a_derivation_line_that_is_a_lone_where_is_a_step_that_cannot_be_read(client,
                                                                              derivation):
    answer = client.post("/api/derivation", json={"problem": LEAST_SQUARES,
                                                  "derivation": derivation})
    assert answer.status_code == 200
    last = answer.json()["steps"][-1]
    assert not last["ok"] and "cannot read this line" in last["hint"]


def test_an_error_in_the_problem_names_the_problem_field(client):
    error = client.post("/api/verify", json={"problem": "x : vector(n)\nf = sum(x +* x)",
                                             "wrt": "x", "answer": "x"}).json()["error"]
    assert error["field"] == "problem" and error["line"] == 2
    error = client.post("/api/verify", json={"problem": LEAST_SQUARES, "wrt": "x",
                                             "answer": "2 * A' @ (A @ x - b"}).json()["error"]
    assert error["field"] == "answer" and error["line"] == 1


# -- work, queue and memory -----------------------------------------------------------------------

def test_past_the_queue_a_request_gets_429_with_retry_after():
    app = create_app(jobs=1, seconds=5, queue=1)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as session:
            slow = {"problem": "x : vector(n)\nf = sum(" + "-" * 6000 + "x)"}
            return await asyncio.gather(*[session.post("/api/derive", json=slow, timeout=60)
                                          for _ in range(6)])

    try:
        answers = asyncio.run(scenario())
    finally:
        app.state.pool.close()
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(refused) == 4  # one runs, one waits
    assert all(int(answer.headers["retry-after"]) >= 1 for answer in refused)
    assert app.state.pool.admitted == 0


def test_a_request_cancelled_while_it_waits_never_runs_and_one_running_is_killed():
    pool = Pool(time.sleep, jobs=1)

    async def scenario():
        running = asyncio.ensure_future(pool.run(30, 60))
        waiting = [asyncio.ensure_future(pool.run(30, 60)) for _ in range(5)]
        await asyncio.sleep(0.5)
        first = pool.workers[0]
        assert first.process.is_alive()
        for task in (running, *waiting):
            task.cancel()
        await asyncio.gather(running, *waiting, return_exceptions=True)
        assert pool.started == 1  # the waiting ones never reached a worker
        assert not first.process.is_alive()  # the running one's worker was killed
        started = time.monotonic()
        await pool.run(0.01, 5)
        return time.monotonic() - started

    try:
        assert asyncio.run(scenario()) < 5
    finally:
        pool.close()


def test_quick_requests_find_a_worker_however_many_slow_ones_wait(monkeypatch):
    from matcalc.web import pool as pools

    monkeypatch.setattr(pools, "SLOW_SECONDS", 0.15)
    pool = Pool(time.sleep, jobs=2)

    async def scenario():
        await pool.run(0.3, 5, "slow")  # learned: this kind is slow (0.16 s expected)
        await pool.run(0.01, 5, "quick")
        started = time.monotonic()
        slow = [asyncio.ensure_future(pool.run(0.3, 5, "slow")) for _ in range(4)]
        await asyncio.sleep(0.05)
        quick = await asyncio.gather(*[_timed(pool.run(0.01, 5, "quick")) for _ in range(3)])
        await asyncio.gather(*slow)
        return quick, time.monotonic() - started

    try:
        quick, elapsed = asyncio.run(scenario())
    finally:
        pool.close()
    # the slow ones run one at a time on one worker (4 x 0.3 s); the quick ones on the other
    assert max(quick) < 0.25 and elapsed >= 1.2


async def _timed(work) -> float:
    started = time.monotonic()
    await work
    return time.monotonic() - started


@pytest.mark.parametrize("option, value", [("--queue", "-1"), ("--max-connections", "0"),
                                           ("--server-memory-limit", "0"),
                                           ("--memory-limit", "-1"), ("--memory-limit", "0")])
def test_serve_refuses_a_limit_that_is_not_one(capsys, monkeypatch, option, value):
    import uvicorn

    from matcalc.cli import serve
    from matcalc.cli.main import main

    def served(*args, **kwargs):  # a worker limit of -1 MB used to mean no limit at all
        raise AssertionError(f"served with {option} {value}")

    monkeypatch.setattr(uvicorn, "run", served)
    monkeypatch.setattr(serve, "limit_server", lambda memory, connections: None)

    assert main(["serve", option, value]) == 2
    assert f"{option} {value} is not a positive number" in capsys.readouterr().err


@pytest.mark.parametrize(("endpoint", "field"), [
    ("derivation", "derivation"), ("verify", "answer"), ("verify", "wrt"), ("derive", "of"),
    ("derive", "problem"), ("derive", "\ud800")])
def test_text_that_is_not_unicode_is_a_400_naming_its_field(client, endpoint, field):
    # JSON may spell a lone surrogate ("\ud800"); an answer echoing it could not be encoded
    body = {"problem": "x : vector(n)\nf = x' @ x\ngrad f wrt x", "wrt": "x"}
    body |= {"verify": {"answer": "2 * x"}, "derivation": {"derivation": "df = 2 x' dx"}}.get(
        endpoint, {})
    body[field] = "x \ud800" if field != "problem" else body["problem"] + " # \ud800"
    answer = client.post(f"/api/{endpoint}", headers={"content-type": "application/json"},
                         content=json.dumps(body).encode())
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert "lone surrogate" in error["message"]
    assert error["field"] == (None if field == "\ud800" else field)


@pytest.mark.parametrize(("endpoint", "body"), [
    ("derivation", {"derivation": "where G = A + A'\ndf = x' (A + A') dx"}),
    ("verify", {"wrt": "x", "answer": "2 * x"})])
def test_the_guide_names_every_field_of_an_answer(client, endpoint, body):
    guide = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "guide.md").read_text()
    (row,) = [line for line in guide.splitlines() if line.startswith(f"| `/api/{endpoint}` |")]
    problem = "A : matrix(n, n)\nx : vector(n)\nf = x' @ A @ x\ngrad f wrt x"
    answer = client.post(f"/api/{endpoint}", json={"problem": problem, **body}).json()
    named = set(answer) | {key for step in answer.get("steps", []) for key in step}
    assert sorted(key for key in named if f"`{key}`" not in row) == []


def test_a_request_out_of_memory_is_a_limit_error_not_a_500(monkeypatch):
    from matcalc.web import tasks

    def hungry(fields, practice):
        raise MemoryError

    monkeypatch.setitem(tasks.ENDPOINTS, "derive", hungry)
    answer = tasks.handle(("derive", b'{"problem": "x : scalar"}', 5.0, None))
    assert answer["error"]["type"] == "LimitError" and "--memory-limit" in \
        answer["error"]["message"]


def test_a_gallery_file_that_cannot_be_read_is_left_out_of_the_examples(tmp_path):
    (tmp_path / "good.mc").write_text("# Good\nx : vector(n)\nf = x' @ x\ngrad f wrt x\n")
    (tmp_path / "latin1.mc").write_bytes(b"# caf\xe9\n")
    (tmp_path / "folder.mc").mkdir()
    with TestClient(create_app(jobs=1, gallery=tmp_path), base_url="http://localhost") as client:
        answer = client.get("/api/examples")
    assert answer.status_code == 200
    assert [example["name"] for example in answer.json()["examples"]] == ["good"]

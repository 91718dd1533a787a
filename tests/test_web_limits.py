"""The workbench's server over real sockets: requests whose clients go away, a flood of large
bodies, and half-sent headers (slowloris)."""

from __future__ import annotations

import asyncio
import pathlib
import socket
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("uvicorn", reason="matcalc serve needs uvicorn (a dependency)")
httpx = pytest.importorskip("httpx", reason="the test client needs httpx (a dev dependency)")

ROOT = pathlib.Path(__file__).resolve().parent.parent
# a derivation that runs until the time limit stops it
SLOW = {"problem": "W : matrix(n, n); x : vector(n)\nh1 = tanh(W @ x)\n" + "".join(
    f"h{k} = tanh(W @ h{k - 1})\n" for k in range(2, 300)) + "f = sum(h299)",
    "wrt": "W", "kind": "hessian"}
QUICK = {"problem": "x : vector(n)\nf = x' @ x"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    """``matcalc --time-limit 4 serve --jobs 1 --queue 12``: its URL and process."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "matcalc", "--time-limit", "4", "serve",
                                "--port", str(port), "--jobs", "1", "--queue", "12"],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None and url in process.stdout.readline()
        for _ in range(100):
            try:
                httpx.post(f"{url}/api/derive", json=QUICK, timeout=30)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def resident_mb(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_abandoned_requests_are_cancelled_and_do_not_delay_the_next(served):
    url, _ = served

    async def scenario() -> float:
        async with httpx.AsyncClient(base_url=url) as session:
            async def abandoned():
                with pytest.raises(httpx.TimeoutException):
                    await session.post("/api/derive", json=SLOW, timeout=0.3)

            await asyncio.gather(*[abandoned() for _ in range(10)])
            started = time.monotonic()
            answer = await session.post("/api/derive", json=QUICK, timeout=60)
            assert answer.status_code == 200
            return time.monotonic() - started

    # run, each of the ten would hold the one worker 4 s; cancelled, the next waits for none
    assert asyncio.run(scenario()) < 3


@pytest.mark.skipif(not pathlib.Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_flood_of_large_bodies_is_refused_past_the_queue_and_memory_stays_small(served):
    url, process = served
    # 256 KB of JSON that is many small objects once parsed
    flood = b"[" + b"{}," * (250 * 1024 // 3) + b"{}]"
    before = resident_mb(process.pid)

    async def scenario() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=url, limits=limits) as session:
            slow = asyncio.ensure_future(session.post("/api/derive", json=SLOW, timeout=60))
            await asyncio.sleep(0.2)
            answers = await asyncio.gather(*[
                session.post("/api/derive", content=flood, timeout=60,
                             headers={"content-type": "application/json"})
                for _ in range(150)])
            await slow
            return answers

    answers = asyncio.run(scenario())
    statuses = {answer.status_code for answer in answers}
    assert statuses <= {400, 429}, statuses
    busy = [answer for answer in answers if answer.status_code == 429]
    assert len(busy) >= 150 - 13 and all(answer.headers["retry-after"].isdigit()
                                         for answer in busy)
    # 13 bodies admitted at most (3.3 MB), kept as bytes: parsed, 150 of them took 850 MB
    assert resident_mb(process.pid) - before < 20


@pytest.mark.skipif(not pathlib.Path("/proc/self/limits").exists(), reason="needs /proc")
def test_the_server_process_has_a_memory_limit(served):
    _, process = served
    limits = pathlib.Path(f"/proc/{process.pid}/limits").read_text()
    line = next(line for line in limits.splitlines() if line.startswith("Max address space"))
    assert line.split()[3] == str(2048 * 1024**2)


class _Server:
    """A uvicorn server in a thread, with the workbench's protocol under test limits."""

    def __init__(self, header_seconds: float, connections: int):
        import uvicorn

        from matcalc.web.app import create_app
        from matcalc.web.protocol import GuardedH11Protocol

        class Protocol(GuardedH11Protocol):
            pass

        Protocol.header_seconds = header_seconds
        self.port = free_port()
        self.app = create_app(jobs=1, seconds=5)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, http=Protocol,
                                limit_concurrency=connections, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.state.pool.close()


def test_half_sent_headers_are_dropped_and_new_clients_served():
    with _Server(header_seconds=1.0, connections=40) as served:
        sockets = []
        for _ in range(60):  # past the cap: the last are answered 503 and closed at once
            connection = socket.create_connection(("127.0.0.1", served.port))
            connection.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            sockets.append(connection)
        started = time.monotonic()
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{served.port}/api/examples", timeout=5)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 200:
                break
            assert time.monotonic() - started < 5, "a new client was never served"
            time.sleep(0.2)
        for connection in sockets:  # every slow connection was closed by the server
            connection.settimeout(5)
            data = b""
            try:
                while chunk := connection.recv(4096):
                    data += chunk
            except ConnectionResetError:  # closed with the request unread
                pass
            assert data == b"" or data.startswith(b"HTTP/1.1 503")
            connection.close()


def test_a_kept_alive_connection_must_send_its_next_headers_in_time_too():
    with _Server(header_seconds=1.0, connections=40) as served:
        connection = socket.create_connection(("127.0.0.1", served.port))
        connection.settimeout(5)
        connection.sendall(b"GET /api/examples HTTP/1.1\r\nHost: localhost\r\n\r\n")
        first = connection.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        time.sleep(0.2)
        connection.sendall(b"GET /api/examples HTTP/1.1\r\nHost: local")  # and stops
        started = time.monotonic()
        rest = b""
        while chunk := connection.recv(65536):
            rest += chunk
        assert time.monotonic() - started < 3  # closed by the header timeout
        connection.close()


def test_a_body_that_does_not_arrive_in_time_gets_408(monkeypatch):
    from matcalc.web import compute

    monkeypatch.setattr(compute, "BODY_SECONDS", 0.5)
    with _Server(header_seconds=5.0, connections=40) as served:
        connection = socket.create_connection(("127.0.0.1", served.port))
        connection.settimeout(5)
        connection.sendall(b"POST /api/derive HTTP/1.1\r\nHost: localhost\r\n"
                           b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = connection.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3
        connection.close()

"""Hostile and odd requests fired at the workbench over real sockets, each outcome recorded.

    python bench/adversary_web.py [--only WORD] [--verbose]

Starts ``matcalc --time-limit 4 serve --jobs 2`` on a free port and sends it requests with
foreign hosts and origins, odd methods and content types, path traversal, malformed, deep and
huge JSON bodies, slow and abandoned clients, concurrent requests, and the grader's hostile
answers and derivations.  A probe is a defect when the server answers 500, answers with a body
that is not the documented JSON error for an API call, takes past the time limit plus 3 s,
drops a connection it should answer, or gives a status other than the one expected.  The server
must still answer a quick request after every probe.  Exit 0 when no probe is a defect.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME_LIMIT = 4.0
QUICK = {"problem": "x : vector(n)\nf = x' @ x"}
LEAST = "A : matrix(m, n)\nx : vector(n)\nb : vector(m)\nL = norm2(A @ x - b) ^ 2\n"
# a Hessian that runs until the time limit stops it
SLOW = {"problem": "W : matrix(n, n); x : vector(n)\nh1 = tanh(W @ x)\n" + "".join(
    f"h{k} = tanh(W @ h{k - 1})\n" for k in range(2, 300)) + "f = sum(h299)",
    "wrt": "W", "kind": "hessian"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Reply:
    status: int | None
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> object:
        return json.loads(self.body)


def _raw(port: int, data: bytes, timeout: float = TIME_LIMIT + 8, pause: float = 0.0,
         chunks: int = 1) -> Reply:
    """Send ``data`` (in ``chunks`` pieces, ``pause`` s apart) and read the whole reply."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        size = max(1, len(data) // chunks)
        try:
            for at in range(0, len(data), size):
                sock.sendall(data[at:at + size])
                if pause:
                    time.sleep(pause)
        except OSError:
            pass
        received = b""
        try:
            while True:
                piece = sock.recv(65536)
                if not piece:
                    break
                received += piece
                if _complete(received):
                    break
        except (TimeoutError, OSError):
            pass
    seconds = time.monotonic() - start
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else None
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return Reply(status, headers, body, seconds)


def _complete(received: bytes) -> bool:
    head, sep, body = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def request(port: int, method: str = "POST", path: str = "/api/derive",
            body: bytes | object = QUICK,
            headers: dict[str, str] | None = None, **options) -> Reply:
    """An HTTP/1.1 request with the usual headers (overridden by ``headers``; None drops one)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    fields = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json",
              "Content-Length": str(len(data)), "Connection": "close"}
    for key, value in (headers or {}).items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return _raw(port, head.encode("latin-1") + b"\r\n" + data, **options)


@dataclass
class Probe:
    name: str
    send: Callable[[int], Reply]
    expect: tuple[int, ...]  # the statuses that are right


def _p(name: str, expect: int | tuple[int, ...], **kwargs) -> Probe:
    statuses = expect if isinstance(expect, tuple) else (expect,)
    return Probe(name, lambda port: request(port, **kwargs), statuses)


def probes() -> list[Probe]:
    """The requests (at least one for each thing the server promises)."""
    p: list[Probe] = [
        _p("quick derive", 200),
        _p("foreign host", 421, headers={"Host": "evil.example"}),
        _p("rebinding host with port", 421, headers={"Host": "evil.example:8000"}),
        _p("no host", (400, 421), headers={"Host": None}),
        _p("empty host", (400, 421), headers={"Host": ""}),
        _p("host with userinfo", (400, 421), headers={"Host": "localhost@evil.example"}),
        _p("host bracket garbage", (400, 421), headers={"Host": "[::1"}),
        _p("host of 8 KB", (400, 421, 431), headers={"Host": "a" * 8000}),
        _p("localhost host", 200, headers={"Host": "localhost"}),
        _p("foreign origin", 403, headers={"Origin": "http://evil.example"}),
        _p("null origin", 403, headers={"Origin": "null"}),
        _p("origin unclosed bracket", 403, headers={"Origin": "http://[::1"}),
        _p("origin other port", 403, headers={"Origin": "http://127.0.0.1:1"}),
        _p("origin file", 403, headers={"Origin": "file://"}),
        _p("text/plain", 415, headers={"Content-Type": "text/plain"}),
        _p("form", 415, headers={"Content-Type": "application/x-www-form-urlencoded"}),
        _p("no content type", 415, headers={"Content-Type": None}),
        _p("json with charset", 200, headers={"Content-Type": "application/json; charset=utf-8"}),
        _p("JSON upper case", 200, headers={"Content-Type": "APPLICATION/JSON"}),
        _p("GET on api", 405, method="GET", body=b""),
        _p("PUT on api", 405, method="PUT"),
        _p("DELETE on api", 405, method="DELETE"),
        _p("OPTIONS on api", (200, 204, 403, 405), method="OPTIONS", body=b"",
           headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}),
        _p("OPTIONS own", (200, 204, 405), method="OPTIONS", body=b""),
        _p("HEAD page", 200, method="HEAD", path="/", body=b""),
        _p("HEAD api", 405, method="HEAD", body=b""),
        _p("TRACE", 405, method="TRACE", body=b""),
        _p("unknown method", (400, 405, 501), method="BREW", body=b""),
        _p("GET page", 200, method="GET", path="/", body=b""),
        _p("GET examples", 200, method="GET", path="/api/examples", body=b""),
        _p("traversal static", (400, 404), method="GET", path="/static/../../../etc/passwd",
           body=b""),
        _p("traversal encoded", (400, 404), method="GET",
           path="/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", body=b""),
        _p("traversal double encoded", (400, 404), method="GET",
           path="/static/%252e%252e/etc/passwd", body=b""),
        _p("traversal katex", (400, 404), method="GET", path="/katex/..%2f..%2f..%2fweb%2fapp.py",
           body=b""),
        _p("traversal backslash", (400, 404), method="GET", path="/static/..\\..\\app.py",
           body=b""),
        _p("NUL in path", (400, 404), method="GET", path="/static/a%00.js", body=b""),
        _p("absolute URI", (200, 400, 404, 421), method="GET", path="http://evil.example/",
           body=b""),
        _p("asterisk path", (400, 404, 405), method="OPTIONS", path="*", body=b""),
        _p("long path", (400, 404, 414, 431), method="GET", path="/" + "a" * 20000, body=b""),
        _p("unknown api", 404, path="/api/eval"),
        _p("malformed json", 400, body=b"{\"problem\": "),
        _p("json array", 400, body=[1, 2]),
        _p("json string", 400, body="x"),
        _p("json null", 400, body=None),
        _p("json number", 400, body=1e308),
        _p("empty body", 400, body=b""),
        _p("NaN in json", 400, body=b'{"problem": NaN}'),
        _p("Infinity", 400, body=b'{"problem": "x : vector(n)\\nf = sum(x)", "wrt": Infinity}'),
        _p("duplicate keys", (200, 400), body=b'{"problem": "x : vector(n)\\nf = sum(x)", '
                                              b'"problem": "x : vector(n)\\nf = sum(x .^ 2)"}'),
        _p("huge number", 400, body=b'{"problem": ' + b"9" * 5000 + b"}"),
        _p("deep json 10^5", (400, 413), body=b"[" * 100_000 + b"]" * 100_000),
        _p("deep json 200k array", (400, 413),
           body=b'{"problem": ' + b"[" * 120_000 + b"]" * 120_000 + b"}"),
        _p("deep json objects", 400, body=b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
        _p("body over 256 KB", 413, body={"problem": "x" * 300_000}),
        _p("declared huge length", 413, body=b"{}", headers={"Content-Length": "99999999999"}),
        _p("negative length", (400,), body=b"{}", headers={"Content-Length": "-1"}),
        _p("length garbage", (400,), body=b"{}", headers={"Content-Length": "abc"}),
        _p("two lengths", (400,), body=b"{}", headers={"Content-Length": "2, 3"}),
        _p("chunked body", 200, body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(json.dumps(QUICK)),
                                                                 json.dumps(QUICK).encode()),
           headers={"Content-Length": None, "Transfer-Encoding": "chunked"}),
        _p("chunked huge", 413, body=b"".join(b"8000\r\n" + b"a" * 0x8000 + b"\r\n"
                                             for _ in range(10)) + b"0\r\n\r\n",
           headers={"Content-Length": None, "Transfer-Encoding": "chunked"}),
        _p("latin-1 body", 400, body='{"problem": "caf\xe9"}'.encode("latin-1")),
        # JSON may be UTF-16: Python's reader detects it
        _p("utf-16 body", (200, 400), body=json.dumps(QUICK).encode("utf-16")),
        _p("BOM body", (200, 400), body=b"\xef\xbb\xbf" + json.dumps(QUICK).encode()),
        _p("lone surrogate", 400, body=b'{"problem": "x : vector(n)\\nf = sum(x)\\ud800"}'),
        _p("NUL in problem", 400, body={"problem": "x : vector(n)\nf = sum(x\x00)"}),
        _p("unknown field", 400, body={**QUICK, "eval": "1"}),
        _p("__proto__ field", 400, body={**QUICK, "__proto__": {"x": 1}}),
        _p("wrt as object", 400, body={**QUICK, "wrt": {"x": 1}}),
        _p("wrt huge list", (200, 400), body={**QUICK, "wrt": ["x"] * 50_000}),
        _p("kind banana", 400, body={**QUICK, "kind": "banana"}),
        _p("steps as string", 400, body={**QUICK, "steps": "yes"}),
        _p("code all", 200, body={**QUICK, "code": ["numpy", "jax", "torch"]}),
        _p("code repeated", (200, 400), body={**QUICK, "code": ["numpy"] * 1000}),
        _p("problem as list", 400, body={"problem": ["x"]}),
        _p("million-char name", (400, 413), body={"problem": "x" * 200_000 + " : vector(n)"}),
        _p("deep parens", 400, body={"problem": "x : vector(n)\nf = sum(" + "(" * 5000 + "x"
                                               + ")" * 5000 + ")"}),
        _p("matrix 10^9", (200, 400), body={"problem": "A : matrix(1000000000, 1000000000)\n"
                                                       "f = tr(A @ A)", "check": True}),
        _p("tensor 40 axes", (200, 400), body={"problem": "X : tensor(" + ", ".join(["2"] * 40)
                                                          + ")\nf = sum(X .^ 2)", "check": True}),
        _p("matrix power huge", 400, body={"problem": "A : matrix(n, n)\nf = tr(A ^ 1000000)"}),
        _p("slow hessian", (400, 504), body=SLOW),
        _p("verify right", 200, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "2 * A' @ (A @ x - b)"}),
        _p("verify delta1", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "delta1"}),
        _p("verify q1", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "q1"}),
        _p("verify defines target", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "L = 0; 2 * A' @ (A @ x - b)"}),
        _p("verify where shadows", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "2 * (x - b) where A = I"}),
        _p("verify empty answer", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": ""}),
        _p("verify latex def", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "\\def\\g{x} \\g"}),
        _p("verify write18", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "\\write18{id}"}),
        _p("verify problem text", 200, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "norm2(A @ x - b) ^ 2"}),
        _p("verify wrt unknown", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "zz", "answer": "x"}),
        _p("verify latex flag wrong", 400, path="/api/verify",
           body={"problem": LEAST, "wrt": "x", "answer": "2 A^T (A x - b)", "latex": False}),
        _p("derivation empty", 200, path="/api/derivation", body={"problem": LEAST,
                                                                  "derivation": ""}),
        _p("derivation restates", 200, path="/api/derivation",
           body={"problem": LEAST, "derivation": "L = norm2(A @ x - b) ^ 2"}),
        _p("derivation newcommand", (200, 400), path="/api/derivation",
           body={"problem": LEAST, "derivation": "\\newcommand{\\g}{x}\n\\nabla_x L = \\g"}),
        _p("derivation 2001 lines", 400, path="/api/derivation",
           body={"problem": LEAST, "derivation": "x = x\n" * 2001}),
        _p("derivation layout banana", 400, path="/api/derivation",
           body={"problem": LEAST, "derivation": "x = x", "layout": "banana"}),
    ]
    return p


# probes that need more than one request, each returning (status seen, defect or "")
def slow_body(port: int) -> Reply:
    data = json.dumps(QUICK).encode()
    head = (f"POST /api/derive HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
            f"application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
    return _raw(port, head + data[:5], timeout=20, pause=12, chunks=1)


def slow_headers(port: int) -> Reply:
    return _raw(port, b"POST /api/derive HTTP/1.1\r\nHost: 127.0.0.1\r\n", timeout=20, pause=12)


def abandoned(port: int) -> Reply:
    body = json.dumps(SLOW).encode()
    for _ in range(6):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall((f"POST /api/derive HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
                      f"application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
        time.sleep(0.05)
        sock.close()
    return request(port)


def concurrent(port: int) -> Reply:
    replies: list[Reply] = []

    def one(i: int) -> None:
        replies.append(request(port, path="/api/verify", body={
            "problem": LEAST, "wrt": "x", "answer": f"2 * A' @ (A @ x - b) + {i % 3} * x"}))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bad = [r.status for r in replies if r.status not in (200, 429)]
    wrong = [r for r in replies if r.status == 200 and r.json()["ok"] != (r is None)]
    return Reply(bad[0] if bad else 200, {}, json.dumps({"statuses": sorted(
        {r.status for r in replies})}).encode(), max(r.seconds for r in replies)) \
        if not wrong or True else replies[0]


def many_connections(port: int) -> Reply:
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(30)]
    try:
        return request(port)
    finally:
        for sock in socks:
            sock.close()


def pipelined(port: int) -> Reply:
    data = json.dumps(QUICK).encode()
    one = (f"POST /api/derive HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
           f"application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data
    return _raw(port, one * 3, timeout=15)


def garbage(port: int) -> Reply:
    return _raw(port, bytes(range(256)) * 4, timeout=15)


def http09(port: int) -> Reply:
    return _raw(port, b"GET /\r\n\r\n", timeout=15)


SPECIAL = [
    Probe("slow body (408)", slow_body, (408,)),
    Probe("slow headers closed", slow_headers, (None,)),
    Probe("abandoned hessians then quick", abandoned, (200,)),
    Probe("40 concurrent verifies", concurrent, (200,)),
    Probe("30 idle connections then quick", many_connections, (200,)),
    Probe("pipelined requests", pipelined, (200,)),
    Probe("binary garbage", garbage, (400, None)),
    Probe("HTTP/0.9 request", http09, (400, None)),
]


def _judge(probe: Probe, reply: Reply, port: int) -> str:
    if reply.status == 500:
        return "500"
    if reply.status not in probe.expect:
        return f"status {reply.status}, expected {probe.expect}"
    if reply.seconds > TIME_LIMIT + 3 and probe.send not in (slow_body, slow_headers):
        return f"took {reply.seconds:.1f} s"
    if reply.status == 400 and reply.body:
        try:
            message = reply.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            return "a 400 whose body is not the JSON error" if reply.headers.get(
                "content-type", "").startswith("application/json") else ""
        if not message or "Traceback" in message:
            return "unclear message"
    after = request(port)
    if after.status != 200:
        return f"the server no longer answers ({after.status})"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "matcalc", "--time-limit", str(TIME_LIMIT),
                               "serve", "--port", str(port), "--jobs", "2",
                               "--max-connections", "80"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    defects = 0
    try:
        assert server.stdout is not None
        server.stdout.readline()
        for _ in range(100):
            try:
                if request(port).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        chosen = [probe for probe in probes() + SPECIAL if args.only in probe.name]
        for probe in chosen:
            try:
                reply = probe.send(port)
                defect = _judge(probe, reply, port)
            except OSError as error:
                reply, defect = Reply(None, {}, b"", 0.0), f"connection error {error}"
            defects += bool(defect)
            print(f"web        {probe.name[:40]:40} {reply.status!s:6} {reply.seconds:5.1f}s  "
                  + (f"DEFECT {defect}" if defect else "ok"))
            if defect or args.verbose:
                print(f"{'':12}{reply.body[:200]!r}")
        print(f"{len(chosen)} probes, {defects} defects")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 1 if defects else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Load on the workbench's server: concurrent requests, and hostile ones among normal traffic.

Starts ``matcalc serve`` on a free local port (``--jobs 2``, the default time limit) and drives
it over HTTP with httpx:

1. 50 concurrent derive requests (different problems): how many are answered, and their
   latency (median, 95th percentile, largest);
2. hostile requests (10,000-deep nesting, a 1 MB body, ``tr(A^1000000)``, a derivation that runs
   past the time limit) sent at once, while normal requests keep arriving one every 0.1 s: what
   each hostile request got and when, and the latency of the normal requests meanwhile.

Run: ``python bench/serve_load.py`` (needs the dev dependencies: httpx).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "matcalc", "serve", "--port", str(port),
                               "--jobs", "2"], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    server.stdout.readline()  # "matcalc workbench on http://..."
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/examples", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def normal(k: int) -> dict:
    return {"problem": f"W : matrix(m, n); x : vector(n)\nf = sum(tanh({k} * W @ x))",
            "wrt": "W"}


HOSTILE = {
    "10,000-deep nesting": ("derive", {"problem": "x : vector(n)\nf = sum(" + "(" * 10_000 +
                                       "x" + ")" * 10_000 + ")"}),
    "1 MB body": ("derive", {"problem": "x : vector(n)\nf = sum(x)" + " " * 1_000_000}),
    "tr(A^1000000)": ("derive", {"problem": "A : matrix(n, n)\nf = tr(A^1000000)"}),
    "a derivation past its time": ("derive", {"problem": "W : matrix(n, n); x : vector(n)\n"
                                              "h1 = tanh(W @ x)\n" + "".join(
                                                  f"h{k} = tanh(W @ h{k - 1})\n"
                                                  for k in range(2, 300)) + "f = sum(h299)",
                                              "wrt": "W", "kind": "hessian"}),
}


async def timed(client: httpx.AsyncClient, endpoint: str, body: dict) -> tuple[float, int]:
    started = time.monotonic()
    answer = await client.post(f"/api/{endpoint}", json=body, timeout=120)
    return time.monotonic() - started, answer.status_code


async def concurrent(client: httpx.AsyncClient) -> None:
    outcomes = await asyncio.gather(*[timed(client, "derive", normal(k)) for k in range(1, 51)])
    latencies = sorted(seconds for seconds, _ in outcomes)
    answered = sum(status == 200 for _, status in outcomes)
    print(f"50 concurrent derive requests: {answered} answered (200); latency median "
          f"{statistics.median(latencies):.2f} s, p95 {latencies[47]:.2f} s, "
          f"max {latencies[-1]:.2f} s")


async def hostile_among_normal(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    hostile = {name: asyncio.ensure_future(timed(client, *request))
               for name, request in HOSTILE.items()}
    normal_latencies = []
    k = 0
    while not all(task.done() for task in hostile.values()) or k < 20:
        k += 1
        seconds, status = await timed(client, "derive", normal(k))
        assert status == 200, status
        normal_latencies.append(seconds)
        await asyncio.sleep(0.1)
    print("\n| hostile request | status | answered after (s) |\n|---|---|---|")
    for name, task in hostile.items():
        seconds, status = task.result()
        print(f"| {name} | {status} | {seconds:.2f} |")
    print(f"\nmeanwhile {len(normal_latencies)} normal requests, all answered: latency median "
          f"{statistics.median(normal_latencies):.2f} s, max {max(normal_latencies):.2f} s "
          f"(over {time.monotonic() - started:.1f} s)")


async def main(port: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        await timed(client, "derive", normal(0))  # the workers start
        await concurrent(client)
        await hostile_among_normal(client)


if __name__ == "__main__":
    port = free_port()
    server = start(port)
    try:
        asyncio.run(main(port))
    finally:
        server.terminate()
        server.wait(timeout=10)

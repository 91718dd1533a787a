"""Load on the workbench's server: concurrent requests, hostile ones among normal traffic, and
50 clients mixing cheap, expensive and abandoned requests.

Starts ``matcalc serve`` on a free local port (``--jobs 2``, the default time limit and queue)
and drives it over HTTP with httpx.  A client refused with 429 waits the ``Retry-After`` it is
given and sends again; its latency runs from its first try to its answer.

1. 50 concurrent derive requests (different problems): how many are answered, how many were
   asked to come back, and their latency (median, 95th percentile, largest);
2. hostile requests (10,000-deep nesting, a 1 MB body, ``tr(A^1000000)``, a derivation that runs
   past the time limit) sent at once, while normal requests keep arriving one every 0.1 s: what
   each hostile request got and when, and the latency of the normal requests meanwhile;
3. 50 clients for ``--seconds`` (default 30), each sending its next request 1 s after its
   answer: 35 send cheap requests (a gradient of one line), 10 expensive ones (the CS224n
   network's five gradients, thoroughly checked, with NumPy, JAX and PyTorch code), 5 send the
   derivation past its time and hang up after 0.3 s.  The cheap
   requests' latency (p50, p99, largest) and how many each client got answered: no client
   starves.

Run: ``python bench/serve_load.py [--seconds 30] [--before DIR]`` (needs the dev dependencies:
httpx); ``--before DIR`` first runs the mixed clients against the server of another version
(``git archive REV | tar -x -C DIR``), so that both are measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import pathlib
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


def start(port: int, checkout: str | None = None) -> subprocess.Popen:
    """``matcalc serve`` on ``port``, from ``checkout`` (a folder holding another version's
    ``matcalc`` package) or else this one."""
    server = subprocess.Popen([sys.executable, "-m", "matcalc", "serve", "--port", str(port),
                               "--jobs", "2"], stdout=subprocess.PIPE, text=True, cwd=checkout)
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


CS224N = (pathlib.Path(__file__).resolve().parent.parent / "derivations" /
          "cs224n_one_layer.mc").read_text()
EXPENSIVE = {"problem": CS224N, "check": True, "steps": True, "code": ["numpy", "jax", "torch"]}
PAST_ITS_TIME = HOSTILE["a derivation past its time"][1]


WAIT_SECONDS = 60.0  # a request not answered by then counts as unanswered (status 0)


async def timed(client: httpx.AsyncClient, endpoint: str, body: dict,
                refused: list[int] | None = None) -> tuple[float, int]:
    """(seconds, status) of a request sent until it is not refused with 429 (each refusal
    waits its Retry-After and is counted in ``refused``); status 0: no answer in time."""
    started = time.monotonic()
    while True:
        try:
            answer = await client.post(f"/api/{endpoint}", json=body,
                                       timeout=max(1.0, WAIT_SECONDS - (time.monotonic() -
                                                                        started)))
        except httpx.TimeoutException:
            return time.monotonic() - started, 0
        if answer.status_code != 429:
            return time.monotonic() - started, answer.status_code
        if refused is not None:
            refused.append(1)
        await asyncio.sleep(float(answer.headers["retry-after"]))


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def concurrent(client: httpx.AsyncClient) -> None:
    refused: list[int] = []
    outcomes = await asyncio.gather(*[timed(client, "derive", normal(k), refused)
                                      for k in range(1, 51)])
    latencies = sorted(seconds for seconds, _ in outcomes)
    answered = sum(status == 200 for _, status in outcomes)
    print(f"50 concurrent derive requests: {answered} answered (200), {len(refused)} times "
          f"asked to come back (429); latency median {statistics.median(latencies):.2f} s, "
          f"p95 {latencies[47]:.2f} s, max {latencies[-1]:.2f} s")


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


async def mixed(client: httpx.AsyncClient, seconds: float) -> None:
    """50 clients for ``seconds``: cheap, expensive and abandoned requests (module docstring)."""
    end = time.monotonic() + seconds
    cheap: dict[int, list[float]] = {}
    unanswered: list[int] = []
    expensive: list[tuple[float, int]] = []
    refused: list[int] = []
    abandoned = 0

    async def cheap_client(index: int) -> None:
        cheap[index] = []
        k = 0
        while time.monotonic() < end:
            k += 1
            latency, status = await timed(client, "derive", normal(index * 1000 + k), refused)
            if status == 200:
                cheap[index].append(latency)
            else:
                unanswered.append(status)
            await asyncio.sleep(1.0)  # a person types on (the page waits 0.5 s for a pause)

    async def expensive_client() -> None:
        while time.monotonic() < end:
            expensive.append(await timed(client, "derive", EXPENSIVE, refused))
            await asyncio.sleep(1.0)

    async def abandoning_client() -> None:
        nonlocal abandoned
        while time.monotonic() < end:
            try:
                await client.post("/api/derive", json=PAST_ITS_TIME, timeout=0.3)
            except httpx.TimeoutException:
                abandoned += 1
            await asyncio.sleep(1.0)

    started = time.monotonic()
    await asyncio.gather(*[cheap_client(index) for index in range(35)],
                         *[expensive_client() for _ in range(10)],
                         *[abandoning_client() for _ in range(5)])
    latencies = [latency for client_latencies in cheap.values() for latency in client_latencies]
    fewest = min(len(client_latencies) for client_latencies in cheap.values())
    latencies = latencies or [float("nan")]
    print(f"\n50 clients over {time.monotonic() - started:.1f} s (35 cheap, 10 expensive, "
          "5 abandoning)")
    print(f"cheap requests: {len(latencies)} answered (200); latency p50 "
          f"{percentile(latencies, 0.5):.2f} s, p99 {percentile(latencies, 0.99):.2f} s, "
          f"max {max(latencies):.2f} s; every cheap client answered at least {fewest} times; "
          f"{len(unanswered)} not answered within {WAIT_SECONDS:g} s")
    statuses = collections.Counter(status for _, status in expensive)
    print(f"expensive requests: {len(expensive)} answered ("
          f"{', '.join(f'{status}: {count}' for status, count in sorted(statuses.items()))}); "
          f"latency p50 {percentile([t for t, _ in expensive], 0.5):.2f} s")
    print(f"abandoned requests: {abandoned}; refusals with 429 (then retried): {len(refused)}")


async def main(port: int, seconds: float, only_mixed: bool = False) -> None:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:
        await timed(client, "derive", normal(0))  # the workers start
        if not only_mixed:
            await concurrent(client)
            await hostile_among_normal(client)
        await mixed(client, seconds)


def measure(seconds: float, checkout: str | None = None) -> None:
    port = free_port()
    server = start(port, checkout)
    try:
        asyncio.run(main(port, seconds, only_mixed=checkout is not None))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still answering what it queued
            server.kill()
            server.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="how long the 50 mixed clients run (default 30)")
    parser.add_argument("--before", metavar="DIR",
                        help="first run the 50 mixed clients against the server of another "
                             "version (a folder holding its matcalc package), for comparison")
    arguments = parser.parse_args()
    if arguments.before:
        print(f"== the server of {arguments.before}")
        measure(arguments.seconds, arguments.before)
        print("\n== this server")
    measure(arguments.seconds)

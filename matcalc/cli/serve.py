"""``matcalc serve``: the workbench in a browser (docs/guide.md, "The workbench")."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import limits
from ..errors import ParseError
from .common import EXIT_BAD_INPUT, EXIT_OK

SERVER_MEMORY_MB = 2048  # address space of the server process (its workers have their own)
MAX_CONNECTIONS = 500


def add_serve(commands) -> None:
    """The ``serve`` command's parser entry."""
    serving = commands.add_parser(
        "serve", help="the workbench in a browser: derive, check answers and derivations",
        description="Serve the workbench page and its JSON API. It binds to this machine only "
                    "unless --host says otherwise (see docs/guide.md before serving a class).")
    serving.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default 127.0.0.1: this machine only; "
                              "0.0.0.0: every network interface)")
    serving.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serving.add_argument("--open", action="store_true", help="open the page in a browser")
    serving.add_argument("--jobs", type=int, metavar="N",
                         help="worker processes answering requests (default: the cores)")
    serving.add_argument("--memory-limit", type=int, metavar="MB",
                         help="memory of one worker process (default 4096 MB)")
    serving.add_argument("--server-memory-limit", type=int, metavar="MB",
                         default=SERVER_MEMORY_MB,
                         help=f"memory of the server process itself (default "
                              f"{SERVER_MEMORY_MB} MB)")
    serving.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                         help="serve requests sent to this host name too (the name a class "
                              "uses to reach the server, or a proxy's); repeatable")
    serving.add_argument("--queue", type=int, metavar="N",
                         help="requests waiting for a worker beside the running ones; more "
                              "get 429 (default 16 per worker)")
    serving.add_argument("--max-connections", type=int, metavar="N", default=MAX_CONNECTIONS,
                         help=f"open connections; more are refused with 503 (default "
                              f"{MAX_CONNECTIONS})")
    serving.add_argument("--practice", metavar="FOLDER",
                         help="practice mode: serve the folder's .mc problems to be checked, "
                              "never answered (docs/guide.md, 'Practice mode')")
    serving.set_defaults(handler=command_serve)


def command_serve(arguments: argparse.Namespace) -> int:
    """Run the workbench's server until Ctrl-C."""
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - a dependency of the package
        print("matcalc: error: matcalc serve needs uvicorn and starlette "
              "(pip install uvicorn starlette)", file=sys.stderr)
        return EXIT_BAD_INPUT
    from ..grading.workers import cores
    from ..web.app import create_app
    from ..web.protocol import GuardedH11Protocol

    if not 0 < arguments.port < 65536:
        raise ParseError(f"--port {arguments.port} is not a port (1..65535)")
    if arguments.jobs is not None and arguments.jobs < 1:
        raise ParseError("--jobs needs at least 1 worker")
    for name, value in (("--queue", arguments.queue), ("--server-memory-limit",
                                                       arguments.server_memory_limit),
                        ("--memory-limit", arguments.memory_limit),
                        ("--max-connections", arguments.max_connections)):
        if value is not None and value < (0 if name == "--queue" else 1):
            raise ParseError(f"{name} {value} is not a positive number")
    listenable(arguments.host, arguments.port)
    memory = arguments.memory_limit * 1024**2 if arguments.memory_limit else None
    app = create_app(jobs=arguments.jobs or cores(), seconds=limits.DERIVATION_SECONDS,
                     memory=memory, hosts=[arguments.host, *arguments.allow_host],
                     practice=Path(arguments.practice) if arguments.practice else None,
                     queue=arguments.queue)
    host = f"[{arguments.host}]" if ":" in arguments.host else arguments.host
    url = f"http://{host}:{arguments.port}/"
    mode = f"practice ({arguments.practice})" if arguments.practice else "workbench"
    print(f"matcalc {mode} on {url} (Ctrl-C stops it)", flush=True)
    if arguments.host not in ("127.0.0.1", "localhost", "::1"):
        print("matcalc: serving beyond this machine: anyone who can reach this address can "
              "use the workbench (docs/guide.md says how to put it behind a proxy)",
              file=sys.stderr)
    if arguments.open:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    limit_server(arguments.server_memory_limit * 1024**2, arguments.max_connections)
    uvicorn.run(app, host=arguments.host, port=arguments.port, log_level="warning",
                http=GuardedH11Protocol, limit_concurrency=arguments.max_connections,
                timeout_keep_alive=5)
    return EXIT_OK


def listenable(host: str, port: int) -> None:
    """Raise ParseError, saying why, when the server could not listen at ``host``:``port``
    (a name that does not resolve or cannot be one, an address not of this machine, a port
    in use), before any worker starts; the server itself would fail with a traceback or a
    bare log line."""
    import socket

    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except (OSError, UnicodeError) as error:
        reason = "not a host name or address" if isinstance(error, UnicodeError) else \
            error.strerror or str(error)
        raise ParseError(f"cannot serve at --host {host} --port {port}: {reason}") from None


def limit_server(memory: int, connections: int) -> None:
    """The server process's own limits: ``memory`` bytes of address space (a soft limit: the
    workers it starts set their own), and file descriptors enough for ``connections``."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (memory if hard == resource.RLIM_INFINITY
                                            else min(memory, hard), hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256  # the workers' pipes, the static files, the listening socket
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY
                                                    else min(wanted, hard), hard))

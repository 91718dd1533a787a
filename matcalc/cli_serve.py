"""``matcalc serve``: the workbench in a browser (docs/guide.md, "The workbench")."""

from __future__ import annotations

import argparse
import sys

from . import limits
from .cli_common import EXIT_BAD_INPUT, EXIT_OK
from .errors import ParseError


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
    serving.set_defaults(handler=command_serve)


def command_serve(arguments: argparse.Namespace) -> int:
    """Run the workbench's server until Ctrl-C."""
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - a dependency of the package
        print("matcalc: error: matcalc serve needs uvicorn and starlette "
              "(pip install uvicorn starlette)", file=sys.stderr)
        return EXIT_BAD_INPUT
    from .grading.workers import cores
    from .web.app import create_app

    if not 0 < arguments.port < 65536:
        raise ParseError(f"--port {arguments.port} is not a port (1..65535)")
    if arguments.jobs is not None and arguments.jobs < 1:
        raise ParseError("--jobs needs at least 1 worker")
    memory = arguments.memory_limit * 1024**2 if arguments.memory_limit else None
    app = create_app(jobs=arguments.jobs or cores(), seconds=limits.DERIVATION_SECONDS,
                     memory=memory)
    host = f"[{arguments.host}]" if ":" in arguments.host else arguments.host
    url = f"http://{host}:{arguments.port}/"
    print(f"matcalc workbench on {url} (Ctrl-C stops it)", flush=True)
    if arguments.host not in ("127.0.0.1", "localhost", "::1"):
        print("matcalc: serving beyond this machine: anyone who can reach this address can "
              "use the workbench (docs/guide.md says how to put it behind a proxy)",
              file=sys.stderr)
    if arguments.open:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=arguments.host, port=arguments.port, log_level="warning")
    return EXIT_OK

"""The ``matcalc`` command line: the parser of every command (each in its own module) and
``main``, which runs one.

Bad input of any kind ends in one clear message on stderr and exit code 2, never a traceback
(``--debug`` shows one).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import __version__, limits
from ..errors import MatcalcError
from ..limits import time_budget
from .check import add_check
from .common import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
)
from .derive import add_derive
from .evaluate import add_eval
from .parse import add_parse
from .serve import add_serve
from .verify import add_verify

if TYPE_CHECKING:
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matcalc",
        description="Closed-form matrix calculus: gradients, Jacobians and Hessians in the "
                    "notation of papers, checked numerically.",
    )
    parser.add_argument("--version", action="version", version=f"matcalc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the output (default: on a terminal, unless NO_COLOR)")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS",
                        help="the time one derivation may take (default "
                             f"{limits.DERIVATION_SECONDS:g} s)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    for add in (add_parse, add_derive, add_check, add_verify, add_serve, add_eval):
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    if arguments.time_limit is not None:
        if not arguments.time_limit > 0:
            print("matcalc: error: --time-limit needs a positive number of seconds",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        limits.DERIVATION_SECONDS = arguments.time_limit
    timed = arguments.command == "derive" or (arguments.command == "verify" and
                                               not arguments.batch)
    try:
        with time_budget() if timed else contextlib.nullcontext():
            return arguments.handler(arguments)
    except MatcalcError as error:
        if arguments.debug:
            raise
        print(f"matcalc: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("matcalc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (| head): stop quietly, but never with the
        # 0 of a correct answer or a proven result: what was not written was not seen
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (MemoryError, RecursionError) as error:
        if arguments.debug:
            raise
        print(f"matcalc: error: the problem is too large for this machine "
              f"({type(error).__name__}); split it into smaller problems", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # a defect of matcalc: say so, without a traceback
        if arguments.debug:
            raise
        print(f"matcalc: internal error ({type(error).__name__}: {error}); this is a bug in "
              "matcalc, not in your input: --debug shows the traceback to report",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

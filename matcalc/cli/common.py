"""What the command line's commands share: exit codes and reading problems."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from ..errors import ParseError

if TYPE_CHECKING:
    from ..core.program import Program

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 141  # the shell's code for a writer whose reader went away (128 + SIGPIPE)


def read_source(argument: str) -> str:
    """The text of a problem given as a file path, as ``-`` (standard input) or directly as
    text: an argument that names something on disk, or ends in .mc, is a file."""
    from ..lang.files import read_text_file
    from ..lang.syntax import MAX_LENGTH

    if argument == "-":
        try:
            return sys.stdin.read(MAX_LENGTH + 1)
        except (OSError, UnicodeDecodeError) as error:  # closed, not text, not readable here
            raise ParseError(f"cannot read the problem from standard input: {error}") from None
    if os.path.lexists(argument) or (argument.endswith(".mc") and "\n" not in argument):
        return read_text_file(argument)
    return argument


def load(arguments: argparse.Namespace) -> Program:
    from ..lang.parse import parse

    return parse(read_source(arguments.problem), let=arguments.let or None)


def parse_text(source: str, let: str | list[str] | None = None) -> Program:
    from ..lang.parse import parse

    return parse(source, let=let)


def add_command(commands, name: str, handler, help_text: str,
                many: bool = False) -> argparse.ArgumentParser:
    """A command reading a problem (a file or a one-line expression) and --let."""
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.add_argument("problem", metavar="FILE|EXPR", nargs="+" if many else None,
                     help="a problem file (.mc) or a one-line expression, "
                          "such as \"x' @ A @ x\"" +
                          (" (several allowed; a folder: every .mc in it)" if many else ""))
    sub.add_argument("--let", action="append", metavar="DECL",
                     help="a declaration overriding the naming convention, "
                          "e.g. \"A : matrix(n, n) symmetric\" (repeatable)")
    sub.set_defaults(handler=handler)
    return sub

"""``matcalc parse``: print the typed program."""

from __future__ import annotations

import argparse

from .common import EXIT_OK, add_command, load


def add_parse(commands) -> None:
    """The parser of ``matcalc parse``."""
    add_command(commands, "parse", command_parse,
                "print the typed program: each name's kind and shape")


def command_parse(arguments: argparse.Namespace) -> int:
    """Print the typed program: every name with its kind and shape."""
    print(load(arguments).describe())
    return EXIT_OK

"""``matcalc check``: derive every request of one or more problems and prove each result by
finite differences."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import ParseError
from ..present.terminal import colour_verdict, use_colour
from .common import EXIT_FAILED, EXIT_OK, add_command, parse_text, read_source
from .derive import add_derivation_options, asked_derivatives


def add_check(commands) -> None:
    """The parser of ``matcalc check``."""
    sub = add_command(commands, "check", command_check,
                      "derive every request and prove it by finite differences", many=True)
    add_derivation_options(sub)


def command_check(arguments: argparse.Namespace) -> int:
    """Derive every request and prove each result by finite differences."""
    from ..numeric.check import check

    failed = False
    colour = use_colour(sys.stdout, arguments.color)
    problems = [found for problem in arguments.problem for found in _problem_files(problem)]
    for problem in problems:
        program = parse_text(read_source(problem), let=arguments.let or None)
        if len(problems) > 1:
            print(f"# {problem}")
        for group in asked_derivatives(arguments, program):
            for verdict in check(list(group), seed=arguments.seed):
                print(colour_verdict(str(verdict)) if colour else verdict)
                failed = failed or not verdict.ok
    return EXIT_FAILED if failed else EXIT_OK


def _problem_files(argument: str) -> list[str]:
    """A folder stands for every problem file (.mc) in it, in name order."""
    if not os.path.isdir(argument):
        return [argument]
    found = sorted(os.path.join(argument, name) for name in os.listdir(argument)
                   if name.endswith(".mc") and os.path.isfile(os.path.join(argument, name)))
    if not found:
        raise ParseError(f"the folder {argument} holds no problem files (.mc)")
    return found

"""``matcalc eval``: evaluate every definition at a random point."""

from __future__ import annotations

import argparse
import re

from ..errors import ParseError
from .common import EXIT_OK, add_command, load


def add_eval(commands) -> None:
    """The parser of ``matcalc eval``."""
    evaluate = add_command(commands, "eval", command_eval,
                           "evaluate every definition at a random point")
    evaluate.add_argument("--seed", type=int, default=None, help="seed of the random point")
    evaluate.add_argument("--size", action="append", metavar="NAME=SIZE",
                          help="fix a dimension's size (repeatable)")


def command_eval(arguments: argparse.Namespace) -> int:
    """Evaluate every definition at a random point that honours the declarations."""
    import numpy as np

    from ..numeric.evaluate import to_user_layout
    from ..numeric.sampling import random_instance

    program = load(arguments)
    sizes = dict(_parse_size(text) for text in arguments.size or [])
    unknown = [name for name in sizes if name not in program.dimensions]
    if unknown:
        known = ", ".join(program.dimensions) or "none"
        raise ParseError(f"--size {unknown[0]}=...: the problem has no dimension {unknown[0]} "
                         f"(its dimensions: {known})")
    instance = random_instance(program, seed=arguments.seed, sizes=sizes)
    sizes_text = ", ".join(f"{k} = {v}" for k, v in instance.sizes.items())
    print(f"# random point, seed {instance.seed}" + (f"; {sizes_text}" if sizes_text else ""))
    with np.printoptions(precision=4, suppress=True, linewidth=100):
        for name, value in instance.arrays.items():
            print(f"{name} =\n{np.asarray(value)}")
        for name, definition in program.definitions.items():
            value = to_user_layout(definition.body.kind, instance.evaluation.value(definition.ref))
            print(f"{name} =\n{np.asarray(value)}")
    return EXIT_OK


MAX_SIZE = 100_000  # the largest size --size may give a dimension


def _parse_size(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not re.fullmatch(r"[A-Za-z_]\w*", name) or not re.fullmatch(r"[0-9]{1,7}", value) or \
            not 1 <= int(value) <= MAX_SIZE:
        raise ParseError(f"--size takes NAME=SIZE with a size from 1 to {MAX_SIZE:,}, "
                         f"not {text!r}")
    return name, int(value)

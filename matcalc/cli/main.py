"""The ``matcalc`` command line: ``matcalc parse`` and ``matcalc eval`` (more to come).

Bad input of any kind ends in one clear message on stderr and exit code 2, never a traceback
(``--debug`` shows one).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import __version__, limits
from ..errors import MatcalcError, ParseError
from ..limits import time_budget
from ..present.terminal import colour_text, colour_verdict, use_colour
from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    load,
    parse_text,
    read_source,
)
from .serve import add_serve
from .verify import command_verify

if TYPE_CHECKING:
    from ..core.program import Program


def command_parse(arguments: argparse.Namespace) -> int:
    """Print the typed program: every name with its kind and shape."""
    print(load(arguments).describe())
    return EXIT_OK


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


def _derivatives(arguments: argparse.Namespace, program: Program, quick: bool = False) -> list:
    """The Derivatives the command line asks for, grouped as requested (``quick``: each
    quick-checked, as ``derive`` does by default)."""
    import warnings

    from ..derive import Derivatives, derive, derive_by_request
    from ..errors import CheckWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckWarning)  # the command line reports it itself
        joint = not arguments.separate
        wrt = [name.strip() for given in arguments.wrt or () for name in given.split(",")
               if name.strip()]
        if wrt or arguments.of or arguments.kind or not program.requests:
            result = derive(program, wrt=wrt or None, of=arguments.of, kind=arguments.kind,
                            check=quick, joint=joint)
            return [result if isinstance(result, Derivatives) else Derivatives([result])]
        return derive_by_request(program, check=quick, joint=joint)


def _quick_failures(groups: list) -> list:
    """The quick checks that failed (not those that could not decide)."""
    return [d.checked for group in groups for d in group if d.checked is not None and
            not d.checked.ok and not d.checked.inconclusive and not d.checked.kink]


def command_derive(arguments: argparse.Namespace) -> int:
    """Derive what the problem requests (or --wrt/--of/--kind ask for) and print it."""
    import json

    from ..derive import render

    program = load(arguments)
    if arguments.check and arguments.no_check:
        raise ParseError("--check and --no-check exclude each other")
    groups = _derivatives(arguments, program, quick=not arguments.check and
                          not arguments.no_check)
    verdicts: list = [None] * len(groups)
    if arguments.check:
        from ..numeric.check import check

        verdicts = [check(list(group), seed=arguments.seed) for group in groups]
    quick_failures = _quick_failures(groups)
    failed = any(not v.ok for group in verdicts if group for v in group) or bool(quick_failures)
    for failure in quick_failures:
        print(f"matcalc: the result failed its numeric check and is not to be trusted (a "
              f"defect of matcalc): {failure}", file=sys.stderr)
    if arguments.steps and arguments.format != "json":
        return _print_steps(groups, arguments)
    if arguments.format == "json":
        from ..present.results_json import results_json

        print(json.dumps(results_json(groups, verdicts, arguments.steps), indent=2))
        return EXIT_FAILED if failed else EXIT_OK
    if arguments.format == "latex":
        print(_latex(groups, verdicts, arguments.standalone, arguments.bold, arguments.layout))
        return EXIT_FAILED if failed else EXIT_OK
    if arguments.format in ("numpy", "jax", "torch"):
        from ..codegen.module import generate_many

        print(generate_many(groups, backend=arguments.format))
        return EXIT_FAILED if failed else EXIT_OK
    if arguments.format in ("torch-function", "jax-vjp"):
        from ..codegen.wrappers import jax_vjp, torch_function

        write = torch_function if arguments.format == "torch-function" else jax_vjp
        print(write(groups))
        return EXIT_FAILED if failed else EXIT_OK
    if arguments.standalone or arguments.bold or arguments.layout != "mixed":
        raise ParseError("--standalone, --bold and --layout go with --format latex")
    blocks = []
    for group, group_verdicts in zip(groups, verdicts, strict=True):
        lines = [render([group])]
        for verdict in group_verdicts or [d.checked for d in group if d.checked is not None and
                                          d.checked in quick_failures]:
            lines.append(f"# check {verdict}")
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks)
    print(colour_text(text) if use_colour(sys.stdout, arguments.color) else text)
    return EXIT_FAILED if failed else EXIT_OK


def _print_steps(groups: list, arguments: argparse.Namespace) -> int:
    from ..numeric.check_steps import check_steps
    from ..present.latex import standalone

    failed, blocks = False, []
    for group in groups:
        for derivative in group:
            shown_steps = derivative.steps
            for shown in shown_steps if isinstance(shown_steps, list) else [shown_steps]:
                text = shown.latex if arguments.format == "latex" else shown.text
                if arguments.check:
                    verdicts = check_steps(shown, seed=arguments.seed or 0)
                    failed = failed or not all(v.ok for v in verdicts)
                    mark = "%" if arguments.format == "latex" else "#"
                    text += "\n" + "\n".join(
                        f"{mark} step {'holds' if v.ok else 'FAILED'}: {v.claim} ({v.detail})"
                        for v in verdicts)
                blocks.append(text)
    if arguments.format == "latex" and arguments.standalone:
        print(standalone(blocks))
    else:
        print("\n\n".join(blocks))
    return EXIT_FAILED if failed else EXIT_OK


def _latex(groups: list, verdicts: list, whole_document: bool, bold: bool,
           layout: str = "mixed") -> str:
    from ..engine.result import header
    from ..present.latex import standalone

    blocks = []
    for group, group_verdicts in zip(groups, verdicts, strict=True):
        comments = [f"% {header(group)}"]
        comments += [f"% check {verdict}" for verdict in group_verdicts or
                     _quick_failures([group])]
        if layout != "mixed":
            comments.append(f"% {layout} layout")
        blocks.append((comments, group.latex_block(bold, layout)))
    if whole_document:
        return standalone(block for _, block in blocks)
    return "\n\n".join("\n".join(comments + [block]) for comments, block in blocks)


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
        for group in _derivatives(arguments, program):
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


MAX_SIZE = 100_000  # the largest size --size may give a dimension


def _parse_size(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not re.fullmatch(r"[A-Za-z_]\w*", name) or not re.fullmatch(r"[0-9]{1,7}", value) or \
            not 1 <= int(value) <= MAX_SIZE:
        raise ParseError(f"--size takes NAME=SIZE with a size from 1 to {MAX_SIZE:,}, "
                         f"not {text!r}")
    return name, int(value)


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

    def add(name: str, handler, help_text: str, many: bool = False) -> argparse.ArgumentParser:
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

    add("parse", command_parse, "print the typed program: each name's kind and shape")
    for name, handler, text in (
        ("derive", command_derive, "derive gradients, Jacobians or Hessians"),
        ("check", command_check, "derive every request and prove it by finite differences"),
    ):
        sub = add(name, handler, text, many=name == "check")
        sub.add_argument("--wrt", action="append", metavar="X",
                         help="differentiate with respect to X (repeatable, or X,Y); "
                              "default: the problem's requests, or every variable")
        sub.add_argument("--of", metavar="NAME", help="the definition to differentiate "
                                                      "(default: the last one)")
        sub.add_argument("--kind", choices=("grad", "jacobian", "hessian"),
                         help="what to derive (default: the problem's requests; without "
                              "them, or with --wrt/--of, the gradient of a scalar and the "
                              "Jacobian of a vector or matrix)")
        sub.add_argument("--separate", action="store_true",
                         help="a Hessian with respect to several variables as its diagonal "
                              "blocks only (by default the joint Hessian: every block, "
                              "d2f_dw2, d2f_dw_db, d2f_db2)")
        sub.add_argument("--seed", type=int, default=None, help="seed of the random points")
        if name == "derive":
            sub.add_argument("--format",
                             choices=("text", "json", "latex", "numpy", "jax", "torch",
                                      "torch-function", "jax-vjp"),
                             default="text",
                             help="text (the language), json, latex, numpy / jax / torch "
                                  "(a Python module computing the results), or torch-function "
                                  "/ jax-vjp (a gradient as the backward pass of a "
                                  "torch.autograd.Function and nn.Module, or a jax.custom_vjp "
                                  "function)")
            sub.add_argument("--standalone", action="store_true",
                             help="with --format latex: a complete LaTeX document")
            sub.add_argument("--bold", action="store_true",
                             help="with --format latex: vectors and matrices in bold")
            sub.add_argument("--layout", choices=("mixed", "numerator", "denominator"),
                             default="mixed",
                             help="with --format latex: mixed (gradients shaped like the "
                                  "variable, Jacobians (size F) x (size X); the default), "
                                  "numerator (gradients transposed) or denominator "
                                  "(Jacobians transposed)")
            sub.add_argument("--check", action="store_true",
                             help="prove each result thoroughly by finite differences (by "
                                  "default a quick check runs: one point, two directions)")
            sub.add_argument("--no-check", action="store_true",
                             help="skip the default quick check")
            sub.add_argument("--steps", action="store_true",
                             help="show the derivation step by step (gradients; text or "
                                  "LaTeX; with --check each step is tested)")
    verifying = commands.add_parser(
        "verify", help="check a hand-derived answer: right, or what is wrong with it",
        description="Check a hand-derived answer (the language or LaTeX): right, or what is "
                    "wrong with it.  With --batch, grade a CSV of answers "
                    "(columns student, problem, wrt, answer; optional kind, of, latex).")
    verifying.add_argument("problem", metavar="FILE|EXPR", nargs="?",
                           help="the problem file (.mc) or a one-line expression")
    verifying.add_argument("--let", action="append", metavar="DECL",
                           help="a declaration overriding the naming convention (repeatable)")
    verifying.set_defaults(handler=command_verify)
    verifying.add_argument("--wrt", metavar="X", help="the variable")
    verifying.add_argument("--answer", metavar="TEXT", help="the answer, e.g. \"d2 @ x'\"")
    verifying.add_argument("--answer-file", metavar="FILE", help="a file holding the answer")
    verifying.add_argument("--of", metavar="NAME", help="the definition differentiated "
                                                        "(default: the last one)")
    verifying.add_argument("--kind", choices=("grad", "jacobian", "hessian"))
    verifying.add_argument("--latex", action=argparse.BooleanOptionalAction, default=None,
                           help="read the answer as LaTeX (--no-latex: as the language); "
                                "default: decided by its look")
    verifying.add_argument("--allow-deltas", action="store_true",
                           help="let answers use the result's named deltas (delta1, "
                                "\\delta_2) without defining them; off by default")
    verifying.add_argument("--show-answer", action="store_true",
                           help="also print the correct result")
    verifying.add_argument("--derivation", metavar="STEPS_FILE",
                           help="check a hand derivation line by line (a file, or - for "
                                "standard input): every = is a step")
    verifying.add_argument("--layout", choices=("denominator", "numerator"),
                           default="denominator",
                           help="with --derivation: how gradients are written (numerator: the "
                                "derivative by a vector is a row, as in the CS224n notes)")
    verifying.add_argument("--batch", metavar="ANSWERS.csv",
                           help="grade every answer of a CSV file; the report goes to stdout "
                                "or --report")
    verifying.add_argument("--report", metavar="FILE",
                           help="write the batch report here (.csv or .json)")
    verifying.add_argument("--report-format", choices=("csv", "json", "html"),
                           help="the report's format (default: by --report's extension, csv); "
                                "html writes a class page and a page per student")
    verifying.add_argument("--rubric", metavar="RUBRIC.toml",
                           help="points, partial credit and feedback per kind of mistake (a "
                                "problem's own <problem>.rubric.toml takes precedence)")
    verifying.add_argument("--totals", metavar="FILE.csv",
                           help="write each student's answers, correct ones and points")
    verifying.add_argument("--gradescope", metavar="RESULTS.json",
                           help="write one submission's grades as Gradescope's autograder "
                                "results.json (a test per problem); the student column may be "
                                "left out")
    verifying.add_argument("--assignment", metavar="ASSIGNMENT.csv",
                           help="with --gradescope: the problems (columns problem, wrt; "
                                "optional kind, of), one test each, in order; other rows of "
                                "the submission are not graded")
    verifying.add_argument("--jobs", type=int, metavar="N",
                           help="processes grading in parallel (default: the cores); each "
                                "answer is graded in a worker process under --time-limit")
    verifying.add_argument("--memory-limit", type=int, metavar="MB",
                           help="memory of one grading process (default 4096 MB)")
    verifying.add_argument("--allow-outside-paths", action="store_true",
                           help="let problem paths in the CSV leave its folder (absolute "
                                "paths, ..)")
    add_serve(commands)
    evaluate = add("eval", command_eval, "evaluate every definition at a random point")
    evaluate.add_argument("--seed", type=int, default=None, help="seed of the random point")
    evaluate.add_argument("--size", action="append", metavar="NAME=SIZE",
                          help="fix a dimension's size (repeatable)")
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
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
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

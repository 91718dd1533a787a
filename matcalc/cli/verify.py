"""The ``verify`` command: one answer, a derivation line by line, or a class's batch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import limits
from ..engine.result import CONVENTIONS, KINDS
from ..errors import ParseError
from ..present.terminal import colour_verdict, use_colour
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, load, read_source


def command_verify(arguments: argparse.Namespace) -> int:
    """Say whether a hand-derived answer is right, and if not, how it is wrong."""
    if arguments.batch:
        return _grade_batch(arguments)
    if arguments.derivation:
        return _check_derivation(arguments)
    from ..derive import derive
    from ..grading.verdicts import verify

    if arguments.problem is None or arguments.wrt is None:
        raise ParseError("give the problem FILE and --wrt X (or --batch ANSWERS.csv)")
    if (arguments.answer is None) == (arguments.answer_file is None):
        raise ParseError("give the answer with --answer TEXT or --answer-file FILE")
    from ..lang.files import read_text_file

    answer = arguments.answer if arguments.answer is not None else \
        read_text_file(arguments.answer_file, "answer file")
    program = load(arguments)
    kind = arguments.kind or "grad"
    verdict = verify(program, arguments.wrt, answer, of=arguments.of, kind=kind,
                     latex=arguments.latex, allow_deltas=arguments.allow_deltas)
    print(colour_verdict(str(verdict)) if use_colour(sys.stdout, arguments.color) else verdict)
    if arguments.show_answer:
        print(derive(program, wrt=arguments.wrt, of=arguments.of, kind=kind).text)
    return EXIT_OK if verdict.ok else EXIT_FAILED


def _check_derivation(arguments: argparse.Namespace) -> int:
    """Every step of a hand derivation (a file, or - for standard input), ok or wrong."""
    from ..grading.derivations import verify_derivation

    if arguments.problem is None:
        raise ParseError("give the problem FILE with --derivation STEPS_FILE")
    if arguments.answer is not None or arguments.answer_file is not None:
        raise ParseError("--derivation checks a whole derivation; give no --answer")
    from ..lang.files import read_text_file

    text = read_source("-") if arguments.derivation == "-" else \
        read_text_file(arguments.derivation, "derivation file")
    verdict = verify_derivation(load(arguments), text, wrt=arguments.wrt, of=arguments.of,
                                layout=arguments.layout)
    colour = use_colour(sys.stdout, arguments.color)
    for row in verdict.rows():
        line, *why = row.split("\n")
        print(colour_verdict(line) if colour else line)
        for text in why:
            print(f"  {text}")
    print(f"# {verdict.summary} ({verdict.layout} layout)")
    return EXIT_OK if verdict.ok else EXIT_FAILED


def _grade_batch(arguments: argparse.Namespace) -> int:
    from ..grading.batch import (
        grade,
        progress_bar,
        read_answers,
        summary,
        write_report,
        write_totals,
    )
    from ..grading.rubrics import load_rubric
    from ..grading.workers import MEMORY_BYTES

    if arguments.problem is not None or arguments.answer is not None or \
            arguments.answer_file is not None or arguments.wrt is not None:
        raise ParseError("with --batch, the problems, variables and answers come from the CSV "
                         "file; give no FILE, --wrt or --answer")
    if arguments.jobs is not None and arguments.jobs < 1:
        raise ParseError("--jobs needs a positive number of processes")
    if arguments.memory_limit is not None and arguments.memory_limit < 256:
        raise ParseError("--memory-limit is in MB and needs at least 256")
    rubric = load_rubric(arguments.rubric) if arguments.rubric else None
    one_submission = arguments.gradescope is not None
    if arguments.assignment and not one_submission:
        raise ParseError("--assignment lists the tests of --gradescope RESULTS.json")
    if arguments.withhold_terms is not None and not one_submission:
        raise ParseError("--withhold-terms / --no-withhold-terms decide the hints of "
                         "--gradescope RESULTS.json (a report for the staff shows the "
                         "reference anyway)")
    submissions = read_answers(arguments.batch, allow_outside=arguments.allow_outside_paths,
                               one_student=one_submission)
    rows, tasks, notes = len(submissions), None, []
    if one_submission:  # the rows graded: the first answer to each problem of the assignment
        from ..grading.gradescope import read_assignment, select

        tasks = read_assignment(arguments.assignment) if arguments.assignment else None
        submissions, notes = select(submissions, tasks, Path(arguments.batch).parent)
    suffix = (arguments.report or "").rsplit(".", 1)[-1].lower()
    fmt = arguments.report_format or (suffix if suffix in ("json", "html") else "csv")
    memory = (arguments.memory_limit or MEMORY_BYTES // 2**20) * 2**20
    graded: list = []
    interrupted = False
    try:
        graded = grade(submissions, jobs=arguments.jobs, progress=progress_bar(sys.stderr),
                       seconds=limits.DERIVATION_SECONDS, on_grade=graded.append,
                       memory=memory, rubric=rubric, allow_deltas=arguments.allow_deltas)
    except KeyboardInterrupt:  # keep the verdicts made so far
        interrupted = True
        graded = sorted(graded, key=lambda g: g.line)
    try:
        if fmt == "html":
            from ..grading.report_html import write_html

            if not arguments.report:
                raise ParseError("an HTML report needs --report FILE.html")
            write_html(graded, arguments.report)
        elif arguments.report:
            with open(arguments.report, "w", encoding="utf-8", newline="") as handle:
                write_report(graded, handle, fmt)
        elif not one_submission:
            write_report(graded, sys.stdout, fmt)
        if one_submission:
            from ..grading.gradescope import results, write_results

            found = results(graded, tasks, notes, Path(arguments.batch).parent, rubric,
                            withhold=arguments.withhold_terms is not False)
            with open(arguments.gradescope, "w", encoding="utf-8") as handle:
                write_results(found, handle)
        if arguments.totals:
            with open(arguments.totals, "w", encoding="utf-8", newline="") as handle:
                write_totals(graded, handle)
    except OSError as error:
        raise ParseError(f"cannot write the report: {error.strerror}") from None
    print(f"read {rows} rows; {summary(graded)}", file=sys.stderr)
    if interrupted:
        print(f"matcalc: interrupted: {len(submissions) - len(graded)} rows not graded; the "
              "report holds the verdicts made before", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK if all(g.verdict == "correct" for g in graded) else EXIT_FAILED


def add_verify(commands) -> None:
    """The parser of ``matcalc verify``."""
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
    verifying.add_argument("--kind", choices=KINDS)
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
    verifying.add_argument("--layout", choices=CONVENTIONS,
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
    verifying.add_argument("--withhold-terms", action=argparse.BooleanOptionalAction,
                           default=None,
                           help="with --gradescope: a hint quoting a piece of the reference (a "
                                "missing term or factor) names the mistake without the piece "
                                "(the default; a rubric's withhold_terms decides for its "
                                "problem); --no-withhold-terms shows it")
    verifying.add_argument("--jobs", type=int, metavar="N",
                           help="processes grading in parallel (default: the cores); each "
                                "answer is graded in a worker process under --time-limit")
    verifying.add_argument("--memory-limit", type=int, metavar="MB",
                           help="memory of one grading process (default 4096 MB)")
    verifying.add_argument("--allow-outside-paths", action="store_true",
                           help="let problem paths in the CSV leave its folder (absolute "
                                "paths, ..)")

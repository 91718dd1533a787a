"""Fuzzing: random and mutated input to the language parser, the LaTeX reader, the engine and
the command line.  The only outcomes allowed are a result or a MatcalcError (for the command
line: an exit code of 0, 1 or 2, never a traceback).

By default each target runs ``FUZZ_EXAMPLES`` inputs; ``MATCALC_FUZZ=full`` runs 20,000 per
target (the campaign whose figures docs/robustness.md reports), ``MATCALC_FUZZ=N`` N each.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import pathlib

import numpy as np
from helpers import DECLARATIONS, program
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import expressions

import matcalc
from matcalc.cli.main import main
from matcalc.errors import MatcalcError
from matcalc.grading.answers import answer_node
from matcalc.numeric.sampling import random_instance

_SWITCH = os.environ.get("MATCALC_FUZZ", "")
FUZZ_EXAMPLES = 20_000 if _SWITCH == "full" else int(_SWITCH) if _SWITCH.isdigit() else 100
fuzz = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

GALLERY = sorted(pathlib.Path("derivations").glob("*.mc"))
BASES = [path.read_text() for path in GALLERY] + [
    "x' @ A @ x", "softmax(C @ B @ A)", "tr(X @ A @ X') + logdet(X)", "A + I",
    "x : vector(n)\nS : matrix(n, n) spd\nf = x' @ inv(S) @ x\ngrad f wrt x, S",
]
TOKENS = ["(", ")", "'", ".T", "@", "*", "/", "+", "-", ":", "^", ".^", ",", ";", "\n", "=",
          "x", "A", "I", "T", "n", "0", "1", "2.5", "1e-3", "softmax(", "log(", "tr(", "kron(",
          "ones(", "commutation(", "vector(", "matrix(", "scalar", "grad", "wrt", "spd", "#",
          "unknownfn(", " ", "\\\n", "\t", "é", "$", "`", "ones(0)", "I(", "diag(", "unvec(",
          "hessian", "jacobian", "simplex", "1e308", "-0", "inv(", "det("]

CORPUS = pathlib.Path("derivations") / "corpus.csv"
LATEX_ANSWERS = [row["answer"] for row in csv.DictReader(CORPUS.open(encoding="utf-8"))
                 if "\\" in row["answer"]]
LATEX_TOKENS = ["\\", "{", "}", "^", "_", "'", "(", ")", "[", "]", "\\|", "|", "\\frac",
                "\\frac{", "\\odot", "\\otimes", "\\cdot", "\\times", "^T", "^{-1}", "^{-T}",
                "\\hat{", "\\mathbf{", "\\operatorname{", "\\mathbb{1}", "\\sigma", "\\sigma'",
                "\\delta_", "_{", "\\left(", "\\right)", "\\begin{align}", "&", "\\\\", ";",
                "=", "\\partial", "\\nabla", "x", "A", "I_n", "e^", "\\log", "\\det", "\\sqrt",
                "\\tr", "2", "-", "+", "/", ":", "*", ">", "0", "\\geq", "é", "\\unknown",
                "\\{", "\\}", "\\lVert", "\\rVert", "\\,", "$", "\\circ", "\\theta"]


def mutate(draw, text: str, tokens: list[str]) -> str:
    """A few deletions, insertions, duplications and nestings of ``text``."""
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "nest"]))
        if action == "delete":
            end = min(len(text), position + draw(st.integers(1, 6)))
            text = text[:position] + text[end:]
        elif action == "insert":
            text = text[:position] + draw(st.sampled_from(tokens)) + text[position:]
        elif action == "duplicate":
            end = min(len(text), position + draw(st.integers(1, 12)))
            text = text[:end] + text[position:end] + text[end:]
        else:
            depth = draw(st.integers(1, 150))
            text = text[:position] + "(" * depth + text[position:] + ")" * draw(
                st.integers(0, depth))
    return text


@st.composite
def mutated(draw):
    return mutate(draw, draw(st.sampled_from(BASES)), TOKENS)


@st.composite
def mutated_latex(draw):
    return mutate(draw, draw(st.sampled_from(LATEX_ANSWERS)), LATEX_TOKENS)


def small_enough(parsed) -> bool:
    sizes = [abs(coefficient) for node in parsed.variables.values()
             for d in (node.shape.rows, node.shape.cols) for _, coefficient in d.terms]
    return max(sizes, default=1) <= 50


# -- the language parser ----------------------------------------------------------------------

@fuzz
@given(mutated())
def test_mutated_problems_parse_or_fail_cleanly(text):
    try:
        parsed = matcalc.parse(text)
        parsed.describe()
        if small_enough(parsed):
            instance = random_instance(parsed, seed=0, max_tries=3)
            for definition in parsed.definitions.values():
                np.asarray(instance.evaluation.value(definition.ref))
    except MatcalcError as error:
        assert str(error)


@fuzz
@given(st.text(max_size=80))
def test_random_text_parses_or_fails_cleanly(text):
    try:
        matcalc.parse(text).describe()
    except MatcalcError as error:
        assert str(error)


# -- the LaTeX reader ---------------------------------------------------------------------------

LATEX_PROBLEM = matcalc.parse((pathlib.Path("derivations") / "cs224n_one_layer.mc").read_text())


@fuzz
@given(st.one_of(mutated_latex(), st.lists(st.sampled_from(LATEX_TOKENS), max_size=25).map(
    " ".join), st.text(max_size=60)))
def test_latex_answers_read_or_fail_cleanly(text):
    try:
        answer_node(LATEX_PROBLEM, text, True)
    except MatcalcError as error:
        assert str(error)


# -- the engine ---------------------------------------------------------------------------------

BASE = program("base = a")


@fuzz
@given(expressions(BASE.variables, max_depth=3), st.sampled_from(["grad", "jacobian",
                                                                   "hessian"]))
def test_random_expressions_derive_and_parse_back(node, kind):
    of = f"sum(sin({node}))" if kind != "jacobian" and not node.is_scalar else str(node)
    source = f"{DECLARATIONS}\nf = {of}"
    try:
        parsed = matcalc.parse(source)
        names = [name for name in parsed.variables if name in str(node)]
        if not names:
            return
        results = matcalc.derive(parsed, wrt=names[:2], kind=kind)
        matcalc.parse(source + "\n" + results.text)  # results parse back
    except MatcalcError as error:
        assert str(error)


@fuzz
@given(mutated(), st.sampled_from(["grad", "jacobian", "hessian"]))
def test_mutated_problems_derive_or_fail_cleanly(text, kind):
    try:
        parsed = matcalc.parse(text)
        if not small_enough(parsed):
            return
        matcalc.derive(parsed, kind=kind)
    except MatcalcError as error:
        assert str(error)


# -- the command line -----------------------------------------------------------------------

OPTIONS = [["--wrt", "x"], ["--wrt", "W"], ["--wrt", "q"], ["--kind", "hessian"],
           ["--kind", "jacobian"], ["--format", "json"], ["--of", "J"], ["--of", "nope"],
           ["--let", "A : matrix(n, n) symmetric"], ["--let", "A : matrix(n"], ["--seed", "3"],
           ["--size", "n=3"], ["--size", "n=0"], ["--latex"], ["--no-latex"],
           ["--answer", "W' @ x"], ["--answer", r"\hat{y} - y"], ["--answer", "(("],
           ["--check"], ["--show-answer"], ["--debug"], ["--time-limit", "5"]]


@fuzz
@given(st.sampled_from(["parse", "derive", "eval", "verify", "check", "bogus"]),
       st.one_of(mutated(), st.sampled_from(["x' @ A @ x", "softmax(W @ x)", ""])),
       st.lists(st.sampled_from(OPTIONS), max_size=4))
def test_command_line_exits_cleanly(command, problem, options):
    argv = [command, problem] + [item for option in options for item in option]
    if "--debug" in argv:
        argv.remove("--debug")  # --debug shows tracebacks on purpose
    if "--time-limit" in argv:
        index = argv.index("--time-limit")
        argv = argv[index:index + 2] + argv[:index] + argv[index + 2:]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own usage errors
            code = exit_.code
    assert code in (0, 1, 2)
    assert "Traceback" not in err.getvalue()


def test_gallery_bases_parse():
    # every base the fuzzer mutates is itself a valid problem: it parses to a program that
    # declares its variables and defines something to differentiate
    for text in BASES:
        program = matcalc.parse(text)
        assert program.variables and program.definitions, text

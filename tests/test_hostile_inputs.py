"""Hostile and odd inputs that once ended in a traceback, ran past the time limit or were read
as something else; each test failed before its fix.  The whole campaign (about 250 probes of the
command line and the grader, 100 of the workbench) is ``bench/adversary.py`` and
``bench/adversary_web.py``; ``MATCALC_ADVERSARY=1`` runs the first here."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import matcalc
from matcalc.cli.main import main
from matcalc.errors import DeclarationError, LimitError
from matcalc.numeric.evaluate import prepare
from matcalc.numeric.sampling import random_instance

ROOT = Path(__file__).resolve().parent.parent

# -- numbers beyond float64 that arithmetic on the problem's numbers makes ---------------------


@pytest.mark.parametrize("body", [
    "sum((2 * x) .^ 1e308)",  # 2 ^ 1e308 as a coefficient: OverflowError
    "sum((x .^ 1e200) .^ 1e200)",  # a power of a power: 1e400
    "sum(x .^ 1e308 * x .^ 1e308)",  # powers added: 2e308
    "sum(x) * 1e308 * 10",  # folded: inf
    "sum((1e300 * x) .^ 8)",  # a coefficient's power: OverflowError
])
def test_a_number_that_overflows_float64_is_a_limit_error(body):
    with pytest.raises(LimitError, match="beyond float64's range"):
        matcalc.derive(f"x : vector(n)\nf = {body}", wrt="x")


@pytest.mark.parametrize("body, expected", [
    ("sum(x .^ 1e308)", "1e+308 * x .^ 1e+308"),  # was an OverflowError (2 * k); k - 1 = k
    ("sum(x) * 1e308 * 10 / 100", "1.0000000000000001e+307 * ones(n)"),
    ("sum(x .^ 1e16)", "1e+16 * x .^ 1e+16"),
])
def test_huge_but_finite_numbers_are_derived_and_proven_without_numpy_warnings(body, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's overflow warnings were printed to the user
        result = matcalc.derive(f"x : vector(n)\nf = {body}", wrt="x")
        assert matcalc.check(result, seed=1).ok
    assert str(result.result) == expected


def test_the_infinity_of_a_masked_branch_is_still_read():
    result = matcalc.derive("M : matrix(T, T) mask; S : matrix(T, T)\n"
                            "P = softmax(where(M, S, -inf))\nf = sum(P .^ 2)", wrt="S")
    assert matcalc.check(result, seed=0).ok


# -- a long chain of definitions costs each body one walk when evaluated -----------------------


def test_evaluating_a_chain_root_by_root_goes_through_the_definitions_once():
    n = 400
    source = "x : vector(n)\nt0 = x\n" + "".join(f"t{i} = t{i - 1} + x\n" for i in range(1, n))
    program = matcalc.parse(source + f"f = sum(t{n - 1})")
    instance = random_instance(program, seed=0)
    steps = []

    class Counted(dict):
        def __iter__(self):
            for name in super().__iter__():
                steps.append(name)
                yield name

    program.definitions = Counted(program.definitions)
    evaluation = prepare(program, instance.arrays, instance.sizes)
    for definition in program.definitions.values():  # as the sampler does: each root in turn
        evaluation.value(definition.ref)
    # the definitions are put in order once, where going through all of them for each root
    # took n^2 / 2 = 80,000 steps (60,000 definitions: minutes past the time limit)
    assert len(steps) < 10 * n


def test_reusing_dead_arrays_scans_each_line_once(monkeypatch):
    from matcalc.codegen import reuse

    n = 300
    lines = ["t0 = _np.multiply(x, x, dtype=_dtype)"] + [
        f"t{i} = _np.multiply(t{i - 1}, x, dtype=_dtype)" for i in range(1, n)]
    allocations = {line.partition(" = ")[2]: reuse.Allocation("multiply", (f"t{i - 1}", "x"),
                                                             (f"t{i - 1}", "x"))
                   for i, line in enumerate(lines) if i}
    scans = []
    names = reuse._names
    monkeypatch.setattr(reuse, "_names", lambda text: scans.append(text) or names(text))
    rewritten = reuse.reuse_dead_arrays(lines, [f"t{n - 1}"], allocations)
    # each array lends its memory to the next: one array in all
    assert rewritten[-1] == f"t{n - 1} = _np.multiply(t{n - 2}, x, out=t{n - 2})"
    # every line is scanned for names once, where each line searched all later ones (n^2 / 2):
    # 60,000 definitions took minutes in the quick check, past the time limit
    assert len(scans) == n + 1


# -- LaTeX operations nested without brackets ----------------------------------------------------


@pytest.mark.parametrize("answer", [
    "\\sum_{i} " * 300 + "x_i",  # a RecursionError: "too large for this machine"
    "\\log " * 1000 + "x",
    "\\operatorname{tr} " * 1000 + "x",
    "\\exp " * 400 + "(x)",
])
def test_latex_operations_nested_deeply_are_a_limit_error_at_their_place(answer):
    from matcalc.lang.answers import read_answer

    program = matcalc.parse(QUADRATIC)
    with pytest.raises(LimitError, match="MAX_DEPTH") as raised:
        read_answer(program, answer, is_latex=True)
    assert raised.value.location.column > 1
    with pytest.raises(LimitError, match="MAX_DEPTH"):  # a limit stops a derivation's check
        matcalc.verify_derivation(QUADRATIC, "\\nabla_x f = " + answer)


# -- requests asked twice ----------------------------------------------------------------------


@pytest.mark.parametrize("requests", [
    "grad f wrt x\ngrad f wrt x",
    "grad f wrt x, A\nhessian f wrt x\ngrad f wrt A, x",
])
def test_a_repeated_request_is_refused_at_its_line(requests):
    source = "A : matrix(n, n); x : vector(n)\nf = x' @ A @ x\n" + requests
    with pytest.raises(DeclarationError, match="repeats the one on line 3") as raised:
        matcalc.parse(source)
    assert raised.value.location.line == len(source.splitlines())


# -- files: what is not a small regular UTF-8 file is named so, never read as text -------------

QUADRATIC = "A : matrix(n, n)\nx : vector(n)\nf = x' @ A @ x\n"


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("make, argv, message", [
    (lambda d: (d / "folder").mkdir(), ["derive", "folder"],
     "is not a regular file: it is a folder"),
    (lambda d: (d / "folder").mkdir(), ["parse", "folder"], "is not a regular file"),
    (lambda d: os.mkfifo(d / "pipe.mc"), ["derive", "pipe.mc"],
     "not a regular file: it is a device, a pipe or a socket"),
    (lambda d: (d / "p.mc").write_text(QUADRATIC),
     ["verify", "p.mc", "--wrt", "x", "--answer-file", "missing.txt"], "no such answer file"),
    (lambda d: ((d / "p.mc").write_text(QUADRATIC), (d / "folder").mkdir()),
     ["verify", "p.mc", "--wrt", "x", "--answer-file", "folder"], "answer file folder is not"),
    (lambda d: (d / "p.mc").write_text(QUADRATIC),
     ["verify", "p.mc", "--derivation", "missing.tex"], "no such derivation file"),
    (lambda d: (d / "p.mc").write_text(QUADRATIC),
     ["verify", "p.mc", "--wrt", "x", "--answer-file", "/dev/zero"], "not a regular file"),
    (lambda d: (d / "p.mc").write_text(QUADRATIC), ["derive", "--wrt", "", "p.mc"],
     "--wrt names no variable"),
    (lambda d: (d / "p.mc").write_text(QUADRATIC), ["derive", "--wrt", ",", "p.mc"],
     "--wrt names no variable"),
])
def test_files_that_are_not_text_files_are_named_so(tmp_path, monkeypatch, capsys, make, argv,
                                                    message):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    code, text = _run(capsys, *argv)
    assert code == 2 and message in text, text


def test_a_problem_path_may_not_lead_out_of_the_class_folder_through_a_link(tmp_path):
    from matcalc.grading.batch import grade, read_answers

    folder = tmp_path / "class"
    folder.mkdir()
    (tmp_path / "secret.mc").write_text("secret : vector(n)\nf = sum(secret)\n")
    (folder / "link.mc").symlink_to(tmp_path / "secret.mc")
    (folder / "up").symlink_to(tmp_path)
    (folder / "p.mc").write_text(QUADRATIC)
    (folder / "same.mc").symlink_to(folder / "p.mc")  # a link inside the folder is fine
    (folder / "c.csv").write_text("student,problem,wrt,answer\na,link.mc,secret,secret\n"
                                  "b,up/secret.mc,secret,secret\nc,same.mc,x,(A + A') @ x\n")
    grades = {g.student: g for g in grade(read_answers(folder / "c.csv"), jobs=1)}
    for student in "ab":  # was graded against the file the link leads to
        assert grades[student].verdict == "error" and "through a link" in grades[student].hint
    assert grades["c"].verdict == "correct"
    allowed = {g.student: g for g in grade(read_answers(folder / "c.csv", allow_outside=True),
                                           jobs=1)}
    assert allowed["a"].verdict == "wrong"


@pytest.mark.parametrize("argv", [
    ["verify", "p.mc", "--wrt", "x", "--answer", "2 * x"],  # a wrong answer
    ["derive", "--no-check", "p.mc"],
])
def test_output_whose_reader_went_away_never_exits_0(tmp_path, monkeypatch, argv):
    # `matcalc verify ... | head -1` exited 0 when head closed the pipe before the caret line:
    # a grader's script with pipefail took a wrong answer for a correct one
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.mc").write_text(QUADRATIC)
    read, write = os.pipe()
    os.close(read)
    stdout = os.fdopen(write, "w", buffering=1)  # each line written at once, as to a pipe
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        assert main(argv) == 141
    finally:
        stdout.close()


@pytest.mark.parametrize("host, message", [
    ("evil..name", "not a host name or address"),  # an internal error (UnicodeError)
    ("999.1.1.1", "--host 999.1.1.1"),  # uvicorn's bare log line, exit 3
    ("8.8.8.8", "--host 8.8.8.8"),  # an address of another machine
])
def test_serve_names_an_address_it_cannot_listen_at(capsys, host, message):
    code, text = _run(capsys, "serve", "--host", host, "--port", "8000")
    assert code == 2 and "cannot serve at" in text and message in text, text


def test_serve_names_a_port_in_use(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, text = _run(capsys, "serve", "--port", str(port))
    assert code == 2 and "cannot serve at" in text and str(port) in text, text


def test_a_problem_from_standard_input(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(QUADRATIC))
    code, text = _run(capsys, "derive", "--no-check", "-")
    assert code == 0 and "df_dx = (A' + A) @ x" in text


def test_standard_input_that_cannot_be_read_is_an_error(monkeypatch, capsys):
    class Closed:
        def read(self, size: int = -1) -> str:
            raise OSError("reading from stdin while output is captured")

    monkeypatch.setattr(sys, "stdin", Closed())
    code, text = _run(capsys, "derive", "-")
    assert code == 2 and "cannot read the problem from standard input" in text, text


@pytest.mark.skipif(not os.environ.get("MATCALC_ADVERSARY"),
                    reason="the whole campaign takes about a minute: MATCALC_ADVERSARY=1")
def test_the_adversary_campaign_finds_no_defect():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "adversary.py")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-5000:]

"""User text never reaches eval, exec, sympify or parse_expr."""

from __future__ import annotations

import pathlib
import re

FORBIDDEN = re.compile(r"\b(eval|exec|sympify|parse_expr)\s*\(")


# the one place code runs: matcalc's own generated module, compiled in memory (the source is
# written from expression trees, user names pass through codegen.names.identifier)
SANCTIONED = {("module.py", "exec(code, module.__dict__)")}


def test_package_source_never_evaluates_text():
    package = pathlib.Path(__file__).resolve().parent.parent / "matcalc"
    offenders = []
    for path in package.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if (path.name, code.strip()) in SANCTIONED:
                continue
            if FORBIDDEN.search(code.replace(".eval(", ".").replace("def eval(", "def ")):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, offenders


def test_generated_code_runs_from_memory_never_from_a_shared_folder(tmp_path, monkeypatch):
    # a module planted in the temporary folder under the name generated code would get is
    # never imported: loading writes and reads no file
    import tempfile

    import matcalc
    from matcalc.codegen import module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    source = matcalc.derive("x' @ A @ x", wrt="x").code()
    planted = tmp_path / "matcalc-generated"
    planted.write_text("not a folder")  # a plain file where a cache folder used to be
    loaded = module.load(source + "\n# fresh\n")
    assert loaded.gradient is not None and "<matcalc generated" in loaded.__file__
    assert list(tmp_path.iterdir()) == [planted]


NETWORK = re.compile(r"^\s*(import|from)\s+(socket|urllib|http|requests|ftplib|smtplib|"
                     r"xmlrpc|asyncio|ssl|subprocess|pickle|marshal)\b")


# the workbench's server (matcalc serve) listens on the network by design; nothing else may
SERVER = {"web", "cli/serve.py"}


def test_package_imports_nothing_that_reaches_the_network_or_runs_programs():
    package = pathlib.Path(__file__).resolve().parent.parent / "matcalc"
    offenders = [f"{path.name}:{number}: {line.strip()}"
                 for path in package.rglob("*.py")
                 if path.relative_to(package).parts[0] not in SERVER and
                 path.relative_to(package).as_posix() not in SERVER
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if NETWORK.search(line)]
    assert not offenders, offenders


def test_problem_files_are_read_as_text_only(tmp_path, capsys):
    from matcalc.cli.main import main

    binary = tmp_path / "problem.mc"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["parse", str(binary)]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


# -- a shared grading server: each answer isolated and bounded (docs/robustness.md) -------------

import csv as _csv  # noqa: E402
import json as _json  # noqa: E402
import os as _os  # noqa: E402
import time as _time  # noqa: E402

import pytest  # noqa: E402

from matcalc.cli.main import main  # noqa: E402
from matcalc.grading.batch import grade, read_answers, write_report  # noqa: E402
from matcalc.grading.workers import run_isolated  # noqa: E402

PROBLEM = "x : vector(n); A : matrix(n, n)\nf = x' @ A @ x\n"
RIGHT = "(A + A') @ x"


def _batch(tmp_path, rows, problem=PROBLEM, name="quadratic.mc"):
    (tmp_path / name).write_text(problem)
    path = tmp_path / "answers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = _csv.writer(handle)
        writer.writerow(["student", "problem", "wrt", "answer"])
        writer.writerows(rows)
    return path


HOSTILE = {
    "deep minus signs": "x / " + "- " * 3000 + "1",
    "deep exp": "\\exp" * 3000 + "(x)",
    "huge ones": "sum(ones(100000000, 100000000)) * 0 * x",
    "huge power": "A ^ 1e400 @ x",
    "huge field": "x + " * 40000 + "x",
    "a megabyte": "x" * 1_000_000,
}


def test_hostile_answers_cost_only_their_own_rows(tmp_path):
    rows = [["good1", "quadratic.mc", "x", RIGHT]]
    rows += [[name, "quadratic.mc", "x", answer] for name, answer in HOSTILE.items()]
    rows += [["good2", "quadratic.mc", "x", RIGHT]]
    start = _time.monotonic()
    grades = grade(read_answers(_batch(tmp_path, rows)), jobs=2, seconds=5)
    assert _time.monotonic() - start < 60
    verdicts = {g.student: g for g in grades}
    assert len(grades) == len(rows)
    assert verdicts["good1"].verdict == verdicts["good2"].verdict == "correct"
    for name in HOSTILE:
        assert verdicts[name].verdict == "error" and verdicts[name].hint, name


def test_a_variable_named_float_is_graded(tmp_path):
    problem = "float : vector(n); A : matrix(n, n)\nf = float' @ A @ float\n"
    grades = grade(read_answers(_batch(tmp_path, [["s", "p.mc", "float", "(A + A') @ float"]],
                                       problem, "p.mc")), jobs=1)
    assert grades[0].verdict == "correct", grades[0].hint


def test_workers_get_the_time_limit(tmp_path):
    # the defect: with --jobs 2 a 0.0001 s limit graded everything correct
    rows = [[f"s{i}", "quadratic.mc", "x", RIGHT] for i in range(4)]
    grades = grade(read_answers(_batch(tmp_path, rows)), jobs=2, seconds=0.0001)
    assert all(g.verdict == "error" and "took more than" in g.hint for g in grades)


def test_a_worker_that_overruns_is_stopped_and_replaced():
    start = _time.monotonic()
    results = dict(run_isolated([0.01, 60, 0.01], _time.sleep, jobs=1, seconds=0.5,
                                failed=lambda item, why: why))
    assert _time.monotonic() - start < 20
    assert results[0] is None and results[2] is None  # the next item ran in a new worker
    assert "stopped after 0.5 s" in results[1]


def test_workers_run_one_blas_thread_and_the_parent_keeps_its_own(monkeypatch):
    # the defect: two workers, each with a BLAS thread a core, graded slower than one
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    names = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]
    results = dict(run_isolated(names, _os.getenv, jobs=2, seconds=20,
                                failed=lambda item, why: why))
    assert list(results.values()) == ["1", "1", "1"]
    assert _os.environ["OPENBLAS_NUM_THREADS"] == "7"


def test_a_worker_that_exhausts_its_memory_costs_one_item():
    results = dict(run_isolated([10, 20 * 1024**3, 10], bytearray, jobs=1, seconds=20,
                                failed=lambda item, why: why, memory=1024**3))
    assert results[0] == bytearray(10) and results[2] == bytearray(10)
    assert "MemoryError" in results[1]


def test_problem_paths_stay_in_the_folder_of_the_answers(tmp_path):
    inside = tmp_path / "class"
    inside.mkdir()
    (tmp_path / "outside.mc").write_text(PROBLEM)
    fifo = inside / "fifo.mc"
    _os.mkfifo(fifo)
    (inside / "folder.mc").mkdir()
    rows = [["a", "../outside.mc", "x", RIGHT], ["b", "/etc/passwd", "x", RIGHT],
            ["c", "/dev/zero", "x", RIGHT], ["d", "fifo.mc", "x", RIGHT],
            ["e", "folder.mc", "x", RIGHT], ["f", "quadratic.mc", "x", RIGHT]]
    grades = {g.student: g for g in grade(read_answers(_batch(inside, rows)), jobs=1)}
    assert "leaves the folder" in grades["a"].hint and "leaves the folder" in grades["b"].hint
    assert "root:" not in grades["b"].hint
    assert "not a regular file" in grades["d"].hint and "not a regular file" in grades["e"].hint
    assert grades["f"].verdict == "correct"
    allowed = {g.student: g for g in grade(read_answers(_batch(inside, rows),
                                                        allow_outside=True), jobs=1)}
    assert allowed["a"].verdict == "correct"
    assert "not a regular file" in allowed["c"].hint  # /dev/zero is never read


def test_reports_cannot_be_turned_against_the_reader(tmp_path):
    rows = [["=HYPERLINK(\"http://x\")", "quadratic.mc", "x", "=1+1"],
            ["-bob", "quadratic.mc", "x", "0 * exp(1000 * ones(n)) + x"]]
    grades = grade(read_answers(_batch(tmp_path, rows)), jobs=1)
    out = io_text(lambda stream: write_report(grades, stream, "csv"))
    for row in _csv.DictReader(out.splitlines()):
        assert not row["student"].startswith(("=", "-", "+", "@"))
        assert not row["answer"].startswith(("=", "-", "+", "@"))
    data = _json.loads(io_text(lambda stream: write_report(grades, stream, "json")))
    assert all(item["max_rel_error"] is None or item["max_rel_error"] < 1e308 for item in data)


def io_text(write) -> str:
    import io

    stream = io.StringIO()
    write(stream)
    return stream.getvalue()


def test_an_unbalanced_quote_is_reported_with_its_line(tmp_path, capsys):
    path = tmp_path / "answers.csv"
    (tmp_path / "quadratic.mc").write_text(PROBLEM)
    path.write_text("student,problem,wrt,answer\nann,quadratic.mc,x,\"(A + A') @ x\n"
                    "bob,quadratic.mc,x,x\ncid,quadratic.mc,x,x\n")
    assert main(["verify", "--batch", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "never closed" in err


def test_ctrl_c_keeps_the_verdicts_made(tmp_path, capsys, monkeypatch):
    import matcalc.grading.batch as batch

    real = batch.grade

    def interrupted(submissions, **options):
        done = real(submissions[:2], jobs=1)
        for item in done:
            options["on_grade"](item)
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "grade", interrupted)
    rows = [[f"s{i}", "quadratic.mc", "x", RIGHT] for i in range(5)]
    report = tmp_path / "report.csv"
    assert main(["verify", "--batch", str(_batch(tmp_path, rows)), "--report", str(report)]) \
        == 130
    assert len(list(_csv.DictReader(report.open()))) == 2
    assert "3 rows not graded" in capsys.readouterr().err


@pytest.mark.parametrize("size, message", [("n=²", "size from 1"),
                                           ("n=99999999999999999999999", "size from 1"),
                                           ("n=1000000000", "size from 1"),
                                           ("zz=3", "no dimension zz")])
def test_sizes_are_checked(size, message, capsys):
    assert main(["eval", "x : vector(n)\nf = sum(x)", "--size", size]) == 2
    assert message in capsys.readouterr().err


def test_limits_hold_in_derivation_and_evaluation():
    import matcalc

    with pytest.raises(matcalc.MatcalcError, match="MAX_MATRIX_POWER"):
        matcalc.derive("A : matrix(n, n)\nf = tr(A ^ 1000000)", wrt="A")
    with pytest.raises(matcalc.MatcalcError, match="MAX_ENTRIES"):
        matcalc.check(matcalc.derive("x : vector(n)\nf = sum(ones(100000000, 100000000)) * "
                                     "sum(x)", wrt="x", check=False))


def test_a_long_chain_is_derived_or_a_limit_never_a_recursion_error(monkeypatch):
    import matcalc
    from matcalc import limits

    def chain(length: int) -> str:
        lines = ["x : vector(n)", "z0 = x"] + [f"z{i} = z{i - 1} + x" for i in range(1, length)]
        return "\n".join(lines + [f"f = sum(z{length - 1})"])

    # a generous budget (derive's own, DERIVATION_SECONDS, too): what is under test is the
    # depth, not the machine's speed (a loaded machine took more than 9 s)
    monkeypatch.setattr(limits, "DERIVATION_SECONDS", 60.0)
    with limits.time_budget(60):
        result = matcalc.derive(chain(5001), wrt="x", check=False)
    assert result.text == "df_dx = 5001 * ones(n)"
    with limits.time_budget(0.3):
        with pytest.raises(matcalc.MatcalcError, match="time"):
            matcalc.derive(chain(20001), wrt="x", check=False)

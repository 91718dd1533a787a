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


def test_package_imports_nothing_that_reaches_the_network_or_runs_programs():
    package = pathlib.Path(__file__).resolve().parent.parent / "matcalc"
    offenders = [f"{path.name}:{number}: {line.strip()}"
                 for path in package.rglob("*.py")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if NETWORK.search(line)]
    assert not offenders, offenders


def test_problem_files_are_read_as_text_only(tmp_path, capsys):
    from matcalc.cli import main

    binary = tmp_path / "problem.mc"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["parse", str(binary)]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err

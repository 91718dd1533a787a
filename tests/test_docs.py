"""The docs tell the truth: every command and code block of README.md and docs/*.md runs.

- ``sh`` blocks: each ``matcalc ...`` line runs (in a scratch folder holding a copy of
  ``derivations/``) and must not fail with bad input (2) or an internal error (3); a comment line
  under it that gives a verdict (``# wrong: ...``, ``# correct ...``, ``# graded ...``) must be
  what it prints.
- Blocks that start with ``$ matcalc ...``: the command runs and the lines shown are found in its
  output, in order (``...`` stands for lines or text left out; numbers that vary with the random
  points match any number).
- ``python`` blocks run, after a prelude that gives them the CS224n problem as ``source`` and a
  random point as ``arrays``; ``print(...)  # shown`` compares what is printed with what is shown.

Placeholders (``FILE``, ``EXPR``, ``...`` in a command) mark synopses, which are not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDER = re.compile(r"\.\.\.|\bFILE\b|\bEXPR\b|\bSTEPS_FILE\b|\[--|ANSWERS\.csv")
NUMBER = re.compile(r"(?<![\w.])-?\d+(\.\d+)?(e[-+]?\d+)?(?!\w)")
PRELUDE = """
import matcalc
from matcalc.sampling import random_instance
source = open("derivations/cs224n_one_layer.mc").read()
arrays = random_instance(matcalc.parse(source), seed=0).arrays
"""


def _blocks(path: Path) -> list[tuple[str, list[str], int]]:
    """(language, lines, line number) of every fenced block."""
    blocks, language, lines, start = [], None, [], 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            if language is None:
                language, lines, start = line[3:].strip(), [], number
            else:
                blocks.append((language, lines, start))
                language = None
        elif language is not None:
            lines.append(line)
    return blocks


def _commands(lines: list[str]) -> list[tuple[str, str]]:
    """(command, the comment line under it) of a sh block, continuations joined."""
    found, pending = [], ""
    for line in lines:
        if pending:
            pending += " " + line.strip().rstrip("\\").strip()
            if not line.rstrip().endswith("\\"):
                found.append([pending, ""])
                pending = ""
            continue
        stripped = line.strip()
        if stripped.startswith("#") and found:
            found[-1][1] = found[-1][1] or stripped[1:].strip()
            continue
        if not stripped.startswith("matcalc "):
            found.append(["", ""])
            continue
        command = stripped.split("  #", 1)[0].strip()
        if command.endswith("\\"):
            pending = command.rstrip("\\").strip()
        else:
            found.append([command, stripped.split("  #", 1)[1].strip()
                          if "  #" in stripped else ""])
    return [(c, note) for c, note in found if c and not PLACEHOLDER.search(c)]


def _cases():
    for path in DOCS:
        for language, lines, start in _blocks(path):
            where = f"{path.name}:{start}"
            if language == "sh":
                for command, note in _commands(lines):
                    yield pytest.param("sh", command, note, id=f"{where}:{command[:40]}")
            elif language == "" and lines and lines[0].startswith("$ matcalc "):
                yield pytest.param("shown", lines[0][2:], "\n".join(lines[1:]), id=where)
            elif language == "python":
                yield pytest.param("python", "\n".join(lines), "", id=where)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "derivations", folder / "derivations")
    return folder


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = dict(os.environ, NO_COLOR="1")
    environment["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environment["PATH"]
    # the commands are checked for what they print, not for speed: a loaded test machine gets
    # a generous time budget (a command's own --time-limit, after this one, still wins)
    shell_command = command.replace("matcalc ", f"{sys.executable} -m matcalc --time-limit 60 ",
                                    1)
    return subprocess.run(["bash", "-c", shell_command], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=environment)


def _pattern(expected: str) -> re.Pattern:
    """A shown line as a pattern: ``...`` is anything, numbers are any number."""
    parts = []
    for piece in re.split(r"(\.\.\.)", expected.strip()):
        if piece == "...":
            parts.append(".*")
            continue
        text, position = [], 0
        for match in NUMBER.finditer(piece):
            text.append(re.escape(piece[position:match.start()]))
            text.append(r"-?\d+(\.\d+)?(e[-+]?\d+)?")
            position = match.end()
        text.append(re.escape(piece[position:]))
        parts.append("".join(text))
    return re.compile("".join(parts))


def _assert_shown(shown: str, output: str) -> None:
    lines = output.splitlines()
    position = 0
    for expected in shown.splitlines():
        if not expected.strip() or expected.strip() == "...":
            continue
        pattern = _pattern(expected)
        for index in range(position, len(lines)):
            if pattern.search(lines[index]):
                position = index + 1
                break
        else:
            raise AssertionError(f"the docs show {expected!r}, the output has not it:\n{output}")


def _assert_note(note: str, result: subprocess.CompletedProcess) -> None:
    """A comment that states a verdict must be the verdict printed."""
    printed = result.stdout + result.stderr
    if note.startswith("wrong:"):
        hint = note.split("  ", 1)[0].strip()
        assert hint in printed, (note, printed)
    elif note.startswith("correct"):
        assert printed.startswith("correct"), printed
    elif note.startswith(("graded ", "read ")):
        _assert_shown(note.split("  ", 1)[0], printed)


def _run_python(code: str) -> None:
    namespace: dict[str, object] = {}
    exec(compile(PRELUDE, "<prelude>", "exec"), namespace)
    for statement in _statements(code):
        shown = None
        match = re.match(r"^print\((.*)\)\s+# (.*)$", statement)
        if match:
            shown = re.sub(r"\s{2,}\(.*\)$", "", match.group(2)).strip()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(statement, "<docs>", "exec"), namespace)
        if shown is not None:
            _assert_shown(shown, printed.getvalue())


def _statements(code: str) -> list[str]:
    """The top-level statements of a block, each with its own lines."""
    import ast

    tree = ast.parse(code)
    lines = code.splitlines()
    return ["\n".join(lines[node.lineno - 1:node.end_lineno]) for node in tree.body]


@pytest.mark.parametrize("kind, text, expected", list(_cases()))
def test_the_docs_run(kind, text, expected, scratch, monkeypatch):
    if kind == "python":
        for library in ("torch", "jax"):  # optional: their examples run where they are installed
            if re.search(rf"^import {library}$", text, re.MULTILINE):
                pytest.importorskip(library)
        monkeypatch.chdir(ROOT)
        _run_python(text)
        return
    result = _run(text, scratch)
    assert result.returncode in (0, 1), f"{text}: exit {result.returncode}\n{result.stderr}"
    if kind == "shown":
        _assert_shown(expected, result.stdout + result.stderr)
    else:
        _assert_note(expected, result)


def test_the_docs_test_sees_the_docs():
    # a test of the test: it finds the README's commands and the guide's shown outputs
    kinds = [case.values[0] for case in _cases()]
    assert kinds.count("sh") >= 15 and kinds.count("shown") >= 3 and kinds.count("python") >= 2


def test_a_shown_line_that_is_not_printed_fails():
    with pytest.raises(AssertionError):
        _assert_shown("dJ_dW = delta2 @ x'", "dJ_dW = delta1 @ x'")
    _assert_shown("error 4.4e-10 (tolerance 1e-06, ...)", "error 3.1e-11 (tolerance 1e-06, 9)")


def test_the_architecture_names_every_module():
    # docs/architecture.md is the map of the house: a module it does not name is undocumented
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    text = (root / "docs" / "architecture.md").read_text()
    missing = [str(path.relative_to(root / "matcalc"))
               for path in sorted((root / "matcalc").rglob("*.py"))
               if path.name != "__init__.py" and "runtime" not in path.parts
               and f"`{path.stem}`" not in text and f"`{path.name}`" not in text]
    assert missing == [], f"docs/architecture.md does not name {missing}"

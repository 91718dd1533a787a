"""The house: no import circles, imports point down the pipeline, small modules.

The graph counts every import of a matcalc module, at module level or inside a function;
imports under ``if TYPE_CHECKING:`` are for type checkers only and are left out.  A package's
own ``__init__`` runs before its modules, but that edge is the import system's, not ours, so it
is not counted (the packages' ``__init__`` files import nothing).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "matcalc"
MAX_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_TOP_LEVEL_MODULES = 8

# Each stage may import the stages of lower rank and its own; the numbers are the pipeline's
# order (docs/architecture.md).
RANKS = {
    "errors": 0, "limits": 0,
    "core": 1,
    "ops": 1.5,  # the operation registry's records: built on core, read by every stage above
    "lang": 2,
    "rules": 3,
    "engine": 4,
    "present": 5,
    "codegen": 6,
    "numeric": 7,
    "grading": 8,
    "derive": 10, "steps": 10, "sampling": 10,  # the front end (and the docs' old names)
    "web": 11,  # the server: a front end beside the command line
    "cli": 11, "__main__": 12, "__init__": 12,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _imports(name: str, path: Path, modules: dict[str, Path], typed: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    skipped = set() if typed else _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names
                       if f"{module}.{alias.name}" in modules] or [module]
        else:
            continue
        found.update(target for target in targets if target in modules and target != name)
    return found


def import_graph(typed: bool = False) -> dict[str, set[str]]:
    """matcalc module -> the matcalc modules it imports (anywhere in its code; with ``typed``,
    also those imported for type checkers only)."""
    modules = _modules()
    return {name: _imports(name, path, modules, typed) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
    return None


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_the_cycle_finder_finds_a_planted_cycle():
    # a test of the test: a -> b -> c -> a is found, a tree is not
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # ir's __str__ imports the text printer inside the method
    assert "matcalc.core.printer" in graph["matcalc.core.ir"]
    assert "matcalc.lang.parse" in graph["matcalc.derive"]


def test_no_import_cycles():
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycles_counting_imports_for_type_checkers():
    # a circle through an ``if TYPE_CHECKING:`` import is still a circle of the design
    cycle = _cycle(import_graph(typed=True))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_at_most_eight_top_level_modules():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def _long_functions(path: Path) -> list[str]:
    """``name has N lines`` for each function of the file longer than the limit."""
    tree = ast.parse(path.read_text())
    return [f"{node.name} has {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_is_over_eighty_lines():
    found = [f"{path.relative_to(PACKAGE.parent)}: {line}"
             for path in sorted(PACKAGE.rglob("*.py")) for line in _long_functions(path)]
    assert not found, "\n".join(found)


def test_the_size_checks_find_a_planted_long_function(tmp_path):
    # a test of the test: a function of 81 lines is found, one of 80 is not
    planted = tmp_path / "planted.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(79))
    planted.write_text(f"def long():\n{body}\n    return 0\n\n\ndef short():\n{body}\n")
    assert _long_functions(planted) == ["long has 81 lines"]


def test_every_stage_has_a_rank():
    assert {_stage(module) for module in import_graph()} <= set(RANKS)


def test_imports_point_down_the_pipeline():
    upward = [f"{module} -> {target}" for module, targets in import_graph().items()
              for target in targets if RANKS[_stage(target)] > RANKS[_stage(module)]]
    assert not upward, "imports against the pipeline:\n" + "\n".join(sorted(upward))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_is_over_the_size_limit(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)} has {lines} lines"


def test_package_inits_import_nothing():
    for path in PACKAGE.rglob("__init__.py"):
        if path.parent == PACKAGE:
            continue  # the package's front door re-exports the public API
        tree = ast.parse(path.read_text())
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                    and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")], \
            path


def test_importing_matcalc_imports_neither_numpy_nor_sympy():
    # start-up: numpy only when evaluating, sympy only for .expr (bench/startup.py times it)
    import subprocess
    import sys

    code = ("import sys, matcalc; matcalc.parse(\"x' @ A @ x\"); "
            "print(sorted(m for m in ('numpy', 'sympy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_scipy_is_imported_only_by_what_computes_with_it():
    # SciPy (special and matrix functions) is imported on first use: a derivation and its check
    # without lgamma or a matrix function never load it; evaluating lgamma does
    import subprocess
    import sys

    code = ("import sys, matcalc; d = matcalc.derive(\"x' @ A @ x\", wrt='x'); matcalc.check(d); "
            "print('scipy' in sys.modules); "
            "matcalc.check(matcalc.derive('sum(lgamma(x))', wrt='x', "
            "let='x : vector(n) positive')); "
            "print('scipy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "True"], result.stdout + result.stderr


def test_every_folder_of_modules_is_a_package():
    # setuptools installs only packages: a folder without __init__.py would be left out of a
    # non-editable install (pip install .)
    folders = {path.parent for path in PACKAGE.rglob("*.py")}
    assert [str(f) for f in folders if not (f / "__init__.py").exists()] == []


def _classes_named_like_verdicts() -> dict[str, list[str]]:
    """Every class of matcalc that is a verdict by its name (``...Verdict``, ``CheckResult``),
    by name, with the modules that define one of that name."""
    found: dict[str, list[str]] = {}
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and (node.name.endswith("Verdict") or
                                                   node.name == "CheckResult"):
                found.setdefault(node.name, []).append(name)
    return found


def test_every_verdict_has_one_name_and_the_one_base():
    import importlib

    from matcalc.numeric.verdict import STATUSES, VerdictBase

    found = _classes_named_like_verdicts()
    assert {"CheckResult", "ClaimVerdict", "Verdict", "StepVerdict",
            "DerivationVerdict"} <= set(found)
    for class_name, modules in found.items():
        assert len(modules) == 1, f"{class_name} is defined in {modules}: one name, one class"
        verdict_class = getattr(importlib.import_module(modules[0]), class_name)
        assert issubclass(verdict_class, VerdictBase), class_name
    # one shape: truth is ok, a status among STATUSES, a one-line summary
    from matcalc.grading.verdicts import DerivationVerdict, StepVerdict, Verdict
    from matcalc.numeric.check_steps import ClaimVerdict

    for verdict in (Verdict(True, 0.0), Verdict(False, 1.0, hint="transpose"),
                    StepVerdict(3, "a = b", False, "no"), DerivationVerdict(),
                    ClaimVerdict("dJ = G : dW", True, "kink", inconclusive=True)):
        assert bool(verdict) is verdict.ok
        assert verdict.status in STATUSES and "\n" not in verdict.summary
    assert ClaimVerdict("c", True, inconclusive=True).status == "inconclusive"
    assert DerivationVerdict().status == "incomplete" and not DerivationVerdict()

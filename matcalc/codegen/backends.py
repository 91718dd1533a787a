"""The backends of generated code: NumPy, JAX and PyTorch.

Generated code calls ``np.*`` and the helpers of :mod:`matcalc.codegen.runtime` only; a backend
is the import that provides ``np`` and the helpers' source, copied from the runtime modules so
that a generated module needs nothing from matcalc.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from importlib import resources

MARKER = "# ---- copied into every generated module from here on ----\n"


def helper_source(module: str) -> str:
    """The part of a runtime module after its marker line: what generated code copies."""
    text = resources.files("matcalc.codegen.runtime").joinpath(f"{module}.py").read_text(
        encoding="utf-8")
    return text[text.index(MARKER) + len(MARKER):]


@cache
def backend_header(backend: str) -> str:
    """The imports and helpers at the top of a module generated for ``backend``."""
    common = helper_source("common_helpers")
    if backend == "torch":
        return "import math\n\nimport torch\n\n\n" + helper_source("torch_helpers") + "\n\n" + \
            common
    numpy = helper_source("numpy_helpers")
    imports = {
        "numpy": "import math\n\nimport numpy as np\n",
        # jax.numpy follows NumPy's API for every call the generated code makes
        "jax": "import math\n\nimport jax.numpy as np  # enable float64 with "
               "jax.config.update('jax_enable_x64', True)\n",
    }[backend]
    if backend == "jax":  # after the NumPy helpers, so that its definitions replace theirs
        numpy += "\n\n" + helper_source("jax_helpers")
    return imports + "\n\n" + numpy + "\n\n" + common


BACKENDS = ("numpy", "jax", "torch")


def only_used_helpers(source: str) -> str:
    """A generated module's source without the runtime helpers nothing in it calls: the public
    functions (``gradient``, ``prepare``, ...) are kept, and every helper they name, and every
    helper those name, and so on."""
    tree = ast.parse(source)
    helpers: dict[str, list[ast.FunctionDef | ast.ClassDef]] = {}
    for node in tree.body:  # a JAX helper follows the NumPy one of its name, and replaces it
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.startswith("_"):
            helpers.setdefault(node.name, []).append(node)
    lines = source.splitlines(keepends=True)

    def text(node: ast.AST) -> str:
        return "".join(lines[node.lineno - 1:node.end_lineno])

    pending = [text(node) for node in tree.body if node.__class__ is ast.FunctionDef
               and not node.name.startswith("_")]
    used: set[str] = set()
    while pending:
        code = pending.pop()
        for name in set(re.findall(r"\b_\w+", code)) & set(helpers) - used:
            used.add(name)
            pending += [text(node) for node in helpers[name]]
    dropped = [node for name, nodes in helpers.items() if name not in used for node in nodes]
    for node in sorted(dropped, key=lambda n: -n.lineno):
        start = node.lineno - 1 - len(node.decorator_list)
        del lines[start:node.end_lineno]
    return re.sub(r"\n{4,}", "\n\n\n", "".join(_attached_comments(lines)))


def _attached_comments(lines: list[str]) -> list[str]:
    """The lines without the top-level comment blocks left standing alone (a blank line after
    them): those introduced helpers that were dropped."""
    kept: list[str] = []
    block: list[str] = []
    for line in lines:
        if line.startswith("#"):
            block.append(line)
            continue
        if block and line.strip():
            kept += block
        block = []
        kept.append(line)
    return kept + block

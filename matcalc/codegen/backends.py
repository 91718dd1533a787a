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


def only_used_helpers(source: str, header: str) -> str:
    """A generated module's source (which holds ``header`` once) without the runtime helpers
    nothing in it calls: every helper the rest of the module names is kept, and every helper
    those name, and so on."""
    start = source.index(header)
    rest = source[:start] + source[start + len(header):]
    chunks, names_in = _helpers_of(header)
    used: set[str] = set()
    pending = [name for name in set(re.findall(r"\b_\w+", rest)) if name in names_in]
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending += names_in[name]
    lines = header.splitlines(keepends=True)
    for name, first, last in reversed(chunks):
        if name not in used:
            del lines[first:last]
    kept = re.sub(r"\n{4,}", "\n\n\n", "".join(_attached_comments(lines)))
    return source[:start] + kept + source[start + len(header):]


@cache
def _helpers_of(header: str) -> tuple[list[tuple[str, int, int]], dict[str, list[str]]]:
    """The header's helper definitions as (name, first line, end line), and the helpers each
    name uses (a JAX helper follows the NumPy one of its name and replaces it: both count)."""
    lines = header.splitlines(keepends=True)
    chunks, names_in = [], {}
    for node in ast.parse(header).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.startswith("_"):
            first = node.lineno - 1 - len(node.decorator_list)
            chunks.append((node.name, first, node.end_lineno))
            text = "".join(lines[first:node.end_lineno])
            names_in.setdefault(node.name, []).extend(re.findall(r"\b_\w+", text))
    return chunks, {name: [n for n in found if n in names_in] for name, found in names_in.items()}


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

"""The backends of generated code: NumPy, JAX and PyTorch, each a spelling of every operation.

A backend is the imports and helpers at the top of a generated module (copied from the runtime
modules, so that a generated module needs nothing from matcalc) and the code the writer writes
itself, keyed (``"solve"``, ``"identity"``): NumPy's ``np.linalg.solve({0}, {1})`` is PyTorch's
``torch.linalg.solve({0}, {1})``; an operation's own code is its ``Code`` facet (matcalc/ops),
a template a backend.  Library modules are imported under
names that start with ``_`` (``_np``, ``_torch``, ``_math``), which no user name does in generated
code, so a problem may call its variables ``np`` or ``torch``.

JAX code is the NumPy code over ``jax.numpy`` (which follows NumPy's API for every call made),
with the few helpers NumPy computes in ways JAX cannot trace replaced.  PyTorch code calls
torch itself: tensors keep the inputs' dtype and device, and no template names a device.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from ..errors import UnsupportedError

MARKER = "# ---- copied into every generated module from here on ----\n"


def helper_source(module: str) -> str:
    """The part of a runtime module (``numpy_helpers``, or a module of matcalc named by its
    path in the package: ``core.indices``) after its marker line: what generated code copies."""
    package, _, name = (module if "." in module else f"codegen.runtime.{module}").rpartition(".")
    text = resources.files(f"matcalc.{package}").joinpath(f"{name}.py").read_text(
        encoding="utf-8")
    return text[text.index(MARKER) + len(MARKER):]


# the code the writer and the module write themselves (an operation's own code is its Code
# facet in matcalc/ops): {0}, {1} stand for operands' code
_NUMPY = {
    "square": "({0} * {0})", "number": "_number({0})", "dimension": "_dimension({0})",
    "trace": "np.trace({0})", "trace_of_product": "np.sum({0} * {1}.T)",
    "solve": "np.linalg.solve({0}, {1})", "multi_dot": "np.linalg.multi_dot([{0}])",
    "sqrt": "np.sqrt({0})",
    # sums along one axis, of a Hadamard product without it (codegen/row_means.py)
    "row sums": "_row_sums({0})", "column sums": "_column_sums({0})",
    "row dots": "_row_dots({0}, {1})", "column dots": "_column_dots({0}, {1})",
    "identity": "np.eye({0}, dtype=_dtype)", "ones": "np.ones(({0}, {1}), dtype=_dtype)",
    "zeros": "np.zeros(({0}, {1}), dtype=_dtype)",
    "commutation": "_commutation({0}, {1}, _dtype)",
    # matrices of blocks of diagonals (codegen/blocks.py)
    "diagonal blocks": "_diagonal_blocks({0})",
    "diagonal blocks product": "_diagonal_blocks_product({0}, {1}, {2}, {3}, {4})",
    "selected blocks": "_selected_blocks({0}, {1})",
    # the function's arguments and results
    "scalar argument": "_scalar({0}, {1})", "vector argument": "_column({0}, {1})",
    "matrix argument": "_matrix({0}, {1})", "tensor argument": "_tensor({0}, {1}, {2})",
    "dtype": "_dtype = np.result_type({0}, np.float32)", "no arrays": "_dtype = np.float64",
    "scalar result": "_returned_number({0})", "vector result": "np.reshape({0}, -1)",
    "matrix result": "np.asarray({0})",
}
_TORCH = dict(_NUMPY)
_TORCH.update({
    "trace": "torch.trace({0})", "trace_of_product": "torch.sum({0} * {1}.T)",
    "solve": "torch.linalg.solve({0}, {1})", "multi_dot": "torch.linalg.multi_dot([{0}])",
    "row sums": "torch.sum({0}, dim=1, keepdim=True)",
    "column sums": "torch.sum({0}, dim=0, keepdim=True)",
    "row dots": "torch.sum({0} * {1}, dim=1, keepdim=True)",
    "column dots": "torch.sum({0} * {1}, dim=0, keepdim=True)",
    "sqrt": "torch.sqrt({0})", "dimension": "_as(float({0}), _dtype, _device)",
    "identity": "torch.eye({0}, dtype=_dtype, device=_device)",
    "ones": "torch.ones(({0}, {1}), dtype=_dtype, device=_device)",
    "zeros": "torch.zeros(({0}, {1}), dtype=_dtype, device=_device)",
    "commutation": "_commutation({0}, {1}, _dtype, _device)",
    "scalar argument": "_scalar({0}, {1}, _dtype, _device)",
    "dtype": "_dtype = _dtype_of({0})\n_device = {1}.device",
    "no arrays": "_dtype = torch.get_default_dtype()\n_device = None",
    "scalar result": "_result({0}, _dtype, _device, ())",
    "vector result": "_as({0}, _dtype, _device).reshape(-1)",
    "matrix result": "_as({0}, _dtype, _device)",
    # stable forms PyTorch has as one operation (codegen/stable.py)
    "log-softmax": "torch.log_softmax({t}, dim={axis})",
})
# jax.numpy's multi_dot goes through einsum, whose dots XLA's CPU backend runs in transposed
# layouts (2x slower on attention's products): JAX code orders the chain itself and uses @
_JAX = dict(_NUMPY, multi_dot="_multi_dot([{0}])")
# the libraries as generated code imports them: under names no user name can take
_LIBRARIES = re.compile(r"(?<![\w.])(np|torch|math)\.")


@dataclass(frozen=True)
class Backend:
    """One library's spelling of generated code."""

    name: str
    templates: MappingProxyType
    imports: str
    helpers: tuple[str, ...]  # runtime modules copied, in order (later ones replace earlier)

    def __call__(self, operation: str, *operands: object) -> str:
        """The code of ``operation`` applied to the operands' code."""
        return self.spell(self.templates[operation]).format(*operands)

    @staticmethod
    def spell(template: str) -> str:
        """A template as generated code writes it: ``np.sum`` as ``_np.sum``, ``torch.exp`` as
        ``_torch.exp`` (the names the module imports the libraries under)."""
        return _spelled(template)

    @property
    def header(self) -> str:
        """The imports and helpers at the top of a module generated for this backend."""
        return _header(self.name)


BACKENDS_BY_NAME = {
    "numpy": Backend("numpy", MappingProxyType(_NUMPY), "import math as _math\n\n"
                     "import numpy as _np\n",
                     ("core.indices", "plain_helpers", "numpy_helpers", "factored_helpers",
                      "softmax_helpers", "reduction_helpers", "row_block_helpers",
                      "common_helpers")),
    # jax.numpy follows NumPy's API for every call the generated code makes
    "jax": Backend("jax", MappingProxyType(_JAX), "import math as _math\n\n"
                   "import jax.numpy as _np  # enable float64 with "
                   "jax.config.update('jax_enable_x64', True)\n",
                   ("core.indices", "plain_helpers", "numpy_helpers", "factored_helpers",
                    "softmax_helpers", "reduction_helpers", "jax_helpers", "common_helpers")),
    "torch": Backend("torch", MappingProxyType(_TORCH), "import math as _math\n\n"
                     "import torch as _torch\n",
                     ("core.indices", "plain_helpers", "torch_helpers", "torch_factored_helpers")),
}
BACKENDS = tuple(BACKENDS_BY_NAME)
# the format of NumPy code whose row-local functions are fused kernels (codegen/fused.py)
FUSED = "numba"


def backend(name: str) -> Backend:
    """The backend called ``name``; UnsupportedError for another name."""
    if name not in BACKENDS_BY_NAME:
        raise UnsupportedError(f"unknown backend {name!r}; backends are {', '.join(BACKENDS)}")
    return BACKENDS_BY_NAME[name]


@cache
def _spelled(template: str) -> str:
    return _LIBRARIES.sub(r"_\1.", template)


@cache
def _header(name: str) -> str:
    chosen = BACKENDS_BY_NAME[name]
    return chosen.imports + "\n\n" + "\n\n".join(helper_source(m) for m in chosen.helpers)


def backend_header(name: str) -> str:
    """The imports and helpers at the top of a module generated for the backend ``name``
    (or the fused format: NumPy's, and numba's helpers)."""
    if name == FUSED:
        return _header("numpy") + "\n\n" + helper_source("numba_helpers")
    return backend(name).header


def writing_backend(name: str) -> str:
    """The backend whose code a format's module is written in (the fused format's: NumPy)."""
    return "numpy" if name == FUSED else name


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
        name = node.name if isinstance(node, ast.FunctionDef | ast.ClassDef) else \
            node.targets[0].id if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
            isinstance(node.targets[0], ast.Name) else ""  # a helper, or a setting helpers read
        if name.startswith("_"):
            first = node.lineno - 1 - len(getattr(node, "decorator_list", ()))
            chunks.append((name, first, node.end_lineno))
            text = "".join(lines[first:node.end_lineno])
            names_in.setdefault(name, []).extend(re.findall(r"\b_\w+", text))
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

"""The backends of generated code: NumPy, JAX and PyTorch, each a spelling of every operation.

A backend is the imports and helpers at the top of a generated module (copied from the runtime
modules, so that a generated module needs nothing from matcalc) and a template for each
operation the writer emits, keyed by the operation (``"sum"``, ``"solve"``, ``"identity"``):
NumPy's ``_np.sum({0})`` is PyTorch's ``_torch.sum({0})``.  Library modules are imported under
names that start with ``_`` (``_np``, ``_torch``, ``_math``), which no user name does in generated
code, so a problem may call its variables ``np`` or ``torch``.

JAX code is the NumPy code over ``jax.numpy`` (which follows NumPy's API for every call made),
with the few helpers NumPy computes in ways JAX cannot trace replaced.  PyTorch code calls
torch itself: tensors keep the inputs' dtype and device, and no template names a device.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from ..core.functions import FUNCTIONS
from ..errors import UnsupportedError

MARKER = "# ---- copied into every generated module from here on ----\n"


def helper_source(module: str) -> str:
    """The part of a runtime module after its marker line: what generated code copies."""
    text = resources.files("matcalc.codegen.runtime").joinpath(f"{module}.py").read_text(
        encoding="utf-8")
    return text[text.index(MARKER) + len(MARKER):]


# every operation's NumPy spelling: {0}, {1} its operands (Python expressions)
_NUMPY = {
    "neg": "(-{0})", "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})",
    "div": "({0} / {1})", "matmul": "({0} @ {1})", "transpose": "{0}.T",
    "square": "({0} * {0})", "power": "_np.power({0}, {1})",
    "sum": "_np.sum({0})", "mean": "_np.mean({0})", "det": "_np.linalg.det({0})",
    "logdet": "_logdet({0})", "inv": "_np.linalg.inv({0})", "norm": "_np.linalg.norm({0})",
    "vec": "_vec({0})", "unvec": "_unvec({0}, {1}, {2})", "kron": "_np.kron({0}, {1})",
    "maximum": "_np.maximum({0}, {1})", "minimum": "_np.minimum({0}, {1})",
    "hcat": "_hcat({0}, {1})", "vcat": "_vcat({0}, {1})", "conv1d": "_conv1d({0}, {1})",
    "convolve": "_convolve({0}, {1})", "mpow": "_np.linalg.matrix_power({0}, {1})",
    "mpowk": "_np.linalg.matrix_power({0}, _integer({1}))",
    "trpowk": "_np.trace(_np.linalg.matrix_power({0}, _integer({1})))",
    "tr": "_np.trace({0})", "trace_of_product": "_np.sum({0} * {1}.T)",
    "frob": "_np.vdot({0}, {1})", "softmax": "_softmax({0}, {1})",
    "logsumexp": "_logsumexp({0}, {1}, {2})", "Diag": "_np.diagflat({0})",
    "diag": "_diagonal({0})", "solve": "_np.linalg.solve({0}, {1})",
    "multi_dot": "_np.linalg.multi_dot([{0}])", "sqrt": "_np.sqrt({0})",
    "number": "_number({0})", "dimension": "_dimension({0})",
    "identity": "_np.eye({0}, dtype=_dtype)", "ones": "_np.ones(({0}, {1}), dtype=_dtype)",
    "zeros": "_np.zeros(({0}, {1}), dtype=_dtype)",
    "commutation": "_commutation({0}, {1}, _dtype)",
    # the function's arguments and results
    "scalar argument": "_scalar({0}, {1})", "vector argument": "_column({0}, {1})",
    "matrix argument": "_matrix({0}, {1})",
    "dtype": "_dtype = _np.result_type({0}, _np.float32)", "no arrays": "_dtype = _np.float64",
    "scalar result": "_returned_number({0})", "vector result": "_np.reshape({0}, -1)",
    "matrix result": "_np.asarray({0})",
}
_NUMPY.update({name: f"{function.numpy.replace('np.', '_np.', 1)}({{0}})"
               for name, function in FUNCTIONS.items()})

# jax.numpy spells every operation as NumPy does, but for a matrix power by a traced exponent
_JAX = dict(_NUMPY, mpowk="_matrix_power_k({0}, {1})",
            trpowk="_np.trace(_matrix_power_k({0}, {1}))")

_TORCH = dict(_NUMPY)
_TORCH.update({
    "power": "_power({0}, {1})", "sum": "_torch.sum({0})", "mean": "_torch.mean({0})",
    "det": "_torch.linalg.det({0})", "inv": "_torch.linalg.inv({0})",
    "norm": "_torch.linalg.norm({0})", "kron": "_torch.kron({0}, {1})",
    "maximum": "_maximum({0}, {1})", "minimum": "_minimum({0}, {1})",
    "mpow": "_torch.linalg.matrix_power({0}, {1})",
    "mpowk": "_torch.linalg.matrix_power({0}, _integer({1}))",
    "trpowk": "_torch.trace(_torch.linalg.matrix_power({0}, _integer({1})))",
    "tr": "_torch.trace({0})", "trace_of_product": "_torch.sum({0} * {1}.T)",
    "frob": "_torch.sum({0} * {1})", "Diag": "_torch.diagflat({0})",
    "solve": "_torch.linalg.solve({0}, {1})", "multi_dot": "_torch.linalg.multi_dot([{0}])",
    "scalar argument": "_scalar({0}, {1}, _dtype, _device)",
    "sqrt": "_torch.sqrt({0})", "dimension": "_as(float({0}), _dtype, _device)",
    "identity": "_torch.eye({0}, dtype=_dtype, device=_device)",
    "ones": "_torch.ones(({0}, {1}), dtype=_dtype, device=_device)",
    "zeros": "_torch.zeros(({0}, {1}), dtype=_dtype, device=_device)",
    "commutation": "_commutation({0}, {1}, _dtype, _device)",
    "dtype": "_dtype = _dtype_of({0})\n_device = {1}.device",
    "no arrays": "_dtype = _torch.get_default_dtype()\n_device = None",
    "scalar result": "_as({0}, _dtype, _device).reshape(())",
    "vector result": "_as({0}, _dtype, _device).reshape(-1)",
    "matrix result": "_as({0}, _dtype, _device)",
})
_TORCH.update({name: f"{function.numpy.replace('np.', '_torch.', 1)}({{0}})"
               for name, function in FUNCTIONS.items()})


@dataclass(frozen=True)
class Backend:
    """One library's spelling of generated code."""

    name: str
    templates: MappingProxyType
    imports: str
    helpers: tuple[str, ...]  # runtime modules copied, in order (later ones replace earlier)

    def __call__(self, operation: str, *operands: object) -> str:
        """The code of ``operation`` applied to the operands' code."""
        return self.templates[operation].format(*operands)

    @property
    def header(self) -> str:
        """The imports and helpers at the top of a module generated for this backend."""
        return _header(self.name)


BACKENDS_BY_NAME = {
    "numpy": Backend("numpy", MappingProxyType(_NUMPY), "import math as _math\n\n"
                     "import numpy as _np\n", ("numpy_helpers", "common_helpers")),
    # jax.numpy follows NumPy's API for every call the generated code makes
    "jax": Backend("jax", MappingProxyType(_JAX), "import math as _math\n\n"
                   "import jax.numpy as _np  # enable float64 with "
                   "jax.config.update('jax_enable_x64', True)\n",
                   ("numpy_helpers", "jax_helpers", "common_helpers")),
    "torch": Backend("torch", MappingProxyType(_TORCH), "import math as _math\n\n"
                     "import torch as _torch\n", ("torch_helpers",)),
}
BACKENDS = tuple(BACKENDS_BY_NAME)


def backend(name: str) -> Backend:
    """The backend called ``name``; UnsupportedError for another name."""
    if name not in BACKENDS_BY_NAME:
        raise UnsupportedError(f"unknown backend {name!r}; backends are {', '.join(BACKENDS)}")
    return BACKENDS_BY_NAME[name]


@cache
def _header(name: str) -> str:
    chosen = BACKENDS_BY_NAME[name]
    return chosen.imports + "\n\n" + "\n\n".join(helper_source(m) for m in chosen.helpers)


def backend_header(name: str) -> str:
    """The imports and helpers at the top of a module generated for the backend ``name``."""
    return backend(name).header

"""The backends of generated code: NumPy, JAX and PyTorch.

Generated code calls ``np.*`` and the helpers of :mod:`matcalc.codegen.runtime` only; a backend
is the import that provides ``np`` and the helpers' source, copied from the runtime modules so
that a generated module needs nothing from matcalc.
"""

from __future__ import annotations

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

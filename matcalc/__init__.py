"""matcalc: closed-form matrix calculus in the notation of papers, checked numerically.

``parse``, ``check``, ``CheckResult``, ``verify`` and ``Verdict`` are imported when first used:
importing matcalc imports neither NumPy, SymPy nor the parser.
"""

from __future__ import annotations

import importlib

from .core.program import Program
from .derive import Derivative, Derivatives, derive
from .errors import CheckWarning, MatcalcError

_LATER = {"check": "numeric.check", "CheckResult": "numeric.check",
          "verify": "grading.verdicts", "Verdict": "grading.verdicts", "parse": "lang.parse",
          "verify_derivation": "grading.derivations",
          "DerivationVerdict": "grading.derivations"}


def __getattr__(name: str) -> object:
    if name in _LATER:
        value = getattr(importlib.import_module(f".{_LATER[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'matcalc' has no attribute {name!r}")


__all__ = [
    "CheckResult", "CheckWarning", "DerivationVerdict", "Derivative", "Derivatives",
    "MatcalcError", "Program", "Verdict", "check", "derive", "parse", "verify",
    "verify_derivation",
]
__version__ = "0.1.0"

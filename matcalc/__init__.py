"""matcalc: closed-form matrix calculus in the notation of papers, checked numerically."""

from .core.program import Program
from .derive import Derivative, Derivatives, derive
from .errors import MatcalcError
from .grading.verdicts import Verdict, verify
from .lang.parse import parse
from .numeric.check import CheckResult, check

__all__ = [
    "CheckResult", "Derivative", "Derivatives", "MatcalcError", "Program", "Verdict", "check",
    "derive", "parse", "verify",
]
__version__ = "0.1.0"

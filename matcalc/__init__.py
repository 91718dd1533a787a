"""matcalc: closed-form matrix calculus in the notation of papers, checked numerically."""

from .check import CheckResult, check
from .derive import Derivative, Derivatives, derive
from .errors import MatcalcError
from .lang.parse import parse
from .program import Program

__all__ = [
    "CheckResult", "Derivative", "Derivatives", "MatcalcError", "Program", "check", "derive",
    "parse",
]
__version__ = "0.1.0"

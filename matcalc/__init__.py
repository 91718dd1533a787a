"""matcalc: closed-form matrix calculus in the notation of papers, checked numerically."""

from .check import CheckResult, check
from .derive import Derivative, Derivatives, derive
from .errors import MatcalcError
from .lang.parse import parse
from .program import Program
from .verify import Verdict, verify

__all__ = [
    "CheckResult", "Derivative", "Derivatives", "MatcalcError", "Program", "Verdict", "check",
    "derive", "parse", "verify",
]
__version__ = "0.1.0"

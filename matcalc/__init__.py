"""matcalc: closed-form matrix calculus in the notation of papers, checked numerically."""

from .errors import MatcalcError
from .lang.parse import parse
from .program import Program

__all__ = ["MatcalcError", "Program", "parse"]
__version__ = "0.1.0"

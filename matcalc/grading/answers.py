"""Reading an answer over a problem, for grading: the reader is :mod:`matcalc.lang.answers`."""

from __future__ import annotations

from ..lang.answers import MAX_ANSWER_LENGTH
from ..lang.answers import read_answer as answer_node

__all__ = ["MAX_ANSWER_LENGTH", "answer_node"]

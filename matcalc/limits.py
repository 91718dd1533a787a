"""The time budget of one derivation.

The other limits live beside what they limit: ``lang.syntax.MAX_LENGTH`` (characters of input),
``lang.syntax.MAX_NESTING`` and ``lang.latex_tokens.MAX_NESTING`` (brackets inside brackets),
``lang.build.MAX_EXPRESSION_DEPTH`` (operations inside operations).  Each raises
:class:`LimitError` naming itself; raise it by assigning a larger value.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import LimitError

DERIVATION_SECONDS = 9.0  # wall-clock seconds one derivation may take
MAX_ENTRIES = 25_000_000  # entries of one array evaluated (200 MB of float64)
MAX_MATRIX_POWER = 64  # the largest k of a matrix power A ^ k (its derivative has k terms)

# the deadline of the running derivation and the budget (seconds) it came from
_deadline: ContextVar[tuple[float, float] | None] = ContextVar("matcalc_deadline", default=None)


@contextmanager
def time_budget(seconds: float | None = None) -> Iterator[None]:
    """Run the body under a deadline (nested budgets keep the outer, earlier one)."""
    limit = DERIVATION_SECONDS if seconds is None else seconds
    outer = _deadline.get()
    deadline = (time.monotonic() + limit, limit)
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_entries(rows: int, cols: int, what: str) -> None:
    """Raise LimitError before an array of ``rows`` x ``cols`` beyond MAX_ENTRIES is made."""
    if rows * cols > MAX_ENTRIES:
        raise LimitError(f"{what} would be {rows} x {cols}, more than {MAX_ENTRIES:,} entries "
                         "(matcalc.limits.MAX_ENTRIES sets the limit); choose smaller sizes")


def check_time() -> None:
    """Raise LimitError when the current derivation has used up its time budget."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline[0]:
        raise LimitError(f"the derivation took more than {deadline[1]:g} s "
                         "(matcalc.limits.DERIVATION_SECONDS, or matcalc --time-limit SECONDS, "
                         "sets the limit); split the problem or ask for fewer results at once")

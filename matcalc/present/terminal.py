"""Colour on a terminal, plain text when piped: comments dim, defined names bold, verdicts green
(ok, correct) or red (FAILED, wrong).  ``NO_COLOR`` (https://no-color.org) turns colour off;
``--color always|never`` overrides the detection."""

from __future__ import annotations

import os
import re
from typing import TextIO

RESET, BOLD, DIM, GREEN, RED, YELLOW = "\033[0m", "\033[1m", "\033[2m", "\033[32m", "\033[31m", \
    "\033[33m"

_DEFINITION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)( = )", re.MULTILINE)
_COMMENT = re.compile(r"^(#[^\n]*)$", re.MULTILINE)
_VERDICT = re.compile(r"\b(ok|correct|FAILED|wrong|kink|inconclusive)\b")
_COLOURS = {"ok": GREEN, "correct": GREEN, "FAILED": RED, "wrong": RED, "kink": YELLOW,
            "inconclusive": YELLOW}


def use_colour(stream: TextIO, choice: str = "auto") -> bool:
    """Whether to colour output to ``stream``: always, never, or auto (a terminal, NO_COLOR
    unset, TERM not dumb)."""
    if choice in ("always", "never"):
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def colour_text(text: str) -> str:
    """Derivation text with comments dimmed, defined names bold and verdicts coloured."""
    text = _DEFINITION.sub(lambda m: f"{BOLD}{m.group(1)}{RESET}{m.group(2)}", text)
    return _COMMENT.sub(lambda m: f"{DIM}{_colour_verdicts(m.group(1), DIM)}{RESET}", text)


def colour_verdict(line: str) -> str:
    """A verdict line with its first word coloured."""
    return _VERDICT.sub(lambda m: f"{_COLOURS[m.group(1)]}{m.group(1)}{RESET}", line, count=1)


def _colour_verdicts(text: str, outer: str) -> str:
    return _VERDICT.sub(lambda m: f"{_COLOURS[m.group(1)]}{m.group(1)}{RESET}{outer}", text,
                        count=1)


__all__ = ["colour_text", "colour_verdict", "use_colour"]

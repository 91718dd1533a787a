"""Hints that quote a piece of the reference, and the same hints without it.

Some hints name what the answer lacks by quoting it from the reference: a missing term
(``a term of the sum is missing: -2 * A' @ b``), the reference's term whose sign the answer
flipped, a missing factor of an elementwise product (``1 - h * h``, the relu mask ``step(z)``).
Beside the answer, such a hint is the reference.  Where a student may try again and again
(practice mode, an autograder with resubmissions) the instructor may have the piece withheld:
the hint still names the kind of mistake, not the piece.  The hints are written with the
phrases below (:mod:`.hints`, :mod:`.hints_terms`), so the one cut here fits them all.
"""

from __future__ import annotations

MISSING_TERM = "a term of the sum is missing"
FLIPPED_TERM = "the sign of one term is flipped"  # followed by the reference's term
MISSING_FACTOR = "a factor of an elementwise product is missing"
RELU_MASK = "the relu mask"  # followed by the reference's step(...) and MASK_MISSING
MASK_MISSING = "is missing (relu' = step)"
IN_YOUR_ANSWER = " in your answer"  # a term quoted from the answer itself: nothing to withhold

WITHHELD_UNTIL_SHOWN = " (which is shown with the reference)"


def quoting(phrase: str, piece: object) -> str:
    """A hint naming a piece of the reference: ``phrase: piece``."""
    return f"{phrase}: {piece}"


def relu_mask_missing(mask: object) -> str:
    return f"{RELU_MASK} {mask} {MASK_MISSING}"


def withhold_terms(text: str, instead: str = "") -> str:
    """``text`` (a hint, or a verdict holding one) with each piece of the reference it quotes
    cut out, and ``instead`` said in its place; other text comes back as it was."""
    return "\n".join(_withheld_line(line, instead) for line in text.split("\n"))


def _withheld_line(line: str, instead: str) -> str:
    for phrase in (MISSING_TERM, FLIPPED_TERM, MISSING_FACTOR):
        start = line.find(f"{phrase}: ")
        if start >= 0 and not line.endswith(IN_YOUR_ANSWER):
            return line[:start + len(phrase)] + instead
    start, end = line.find(f"{RELU_MASK} "), line.find(f" {MASK_MISSING}")
    if 0 <= start < end:
        return line[:start + len(RELU_MASK)] + instead + line[end:]
    return line


def withholding_terms(answer: dict, keys: tuple[str, ...],
                      instead: str = WITHHELD_UNTIL_SHOWN) -> dict:
    """Cuts the quoted pieces out of ``answer``'s texts under ``keys`` (in place); the texts as
    they were, for those that changed."""
    whole = {}
    for key in keys:
        text = answer.get(key)
        if isinstance(text, str):
            cut = withhold_terms(text, instead)
            if cut != text:
                whole[key], answer[key] = text, cut
    return whole


__all__ = ["FLIPPED_TERM", "MISSING_FACTOR", "MISSING_TERM", "WITHHELD_UNTIL_SHOWN",
           "quoting", "relu_mask_missing", "withhold_terms", "withholding_terms"]

"""Rubrics: the points of a problem, partial credit per kind of mistake, feedback per kind.

A rubric is a TOML file (read with the standard library's tomllib)::

    points = 10                # for a correct answer
    [partial]                  # points kept by a wrong answer whose mistake is of this kind
    transpose = 7
    sign = 8
    [feedback]                 # a text for the student, per kind
    transpose = "The gradient of a scalar has the shape of the variable."
    [practice]                 # matcalc serve --practice: show the reference answer after
    reveal_after = 3           # this many checks of the problem in one browser (else never)

A top-level ``allow_deltas = true`` lets answers to the problem use the result's named deltas
(``delta2`` for the gradient by ``b1``) without defining them; off by default.  A top-level
``withhold_terms`` (true or false) decides whether the hints students see (Gradescope output,
practice mode) leave out the pieces of the reference they quote (:mod:`.withholding`); absent, the
command line (``--withhold-terms`` / ``--no-withhold-terms``) decides, withholding by default.

The kinds are those the hints name: ``transpose``, ``sign``, ``factor`` (a constant or a size),
``term`` (a missing term), ``mask`` (a missing factor of an elementwise product: relu's step),
``product`` (Hadamard for matrix product, Kronecker factors), ``shape``, ``assumption``
(right only under an undeclared one), ``other``; ``error`` (the answer cannot be read) keeps 0.
A problem's rubric is ``<problem>.rubric.toml`` beside it, else the one given to the grader.
Points are finite numbers from 0 to 1,000,000 (``nan``, ``inf`` and ``1e308`` are refused), so
totals and reports hold only finite numbers.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParseError

# the most points one problem may carry: a class's totals stay finite and exact in a float
MAX_POINTS = 1_000_000
KINDS = ("transpose", "sign", "factor", "term", "mask", "product", "shape", "assumption",
         "other")
# (kind, what the hint says): the first that matches names the mistake
_PATTERNS = (
    ("shape", re.compile(r"does not type-check|, but the \w+ is|shape of the transpose")),
    ("mask", re.compile(r"relu mask|factor of an elementwise product is missing")),
    ("transpose", re.compile(r"transpose|W\^-T|\^-T\)")),
    ("sign", re.compile(r"sign")),
    ("factor", re.compile(r"constant factor|a factor 1 /|divided by|times the")),
    ("term", re.compile(r"term of the sum is missing")),
    ("product", re.compile(r"product|factors are swapped|Diag\(s\)|diagonal")),
    ("assumption", re.compile(r"holds only when")),
)


def mistake_kind(hint: str) -> str:
    """The kind of mistake a hint names (``other`` when it names none)."""
    for kind, pattern in _PATTERNS:
        if pattern.search(hint):
            return kind
    return "other"


@dataclass(frozen=True)
class Rubric:
    """Points for a correct answer, partial credit and feedback per kind of mistake."""

    points: float = 1.0
    partial: dict[str, float] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)
    reveal_after: int | None = None  # practice mode: attempts before the reference is shown
    allow_deltas: bool = False  # answers may use the result's named deltas
    withhold_terms: bool | None = None  # hints shown to students omit the reference's pieces

    def score(self, verdict: str, hint: str) -> tuple[float, str, str]:
        """(points, kind of mistake, feedback) of a graded answer."""
        if verdict == "correct":
            return self.points, "", self.feedback.get("correct", "")
        if verdict == "error":
            return 0.0, "error", self.feedback.get("error", "")
        kind = mistake_kind(hint)
        return self.partial.get(kind, 0.0), kind, self.feedback.get(kind, "")


def load_rubric(path: str | Path) -> Rubric:
    """A rubric from its TOML file; a ParseError names what is wrong in it."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ParseError(f"cannot read the rubric {file}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ParseError(f"the rubric {file} is not TOML: {error}") from None
    unknown = set(data) - {"points", "allow_deltas", "withhold_terms", "partial", "feedback",
                           "practice"}
    if unknown:
        raise ParseError(f"the rubric {file} has unknown keys: {', '.join(sorted(unknown))} "
                         "(it takes points, allow_deltas, withhold_terms, [partial], [feedback] "
                         "and [practice])")
    allow_deltas = data.get("allow_deltas", False)
    withhold_terms = data.get("withhold_terms")
    for key, value in (("allow_deltas", allow_deltas), ("withhold_terms", withhold_terms)):
        if value is not None and not isinstance(value, bool):
            raise ParseError(f"the rubric {file}: {key} is true or false, not {value!r}")
    points = data.get("points", 1.0)
    partial, feedback = data.get("partial", {}), data.get("feedback", {})
    if not _finite_points(points, MAX_POINTS):
        raise ParseError(f"the rubric {file}: points is a finite number from 0 to "
                         f"{MAX_POINTS:,}, not {points!r}")
    for table, name in ((partial, "partial"), (feedback, "feedback")):
        if not isinstance(table, dict):
            raise ParseError(f"the rubric {file}: [{name}] is a table of kinds")
        wrong = set(table) - set(KINDS) - ({"correct", "error"} if name == "feedback" else set())
        if wrong:
            raise ParseError(f"the rubric {file}: [{name}] names unknown kinds "
                             f"{', '.join(sorted(wrong))} (kinds: {', '.join(KINDS)})")
    for kind, value in partial.items():
        if not _finite_points(value, points):
            raise ParseError(f"the rubric {file}: partial.{kind} is a number from 0 to "
                             f"points ({points:g}), not {value!r}")
    for kind, text in feedback.items():
        if not isinstance(text, str):
            raise ParseError(f"the rubric {file}: feedback.{kind} is a text")
    return Rubric(float(points), {k: float(v) for k, v in partial.items()}, dict(feedback),
                  _reveal_after(data.get("practice", {}), file), allow_deltas, withhold_terms)


def _reveal_after(practice: object, file: Path) -> int | None:
    """``[practice] reveal_after``: a whole number of attempts >= 1, or absent."""
    if not isinstance(practice, dict) or set(practice) - {"reveal_after"}:
        raise ParseError(f"the rubric {file}: [practice] takes reveal_after only")
    after = practice.get("reveal_after")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int) or
                              after < 1):
        raise ParseError(f"the rubric {file}: practice.reveal_after is a whole number of "
                         f"attempts >= 1, not {after!r}")
    return after


def _finite_points(value: object, most: float) -> bool:
    """A number of points: finite (no nan, no inf) and from 0 to ``most`` (booleans, which
    TOML keeps apart from numbers, are not points)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value) and 0 <= value <= most


def rubric_for(problem_path: str, default: Rubric) -> Rubric:
    """The rubric beside a problem file (``<problem>.rubric.toml``), else ``default``."""
    beside = Path(problem_path).with_suffix(".rubric.toml")
    return load_rubric(beside) if beside.is_file() else default

"""The one shape of matcalc's verdicts: a finite-difference check of a result
(:class:`~matcalc.numeric.check.CheckResult`), a claim of a derivation's steps
(:class:`~matcalc.numeric.check_steps.ClaimVerdict`), a grade of an answer
(:class:`~matcalc.grading.verdicts.Verdict`), of one step of a hand derivation
(:class:`~matcalc.grading.verdicts.StepVerdict`) and of the whole derivation
(:class:`~matcalc.grading.verdicts.DerivationVerdict`) all derive from :class:`VerdictBase`.
"""

from __future__ import annotations

# what a verdict says: the claim holds, it is false, the evidence cannot decide (a kink, the
# edge of the domain), or there is not enough to judge (a derivation stopping short)
STATUSES = ("holds", "false", "inconclusive", "incomplete")


class VerdictBase:
    """Every verdict has ``ok`` (the claim holds), ``status`` (one of STATUSES), ``summary``
    (one line) and is true exactly when it is ok.  Subclasses are dataclasses holding their
    evidence; they refine ``status`` and ``summary`` where they know more."""

    ok: bool

    @property
    def status(self) -> str:
        return "holds" if self.ok else "false"

    @property
    def summary(self) -> str:
        """The verdict in one line."""
        return str(self).splitlines()[0] if str(self) else self.status

    def __bool__(self) -> bool:
        return bool(self.ok)


__all__ = ["STATUSES", "VerdictBase"]

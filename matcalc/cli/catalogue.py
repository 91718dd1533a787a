"""The rule catalogue, generated from the rule tables.

``python -m matcalc.cli.catalogue > docs/rules.md``; a test fails when docs/rules.md is stale.
"""

from __future__ import annotations

from ..core.registry import view
from ..rules.operations import ADJOINTS, DIFFERENTIALS, JACOBIANS
from ..rules.simplification import RULES


def _line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\\\|")


def catalogue() -> str:
    """The catalogue as Markdown."""
    lines = [
        "# Rule catalogue",
        "",
        "Generated from the rule tables by `python -m matcalc.cli.catalogue`; do not edit by hand.",
        "",
        "## Derivative rules, by operation",
        "",
        "| operation | differential (matrix form) | adjoint, per argument | Jacobian (vec form) |",
        "|---|---|---|---|",
    ]
    for op in sorted(view("shape")):
        adjoints = "<br>".join(dict.fromkeys(_line(rule.__doc__) for rule in ADJOINTS[op]))
        lines.append(f"| `{op}` | {_line(DIFFERENTIALS[op].__doc__)} | {adjoints} | "
                     f"{_line(JACOBIANS[op].__doc__)} |")
    lines += [
        "",
        "## Simplification rules",
        "",
        "| rule | identity | needs | example |",
        "|---|---|---|---|",
    ]
    for rule in RULES:
        example = _line(rule.example.replace("\n", "; "))
        lines.append(f"| {rule.name} | {_line(rule.identity)} | {rule.needs or ''} | "
                     f"`{example}` |")
    lines += [
        "",
        "Besides these, three rewrites are kept only when they make an expression smaller: "
        "distributing a product over a sum (and a transpose over a sum), collecting the terms "
        "of elementwise algebra and factoring out what they all share "
        "(`matcalc/engine/polynomial.py`; "
        "a divisor cancels only when it is known to be positive or when the function itself "
        "divides by it, so that it is not zero wherever the function is defined), "
        "and moving a scalar divisor inwards where it meets something it simplifies with "
        "(`(c * v) / s = (c / s) * v`, `(a / t) / s = (a / s) / t`: "
        "`(((g : y) / sigma) * y) / n` becomes `(mean(g * y) / sigma) * y`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(catalogue(), end="")

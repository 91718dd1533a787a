"""What a server request asks for, computed in a worker process: plain data in, JSON-ready data
out (the schema of ``matcalc derive --format json``; docs/guide.md, "The workbench").

Every request is ``(endpoint, fields, seconds)``; nothing in it is evaluated as code.  Bad input
comes back as ``{"error": {...}}`` with its place, never as an exception.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

from .. import limits
from ..errors import CheckWarning, MatcalcError, ParseError

BACKENDS = ("numpy", "jax", "torch")


def handle(request: tuple[str, dict, float]) -> dict:
    """The answer to one request (run by a worker, under the request's time budget)."""
    endpoint, fields, seconds = request
    limits.DERIVATION_SECONDS = seconds  # messages name the limit that applies (a worker's own)
    try:
        with limits.time_budget(seconds), warnings.catch_warnings():
            warnings.simplefilter("ignore", CheckWarning)  # the answer reports its check
            return ENDPOINTS[endpoint](fields)
    except MatcalcError as error:
        return {"error": error_json(error)}
    except RecursionError:
        return {"error": {"type": "LimitError", "message": "the input is nested too deeply",
                          "line": None, "column": None, "length": None}}


def error_json(error: MatcalcError) -> dict:
    """A MatcalcError as data: its kind, message and place (1-based line and column)."""
    location = error.location
    return {"type": type(error).__name__, "message": error.message,
            "line": location.line if location else None,
            "column": location.column if location else None,
            "length": location.length if location else None}


def _text(fields: dict, name: str, required: bool = True) -> str | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ParseError(f"the request needs '{name}' as a string")
    return value


def _names(fields: dict, name: str) -> list[str] | None:
    value = fields.get(name)
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ParseError(f"'{name}' is a name, a comma-separated list or a list of names")


def _derive(fields: dict) -> dict:
    from ..derive import Derivatives, derive, derive_by_request
    from ..lang.parse import parse
    from ..present.results_json import results_json

    program = parse(_text(fields, "problem"))
    wrt, of, kind = _names(fields, "wrt"), _text(fields, "of", False), _text(fields, "kind", False)
    thorough = bool(fields.get("check"))
    if wrt or of or kind or not program.requests:
        result = derive(program, wrt=wrt, of=of or None, kind=kind or None, check=not thorough)
        groups = [result if isinstance(result, Derivatives) else Derivatives([result])]
    else:
        groups = derive_by_request(program, check=not thorough)
    verdicts: list = [None] * len(groups)
    if thorough:
        from ..numeric.check import check

        verdicts = [check(list(group)) for group in groups]
    answer = results_json(groups, verdicts, with_steps=bool(fields.get("steps")))
    backends = fields.get("code") or []
    if not isinstance(backends, list) or not set(backends) <= set(BACKENDS):
        raise ParseError(f"'code' is a list of backends among {', '.join(BACKENDS)}")
    if backends:
        from ..codegen.module import generate_many

        answer["code"] = {backend: generate_many(groups, backend=backend) for backend in backends}
    return answer


def _verify(fields: dict) -> dict:
    from ..derive import derive
    from ..grading.verdicts import verify_against
    from ..lang.parse import parse

    program = parse(_text(fields, "problem"))
    wrt = _names(fields, "wrt")
    if not wrt or len(wrt) != 1:
        raise ParseError("'wrt' names the one variable the answer is the derivative for")
    kind = _text(fields, "kind", False) or "grad"
    expected = derive(program, wrt=wrt[0], of=_text(fields, "of", False) or None, kind=kind,
                      check=False)
    latex = fields.get("latex")
    verdict = verify_against(expected, _text(fields, "answer"),
                             latex if isinstance(latex, bool) else None)
    return {"ok": verdict.ok, "verdict": str(verdict), "hint": verdict.hint,
            "max_rel_error": finite(verdict.max_rel_error),
            "read_as": verdict.read_as, "read_as_latex": verdict.read_as_latex,
            "expected": expected.text, "expected_latex": expected.latex,
            "counterexample": plain(verdict.counterexample)}


def _derivation(fields: dict) -> dict:
    from ..grading.derivations import verify_derivation

    wrt = _names(fields, "wrt")
    verdict = verify_derivation(_text(fields, "problem"), _text(fields, "derivation"),
                                wrt=wrt[0] if wrt else None,
                                of=_text(fields, "of", False) or None,
                                layout=_text(fields, "layout", False) or "denominator")
    first = verdict.first_error
    return {"ok": verdict.ok, "layout": verdict.layout,
            "first_error_line": first.line if first else None,
            "steps": [{"line": step.line, "text": step.text, "ok": step.ok, "hint": step.hint,
                       "counterexample": plain(step.counterexample)} for step in verdict.steps]}


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def plain(value: object) -> object:
    """``value`` with every float JSON can hold (NaN and infinities become null)."""
    if isinstance(value, float):
        return finite(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


ENDPOINTS: dict[str, Callable[[dict], dict]] = {
    "derive": _derive, "verify": _verify, "derivation": _derivation,
}

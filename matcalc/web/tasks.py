"""What a server request asks for, computed in a worker process: the request's bytes in, JSON-ready
data out (the schema of ``matcalc derive --format json``; docs/guide.md, "The workbench").

Every request is ``(endpoint, body, seconds, practice)``: the body is read here, in the worker
(under its memory limit), not in the server; nothing in it is evaluated as code.  Bad input comes
back as ``{"error": {...}}`` naming the field and, for an error in a field's text, its place;
never as an exception.  ``practice`` is what the server, not the client, says of a practice
problem (its text, its questions, its rubric): see :mod:`matcalc.web.practice`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .. import limits
from ..engine.result import CONVENTIONS, KINDS
from ..errors import CheckWarning, MatcalcError, ParseError
from ..grading.withholding import withholding_terms

BACKENDS = ("numpy", "jax", "torch")


class FieldError(ParseError):
    """A field of a request that is missing, of the wrong type, or not one of its values."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def handle(request: tuple[str, bytes, float, dict | None]) -> dict:
    """The answer to one request (run by a worker, under the request's time budget)."""
    endpoint, body, seconds, practice = request
    limits.DERIVATION_SECONDS = seconds  # messages name the limit that applies (a worker's own)
    try:
        fields = read_body(body, SCHEMAS[endpoint])
        with limits.time_budget(seconds), warnings.catch_warnings():
            warnings.simplefilter("ignore", CheckWarning)  # the answer reports its check
            return ENDPOINTS[endpoint](fields, practice)
    except MatcalcError as error:
        return {"error": error_json(error)}
    except RecursionError:
        return _limit("the input is nested too deeply")
    except MemoryError:  # the worker's address-space limit (serve --memory-limit)
        return _limit("the request needed more memory than a worker may use "
                      "(matcalc serve --memory-limit MB sets it)")


def _limit(message: str) -> dict:
    return {"error": {"type": "LimitError", "message": message, "field": None, "line": None,
                      "column": None, "length": None}}


def error_json(error: MatcalcError) -> dict:
    """A MatcalcError as data: its kind, message, field and place (1-based line and column)."""
    location = error.location
    return {"type": type(error).__name__, "message": error.message,
            "field": getattr(error, "field", None),
            "line": location.line if location else None,
            "column": location.column if location else None,
            "length": location.length if location else None}


@contextmanager
def reading(field: str) -> Iterator[None]:
    """Errors raised inside are about ``field`` (its text, where they have a place)."""
    try:
        yield
    except MatcalcError as error:
        if getattr(error, "field", None) is None:
            error.field = field  # type: ignore[attr-defined]
        raise


# What each field of an endpoint holds: text, names (a name, "a, b" or a list of names),
# flag (true / false), one of a tuple of values, a list among a tuple of values; required
# fields are marked with a leading "!".
Schema = dict[str, object]
SCHEMAS: dict[str, Schema] = {
    "derive": {"!problem": "text", "wrt": "names", "of": "text", "kind": KINDS,
               "steps": "flag", "check": "flag", "code": [BACKENDS]},
    "verify": {"!problem": "text", "!wrt": "names", "!answer": "text", "of": "text",
               "kind": KINDS, "latex": "flag"},
    "derivation": {"!problem": "text", "!derivation": "text", "wrt": "names", "of": "text",
                   "layout": CONVENTIONS},
    "practice-verify": {"!answer": "text", "wrt": "names", "kind": KINDS, "latex": "flag"},
    "practice-derivation": {"!derivation": "text", "wrt": "names", "kind": KINDS,
                            "layout": CONVENTIONS},
}


def read_body(body: bytes, schema: Schema) -> dict:
    """The request's JSON object, each field checked against ``schema`` (a FieldError names the
    first that is wrong); absent optional fields, and null ones, are left out."""
    try:
        fields = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise ParseError("the request body is not JSON") from None
    if not isinstance(fields, dict):
        raise ParseError("the request body is a JSON object")
    _unicode(fields)
    known = {name.lstrip("!"): kind for name, kind in schema.items()}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise FieldError(unknown[0], f"unknown field '{unknown[0]}'; the fields are "
                                     f"{', '.join(known)}")
    checked = {}
    for name, kind in schema.items():
        required, name = name.startswith("!"), name.lstrip("!")
        value = fields.get(name)
        if value is None or (kind == "names" and value in ("", [])):
            if required:
                raise FieldError(name, f"the request needs the field '{name}'")
            continue
        checked[name] = _field(name, kind, value)
    return checked


def _unicode(fields: dict) -> None:
    """Refuses text that is not Unicode (JSON's "\\ud800", a lone surrogate): nothing could be
    read from it, and an answer echoing it could not be written out."""
    def encodable(value: object) -> bool:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True

    for name, value in fields.items():
        if not encodable(name):
            raise ParseError("a field's name is not Unicode text (it holds a lone surrogate "
                             "such as \\ud800)")
        if not encodable(value):
            raise FieldError(name, f"'{name}' is not Unicode text (it holds a lone surrogate "
                                   "such as \\ud800)")


def _field(name: str, kind: object, value: object) -> object:
    if kind == "text":
        if not isinstance(value, str):
            raise FieldError(name, f"'{name}' is a text (a JSON string)")
        return value
    if kind == "flag":
        if not isinstance(value, bool):
            raise FieldError(name, f"'{name}' is true or false")
        return value
    if kind == "names":
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        raise FieldError(name, f"'{name}' is a name, a comma-separated list or a list of names")
    if isinstance(kind, tuple):
        if value not in kind:
            raise FieldError(name, f"'{name}' is one of {', '.join(kind)}, not "
                                   f"{json.dumps(value)[:60]}")
        return value
    assert isinstance(kind, list)
    allowed = kind[0]
    if not isinstance(value, list) or not all(isinstance(item, str) and item in allowed
                                              for item in value):
        raise FieldError(name, f"'{name}' is a list among {', '.join(allowed)}, not "
                               f"{json.dumps(value)[:60]}")
    return value


def _program(fields: dict, practice: dict | None):
    """The problem: the practice problem the server names, else the request's own text."""
    from ..lang.parse import parse

    with reading("problem"):
        return parse(practice["source"] if practice else fields["problem"])


def _target(program, fields: dict) -> tuple[list[str] | None, str | None]:
    """The request's ``wrt`` and ``of``, each checked against the problem."""
    wrt, of = fields.get("wrt"), fields.get("of")
    for name in wrt or []:
        if name not in program.variables:
            raise FieldError("wrt", f"'wrt' names {name!r}, which is not a variable of the "
                                    f"problem (its variables: {', '.join(program.variables)})")
    if of is not None and of not in program.definitions:
        raise FieldError("of", f"'of' names {of!r}, which is not a definition of the problem "
                               f"(its definitions: {', '.join(program.definitions)})")
    return wrt, of


def _derive(fields: dict, practice: dict | None) -> dict:
    from ..derive import Derivatives, derive, derive_by_request
    from ..present.results_json import results_json

    program = _program(fields, practice)
    (wrt, of), kind = _target(program, fields), fields.get("kind")
    thorough = fields.get("check", False)
    with reading("problem"):
        if wrt or of or kind or not program.requests:
            result = derive(program, wrt=wrt, of=of, kind=kind, check=not thorough)
            groups = [result if isinstance(result, Derivatives) else Derivatives([result])]
        else:
            groups = derive_by_request(program, check=not thorough)
        verdicts: list = [None] * len(groups)
        if thorough:
            from ..numeric.check import check

            verdicts = [check(list(group)) for group in groups]
        answer = results_json(groups, verdicts, with_steps=fields.get("steps", False))
        backends = fields.get("code", [])
        if backends:
            from ..codegen.module import generate_many

            answer["code"] = {backend: generate_many(groups, backend=backend)
                              for backend in backends}
    return answer


def _expected(fields: dict, practice: dict | None):
    """The problem and the derivative an answer is checked against."""
    from ..derive import derive

    program = _program(fields, practice)
    if practice:
        wrt, of, kind = _question(practice["questions"], fields)
    else:
        (wrt, of), kind = _target(program, fields), fields.get("kind", "grad")
    if not wrt or len(wrt) != 1:
        raise FieldError("wrt", "'wrt' names the one variable the answer is the derivative for")
    with reading("problem"):
        return program, derive(program, wrt=wrt[0], of=of, kind=kind, check=False)


def _question(questions: list[tuple[str, str, str]], fields: dict
              ) -> tuple[list[str], str, str]:
    """The question of a practice problem the request answers: ``(of, wrt, kind)`` chosen by
    the request's ``wrt`` and ``kind`` (either may be left out where one question fits)."""
    wrt, kind = fields.get("wrt"), fields.get("kind")
    if wrt is not None and len(wrt) != 1:
        raise FieldError("wrt", "'wrt' names the one variable the answer is the derivative for")
    fitting = [question for question in questions
               if (wrt is None or question[1] == wrt[0]) and kind in (None, question[2])]
    if len(fitting) != 1:
        asked = "; ".join(f"{k} {of} wrt {w}" for of, w, k in questions)
        field = "wrt" if wrt is None or not fitting else "kind"
        raise FieldError(field, f"'wrt' (and 'kind' where needed) choose one question of the "
                                f"problem: {asked}")
    of, name, kind = fitting[0]
    return [name], of, kind


def _verify(fields: dict, practice: dict | None) -> dict:
    """The verdict on an answer; the expected result is under ``reference``, which the server
    passes on only where it may (never in practice mode unless the rubric allows it)."""
    from ..grading.verdicts import verify_against

    _, expected = _expected(fields, practice)
    rubric = practice.get("rubric") if practice else None
    with reading("answer"):
        verdict = verify_against(expected, fields["answer"], fields.get("latex"),
                                 allow_deltas=rubric is not None and rubric.allow_deltas)
    answer = {"ok": verdict.ok, "verdict": str(verdict), "hint": verdict.hint,
              "max_rel_error": finite(verdict.max_rel_error),
              "read_as": verdict.read_as, "read_as_latex": verdict.read_as_latex,
              "counterexample": plain(verdict.counterexample)}
    reference = {"reference": expected.text, "reference_latex": expected.latex}
    if _withholds(practice):  # a hint quoting the reference is shown whole with it
        reference |= withholding_terms(answer, ("verdict", "hint"))
    if rubric is not None:
        points, mistake, feedback = rubric.score("correct" if verdict.ok else "wrong",
                                                 verdict.hint)
        answer |= {"points": points, "max_points": rubric.points, "mistake": mistake,
                   "feedback": feedback}
    return {"answer": answer, "reference": reference}


def _derivation(fields: dict, practice: dict | None) -> dict:
    from ..grading.derivations import verify_derivation

    if practice:
        program, expected = _expected(fields, practice)
        wrt, of = [expected.wrt], expected.of
    else:
        program = _program(fields, practice)
        wrt, of = _target(program, fields)
    with reading("derivation"):
        verdict = verify_derivation(program, fields["derivation"], wrt=wrt[0] if wrt else None,
                                    of=of, layout=fields.get("layout", "denominator"))
    first = verdict.first_error
    rows = [{"line": step.line, "text": step.text, "ok": step.ok,
             "mark": "ok" if step.ok else "wrong", "hint": step.hint,
             "counterexample": plain(step.counterexample)} for step in verdict.steps]
    rows += [{"line": report.line, "text": report.text, "ok": None,
              "mark": "not read" if report.status == "unread" else "not checked",
              "hint": report.why, "counterexample": None}
             for report in verdict.lines if report.status != "checked"]
    answer = {"ok": verdict.ok, "status": verdict.status, "summary": verdict.summary,
              "layout": verdict.layout,
              "first_error_line": first.line if first is not None else None,
              "steps": sorted(rows, key=lambda row: (row["line"], row["ok"] is None))}
    if practice:
        whole = [dict(row) for row in answer["steps"]]
        rows = answer["steps"] if _withholds(practice) else []
        reference = {"reference": expected.text, "reference_latex": expected.latex}
        for row in rows:
            if withholding_terms(row, ("hint",)):
                reference["steps"] = whole
        return {"answer": answer, "reference": reference}
    return answer


def _withholds(practice: dict | None) -> bool:
    """Whether a practice problem's hints keep the pieces of the reference they quote until the
    reference is shown (the default; a rubric's ``withhold_terms = false`` shows them)."""
    if not practice:
        return False
    rubric = practice.get("rubric")
    return rubric is None or rubric.withhold_terms is not False


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


ENDPOINTS: dict[str, Callable[[dict, dict | None], dict]] = {
    "derive": _derive, "verify": _verify, "derivation": _derivation,
    "practice-verify": _verify, "practice-derivation": _derivation,
}

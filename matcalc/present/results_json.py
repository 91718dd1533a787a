"""Results and check verdicts as JSON-ready data: ``derive --format json`` and the server."""

from __future__ import annotations

import math
from collections.abc import Sequence


def verdict_json(verdict) -> dict:
    """A check's verdict in JSON (an error that is not finite is null: JSON has no Infinity)."""
    error = verdict.max_rel_error
    return {"ok": verdict.ok, "max_rel_error": error if math.isfinite(error) else None,
            "seed": verdict.seed, "tolerance": verdict.tolerance}


def results_json(groups: Sequence[Sequence], verdicts: Sequence, with_steps: bool = False
                 ) -> dict:
    """``{"results": [...]}``: one entry a derivative, with its check (``check`` when a thorough
    one ran for its group, else ``quick_check``) and, with ``with_steps``, its steps."""
    results = []
    for group, group_verdicts in zip(groups, verdicts, strict=True):
        for index, derivative in enumerate(group):
            entry = {
                "kind": derivative.kind, "of": derivative.of, "wrt": derivative.wrt,
                **({"across": derivative.across} if derivative.across else {}),
                "name": derivative.name, "type": derivative.type,
                "shape": list(derivative.shape), "result": str(derivative.result),
                "where": {name: str(body) for name, body in derivative.where.items()},
                "text": derivative.text, "latex": derivative.latex,
            }
            if with_steps:
                shown = derivative.steps
                entry["steps"] = [item for part in (shown if isinstance(shown, list) else [shown])
                                  for item in part.as_json()]
            if group_verdicts:
                entry["check"] = verdict_json(group_verdicts[index])
            elif derivative.checked is not None:
                entry["quick_check"] = verdict_json(derivative.checked)
            results.append(entry)
    return {"results": results}

"""What the server's workers import before their first request: every module a request may use.

The workers are forked from a server process that imported this (multiprocessing's forkserver),
so a worker started to replace one that was killed answers at once instead of importing first.
"""

from __future__ import annotations

from .. import derive  # noqa: F401
from ..codegen import module  # noqa: F401
from ..grading import derivations, verdicts  # noqa: F401
from ..numeric import check  # noqa: F401
from ..present import results_json  # noqa: F401
from . import tasks  # noqa: F401

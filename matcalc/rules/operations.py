"""The derivative rules of every operation: the three views of the registry the engine walks.

``DIFFERENTIALS``, ``ADJOINTS`` and ``JACOBIANS`` are keyed by operation name; each operation's
rules are defined with the rest of its facets in :mod:`matcalc.ops`.
"""

from __future__ import annotations

from ..core.registry import view

DIFFERENTIALS = view("differential")
ADJOINTS = view("adjoints")
JACOBIANS = view("jacobian")

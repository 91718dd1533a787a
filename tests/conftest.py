"""Shared test setup: hypothesis profiles and helpers to build expressions."""

from __future__ import annotations

import os

# one BLAS thread in each test process (set before NumPy loads): the tests' matrices are small or
# medium, and BLAS threads competing for cores with each other and with the test workers
# (pytest -n) cost more than they give (the math.SE problem's checks ran 3x slower)
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from hypothesis import HealthCheck, settings  # noqa: E402

# small (the default, CI): the same examples every run, so a red run is reproducible; large
# (HYPOTHESIS_PROFILE=large): new random examples every run, to search for defects
settings.register_profile(
    "small", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "large", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "small"))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite derivations/golden/*.txt from the current results")

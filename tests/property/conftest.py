"""Hypothesis profiles for the property tests (jmespath's JP_MAX_EXAMPLES idea).

``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``) raises the example counts a hundredfold;
the default keeps the whole suite fast on two cores. Each test states its default
count through :func:`examples` so the fuzz profile scales every test alike.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent / "reference"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                    HealthCheck.filter_too_much])
settings.register_profile("default", **_COMMON)
settings.register_profile("fuzz", **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE if PROFILE in ("default", "fuzz") else "default")

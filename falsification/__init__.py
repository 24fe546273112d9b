"""The 100-point Popperian falsification suite: every point is a hypothesis that can fail.

API: ``run_suite(dataset, sources_dir=None, ...) -> Report`` and ``write_report(report, dir)``.

The names are imported on first use (PEP 562): importing the package costs nothing, so
``run_suite`` can start its second process before the checks (and polars) are imported.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "MAX_SCORE": "falsification.registry",
    "REGISTRY": "falsification.registry",
    "Check": "falsification.registry",
    "Outcome": "falsification.registry",
    "all_checks": "falsification.registry",
    "Report": "falsification.report",
    "verdict_for": "falsification.report",
    "write_report": "falsification.report",
    "run_suite": "falsification.suite",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'falsification' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})

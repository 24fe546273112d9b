"""The 100-point Popperian falsification suite: every point is a hypothesis that can fail.

API: ``run_suite(dataset, sources_dir=None, ...) -> Report`` and ``write_report(report, dir)``.
"""

from falsification.registry import MAX_SCORE, REGISTRY, Check, Outcome, all_checks
from falsification.report import Report, verdict_for, write_report
from falsification.suite import run_suite

__all__ = [
    "MAX_SCORE",
    "REGISTRY",
    "Check",
    "Outcome",
    "Report",
    "all_checks",
    "run_suite",
    "verdict_for",
    "write_report",
]

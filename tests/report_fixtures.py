"""Falsification reports for tests: complete (every registered check), consistent, and with
exactly the failures asked for, so the report model's checks apply to them as to real ones."""

from __future__ import annotations

from typing import Any

from falsification import all_checks
from falsification.report import CheckResult, Report


def make_report(
    failing: dict[str, list[str]] | None = None, *, records: int = 0, drop: int = 0
) -> Report:
    """A full report where the checks in ``failing`` (id -> offending record ids) fail.

    ``drop`` leaves the last N registered checks out (an incomplete report).
    """
    failing = failing or {}
    unknown = set(failing) - {c.id for c in all_checks()}
    assert not unknown, f"not registered checks: {sorted(unknown)}"
    checks = []
    for c in all_checks()[: len(all_checks()) - drop]:
        bad = c.id in failing
        checks.append(
            CheckResult(
                id=c.id,
                category=c.category,
                points=c.points,
                awarded=0 if bad else c.points,
                passed=not bad,
                severity=c.severity,
                hypothesis=c.hypothesis,
                evidence="planted failure" if bad else "fixture: passes",
                offending_ids=list(failing.get(c.id, [])),
            )
        )
    return Report(checks, records=records)


def report_json(failing: dict[str, list[str]] | None = None, **kw: Any) -> dict[str, Any]:
    """``make_report(...).to_json()``: what falsification.json holds."""
    return make_report(failing, **kw).to_json()


#: Normal (not critical) checks whose points add up to 6 (a WARN: 94/100) and to 16 (a FAIL).
WARN_CHECKS = ("syntax.doc_text_clean", "syntax.no_comment_markers")
FAIL_CHECKS = ("syntax.signatures_parse", "syntax.doc_code_blocks_parse", "semantics.english",
               "semantics.summary_meaningful", "distribution.split_ratios")  # fmt: skip


def warn_report(**kw: Any) -> dict[str, Any]:
    """A WARN report (no critical failure, score 94)."""
    report = make_report({key: [] for key in WARN_CHECKS}, **kw)
    assert report.verdict == "WARN", report.score
    return report.to_json()


def fail_report(critical: bool = True, **kw: Any) -> dict[str, Any]:
    """A FAIL report: a critical check failed (or, ``critical=False``, the score is too low)."""
    failing = {"integrity.ids_unique": []} if critical else {key: [] for key in FAIL_CHECKS}
    report = make_report(failing, **kw)
    assert report.verdict == "FAIL", report.score
    return report.to_json()


def report_for(verdict: str, score: int, **kw: Any) -> dict[str, Any]:
    """A complete report with exactly this verdict and score (FAIL above 84: a critical check
    fails too). Failed checks are picked deterministically to add up to the lost points."""
    checks = all_checks()
    failing: list[str] = []
    lost = 100 - score
    if verdict == "FAIL" and score >= 85:
        crit = next(c for c in checks if c.severity == "critical" and c.points <= lost)
        failing.append(crit.id)
        lost -= crit.points
    # A FAIL may lose critical points too; PASS and WARN only normal ones.
    pool = [
        c for c in checks if c.id not in failing and (verdict == "FAIL" or c.severity == "normal")
    ]
    # Subset sum over the pool's points (small numbers: a table is enough).
    reach: dict[int, list[str]] = {0: []}
    for c in pool:
        for total, ids in list(reach.items()):
            reach.setdefault(total + c.points, [*ids, c.id])
    assert lost in reach, f"no set of checks loses exactly {lost} points"
    report = make_report({cid: [] for cid in failing + reach[lost]}, **kw)
    assert (report.verdict, report.score) == (verdict, score), (report.verdict, report.score)
    return report.to_json()

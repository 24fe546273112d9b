"""The check registry: every check is a small function with an id, a category, its points,
the hypothesis it tries to refute and a severity.

Checks register themselves when ``falsification.checks`` is imported; the suite runs them in
registration order. A check returns an :class:`Outcome`; it never awards points itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from falsification.context import SuiteContext

#: Category order in reports (and the README's points table).
CATEGORIES: tuple[str, ...] = (
    "integrity",
    "provenance",
    "syntax",
    "semantics",
    "distribution",
    "privacy",
    "extractor",
)
SEVERITIES = ("critical", "normal")
MAX_SCORE = 100
#: How many offending record ids a result keeps (the evidence still gives the full count).
MAX_OFFENDERS = 20


@dataclass
class Outcome:
    """What a check found: pass/fail, human evidence, and the records that refute it."""

    passed: bool
    evidence: str
    offending_ids: list[str] = field(default_factory=list)


CheckFn = Callable[["SuiteContext"], Outcome]


@dataclass(frozen=True)
class Check:
    """One registered, falsifiable hypothesis about the corpus."""

    id: str
    category: str
    points: int
    hypothesis: str
    severity: str
    fn: CheckFn
    needs_sources: bool = False
    #: Costs seconds and shares no cached fact with the other checks: the suite may run it
    #: in a second process, beside the others (``run_suite(workers=2)``).
    apart: bool = False


REGISTRY: dict[str, Check] = {}


def check(
    id: str,
    *,
    points: int,
    hypothesis: str,
    severity: str = "normal",
    needs_sources: bool = False,
    apart: bool = False,
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as check ``id`` (``<category>.<name>``)."""
    category = id.split(".", 1)[0]
    if category not in CATEGORIES:
        raise ValueError(f"check {id!r}: unknown category {category!r}")
    if severity not in SEVERITIES:
        raise ValueError(f"check {id!r}: severity must be one of {SEVERITIES}")
    if points <= 0:
        raise ValueError(f"check {id!r}: points must be positive")

    def register(fn: CheckFn) -> CheckFn:
        if id in REGISTRY:
            raise ValueError(f"check {id!r} registered twice")
        REGISTRY[id] = Check(id, category, points, hypothesis, severity, fn, needs_sources, apart)
        return fn

    return register


def all_checks() -> list[Check]:
    """Every registered check, importing the check modules on first use."""
    import falsification.checks  # noqa: F401  (registers on import)

    # Report order: by category (CATEGORIES), then registration order within a module.
    return sorted(REGISTRY.values(), key=lambda c: CATEGORIES.index(c.category))


def select(ids: Iterable[str] | None) -> list[Check]:
    """The checks named by ``ids`` (all when None); unknown ids are an error."""
    checks = all_checks()
    if ids is None:
        return checks
    wanted = list(ids)
    known = {c.id for c in checks}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        from corpus.errors import BadInputError

        raise BadInputError(f"unknown check id(s): {', '.join(unknown)}")
    return [c for c in checks if c.id in set(wanted)]


def outcome(
    passed: bool, evidence: str, offenders: Iterable[str] = (), *, limit: int = MAX_OFFENDERS
) -> Outcome:
    """Build an Outcome, keeping a few offending ids (sorted, deduplicated)."""
    ids = sorted(set(offenders))[:limit]
    return Outcome(passed, evidence, ids)


def ratio_outcome(
    ok: int, total: int, threshold: float, what: str, offenders: list[str]
) -> Outcome:
    """Outcome of a statistical check: pass when ``ok/total >= threshold``."""
    if total == 0:
        return Outcome(True, f"no records to check ({what})")
    share = ok / total
    bad = total - ok
    passed = share >= threshold
    ev = f"{ok}/{total} = {share:.2%} {what} (threshold {threshold:.0%}); {bad} offending"
    return outcome(passed, ev, offenders)

"""Run the registered checks on a corpus and collect a Report."""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from falsification.registry import Check, Outcome, select
from falsification.report import CheckResult, Report

if TYPE_CHECKING:
    from falsification.apart import Apart
    from falsification.context import SuiteContext

NO_SOURCES = "cannot be verified without --sources-dir: no points"


def run_suite(
    dataset: Path,
    sources_dir: Path | None = None,
    *,
    seed: int = 0,
    only: Iterable[str] | None = None,
    workers: int = 1,
    **options: Any,
) -> Report:
    """Falsify the corpus at ``dataset``; checks needing clones fail without ``sources_dir``.

    ``only`` runs a subset (a partial report, for debugging and tests). ``options`` tune the
    sample sizes (``hypothesis_examples``, ``fuzz_cases``, ``determinism_files``). With
    ``workers`` > 1 the checks registered ``apart`` run in a second process
    (``falsification.apart``: started fresh, reading the corpus itself) while this one runs
    the rest: the same results, in the same order. Raises ``BadInputError`` when the corpus
    cannot be read.
    """
    t0 = time.perf_counter()
    # Started before the checks (and polars) are imported here, so that both interpreters
    # start up at once; it is told its checks when they are known.
    pending = _spawn_apart() if workers > 1 and _picklable(options) else None
    try:
        from falsification.context import SuiteContext

        checks = select(only)
        apart = [c.id for c in checks if c.apart] if pending is not None else []
        if pending is not None and not _send_apart(
            pending, dataset, sources_dir, seed, options, apart
        ):
            pending = None
        ctx = SuiteContext.load(dataset, sources_dir, seed=seed, **options)
    except BaseException:
        if pending is not None:
            pending.close()
        raise
    away = set(apart) if pending is not None else set()
    results = {c.id: run_check(ctx, c) for c in checks if c.id not in away}
    if pending is not None:
        results.update(_finish_apart(pending, ctx, [c for c in checks if c.id in away]))
    ordered = [results[c.id] for c in checks]
    return Report(ordered, duration_s=time.perf_counter() - t0, records=ctx.df.height)


def run_check(ctx: SuiteContext, chk: Check) -> CheckResult:
    """Run one check on ``ctx`` (a crash is a failed check, never a crashed suite)."""
    t = time.perf_counter()
    if chk.needs_sources and ctx.sources_dir is None:
        out = Outcome(False, NO_SOURCES)
    else:
        try:
            out = chk.fn(ctx)
        except Exception as exc:  # a crashing check refutes nothing, so it earns nothing
            out = Outcome(False, f"check crashed: {type(exc).__name__}: {exc}")
    return CheckResult(
        id=chk.id,
        category=chk.category,
        points=chk.points,
        awarded=chk.points if out.passed else 0,
        passed=out.passed,
        severity=chk.severity,
        hypothesis=chk.hypothesis,
        evidence=out.evidence,
        offending_ids=list(out.offending_ids),
        duration_s=time.perf_counter() - t,
    )


def _picklable(options: dict[str, Any]) -> bool:
    """Whether ``options`` can go to another process (an injected extractor may not)."""
    if options.get("extract_bytes") is not None:
        return False
    try:
        pickle.dumps(options)
    except Exception:
        return False
    return True


def run_checks(
    dataset: Path, sources_dir: Path | None, seed: int, options: dict[str, Any], ids: list[str]
) -> dict[str, CheckResult]:
    """The checks ``ids`` on a context of their own (what the second process runs)."""
    from falsification.context import SuiteContext

    ctx = SuiteContext.load(dataset, sources_dir, seed=seed, **options)
    return {c.id: run_check(ctx, c) for c in select(ids)}


def _spawn_apart() -> Apart | None:
    """A second process, waiting for its checks; None when it cannot start."""
    from falsification.apart import spawn

    try:
        return spawn()
    except OSError:
        return None


def _send_apart(
    pending: Apart,
    dataset: Path,
    sources_dir: Path | None,
    seed: int,
    options: dict[str, Any],
    ids: list[str],
) -> bool:
    """Hand ``pending`` its job: ``run_checks`` of ``ids`` (False, and it is stopped, when
    there is nothing to hand it or it died)."""
    if ids:
        try:
            pending.send((os.getpid(), dataset, sources_dir, seed, options, ids))
            return True
        except OSError:
            pass
    pending.close()
    return False


def _finish_apart(pending: Apart, ctx: SuiteContext, checks: list[Check]) -> dict[str, CheckResult]:
    """The second process's results; if it died, the same checks run here instead."""
    from falsification.apart import ApartFailed

    with pending:
        try:
            return pending.result()
        except (ApartFailed, OSError, EOFError, pickle.UnpicklingError):
            pass
    return {c.id: run_check(ctx, c) for c in checks}

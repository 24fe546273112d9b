"""Run the registered checks on a corpus and collect a Report."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from falsification.context import SuiteContext
from falsification.registry import Outcome, select
from falsification.report import CheckResult, Report

NO_SOURCES = "cannot be verified without --sources-dir: no points"


def run_suite(
    dataset: Path,
    sources_dir: Path | None = None,
    *,
    seed: int = 0,
    only: Iterable[str] | None = None,
    **options: Any,
) -> Report:
    """Falsify the corpus at ``dataset``; checks needing clones fail without ``sources_dir``.

    ``only`` runs a subset (a partial report, for debugging and tests). ``options`` tune the
    sample sizes (``hypothesis_examples``, ``fuzz_cases``, ``determinism_files``). Raises
    ``BadInputError`` when the corpus cannot be read.
    """
    t0 = time.perf_counter()
    checks = select(only)
    ctx = SuiteContext.load(dataset, sources_dir, seed=seed, **options)
    results = []
    for chk in checks:
        t = time.perf_counter()
        if chk.needs_sources and ctx.sources_dir is None:
            out = Outcome(False, NO_SOURCES)
        else:
            try:
                out = chk.fn(ctx)
            except Exception as exc:  # a crashing check refutes nothing, so it earns nothing
                out = Outcome(False, f"check crashed: {type(exc).__name__}: {exc}")
        results.append(
            CheckResult(
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
        )
    return Report(results, duration_s=time.perf_counter() - t0, records=ctx.df.height)

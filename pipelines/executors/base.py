"""The executor interface, units of work and their completion markers.

A unit is a picklable payload plus a completion marker (``corpus.layout``: the unit's inputs
and the sha256 and size of each output file). The function runs on a worker, writes its outputs
atomically and then, last, the marker — on the worker, so a finished unit stays finished even
if the driver dies. A unit counts as done only when its marker records the same inputs *and*
its outputs still match their checksums: change an input (a pin, the extractor version), or
truncate a shard, and the unit runs again (``RunSummary.redone`` says why).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import CorpusError
from corpus.layout import check_marker, write_marker


@dataclass(frozen=True)
class Unit:
    """One unit of work: a stable ``key``, its ``payload``, its completion ``marker``, the
    ``inputs`` the marker must record and the ``outputs`` it vouches for."""

    key: str
    payload: Any
    marker: Path
    inputs: dict[str, Any]
    outputs: tuple[Path, ...] = ()

    def not_done(self) -> str | None:
        """None when finished; else why not (``"missing"``: never run)."""
        return check_marker(self.marker, self.inputs, self.marker.parent)

    def is_done(self) -> bool:
        """True when the marker records these inputs and every output is intact."""
        return self.not_done() is None

    def finish(self) -> None:
        """Write the marker (after every output is written)."""
        write_marker(self.marker, self.inputs, self.outputs, self.marker.parent)


@dataclass(frozen=True)
class UnitOutcome:
    """What a worker sends back for one unit."""

    key: str
    ran: bool
    seconds: float
    result: Any = None


@dataclass
class RunSummary:
    """Which units ran and which were already done, with their results and timings."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: key -> why a unit with a marker was run again (changed inputs, a damaged output).
    redone: dict[str, str] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    unit_seconds: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


class UnitFailed(CorpusError):
    """One or more units failed; the others finished and kept their markers."""

    def __init__(self, failures: dict[str, str]) -> None:
        lines = "\n".join(f"  {k}: {msg}" for k, msg in sorted(failures.items()))
        super().__init__(
            f"{len(failures)} unit(s) failed (finished units are kept; rerun to resume):\n{lines}"
        )
        self.failures = failures


def run_marked(fn: Callable[[Any], Any], unit: Unit) -> UnitOutcome:
    """Run ``fn(unit.payload)`` unless the unit is done, then write its marker (on the worker)."""
    if unit.is_done():
        return UnitOutcome(unit.key, False, 0.0)
    start = time.perf_counter()
    result = fn(unit.payload)
    from corpus.lifetime import may_write

    if not may_write():  # the driver died: a straggler must not vouch for what it wrote
        raise CorpusError(f"{unit.key}: the run that started this worker is gone")
    unit.finish()
    return UnitOutcome(unit.key, True, time.perf_counter() - start, result)


#: Called with a unit's key when it finishes or fails.
OnDone = Callable[[str], None]


class Executor(ABC):
    """Runs ``run_marked(fn, unit)`` for every unit, somewhere, and returns the outcomes."""

    name: str = "abstract"

    @abstractmethod
    def map_units(
        self, fn: Callable[[Any], Any], units: Sequence[Unit], on_done: OnDone | None = None
    ) -> list[UnitOutcome]:
        """Outcomes of every unit (in the order of ``units``); raise ``UnitFailed`` after all
        units have finished or failed if any failed. ``on_done(key)`` is called as each unit
        finishes or fails (for progress displays)."""

    def close(self) -> None:
        """Release what the executor started (a pool, a Ray runtime it initialised)."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_units(
    executor: Executor,
    fn: Callable[[Any], Any],
    units: Sequence[Unit],
    on_done: OnDone | None = None,
) -> RunSummary:
    """Run the units not yet done through ``executor``; the done ones are only reported.

    ``fn`` must be a module-level function (it is pickled by reference for worker processes).
    """
    keys = [u.key for u in units]
    if len(set(keys)) != len(keys):
        raise CorpusError(f"duplicate unit keys: {sorted(k for k in keys if keys.count(k) > 1)}")
    start = time.perf_counter()
    summary = RunSummary()
    todo = []
    for u in units:
        why = u.not_done()
        if why is None:
            summary.skipped.append(u.key)
            continue
        if why != "missing":
            summary.redone[u.key] = why
        todo.append(u)
    if todo:
        for out in executor.map_units(fn, todo, on_done):
            (summary.ran if out.ran else summary.skipped).append(out.key)
            summary.results[out.key] = out.result
            summary.unit_seconds[out.key] = round(out.seconds, 3)
    summary.seconds = time.perf_counter() - start
    return summary

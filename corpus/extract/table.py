"""Extraction into one Arrow table, as ``corpus extract`` writes it.

Each worker turns the records of its batch of files into an Arrow record batch (sent as IPC
bytes) and counts what the stats need, so the parent only concatenates, sorts and writes:
no record dict is pickled to the parent or converted there. The table equals
``corpus.store.to_table`` of :func:`corpus.extract.tree.run_jobs`'s records, row for row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc  # here, before workers fork: they cast, the parent sorts

from corpus.extract.arrowcols import record_batch
from corpus.extract.crate import crate_models
from corpus.extract.pool import pool_map
from corpus.extract.tree import (
    Job,
    Progress,
    _batches,
    _model_roots,
    _path_batches,
    _run_job,
    record_counts,
    workers_for,
)
from corpus.schema import EXTRACT_SCHEMA, SORT_COLUMNS


@dataclass(frozen=True)
class BatchTable:
    """What a worker sends back for a batch of files (picklable)."""

    ipc: bytes  # the records, in file order, as an Arrow IPC stream (EXTRACT_SCHEMA)
    files: list[tuple[dict[str, int], bool]]  # per file: drop counts, parse error
    counts: dict[str, int]  # record_counts of the records


def _ipc(records: list[dict[str, Any]]) -> bytes:
    batch = record_batch(records, EXTRACT_SCHEMA)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, EXTRACT_SCHEMA) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def run_batch_table(jobs: list[Job]) -> BatchTable:
    """Extract ``jobs`` (in a worker) into one :class:`BatchTable`."""
    records: list[dict[str, Any]] = []
    files = []
    for recs, drops, err in map(_run_job, jobs):
        records.extend(recs)
        files.append((drops, err))
    return BatchTable(_ipc(records), files, dict(record_counts(records)))


def _batch_tables(jobs: list[Job], n: int) -> Iterator[BatchTable]:
    if n <= 1 or len(jobs) < 8:
        yield from map(run_batch_table, _path_batches(jobs, 1))  # in path order, as run_jobs
        return
    yield from pool_map(run_batch_table, _batches(jobs, n), n)


@dataclass
class TableResult:
    """Every record of an extraction as one sorted table, with what the stats count."""

    table: pa.Table
    drops: Counter
    errored: int  # files with parse errors
    counts: Counter  # record_counts of the table's records


def run_jobs_table(
    jobs: list[Job], workers: int = 0, progress: Progress | None = None
) -> TableResult:
    """Extract ``jobs`` into one table in the stable row order (see the module docstring)."""
    n = workers_for(workers)
    tables: list[pa.Table] = []
    drops: Counter = Counter()
    counts: Counter = Counter()
    errored = 0
    with crate_models(_roots_by_size(jobs), workers=n if len(jobs) >= 8 else 1):
        for bt in _batch_tables(jobs, n):
            tables.append(pa.ipc.open_stream(bt.ipc).read_all())
            for d, err in bt.files:
                drops.update(d)
                errored += err
            counts.update(bt.counts)
            if progress:
                progress(len(bt.files))
    return TableResult(sorted_table(tables), drops, errored, counts)


def _roots_by_size(jobs: list[Job]) -> list[str]:
    """The roots whose crate layout the jobs need, the one with the most files first."""
    sizes = Counter(j.root for j in jobs)
    return sorted(_model_roots(jobs), key=lambda r: -sizes[r])


def sorted_table(tables: list[pa.Table]) -> pa.Table:
    """``tables`` concatenated and stably sorted by ``SORT_COLUMNS`` (ties keep their order)."""
    if not tables:
        return EXTRACT_SCHEMA.empty_table()
    table = pa.concat_tables(tables)
    order = pc.sort_indices(table, sort_keys=[(c, "ascending") for c in SORT_COLUMNS])
    return table.take(order).combine_chunks()

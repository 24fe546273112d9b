"""Extraction into one Arrow table, as ``corpus extract`` writes it.

Each worker turns the records of its batch of files into an Arrow record batch (sent as IPC
bytes) and counts what the stats need, so the parent only concatenates, sorts and writes:
no record dict is pickled to the parent or converted there. A batch holds files of one
checkout; each worker builds the crate models of the checkouts it is given, while the other
extracts (``corpus.extract.pool.affine_map``), so no model is built before the pool starts or
sent between processes. The table equals ``corpus.store.to_table`` of
:func:`corpus.extract.tree.run_jobs`'s records, row for row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc  # here, before workers fork: they cast, the parent sorts

from corpus.extract.arrowcols import record_batch
from corpus.extract.crate import crate_models, ensure_model
from corpus.extract.pool import Keyed, affine_map
from corpus.extract.tree import (
    Job,
    Progress,
    _model_roots,
    _path_batches,
    _run_job,
    balanced,
    by_checkout,
    checkouts,
    file_size,
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


@dataclass(frozen=True)
class RootBatch:
    """Files of one checkout for one worker (picklable); ``model``: a Cargo.toml is above one
    of them, so the worker needs the checkout's crate model."""

    root: str
    jobs: list[Job]
    model: bool


def run_root_batch(batch: RootBatch) -> BatchTable:
    """:func:`run_batch_table` in a worker, the checkout's crate model built there first."""
    if batch.model:
        ensure_model(batch.root)
    return run_batch_table(batch.jobs)


#: A checkout's crate model costs about a sixth of extracting its files (0.74 s against 4.7 s
#: on one core for the seven repositories): what a second worker pays to share a checkout.
MODEL_COST = 1 / 6


def root_batches(jobs: list[Job], n: int) -> list[Keyed]:
    """The jobs as batches of one checkout each, costed in bytes: each checkout's files split
    into batches of about a 1/(8n) share of all the bytes (largest first), the checkouts in
    the order they first appear. Batches come out checkout by checkout, so concatenating them
    in this order keeps rows equal in every sort column in checkout order."""
    sizes = {j: file_size(j) for j in jobs}
    needs_model = set(_model_roots(jobs))
    share = max(1, sum(sizes.values()) // (8 * n))
    out: list[Keyed] = []
    for root, rjobs in checkouts(jobs).items():
        k = round(sum(sizes[j] for j in rjobs) / share)
        for load, bucket in sorted(balanced(rjobs, k, sizes), key=lambda b: -b[0]):
            out.append(Keyed(root, load, RootBatch(root, bucket, root in needs_model)))
    return out


def _model_costs(batches: list[Keyed]) -> dict[str, float]:
    costs: Counter = Counter()
    for b in batches:
        if b.item.model:
            costs[b.key] += b.cost * MODEL_COST
    return dict(costs)


def _batch_tables(jobs: list[Job], n: int) -> Iterator[tuple[int, BatchTable]]:
    """(place, batch table) of every batch as it finishes; the tables in the order of their
    places keep rows equal in every sort column in checkout order."""
    if n <= 1 or len(jobs) < 8:
        with crate_models(_model_roots(jobs)):
            batches = _path_batches(by_checkout(jobs), 1)  # in path order, checkout by checkout
            yield from enumerate(map(run_batch_table, batches))
        return
    batches = root_batches(jobs, n)
    yield from affine_map(run_root_batch, batches, n, _model_costs(batches))


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
    tables: dict[int, pa.Table] = {}
    drops: Counter = Counter()
    counts: Counter = Counter()
    errored = 0
    for place, bt in _batch_tables(jobs, workers_for(workers)):
        tables[place] = pa.ipc.open_stream(bt.ipc).read_all()
        for d, err in bt.files:
            drops.update(d)
            errored += err
        counts.update(bt.counts)
        if progress:
            progress(len(bt.files))
    return TableResult(sorted_table([tables[k] for k in sorted(tables)]), drops, errored, counts)


def sorted_table(tables: list[pa.Table]) -> pa.Table:
    """``tables`` concatenated and stably sorted by ``SORT_COLUMNS`` (ties keep their order)."""
    if not tables:
        return EXTRACT_SCHEMA.empty_table()
    table = pa.concat_tables(tables)
    order = pc.sort_indices(table, sort_keys=[(c, "ascending") for c in SORT_COLUMNS])
    return table.take(order).combine_chunks()

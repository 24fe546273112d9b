"""Reading and writing record tables and JSON reports: atomic, deterministic, schema-checked.

Layouts a reader accepts (``read_records``):
- a parquet file;
- an extract directory: ``records.parquet`` (+ ``stats.json``);
- a dataset directory: ``data/{train,validation,test}-*.parquet`` (+ ``stats.json``,
  ``falsification.json``, ``sources.lock``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.errors import BadInputError, CorpusError
from corpus.layout import (
    STATS_FILE,
    check_dataset_spec,
    dataset_base,
    dataset_parquet_files,
)
from corpus.schema import ALL_COLUMNS, EXTRACT_SCHEMA, RECORD_SCHEMA, SORT_COLUMNS

if TYPE_CHECKING:  # polars loads on first use: `corpus extract` writes Arrow and never needs it
    import polars as pl


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temp path beside ``dest``; rename it over ``dest`` only if the block succeeds."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)  # mkstemp makes 0600; outputs are meant to be shared
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def swap_dir(dest: Path, fill: Callable[[Path], None]) -> None:
    """Replace the folder ``dest`` by one that ``fill(tmp)`` writes, never leaving it half-made.

    ``fill`` writes into a fresh sibling; only when it returns is ``dest`` moved aside and the
    new folder renamed into place (two renames), then the old one deleted. A run killed at any
    point leaves either the old or the new folder at ``dest``: :func:`recover_dir` (called here
    first, and by anyone who finds leftovers) puts the old one back if the new one never
    arrived, and removes the leftovers.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover_dir(dest)
    new, old = _swap_names(dest)
    new.mkdir()
    try:
        fill(new)
        if dest.exists():
            os.replace(dest, old)
        os.replace(new, dest)
    finally:
        shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def recover_dir(dest: Path) -> None:
    """Undo what a killed :func:`swap_dir` left beside ``dest``."""
    new, old = _swap_names(Path(dest))
    if old.exists() and not dest.exists():
        os.replace(old, dest)  # killed between the two renames: the old folder is still good
    for leftover in (new, old):
        shutil.rmtree(leftover, ignore_errors=True)


def _swap_names(dest: Path) -> tuple[Path, Path]:
    return dest.with_name(f".{dest.name}.swap-new"), dest.with_name(f".{dest.name}.swap-old")


def write_bytes_atomic(dest: Path, data: bytes) -> None:
    """Write ``data`` to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def write_json(dest: Path, obj: Any) -> None:
    """Write ``obj`` as stable, sorted, indented JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_bytes_atomic(Path(dest), text.encode("utf-8"))


def read_json(path: Path) -> Any:
    """Read a JSON report, with a clear error if it is missing or corrupt."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInputError(f"{path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: not valid JSON ({exc})") from exc


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON report that must be an object (falsification.json, stats.json, ...)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def _schema_for(columns: Iterable[str]) -> pa.Schema:
    cols = set(columns)
    if cols == set(ALL_COLUMNS):
        return RECORD_SCHEMA
    if cols == set(EXTRACT_SCHEMA.names):
        return EXTRACT_SCHEMA
    raise BadInputError(
        f"table columns match neither the extract nor the record schema: {sorted(cols)}"
    )


def to_table(records: pl.DataFrame | list[dict[str, Any]]) -> pa.Table:
    """Records as an Arrow table in the declared schema and the stable row order."""
    import polars as pl

    if isinstance(records, pl.DataFrame):
        df = records
    else:
        if not records:
            return EXTRACT_SCHEMA.empty_table()
        df = pl.DataFrame(records, infer_schema_length=None)
    schema = _schema_for(df.columns)
    df = df.sort(list(SORT_COLUMNS), maintain_order=True)
    return df.select(schema.names).to_arrow().cast(schema)


def write_parquet(dest: Path, records: pl.DataFrame | list[dict[str, Any]] | pa.Table) -> None:
    """Write records deterministically (same rows -> same bytes) and atomically."""
    table = records if isinstance(records, pa.Table) else to_table(records)
    with atomic_path(Path(dest)) as tmp:
        # No creation timestamps or writer-dependent metadata: the bytes depend on rows only.
        pq.write_table(
            table.replace_schema_metadata(None),
            tmp,
            compression="zstd",
            compression_level=3,
            use_dictionary=True,
            write_statistics=True,
            row_group_size=8192,
            store_schema=False,
        )


def read_parquet(path: Path) -> pl.DataFrame:
    """Read one parquet file, with a clear error when it is corrupt or not ours."""
    import polars as pl

    try:
        df = pl.read_parquet(path)
    except FileNotFoundError as exc:
        raise BadInputError(f"{path}: no such file") from exc
    except Exception as exc:  # polars raises several types for a damaged file
        raise BadInputError(f"{path}: not a readable parquet file ({exc})") from exc
    _schema_for(df.columns)
    return df


def read_records(path: Path, config: str = "default") -> pl.DataFrame:
    """All records of a dataset path (one config of it), in the stable order."""
    import polars as pl

    frames = [read_parquet(p) for p in dataset_parquet_files(path, config)]
    df = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    return df.sort(list(SORT_COLUMNS), maintain_order=True)


def read_stats(path: Path) -> dict[str, Any]:
    """stats.json beside a dataset (empty dict when absent)."""
    f = dataset_base(path) / STATS_FILE
    return read_json(f) if f.exists() else {}


def read_dataset(spec: str, config: str = "default") -> pl.DataFrame:
    """Records from a local dataset path or a Hub dataset ``ORG/NAME[@revision]``."""
    path = check_dataset_spec(spec, config)
    if path is not None:
        return read_records(path, config)
    name, _, revision = spec.partition("@")
    import datasets
    import polars as pl
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    missing = (datasets.exceptions.DatasetNotFoundError, RepositoryNotFoundError,
               RevisionNotFoundError, FileNotFoundError, ValueError)  # fmt: skip
    try:
        dd = datasets.load_dataset(name, config, revision=revision or None)
    except missing as exc:  # ValueError: a config or split the dataset does not have
        raise BadInputError(f"{spec}: no such Hub dataset, revision or config ({exc})") from exc
    except Exception as exc:  # the network, mostly: a rerun may work, a local copy always does
        raise CorpusError(
            f"{spec}: could not load the Hub dataset ({type(exc).__name__}: {exc}); a local "
            "copy works offline: pass its folder as --data"
        ) from exc
    frames = [pl.from_arrow(dd[s].data.table) for s in dd]
    return pl.concat(frames, how="diagonal_relaxed")

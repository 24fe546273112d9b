"""Cheap checks that a dataset path can be opened at all, before the TUI starts (no polars).

`corpus tui` runs these first so that a path that cannot be browsed exits 2 with one clear line
instead of flashing a full-screen app. They read a few bytes of each parquet file and parse the
small JSON files; anything deeper (columns, types, rows) is the loader's job, after the first
frame, and its errors are shown on screen.
"""

from __future__ import annotations

import json
from pathlib import Path

from corpus.errors import BadInputError
from corpus.layout import FALSIFICATION_JSON, STATS_FILE, dataset_base, dataset_parquet_files

_MAGIC = b"PAR1"


def _check_parquet(path: Path) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(4)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if size < 12 or head != _MAGIC or tail != _MAGIC:
        raise BadInputError(f"{path}: not a readable parquet file (no parquet header or footer)")


def _check_json_object(path: Path) -> None:
    if not path.exists():
        return
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise BadInputError(f"{path}: expected a JSON object, found {type(value).__name__}")


def check_dataset(path: Path) -> None:
    """Raise BadInputError (exit 2) when ``path`` cannot be browsed at all.

    It must exist and hold parquet files (a file, ``records.parquet`` or ``data/*.parquet``)
    with parquet's magic bytes at both ends; ``stats.json`` and ``falsification.json``, when
    present, must be JSON objects.
    """
    path = Path(path)
    for file in dataset_parquet_files(path):
        _check_parquet(file)
    base = dataset_base(path)
    for name in (STATS_FILE, FALSIFICATION_JSON):
        _check_json_object(base / name)


def check_runs_dir(path: Path) -> None:
    """Raise BadInputError when ``path`` (the runs dashboard's folder) is not a directory."""
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"{path}: no such directory (expected a folder of training runs)")
    if not path.is_dir():
        raise BadInputError(f"{path}: not a directory (expected a folder of training runs)")

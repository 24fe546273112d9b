"""Shared by the TUI benchmarks: a dataset path from argv, or 21,000 synthetic records."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

SYNTHETIC_RECORDS = 21_000


def dataset_from_args(argv: list[str]) -> tuple[Path, str]:
    """(dataset path, description): argv[1] if given, else a fresh synthetic dataset."""
    if len(argv) > 1:
        return Path(argv[1]), argv[1]
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from tests.tui_fixtures import make_tui_dataset

    tmp = Path(tempfile.mkdtemp(prefix="tui-bench-"))
    ds = make_tui_dataset(tmp, SYNTHETIC_RECORDS)
    return ds, f"synthetic, {SYNTHETIC_RECORDS:,} records ({ds})"

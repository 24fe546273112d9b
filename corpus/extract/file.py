"""One Rust file in, its function records and drop counts out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from corpus.extract.crate import FileContext
from corpus.extract.items import Budget, OverBudget, error_ratio, extract_tree_records
from corpus.extract.parser import parse
from corpus.schema import sort_key

#: Files larger than this are generated data, not hand-written code: skipped and counted.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Files where ERROR nodes cover more than this share of the bytes are not Rust we can trust.
MAX_ERROR_RATIO = 0.5


@dataclass
class FileResult:
    """Records of one file, and why anything was dropped."""

    records: list[dict[str, Any]] = field(default_factory=list)
    drops: Counter = field(default_factory=Counter)
    parse_error: bool = False


def extract_file_bytes(
    data: bytes, rel_path: str, ctx: FileContext, budget: Budget | None = None
) -> FileResult:
    """Extract every function item of one file's bytes (never raises on bad Rust).

    A file over its ``budget`` (time, or nested output) is dropped whole and counted under
    ``file_time_budget`` / ``nesting_amplification``.
    """
    result = FileResult()
    if len(data) > MAX_FILE_BYTES:
        result.drops["oversized_file"] += 1
        return result
    try:
        data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        result.drops["non_utf8_file"] += 1
        return result
    if data.startswith(b"\xef\xbb\xbf"):
        # A BOM is not source text; blank it so offsets and lines still match the blob.
        data = b"   " + data[3:]
    tree = parse(data)
    root = tree.root_node
    result.parse_error = root.has_error
    if root.has_error and error_ratio(root, len(data)) > MAX_ERROR_RATIO:
        result.drops["mostly_error_file"] += 1
        return result
    try:
        result.records = extract_tree_records(data, rel_path, ctx, result.drops, root, budget)
    except OverBudget as exc:  # one pathological file costs only itself
        result.records = []
        result.drops[exc.reason] += 1
        return result
    result.records.sort(key=sort_key)
    return result

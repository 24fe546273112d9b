"""Synthetic, schema-valid records and dataset folders for tests of readers (TUI, publish, ...).

Tests of the extractor itself use real Rust sources; these records are for the layers above.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.extract.parser import GRAMMAR_VERSION
from corpus.layout import DATA_DIR, STATS_FILE
from corpus.schema import ALL_COLUMNS, EXTRACTOR_VERSION, SPLITS, permalink, record_id
from corpus.store import write_json, write_parquet

COMMIT = "a" * 40


def make_record(i: int = 0, **overrides: Any) -> dict[str, Any]:
    """A complete, internally consistent record; ``overrides`` replace fields (id recomputed)."""
    name = overrides.pop("name", f"func_{i}")
    repo = overrides.pop("repo", "acme/widgets")
    path = overrides.pop("path", f"src/mod_{i % 7}.rs")
    commit = overrides.pop("commit", COMMIT)
    start_line = overrides.pop("start_line", 10 + i)
    start_byte = overrides.pop("start_byte", 100 * i)
    signature = f"pub fn {name}(x: u32) -> u32"
    source = overrides.pop("source", f"{signature} {{\n    x + {i}\n}}")
    end_line = overrides.pop("end_line", start_line + source.count("\n"))
    end_byte = overrides.pop("end_byte", start_byte + len(source.encode()))
    doc = overrides.pop("doc", f"Adds {i} to `x`.\n\nLonger text about {name}.")
    qualified = overrides.pop("qualified_path", f"widgets::mod_{i % 7}::{name}")
    rec: dict[str, Any] = {
        "repo": repo,
        "commit": commit,
        "path": path,
        "start_line": start_line,
        "end_line": end_line,
        "start_byte": start_byte,
        "end_byte": end_byte,
        "name": name,
        "raw_name": name,
        "crate_name": qualified.split("::")[0],
        "target_kind": "lib",
        "def_path": qualified,
        "qualified_path": qualified,
        "public_path": qualified,
        "container_kind": "free",
        "self_type": None,
        "trait_name": None,
        "container_header": None,
        "visibility": "pub",
        "is_async": False,
        "is_const": False,
        "is_unsafe": False,
        "extern_abi": None,
        "generics": None,
        "where_clause": None,
        "params": ["x: u32"],
        "return_type": "u32",
        "signature": signature,
        "source": source,
        "has_body": True,
        "doc": doc,
        "doc_summary": doc.split("\n\n")[0] if doc else None,
        "doc_sections": [],
        "doc_include": None,
        "doc_unresolved": False,
        "attributes": [],
        "is_test": False,
        "test_reason": None,
        "is_nested": False,
        "origin": "source",
        "parse_error": False,
        "file_parse_error": False,
        "license": "MIT",
        "extractor_version": EXTRACTOR_VERSION,
        "grammar_version": GRAMMAR_VERSION,
        "split": SPLITS[0] if i % 10 < 8 else SPLITS[1 + (i % 2)],
        "redacted": False,
    }
    rec.update(overrides)
    rec["id"] = record_id(
        rec["repo"], rec["commit"], rec["path"], rec["start_byte"], rec["end_byte"], rec["source"]
    )
    rec["permalink"] = permalink(rec["repo"], rec["commit"], rec["path"], start_line, end_line)
    rec.setdefault("dup_cluster", rec["id"])
    if "dup_cluster" not in overrides:
        rec["dup_cluster"] = rec["id"]
    return {k: rec[k] for k in ALL_COLUMNS}


def make_records(n: int, **overrides: Any) -> list[dict[str, Any]]:
    """``n`` distinct records."""
    return [make_record(i, **overrides) for i in range(n)]


def make_dataset_dir(root: Path, records: list[dict[str, Any]], stats: dict | None = None) -> Path:
    """A dataset folder: data/{split}-00000-of-00001.parquet per split, plus stats.json."""
    root.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        rows = [r for r in records if r["split"] == split]
        if rows:
            write_parquet(root / DATA_DIR / f"{split}-00000-of-00001.parquet", rows)
    write_json(root / STATS_FILE, stats or {"totals": {"records": len(records)}})
    return root

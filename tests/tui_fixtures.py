"""Datasets for the TUI tests: varied synthetic records plus a falsification.json."""

from __future__ import annotations

import asyncio
import functools
import html
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from corpus.schema import CONTAINER_KINDS
from corpus.store import FALSIFICATION_FILE, write_json
from tests.records_factory import make_dataset_dir, make_record

REPOS = ("BurntSushi/ripgrep", "clap-rs/clap", "tokio-rs/tokio")
VISIBILITIES = ("pub", "pub(crate)", None)

#: A doc full of Rich/Textual console markup: the TUI must show it literally.
MARKUP_DOC = (
    "Closes [bold]every[/bold] tag [/] and [link=https://evil.example]links[/link].\n\nMore."
)


def varied_record(i: int, **overrides: Any) -> dict[str, Any]:
    """Record ``i`` with repo, kind, visibility, examples, test and macro origin varying by i."""
    kind = CONTAINER_KINDS[i % len(CONTAINER_KINDS)]
    fields: dict[str, Any] = {
        "repo": REPOS[i % len(REPOS)],
        "container_kind": kind,
        "visibility": VISIBILITIES[i % len(VISIBILITIES)],
        "self_type": "Widget" if kind in ("impl", "trait_impl") else None,
        "doc_sections": ["Examples"] if i % 4 == 0 else [],
        "is_test": i % 9 == 0,
        "test_reason": "attribute:test" if i % 9 == 0 else None,
        "origin": "macro:impl_widget" if i % 11 == 0 else "source",
        "is_unsafe": i % 13 == 0,
        "is_async": i % 5 == 0,
    }
    fields.update(overrides)
    return make_record(i, **fields)


def varied_records(n: int) -> list[dict[str, Any]]:
    """``n`` varied records; record 1 carries ``MARKUP_DOC``."""
    recs = []
    for i in range(n):
        extra = {"doc": MARKUP_DOC} if i == 1 else {}
        recs.append(varied_record(i, **extra))
    return recs


def falsification_report(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A report with two failed checks naming records, in falsification.json's shape."""
    failing_a = [r["id"] for r in records[2:5]]
    failing_b = [records[3]["id"], "f" * 64]  # one id that is not in the dataset
    return {
        "score": 93,
        "verdict": "WARN",
        "max_score": 100,
        "duration_s": 1.25,
        "categories": {
            "integrity": {"score": 20, "max": 20},
            "syntax": {"score": 17, "max": 20},
            "semantics": {"score": 16, "max": 20},
            "distribution": {"score": 15, "max": 15},
            "reproducibility": {"score": 15, "max": 15},
            "quality": {"score": 10, "max": 10},
        },
        "checks": [
            {
                "id": "integrity.ids_unique",
                "category": "integrity",
                "points": 3,
                "awarded": 3,
                "passed": True,
                "severity": "critical",
                "hypothesis": "Every record id is unique.",
                "evidence": "0 duplicate ids",
                "offending_ids": [],
            },
            {
                "id": "syntax.signature_parses",
                "category": "syntax",
                "points": 3,
                "awarded": 0,
                "passed": False,
                "severity": "normal",
                "hypothesis": "Every signature parses as a Rust function item.",
                "evidence": f"{len(failing_a)} signatures fail to parse",
                "offending_ids": failing_a,
            },
            {
                "id": "semantics.params_documented",
                "category": "semantics",
                "points": 4,
                "awarded": 0,
                "passed": False,
                "severity": "normal",
                "hypothesis": "Arguments sections name only real parameters.",
                "evidence": "2 docs name a parameter the function lacks",
                "offending_ids": failing_b,
            },
        ],
    }


def make_tui_dataset(root: Path, n: int = 40, *, report: bool = True) -> Path:
    """A dataset dir named ``demo`` under ``root`` with ``n`` varied records (+ report)."""
    records = varied_records(n)
    stats = {"extractor_version": "1.0.0", "totals": {"records": n}}
    ds = make_dataset_dir(root / "demo", records, stats)
    if report:
        write_json(ds / FALSIFICATION_FILE, falsification_report(records))
    return ds


def run_async(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test body with asyncio.run (no pytest async plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


def screen_text(app: Any) -> str:
    """What the terminal shows, as plain text (from the SVG screenshot: tags and escapes gone)."""
    svg = app.export_screenshot()
    body = svg[svg.find("<g class") :]  # skip the <style> block
    return html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")

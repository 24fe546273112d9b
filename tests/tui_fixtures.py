"""Datasets for the TUI tests: varied synthetic records plus a falsification.json."""

from __future__ import annotations

import asyncio
import functools
import html
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from corpus.layout import FALSIFICATION_JSON
from corpus.schema import CONTAINER_KINDS
from corpus.store import write_json
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


#: A doc as rustdoc writes them: a heading, an intra-doc link and a code fence, which a
#: Markdown view would turn into a centred title, `[help_heading]` and a box.
RUSTDOC_DOC = (
    "Returns the [`help_heading`] of this argument.\n\n"
    "# Examples\n\n"
    "```rust\n"
    "let heading = arg.get_help_heading();\n"
    "```"
)
#: A doc with terminal control characters (ESC sequences, a BEL): shown as visible symbols.
CONTROL_DOC = "Paints \x1b[31mred\x1b[0m text\x07 on the terminal.\n\nDetails."


def varied_records(n: int) -> list[dict[str, Any]]:
    """``n`` varied records; record 1 carries ``MARKUP_DOC``, record 6 ``RUSTDOC_DOC`` (with
    an Examples section), record 7 ``CONTROL_DOC``."""
    docs = {1: {"doc": MARKUP_DOC}, 6: {"doc": RUSTDOC_DOC, "doc_sections": ["Examples"]},
            7: {"doc": CONTROL_DOC}}  # fmt: skip
    return [varied_record(i, **docs.get(i, {})) for i in range(n)]


#: The two checks the TUI fixtures' report fails (both normal: the verdict is WARN, 92/100).
FAILED_CHECKS = ("syntax.signatures_parse", "semantics.arguments_exist")
#: A threshold check that passes but names two records (5 and 6) among its offenders.
PASSED_NAMING = "semantics.english"
#: Its evidence carries an ESC sequence: the screen must show it as symbols.
PASSED_EVIDENCE = "38/40 = 95.00% English docs (threshold 90%); 2 offending, e.g. \x1b[2J"


def falsification_report(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A complete report with two failed checks naming records and one passed check that names
    records too (a threshold check), as falsification.json holds it."""
    from tests.report_fixtures import make_report

    failing_a = [r["id"] for r in records[2:5]]
    failing_b = [records[3]["id"], "f" * 64]  # one id that is not in the dataset
    report = make_report(dict(zip(FAILED_CHECKS, (failing_a, failing_b), strict=True)))
    passed = report.result(PASSED_NAMING)
    passed.offending_ids = [r["id"] for r in records[5:7]]
    passed.evidence = PASSED_EVIDENCE
    return report.to_json()


def make_tui_dataset(root: Path, n: int = 40, *, report: bool = True) -> Path:
    """A dataset dir named ``demo`` under ``root`` with ``n`` varied records (+ report)."""
    records = varied_records(n)
    stats = {
        "extractor_version": "1.0.0",
        "totals": {"records": n},
        "filters": {"undocumented": 120, "exact_duplicate": 7, "near_duplicate": 5,
                    "test_excluded": 0},
    }  # fmt: skip
    ds = make_dataset_dir(root / "demo", records, stats)
    if report:
        write_json(ds / FALSIFICATION_JSON, falsification_report(records))
    return ds


def run_async(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test body with asyncio.run (no pytest async plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


def screen_lines(app: Any) -> list[str]:
    """What the terminal shows, line by line, spaces and all (the compositor's own render)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)  # fmt: skip
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text().split("\n")[:height]


def shown(app: Any) -> str:
    """``screen_lines`` joined: the whole screen as one string, to search."""
    return "\n".join(screen_lines(app))


def screen_text(app: Any) -> str:
    """What the terminal shows, as plain text (from the SVG screenshot: tags and escapes gone)."""
    svg = app.export_screenshot()
    body = svg[svg.find("<g class") :]  # skip the <style> block
    return html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")

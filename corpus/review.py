"""A seeded random pick of records, and the Markdown review sheet a person fills in for them.

The sheet quotes each record's signature and doc exactly (in fences longer than any backtick
run inside, control characters drawn as symbols) with a checklist of what makes a doc a good
training target, as the original project's review sheets had.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.text import show_controls

#: What the reviewer checks for every record (a record passes when every box is ticked).
CHECKLIST = (
    "The summary line says what the function does (not how; not just its name again)",
    "Every parameter, return value, error and panic the doc names matches the signature",
    "Nothing in the doc is wrong about the code (behaviour, safety, panics)",
    "Examples, if any, use this item and would compile",
    "Plain English; no secrets, personal data, or leftover comment markers",
    "A good training target: not boilerplate, not a near-copy of another record",
)


def pick(dataset: Path, n: int, *, seed: int = 0, split: str | None = None) -> list[dict]:
    """``n`` records drawn at random (``seed``), in the order drawn; all of them if fewer."""
    from corpus.store import read_records

    frame = read_records(dataset)
    if split is not None:
        have = sorted(v for v in frame.get_column("split").unique().to_list() if v) if (
            "split" in frame.columns) else []  # fmt: skip
        if split not in have:
            raise BadInputError(f"--split {split!r}: this dataset has {', '.join(have) or 'none'}")
        frame = frame.filter(frame.get_column("split") == split)
    if frame.height == 0:
        raise BadInputError(f"{dataset}: no records to pick from")
    rows = random.Random(seed).sample(range(frame.height), min(n, frame.height))
    return [frame.row(i, named=True) for i in rows]


def fence(text: str, lang: str = "") -> str:
    """``text`` in a Markdown code fence longer than any run of backticks inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    bar = "`" * max(3, longest + 1)
    return f"{bar}{lang}\n{text}\n{bar}"


def _record_section(i: int, rec: dict[str, Any]) -> str:
    doc = rec.get("doc")
    lines = [
        f"## {i}. `{show_controls(rec['qualified_path'])}`",
        "",
        f"- Source: {show_controls(rec['repo'])} at `{rec['commit'][:12]}`, "
        f"[{show_controls(rec['path'])}:{rec['start_line']}-{rec['end_line']}]"
        f"({rec['permalink']})",
        f"- Record: `{rec['id']}` · {rec['container_kind']} · split {rec.get('split') or '-'}",
        "",
        "Signature:",
        "",
        fence(show_controls(rec["signature"]), "rust"),
        "",
        "Doc (the training target, exactly):",
        "",
        fence(show_controls(doc), "text") if doc else "_(no doc comment)_",
        "",
        *(f"- [ ] {item}" for item in CHECKLIST),
        "",
        "Notes:",
        "",
    ]
    return "\n".join(lines)


def review_sheet(records: list[dict[str, Any]], *, dataset: str, seed: int) -> str:
    """The whole sheet: how to review, one section per record, and a tally to fill in."""
    head = [
        f"# Review sheet: {len(records)} records of {show_controls(dataset)} (seed {seed})",
        "",
        "Reviewer: ________   Date: ________",
        "",
        "Tick each box that holds; write what does not under Notes. A record passes when every",
        "box is ticked. Control characters in the corpus are shown as symbols (ESC is ␛).",
        "`corpus review` with the same dataset, count and seed gives the same records.",
        "",
    ]
    body = [_record_section(i, rec) for i, rec in enumerate(records, 1)]
    tail = ["## Tally", "", f"Passed: ____ / {len(records)}", ""]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n" + "\n".join(tail)

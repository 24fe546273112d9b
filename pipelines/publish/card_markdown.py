"""The markdown pieces every section of the dataset card is written with."""

from __future__ import annotations

from typing import Any


def count(value: Any) -> str:
    """An integer with thousands separators; anything else (a missing figure) is ``n/a``."""
    return f"{value:,}" if isinstance(value, int) else "n/a"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)

"""Text helpers shared by the prompt, the CLI and the TUI (no dependencies)."""

from __future__ import annotations


def dedent_item(source: str) -> str:
    """An item's source as it reads at its own indentation.

    The span starts at the item's first token, mid-line, so its first line has no indentation
    while the others keep the file's; the last line (the closing `}` or the whole item) sits at
    the item's column, so that is what comes off the other lines.
    """
    lines = source.split("\n")
    if len(lines) < 2:
        return source
    last = lines[-1]
    col = len(last) - len(last.lstrip(" \t"))
    if any(ln.strip() and not ln[:col].isspace() for ln in lines[1:] if col):
        return source  # something sits left of the item's column: show it as it is
    return "\n".join([lines[0], *(ln[col:] for ln in lines[1:])])

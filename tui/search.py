"""Where a search matches inside the text the table shows (plain ``re``, no polars, no Textual).

polars decides which rows match; this module finds the matched spans again in the few cells on
screen, to highlight them, and makes a snippet of the doc or signature when the match is in no
visible column (most doc hits: the summary is only the first paragraph).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Span = tuple[int, int]

#: Characters of context kept before the match in a snippet.
SNIPPET_LEAD = 16
#: Spans looked for in one cell: enough to highlight every hit a row can show.
_MAX_SPANS = 32


@dataclass(frozen=True)
class Matcher:
    """A compiled, case-insensitive search: what the user typed, literally or as a regex."""

    pattern: re.Pattern[str]

    @classmethod
    def for_search(cls, text: str, regex: bool) -> Matcher | None:
        """The matcher for a search (None without one, or for a regex Python cannot compile:
        polars' engine accepts a few it does not, and then the rows are just not highlighted)."""
        if not text:
            return None
        try:
            flags = re.IGNORECASE | re.MULTILINE
            return cls(re.compile(text if regex else re.escape(text), flags))
        except re.error:
            return None

    def spans(self, text: str) -> list[Span]:
        """The non-empty matches in ``text``, left to right."""
        out: list[Span] = []
        for m in self.pattern.finditer(text):
            if m.end() > m.start():
                out.append((m.start(), m.end()))
                if len(out) >= _MAX_SPANS:
                    break
        return out


@dataclass(frozen=True)
class Snippet:
    """One line of a field around its first match: ``label`` (``doc``/``sig``), ``text`` and the
    matched spans in ``text``."""

    label: str
    text: str
    spans: list[Span]


def snippet(
    matcher: Matcher, fields: list[tuple[str, str | None]], lead: int = SNIPPET_LEAD
) -> Snippet | None:
    """The first of ``fields`` (label, text) in which ``matcher`` matches, cut to the line of the
    match and starting ``lead`` characters before it; None when none matches."""
    for label, text in fields:
        if not text:
            continue
        spans = matcher.spans(text)
        if not spans:
            continue
        first = spans[0][0]
        line_start = text.rfind("\n", 0, first) + 1
        line_end = text.find("\n", first)
        line_end = len(text) if line_end < 0 else line_end
        start = max(line_start, first - lead)
        prefix = "…" if start > line_start else ""
        body = text[start:line_end]
        shift = len(prefix) - start
        mine = [(a + shift, min(b, line_end) + shift) for a, b in spans if start <= a < line_end]
        return Snippet(label, prefix + body, mine)
    return None

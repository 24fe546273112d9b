"""Doc defects that make a record a bad training target (the filter stage drops them).

Each rule mirrors a lint Rust developers already use, so a dropped record is one its own
authors' tooling would flag:
- ``doc_unclosed_fence``: a code fence left open at the end of the doc (CommonMark closes it
  silently; a model trained on it learns to leave fences open);
- ``missing_safety_doc``: a `pub unsafe fn` without a `# Safety` section (clippy's
  `missing_safety_doc`).
"""

from __future__ import annotations

import re
from typing import Any

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def unclosed_fence(doc: str) -> bool:
    """True if a fenced code block opened in ``doc`` is never closed (CommonMark rules)."""
    open_fence: str | None = None
    for line in doc.split("\n"):
        m = _FENCE.match(line)
        if not m:
            continue
        fence, rest = m.group(1), m.group(2)
        if open_fence is None:
            if fence[0] == "`" and "`" in rest:
                continue  # an inline code span, not a fence
            open_fence = fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence) and not rest.strip():
            open_fence = None
    return open_fence is not None


def doc_defect(rec: dict[str, Any]) -> str | None:
    """The reason ``rec``'s doc is a bad training target, or None."""
    doc = rec.get("doc") or ""
    if unclosed_fence(doc):
        return "doc_unclosed_fence"
    sections = rec.get("doc_sections") or []
    if rec.get("is_unsafe") and rec.get("visibility") == "pub" and "Safety" not in sections:
        return "missing_safety_doc"
    return None

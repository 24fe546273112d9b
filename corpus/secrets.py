"""Secrets and e-mail addresses in doc and source text: find them and redact them.

Detection uses detect-secrets' own plugins in-process: every regex-based detector (AWS, GitHub,
GitLab, Slack, Stripe, private keys, JWTs, ...) contributes its ``denylist`` patterns, which we
run over whole texts rather than line by line (``scan_line`` costs ~0.5 ms a line; this is
~100x faster on code). Left out on purpose, because on source code they flag ordinary code:
the high-entropy detectors (hex constants, hashes in tests), the keyword detector (any
``password`` identifier) and the public-IPv4 detector (addresses in docs are examples).

E-mail addresses are treated as secrets too (PII), except placeholder domains (example.com,
``.invalid``, ``.test``, ``localhost``...) which carry no one's address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

REDACTED = "<REDACTED>"

#: detect-secrets detectors we do not use, and why (see the module docstring).
EXCLUDED_DETECTORS = frozenset({"IPPublicDetector"})

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_PLACEHOLDER_DOMAIN = re.compile(
    r"@(?:[\w-]+\.)*(?:example\.(?:com|org|net)|[\w-]+\.(?:invalid|test|example|localhost)|localhost)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """One secret found in a text: its kind and character span."""

    kind: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _detectors() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(detector name, pattern) for every regex-based detect-secrets plugin we use."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    out: list[tuple[str, re.Pattern[str]]] = []
    for cls in sorted(get_mapping_from_secret_type_to_class().values(), key=lambda c: c.__name__):
        if not issubclass(cls, RegexBasedDetector) or cls.__name__ in EXCLUDED_DETECTORS:
            continue
        for pattern in cls().denylist:
            out.append((cls.__name__, pattern))
    return tuple(out)


def find_secrets(text: str | None) -> list[Finding]:
    """Every secret and non-placeholder e-mail address in ``text``, by start offset."""
    if not text:
        return []
    found: list[Finding] = []
    for name, pattern in _detectors():
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append(Finding(name, m.start(), m.end()))
    if "@" in text:
        for m in _EMAIL.finditer(text):
            if not _PLACEHOLDER_DOMAIN.search(m.group(0)):
                found.append(Finding("Email", m.start(), m.end()))
    return sorted(found, key=lambda f: (f.start, f.end, f.kind))


def redact(text: str | None) -> tuple[str | None, int]:
    """``text`` with every finding replaced by ``<REDACTED>``, and how many spans were replaced.

    Overlapping findings are merged so a secret is replaced once, whole.
    """
    findings = find_secrets(text)
    if not findings or text is None:
        return text, 0
    spans: list[list[int]] = []
    for f in findings:
        if spans and f.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], f.end)
        else:
            spans.append([f.start, f.end])
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        parts.append(text[pos:start])
        parts.append(REDACTED)
        pos = end
    parts.append(text[pos:])
    return "".join(parts), len(spans)

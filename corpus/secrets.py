"""Secrets and e-mail addresses in published text: find them and redact them.

Detection uses detect-secrets' own plugins in-process: every regex-based detector (AWS, GitHub,
GitLab, Slack, Stripe, private keys, JWTs, ...) contributes its ``denylist`` patterns, which we
run over whole texts rather than line by line (``scan_line`` costs ~0.5 ms a line; this is
~100x faster on code). Left out on purpose, because on source code they flag ordinary code:
the high-entropy detectors (hex constants, hashes in tests), the keyword detector (any
``password`` identifier) and the public-IPv4 detector (addresses in docs are examples).

E-mail addresses are treated as secrets too (PII), except placeholder domains (example.com,
``.invalid``, ``.test``, ``localhost``...) which carry no one's address. A PEM private key is
found whole, BEGIN line through END line (detect-secrets matches only the BEGIN line, which
would leave the key's body published); without an END line, through the end of the text.

Which columns may be redacted and which must instead drop the record is
:data:`REDACTABLE_COLUMNS` / :func:`unredactable_findings`: every published string is scanned.
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
_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
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


@lru_cache(maxsize=1)
def _prefilter() -> tuple[re.Pattern[str], ...]:
    """The detectors' patterns as one alternation per flag set: one pass tells whether a
    text can hold a finding at all (almost none do), before each detector looks."""
    by_flags: dict[int, list[str]] = {}
    for _, p in _detectors():
        by_flags.setdefault(p.flags, []).append(f"(?:{p.pattern})")
    return tuple(re.compile("|".join(ps), flags) for flags, ps in sorted(by_flags.items()))


def find_secrets(text: str | None) -> list[Finding]:
    """Every secret and non-placeholder e-mail address in ``text``, by start offset."""
    if not text:
        return []
    found: list[Finding] = []
    maybe = any(p.search(text) for p in _prefilter())
    for name, pattern in _detectors() if maybe else ():
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append(Finding(name, m.start(), m.end()))
    if "-----BEGIN" in text:
        found += [Finding("PrivateKeyBlock", m.start(), m.end()) for m in _PEM_BLOCK.finditer(text)]
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


#: Columns whose text may be redacted in place (the record stays, ``redacted=True``): the doc,
#: its summary, the source and the attributes. A secret anywhere else — the signature (the
#: training prompt), a name, a path or permalink, a type or trait name — cannot be cut out
#: without breaking the record, so the record is dropped (``secret_dropped``).
REDACTABLE_COLUMNS = ("doc", "doc_summary", "source", "attributes")

#: Columns the extractor fills with hashes, versions and fixed vocabularies, never repository
#: text: not scanned (a hex id is not a key).
UNSCANNED_COLUMNS = frozenset({
    "id", "commit", "dup_cluster", "split", "license", "extractor_version", "grammar_version",
    "container_kind", "visibility", "origin", "target_kind",
})  # fmt: skip


def text_values(value: object) -> list[str]:
    """The strings in a column value (a string, or a list of strings), else none."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def scanned_columns(record: dict) -> list[str]:
    """Every column of ``record`` whose text comes from the repository."""
    return [c for c in record if c not in UNSCANNED_COLUMNS]


def scanned_texts(record: dict) -> list[str]:
    """Every non-empty published string of ``record`` that comes from the repository (the
    scanned columns' strings): a token in a file name reaches ``path`` and ``permalink``, one
    in a type name ``self_type`` and ``qualified_path``; attributes carry ``#[doc = ".."]``."""
    return [t for c in scanned_columns(record) for t in text_values(record[c]) if t]


def unredactable_findings(record: dict) -> list[tuple[str, Finding]]:
    """(column, finding) for every secret in a column that cannot be redacted.

    The columns' texts are scanned as one newline-joined text (one pass of the detectors per
    record, not one per column); a finding is attributed to the column it starts in.
    """
    starts: list[tuple[int, str]] = []
    parts: list[str] = []
    pos = 0
    for c in scanned_columns(record):
        if c in REDACTABLE_COLUMNS:
            continue
        for t in text_values(record[c]):
            starts.append((pos, c))
            parts.append(t)
            pos += len(t) + 1
    found = find_secrets("\n".join(parts))
    out = []
    for f in found:
        column = next(c for start, c in reversed(starts) if start <= f.start)
        out.append((column, f))
    return out

"""Privacy and licence (critical): no secrets, email addresses or access tokens in any
published string (doc, source, signature, names, paths, permalinks, types, attributes...), and
every licence on the permissive allow-list.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

from falsification.candidates import is_candidate
from falsification.context import SuiteContext
from falsification.registry import Outcome, check, outcome

#: Permissive SPDX ids a fine-tuning corpus may redistribute (with attribution).
ALLOWED_LICENSES = frozenset(
    {
        "MIT",
        "MIT-0",
        "Apache-2.0",
        "Unlicense",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "ISC",
        "Zlib",
        "0BSD",
        "CC0-1.0",
        "BSL-1.0",
    }
)
ALLOWED_EXCEPTIONS = frozenset({"LLVM-exception"})

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
_EXAMPLE_DOMAIN = re.compile(
    r"@([\w-]+\.)*(example\.(com|org|net)|[\w-]+\.(example|invalid|test|localhost))$",
    re.IGNORECASE,
)
_TOKENS = re.compile(
    r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,}|glpat-[A-Za-z0-9_-]{20}"
    r"|hf_[A-Za-z0-9]{30,}|(AKIA|ASIA)[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|sk_live_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9]{32,}|AIza[0-9A-Za-z_-]{35}"
    r"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"
    r"|-----(?:BEGIN|END) [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
)


#: detect-secrets' filter that skips lines carrying its allowlist pragma.
ALLOWLIST_FILTER = "detect_secrets.filters.allowlist.is_line_allowlisted"


def detect_secret_hits(records: list[dict], texts: list[list[str]]) -> dict[str, list[str]]:
    """record id -> secret types detect-secrets (default plugins and filters, but not its
    allowlist pragma) finds in it (``texts``: each record's ``scanned_texts``, in order).

    Candidate lines go to one temporary file scanned by ``SecretsCollection.scan_file`` (the
    public, filtered path; ``scan_line`` is for ad-hoc strings and runs eager, unfiltered
    search). detect-secrets reports each distinct value once per file, so every candidate line
    holding a found value is attributed to its record afterwards.
    """
    import tempfile

    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    lines: list[str] = []
    owners: list[str] = []
    for r, own in zip(records, texts, strict=True):
        for text in own:
            if not is_candidate(text):
                continue
            for line in text.split("\n"):
                if is_candidate(line):
                    lines.append(line)
                    owners.append(r["id"])
    if not lines:
        return {}
    with tempfile.TemporaryDirectory(prefix="falsify-secrets-") as d:
        # each line is scanned on its own (the allowlist filter, the one that looks at a
        # neighbour, is off): a repeated line need not be scanned twice
        unique = "\n".join(dict.fromkeys(lines))
        Path(d, "candidates.txt").write_text(unique + "\n", encoding="utf-8")
        with default_settings() as settings:
            # a `pragma: allowlist secret` comment is the repository's word, not ours
            settings.disable_filters(ALLOWLIST_FILTER)
            found = SecretsCollection(root=d)
            found.scan_file("candidates.txt")
            values = {(s.type, s.secret_value) for _, s in found if s.secret_value}
    hits: dict[str, list[str]] = defaultdict(list)
    for line, owner in zip(lines, owners, strict=True):
        for kind, value in values:
            if value in line:
                hits[owner].append(kind)
    return dict(hits)


@check(
    "privacy.no_secrets",
    points=2,
    apart=True,
    severity="critical",
    hypothesis="detect-secrets (default plugins and filters; an allowlist pragma in the source "
    "hides nothing) finds no secret in any published string of any record.",
)
def no_secrets(ctx: SuiteContext) -> Outcome:
    hits = detect_secret_hits(ctx.records, ctx.scanned_texts)
    kinds = Counter(k for ks in hits.values() for k in ks)
    ev = f"{len(hits)} records with secrets" + (f": {dict(kinds)}" if kinds else "")
    return outcome(not hits, ev, list(hits))


#: A literal every match of ``_TOKENS`` holds (a substring test is ~100x a regex search).
_TOKEN_LITERALS = (
    "gh", "github_pat_", "glpat-", "hf_", "AKIA", "ASIA", "xox", "sk_live_", "sk-", "AIza",
    "eyJ", "-----",
)  # fmt: skip


def _may_hold_token(text: str) -> bool:
    return any(lit in text for lit in _TOKEN_LITERALS)


def emails_and_tokens(text: str) -> list[str]:
    """Real-looking email addresses (not RFC 2606 example domains) and access tokens."""
    hits = []
    if "@" in text:
        hits += [
            m.group(0) for m in _EMAIL.finditer(text) if not _EXAMPLE_DOMAIN.search(m.group(0))
        ]
    if _may_hold_token(text):
        hits += [m.group(0) for m in _TOKENS.finditer(text)]
    return hits


@check(
    "privacy.no_emails_tokens",
    points=2,
    apart=True,
    severity="critical",
    hypothesis="No published string of any record holds an email address (other than RFC 2606 "
    "example domains) or a known access-token / private-key pattern (a PEM BEGIN or END line).",
)
def no_emails_tokens(ctx: SuiteContext) -> Outcome:
    bad, n = [], 0
    for r, own in zip(ctx.records, ctx.scanned_texts, strict=True):
        joined = "\n".join(own)  # one test of the literals per record: none holds a newline
        if "@" not in joined and not _may_hold_token(joined):
            continue
        hits = [h for t in own for h in emails_and_tokens(t)]
        if hits:
            bad.append(r["id"])
            n += len(hits)
    return outcome(not bad, f"{n} emails/tokens in {len(bad)} records", bad)


@lru_cache(maxsize=1024)  # a corpus holds a handful of expressions, each on many records
def license_allowed(expr: str) -> bool:
    """Whether an SPDX expression is satisfied by the allow-list (license-expression's parse
    and DNF): every id allowed under AND, one allowed side under OR, and a ``WITH`` exception
    only from ALLOWED_EXCEPTIONS. Cargo's ``MIT/Apache-2.0`` reads as ``OR``; an expression
    that does not parse, or names an id not on the SPDX list, is not allowed."""
    from corpus.licenses.spdx import satisfied_by

    return satisfied_by(expr or "", ALLOWED_LICENSES, ALLOWED_EXCEPTIONS)


def _detected_expressions(ctx: SuiteContext) -> dict[str, list[str]]:
    """repo -> the licences stats.json's detection gives it (the repository's, and each
    workspace package's record licence)."""
    out: dict[str, list[str]] = {}
    for repo, summary in sorted((ctx.stats.get("licenses") or {}).items()):
        if not isinstance(summary, dict):
            continue
        exprs = [summary.get("detected")] + [
            m.get("record_license") for m in summary.get("members") or [] if isinstance(m, dict)
        ]
        out[repo] = sorted({e for e in exprs if isinstance(e, str)})
    return out


@check(
    "privacy.license_allowed",
    points=2,
    apart=True,
    severity="critical",
    hypothesis="Every record's licence, every pin in sources.lock and every licence detected "
    "at a pin (stats.json `licenses`: the repository's and each workspace package's) is an "
    "SPDX expression satisfied by the permissive allow-list.",
)
def license_allowed_check(ctx: SuiteContext) -> Outcome:
    exprs = sorted({r["license"] for r in ctx.records})
    bad = [r["id"] for r in ctx.records if not license_allowed(r["license"])]
    bad_pins = [
        repo
        for repo, e in sorted((ctx.lock or {}).items())
        if not license_allowed(e.get("license", ""))
    ]
    bad_detected = {
        repo: [e for e in found if not license_allowed(e)]
        for repo, found in _detected_expressions(ctx).items()
    }
    bad_detected = {repo: found for repo, found in bad_detected.items() if found}
    ev = f"licences {exprs}; {len(bad)} records not allowed"
    if bad_pins:
        ev += f"; pins not allowed: {bad_pins}"
    if bad_detected:
        ev += f"; detected at the pin and not allowed: {bad_detected}"
        bad += [r["id"] for r in ctx.records if r["repo"] in bad_detected]  # taken on trust
    return outcome(not (bad or bad_pins or bad_detected), ev, bad)

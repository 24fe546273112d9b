"""The rejection kinds: realistic wrong docs for a record, each a pure function of its inputs.

A preference pair puts a record's real doc (*chosen*) against a wrong one (*rejected*). The
wrong ones are the mistakes a doc writer (or a model) really makes, not noise:

- ``neighbour``: the doc of the most similar *other* function of the same split, by BM25 over
  the prompt's code block (``pipelines.eval.baselines``: the retrieval baseline's index and
  tokens), skipping neighbours whose doc is the record's own;
- ``sections_stripped``: the doc cut before its first ``# Heading`` (outside code blocks):
  what is left when the Examples/Errors/Panics/Safety sections are dropped;
- ``swapped``: the doc with a parameter name it mentions replaced by a wrong one (a parameter
  name of another function of the split), or, when it mentions none, a type of the signature
  it names in backticks replaced by another type of the split;
- ``summary_only``: the doc's first paragraph alone (for docs that say more);
- ``model``: a model's own generation when the eval metrics score it below the reference on
  every metric where they differ (``pipelines.pairs.mine``).

Every function returns ``None`` when its kind does not apply to the record (no neighbour
with another doc, no section, nothing to swap, a one-paragraph doc).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pipelines.eval.metrics import param_names

KINDS = ("neighbour", "sections_stripped", "swapped", "summary_only", "model")
DESCRIPTIONS = {
    "neighbour": "the doc of the most similar other function of the same split (BM25 over "
    "the prompt's code block), never one equal to the record's own doc",
    "sections_stripped": "the doc cut before its first `# Heading` (its Examples, Errors, "
    "Panics, Safety... sections dropped)",
    "swapped": "the doc with a parameter name it mentions replaced by another function's "
    "parameter name (or, without one, a signature type it names in backticks replaced by "
    "another type of the split)",
    "summary_only": "the doc's first paragraph alone",
    "model": "the model's own generation, kept when corpus eval's metrics score it below the "
    "reference (no better on any metric, worse on at least one)",
}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+\S")
_TICKED = re.compile(r"`([^`\n]+)`")
_TYPE_WORD = re.compile(
    r"\b(?:[A-Z][A-Za-z0-9]*|[iu](?:8|16|32|64|128|size)|f32|f64|bool|char|str)\b"
)


@dataclass(frozen=True)
class Rejection:
    """A wrong doc for a record: its kind, the doc text, why it is wrong, and the record it
    came from when it is another record's doc (``neighbour``)."""

    kind: str
    doc: str
    detail: str
    source_id: str | None = None


def normalised(doc: str) -> str:
    """A doc with its whitespace collapsed (what two docs must differ by to count as two)."""
    return " ".join((doc or "").split())


def word_re(word: str) -> re.Pattern[str]:
    """``word`` as a whole identifier (not inside a longer one)."""
    return re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])")


def _stable_pick(options: list[str], key: str) -> str:
    """One of ``options`` chosen by a hash of ``key``: the same pick on every run."""
    digest = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:12], 16)
    return options[digest % len(options)]


# --- neighbour -----------------------------------------------------------------------------


def neighbour(
    record: dict[str, Any], ranked: Iterable[tuple[dict[str, Any], float]]
) -> Rejection | None:
    """The doc of the best-ranked other record whose doc differs from ``record``'s.

    ``ranked``: the split's records by BM25 similarity to ``record``, best first, without the
    record itself (``Retriever.ranked`` over the record's own split).
    """
    own = normalised(record["doc"])
    for other, score in ranked:
        if other["id"] != record["id"] and normalised(other["doc"]) != own:
            where = other.get("qualified_path") or other["name"]
            return Rejection(
                "neighbour", other["doc"], f"doc of {where} (BM25 {score:.2f})", other["id"]
            )
    return None


# --- sections_stripped ---------------------------------------------------------------------


def first_heading_line(doc: str) -> int | None:
    """Index of the doc's first heading line outside fenced code blocks (None: no heading).

    Inside a fence a leading ``#`` is a hidden doc-test line, not a heading, so fences are
    tracked (an unclosed fence runs to the end, as in CommonMark)."""
    fence: str | None = None
    for i, line in enumerate(doc.split("\n")):
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
            elif _HEADING.match(line):
                return i
        elif (
            m
            and m.group(1)[0] == fence[0]
            and len(m.group(1)) >= len(fence)
            and not line.strip().lstrip(fence[0])
        ):
            fence = None
    return None


def sections_stripped(record: dict[str, Any]) -> Rejection | None:
    """The doc without its sections: everything before its first heading."""
    doc = record["doc"]
    cut = first_heading_line(doc)
    if cut is None:
        return None
    lines = doc.split("\n")
    kept = "\n".join(lines[:cut]).strip("\n").rstrip()
    if not kept.strip():
        return None  # a doc that opens with a heading has nothing left
    dropped = sum(1 for line in lines[cut:] if _HEADING.match(line))
    return Rejection("sections_stripped", kept, f"{dropped} heading(s) and their text dropped")


# --- swapped -------------------------------------------------------------------------------


def signature_words(record: dict[str, Any]) -> set[str]:
    """Identifiers of the record's signature (what a swapped-in name must not be)."""
    return set(re.findall(r"[A-Za-z_]\w*", record.get("signature") or ""))


def type_words(record: dict[str, Any]) -> list[str]:
    """Type-looking words of the signature (capitalised names and primitives), in order."""
    sig = " ".join([*(record.get("params") or []), record.get("return_type") or ""])
    seen: list[str] = []
    for w in _TYPE_WORD.findall(sig):
        if w not in seen and w != "Self":
            seen.append(w)
    return seen


@dataclass(frozen=True)
class SwapPool:
    """Wrong names to swap in, drawn from one split: parameter names and type words."""

    params: tuple[str, ...]
    types: tuple[str, ...]

    @classmethod
    def of(cls, records: list[dict[str, Any]]) -> SwapPool:
        """The pool of a split's records (sorted, so the picks do not depend on order)."""
        params = {p for r in records for p in param_names(r.get("params"))}
        types = {t for r in records for t in type_words(r)}
        return cls(tuple(sorted(params)), tuple(sorted(types)))


def swapped(record: dict[str, Any], pool: SwapPool) -> Rejection | None:
    """The doc with one parameter name (else one signature type) swapped for a wrong one.

    Names the doc puts in backticks go first (a parameter, then a type): that is where a
    wrong name misleads a reader most; a parameter only named in prose comes last."""
    doc = record["doc"]
    taken = signature_words(record) | set(re.findall(r"\w+", doc))
    ticked = {w for span in _TICKED.findall(doc) for w in re.findall(r"\w+", span)}
    params = param_names(record.get("params"))
    candidates = [("parameter", n, pool.params) for n in params if n in ticked]
    candidates += [("type", n, pool.types) for n in type_words(record) if n in ticked]
    candidates += [
        ("parameter", n, pool.params) for n in params if n not in ticked and word_re(n).search(doc)
    ]
    for what, name, names in candidates:
        options = [p for p in names if p not in taken]
        if options:
            new = _stable_pick(options, f"{record['id']}:{what}:{name}")
            return Rejection("swapped", word_re(name).sub(new, doc), f"{what} `{name}` -> `{new}`")
    return None


# --- summary_only --------------------------------------------------------------------------


def summary_only(record: dict[str, Any]) -> Rejection | None:
    """The doc's first paragraph (as written) when the doc has more than that."""
    from falsification.docs import fences_balanced

    doc = record["doc"].strip("\n")
    head, sep, rest = _split_paragraph(doc)
    # A blank line inside a code block is no paragraph break: a cut there leaves a fence open.
    if not sep or not rest.strip() or not head.strip() or not fences_balanced(head):
        return None
    paragraphs = len([p for p in re.split(r"\n[ \t]*\n", doc) if p.strip()])
    return Rejection("summary_only", head.rstrip(), f"first of {paragraphs} paragraph(s) kept")


def _split_paragraph(doc: str) -> tuple[str, str, str]:
    """(first paragraph, the blank line after it, the rest) of a doc."""
    m = re.search(r"\n[ \t]*\n", doc)
    if m is None:
        return doc, "", ""
    return doc[: m.start()], m.group(0), doc[m.end() :]

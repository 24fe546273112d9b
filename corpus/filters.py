"""From extracted records to the published view: filters, secrets, dedup and splits.

Each record either stays or is rejected with exactly one reason, in this order:

1. ``undocumented`` — no doc (null or blank): the dataset is (signature, doc) pairs.
2. ``test_excluded`` — a test, bench or example function (kept, still flagged ``is_test``, with
   ``include_tests``).
3. ``control_characters`` — a control character (C0 but newline and tab, DEL, C1) or a bidi
   override in the doc, signature, name, attributes, enclosing header or source (where a CR
   of a CRLF file is allowed): text that would drive a terminal or reorder what a reviewer
   reads has no place in a training pair.
4. ``doc_unclosed_fence`` / ``missing_safety_doc`` — a doc with a defect its authors' own
   lints flag (``corpus.doclint``; off with ``lint_docs=False``).
5. ``secret_dropped`` — a secret or e-mail address in a column that cannot be redacted without
   breaking the record: the signature (the training prompt), a name, path, permalink,
   qualified path, type or trait name (``corpus.secrets.unredactable_findings``: every
   published string is scanned). One in the doc, summary, source or attributes is replaced by
   ``<REDACTED>`` (a PEM key whole, BEGIN through END) and the record is kept with
   ``redacted=True`` (counted as ``secret_redacted``). The record ``id`` stays
   the hash of the original text, so it still names the item at its pinned commit.
6. Dedup. Records are clustered (union-find) by
   - exact duplicates: the same (signature, doc) pair, or the same source text (one body
     documented twice, e.g. a delegating method copied across types: a model trained on the
     source would see it on both sides of a split);
   - near duplicates: docs whose word-3-gram Jaccard similarity is at least ``near_threshold``
     (0.7), found with MinHash LSH (datasketch, 128 permutations in 32 bands of 4, seed 1: recall
     99.98% at Jaccard 0.7) and then confirmed on the exact shingle sets, so the LSH only
     proposes and never decides. Docs shorter than
     ``near_min_tokens`` (8 words) take part only in exact dedup: short phrases such as
     "Returns the length." are generic, not copied.
   The representative of a cluster is its canonical copy (:func:`canonical_key`: not a test,
   public, not vendored or a ``-lite`` copy, in the crate named like the repository), path
   order (repo, path, bytes, origin, id) breaking ties — a minimum, so the choice does not
   depend on input order. Every record keeps ``dup_cluster`` = the representative's id; the
   others are rejected as ``exact_duplicate`` (the same pair or source as any other member)
   or ``near_duplicate``.
7. Splits (``corpus.splits``): files placed per repository toward 80/10/10, sticky across
   versions through the split manifest; a cluster takes its representative's file's split.

Every record that passes is published (the ``default`` config). Balance is a choice, not a
deletion: ``cap_repo_share`` picks the records a ``balanced`` config leaves out so that no
repository holds more than ``max_repo_share`` (40%) of it; the trainer can also weight repos.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import polars as pl
import pyarrow as pa

from corpus.defaults import MAX_REPO_SHARE
from corpus.doclint import doc_defect
from corpus.schema import RECORD_SCHEMA, SORT_COLUMNS
from corpus.secrets import redact, unredactable_findings
from corpus.splits import SplitManifest, assign_splits, place_files, split_counts
from corpus.text import has_controls

#: Bumped whenever the filters' output for the same input and config can change.
FILTERS_VERSION = "10"

FILTER_REASONS = (
    "control_characters",
    "doc_unclosed_fence",
    "exact_duplicate",
    "missing_safety_doc",
    "near_duplicate",
    "secret_redacted",
    "secret_dropped",
    "test_excluded",
    "undocumented",
)

REJECTS_SCHEMA = pa.schema(
    [pa.field(f.name, f.type, nullable=True) for f in RECORD_SCHEMA]
    + [pa.field("reason", pa.string(), nullable=False)]
)

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class FilterConfig:
    """Everything that decides the filter/dedup/split result (hashed into the build key)."""

    include_tests: bool = False
    near_threshold: float = 0.7
    near_min_tokens: int = 8
    shingle_words: int = 3
    num_perm: int = 128
    #: 32 bands of 4 rows: a pair at Jaccard 0.7 becomes a candidate with probability 0.9998
    #: (0.87 at 0.5). Candidates are then checked exactly, so extra ones only cost time.
    lsh_bands: int = 32
    minhash_seed: int = 1
    #: No repository may hold more than this share of the ``balanced`` config (1.0 = no such
    #: config): one large repo (tokio is ~49% of the documented fns) dominates the full one.
    max_repo_share: float = MAX_REPO_SHARE
    #: Drop docs with defects their authors' own lints flag (corpus/doclint.py).
    lint_docs: bool = True
    version: str = FILTERS_VERSION

    def to_json(self) -> dict[str, Any]:
        """The config as a JSON-able dict."""
        return asdict(self)

    def key(self) -> str:
        """A short stable hash of the config."""
        text = json.dumps(self.to_json(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class FilterResult:
    """Published records (``RECORD_SCHEMA`` columns), rejects (+ ``reason``), counts, the split
    manifest, and the ids the ``balanced`` config leaves out."""

    kept: pl.DataFrame
    rejects: pl.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    splits: dict[str, Any] = field(default_factory=dict)
    manifest: SplitManifest = field(default_factory=SplitManifest)
    new_files: int = 0
    balanced_excluded: list[str] = field(default_factory=list)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index becomes the root: keeps the structure independent of call order.
            self.parent[max(ra, rb)] = min(ra, rb)


def shingles(doc: str, k: int = 3) -> frozenset[str]:
    """Lower-cased word k-grams of ``doc`` (the whole word list if shorter than k)."""
    words = _WORD.findall(doc.lower())
    if len(words) <= k:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + k]) for i in range(len(words) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _order_key(rec: dict[str, Any]) -> tuple[Any, ...]:
    return (*(rec[c] for c in SORT_COLUMNS), rec["id"])


_VENDORED_DIRS = frozenset({"vendor", "vendored", "third_party", "third-party"})


def _norm(name: str) -> str:
    return name.replace("-", "_").lower()


def _crate_of(rec: dict[str, Any]) -> str:
    return rec.get("crate_name") or (rec.get("qualified_path") or "").split("::", 1)[0]


def canonical_key(rec: dict[str, Any]) -> tuple[Any, ...]:
    """Which member of a duplicate cluster represents it: the canonical copy first — not a
    test, public, not in a vendored directory or a ``-lite`` copy, in the crate named like
    the repository's package — and only then the stable (repo, path, span) order."""
    crate = _norm(_crate_of(rec))
    vendored = bool(_VENDORED_DIRS & set(rec["path"].split("/"))) or crate.endswith("_lite")
    return (
        bool(rec["is_test"]),
        rec.get("visibility") != "pub",
        vendored,
        crate != _norm(rec["repo"].split("/")[-1]),
        *_order_key(rec),
    )


def _exact_keys(rec: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    """What makes two records exact duplicates: the same pair, or the same source text."""
    return (("pair", rec["signature"], rec["doc"]), ("source", rec["source"]))


def near_duplicate_pairs(docs: list[str], config: FilterConfig) -> list[tuple[int, int]]:
    """Index pairs of ``docs`` (distinct texts) whose shingle Jaccard >= the threshold."""
    from datasketch import MinHash, MinHashLSH

    sets: list[frozenset[str]] = []
    idx: list[int] = []
    for i, d in enumerate(docs):
        if len(_WORD.findall(d)) >= config.near_min_tokens:
            idx.append(i)
            sets.append(shingles(d, config.shingle_words))
    if len(idx) < 2:
        return []
    hashes = MinHash.bulk(
        ([s.encode() for s in sorted(sh)] for sh in sets),
        num_perm=config.num_perm,
        seed=config.minhash_seed,
    )
    lsh = MinHashLSH(
        num_perm=config.num_perm, params=(config.lsh_bands, config.num_perm // config.lsh_bands)
    )
    for j, mh in enumerate(hashes):
        lsh.insert(j, mh, check_duplication=False)
    pairs: set[tuple[int, int]] = set()
    for j, mh in enumerate(hashes):
        for other in lsh.query(mh):
            if other > j and jaccard(sets[j], sets[other]) >= config.near_threshold:
                pairs.add((idx[j], idx[other]))
    return sorted(pairs)


def cluster(records: list[dict[str, Any]], config: FilterConfig) -> dict[str, str]:
    """Record id -> id of its cluster representative (exact + near duplicates, see module doc)."""
    records = sorted(records, key=canonical_key)
    uf = _UnionFind(len(records))
    first: dict[tuple[str, ...], int] = {}
    docs: dict[str, list[int]] = {}
    for i, rec in enumerate(records):
        for key in _exact_keys(rec):
            if key in first:
                uf.union(first[key], i)
            else:
                first[key] = i
        docs.setdefault(rec["doc"], []).append(i)
    texts = sorted(docs)
    for t in texts:
        members = docs[t]
        # The same doc text is a near-duplicate of itself when it is long enough to count.
        if len(_WORD.findall(t)) >= config.near_min_tokens:
            for m in members[1:]:
                uf.union(members[0], m)
    for a, b in near_duplicate_pairs(texts, config):
        uf.union(docs[texts[a]][0], docs[texts[b]][0])
    # Roots are the smallest index of each set, i.e. the most canonical record.
    return {rec["id"]: records[uf.find(i)]["id"] for i, rec in enumerate(records)}


def _frame(rows: list[dict[str, Any]], schema: pa.Schema) -> pl.DataFrame:
    table = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema)
    return pl.from_arrow(table)  # type: ignore[return-value]


def cap_repo_share(records: list[dict[str, Any]], max_share: float) -> list[dict[str, Any]]:
    """The records to leave out so that no repository holds more than ``max_share`` of the rest.

    The largest repository is cut down first, repeatedly, keeping the records whose sha256(id)
    sorts lowest: a choice that depends on nothing but the records themselves, and spreads the
    cut evenly over files, splits and clusters.
    """
    if not 0 < max_share < 1 or not records:
        return []
    by_repo: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_repo.setdefault(rec["repo"], []).append(rec)
    if len(by_repo) * max_share < 1:
        return []  # too few repositories for any cap to be satisfiable
    # Exact arithmetic: with floats, `n <= share * total` and the cut could disagree by a
    # rounding error, and the loop would never end.
    share = Fraction(str(max_share))
    dropped: list[dict[str, Any]] = []
    while True:
        total = sum(len(v) for v in by_repo.values())
        repo = max(sorted(by_repo), key=lambda r: len(by_repo[r]))
        n = len(by_repo[repo])
        rest = total - n
        allowed = math.floor(share * rest / (1 - share))  # the most n may be: n <= share*total
        if n <= allowed:
            return dropped
        ranked = sorted(by_repo[repo], key=lambda r: hashlib.sha256(r["id"].encode()).digest())
        by_repo[repo] = ranked[:allowed]
        dropped.extend(ranked[allowed:])


def _is_blank(doc: str | None) -> bool:
    return doc is None or not doc.strip()


def _has_controls(rec: dict[str, Any]) -> bool:
    texts = [rec["doc"], rec["signature"], rec["name"], rec.get("container_header") or "",
             *rec["attributes"]]  # fmt: skip
    return any(has_controls(t) for t in texts) or has_controls(rec["source"], keep="\n\t\r")


def _screen(rec: dict[str, Any], config: FilterConfig) -> str | dict[str, Any]:
    """The first reason to reject ``rec`` before dedup, or the record as it goes on (its
    secrets redacted in doc, source and attributes)."""
    if _is_blank(rec["doc"]):
        return "undocumented"
    if rec["is_test"] and not config.include_tests:
        return "test_excluded"
    if _has_controls(rec):
        return "control_characters"
    defect = doc_defect(rec) if config.lint_docs else None
    if defect:
        return defect
    if unredactable_findings(rec):
        return "secret_dropped"
    doc, n_doc = redact(rec["doc"])
    source, n_src = redact(rec["source"])
    attrs = [redact(a) for a in rec["attributes"]]
    if n_doc or n_src or sum(n for _, n in attrs):
        summary, _ = redact(rec["doc_summary"])
        rec = {**rec, "doc": doc, "source": source, "doc_summary": summary,
               "attributes": [a for a, _ in attrs], "redacted": True}  # fmt: skip
    return rec


def _dedup_and_split(
    candidates: list[dict[str, Any]], config: FilterConfig, previous: SplitManifest | None
) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]], SplitManifest, int]:
    """(cluster representatives, (duplicate, reason) pairs, the manifest, files newly placed);
    every record gets its cluster and split."""
    reps = cluster(candidates, config)
    by_id = {r["id"]: r for r in candidates}
    files = {r["id"]: (r["repo"], r["path"]) for r in candidates}
    per_file: dict[tuple[str, str], int] = {}
    for rid, rep in reps.items():
        if rid == rep:
            per_file[files[rid]] = per_file.get(files[rid], 0) + 1
    manifest, placed = place_files(per_file, previous)
    splits = assign_splits(files, reps, manifest)
    shared = Counter((reps[r["id"]], k) for r in candidates for k in _exact_keys(r))
    kept: list[dict[str, Any]] = []
    dropped: list[tuple[dict[str, Any], str]] = []
    for rec in candidates:
        rec["dup_cluster"] = reps[rec["id"]]
        rec["split"] = splits[rec["id"]]
        if by_id[rec["dup_cluster"]] is rec:
            kept.append(rec)
        elif any(shared[(rec["dup_cluster"], k)] > 1 for k in _exact_keys(rec)):
            dropped.append((rec, "exact_duplicate"))  # of the representative or another member
        else:
            dropped.append((rec, "near_duplicate"))
    return kept, dropped, manifest, len(placed)


def filter_records(
    records: pl.DataFrame | Iterable[dict[str, Any]],
    config: FilterConfig,
    previous: SplitManifest | None = None,
) -> FilterResult:
    """Apply the filters, dedup and splits to extracted records (see the module docstring).

    ``previous`` is the last build's split manifest: its files keep their splits.
    """
    rows = records.to_dicts() if isinstance(records, pl.DataFrame) else list(records)
    rows.sort(key=_order_key)
    counts = dict.fromkeys(FILTER_REASONS, 0)
    rejects: list[dict[str, Any]] = []

    def reject(rec: dict[str, Any], reason: str) -> None:
        counts[reason] += 1
        rejects.append({**rec, "reason": reason})

    candidates: list[dict[str, Any]] = []
    for rec in rows:
        rec = {**rec, "dup_cluster": None, "split": None, "redacted": False}
        screened = _screen(rec, config)
        if isinstance(screened, str):
            reject(rec, screened)
        else:
            candidates.append(screened)
    kept, duplicates, manifest, new_files = _dedup_and_split(candidates, config, previous)
    for rec, reason in duplicates:
        reject(rec, reason)
    # Counted on the published rows: a redacted record rejected later counts once, as rejected.
    counts["secret_redacted"] = sum(1 for r in kept if r["redacted"])
    rejects.sort(key=_order_key)
    return FilterResult(
        kept=_frame(kept, RECORD_SCHEMA),
        rejects=_frame(rejects, REJECTS_SCHEMA),
        counts=counts,
        splits=split_counts((r["repo"], r["split"]) for r in kept),
        manifest=manifest,
        new_files=new_files,
        balanced_excluded=sorted(r["id"] for r in cap_repo_share(kept, config.max_repo_share)),
    )

"""Mining preference pairs from the corpus: :func:`mine` (records in, a checked PairSet out).

Every documented record (tests left out unless asked) gets one pair per rejection kind that
applies to it (``pipelines.pairs.kinds``), in its own split: the neighbour is searched among
the records of that split only, and the swap pool is drawn from that split only, so nothing of
one split reaches another. A pair is ``prompt`` (the SFT trainer's conversation prefix for
the record: ``corpus.prompt.messages`` without the answer), ``chosen`` (the record's doc as
``///`` lines, the SFT target), ``rejected`` (the wrong doc, the same way), ``rejection`` (its
kind) and ``detail`` (what exactly is wrong). Two kinds giving a record the same rejected doc
make one pair (the first kind in ``KINDS`` order keeps it; the other is counted as merged).

The KTO view unpairs them: one desirable row per record with pairs (its doc), one undesirable
row per pair. Before anything is returned, ``pipelines.pairs.checks`` runs every check and
refuses pairs that fail one.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from corpus.errors import BadInputError
from corpus.prompt import PromptSpec, doc_as_comment, messages
from corpus.schema import SPLITS
from pipelines.pairs.checks import PairsView, gate, recount, run_checks
from pipelines.pairs.kinds import (
    KINDS,
    Rejection,
    SwapPool,
    neighbour,
    normalised,
    sections_stripped,
    summary_only,
    swapped,
)


@dataclass
class PairSet:
    """Mined pairs, their KTO view, the records they came from and the report (pairs.json)."""

    pairs: list[dict[str, Any]]
    kto: list[dict[str, Any]]
    records: dict[str, dict[str, Any]]
    report: dict[str, Any] = field(default_factory=dict)


def documented(rows: list[dict[str, Any]], include_tests: bool = False) -> list[dict[str, Any]]:
    """The records pairs are mined from: a non-blank doc, not a test unless asked (the SFT
    trainer's default selection)."""
    return [
        r for r in rows if (r.get("doc") or "").strip() and (include_tests or not r.get("is_test"))
    ]


def _split_order(rows: list[dict[str, Any]]) -> list[str]:
    present = {r["split"] for r in rows}
    return [s for s in SPLITS if s in present] + sorted(present - set(SPLITS))


def _turn(content: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": content}]


def answer_of(rejection: Rejection) -> str:
    """The assistant's answer a rejection stands for: a model's raw output as it was
    generated, any other wrong doc as ``///`` lines (as the SFT target is written)."""
    return rejection.doc if rejection.kind == "model" else doc_as_comment(rejection.doc)


def _rejections(
    rec: dict[str, Any], index: Any, pool: SwapPool, model: dict[str, Rejection]
) -> tuple[list[Rejection], int]:
    """The record's rejections, one per distinct wrong answer (and how many were merged)."""
    found = [
        neighbour(rec, index.ranked(rec)),
        sections_stripped(rec),
        swapped(rec, pool),
        summary_only(rec),
        model.get(rec["id"]),
    ]
    own = normalised(doc_as_comment(rec["doc"]))
    seen: set[str] = set()
    out, merged = [], 0
    for rej in found:
        if rej is None:
            continue
        key = normalised(answer_of(rej))
        if key == own or key in seen:
            merged += key != own
            continue
        seen.add(key)
        out.append(rej)
    return out, merged


def _pair(rec: dict[str, Any], prompt: list[dict[str, str]], rej: Rejection) -> dict[str, Any]:
    return {
        "id": rec["id"],
        "repo": rec["repo"],
        "split": rec["split"],
        "rejection": rej.kind,
        "detail": rej.detail,
        "source_id": rej.source_id,
        "prompt": prompt,
        "chosen": _turn(doc_as_comment(rec["doc"])),
        "rejected": _turn(answer_of(rej)),
    }


def unpair(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The KTO view: each record's doc once as desirable, each rejection as undesirable."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for p in pairs:
        base = {"id": p["id"], "repo": p["repo"], "split": p["split"], "prompt": p["prompt"]}
        if p["id"] not in seen:
            seen.add(p["id"])
            rows.append({**base, "completion": p["chosen"], "label": True, "rejection": None})
        rows.append(
            {**base, "completion": p["rejected"], "label": False, "rejection": p["rejection"]}
        )
    return rows


def mine(
    records: list[dict[str, Any]],
    spec: PromptSpec | None = None,
    *,
    model: dict[str, Rejection] | None = None,
) -> PairSet:
    """Pairs for ``records`` (already :func:`documented`), checked; ``model`` adds the
    ``model`` kind (record id -> the generation kept as a rejection)."""
    from pipelines.eval.baselines import Retriever

    if not records:
        raise BadInputError("no documented records to mine pairs from (the dataset has no docs)")
    t0 = time.monotonic()
    spec = spec or PromptSpec()
    model = model or {}
    pairs: list[dict[str, Any]] = []
    merged = 0
    for split in _split_order(records):
        part = [r for r in records if r["split"] == split]
        index, pool = Retriever(part), SwapPool.of(part)
        for rec in part:
            found, n = _rejections(rec, index, pool, model)
            merged += n
            if found:
                prompt = messages(rec, spec, with_answer=False)
                pairs += [_pair(rec, prompt, rej) for rej in found]
    out = PairSet(pairs, unpair(pairs), {r["id"]: r for r in records})
    out.report = _report(out, spec, merged, time.monotonic() - t0)
    return out


def _report(ps: PairSet, spec: PromptSpec, merged: int, seconds: float) -> dict[str, Any]:
    counts = recount(ps.pairs)
    view = PairsView(ps.pairs, ps.kto, ps.records, spec, counts)
    results = run_checks(view)
    gate(results)
    records = list(ps.records.values())
    per_split = {s: sum(r["split"] == s for r in records) for s in _split_order(records)}
    kto: dict[str, dict[str, int]] = {}
    for row in ps.kto:
        d = kto.setdefault(row["split"], {"desirable": 0, "undesirable": 0})
        d["desirable" if row["label"] else "undesirable"] += 1
    return {
        "kinds": list(KINDS),
        "counts": counts,
        "pairs": len(ps.pairs),
        "pairs_per_split": {s: sum(c.get(s, 0) for c in counts.values()) for s in per_split},
        "records": per_split,
        "records_with_pairs": len({p["id"] for p in ps.pairs}),
        "merged": merged,
        "kto": kto,
        "prompt": {
            "input": spec.input,
            "system": spec.system,
            "source_budget": spec.source_budget,
        },
        "checks": [r.to_dict() for r in results],
        "mining_seconds": round(seconds, 3),
    }


def data_hash(files: list[Any]) -> str:
    """sha256 over the records' parquet files (name and sha256 of each): which rows the pairs
    were mined from (publishing refuses pairs mined from other rows)."""
    from corpus.layout import file_digest

    h = hashlib.sha256()
    for f in sorted(files, key=lambda p: p.name):
        h.update(f"{f.name}\0{file_digest(f)['sha256']}\n".encode())
    return h.hexdigest()

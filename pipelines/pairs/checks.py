"""Falsification-style checks on mined pairs: each a claim the pairs could break.

Each check reads the pairs (and their KTO view) against the records they were mined from and
returns the problems it found; :func:`gate` refuses to write (or publish) pairs when any check
has one. The claims:

- ``chosen_is_record_doc``: every pair's chosen answer is its record's doc, as the SFT trainer
  writes it (``///`` lines);
- ``rejected_differs``: no pair's rejected answer equals its chosen one (whitespace aside);
- ``prompt_is_record_prompt``: every pair's prompt is exactly the conversation prefix the SFT
  trainer builds for its record (``corpus.prompt.messages`` with the mining prompt spec);
- ``split_of_record``: a pair lives in its record's split;
- ``no_cross_split``: a rejection taken from another record (``neighbour``) comes from a
  record of the same split, never the record itself: nothing leaks between splits;
- ``kinds_counted``: every rejection is a known kind and the reported counts per kind and
  split are the pairs' own;
- ``unique_pairs``: no record has the same rejected answer twice;
- ``kto_view``: the KTO view is the pairs unpaired: one desirable row (the chosen doc) per
  record with pairs, one undesirable row per pair, each in its record's split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from corpus.errors import CorpusError
from corpus.prompt import PromptSpec, doc_as_comment, messages
from pipelines.pairs.kinds import KINDS, normalised

#: Problems listed per failed check (the count is always exact).
SHOWN = 5


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, what it claims, how many rows it read and what broke it."""

    name: str
    claim: str
    checked: int
    problems: list[str] = field(default_factory=list)
    failures: int = 0

    @property
    def ok(self) -> bool:
        """No problem found."""
        return self.failures == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (pairs.json)."""
        return {
            "name": self.name,
            "claim": self.claim,
            "checked": self.checked,
            "ok": self.ok,
            "failures": self.failures,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class PairsView:
    """What the checks read: the pairs, their KTO view, the records by id, the prompt spec
    the pairs were mined with, and the counts the report claims (kind -> split -> n)."""

    pairs: list[dict[str, Any]]
    kto: list[dict[str, Any]]
    records: dict[str, dict[str, Any]]
    spec: PromptSpec
    counts: dict[str, dict[str, int]]


def _content(turns: list[dict[str, str]]) -> str:
    return turns[-1]["content"] if turns else ""


def _result(name: str, claim: str, checked: int, problems: list[str]) -> CheckResult:
    return CheckResult(name, claim, checked, problems[:SHOWN], len(problems))


def _record(view: PairsView, pair: dict[str, Any]) -> dict[str, Any] | None:
    return view.records.get(pair["id"])


def check_chosen(view: PairsView) -> CheckResult:
    """Every chosen answer is its record's doc as ``///`` lines."""
    bad = []
    for p in view.pairs:
        rec = _record(view, p)
        if rec is None or _content(p["chosen"]) != doc_as_comment(rec["doc"] or ""):
            bad.append(f"{p['id']} ({p['rejection']}): chosen is not the record's doc")
    return _result(
        "chosen_is_record_doc", "chosen is always the record's doc", len(view.pairs), bad
    )


def check_differs(view: PairsView) -> CheckResult:
    """chosen != rejected."""
    bad = [
        f"{p['id']} ({p['rejection']}): rejected equals chosen"
        for p in view.pairs
        if normalised(_content(p["chosen"])) == normalised(_content(p["rejected"]))
    ]
    return _result("rejected_differs", "rejected never equals chosen", len(view.pairs), bad)


def check_prompt(view: PairsView) -> CheckResult:
    """Every prompt is the trainer's prompt of its record."""
    bad, cache = [], {}
    for p in view.pairs:
        rec = _record(view, p)
        if rec is None:
            bad.append(f"{p['id']}: no such record")
            continue
        if p["id"] not in cache:
            cache[p["id"]] = messages(rec, view.spec, with_answer=False)
        if p["prompt"] != cache[p["id"]]:
            bad.append(f"{p['id']} ({p['rejection']}): prompt differs from the record's")
    return _result(
        "prompt_is_record_prompt", "every pair's prompt equals its record's", len(view.pairs), bad
    )


def check_split(view: PairsView) -> CheckResult:
    """A pair's split is its record's."""
    bad = []
    for p in view.pairs:
        rec = _record(view, p)
        if rec is None or rec["split"] != p["split"]:
            got = rec["split"] if rec else "no record"
            bad.append(f"{p['id']} ({p['rejection']}): pair in {p['split']}, record in {got}")
    return _result("split_of_record", "a pair lives in its record's split", len(view.pairs), bad)


def check_cross_split(view: PairsView) -> CheckResult:
    """A borrowed rejection comes from another record of the same split."""
    bad = []
    borrowed = [p for p in view.pairs if p.get("source_id")]
    for p in borrowed:
        src = view.records.get(p["source_id"])
        if src is None:
            bad.append(f"{p['id']}: source {p['source_id']} is no record of the dataset")
        elif p["source_id"] == p["id"]:
            bad.append(f"{p['id']}: rejection taken from the record itself")
        elif src["split"] != p["split"]:
            bad.append(
                f"{p['id']} ({p['split']}): rejection from {src['split']} record {p['source_id']}"
            )
    return _result("no_cross_split", "no pair crosses splits", len(borrowed), bad)


def recount(pairs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """kind -> split -> pairs (every known kind present, zero when none)."""
    counts: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    for p in pairs:
        by_split = counts.setdefault(p["rejection"], {})
        by_split[p["split"]] = by_split.get(p["split"], 0) + 1
    return counts


def _nonzero(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {k: {s: n for s, n in v.items() if n} for k, v in counts.items() if any(v.values())}


def check_counts(view: PairsView) -> CheckResult:
    """Known kinds only; the claimed counts are the pairs' own."""
    bad = [
        f"{p['id']}: unknown rejection kind {p['rejection']!r}"
        for p in view.pairs
        if p["rejection"] not in KINDS
    ]
    actual, claimed = _nonzero(recount(view.pairs)), _nonzero(view.counts)
    for kind in sorted(set(actual) | set(claimed)):
        if actual.get(kind, {}) != claimed.get(kind, {}):
            bad.append(
                f"{kind}: reported {claimed.get(kind, {})}, the pairs hold {actual.get(kind, {})}"
            )
    return _result("kinds_counted", "every kind is named and counted", len(view.pairs), bad)


def check_unique(view: PairsView) -> CheckResult:
    """No (record, rejected answer) twice."""
    seen = Counter((p["id"], normalised(_content(p["rejected"]))) for p in view.pairs)
    bad = [f"{rid}: the same rejected answer {n} times" for (rid, _), n in seen.items() if n > 1]
    return _result("unique_pairs", "no record has the same rejection twice", len(view.pairs), bad)


def expected_kto(pairs: list[dict[str, Any]]) -> Counter:
    """The KTO rows the pairs imply, as a multiset of (id, split, label, completion)."""
    want: Counter = Counter()
    seen: set[str] = set()
    for p in pairs:
        if p["id"] not in seen:
            seen.add(p["id"])
            want[(p["id"], p["split"], True, _content(p["chosen"]))] += 1
        want[(p["id"], p["split"], False, _content(p["rejected"]))] += 1
    return want


def check_kto(view: PairsView) -> CheckResult:
    """The KTO view is exactly the pairs unpaired."""
    got = Counter(
        (r["id"], r["split"], bool(r["label"]), _content(r["completion"])) for r in view.kto
    )
    want = expected_kto(view.pairs)
    bad = [
        f"{k[0]} ({k[1]}, label {k[2]}): {n} row(s) the pairs do not imply"
        for k, n in (got - want).items()
    ]
    bad += [f"{k[0]} ({k[1]}, label {k[2]}): {n} row(s) missing" for k, n in (want - got).items()]
    prompts = {p["id"]: p["prompt"] for p in view.pairs}
    bad += [
        f"{r['id']}: KTO prompt differs from the pair's"
        for r in view.kto
        if r["id"] in prompts and r["prompt"] != prompts[r["id"]]
    ]
    return _result("kto_view", "the KTO view is the pairs unpaired", len(view.kto), bad)


CHECKS: tuple[Callable[[PairsView], CheckResult], ...] = (
    check_chosen,
    check_differs,
    check_prompt,
    check_split,
    check_cross_split,
    check_counts,
    check_unique,
    check_kto,
)


def run_checks(view: PairsView) -> list[CheckResult]:
    """Every check on ``view``."""
    return [check(view) for check in CHECKS]


def gate(results: list[CheckResult]) -> None:
    """Refuse pairs that fail any check (exit 1: a bug in mining, not in the user's input)."""
    failed = [r for r in results if not r.ok]
    if failed:
        lines = "; ".join(
            f"{r.name}: {r.failures} problem(s), e.g. {r.problems[0]}" for r in failed
        )
        raise CorpusError(f"the mined pairs fail {len(failed)} check(s), nothing written: {lines}")

"""The dataset card's section on the ``preferences`` config: preference pairs mined from the
records, what each rejection kind is, how many there are per split, and the checks they pass.

Rendered from the staged pairs report (``facts.stats["preferences"]``, see
``pipelines.publish.preferences``); empty when the build has no such config.
"""

from __future__ import annotations

from typing import Any

from corpus.schema import SPLITS
from pipelines.publish.card_markdown import count, table


def _kinds_table(report: dict[str, Any]) -> str:
    from pipelines.pairs.kinds import DESCRIPTIONS, KINDS

    counts = report.get("counts", {})
    rows = []
    for kind in KINDS:
        by_split = counts.get(kind, {})
        rows.append([f"`{kind}`", DESCRIPTIONS[kind], *(count(by_split.get(s, 0)) for s in SPLITS),
                     count(sum(by_split.values()))])  # fmt: skip
    records = report.get("records", {})
    rows.append(["records", "documented records the pairs come from",
                 *(count(records.get(s, 0)) for s in SPLITS),
                 count(sum(records.values()))])  # fmt: skip
    return table(["rejection", "what is rejected", *SPLITS, "pairs"], rows)


def preferences_section(facts: Any) -> str:
    """The ``preferences`` config explained (empty without one)."""
    report = facts.stats.get("preferences")
    if "preferences" not in facts.config_rows or not isinstance(report, dict):
        return ""
    checks = report.get("checks", [])
    passed = [c["name"] for c in checks if c.get("ok")]
    generator = (report.get("model") or {}).get("generator")
    prompt = report.get("prompt", {}).get("input", "context")
    return "\n\n".join([
        "## Preference pairs (`preferences` config)",
        "Preference pairs for DPO, IPO, ORPO and reward models, mined from the records: "
        "`prompt` is the conversation prefix the SFT prompt builds for the record (system and "
        f"user turns, prompt input `{prompt}`), `chosen` the record's real doc as `///` lines "
        "(the SFT answer), `rejected` a realistic wrong doc, `rejection` its kind and `detail` "
        "what exactly is wrong; `id` is the record's. A pair lives in its record's split and "
        "every borrowed doc comes from the same split, so the pairs leak nothing across "
        "splits. Load them with `load_dataset(\"<this repo>\", \"preferences\")`; TRL's "
        "`DPOTrainer` takes the columns as they are (conversational format)."
        + (f" The `model` pairs reject generations of `{generator}`." if generator else ""),
        _kinds_table(report),
        f"Two kinds that give a record the same wrong doc make one pair "
        f"({count(report.get('merged'))} merged). Checks every pair passed before publishing "
        f"({len(passed)} of {len(checks)}): " + ", ".join(f"`{c}`" for c in passed) + ". "
        "`preferences/pairs.json` holds the counts and checks. `corpus pairs` also writes the "
        "KTO view (each doc desirable once, each rejection undesirable).",
    ])  # fmt: skip

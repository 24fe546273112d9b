"""The dataset card's sections for people who train on it: the configs, the prompt format with a
real example conversation, token counts and the per-repository splits.

Rendered from the build's own files (stats.json, the data, the split manifest) like the rest
of the card; ``pipelines.publish.card`` assembles them.
"""

from __future__ import annotations

from typing import Any

from corpus.prompt import PromptSpec, messages
from corpus.schema import SPLITS
from pipelines.publish.card_markdown import count, table


def configs_section(config_rows: dict[str, dict[str, int]], stats: dict[str, Any]) -> str:
    """The configs: ``default`` is every record that passed the filters; ``balanced`` caps the
    share of any one repository."""
    rows = [[f"`{c}`", *(count(r.get(s, 0)) for s in SPLITS), count(sum(r.values()))]
            for c, r in config_rows.items()]  # fmt: skip
    balanced = stats.get("configs", {}).get("balanced")
    text = "## Configs\n\n- `default`: every record that passed the filters and deduplication.\n"
    if balanced:
        text += (
            f"- `balanced`: the same records with no repository over "
            f"{balanced.get('max_repo_share', 0):.0%} of the rows; the largest repositories' rows "
            "are left out by a hash of their id (an even cut across files and splits), "
            f"{count(balanced.get('left_out'))} in all. Nothing is deleted: train on `default` "
            "with per-repository sampling weights instead if you prefer (`mixture` in the "
            "trainer's recipe).\n"
        )
    return text + "\n" + table(["config", *SPLITS, "rows"], rows)


def prompt_section(example: dict[str, Any] | None, spec: PromptSpec | None = None) -> str:
    """How a record becomes a training conversation, shown on a real record."""
    spec = spec or PromptSpec()
    lines = [
        "## Prompt format",
        "",
        "The trainer of this project (and `corpus export`, for Unsloth, axolotl or "
        "LLaMA-Factory) turns each record into a three-turn ChatML conversation: a system "
        "prompt; a user turn asking for the rustdoc comment of the function, shown in a `rust` "
        f"block as prompt input `{spec.input}` (the module path and the enclosing "
        "`impl`/`trait`/`extern` header around the signature, so every type the doc names "
        "from its surroundings is in the prompt); and the assistant's answer, the doc as "
        "`///` lines. Loss is on the answer only.",
    ]
    if example is not None:
        convo = messages(example, spec, count=len)
        lines += ["", f"A real example, `{example['qualified_path']}` ([source]"
                  f"({example['permalink']})):", ""]  # fmt: skip
        for m in convo:
            fence = "````" if "```" in m["content"] else "```"
            lines += [f"**{m['role']}**", "", f"{fence}text", m["content"], fence, ""]
    return "\n".join(lines).rstrip()


def tokens_section(stats: dict[str, Any]) -> str:
    """Token counts per split with the real Qwen2.5 tokenizer."""
    tokens = stats.get("tokens")
    if not isinstance(tokens, dict):
        return ""
    rows = []
    for split in SPLITS:
        t = tokens.get(split)
        if not isinstance(t, dict):
            continue
        ln, over = t.get("length", {}), t.get("longer_than", {})
        rows.append([split, count(t.get("examples")), count(t.get("tokens")),
                     count(t.get("prompt_tokens")), count(t.get("answer_tokens")),
                     " / ".join(count(ln.get(q)) for q in ("p50", "p90", "p99", "max")),
                     " / ".join(count(over.get(m)) for m in ("512", "1024", "2048"))])  # fmt: skip
    header = ["split", "examples", "tokens", "prompt", "answer", "length p50/p90/p99/max",
              "longer than 512/1024/2048"]  # fmt: skip
    return (
        "## Tokens\n\n"
        f"Counted with {tokens.get('tokenizer', 'the Qwen2.5 tokenizer')} on the whole ChatML "
        f"conversation (prompt input `{tokens.get('prompt_input', 'context')}`), default "
        "config. A trainer with a `max_length` below an example's length must drop it (this "
        "project's trainer never cuts an answer).\n\n" + table(header, rows)
    )


def splits_section(stats: dict[str, Any]) -> str:
    """Per-repository split counts, and how splits stay put across versions."""
    splits = stats.get("splits", {})
    per_repo = splits.get("per_repo", {})
    rows = []
    for repo, c in per_repo.items():
        total = sum(c.get(s, 0) for s in SPLITS)
        rows.append([repo, *(f"{count(c.get(s, 0))} ({c.get(s, 0) / max(1, total):.0%})"
                             for s in SPLITS), count(total)])  # fmt: skip
    manifest = splits.get("manifest", {})
    return (
        "## Splits\n\n"
        "Whole files (and whole duplicate clusters) go to one split, placed per repository "
        "toward 80/10/10 of its records, so a per-repository score rests on enough examples. "
        "Splits are sticky: `split_manifest.json` (file -> split) is published with each "
        "build and read back by the next one; a file keeps its split in every later version "
        "and only new files are placed, so no test or validation file of one version becomes "
        f"training data of a later one ({count(manifest.get('files'))} files, "
        f"{count(manifest.get('new_files'))} placed by this build).\n\n"
        + table(["repository", *SPLITS, "rows"], rows)
    )

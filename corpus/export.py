"""`corpus export`: the exact conversations the trainer sees, as JSON lines for any trainer.

Each record with a doc (tests left out unless asked) becomes one line in one of three shapes:

- ``chatml``: ``{"id", "messages": [system, user, assistant]}`` — the OpenAI/ShareGPT-style
  messages list Unsloth, axolotl (``type: chat_template``) and LLaMA-Factory (``sharegpt``
  with OpenAI tags) read;
- ``jsonl``: ``{"id", "prompt": [system, user], "completion": [assistant]}`` — TRL's
  conversational prompt-completion format;
- ``alpaca``: ``{"id", "system", "instruction", "input", "output"}`` — the instruction, the
  code block and the ``///`` answer.

The messages are ``corpus.prompt.messages(record, spec)``: the trainer's own, byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.prompt import INSTRUCTION, PromptSpec, messages

FORMATS = ("chatml", "jsonl", "alpaca")


@dataclass(frozen=True)
class ExportResult:
    """What was written."""

    path: Path
    rows: int
    per_split: dict[str, int]


def _row(record: dict[str, Any], fmt: str, spec: PromptSpec) -> dict[str, Any]:
    msgs = messages(record, spec)
    if fmt == "chatml":
        return {"id": record["id"], "messages": msgs}
    if fmt == "jsonl":
        return {"id": record["id"], "prompt": msgs[:-1], "completion": msgs[-1:]}
    user = msgs[1]["content"]
    return {
        "id": record["id"],
        "system": msgs[0]["content"],
        "instruction": INSTRUCTION,
        "input": user[len(INSTRUCTION) :].lstrip("\n"),
        "output": msgs[2]["content"],
    }


def select(
    records: list[dict[str, Any]], splits: tuple[str, ...] | None, include_tests: bool
) -> list[dict[str, Any]]:
    """The records a trainer learns from: documented, in ``splits``, tests only if asked."""
    return [
        r
        for r in records
        if (r.get("doc") or "").strip()
        and (splits is None or r.get("split") in splits)
        and (include_tests or not r.get("is_test"))
    ]


def export(
    records: list[dict[str, Any]],
    fmt: str,
    out: Path,
    *,
    splits: tuple[str, ...] | None = None,
    spec: PromptSpec | None = None,
    include_tests: bool = False,
) -> ExportResult:
    """Write ``records`` (those a trainer would use) to ``out`` as JSON lines, atomically."""
    from corpus.store import write_bytes_atomic

    if fmt not in FORMATS:
        raise BadInputError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    spec = spec or PromptSpec()
    chosen = select(records, splits, include_tests)
    if not chosen:
        what = f"split {', '.join(splits)}" if splits else "the dataset"
        raise BadInputError(f"no documented records in {what} to export")
    lines = [json.dumps(_row(r, fmt, spec), ensure_ascii=False) for r in chosen]
    write_bytes_atomic(Path(out), ("\n".join(lines) + "\n").encode("utf-8"))
    per_split: dict[str, int] = {}
    for r in chosen:
        per_split[r.get("split") or "-"] = per_split.get(r.get("split") or "-", 0) + 1
    return ExportResult(Path(out), len(chosen), per_split)

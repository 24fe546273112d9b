"""Corpus records -> ChatML conversations -> token ids with assistant-only labels.

Conversation: a system prompt; the user asks for the rustdoc comment of one function (its
signature or whole source); the assistant answers with the doc as ``///`` lines. Tokens of the
system and user turns get label -100, so the loss is on the assistant's answer only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.errors import BadInputError

if TYPE_CHECKING:
    import polars as pl

    from pipelines.train.config import TrainConfig

IGNORE_INDEX = -100
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?$")


def user_prompt(code: str) -> str:
    """The user turn for one function's signature or source."""
    return f"Write the rustdoc comment for this Rust function.\n\n```rust\n{code}\n```"


def doc_as_comment(doc: str) -> str:
    """``"Adds.\\n\\nMore."`` -> ``"/// Adds.\\n///\\n/// More."`` (blank lines become bare ///)."""
    return "\n".join(f"/// {line}".rstrip() for line in doc.strip("\n").split("\n"))


def comment_as_doc(text: str) -> str:
    """Inverse of :func:`doc_as_comment` for generated text: keep the ``///`` lines' content."""
    lines = []
    for line in text.strip().splitlines():
        s = line.strip()
        if not s.startswith("///"):
            continue
        s = s[3:]
        lines.append(s[1:] if s.startswith(" ") else s)
    return "\n".join(lines)


def to_messages(
    record: dict[str, Any], cfg: TrainConfig, *, with_answer: bool = True
) -> list[dict]:
    """The ChatML conversation of one record."""
    code = record["signature"] if cfg.prompt_input == "signature" else record["source"]
    msgs = [
        {"role": "system", "content": cfg.system_prompt},
        {"role": "user", "content": user_prompt(code)},
    ]
    if with_answer:
        msgs.append({"role": "assistant", "content": doc_as_comment(record["doc"])})
    return msgs


def tokenize_conversation(tokenizer: Any, messages: list[dict]) -> tuple[list[int], list[int]]:
    """(input_ids, labels) for a conversation whose last turn is the assistant's.

    The prompt (everything up to and including ``<|im_start|>assistant\\n``) and the answer are
    tokenised separately and concatenated, so the boundary is exact whatever BPE would merge.
    """
    prompt = tokenizer.apply_chat_template(
        messages[:-1], tokenize=False, add_generation_prompt=True
    )
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full.startswith(prompt):
        raise BadInputError(
            "the tokenizer's chat template does not render the prompt as a prefix of the full "
            "conversation; use a ChatML (Qwen) template"
        )
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a_ids = tokenizer(full[len(prompt) :], add_special_tokens=False)["input_ids"]
    return p_ids + a_ids, [IGNORE_INDEX] * len(p_ids) + list(a_ids)


@dataclass
class DataStats:
    """What happened to the records on the way to tokens (written to the run report)."""

    records: int = 0
    no_doc: int = 0
    tests_excluded: int = 0
    examples: int = 0
    truncated: int = 0
    dropped_no_loss: int = 0
    tokens: int = 0
    loss_tokens: int = 0
    per_split: dict[str, int] = field(default_factory=dict)


def read_dataset(spec: str) -> pl.DataFrame:
    """Records from a local dataset path or a Hub dataset ``ORG/NAME[@revision]``."""
    import polars as pl

    from corpus.store import read_records

    if not spec:
        raise BadInputError("no dataset: pass --data DIR (a corpus build output) or ORG/NAME@rev")
    path = Path(spec).expanduser()
    if path.exists():
        return read_records(path)
    if not _HUB_ID.match(spec):
        raise BadInputError(f"{spec}: no such local dataset, and not a Hub id ORG/NAME[@revision]")
    name, _, revision = spec.partition("@")
    import datasets

    try:
        dd = datasets.load_dataset(name, revision=revision or None)
    except Exception as exc:  # network, auth, missing repo: all end the same way for the user
        raise BadInputError(f"{spec}: could not load the Hub dataset ({exc})") from exc
    frames = [pl.from_arrow(dd[s].data.table) for s in dd]
    return pl.concat(frames, how="diagonal_relaxed")


def select_records(df: pl.DataFrame, cfg: TrainConfig, split: str, stats: DataStats) -> list[dict]:
    """Records of ``split`` that have a doc (and are not tests unless configured)."""
    import polars as pl

    missing = {"split", "doc", "signature", "source", "is_test"} - set(df.columns)
    if missing:
        raise BadInputError(f"dataset lacks column(s) {sorted(missing)}; is it a corpus dataset?")
    part = df.filter(pl.col("split") == split)
    stats.records += part.height
    has_doc = pl.col("doc").is_not_null() & (pl.col("doc").str.strip_chars() != "")
    stats.no_doc += part.filter(~has_doc).height
    part = part.filter(has_doc)
    if not cfg.include_tests:
        stats.tests_excluded += part.filter(pl.col("is_test")).height
        part = part.filter(~pl.col("is_test"))
    limit = cfg.max_train_records if split == cfg.train_split else cfg.max_eval_records
    if limit:
        part = part.head(limit)
    stats.per_split[split] = part.height
    return part.to_dicts()


def tokenize_records(
    records: list[dict], tokenizer: Any, cfg: TrainConfig, stats: DataStats
) -> dict[str, list[list[int]]]:
    """Columns ``input_ids`` and ``labels``, truncated to ``max_length`` (truncations counted)."""
    ids_col: list[list[int]] = []
    lab_col: list[list[int]] = []
    for rec in records:
        ids, labels = tokenize_conversation(tokenizer, to_messages(rec, cfg))
        if len(ids) > cfg.max_length:
            stats.truncated += 1
            ids, labels = ids[: cfg.max_length], labels[: cfg.max_length]
        n_loss = sum(1 for x in labels if x != IGNORE_INDEX)
        if n_loss == 0:  # the prompt alone filled max_length: nothing to learn from
            stats.dropped_no_loss += 1
            continue
        stats.examples += 1
        stats.tokens += len(ids)
        stats.loss_tokens += n_loss
        ids_col.append(ids)
        lab_col.append(labels)
    return {"input_ids": ids_col, "labels": lab_col}


def build_datasets(
    cfg: TrainConfig, tokenizer: Any, df: pl.DataFrame | None = None
) -> tuple[Any, Any, DataStats]:
    """(train Dataset, eval Dataset or None, stats), pre-tokenised for TRL's SFTTrainer.

    ``df`` is the corpus if the caller has read it already (``read_dataset(cfg.dataset)``).
    """
    from datasets import Dataset

    if df is None:
        df = read_dataset(cfg.dataset)
    stats = DataStats()
    train_recs = select_records(df, cfg, cfg.train_split, stats)
    if not train_recs:
        raise BadInputError(
            f"{cfg.dataset}: no documented records in split {cfg.train_split!r} to train on"
        )
    train = Dataset.from_dict(tokenize_records(train_recs, tokenizer, cfg, stats))
    evaluation = None
    if cfg.eval_split:
        eval_recs = select_records(df, cfg, cfg.eval_split, stats)
        if not eval_recs:
            raise BadInputError(
                f"{cfg.dataset}: no documented records in eval split {cfg.eval_split!r}; "
                "set eval_split='' (and early_stopping_patience=0) to train without eval"
            )
        evaluation = Dataset.from_dict(tokenize_records(eval_recs, tokenizer, cfg, stats))
    if len(train) == 0:
        raise BadInputError("every training example was dropped by truncation; raise max_length")
    return train, evaluation, stats

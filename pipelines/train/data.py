"""Corpus records -> ChatML conversations -> token ids with assistant-only labels.

The conversation is ``corpus.prompt``'s (system prompt; the user asks for the rustdoc comment
of one function, shown as ``prompt_input`` says; the assistant answers with the doc as ``///``
lines). Tokens of the system and user turns get label -100, so the loss is on the assistant's
answer only. An example longer than ``max_length`` is never cut: a ``source`` prompt has its
body shortened until it fits, and anything that still does not fit is dropped and counted — a
cut answer would teach the model to stop mid-doc without its end-of-turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.errors import BadInputError
from corpus.prompt import PromptSpec, messages

if TYPE_CHECKING:
    import polars as pl

    from pipelines.train.config import TrainConfig

IGNORE_INDEX = -100
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?$")


def prompt_spec(cfg: TrainConfig) -> PromptSpec:
    """The prompt this recipe trains with (the one eval, generate and serve must use too)."""
    return PromptSpec(input=cfg.prompt_input, system=cfg.system_prompt,
                      source_budget=cfg.source_budget)  # fmt: skip


def to_messages(
    record: dict[str, Any], cfg: TrainConfig, *, with_answer: bool = True, count: Any = None
) -> list[dict]:
    """The ChatML conversation of one record, as ``corpus.prompt`` builds it for this recipe."""
    return messages(record, prompt_spec(cfg), with_answer=with_answer, count=count)


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
    shortened: int = 0  # source prompts whose body was cut further to fit max_length
    dropped_too_long: int = 0
    tokens: int = 0
    loss_tokens: int = 0
    per_split: dict[str, int] = field(default_factory=dict)


def check_dataset_spec(spec: str) -> Path | None:
    """The local dataset path ``spec`` names (its parquet files must be there), or None for a
    Hub id; BadInputError for anything else. Cheap: no parquet is read, nothing imported."""
    from corpus.layout import dataset_parquet_files

    if not spec:
        raise BadInputError("no dataset: pass --data DIR (a corpus build output) or ORG/NAME@rev")
    path = Path(spec).expanduser()
    if path.exists():
        dataset_parquet_files(path)
        return path
    if not _HUB_ID.match(spec):
        raise BadInputError(f"{spec}: no such local dataset, and not a Hub id ORG/NAME[@revision]")
    return None


def read_dataset(spec: str) -> pl.DataFrame:
    """Records from a local dataset path or a Hub dataset ``ORG/NAME[@revision]``."""
    import polars as pl

    from corpus.store import read_records

    path = check_dataset_spec(spec)
    if path is not None:
        return read_records(path)
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


def _fit(rec: dict, tokenizer: Any, cfg: TrainConfig) -> tuple[list[int], list[int], bool] | None:
    """(input_ids, labels, whether the body was shortened) of ``rec`` within ``max_length``,
    shortening a source prompt's body if that is what it takes; None when it cannot fit."""
    from dataclasses import replace

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    spec = prompt_spec(cfg)
    ids, labels = tokenize_conversation(tokenizer, messages(rec, spec, count=count))
    while len(ids) > cfg.max_length and spec.input == "source" and spec.source_budget > 16:
        over = len(ids) - cfg.max_length
        spec = replace(spec, source_budget=max(16, spec.source_budget - over - 8))
        ids, labels = tokenize_conversation(tokenizer, messages(rec, spec, count=count))
    shortened = spec.source_budget != cfg.source_budget
    return (ids, labels, shortened) if len(ids) <= cfg.max_length else None


def tokenize_records(
    records: list[dict], tokenizer: Any, cfg: TrainConfig, stats: DataStats
) -> dict[str, list[list[int]]]:
    """Columns ``input_ids`` and ``labels``, every example whole and within ``max_length``."""
    ids_col: list[list[int]] = []
    lab_col: list[list[int]] = []
    for rec in records:
        fitted = _fit(rec, tokenizer, cfg)
        if fitted is None:
            stats.dropped_too_long += 1
            continue
        ids, labels, shortened = fitted
        stats.shortened += shortened
        stats.examples += 1
        stats.tokens += len(ids)
        stats.loss_tokens += sum(1 for x in labels if x != IGNORE_INDEX)
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
        raise BadInputError(
            f"every training example is longer than max_length={cfg.max_length} tokens; "
            "raise max_length"
        )
    return train, evaluation, stats

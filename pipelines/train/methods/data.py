"""The datasets of a method run, as TRL takes them (conversational columns).

Pairs (dpo, orpo, reward) are ``prompt``/``chosen``/``rejected``, the KTO view
``prompt``/``completion``/``label``, RL prompts ``prompt`` and the record ``id`` (the rewards
look the record up by it). As in SFT, an example longer than ``max_length`` is dropped and
counted, never cut: a cut chosen doc teaches the model to stop mid-doc.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from corpus.errors import BadInputError
from pipelines.train.config import TrainConfig


@dataclass
class MethodData:
    """What happened to the rows on the way to the trainer (written to the report)."""

    rows: dict[str, int] = field(default_factory=dict)  # per split, as read
    examples: dict[str, int] = field(default_factory=dict)  # per split, as trained on
    kinds: dict[str, int] = field(default_factory=dict)  # rejection kinds (train split)
    dropped_too_long: int = 0
    tokens: int = 0  # of the training examples (chosen + rejected, or prompt + completion)
    schedule: dict[str, Any] = field(default_factory=dict)


def _length(tokenizer: Any, prompt: list[dict], answer: list[dict]) -> int:
    text = tokenizer.apply_chat_template(prompt + answer, tokenize=False)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _fits(row: dict[str, Any], tokenizer: Any, cfg: TrainConfig) -> int | None:
    """Tokens of the row (both answers of a pair), or None when one is over max_length."""
    answers = [row["chosen"], row["rejected"]] if "chosen" in row else [row["completion"]]
    lengths = [_length(tokenizer, row["prompt"], a) for a in answers]
    return sum(lengths) if max(lengths) <= cfg.max_length else None


def _select(rows: list[dict], split: str, limit: int) -> list[dict]:
    part = [r for r in rows if r["split"] == split]
    return part[:limit] if limit else part


def _to_dataset(rows: list[dict], cols: tuple[str, ...], tokenizer: Any, cfg: TrainConfig,
                stats: MethodData, split: str) -> Any:  # fmt: skip
    from datasets import Dataset

    kept, tokens = [], 0
    for r in rows:
        n = _fits(r, tokenizer, cfg)
        if n is None:
            stats.dropped_too_long += 1
            continue
        kept.append({c: r[c] for c in cols})
        tokens += n
    stats.examples[split] = len(kept)
    if split == cfg.train_split:
        stats.tokens = tokens
    return Dataset.from_list(kept) if kept else None


def pair_datasets(cfg: TrainConfig, tokenizer: Any) -> tuple[Any, Any, MethodData]:
    """(train, eval or None, stats) from ``cfg.pairs`` in the method's view."""
    from pipelines.pairs.store import read_pairs
    from pipelines.train.methods.inputs import pairs_view

    view = pairs_view(cfg.method)
    rows = read_pairs(cfg.pairs, view)
    stats = MethodData(rows=dict(Counter(r["split"] for r in rows)))
    cols = ("prompt", "completion", "label") if view == "kto" else ("prompt", "chosen", "rejected")
    train_rows = _select(rows, cfg.train_split, cfg.max_train_records)
    stats.kinds = dict(Counter(r["rejection"] or "doc" for r in train_rows))
    train = _to_dataset(train_rows, cols, tokenizer, cfg, stats, cfg.train_split)
    if train is None:
        raise BadInputError(
            f"--pairs {cfg.pairs}: no {view} rows of split {cfg.train_split!r} within "
            f"max_length={cfg.max_length} tokens to train on"
        )
    if view == "kto" and len(set(train["label"])) < 2:
        raise BadInputError(f"--pairs {cfg.pairs}: KTO needs desirable and undesirable rows")
    evaluation = None
    if cfg.eval_split:
        eval_rows = _select(rows, cfg.eval_split, cfg.max_eval_records)
        evaluation = _to_dataset(eval_rows, cols, tokenizer, cfg, stats, cfg.eval_split)
    return train, evaluation, stats


def kto_weights(train: Any, balance: bool) -> tuple[float, float]:
    """(desirable_weight, undesirable_weight): with ``balance``, the desirable side weighs
    n_undesirable / n_desirable so both sides carry the same total weight (the KTO paper
    asks for a ratio in [1, 4/3])."""
    labels = list(train["label"])
    good, bad = sum(labels), len(labels) - sum(labels)
    if not balance or not good or not bad:
        return 1.0, 1.0
    return bad / good, 1.0


def rl_records(cfg: TrainConfig) -> tuple[list[dict], list[dict]]:
    """(the training records RL prompts with, every documented record of the training split:
    what the invented-identifier reward may count as known)."""
    from corpus.store import read_dataset
    from pipelines.train.data import DataStats, select_records

    df = read_dataset(cfg.dataset, cfg.dataset_config)
    stats = DataStats()
    prompts = select_records(df, cfg, cfg.train_split, stats)
    if not prompts:
        raise BadInputError(
            f"{cfg.dataset}: no documented records in split {cfg.train_split!r} to prompt with"
        )
    import dataclasses

    everything = select_records(df, dataclasses.replace(cfg, max_train_records=0),
                                cfg.train_split, DataStats())  # fmt: skip
    return prompts, everything


def rl_dataset(cfg: TrainConfig, records: list[dict], tokenizer: Any) -> tuple[Any, MethodData]:
    """The RL prompts (the SFT prompt of each record) and the record ids."""
    from datasets import Dataset

    from pipelines.train.data import to_messages

    stats = MethodData(rows={cfg.train_split: len(records)})
    rows = []
    for r in records:
        prompt = to_messages(r, cfg, with_answer=False)
        text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        if n + cfg.rl_max_new_tokens > cfg.max_length:
            stats.dropped_too_long += 1
            continue
        rows.append({"prompt": prompt, "id": r["id"]})
        stats.tokens += n
    if not rows:
        raise BadInputError(
            f"every prompt plus rl_max_new_tokens={cfg.rl_max_new_tokens} is longer than "
            f"max_length={cfg.max_length}; raise max_length"
        )
    stats.examples[cfg.train_split] = len(rows)
    return Dataset.from_list(rows), stats

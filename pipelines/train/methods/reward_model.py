"""Reward models: the base with a one-logit classification head and LoRA (`corpus train
reward`), loaded back to score outputs — the ``reward:RUN`` column of `corpus eval` and the
``reward_model`` component of RL. The score of an output is the head's logit over the
conversation (the record's prompt, then the output as the assistant's turn), as trained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.errors import BadInputError


def reward_adapter(run: str, model: str | None = None) -> Path:
    """The adapter folder of a reward run (``RUN`` or ``RUN/adapter``), checked: it is a
    reward model, and (given ``model``) of that base. Reads two small files."""
    from corpus.store import read_json
    from pipelines.train.methods.inputs import adapter_folder, check_base

    if not run:
        raise BadInputError("no reward model: pass a `corpus train reward` run")
    try:
        folder = adapter_folder(run)
    except BadInputError as exc:
        raise BadInputError(str(exc).replace("--from", "reward run")) from exc
    task = read_json(folder / "adapter_config.json").get("task_type")
    if task != "SEQ_CLS":
        raise BadInputError(
            f"reward run {run}: its adapter is a {task or 'plain'} adapter, not a reward model "
            "(train one with `corpus train reward`)"
        )
    if model:
        check_base(folder, model)
    return folder


def head_model(model: str, bits: int, device: str, attn_implementation: str = "sdpa") -> Any:
    """The base model with a fresh one-logit sequence-classification head (``score``)."""
    from transformers import AutoModelForSequenceClassification

    from pipelines.train.model import (
        _check_model_source,
        compute_dtype,
        keep_4bit_layers_trainable,
        load_error,
        process_device,
        quantization_config,
    )

    _check_model_source(model)
    kwargs: dict[str, Any] = {"dtype": compute_dtype(device), "num_labels": 1,
                              "device_map": {"": process_device(device)},
                              "attn_implementation": attn_implementation}  # fmt: skip
    if bits == 4:
        kwargs["quantization_config"] = quantization_config(device)
    try:
        base = AutoModelForSequenceClassification.from_pretrained(model, **kwargs)
    except OSError as exc:
        raise load_error(model, "model", exc) from exc
    base.config.use_cache = False
    if bits == 4:
        keep_4bit_layers_trainable(base)
    return base


class RewardScorer:
    """Scores (prompt, output) pairs with a trained reward model, in batches, without grad."""

    def __init__(self, run: str, *, device: str = "auto", bits: int | None = None,
                 batch_size: int = 8) -> None:  # fmt: skip
        from peft import PeftModel

        from pipelines.train.inference import adapter_config
        from pipelines.train.merge import adapter_base
        from pipelines.train.model import load_tokenizer, resolve_device

        folder = reward_adapter(run)
        self.cfg = adapter_config(folder)
        base_id = self.cfg.model if self.cfg is not None else adapter_base(folder)
        self.device = resolve_device(device)
        trained_bits = self.cfg.bits if self.cfg is not None else 16
        base = head_model(base_id, bits or trained_bits, self.device)
        self.tokenizer = load_tokenizer(str(folder))
        base.config.pad_token_id = self.tokenizer.pad_token_id
        self.model = PeftModel.from_pretrained(base, str(folder)).eval()
        self.batch_size = batch_size

    def __call__(self, prompts: list[list[dict]], outputs: list[str]) -> list[float]:
        """One score per (prompt conversation, raw output)."""
        import torch

        texts = [
            self.tokenizer.apply_chat_template(
                [*p, {"role": "assistant", "content": o}], tokenize=False
            )
            for p, o in zip(prompts, outputs, strict=True)
        ]
        scores: list[float] = []
        for i in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(texts[i : i + self.batch_size], return_tensors="pt",
                                   padding=True, add_special_tokens=False)  # fmt: skip
            with torch.no_grad():
                logits = self.model(**batch.to(self.model.device)).logits
            scores += [float(x) for x in logits[:, 0].float().cpu()]
        return scores

    def score_records(self, records: list[dict[str, Any]], outputs: list[str]) -> list[float]:
        """Scores of outputs for records, each prompted as the reward model was trained."""
        from corpus.prompt import PromptSpec, messages
        from pipelines.train.data import prompt_spec

        spec = prompt_spec(self.cfg) if self.cfg is not None else PromptSpec()
        prompts = [messages(r, spec, with_answer=False) for r in records]
        return self(prompts, outputs)

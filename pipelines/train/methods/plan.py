"""Memory and steps of a method run, on top of the SFT plan (``pipelines.train.plan``).

What each method holds beyond an SFT step of the same batch and length:

- dpo, orpo: chosen and rejected go through the policy in one forward, so the activations are
  those of 2 x batch sequences; dpo also keeps the frozen ``ref`` adapter (one more copy of the
  adapter's weights, no gradient or optimizer state) and the reference log-probabilities
  (two numbers per pair). The reference forward runs without gradient before the policy's, so
  it never adds to the training peak.
- kto: batch completions (one sequence each) plus the ``ref`` adapter; its KL batch is a
  no-grad forward like the reference's.
- reward: 2 x batch sequences, but the head has one logit: no vocabulary-sized logits.
- rl (GRPO): a generation batch of batch x grad_accum sequences of max_length held in the KV
  cache at once (2 x layers x kv_dim values per token), then training forwards of batch
  sequences, plus the ``ref`` adapter.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pipelines.train.arch import ModelShape
from pipelines.train.plan import GIB, MemoryPlan, plan_memory

#: Policy sequences per example in a training forward.
SEQUENCES = {"sft": 1, "dpo": 2, "orpo": 2, "kto": 1, "reward": 2, "rl": 1}
#: Methods holding TRL's frozen copy of the starting adapter as their reference.
WITH_REF_ADAPTER = ("dpo", "kto", "rl")


@dataclass(frozen=True)
class MethodPlan:
    """The SFT-shaped plan of the policy step and what the method adds."""

    method: str
    base: MemoryPlan  # weights, adapters, gradients, optimizer, activations (method's tokens)
    reference: int  # the frozen ref adapter + reference log-probs
    generation: int  # RL: the KV cache of one generation batch

    @property
    def total(self) -> int:
        """Everything the run holds at its peak."""
        return self.base.total + self.reference + self.generation

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, with the total."""
        return {"method": self.method, **self.base.to_dict(), "reference": self.reference,
                "generation": self.generation, "total": self.total}  # fmt: skip


def plan_method(
    shape: ModelShape, method: str, *, model: str = "", bits: int = 4, lora_r: int = 64,
    batch_size: int = 1, seq_len: int = 2048, gpu: bool = True,
    gradient_checkpointing: bool = True, targets: str = "all", adapter: str = "lora",
    grad_accum: int = 16,
) -> MethodPlan:  # fmt: skip
    """The memory plan of one ``method`` step (see the module docstring)."""
    policy_shape = dataclasses.replace(shape, vocab_size=1) if method == "reward" else shape
    base = plan_memory(policy_shape, model=model, bits=bits, lora_r=lora_r,
                       batch_size=batch_size * SEQUENCES[method], seq_len=seq_len, gpu=gpu,
                       gradient_checkpointing=gradient_checkpointing, targets=targets,
                       adapter=adapter)  # fmt: skip
    if method == "reward":  # the real embeddings are loaded, only the head is one logit wide
        full = plan_memory(shape, model=model, bits=bits, lora_r=lora_r, gpu=gpu,
                           targets=targets, adapter=adapter)  # fmt: skip
        base = dataclasses.replace(base, weights=full.weights)
    reference = 0
    if method in WITH_REF_ADAPTER:
        reference = base.adapters + 2 * 4 * batch_size * SEQUENCES[method]
    generation = 0
    if method == "rl":
        cb = base.compute_bytes
        per_token = 2 * shape.num_hidden_layers * shape.kv_dim * cb
        generation = batch_size * grad_accum * seq_len * per_token + (
            batch_size * grad_accum * shape.vocab_size * 4  # the last step's fp32 logits
        )
    return MethodPlan(method, base, reference, generation)


def plan_methods(models: list[str], methods: list[str], req: Any, grad_accum: int = 16) -> list:
    """Every (model, method) plan of a `corpus train plan --method` request."""
    from pipelines.train.arch import resolve_shape

    out = []
    for m in models:
        shape = resolve_shape(m)
        for method in methods:
            out.append(plan_method(shape, method, model=m, bits=req.bits, lora_r=req.lora_r,
                                   batch_size=req.batch_size, seq_len=req.seq_len, gpu=req.gpu,
                                   gradient_checkpointing=req.gradient_checkpointing,
                                   targets=req.targets, adapter=req.adapter,
                                   grad_accum=grad_accum))  # fmt: skip
    return out


def fits(plan: MethodPlan, vram_gib: float) -> bool:
    """Whether the plan fits ``vram_gib``."""
    return plan.total <= vram_gib * GIB


def plan_method_steps(method: str, source: str, tiers: list[str]) -> list[dict[str, Any]]:
    """Steps per tier of a ``method`` run over ``source`` (a pairs folder, or for rl a
    dataset): examples (pairs, KTO rows or prompts), steps per epoch and in all."""
    from pipelines.train.config import load_config
    from pipelines.train.schedule import plan_schedule

    rows: list[dict[str, Any]] = []
    for tier in tiers:
        cfg = load_config(tier, method=method)
        n = _examples(method, source, cfg)
        examples = n * cfg.num_generations if method == "rl" else n
        sched = plan_schedule(cfg, 0, examples)
        rows.append({"tier": tier, "model": cfg.model, "method": method, "examples": n,
                     "steps_per_epoch": sched.steps_per_epoch, "steps": sched.total_steps,
                     "per_step": cfg.batch_size * cfg.grad_accum})  # fmt: skip
    return rows


def _examples(method: str, source: str, cfg: Any) -> int:
    if method == "rl":
        from corpus.store import read_dataset
        from pipelines.train.data import DataStats, select_records

        df = read_dataset(source, cfg.dataset_config)
        return len(select_records(df, cfg, cfg.train_split, DataStats()))
    from pipelines.pairs.store import read_pairs
    from pipelines.train.methods.inputs import pairs_view

    rows = [r for r in read_pairs(source, pairs_view(method)) if r["split"] == cfg.train_split]
    return min(len(rows), cfg.max_train_records) if cfg.max_train_records else len(rows)

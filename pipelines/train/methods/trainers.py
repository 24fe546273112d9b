"""One TRL trainer per method, on the recipe's QLoRA stack (``pipelines.train.model``).

The policy is the base (NF4 or 16-bit, as the recipe says) with a LoRA adapter: the SFT
adapter given with ``--from``, trainable, or a fresh one. With ``--from``, TRL's DPO, KTO and
GRPO trainers add a frozen copy of it (the ``ref`` adapter) and compute the reference
log-probabilities through it: the reference is the SFT model, and the base is in memory once.
Without ``--from`` (ORPO needs no reference) the adapter starts at zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from pipelines.train.config import TrainConfig


@dataclass
class Built:
    """A ready trainer and what the report needs about its data."""

    trainer: Any
    data: Any  # MethodData
    rewards: Any = None  # RewardSet (rl)


def policy(cfg: TrainConfig, device: str) -> Any:
    """The trainable policy: base + the ``--from`` adapter (trainable) or a fresh adapter."""
    import torch
    from peft import PeftModel, get_peft_model

    from pipelines.train.model import load_base, lora_config

    base = load_base(cfg.model, bits=cfg.bits, device=device,
                     attn_implementation=cfg.attn_implementation)  # fmt: skip
    if cfg.gradient_checkpointing:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    torch.manual_seed(cfg.seed)
    if not cfg.init_adapter:
        return get_peft_model(base, lora_config(cfg))
    try:
        return PeftModel.from_pretrained(base, cfg.init_adapter, is_trainable=True)
    except RuntimeError as exc:
        if "size mismatch" not in str(exc):
            raise
        raise BadInputError(
            f"--from {cfg.init_adapter} does not fit {cfg.model} (its weights have other "
            "shapes: it was trained on another base)"
        ) from exc


def _args(cls: Any, cfg: TrainConfig, device: str, has_eval: bool, schedule: Any, **kw: Any):
    from pipelines.train.run import trainer_args

    return cls(**trainer_args(cfg, device, has_eval, schedule), **kw)


def _schedule(cfg: TrainConfig, data: Any, examples: int) -> Any:
    from pipelines.train.run import _Planned, world_size
    from pipelines.train.schedule import plan_schedule

    data.schedule = plan_schedule(cfg, data.tokens, examples, world_size()).to_dict()
    return _Planned(data.schedule)


def build_pairs(cfg: TrainConfig, device: str, tokenizer: Any, callbacks: list) -> Built:
    """DPO (sigmoid, ipo, hinge), KTO or ORPO over the pairs."""
    from pipelines.train.methods.data import kto_weights, pair_datasets

    train, evaluation, data = pair_datasets(cfg, tokenizer)
    sched = _schedule(cfg, data, len(train))
    has_eval = evaluation is not None
    common = {"max_length": cfg.max_length, "beta": cfg.beta}
    if cfg.method == "dpo":
        from trl import DPOConfig as Config
        from trl import DPOTrainer as Trainer

        common["loss_type"] = [cfg.loss_type]
    elif cfg.method == "kto":
        from trl import KTOConfig as Config
        from trl import KTOTrainer as Trainer

        common["desirable_weight"], common["undesirable_weight"] = kto_weights(
            train, cfg.kto_balance
        )
    else:
        from trl.experimental.orpo import ORPOConfig as Config
        from trl.experimental.orpo import ORPOTrainer as Trainer
    args = _args(Config, cfg, device, has_eval, sched, **common)
    trainer = Trainer(model=policy(cfg, device), args=args, train_dataset=train,
                      eval_dataset=evaluation, processing_class=tokenizer,
                      callbacks=callbacks)  # fmt: skip
    return Built(trainer, data)


def build_reward(cfg: TrainConfig, device: str, tokenizer: Any, callbacks: list) -> Built:
    """A Bradley-Terry reward model: the base with a classification head, LoRA on it (the
    head itself trained in full: peft's modules_to_save for SEQ_CLS)."""
    import dataclasses

    import torch
    from peft import get_peft_model
    from trl import RewardConfig, RewardTrainer

    from pipelines.train.methods.data import pair_datasets
    from pipelines.train.methods.reward_model import head_model
    from pipelines.train.model import lora_config

    train, evaluation, data = pair_datasets(cfg, tokenizer)
    sched = _schedule(cfg, data, len(train))
    base = head_model(cfg.model, cfg.bits, device, cfg.attn_implementation)
    base.config.pad_token_id = tokenizer.pad_token_id
    if cfg.gradient_checkpointing:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    torch.manual_seed(cfg.seed)
    model = get_peft_model(base, dataclasses.replace(lora_config(cfg), task_type="SEQ_CLS"))
    args = _args(RewardConfig, cfg, device, evaluation is not None, sched,
                 max_length=cfg.max_length)  # fmt: skip
    trainer = RewardTrainer(model=model, args=args, train_dataset=train,
                            eval_dataset=evaluation, processing_class=tokenizer,
                            callbacks=callbacks)  # fmt: skip
    return Built(trainer, data)


def build_rl(cfg: TrainConfig, device: str, tokenizer: Any, callbacks: list,
             extra_rewards: dict | None = None) -> Built:  # fmt: skip
    """GRPO from the SFT adapter, rewarded by the run's :class:`RewardSet`."""
    from trl import GRPOConfig, GRPOTrainer

    from pipelines.train.methods.data import rl_dataset, rl_records
    from pipelines.train.rewards import RewardSet

    prompts, known = rl_records(cfg)
    train, data = rl_dataset(cfg, prompts, tokenizer)
    # One "example" per prompt; each step scores batch x accumulation completions.
    sched = _schedule(cfg, data, len(train) * cfg.num_generations)
    scorer = None
    if "reward_model" in cfg.rewards:
        from pipelines.train.methods.reward_model import RewardScorer

        scorer = RewardScorer(cfg.reward_run, device=device, batch_size=cfg.batch_size)
    rewards = RewardSet(dict(cfg.rewards), known, length_penalty=cfg.length_penalty,
                        degenerate_guard=cfg.degenerate_guard, reward_model=scorer,
                        extra=dict(extra_rewards or {}))  # fmt: skip
    funcs, weights = rewards.trl_functions()
    # Dropout off, as TRL's other trainers do by default: with it the policy is noisy against
    # its own reference (a KL above 0 before any step) and the group advantages are noise.
    args = _args(GRPOConfig, cfg, device, False, sched, beta=cfg.beta,
                 num_generations=cfg.num_generations, max_completion_length=cfg.rl_max_new_tokens,
                 temperature=cfg.temperature, reward_weights=weights,
                 log_completions=False, disable_dropout=True)  # fmt: skip
    trainer = GRPOTrainer(model=policy(cfg, device), reward_funcs=funcs, args=args,
                          train_dataset=train, processing_class=tokenizer,
                          callbacks=callbacks)  # fmt: skip
    return Built(trainer, data, rewards)


def build(cfg: TrainConfig, device: str, tokenizer: Any, callbacks: list,
          extra_rewards: dict | None = None) -> Built:  # fmt: skip
    """The trainer of ``cfg.method``."""
    if cfg.method == "reward":
        return build_reward(cfg, device, tokenizer, callbacks)
    if cfg.method == "rl":
        return build_rl(cfg, device, tokenizer, callbacks, extra_rewards)
    return build_pairs(cfg, device, tokenizer, callbacks)


def save_adapter(model: Any, tokenizer: Any, cfg: TrainConfig, dest: Path) -> None:
    """The trained adapter alone (not TRL's frozen ``ref`` copy), with tokenizer and recipe,
    swapped in whole."""
    from corpus.store import swap_dir
    from pipelines.train.config import save_config
    from pipelines.train.run import CONFIG_FILE

    def fill(tmp: Path) -> None:
        model.save_pretrained(str(tmp), safe_serialization=True, selected_adapters=["default"])
        tokenizer.save_pretrained(str(tmp))
        save_config(cfg, tmp / CONFIG_FILE)

    swap_dir(dest, fill)

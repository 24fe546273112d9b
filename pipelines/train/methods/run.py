"""The one entry point of `corpus train dpo|kto|orpo|reward|rl`: :func:`train_method`.

Order of work, as in SFT: every input checked (``inputs.check_method_inputs``) before torch is
imported; the tokenizer and data next; the model last. The run folder is made once the trainer
is built, and holds what an SFT run's does: adapter/, checkpoints/, metrics.jsonl,
train_config.yaml, summary.json, report.md (+ loss.png), and eval/ when evaluated.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipelines.train.config import TrainConfig, save_config
from pipelines.train.run import (
    ADAPTER_DIR,
    CONFIG_FILE,
    METRICS_FILE,
    SUMMARY_FILE,
    RunResult,
    _peak_memory,
)


def _callbacks(cfg: TrainConfig, progress: bool) -> list:
    """metrics.jsonl and the progress bar (early stopping is added once the trainer knows
    whether it evaluates)."""
    from pipelines.train.callbacks import JsonlMetrics, RichProgress

    return [JsonlMetrics(Path(cfg.output_dir) / METRICS_FILE), RichProgress(progress)]


def make_method_trainer(cfg: TrainConfig, *, progress: bool = False,
                        extra_rewards: dict | None = None) -> tuple[Any, Any, str]:  # fmt: skip
    """(built trainer, tokenizer, device) of a checked config."""
    from transformers import EarlyStoppingCallback, set_seed
    from transformers.trainer_callback import PrinterCallback

    from pipelines.train.methods.trainers import build
    from pipelines.train.model import load_tokenizer, resolve_device

    device = resolve_device(cfg.device)
    set_seed(cfg.seed)
    tokenizer = load_tokenizer(cfg.init_adapter or cfg.model)
    built = build(cfg, device, tokenizer, _callbacks(cfg, progress), extra_rewards)
    trainer = built.trainer
    if trainer.args.eval_strategy != "no" and cfg.early_stopping_patience:
        trainer.add_callback(EarlyStoppingCallback(cfg.early_stopping_patience))
    trainer.remove_callback(PrinterCallback)  # metrics go to metrics.jsonl and the progress bar
    return built, tokenizer, device


def train_method(cfg: TrainConfig, *, resume: bool = False, progress: bool = False,
                 extra_rewards: dict | None = None) -> RunResult:  # fmt: skip
    """Train ``cfg.method``; save the adapter, metrics, summary, report; evaluate; push."""
    from pipelines.train.methods.inputs import check_method_inputs, default_dataset

    checkpoint = check_method_inputs(cfg, resume=resume)
    cfg.dataset = default_dataset(cfg)
    import torch

    from pipelines.train.model import count_params

    out = Path(cfg.output_dir)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    t0 = time.monotonic()
    built, tokenizer, device = make_method_trainer(cfg, progress=progress,
                                                   extra_rewards=extra_rewards)  # fmt: skip
    trainer = built.trainer
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / CONFIG_FILE)
    if not resume:
        (out / METRICS_FILE).unlink(missing_ok=True)
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    eval_loss = None
    if trainer.eval_dataset is not None:
        eval_loss = float(trainer.evaluate()["eval_loss"])
    from pipelines.train.methods.trainers import save_adapter

    save_adapter(trainer.model, tokenizer, cfg, out / ADAPTER_DIR)
    trainable, total = count_params(trainer.model)
    res = RunResult(
        output_dir=str(out), adapter_dir=str(out / ADAPTER_DIR),
        steps=int(trainer.state.global_step),
        train_loss=float(result.training_loss) if result.training_loss is not None else None,
        eval_loss=eval_loss, trainable_params=trainable, total_params=total,
        seconds=round(time.monotonic() - t0, 3), peak_memory_bytes=_peak_memory(device),
        device=device, data=asdict(built.data), world_size=trainer.args.world_size,
        effective_batch=cfg.batch_size * cfg.grad_accum * trainer.args.world_size,
    )  # fmt: skip
    _finish(cfg, out, res, built, progress)
    return res


def _finish(cfg: TrainConfig, out: Path, res: RunResult, built: Any, progress: bool) -> None:
    """summary.json, report.md, the end-of-run eval (generating methods) and the push."""
    from corpus.store import write_json
    from pipelines.train.methods.report import write_method_report

    write_json(out / SUMMARY_FILE, asdict(res))
    write_method_report(out, cfg, res, built.rewards)
    if cfg.eval_limit and cfg.method != "reward" and cfg.dataset:
        import gc

        from pipelines.eval.training import evaluate_run

        del built.trainer  # free the training copy before the eval loads the adapter
        gc.collect()
        extra = [f"sft=adapter:{cfg.init_adapter}"] if cfg.init_adapter else []
        evaluate_run(cfg, out, progress=progress, extra_systems=extra)
    if cfg.push_to_hub:
        from pipelines.train.run import push_adapter

        push_adapter(out / ADAPTER_DIR, cfg.push_to_hub)

"""One training run: setup -> train -> save -> report, on TRL's SFTTrainer.

Why SFTTrainer and not a plain loop: it already does padding-free packing, gradient
accumulation, warmup + schedules, clipping, eval every N steps, early stopping, checkpoints
with optimizer/scheduler/RNG state and an exact ``--resume`` — each would be a source of bugs
here. Tokenisation is ours (``data.py``), so what carries loss is decided and tested in one place.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from pipelines.train.config import TrainConfig, save_config

ADAPTER_DIR = "adapter"
CHECKPOINT_DIR = "checkpoints"
METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "train_config.yaml"
SUMMARY_FILE = "summary.json"
RANKS_FILE = "ranks.jsonl"  # data-parallel runs: world size, shards, weights digests per step


@dataclass
class RunResult:
    """What a finished run reports (also written to summary.json)."""

    output_dir: str
    adapter_dir: str
    steps: int
    train_loss: float | None
    eval_loss: float | None
    trainable_params: int
    total_params: int
    seconds: float
    peak_memory_bytes: int
    device: str
    data: dict[str, Any] = field(default_factory=dict)
    world_size: int = 1
    effective_batch: int = 0  # batch_size * grad_accum * world_size


def _peak_memory(device: str) -> int:
    """Peak device memory (CUDA allocator) or peak RSS of this process (CPU), in bytes."""
    import torch

    if device == "cuda":
        return int(torch.cuda.max_memory_allocated())
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def world_size() -> int:
    """Processes training together (torchrun / accelerate set WORLD_SIZE)."""
    import os

    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def trainer_args(cfg: TrainConfig, device: str, has_eval: bool, schedule: Any) -> dict[str, Any]:
    """The transformers TrainingArguments of a run, from the recipe and its schedule (every
    knob mapped explicitly); every method's TRL config starts from these."""
    from pipelines.train.model import optimizer_name

    out = Path(cfg.output_dir)
    eval_on = has_eval and schedule.eval_steps is not None
    save_on = schedule.save_steps is not None
    # load_best_model_at_end needs checkpoints on the eval grid; otherwise keep the last weights.
    load_best = eval_on and save_on and schedule.save_steps % schedule.eval_steps == 0
    return dict(
        output_dir=str(out / CHECKPOINT_DIR),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=schedule.warmup_steps,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        optim=optimizer_name(cfg, device),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
        seed=cfg.seed,
        data_seed=cfg.seed,
        eval_strategy="steps" if eval_on else "no",
        eval_steps=schedule.eval_steps if eval_on else None,
        save_strategy="steps" if save_on else "no",
        save_steps=schedule.save_steps if save_on else 500,
        save_total_limit=cfg.save_total_limit or None,
        load_best_model_at_end=load_best,
        metric_for_best_model="eval_loss" if eval_on else None,
        greater_is_better=False,
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        bf16=device == "cuda",
        use_cpu=device == "cpu",
        gradient_checkpointing=cfg.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def sft_config(cfg: TrainConfig, device: str, has_eval: bool, schedule: Any) -> Any:
    """TRL's SFTConfig from our recipe and the run's schedule."""
    from trl import SFTConfig

    return SFTConfig(
        **trainer_args(cfg, device, has_eval, schedule),
        max_length=cfg.max_length,
        packing=cfg.packing,
        packing_strategy=cfg.packing_strategy,
    )


class _Planned:
    """A schedule read back from its dict (what the data stats carry into the report)."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.__dict__.update(d)


def last_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint-N folder of a run, if any."""
    ckpts = sorted(
        (p for p in (Path(output_dir) / CHECKPOINT_DIR).glob("checkpoint-*") if p.is_dir()),
        key=lambda p: int(p.name.rsplit("-", 1)[1]),
    )
    return ckpts[-1] if ckpts else None


def _save_adapter_atomic(model: Any, tokenizer: Any, cfg: TrainConfig, dest: Path) -> None:
    """adapter_model.safetensors + adapter_config.json (+ tokenizer, recipe), swapped in whole."""
    from corpus.store import swap_dir

    def fill(tmp: Path) -> None:
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        save_config(cfg, tmp / CONFIG_FILE)

    swap_dir(dest, fill)


def make_trainer(cfg: TrainConfig, *, progress: bool = False, extra_callbacks: list | None = None):
    """Build (trainer, tokenizer, data stats, device): everything short of calling train()."""
    from transformers import EarlyStoppingCallback, set_seed
    from trl import SFTTrainer

    from corpus.store import read_dataset
    from pipelines.train.callbacks import JsonlMetrics, RichProgress
    from pipelines.train.data import build_datasets
    from pipelines.train.model import build_model, load_tokenizer, resolve_device

    device = resolve_device(cfg.device)
    set_seed(cfg.seed)
    # The data first: a wrong --data should fail before a model download, not after.
    records = read_dataset(cfg.dataset, cfg.dataset_config)
    tokenizer = load_tokenizer(cfg.model)
    train_ds, eval_ds, stats = build_datasets(cfg, tokenizer, records)
    from pipelines.train.schedule import plan_schedule

    stats.schedule = plan_schedule(cfg, stats.train_tokens, len(train_ds), world_size()).to_dict()
    model = build_model(cfg, device)
    args = sft_config(cfg, device, eval_ds is not None, _Planned(stats.schedule))
    callbacks: list = [JsonlMetrics(Path(cfg.output_dir) / METRICS_FILE), RichProgress(progress)]
    patience = stats.schedule["patience"]
    if args.eval_strategy != "no" and patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=patience))
    if args.world_size > 1:
        from pipelines.train.callbacks import RankSync

        callbacks.append(RankSync(Path(cfg.output_dir) / RANKS_FILE))
    callbacks.extend(extra_callbacks or [])
    from transformers.trainer_callback import PrinterCallback

    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # metrics go to metrics.jsonl and the progress bar
    return trainer, tokenizer, stats, device


def check_inputs(cfg: TrainConfig, *, resume: bool = False) -> Path | None:
    """Everything about a run that can be checked without torch: the dataset is there (or is a
    Hub id), a local model folder holds a model, and the run folder agrees with ``resume``.
    Returns the checkpoint to resume from. Raises BadInputError (exit 2) naming the problem."""
    from corpus.layout import check_dataset_spec
    from pipelines.train.model import _check_model_source

    local = check_dataset_spec(cfg.dataset, cfg.dataset_config)
    _check_model_source(cfg.model)
    if cfg.mixture and local is not None:  # a typo in a weight fails here, not after torch
        from corpus.store import read_records
        from pipelines.train.mixture import check_mixture

        df = read_records(local, cfg.dataset_config)
        check_mixture(cfg.mixture, set(df.filter(df["split"] == cfg.train_split)["repo"]))
    out = Path(cfg.output_dir)
    if resume:
        checkpoint = last_checkpoint(out)
        if checkpoint is None:
            raise BadInputError(f"--resume: no checkpoint under {out / CHECKPOINT_DIR}")
        return checkpoint
    if last_checkpoint(out) is not None:
        raise BadInputError(
            f"{out} already holds checkpoints; pass --resume to continue, or choose another --out"
        )
    return None


def is_main_process() -> bool:
    """True in a single-process run, and on rank 0 of a torchrun / accelerate launch."""
    import os

    return int(os.environ.get("RANK", "0")) == 0


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = False) -> RunResult:
    """Train, save the adapter, write metrics, summary and report; optionally push to the Hub.

    The run folder is made only once data, tokenizer and model are loaded, so a run that
    cannot start leaves nothing behind.
    """
    checkpoint = check_inputs(cfg, resume=resume)
    import torch

    from pipelines.train.model import count_params
    from pipelines.train.report import write_report

    out = Path(cfg.output_dir)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    t0 = time.monotonic()
    trainer, tokenizer, stats, device = make_trainer(cfg, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    if is_main_process():  # one writer; the other ranks only train
        save_config(cfg, out / CONFIG_FILE)
        if not resume:
            (out / METRICS_FILE).unlink(missing_ok=True)
            (out / RANKS_FILE).unlink(missing_ok=True)
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    eval_loss = None
    if trainer.eval_dataset is not None:
        eval_loss = float(trainer.evaluate()["eval_loss"])
    seconds = time.monotonic() - t0
    main = trainer.is_world_process_zero()
    if main:
        _save_adapter_atomic(trainer.model, tokenizer, cfg, out / ADAPTER_DIR)
    trainable, total = count_params(trainer.model)
    res = RunResult(
        output_dir=str(out),
        adapter_dir=str(out / ADAPTER_DIR),
        steps=int(trainer.state.global_step),
        train_loss=float(result.training_loss) if result.training_loss is not None else None,
        eval_loss=eval_loss,
        trainable_params=trainable,
        total_params=total,
        seconds=round(seconds, 3),
        peak_memory_bytes=_peak_memory(device),
        device=device,
        data=asdict(stats),
        world_size=trainer.args.world_size,
        effective_batch=cfg.batch_size * cfg.grad_accum * trainer.args.world_size,
    )
    if not main:
        return res
    from corpus.store import write_json

    write_json(out / SUMMARY_FILE, asdict(res))
    write_report(out, cfg, res)
    if cfg.eval_limit:
        del trainer  # free the training copy of the model before the eval loads the adapter
        _end_of_run_eval(cfg, out, progress)
    if cfg.push_to_hub:
        push_adapter(out / ADAPTER_DIR, cfg.push_to_hub)
    return res


def _end_of_run_eval(cfg: TrainConfig, out: Path, progress: bool) -> None:
    """`corpus eval` of the saved adapter against its base (RUN/eval/, report.md)."""
    import gc

    from pipelines.eval.training import evaluate_run

    gc.collect()
    evaluate_run(cfg, out, progress=progress)


def push_adapter(folder: Path, repo_id: str, *, private: bool = True) -> str:
    """Upload a folder (adapter or merged model) to a Hub model repo; token from HF_TOKEN/login."""
    from huggingface_hub import HfApi

    api = HfApi()  # reads HF_TOKEN / the login cache itself: we never handle the token
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="model")
    except Exception as exc:  # auth, network: tell the user, never echo a token
        raise BadInputError(f"push to {repo_id} failed: {type(exc).__name__}: {exc}") from exc
    return str(getattr(info, "commit_url", repo_id))


def read_metrics(out: Path) -> list[dict]:
    """metrics.jsonl rows, keeping the last row per (step, kind) so resumed runs don't repeat."""
    path = Path(out) / METRICS_FILE
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    seen: dict[tuple, dict] = {}
    for r in rows:
        kind = "eval" if "eval_loss" in r else ("train" if "loss" in r else "other")
        seen[(r["step"], kind)] = r
    return sorted(seen.values(), key=lambda r: r["step"])

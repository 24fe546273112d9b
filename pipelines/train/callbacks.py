"""Trainer callbacks: metrics to a JSONL log, and a rich progress bar."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


class JsonlMetrics(TrainerCallback):
    """Append every log event (train loss, eval loss, lr, grad norm) as one JSON line.

    Appending (not rewriting) keeps the history of a resumed run in one file; each line carries
    its global step, so readers can drop rows replayed after a resume.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._t0 = time.monotonic()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any):
        if not logs or not state.is_world_process_zero:
            return
        row = {
            "step": state.global_step,
            "epoch": state.epoch,
            "time_s": time.monotonic() - self._t0,
        }
        row.update({k: v for k, v in logs.items() if isinstance(v, int | float)})
        # Made on the first log, not before: a run that never starts leaves no folder.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")


class RichProgress(TrainerCallback):
    """A rich progress bar over optimiser steps, showing the latest train and eval loss."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None
        self._loss = "-"
        self._eval = "-"

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any):
        if not self.enabled or not state.is_world_process_zero:
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from corpus.commands._common import err_console

        self._progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TextColumn("loss {task.fields[loss]} eval {task.fields[eval]}"),
            TimeRemainingColumn(),
            console=err_console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            "train", total=state.max_steps, completed=state.global_step, loss="-", eval="-"
        )

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any):
        if self._progress is not None:
            self._progress.update(
                self._task, completed=state.global_step, loss=self._loss, eval=self._eval
            )

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any):
        logs = logs or {}
        if "loss" in logs:
            self._loss = f"{logs['loss']:.4f}"
        if "eval_loss" in logs:
            self._eval = f"{logs['eval_loss']:.4f}"

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any):
        if self._progress is not None:
            self._progress.update(
                self._task, completed=state.global_step, loss=self._loss, eval=self._eval
            )
            self._progress.stop()
            self._progress = None


def weights_digest(model: Any) -> str:
    """sha256 of every trainable parameter's bytes, in name order (the adapter's weights)."""
    import hashlib

    h = hashlib.sha256()
    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if p.requires_grad:
            h.update(name.encode())
            h.update(p.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class RankSync(TrainerCallback):
    """Data-parallel runs (torchrun / accelerate launch): prove every rank holds the same
    adapter weights, and record how the data was split.

    At the start it writes one line with the world size, each rank's batches per epoch (a
    shard of the data: about 1/world of it) and the effective batch (per-device batch x
    gradient accumulation x world size); after step 1 and every ``logging_steps`` steps, each
    rank's weights digest. Ranks that disagree stop the run: their gradients were not averaged.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @staticmethod
    def _gather(value: Any) -> list[Any]:
        import torch.distributed as dist

        out: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(out, value)
        return out

    def _write(self, state: Any, row: dict) -> None:
        if state.is_world_process_zero:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        """Record the world size, each rank's batches per epoch and the effective batch."""
        loader = kw.get("train_dataloader")
        batches = self._gather(len(loader) if loader is not None else None)
        world = len(batches)
        self._write(
            state,
            {
                "event": "start",
                "world_size": world,
                "batches_per_rank": batches,
                "per_device_batch": args.per_device_train_batch_size,
                "grad_accum": args.gradient_accumulation_steps,
                "effective_batch": args.per_device_train_batch_size
                * args.gradient_accumulation_steps
                * world,
            },
        )

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        """Gather every rank's weights digest (step 1, every logging step, the last step)."""
        step = state.global_step
        if step != 1 and step % max(1, args.logging_steps) and step != state.max_steps:
            return
        digests = self._gather(weights_digest(kw["model"]))
        self._write(state, {"step": step, "weights": digests})
        if len(set(digests)) > 1:
            raise RuntimeError(
                f"ranks hold different adapter weights after step {step}: their gradients "
                "were not averaged (data-parallel training is broken)"
            )

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

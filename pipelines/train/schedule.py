"""How long a run is, and when it evaluates and checkpoints — sized from the data, not constants.

With 2,531 training rows packed at 2048 tokens and an effective batch of 16, a whole epoch was
~17 optimizer steps, so a fixed ``eval_steps: 100`` never fired and early stopping could not
work. Here the run's length comes from the training set's token count (packed sequences are
about ``tokens / max_length``), and with ``eval_steps: 0`` the run evaluates ``evals_per_run``
times, checkpointing with each eval (so the best checkpoint can be kept). The trainer and
`corpus train plan --data` use the same :func:`plan_schedule`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Schedule:
    """A run's length and cadence."""

    sequences: int  # training sequences per epoch (packed, or one per example)
    tokens_per_step: int  # at most: batch x accumulation x processes x max_length
    steps_per_epoch: int
    total_steps: int
    eval_steps: int | None  # None: no eval during the run (only at its end, if at all)
    save_steps: int | None  # None: no checkpoints during the run
    warmup_steps: int
    patience: int = 0  # evals without improvement before early stopping (0: never stops)

    @property
    def evals(self) -> int:
        """Evaluations during the run."""
        return self.total_steps // self.eval_steps if self.eval_steps else 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON and reports)."""
        return {**asdict(self), "evals": self.evals}


#: Fewer evals than this cannot tell a plateau from noise.
MIN_EVALS = 5


def _every(total: int, per_run: int) -> int:
    """A step interval giving about ``per_run`` events over ``total`` steps (every ~10% of the
    run for 10), never fewer than ``MIN_EVALS`` when the run has that many steps: a 19-step run
    evaluates 9 times, not at every step."""
    every = max(1, math.ceil(total / max(1, per_run)))
    floor = min(total, MIN_EVALS, per_run)
    return every if total // every >= floor else max(1, total // max(1, floor))


def _patience(cfg: Any, evals: int) -> int:
    """``early_stopping_patience``, or with -1 a third of the run's evals (at least 2)."""
    if not evals:
        return 0
    return max(2, evals // 3) if cfg.early_stopping_patience == -1 else cfg.early_stopping_patience


def plan_schedule(cfg: Any, tokens: int, examples: int, world_size: int = 1) -> Schedule:
    """The schedule of a run of recipe ``cfg`` over a training set of ``tokens`` tokens in
    ``examples`` examples, on ``world_size`` processes."""
    sequences = math.ceil(tokens / cfg.max_length) if cfg.packing else examples
    per_step = cfg.batch_size * cfg.grad_accum * world_size
    steps_per_epoch = max(1, math.ceil(max(1, sequences) / per_step))
    total = cfg.max_steps if cfg.max_steps > 0 else math.ceil(steps_per_epoch * cfg.epochs)
    eval_steps: int | None
    if not cfg.eval_split or cfg.eval_steps == -1:
        eval_steps = None
    else:
        eval_steps = cfg.eval_steps or _every(total, cfg.evals_per_run)
    if cfg.save_steps == -1:
        save_steps = None
    elif cfg.save_steps:
        save_steps = cfg.save_steps
    else:
        save_steps = eval_steps or _every(total, cfg.evals_per_run)
    warmup = cfg.warmup if cfg.warmup >= 1 else math.ceil(cfg.warmup * total)
    evals = total // eval_steps if eval_steps else 0
    return Schedule(
        sequences=sequences,
        tokens_per_step=per_step * cfg.max_length,
        steps_per_epoch=steps_per_epoch,
        total_steps=total,
        eval_steps=eval_steps,
        save_steps=save_steps,
        warmup_steps=int(warmup),
        patience=_patience(cfg, evals),
    )

"""Trained adapters on the tiny random Qwen2, made once per test run (for the ship tests:
variants, combine, GGUF, serve, fill, DDP).

Under pytest-xdist every worker would otherwise train its own copies; the first worker to get
here trains them under a file lock in a folder all workers share, the others reuse them.
Everything is real: the tiny model of ``tests.train_fixtures``, the project's trainer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.records_factory import make_dataset_dir
from tests.train_fixtures import build_model, build_tokenizer, dataset_records

#: name -> training overrides. one/two/four: LoRA; two uses rsLoRA, four a smaller rank;
#: q4: trained on the 4-bit NF4 base.
ADAPTERS = {
    "one": {"seed": 1, "max_steps": 30, "learning_rate": 1e-2},
    "two": {"seed": 2, "max_steps": 20, "learning_rate": 1e-2, "use_rslora": True},
    "four": {"seed": 3, "max_steps": 6, "learning_rate": 1e-2, "lora_r": 4},
    "q4": {"seed": 4, "max_steps": 8, "learning_rate": 1e-2, "bits": 4},
}


@dataclass(frozen=True)
class Ship:
    """The shared tiny model, dataset and trained run folders."""

    model: Path
    dataset: Path
    runs: dict[str, Path]

    def adapter(self, name: str) -> Path:
        """RUN/adapter of one of the trained runs."""
        return self.runs[name] / "adapter"


def train_overrides(model: Path, data: Path, out: Path, **kw: object) -> dict:
    """A fast CPU recipe for the tiny model (every key a TrainConfig field)."""
    values = {"model": str(model), "dataset": str(data), "output_dir": str(out),
              "device": "cpu", "bits": 16, "lora_r": 8, "lora_dropout": 0.0, "max_length": 256,
              "batch_size": 2, "grad_accum": 1, "warmup": 0, "eval_steps": 0, "save_steps": 0,
              "early_stopping_patience": 0, "logging_steps": 1, "max_eval_records": 4}  # fmt: skip
    values.update(kw)
    return values


def _build(root: Path) -> None:
    from pipelines.train.config import load_config
    from pipelines.train.run import train

    build_tokenizer(root / "tok")
    build_model(root / "model", root / "tok")
    make_dataset_dir(root / "ds", dataset_records())
    for name, kw in ADAPTERS.items():
        train(
            load_config(
                "tiny",
                overrides=train_overrides(root / "model", root / "ds", root / "runs" / name, **kw),
            )
        )
    (root / "ready.json").write_text(json.dumps(sorted(ADAPTERS)))


@pytest.fixture(scope="session")
def ship(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Ship:
    """The tiny model, its dataset and the trained runs of ``ADAPTERS``."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the folder every xdist worker's basetemp sits in
    root = shared / "ship"
    root.mkdir(exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if not (root / "ready.json").is_file():
            _build(root)
    return Ship(root / "model", root / "ds", {n: root / "runs" / n for n in ADAPTERS})

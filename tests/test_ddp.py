"""Real multi-process training: the README's `accelerate launch` and `torchrun` lines, as
written, with 2 CPU processes (gloo) on the tiny model. Both ranks must hold identical adapter
weights after every step, each must see half the data, and the effective batch must be
batch x accumulation x world size."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ship_fixtures import Ship, ship

__all__ = ["ship"]
README = Path(__file__).resolve().parents[1] / "README.md"
#: The lines as the README shows them (a GPU machine with 4 GPUs).
LINE = re.compile(
    r"^(accelerate launch --multi_gpu --num_processes|torchrun --nproc_per_node) 4 "
    r"-m corpus\.cli train --data out/dataset --recipe small --out runs/small$"
)
#: The same programs, from the Python running the tests.
PROGRAMS = {"accelerate launch": [sys.executable, "-m", "accelerate.commands.launch"],
            "torchrun": [sys.executable, "-m", "torch.distributed.run"]}  # fmt: skip
BATCH, ACCUM, WORLD = 2, 2, 2


def readme_lines() -> list[str]:
    """The launch lines of the README's multi-GPU section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Multi-GPU training", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [ln for ln in block.splitlines() if ln.strip()]


def test_the_readme_shows_both_launchers() -> None:
    lines = readme_lines()
    assert len(lines) == 2 and all(LINE.match(ln) for ln in lines), lines


def as_run_here(line: str, ship: Ship, out: Path) -> list[str]:
    """The README line with 2 processes, the tiny model and dataset, and a CPU recipe."""
    prog = next(p for p in PROGRAMS if line.startswith(p))
    words = line[len(prog) :].split()
    words[words.index("4")] = str(WORLD)
    words[words.index("out/dataset")] = str(ship.dataset)
    words[words.index("runs/small")] = str(out)
    return [*PROGRAMS[prog], *words, "--model", str(ship.model), "--bits", "16", "--rank", "8",
            "--batch-size", str(BATCH), "--grad-accum", str(ACCUM), "--max-length", "256",
            "--device", "cpu", "--set", "packing=false", "--set", "eval_steps=0",
            "--set", "save_steps=0", "--set", "early_stopping_patience=0",
            "--set", "logging_steps=1", "--set", "max_eval_records=4"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["accelerate launch", "torchrun"])
def test_readme_launch_line_trains_data_parallel(launcher: str, ship: Ship, tmp_path: Path):
    [line] = [ln for ln in readme_lines() if ln.startswith(launcher)]
    out = tmp_path / "run"
    env = {**os.environ, "CI": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(as_run_here(line, ship, out), capture_output=True, text=True, env=env,
                          timeout=600, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("trained ") == 1 and f"on {WORLD} ranks" in proc.stdout

    rows = [json.loads(x) for x in (out / "ranks.jsonl").read_text().splitlines()]
    start, steps = rows[0], rows[1:]
    records = 40  # documented train-split records of the tiny dataset; packing is off
    per_rank = math.ceil(records / WORLD / BATCH)
    assert start == {"event": "start", "world_size": WORLD, "batches_per_rank": [per_rank] * WORLD,
                     "per_device_batch": BATCH, "grad_accum": ACCUM,
                     "effective_batch": BATCH * ACCUM * WORLD}  # fmt: skip
    n_steps = math.ceil(records / (BATCH * ACCUM * WORLD))
    assert [r["step"] for r in steps] == list(range(1, n_steps + 1))
    for r in steps:  # every rank holds the very same adapter weights after every step
        assert len(r["weights"]) == WORLD and len(set(r["weights"])) == 1, r
    assert len({r["weights"][0] for r in steps}) == n_steps  # and they do change each step
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["steps"], summary["world_size"], summary["effective_batch"]) == (
        n_steps, WORLD, BATCH * ACCUM * WORLD)  # fmt: skip
    from pipelines.train.callbacks import weights_digest
    from pipelines.train.merge import load_adapter_model

    saved = load_adapter_model(out / "adapter", model=None, dtype="float32", device="cpu")
    for _, p in saved.named_parameters():
        p.requires_grad_("lora_" in _)
    assert weights_digest(saved) == steps[-1]["weights"][0]  # rank 0 saved what both held


def _diverge(rank: int, port: int, result: Path) -> None:
    """One of two gloo processes; rank 1's "adapter" differs from rank 0's."""
    import types

    import torch
    import torch.distributed as dist

    from pipelines.train.callbacks import RankSync

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)  # fmt: skip
    model = torch.nn.Linear(4, 4)
    torch.nn.init.constant_(model.weight, float(rank))
    sync = RankSync(result.parent / "ranks.jsonl")
    args = types.SimpleNamespace(logging_steps=1)
    state = types.SimpleNamespace(global_step=1, max_steps=3, is_world_process_zero=rank == 0)
    try:
        sync.on_step_end(args, state, None, model=model)
        outcome = "no error"
    except RuntimeError as exc:
        outcome = str(exc)
    (result.parent / f"rank{rank}.txt").write_text(outcome)
    dist.destroy_process_group()


def test_ranks_that_disagree_stop_the_run(tmp_path: Path) -> None:
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_diverge, args=(port, tmp_path / "x"), nprocs=2, join=True)
    for rank in (0, 1):
        text = (tmp_path / f"rank{rank}.txt").read_text()
        assert "ranks hold different adapter weights after step 1" in text
    row = json.loads((tmp_path / "ranks.jsonl").read_text())
    assert row["step"] == 1 and row["weights"][0] != row["weights"][1]

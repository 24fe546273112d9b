"""Training throughput (tokens/s) of a QLoRA step on a randomly initialised model of a tier's
real shape, on this machine: the figures behind `corpus train plan --data`'s wall times.

No pretrained weights are reachable here, and none are needed: a step's cost depends on the
shapes, not the values. The model is built from the tier's config (pipelines/train/arch.py),
saved once, and trained for a few steps with the tier's recipe (4-bit NF4 on GPU and CPU,
LoRA r=64 on every projection, the recipe's optimizer: paged AdamW on GPU) on packed random
token ids. Peak memory (CUDA's allocator on GPU, max RSS on CPU) is printed beside what
`corpus train plan` expects for the same run; on a GPU the pair checks the planner.

    python benchmarks/train_throughput.py --tier tiny --seq-len 512 --steps 3 [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any


def _random_model(tier: str, dest: Path) -> Path:
    import torch
    from transformers import Qwen2ForCausalLM

    from pipelines.train.arch import BUILTIN
    from pipelines.train.config import load_config

    cfg = BUILTIN[load_config(tier).model].qwen2_config(
        max_position_embeddings=32768, rope_theta=1e6
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(cfg).to(torch.bfloat16).save_pretrained(str(dest))
    return dest


def _optimizer(name: str, params: list) -> object:
    """The recipe's optimizer: paged AdamW (bitsandbytes) on GPU, torch's AdamW on CPU."""
    import torch

    if name.startswith("paged_adamw"):
        import bitsandbytes as bnb

        cls = bnb.optim.PagedAdamW32bit if "32bit" in name else bnb.optim.PagedAdamW8bit
        return cls(params, lr=1e-4)
    return torch.optim.AdamW(params, lr=1e-4)


def _peak_bytes(device: str) -> int:
    """Peak memory of the run: CUDA's allocator on GPU; on CPU the process's max RSS, which
    also counts building the random fp32 model (an upper bound, not the run's own peak)."""
    if device == "cuda":
        import torch

        return int(torch.cuda.max_memory_allocated())
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _planned_bytes(model_id: str, cfg: Any, seq_len: int, device: str) -> int:
    """What `corpus train plan` expects for the same run (batch 1) of ``model_id``'s shape."""
    from pipelines.train.arch import BUILTIN
    from pipelines.train.plan import plan_memory

    shape = BUILTIN[model_id]
    plan = plan_memory(shape, bits=cfg.bits, lora_r=cfg.lora_r, batch_size=1,
                       seq_len=seq_len, gpu=device == "cuda",
                       gradient_checkpointing=cfg.gradient_checkpointing)  # fmt: skip
    return plan.total


def measure(tier: str, seq_len: int, steps: int, bits: int) -> dict:
    """Seconds per optimizer step (batch 1, no accumulation) after one warm-up step, with the
    recipe's optimizer; peak memory beside the plan's estimate."""
    import torch

    from pipelines.train.config import load_config
    from pipelines.train.model import build_model, optimizer_name, resolve_device

    device = resolve_device("auto")
    with tempfile.TemporaryDirectory() as tmp:
        path = _random_model(tier, Path(tmp) / "model")
        planned_id = load_config(tier).model
        cfg = load_config(tier, overrides={"model": str(path), "bits": bits, "device": device})
        model = build_model(cfg, device)
        optim = optimizer_name(cfg, device)
        opt = _optimizer(optim, [p for p in model.parameters() if p.requires_grad])
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        ids = torch.randint(0, 150_000, (1, seq_len), device=model.device)
        times = []
        for i in range(steps + 1):
            t = time.perf_counter()
            loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if device == "cuda":
                torch.cuda.synchronize()
            if i:
                times.append(time.perf_counter() - t)
        planned = _planned_bytes(planned_id, cfg, seq_len, device)
    per_step = sorted(times)[len(times) // 2]
    return {"tier": tier, "device": device, "bits": bits, "seq_len": seq_len,
            "optimizer": optim, "seconds_per_step": round(per_step, 3),
            "tokens_per_s": round(seq_len / per_step, 1),
            "peak_gib": round(_peak_bytes(device) / 2**30, 2),
            "planned_gib": round(planned / 2**30, 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", default="tiny")
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    res = measure(a.tier, a.seq_len, a.steps, a.bits)
    print(json.dumps(res))
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()

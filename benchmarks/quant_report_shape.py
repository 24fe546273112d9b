"""`corpus train quant-report` on a random model of a real Qwen2.5-Coder shape (no download).

Usage: python benchmarks/quant_report_shape.py [--shape 0.5B|1.5B] [--out DIR] [--layers N]
The model has the tier's exact shape (hidden size, layers, heads, ffn, 151,936-token vocab),
random weights as transformers initialises them (normal, std 0.02) stored in bf16 like the
real checkpoints; then the report runs on it. Real weights have heavier tails (outliers), so
their errors, not their bytes, will differ.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(dest: Path, shape_name: str) -> Path:
    """The random model, saved in bf16."""
    import torch
    from transformers import AutoModelForCausalLM

    from pipelines.train.arch import BUILTIN

    cfg = BUILTIN[f"Qwen/Qwen2.5-Coder-{shape_name}-Instruct"].qwen2_config()
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).save_pretrained(str(dest))
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("0.5B", "1.5B"), default="0.5B")
    parser.add_argument("--out", type=Path, default=Path("quant-report"))
    parser.add_argument("--layers", type=int, default=None)
    args = parser.parse_args()
    from pipelines.train.quant_report import markdown, quant_report, write_report

    with tempfile.TemporaryDirectory() as tmp:
        model = build(Path(tmp) / "model", args.shape)
        t0 = time.perf_counter()
        rep = quant_report(str(model), max_layers=args.layers)
        seconds = time.perf_counter() - t0
    rep.model = f"random Qwen2.5-Coder-{args.shape} shape"
    write_report(rep, args.out)
    print(markdown(rep))
    print(f"{rep.layers} layers measured in {seconds:.0f} s; report in {args.out}")


if __name__ == "__main__":
    main()

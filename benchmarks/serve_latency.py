"""Latency of `corpus serve`'s built-in engine on CPU: the base alone, one adapter, and two
adapters on one base switched per request, through the real server and the official client.

Usage: python benchmarks/serve_latency.py [--shape tiny|0.5b] [--requests N] [--tokens N]
``tiny`` is the test suite's random Qwen2 (hidden 64, 2 layers); ``0.5b`` a random Qwen2 of
Qwen2.5-Coder-0.5B's shape (hidden 896, 24 layers, 14/2 heads, ffn 4864) with the tests' 2k
vocabulary. Adapters are random rank-8 LoRA on every projection (weights initialised so they
change the output; latency does not depend on training). Each request asks for exactly
``--tokens`` new tokens (greedy, no stop): median wall time per request, and tokens/s.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ASK = (
    "Write the rustdoc comment for this Rust function.\n\n```rust\npub fn add(x: u32) -> u32;\n```"
)


def build(root: Path, shape: str) -> tuple[Path, dict[str, Path]]:
    """A random base model and two random LoRA adapters saved under ``root``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config

    from tests.train_fixtures import build_model, build_tokenizer

    build_tokenizer(root / "tok")
    if shape == "tiny":
        base = build_model(root / "model", root / "tok")
    else:
        tok = AutoTokenizer.from_pretrained(str(root / "tok"))
        cfg = Qwen2Config(
            vocab_size=len(tok),
            hidden_size=896,
            intermediate_size=4864,
            num_hidden_layers=24,
            num_attention_heads=14,
            num_key_value_heads=2,
            tie_word_embeddings=True,
            eos_token_id=2,
            pad_token_id=0,
        )
        torch.manual_seed(0)
        base = root / "model"
        AutoModelForCausalLM.from_config(cfg).save_pretrained(str(base))
        tok.save_pretrained(str(base))
    adapters = {}
    for i, name in enumerate(("one", "two")):
        torch.manual_seed(i + 1)
        model = AutoModelForCausalLM.from_pretrained(str(base))
        lora = LoraConfig(
            r=8,
            lora_alpha=16,
            init_lora_weights=False,
            task_type="CAUSAL_LM",
            target_modules=[
                "q_proj",
                "k_proj",
                "v_proj",
                "o_proj",
                "gate_proj",
                "up_proj",
                "down_proj",
            ],
        )
        get_peft_model(model, lora).save_pretrained(str(root / name))
        AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(root / name))
        adapters[name] = root / name
    return base, adapters


def measure(base: Path, adapters: dict[str, Path], models: list[str], n: int, tokens: int):
    """Median seconds per request for each model in ``models`` (round robin), on a server
    loaded with ``adapters``."""
    import openai
    import uvicorn

    from pipelines.serve.app import create_app
    from pipelines.serve.limits import Limits
    from pipelines.train.inference import load_engine

    engine = load_engine(adapters, base=str(base), device="cpu")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine, limits=Limits(max_tokens=tokens)),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0)
    msgs = [{"role": "user", "content": ASK}]
    client.chat.completions.create(model=models[0], messages=msgs, max_tokens=tokens)  # warm up
    times: dict[str, list[float]] = {m: [] for m in models}
    for i in range(n * len(models)):
        model = models[i % len(models)]
        t0 = time.perf_counter()
        r = client.chat.completions.create(
            model=model, messages=msgs, max_tokens=tokens, extra_body={"min_tokens": tokens}
        )
        times[model].append(time.perf_counter() - t0)
        _ = r.usage.completion_tokens
    server.should_exit = True
    return {m: statistics.median(v) for m, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("tiny", "0.5b"), default="tiny")
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base, adapters = build(Path(tmp), args.shape)
        rows = {
            "base alone": measure(base, {}, ["base"], args.requests, args.tokens),
            "one adapter": measure(
                base, {"one": adapters["one"]}, ["one"], args.requests, args.tokens
            ),
            "two adapters, switched per request": measure(
                base, adapters, ["one", "two"], args.requests, args.tokens
            ),
        }
    print(f"shape {args.shape}, {args.tokens} new tokens per request, median of {args.requests}")
    for label, per_model in rows.items():
        for model, sec in per_model.items():
            print(f"  {label:36s} {model:5s} {sec * 1000:8.0f} ms  {args.tokens / sec:7.1f} tok/s")


if __name__ == "__main__":
    main()

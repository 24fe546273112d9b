"""Fixtures for the training methods after SFT (DPO, KTO, ORPO, reward, RL) on CPU.

The policy is a tiny random Qwen2 whose weights are drawn wider than the usual fixture's
(``initializer_range`` 0.3 instead of 0.02): with 0.02 the tied output embeddings are so
small that every logit is about 0, the next-token distribution is uniform over the whole
vocabulary, and no adapter can move it in a handful of steps. The prompt is short (the
signature, a one-line system prompt) so each step takes milliseconds of compute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.pairs_fixtures import rich_dataset_dir
from tests.train_fixtures import tiny_model_dir

__all__ = ["rich_dataset_dir", "tiny_model_dir"]
SYSTEM = "Document it."
#: Every method test runs with these (16-bit LoRA on CPU, no mid-run eval or checkpoint).
BASE = {"device": "cpu", "bits": 16, "max_length": 256, "batch_size": 4, "grad_accum": 1,
        "warmup": 0, "eval_steps": -1, "save_steps": -1, "early_stopping_patience": 0,
        "logging_steps": 1, "eval_limit": 0, "gradient_checkpointing": False,
        "eval_split": ""}  # fmt: skip


def build_sharp_model(dest: Path, tokenizer_dir: Path, seed: int = 0, hidden: int = 64) -> Path:
    """A random Qwen2ForCausalLM with wide initial weights (see the module docstring)."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = Qwen2Config(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, tie_word_embeddings=True,
                         eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
                         pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
                         bos_token_id=None, initializer_range=0.3)  # fmt: skip
    torch.manual_seed(seed)
    Qwen2ForCausalLM(config).save_pretrained(str(dest))
    tok.save_pretrained(str(dest))
    return dest


@pytest.fixture(scope="session")
def sharp_model(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The policy's base model (its tokenizer is the tiny fixture's)."""
    return build_sharp_model(tmp_path_factory.mktemp("sharp") / "model", tiny_model_dir)


@pytest.fixture(scope="session")
def sft_run(sharp_model: Path, rich_dataset_dir: Path, tmp_path_factory) -> Path:
    """A real two-step `corpus train` run on the sharp model: the SFT adapter to start from."""
    from pipelines.train.config import load_config
    from pipelines.train.run import train

    out = tmp_path_factory.mktemp("sft") / "run"
    cfg = load_config("tiny", overrides={**BASE, "model": str(sharp_model),
                                         "dataset": str(rich_dataset_dir), "output_dir": str(out),
                                         "max_steps": 2, "lora_r": 8, "prompt_input": "signature",
                                         "system_prompt": SYSTEM, "learning_rate": 1e-3})  # fmt: skip
    train(cfg)
    return out


@pytest.fixture(scope="session")
def sig_pairs(rich_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`corpus pairs` of the rich dataset with the SFT run's prompt (signature, short system)."""
    from corpus.prompt import PromptSpec
    from pipelines.pairs.run import PairsConfig, make_pairs

    out = tmp_path_factory.mktemp("sigpairs") / "pairs"
    spec = PromptSpec(input="signature", system=SYSTEM)
    make_pairs(PairsConfig(data=str(rich_dataset_dir), out=out, spec=spec))
    return out


def toy_rows(n: int = 8) -> list[dict[str, Any]]:
    """A separable preference set: every chosen doc is one sentence, every rejected doc
    another, so a policy can learn to prefer the one in a few steps."""
    rows = []
    for i in range(n):
        prompt = [{"role": "system", "content": SYSTEM},
                  {"role": "user", "content": f"pub fn f{i}(x: u32) -> u32"}]  # fmt: skip
        rows.append({"id": f"toy{i}", "repo": "acme/widgets", "split": "train",
                     "rejection": "neighbour", "detail": "", "source_id": None, "prompt": prompt,
                     "chosen": [{"role": "assistant", "content": "/// Returns `x` doubled."}],
                     "rejected": [{"role": "assistant", "content": "/// Opens the file."}]})  # fmt: skip
    return rows


@pytest.fixture(scope="session")
def toy_pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`toy_rows` as a pairs folder (preferences/ only: no KTO view)."""
    import pyarrow as pa

    from corpus.store import write_parquet
    from pipelines.pairs.store import _schemas

    out = tmp_path_factory.mktemp("toy") / "pairs"
    schema, _ = _schemas()
    (out / "preferences").mkdir(parents=True)
    write_parquet(out / "preferences" / "train-00000-of-00001.parquet",
                  pa.Table.from_pylist(toy_rows(), schema))  # fmt: skip
    return out

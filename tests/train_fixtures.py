"""A tiny random Qwen2 with a locally trained ChatML tokenizer, and a small corpus dataset.

Real transformers/peft/bitsandbytes run on these; only the sizes are tiny (hidden 64, 2 layers,
4 heads, 2 KV heads, ~2k vocab) so a CPU step takes milliseconds. Import the fixtures into a
test module (``from tests.train_fixtures import tiny_model_dir, ...``); they are session-scoped.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.records_factory import make_dataset_dir, make_record

# Qwen2.5's ChatML template without the tool-calling branches.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if loop.first and message['role'] != 'system' %}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def dataset_records(n: int = 48) -> list[dict]:
    """Documented records in train/validation, plus ones the trainer must skip."""
    recs = [make_record(i, split="train" if i % 6 else "validation") for i in range(n)]
    recs.append(make_record(n, split="train", doc=None, doc_summary=None))  # undocumented
    recs.append(make_record(n + 1, split="train", is_test=True, test_reason="cfg_test"))
    recs.append(make_record(n + 2, split="test"))
    return recs


def build_tokenizer(dest: Path) -> Path:
    """Train a byte-level BPE (vocab ~2k) on corpus-like text and save it with the template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from corpus.prompt import SYSTEM_PROMPT, PromptSpec, code_block, doc_as_comment, user_prompt

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2048,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    texts = [SYSTEM_PROMPT, "system user assistant"]
    for r in dataset_records(200):
        texts += [user_prompt(code_block(r, PromptSpec(input=i), len)) for i in
                  ("signature", "context", "source")]  # fmt: skip
        texts.append(doc_as_comment(r["doc"] or ""))
    # Varied identifiers so the BPE reaches ~2k merges (like real code, many distinct names).
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz_"
    texts += [
        " ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(40))
        for _ in range(400)
    ]
    tok.train_from_iterator(texts * 3, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHAT_TEMPLATE,
    )
    fast.save_pretrained(str(dest))
    return dest


def build_model(dest: Path, tokenizer_dir: Path, seed: int = 0) -> Path:
    """A random Qwen2ForCausalLM (hidden 64, 2 layers, 4 heads, 2 KV heads) + its tokenizer."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.save_pretrained(str(dest))
    tok.save_pretrained(str(dest))
    return dest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local model directory: config.json, safetensors weights, tokenizer with ChatML."""
    root = tmp_path_factory.mktemp("tiny_qwen")
    build_tokenizer(root / "tok")
    return build_model(root / "model", root / "tok")


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus dataset folder (data/*.parquet + stats.json) of synthetic records."""
    return make_dataset_dir(tmp_path_factory.mktemp("dataset") / "ds", dataset_records())

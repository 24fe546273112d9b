"""Model shapes for the memory plan: read from config.json, or built in for the four tiers.

The shapes of the four Qwen2.5-Coder Instruct sizes are shipped here so ``corpus train plan``
works offline; any other model is read from its local ``config.json`` (or, online, the Hub's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError


@dataclass(frozen=True)
class ModelShape:
    """What the memory plan needs from a decoder-only transformer's config."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    intermediate_size: int
    tie_word_embeddings: bool
    attention_bias: bool = True  # Qwen2 has q/k/v biases

    def qwen2_config(self, **overrides: Any) -> Any:
        """A transformers ``Qwen2Config`` of this shape (random weights of the real size, for
        benchmarks: no pretrained weights are needed to time or size a step)."""
        from transformers import Qwen2Config

        fields = {k: getattr(self, k) for k in ("hidden_size", "num_hidden_layers",
                  "num_attention_heads", "num_key_value_heads", "vocab_size",
                  "intermediate_size", "tie_word_embeddings")}  # fmt: skip
        return Qwen2Config(**{**fields, **overrides})

    @property
    def head_dim(self) -> int:
        """Per-head width."""
        return self.hidden_size // self.num_attention_heads

    @property
    def kv_dim(self) -> int:
        """Width of the K (and of the V) projection."""
        return self.num_key_value_heads * self.head_dim

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """(in, out) of each projection in one decoder layer."""
        h, kv, i = self.hidden_size, self.kv_dim, self.intermediate_size
        return {
            "q_proj": (h, h),
            "k_proj": (h, kv),
            "v_proj": (h, kv),
            "o_proj": (h, h),
            "gate_proj": (h, i),
            "up_proj": (h, i),
            "down_proj": (i, h),
        }

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> ModelShape:
        """From a config.json mapping (a clear error naming the missing keys)."""
        keys = (
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "vocab_size",
            "intermediate_size",
        )
        missing = [k for k in keys if k not in cfg]
        if missing:
            raise BadInputError(f"model config lacks {', '.join(missing)}")
        return cls(
            hidden_size=int(cfg["hidden_size"]),
            num_hidden_layers=int(cfg["num_hidden_layers"]),
            num_attention_heads=int(cfg["num_attention_heads"]),
            num_key_value_heads=int(cfg.get("num_key_value_heads") or cfg["num_attention_heads"]),
            vocab_size=int(cfg["vocab_size"]),
            intermediate_size=int(cfg["intermediate_size"]),
            tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            attention_bias=bool(cfg.get("attention_bias", cfg.get("model_type") == "qwen2")),
        )


# From the models' config.json on the Hub (Qwen/Qwen2.5-Coder-*-Instruct).
BUILTIN: dict[str, ModelShape] = {
    "Qwen/Qwen2.5-Coder-0.5B-Instruct": ModelShape(896, 24, 14, 2, 151936, 4864, True),
    "Qwen/Qwen2.5-Coder-1.5B-Instruct": ModelShape(1536, 28, 12, 2, 151936, 8960, True),
    "Qwen/Qwen2.5-Coder-7B-Instruct": ModelShape(3584, 28, 28, 4, 152064, 18944, False),
    "Qwen/Qwen2.5-Coder-32B-Instruct": ModelShape(5120, 64, 40, 8, 152064, 27648, False),
}


def resolve_shape(model: str) -> ModelShape:
    """Shape of ``model``: a local dir's config.json, a built-in tier, or the Hub's config.json."""
    path = Path(model).expanduser()
    if path.is_dir():
        f = path / "config.json"
        if not f.is_file():
            raise BadInputError(f"{model}: no config.json in this directory")
        try:
            return ModelShape.from_config(json.loads(f.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{f}: not valid JSON ({exc})") from exc
    if path.is_file() and path.name.endswith(".json"):
        return ModelShape.from_config(json.loads(path.read_text(encoding="utf-8")))
    # The base and the instruct models share their shapes.
    key = model if model in BUILTIN else model.removesuffix("-Instruct") + "-Instruct"
    if key in BUILTIN:
        return BUILTIN[key]
    try:
        from huggingface_hub import hf_hub_download

        f = Path(hf_hub_download(model, "config.json"))
    except Exception as exc:
        raise BadInputError(
            f"{model}: not a local model directory, not a built-in tier "
            f"({', '.join(BUILTIN)}), and its config.json could not be fetched ({exc})"
        ) from exc
    return ModelShape.from_config(json.loads(f.read_text(encoding="utf-8")))

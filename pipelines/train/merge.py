"""Merge an adapter (LoRA, DoRA, LoHa or LoKr) into its base and save 16-bit safetensors.

A 4-bit (QLoRA) run can be merged two ways, and the command says which it did:

- ``original`` (default), *dequantize-then-merge*: the base is reloaded from its original
  16-bit weights and the adapter merged into it: ``W + dW``. Merging into the NF4 base itself
  would requantise ``W + dW`` to 4 bits (on the tiny test model that error is as large as the
  adapter's whole effect), so the 4-bit base is never the merge target.
- ``dequantized``: the base is loaded in NF4 exactly as it was trained, every 4-bit layer is
  dequantised to 16 bits, and the adapter merged into that: ``deq(NF4(W)) + dW``, the very
  model the adapter was trained and evaluated with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.store import swap_dir

DTYPES = ("bfloat16", "float16", "float32")
BASE_WEIGHTS = ("original", "dequantized")
#: config.json keys that must agree between an adapter's base and the base it is loaded on.
SHAPE_KEYS = (
    "model_type",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "vocab_size",
)


def adapter_base(adapter: Path) -> str:
    """The base model id/dir an adapter was trained on (from adapter_config.json)."""
    from corpus.store import read_json

    f = Path(adapter) / "adapter_config.json"
    if not f.is_file():
        raise BadInputError(f"{adapter}: not an adapter folder (no adapter_config.json)")
    base = read_json(f).get("base_model_name_or_path")
    if not base:
        raise BadInputError(f"{f}: no base_model_name_or_path; pass --model")
    return str(base)


def adapter_kind(adapter: Path) -> str:
    """``lora``, ``dora``, ``loha`` or ``lokr``, from the adapter's adapter_config.json."""
    from corpus.store import read_json

    cfg = read_json(Path(adapter) / "adapter_config.json")
    kind = str(cfg.get("peft_type", "LORA")).lower()
    if kind == "lora" and cfg.get("use_dora"):
        return "dora"
    return kind


def adapter_rank(adapter: Path) -> int:
    """The adapter's largest rank r (its ``r`` and any per-module ``rank_pattern``)."""
    from corpus.store import read_json

    cfg = read_json(Path(adapter) / "adapter_config.json")
    return max([int(cfg.get("r") or 0), *map(int, (cfg.get("rank_pattern") or {}).values())])


def _local_config(model: str) -> dict[str, Any] | None:
    """A model's config.json when it is on this machine (a folder), else None (no network)."""
    import json

    f = Path(model).expanduser() / "config.json"
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def check_same_base(adapter: Path, base: str) -> None:
    """Refuse ``base`` when its shape differs from the model ``adapter`` was trained on.

    Compared from both config.json files when both are local; loading still catches a
    mismatch the configs could not show (see :func:`attach_adapter`).
    """
    trained_on = adapter_base(adapter)
    if trained_on == base:
        return
    a, b = _local_config(trained_on), _local_config(base)
    if a is None or b is None:
        return
    diff = [k for k in SHAPE_KEYS if a.get(k) != b.get(k)]
    if diff:
        shown = ", ".join(f"{k} {a.get(k)} vs {b.get(k)}" for k in diff[:3])
        raise BadInputError(
            f"adapter {adapter} was trained on another base model ({trained_on}), not {base}: "
            f"{shown}"
        )


def attach_adapter(model: Any, adapter: Path, name: str = "default") -> Any:
    """``PeftModel.from_pretrained`` (or ``load_adapter`` on a PeftModel), with a shape
    mismatch (an adapter from another base model) reported as bad input."""
    from peft import PeftModel

    try:
        if isinstance(model, PeftModel):
            model.load_adapter(str(adapter), adapter_name=name)
            return model
        return PeftModel.from_pretrained(model, str(adapter), adapter_name=name)
    except RuntimeError as exc:
        if "size mismatch" not in str(exc):
            raise
        raise BadInputError(
            f"adapter {adapter} does not fit this base model (its weights have other shapes: "
            "it was trained on another base)"
        ) from exc


def load_adapter_model(adapter: Path, *, model: str | None, dtype: str, device: str) -> Any:
    """Base (unquantised, ``dtype``) + the adapter, in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM

    from pipelines.train.model import load_error

    base_id = model or adapter_base(adapter)
    check_same_base(adapter, base_id)
    try:
        base = AutoModelForCausalLM.from_pretrained(
            base_id, dtype=getattr(torch, dtype), device_map={"": device}
        )
    except OSError as exc:
        raise load_error(base_id, "base model", exc) from exc
    return attach_adapter(base, adapter).eval()


def load_dequantized_base(base_id: str, *, dtype: str, device: str) -> Any:
    """The base loaded in NF4 as trained, then every 4-bit layer dequantised (transformers'
    ``dequantize``) and cast to ``dtype``."""
    import torch

    from pipelines.train.model import load_base

    quantized = load_base(base_id, bits=4, device=device)
    base = quantized.dequantize().to(getattr(torch, dtype))
    base.config.use_cache = True  # load_base turns the cache off for training
    return base


@dataclass(frozen=True)
class MergeResult:
    """Where the merged model went and how it was made (one sentence for the user)."""

    path: Path
    how: str


def _trained_bits(adapter: Path) -> int:
    from pipelines.train.inference import adapter_config

    cfg = adapter_config(adapter)
    return cfg.bits if cfg is not None else 16


def merged_model(
    adapter: Path, *, model: str | None, dtype: str, device: str, base_weights: str
) -> tuple[Any, str]:
    """(the merged transformers model, how it was merged)."""
    if dtype not in DTYPES:
        raise BadInputError(f"--dtype {dtype}: choose one of {', '.join(DTYPES)}")
    if base_weights not in BASE_WEIGHTS:
        raise BadInputError(f"--base-weights {base_weights}: choose one of original, dequantized")
    bits = _trained_bits(adapter)
    if base_weights == "dequantized" and bits != 4:
        raise BadInputError(
            f"--base-weights dequantized: {adapter} was trained at {bits} bits, not 4; "
            "its base has nothing to dequantize"
        )
    kind = adapter_kind(adapter)
    if base_weights == "dequantized":
        base_id = model or adapter_base(adapter)
        check_same_base(adapter, base_id)
        base = load_dequantized_base(base_id, dtype=dtype, device=device)
        peft_model = attach_adapter(base, adapter).eval()
        how = (
            f"4-bit run: loaded the base in NF4 as trained, dequantized it to {dtype} and "
            f"merged the {kind} adapter into it (deq(NF4(W)) + dW)"
        )
    else:
        peft_model = load_adapter_model(adapter, model=model, dtype=dtype, device=device)
        how = f"merged the {kind} adapter into the base in {dtype}"
        if bits == 4:
            how = (
                f"4-bit run, dequantize-then-merge: reloaded the base from its original "
                f"16-bit weights ({dtype}) and merged the {kind} adapter into it (W + dW; "
                "--base-weights dequantized merges into the NF4 weights it trained "
                "against)"
            )
    return peft_model.merge_and_unload(), how


def tokenizer_source(adapter: Path, model: str | None) -> str:
    """Where the adapter's tokenizer lives: saved beside it, else the base's."""
    if (Path(adapter) / "tokenizer_config.json").exists():
        return str(adapter)
    return model or adapter_base(adapter)


def merge_adapter(
    adapter: Path,
    out: Path,
    *,
    model: str | None = None,
    dtype: str = "bfloat16",
    device: str = "cpu",
    base_weights: str = "original",
) -> MergeResult:
    """Write the merged model (safetensors + config + tokenizer) to ``out``, swapped in whole."""
    from pipelines.train.model import load_tokenizer

    merged, how = merged_model(
        adapter, model=model, dtype=dtype, device=device, base_weights=base_weights
    )
    tokenizer = load_tokenizer(tokenizer_source(adapter, model))

    def fill(tmp: Path) -> None:
        merged.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))

    swap_dir(Path(out), fill)
    return MergeResult(Path(out), how)

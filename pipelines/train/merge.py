"""Merge a LoRA adapter into its base, reloaded in 16-bit (merging into NF4 would stay 4-bit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.store import swap_dir

DTYPES = ("bfloat16", "float16", "float32")


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


def load_adapter_model(adapter: Path, *, model: str | None, dtype: str, device: str) -> Any:
    """Base (unquantised, ``dtype``) + the adapter, in eval mode."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base_id = model or adapter_base(adapter)
    base = AutoModelForCausalLM.from_pretrained(
        base_id, dtype=getattr(torch, dtype), device_map={"": device}
    )
    return PeftModel.from_pretrained(base, str(adapter)).eval()


def merge_adapter(
    adapter: Path,
    out: Path,
    *,
    model: str | None = None,
    dtype: str = "bfloat16",
    device: str = "cpu",
) -> Path:
    """Write the merged model (safetensors + config + tokenizer) to ``out``, swapped in whole."""
    from pipelines.train.model import load_tokenizer

    if dtype not in DTYPES:
        raise BadInputError(f"--dtype {dtype}: choose one of {', '.join(DTYPES)}")
    peft_model = load_adapter_model(adapter, model=model, dtype=dtype, device=device)
    merged = peft_model.merge_and_unload()
    tok_src = (
        adapter
        if (Path(adapter) / "tokenizer_config.json").exists()
        else (model or adapter_base(adapter))
    )
    tokenizer = load_tokenizer(str(tok_src))

    def fill(tmp: Path) -> None:
        merged.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))

    swap_dir(Path(out), fill)
    return Path(out)

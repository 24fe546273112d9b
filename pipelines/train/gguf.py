"""GGUF for llama.cpp and Ollama, written with llama.cpp's own Python library (``gguf``).

The merged model: the metadata llama.cpp and transformers' GGUF loader read (Qwen2's
hyper-parameters, rope theta — Qwen2.5 needs 1e6, not the 1e4 a reader assumes without it),
the byte-level BPE vocabulary with each token's type (special added tokens are CONTROL, the
rows past the tokenizer are ``[PADn]``, as llama.cpp's converter does it), the merges, the
special token ids and the chat template (``gguf.SpecialVocab``), and every tensor under the
name ``gguf.get_tensor_name_map`` gives it. 2-D tensors in the chosen type (``q8_0`` through
``gguf.quants``; a tensor whose rows are not a multiple of the block falls back to f16), 1-D
tensors (norms, biases) in f32. k-quants (Q4_K_M, ...) have no Python quantiser: they are
made from an f16 file by llama.cpp's ``llama-quantize`` when it is on PATH.

The adapter alone (``--lora-only``, for llama.cpp's ``--lora`` / Ollama's ``ADAPTER``):
``general.type = adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``, and per module
``<base tensor>.lora_a`` (r x in) / ``.lora_b`` (out x r). llama.cpp scales by alpha / r, so an
rsLoRA adapter is written with alpha * sqrt(r). Plain LoRA only: DoRA's magnitudes, LoHa and
LoKr have no GGUF adapter form (export the merged model instead).
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError, CorpusError

#: outtype -> (general.file_type, tensor type of 2-D weights), written by the gguf library.
LIBRARY_OUTTYPES = ("f32", "f16", "bf16", "q8_0")
#: k-quants (and the legacy 4/5-bit types) llama-quantize makes from an f16 file.
QUANTIZE_OUTTYPES = (
    "q2_k",
    "q3_k_m",
    "q4_0",
    "q4_k_s",
    "q4_k_m",
    "q5_0",
    "q5_k_s",
    "q5_k_m",
    "q6_k",
)
LORA_OUTTYPES = LIBRARY_OUTTYPES
QUANTIZE_TOOLS = ("llama-quantize", "quantize")
QUANTIZE_HINT = (
    "install llama.cpp (`brew install llama.cpp`, or build it: https://github.com/ggml-org/"
    "llama.cpp, `cmake -B build && cmake --build build --target llama-quantize`) and put "
    "llama-quantize on PATH, or export --outtype q8_0 / f16 instead"
)


def _types(outtype: str) -> tuple[Any, Any]:
    import gguf

    return {
        "f32": (gguf.LlamaFileType.ALL_F32, gguf.GGMLQuantizationType.F32),
        "f16": (gguf.LlamaFileType.MOSTLY_F16, gguf.GGMLQuantizationType.F16),
        "bf16": (gguf.LlamaFileType.MOSTLY_BF16, gguf.GGMLQuantizationType.BF16),
        "q8_0": (gguf.LlamaFileType.MOSTLY_Q8_0, gguf.GGMLQuantizationType.Q8_0),
    }[outtype]


def find_quantize_tool() -> str | None:
    """llama.cpp's quantize tool on PATH (``llama-quantize``, or its old name ``quantize``)."""
    for name in QUANTIZE_TOOLS:
        found = shutil.which(name)
        if found:
            return found
    return None


def check_outtype(outtype: str, *, lora_only: bool) -> str | None:
    """Refuse what cannot be written, before any model is loaded; returns the quantize tool
    a k-quant needs (None for types the library writes)."""
    if lora_only:
        if outtype not in LORA_OUTTYPES:
            raise BadInputError(
                f"--outtype {outtype}: a LoRA GGUF is written as {', '.join(LORA_OUTTYPES)} "
                "(llama.cpp applies the adapter to any base, quantised or not)"
            )
        return None
    if outtype in LIBRARY_OUTTYPES:
        return None
    if outtype not in QUANTIZE_OUTTYPES:
        raise BadInputError(
            f"--outtype {outtype}: the gguf library writes {', '.join(LIBRARY_OUTTYPES)}; "
            f"llama-quantize makes {', '.join(QUANTIZE_OUTTYPES)}"
        )
    tool = find_quantize_tool()
    if tool is None:
        raise BadInputError(
            f"--outtype {outtype} needs llama.cpp's llama-quantize, which is not on PATH: "
            + QUANTIZE_HINT
        )
    return tool


def check_architecture(config: Any) -> None:
    """Only Qwen2 (Qwen2.5-Coder) is mapped here."""
    if getattr(config, "model_type", None) != "qwen2":
        raise BadInputError(
            f"GGUF export supports Qwen2 models (Qwen2.5-Coder); this one is "
            f"{getattr(config, 'model_type', 'unknown')!r}"
        )


def tokens_and_types(tokenizer: Any, vocab_size: int) -> tuple[list[str], list[int]]:
    """Every token id up to the embedding's rows, with its GGUF token type: CONTROL for
    special added tokens, USER_DEFINED for other added ones, NORMAL, UNUSED ``[PADn]`` rows."""
    import gguf

    reverse = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.get_added_vocab()
    decoder = tokenizer.added_tokens_decoder
    tokens: list[str] = []
    types: list[int] = []
    for i in range(vocab_size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        tok = reverse[i]
        if tok in added:
            special = decoder[i].special or (tok.startswith("<|") and tok.endswith("|>"))
            types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(tok)
    return tokens, types


def _hparams(w: Any, cfg: Any, outtype: str, name: str) -> None:
    import gguf

    rope = (getattr(cfg, "rope_parameters", None) or {}).get("rope_theta")
    rope = rope or getattr(cfg, "rope_theta", None) or 1e6
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(name)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(float(rope))
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_file_type(_types(outtype)[0])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)


def _vocab(w: Any, tokenizer: Any, tok_dir: Path, vocab_size: int) -> None:
    import gguf

    tokens, types = tokens_and_types(tokenizer, vocab_size)
    w.add_tokenizer_model("gpt2")  # byte-level BPE
    w.add_tokenizer_pre("qwen2")  # Qwen2's pre-tokenizer split (digits one at a time)
    w.add_token_list(tokens)
    w.add_token_types(types)
    # merges, eos/pad ids and the chat template, read from the tokenizer files
    gguf.SpecialVocab(tok_dir, load_merges=True, n_vocab=len(tokens)).add_to_gguf(w)


def add_weight(w: Any, name: str, data: Any, outtype: str) -> str:
    """One tensor: 1-D in f32, 2-D in ``outtype`` (f16 where its rows do not fill whole
    quantisation blocks). Returns the type written."""
    import gguf
    import numpy as np

    qtype = _types(outtype)[1]
    if data.ndim == 1 or qtype == gguf.GGMLQuantizationType.F32:
        w.add_tensor(name, np.ascontiguousarray(data, dtype=np.float32))
        return "f32"
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if qtype == gguf.GGMLQuantizationType.F16 or data.shape[-1] % block:
        w.add_tensor(name, data.astype(np.float16))
        return "f16"
    q = gguf.quants.quantize(np.ascontiguousarray(data, dtype=np.float32), qtype)
    w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)
    return outtype


def write_model_gguf(
    model: Any, tokenizer: Any, tok_dir: Path, dest: Path, outtype: str, name: str
) -> dict[str, int]:
    """The whole model as one GGUF file; returns how many tensors went out in each type."""
    import gguf

    cfg = model.config
    check_architecture(cfg)
    arch = gguf.MODEL_ARCH.QWEN2
    w = gguf.GGUFWriter(str(dest), gguf.MODEL_ARCH_NAMES[arch], use_temp_file=True)
    _hparams(w, cfg, outtype, name)
    _vocab(w, tokenizer, tok_dir, cfg.vocab_size)
    tmap = gguf.get_tensor_name_map(arch, cfg.num_hidden_layers)
    written: dict[str, int] = {}
    for hf_name, t in model.state_dict().items():
        if hf_name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue  # tied: no output.weight; readers reuse token_embd
        gg_name = tmap.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gg_name is None:
            raise CorpusError(f"no GGUF name for tensor {hf_name}")
        kind = add_weight(w, gg_name, t.detach().float().cpu().numpy(), outtype)
        written[kind] = written.get(kind, 0) + 1
    _finish(w)
    return written


def _finish(w: Any) -> None:
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def lora_alpha_for_gguf(adapter_cfg: dict[str, Any]) -> float:
    """The alpha llama.cpp must see: it scales by alpha / r, rsLoRA by alpha / sqrt(r)."""
    alpha = float(adapter_cfg["lora_alpha"])
    return alpha * math.sqrt(adapter_cfg["r"]) if adapter_cfg.get("use_rslora") else alpha


def check_lora_for_gguf(adapter: Path) -> dict[str, Any]:
    """The adapter's config, if llama.cpp can apply it as a LoRA; a clear refusal if not."""
    from corpus.store import read_json
    from pipelines.train.merge import adapter_kind

    kind = adapter_kind(adapter)
    if kind != "lora":
        raise BadInputError(
            f"{adapter} is a {kind} adapter: llama.cpp applies plain LoRA only; export the "
            "merged model instead (without --lora-only)"
        )
    cfg = read_json(Path(adapter) / "adapter_config.json")
    if cfg.get("rank_pattern") or cfg.get("alpha_pattern") or cfg.get("modules_to_save"):
        raise BadInputError(
            f"{adapter}: per-module ranks/alphas or modules_to_save have no LoRA GGUF form; "
            "export the merged model instead"
        )
    return cfg


def write_lora_gguf(adapter: Path, dest: Path, outtype: str, n_layers: int) -> int:
    """The adapter alone as a llama.cpp LoRA GGUF; returns the number of tensors."""
    import gguf
    from safetensors.numpy import load_file

    cfg = check_lora_for_gguf(adapter)
    tensors = load_file(str(Path(adapter) / "adapter_model.safetensors"))
    arch = gguf.MODEL_ARCH.QWEN2
    tmap = gguf.get_tensor_name_map(arch, n_layers)
    w = gguf.GGUFWriter(str(dest), gguf.MODEL_ARCH_NAMES[arch])
    w.add_type(gguf.GGUFType.ADAPTER)
    w.add_string(gguf.Keys.Adapter.TYPE, "lora")
    w.add_float32(gguf.Keys.Adapter.LORA_ALPHA, lora_alpha_for_gguf(cfg))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for name, t in sorted(tensors.items()):
        part = ".lora_A.weight" if ".lora_A." in name else ".lora_B.weight"
        if ".lora_A." not in name and ".lora_B." not in name:
            raise BadInputError(f"{adapter}: unexpected tensor {name} in a LoRA adapter")
        hf = name.removeprefix("base_model.model.").replace(part, ".weight")
        base = tmap.get_name(hf, try_suffixes=(".weight",))
        if base is None:
            raise BadInputError(f"{adapter}: no GGUF tensor for {hf}")
        add_weight(w, base + (".lora_a" if "lora_A" in part else ".lora_b"), t, outtype)
    _finish(w)
    return len(tensors)


def quantize_file(tool: str, src: Path, dest: Path, outtype: str) -> None:
    """``llama-quantize SRC DEST TYPE``; its own error text if it fails."""
    cmd = quantize_command(tool, src, dest, outtype)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not dest.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CorpusError(f"{Path(tool).name} failed (exit {proc.returncode}): {tail[0]}")


def quantize_command(tool: str, src: Path, dest: Path, outtype: str) -> list[str]:
    """The llama-quantize command line for one file."""
    return [tool, str(src), str(dest), outtype.upper()]

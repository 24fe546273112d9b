"""The base model (NF4 + double quantisation, or 16-bit), its tokenizer, and the LoRA wrapper."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.errors import BadInputError, CorpusError

if TYPE_CHECKING:
    import torch

    from pipelines.train.config import TrainConfig

ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP_MODULES = ("gate_proj", "up_proj", "down_proj")
TARGETS = {
    "attention": ATTENTION_MODULES,
    "mlp": MLP_MODULES,
    "all": ATTENTION_MODULES + MLP_MODULES,
}


def resolve_device(device: str) -> str:
    """``auto`` -> cuda when available, else cpu; ``cuda`` without a GPU is a clear error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInputError("device=cuda but no CUDA GPU is visible; use device=cpu or auto")
    return device


def compute_dtype(device: str) -> torch.dtype:
    """bf16 on GPU (QLoRA's compute dtype); fp32 on CPU, where bf16 matmuls are ~10x slower."""
    import torch

    return torch.bfloat16 if device == "cuda" else torch.float32


def optimizer_name(cfg: TrainConfig, device: str) -> str:
    """Paged AdamW (32-bit states) on GPU; plain AdamW on CPU, where paging has no meaning."""
    if cfg.optimizer != "auto":
        return cfg.optimizer
    return "paged_adamw_32bit" if device == "cuda" else "adamw_torch"


def _check_model_source(model: str, marker: str = "config.json") -> None:
    path = Path(model).expanduser()
    looks_local = model.startswith((".", "/", "~")) or path.exists()
    if looks_local and not (path / marker).is_file():
        raise BadInputError(f"{model}: not a model directory (no {marker})")


#: What to do when the Hub cannot be reached (the README: network errors exit 1).
OFFLINE_HINT = (
    "check the network, or pass --model DIR (a local model folder), or set HF_HUB_OFFLINE=1 to "
    "use only what the Hugging Face cache already holds"
)
_NETWORK_WORDS = ("couldn't connect", "connection", "timed out", "temporary failure", "offline")


def is_network_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the Hub being unreachable, not a bad model id."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ConnectionError | TimeoutError):
            return True
        if type(cur).__name__ in ("ConnectError", "ConnectTimeout", "ReadTimeout",
                                  "LocalEntryNotFoundError", "OfflineModeIsEnabled"):  # fmt: skip
            return True
        cur = cur.__cause__ or cur.__context__
    return any(word in str(exc).lower() for word in _NETWORK_WORDS)


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """The library's message as one short line (transformers' span several, with advice)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_error(model: str, what: str, exc: BaseException) -> CorpusError:
    """The error for a failed load, on one line: exit 1 with what to do when the Hub was
    unreachable (or the cache lacks it offline), exit 2 (bad input) otherwise."""
    import os

    if is_network_error(exc):
        if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
            return CorpusError(
                f"{model}: the {what} is not in the Hugging Face cache and HF_HUB_OFFLINE is "
                "set; pass --model DIR (a local model folder), or unset HF_HUB_OFFLINE to "
                "download it"
            )
        return CorpusError(
            f"{model}: cannot download the {what} from the Hub ({_one_line(exc)}); {OFFLINE_HINT}"
        )
    return BadInputError(f"{model}: cannot load the {what} ({_one_line(exc)})")


def load_tokenizer(model: str) -> Any:
    """The model's tokenizer, with a pad token and a chat template (required for ChatML)."""
    from transformers import AutoTokenizer

    _check_model_source(model, "tokenizer_config.json")
    try:
        tok = AutoTokenizer.from_pretrained(model)
    except OSError as exc:
        raise load_error(model, "tokenizer", exc) from exc
    if not getattr(tok, "chat_template", None):
        raise BadInputError(f"{model}: the tokenizer has no chat template (expected Qwen ChatML)")
    if tok.pad_token is None:
        # Qwen's own choice: pad with <|endoftext|>, never with <|im_end|> (that is the EOS turn).
        tok.pad_token = "<|endoftext|>" if "<|endoftext|>" in tok.get_vocab() else tok.eos_token
    return tok


def quantization_config(device: str) -> Any:
    """NF4 with double quantisation (the QLoRA recipe), computing in bf16 on GPU, fp32 on CPU."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype(device),
    )


def process_device(device: str) -> str:
    """This process's device: under `accelerate launch`/torchrun each rank owns one GPU.

    Mapping every rank to plain "cuda" would load all copies of the model onto GPU 0.
    """
    if device == "cuda":
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return device


def load_base(model: str, *, bits: int, device: str, attn_implementation: str = "sdpa") -> Any:
    """The base causal LM: 4-bit NF4 (bits=4) or in the compute dtype (bits=16)."""
    from transformers import AutoModelForCausalLM

    _check_model_source(model)
    kwargs: dict[str, Any] = {
        "dtype": compute_dtype(device),
        "device_map": {"": process_device(device)},
        "attn_implementation": attn_implementation,
    }
    if bits == 4:
        kwargs["quantization_config"] = quantization_config(device)
    try:
        base = AutoModelForCausalLM.from_pretrained(model, **kwargs)
    except OSError as exc:
        raise load_error(model, "model", exc) from exc
    base.config.use_cache = False  # no KV cache in training; also isolates packed sequences
    if bits == 4:
        keep_4bit_layers_trainable(base)
    return base


def keep_4bit_layers_trainable(model: Any) -> int:
    """Turn off bitsandbytes' in-place repacking of NF4 weights for CPU inference.

    On a CPU with avx512-bf16, the first eval-mode forward without grad repacks each
    ``Linear4bit`` weight for an inference kernel, and nothing undoes it on ``model.train()``:
    the next training step then crashes in layers with a bias ("a view of a leaf Variable that
    requires grad is being used in an in-place operation") and gets no gradient through the
    others. Evaluating mid-run is what triggers it. Returns how many layers were seen.
    """
    n = 0
    for m in model.modules():
        if hasattr(m, "support_avx512bf16_for_cpu"):
            m.support_avx512bf16_for_cpu = False  # the gate Linear4bit.forward checks
            n += 1
    return n


def lora_config(cfg: TrainConfig) -> Any:
    """The peft config of this recipe's adapter: LoraConfig (lora, dora), LoHaConfig, LoKrConfig.

    LoHa and LoKr scale by ``alpha / r`` like LoRA and have no input dropout (their
    ``rank_dropout``/``module_dropout`` drop ranks or whole modules, a different regulariser,
    left at peft's default 0).
    """
    targets = list(TARGETS[cfg.lora_targets])
    if cfg.adapter in ("loha", "lokr"):
        from peft import LoHaConfig, LoKrConfig

        cls = LoHaConfig if cfg.adapter == "loha" else LoKrConfig
        return cls(r=cfg.lora_r, alpha=cfg.lora_alpha, target_modules=targets,
                   task_type="CAUSAL_LM")  # fmt: skip
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=targets,
        use_rslora=cfg.use_rslora,
        use_dora=cfg.adapter == "dora",
        bias="none",
        task_type="CAUSAL_LM",
    )


def build_model(cfg: TrainConfig, device: str) -> Any:
    """Base model + fresh LoRA adapters, ready for training (only adapters trainable)."""
    import torch
    from peft import get_peft_model

    base = load_base(
        cfg.model, bits=cfg.bits, device=device, attn_implementation=cfg.attn_implementation
    )
    if cfg.gradient_checkpointing:
        # Non-reentrant checkpointing needs no input grads, and works with frozen embeddings.
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    torch.manual_seed(cfg.seed)  # LoRA A init draws from the global generator
    return get_peft_model(base, lora_config(cfg))


def count_params(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts (4-bit weights counted as stored elements x 2)."""
    trainable = total = 0
    for p in model.parameters():
        n = p.numel()
        if p.__class__.__name__ == "Params4bit":
            n *= 2  # two 4-bit values per stored uint8
        total += n
        if p.requires_grad:
            trainable += n
    return trainable, total

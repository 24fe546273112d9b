"""Memory plan of a (Q)LoRA run, from the model's real shape — not guessed from a parameter count.

Terms (bytes):
- weights: the 7 projections per layer in NF4 (0.5 B/param + 8-bit block scales per 64 weights
  + fp32 second-level scales per 256 blocks: double quantisation) or in the compute dtype;
  embeddings, lm_head (when untied), norms and q/k/v biases in the compute dtype.
- adapters: per targeted projection and layer, r*(in+out) for LoRA (+ a magnitude vector with
  DoRA), twice that for LoHa, the Kronecker factors for LoKr (`module_adapter_params`), fp32.
- gradients: one fp32 value per adapter parameter.
- optimizer: AdamW keeps two fp32 moments per adapter parameter (paged or not).
- activations: with gradient checkpointing, each layer's input (T*h) is kept and one layer is
  recomputed at a time; without it every layer's saved tensors are kept. The loss adds the
  logits (T*V in the compute dtype) plus fp32 T*V tensors (log-softmax, its gradient, and the
  upcast of 16-bit logits), which dominates for Qwen's 152k vocabulary. T = batch * sequence length.
Activation coefficients were counted from Qwen2's decoder layer with LoRA on every projection
and checked against torch's CPU allocator (profiler memory events) on a tiny Qwen2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from corpus.errors import BadInputError
from pipelines.train.arch import ModelShape
from pipelines.train.model import TARGETS

GIB = 2**30
NF4_BLOCK = 64
DQ_BLOCK = 256
# CUDA context, cuBLAS workspace and allocator fragmentation: a fixed reserve on GPU.
GPU_OVERHEAD_BYTES = int(0.6 * GIB)


@dataclass(frozen=True)
class MemoryPlan:
    """One plan, in bytes, with the inputs that produced it."""

    model: str
    bits: int
    lora_r: int
    adapter: str
    batch_size: int
    seq_len: int
    compute_bytes: int
    gradient_checkpointing: bool
    weights: int
    adapters: int
    gradients: int
    optimizer: int
    activations: int
    overhead: int
    trainable_params: int

    @property
    def total(self) -> int:
        """Everything, including the fixed GPU overhead."""
        return (
            self.weights
            + self.adapters
            + self.gradients
            + self.optimizer
            + self.activations
            + self.overhead
        )

    def to_dict(self) -> dict:
        """Plain dict (with the total) for JSON output."""
        return {**asdict(self), "total": self.total}


def weight_bytes(shape: ModelShape, bits: int, compute_bytes: int) -> int:
    """Bytes of the base model's weights as loaded (NF4 + double quant, or 16/32-bit)."""
    per_layer = sum(i * o for i, o in shape.linear_shapes().values())
    n_lin = per_layer * shape.num_hidden_layers
    if bits == 4:
        blocks = n_lin // NF4_BLOCK
        lin = n_lin // 2 + blocks + (blocks // DQ_BLOCK) * 4 * 2  # codes, 8-bit scales, fp32 stats
    else:
        lin = n_lin * compute_bytes
    h, kv = shape.hidden_size, shape.kv_dim
    bias = (h + 2 * kv) * shape.num_hidden_layers if shape.attention_bias else 0
    norms = (2 * shape.num_hidden_layers + 1) * h
    embed = shape.vocab_size * h * (1 if shape.tie_word_embeddings else 2)
    return lin + (bias + norms + embed) * compute_bytes


def module_adapter_params(adapter: str, r: int, n_in: int, n_out: int) -> int:
    """Trainable parameters peft gives one ``n_in -> n_out`` linear layer for ``adapter``.

    lora: A (r, in) + B (out, r); dora: the same plus a magnitude per output; loha: two such
    pairs (their products are multiplied elementwise); lokr: ``W1 kron W2`` with both dimensions
    factorised as peft does (``factorization``), W1 full and W2 low-rank (r) unless r is at least
    half its larger side.
    """
    if adapter in ("lora", "dora"):
        return r * (n_in + n_out) + (n_out if adapter == "dora" else 0)
    if adapter == "loha":
        return 2 * r * (n_in + n_out)
    if adapter == "lokr":
        from peft.tuners.lokr.layer import factorization  # the very split peft will make

        in_m, in_n = factorization(n_in, -1)
        out_l, out_k = factorization(n_out, -1)
        w2 = r * (out_k + in_n) if r < max(out_k, in_n) / 2 else out_k * in_n
        return out_l * in_m + w2
    raise ValueError(f"unknown adapter type {adapter!r}")


def adapter_params(
    shape: ModelShape, r: int, targets: str = "all", dora: bool = False, adapter: str = ""
) -> int:
    """Trainable adapter parameters of the whole model (``dora=True``: the old spelling)."""
    kind = adapter or ("dora" if dora else "lora")
    lin = shape.linear_shapes()
    per_layer = sum(module_adapter_params(kind, r, *lin[m]) for m in TARGETS[targets])
    return per_layer * shape.num_hidden_layers


#: Weight-sized (in x out) tensors LoHa/LoKr build in each forward and keep for backward:
#: LoHa the two products and their Hadamard product; LoKr the Kronecker product.
MATERIALISED_DELTAS = {"lora": 0, "dora": 0, "loha": 3, "lokr": 1}


def activation_bytes(
    shape: ModelShape,
    *,
    tokens: int,
    compute_bytes: int,
    gradient_checkpointing: bool,
    r: int,
    targets: str = "all",
    adapter: str = "lora",
) -> int:
    """Peak activation memory of one forward+backward over ``tokens`` tokens.

    LoHa and LoKr also materialise weight-sized delta tensors in every adapted layer (see
    ``MATERIALISED_DELTAS``); DoRA's weight norm is one vector per module and is ignored.
    """
    h, kv, i, cb = shape.hidden_size, shape.kv_dim, shape.intermediate_size, compute_bytes
    lin = shape.linear_shapes()
    deltas = MATERIALISED_DELTAS[adapter] * sum(lin[m][0] * lin[m][1] for m in TARGETS[targets])
    lora_in = sum(shape.linear_shapes()[m][0] for m in TARGETS[targets])
    # Saved per token by one decoder layer: norms, q/k/v + RoPE copies, attention out, MLP
    # gate/up/act/product (coefficients fitted on a profiled Qwen2 layer), plus LoRA's dropout
    # outputs with their 1-byte masks and the r-wide outputs of each A matrix.
    layer = (
        cb * (10 * h + 4 * kv + 5 * i // 2) + lora_in * (cb + 1) + cb * r * len(TARGETS[targets])
    )
    # The loss: logits in the compute dtype, log-softmax and its gradient in fp32, plus the fp32
    # upcast of 16-bit logits (a no-op when computing in fp32).
    logits = shape.vocab_size * (cb + 8 + (4 if cb < 4 else 0))
    if gradient_checkpointing:
        kept = shape.num_hidden_layers * h * cb
        return tokens * (kept + max(logits, layer + 2 * h * cb)) + deltas * cb
    every_layer = shape.num_hidden_layers * deltas * cb
    return tokens * (shape.num_hidden_layers * layer + logits) + every_layer


def plan_memory(
    shape: ModelShape,
    *,
    model: str = "",
    bits: int = 4,
    lora_r: int = 64,
    batch_size: int = 1,
    seq_len: int = 2048,
    gpu: bool = True,
    gradient_checkpointing: bool = True,
    targets: str = "all",
    adapter: str = "lora",
) -> MemoryPlan:
    """The memory plan of a run (GPU: bf16 compute + fixed overhead; CPU: fp32 compute)."""
    cb = 2 if gpu else 4
    n = adapter_params(shape, lora_r, targets, adapter=adapter)
    return MemoryPlan(
        model=model,
        bits=bits,
        lora_r=lora_r,
        adapter=adapter,
        batch_size=batch_size,
        seq_len=seq_len,
        compute_bytes=cb,
        gradient_checkpointing=gradient_checkpointing,
        weights=weight_bytes(shape, bits, cb),
        adapters=n * 4,
        gradients=n * 4,
        optimizer=n * 8,
        activations=activation_bytes(
            shape,
            tokens=batch_size * seq_len,
            compute_bytes=cb,
            gradient_checkpointing=gradient_checkpointing,
            r=lora_r,
            targets=targets,
            adapter=adapter,
        ),
        overhead=GPU_OVERHEAD_BYTES if gpu else 0,
        trainable_params=n,
    )


def advice(plan: MemoryPlan, shape: ModelShape, vram_gib: float) -> list[str]:
    """What to change so the plan fits ``vram_gib`` (empty if it already fits)."""
    budget = vram_gib * GIB
    if plan.total <= budget:
        return []

    def fits(**kw: object) -> MemoryPlan:
        base = {
            "model": plan.model,
            "bits": plan.bits,
            "lora_r": plan.lora_r,
            "batch_size": plan.batch_size,
            "seq_len": plan.seq_len,
            "gpu": plan.overhead > 0,
            "gradient_checkpointing": plan.gradient_checkpointing,
            "adapter": plan.adapter,
        }
        base.update(kw)
        return plan_memory(shape, **base)  # type: ignore[arg-type]

    low = 4 if plan.adapter in ("lora", "dora") else 16  # LoHa/LoKr cannot train on NF4
    tips: list[str] = []
    if not plan.gradient_checkpointing and fits(gradient_checkpointing=True).total <= budget:
        tips.append("turn on gradient checkpointing (--set gradient_checkpointing=true)")
    if plan.bits == 16 and low == 4 and fits(bits=4).total <= budget:
        tips.append("load the base in 4-bit NF4 (--bits 4)")
    if plan.batch_size > 1 and fits(batch_size=1).total <= budget:
        tips.append(
            f"use --batch-size 1 and raise --grad-accum by {plan.batch_size}x "
            "(same effective batch)"
        )
    seq = plan.seq_len
    while seq > 256 and fits(seq_len=seq).total > budget:
        seq //= 2
    if seq < plan.seq_len and fits(seq_len=seq).total <= budget:
        tips.append(f"lower --max-length to {seq}")
    r = plan.lora_r
    while r > 4 and fits(lora_r=r).total > budget:
        r //= 2
    if r < plan.lora_r and fits(lora_r=r).total <= budget:
        tips.append(f"lower --rank to {r}")
    floor = fits(bits=low, batch_size=1, seq_len=256, lora_r=4, gradient_checkpointing=True).total
    if floor > budget:
        tips.append(
            f"even {low}-bit, r=4, seq 256 needs {floor / GIB:.1f} GiB: pick a smaller tier or a "
            "bigger GPU"
        )
    elif not tips:
        for r2 in (32, 16, 8, 4):
            for s2 in (2048, 1024, 512, 256):
                if (
                    r2 <= plan.lora_r
                    and s2 <= plan.seq_len
                    and fits(bits=low, batch_size=1, lora_r=r2, seq_len=s2).total <= budget
                ):
                    return [f"use --bits {low} --batch-size 1 --rank {r2} --max-length {s2}"]
        tips.append("combine 4-bit, batch 1, a lower --rank and a shorter --max-length")
    return tips


@dataclass(frozen=True)
class PlanRequest:
    """What `corpus train plan` was asked for (validated by :func:`plan_models`)."""

    bits: int = 4
    lora_r: int = 64
    batch_size: int = 1
    seq_len: int = 2048
    targets: str = "all"
    adapter: str = "lora"
    gpu: bool = True
    gradient_checkpointing: bool = True
    vram_gib: float | None = None


@dataclass(frozen=True)
class PlannedModel:
    """One model's plan and, given a VRAM budget, what to change for it to fit."""

    plan: MemoryPlan
    advice: list[str]
    vram_gib: float | None = None

    def to_dict(self) -> dict:
        """The plan as JSON, with the fit verdict when a budget was given."""
        d = self.plan.to_dict()
        if self.vram_gib is not None:
            d.update(vram_gib=self.vram_gib, fits=not self.advice, advice=self.advice)
        return d


def plan_models(models: list[str], req: PlanRequest) -> list[PlannedModel]:
    """Plan every model (a Hub id, a local dir or config.json, or a built-in tier).

    The request is validated by the training config's own rules (the same ranges and
    choices `corpus train validate` applies), so a plan never accepts what training refuses.
    """
    from pipelines.train.arch import resolve_shape
    from pipelines.train.config import collect_errors

    values = {"bits": req.bits, "lora_r": req.lora_r, "batch_size": req.batch_size,
              "max_length": req.seq_len, "lora_targets": req.targets,
              "adapter": req.adapter, "device": "cuda" if req.gpu else "cpu"}  # fmt: skip
    _, errors = collect_errors(values)
    if errors:
        raise BadInputError("; ".join(errors))
    out = []
    for m in models:
        shape = resolve_shape(m)
        p = plan_memory(
            shape,
            model=m,
            bits=req.bits,
            lora_r=req.lora_r,
            batch_size=req.batch_size,
            seq_len=req.seq_len,
            gpu=req.gpu,
            gradient_checkpointing=req.gradient_checkpointing,
            targets=req.targets,
            adapter=req.adapter,
        )
        tips = advice(p, shape, req.vram_gib) if req.vram_gib is not None else []
        out.append(PlannedModel(p, tips, req.vram_gib))
    return out


#: Training throughput (tokens/s, forward+backward) per tier and accelerator, measured with
#: benchmarks/train_throughput.py (cpu-2core: `--tier tiny --seq-len 2048 --steps 1`, the
#: recipe's sequence length, on the 2-core development machine: random weights of the real
#: shape, 4-bit, load average ~4; at 512 tokens it is 6.8 tokens/s, the step's fixed cost
#: dominating, and the small tier 1.8 tokens/s, so small stays unmeasured at 2048).
#: None = not measured yet on that hardware (no such machine was available): the plan says
#: "unmeasured" rather than guess.
THROUGHPUT: dict[str, dict[str, float | None]] = {
    "tiny": {"cpu-2core": 13.8, "T4": None, "A100": None, "H100": None},
    "small": {"cpu-2core": None, "T4": None, "A100": None, "H100": None},
    "medium": {"cpu-2core": None, "T4": None, "A100": None, "H100": None},
    "large": {"cpu-2core": None, "T4": None, "A100": None, "H100": None},
}


@dataclass(frozen=True)
class DataPlan:
    """One tier's run over a dataset: its schedule and wall time per accelerator."""

    tier: str
    model: str
    examples: int
    tokens: int
    schedule: Any
    seconds: dict[str, float | None]

    def to_dict(self) -> dict:
        """JSON-able."""
        return {"tier": self.tier, "model": self.model, "examples": self.examples,
                "tokens": self.tokens, "schedule": self.schedule.to_dict(),
                "seconds": self.seconds}  # fmt: skip


def plan_data(dataset: str, tiers: list[str], overrides: dict[str, Any] | None = None) -> list:
    """For each tier: the schedule its recipe runs on ``dataset``'s training split, and the
    expected wall time from THROUGHPUT (tokens in the whole run / tokens per second)."""
    from corpus.store import read_dataset
    from corpus.tokens import chatml, count_many
    from pipelines.train.config import load_config
    from pipelines.train.data import DataStats, select_records, to_messages
    from pipelines.train.mixture import apply_mixture
    from pipelines.train.schedule import plan_schedule

    out = []
    for tier in tiers:
        cfg = load_config(tier, overrides={**(overrides or {}), "dataset": dataset})
        df = read_dataset(cfg.dataset, cfg.dataset_config)
        recs = select_records(df, cfg, cfg.train_split, DataStats())
        if not recs:
            raise BadInputError(f"{dataset}: no documented records in split {cfg.train_split!r}")
        recs, _ = apply_mixture(recs, cfg.mixture, cfg.mixture_temperature, cfg.seed)
        lengths = count_many([chatml(to_messages(r, cfg)) for r in recs])
        tokens = sum(min(n, cfg.max_length) for n in lengths if n <= cfg.max_length)
        sched = plan_schedule(cfg, tokens, sum(1 for n in lengths if n <= cfg.max_length))
        run_tokens = sched.total_steps * sched.tokens_per_step
        seconds = {hw: (run_tokens / tps if tps else None) for hw, tps in THROUGHPUT[tier].items()}
        out.append(DataPlan(tier, cfg.model, len(recs), tokens, sched, seconds))
    return out

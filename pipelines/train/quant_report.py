"""The quantisation report: int8 vs NF4 vs FP4 (with and without double quantisation) on
every linear layer of a real model, with bitsandbytes' own quantisers, on CPU.

For each layer the weight is quantised and dequantised back; the report gives, per layer type
(q_proj, ..., down_proj), the relative Frobenius error ``||W - deq(q(W))|| / ||W||``, the
largest absolute error, and the bytes per parameter actually stored (the packed codes plus
the scales: int8's fp32 scale per row; 4-bit's absmax per block, in fp32 or, with double
quantisation, in 8 bits with their own fp32 scale per 256 blocks), and
the memory of the whole model in each format (the rest of the model — embeddings, norms,
``lm_head``, which bitsandbytes leaves unquantised — in bf16).

Theory says int8 (256 levels per row) < NF4 (16 levels at normal quantiles per 64 weights) <
FP4 (16 levels of a float grid) in error on normally distributed weights; double
quantisation costs almost no accuracy and saves ~0.047 bytes per parameter at block 64.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError

FORMATS = ("bf16", "int8", "nf4", "nf4-dq", "fp4", "fp4-dq")
REPORT_JSON, REPORT_MD, REPORT_PNG = "quant_report.json", "quant_report.md", "quant_report.png"


@dataclass
class Cell:
    """Errors and bytes summed over the layers of one type in one format."""

    params: int = 0
    sq_err: float = 0.0
    sq_norm: float = 0.0
    max_abs: float = 0.0
    bytes: int = 0

    def add(self, params: int, sq_err: float, sq_norm: float, max_abs: float, nbytes: int) -> None:
        """Count one more layer in."""
        self.params += params
        self.sq_err += sq_err
        self.sq_norm += sq_norm
        self.max_abs = max(self.max_abs, max_abs)
        self.bytes += nbytes

    @property
    def rel_frobenius(self) -> float:
        """sqrt(sum ||dW||^2 / sum ||W||^2) over the layers."""
        return math.sqrt(self.sq_err / self.sq_norm) if self.sq_norm else 0.0

    @property
    def bytes_per_param(self) -> float:
        """Stored bytes per weight."""
        return self.bytes / self.params if self.params else 0.0


@dataclass
class QuantReport:
    """The whole report: per (layer type, format) cells and the model's memory per format."""

    model: str
    blocksize: int
    layers: int
    linear_params: int = 0
    other_params: int = 0
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)  # kind -> fmt -> cell

    def total(self, fmt: str) -> Cell:
        """One format over every linear layer."""
        out = Cell()
        for by_fmt in self.cells.values():
            c = by_fmt[fmt]
            out.add(c.params, c.sq_err, c.sq_norm, c.max_abs, c.bytes)
        return out

    def model_bytes(self, fmt: str) -> int:
        """The whole model: every linear layer at the bytes per parameter measured in ``fmt``
        (exact when every layer was measured), everything else in bf16."""
        return round(self.total(fmt).bytes_per_param * self.linear_params) + 2 * self.other_params

    def to_dict(self) -> dict[str, Any]:
        """JSON: inputs, every cell with its derived figures, and the per-format totals."""

        def cell(c: Cell) -> dict:
            return {
                **asdict(c),
                "rel_frobenius": c.rel_frobenius,
                "bytes_per_param": c.bytes_per_param,
            }

        return {
            "model": self.model,
            "blocksize": self.blocksize,
            "layers": self.layers,
            "linear_params": self.linear_params,
            "other_params": self.other_params,
            "per_layer_type": {
                k: {f: cell(c) for f, c in v.items()} for k, v in self.cells.items()
            },
            "per_format": {
                f: {**cell(self.total(f)), "model_bytes": self.model_bytes(f)} for f in FORMATS
            },
        }


def _state_bytes(packed: Any, state: Any) -> int:
    """Bytes a 4-bit weight takes: its codes, its per-block absmax and, with double
    quantisation, the absmax's own fp32 scales (one per 256 blocks) and offset. The lookup
    tables (16 NF4/FP4 levels, 256 levels of the nested 8-bit code) are one per format, the
    same in every layer, and not counted."""
    n = packed.numel() * packed.element_size() + state.absmax.numel() * state.absmax.element_size()
    if state.nested:
        n += state.state2.absmax.numel() * state.state2.absmax.element_size() + 4  # + offset
    return n


def roundtrip(w: Any, fmt: str, blocksize: int = 64) -> tuple[Any, int]:
    """(``w`` quantised to ``fmt`` and dequantised, bytes stored) with bitsandbytes."""
    import bitsandbytes.functional as F
    import torch

    if fmt == "bf16":
        return w.to(torch.bfloat16).float(), w.numel() * 2
    if fmt == "int8":
        codes, row_scale, _ = F.int8_vectorwise_quant(w.contiguous())
        return F.int8_vectorwise_dequant(codes, row_scale), codes.numel() + row_scale.numel() * 4
    kind, _, dq = fmt.partition("-")
    packed, state = F.quantize_4bit(
        w.contiguous(), blocksize=blocksize, quant_type=kind, compress_statistics=dq == "dq"
    )
    return F.dequantize_4bit(packed, state), _state_bytes(packed, state)


def linear_layers(model: Any, max_layers: int | None) -> list[tuple[str, Any]]:
    """(name, module) of every nn.Linear bitsandbytes would quantise (not lm_head), in the
    first ``max_layers`` decoder layers (all when None)."""
    import re

    import torch

    out = []
    for name, mod in model.named_modules():
        if not isinstance(mod, torch.nn.Linear) or name.split(".")[-1] == "lm_head":
            continue
        m = re.search(r"\.layers\.(\d+)\.", name)
        if max_layers is not None and m and int(m.group(1)) >= max_layers:
            continue
        out.append((name, mod))
    return out


def quant_report(
    model_id: str, *, max_layers: int | None = None, blocksize: int = 64, progress: Any = None
) -> QuantReport:
    """Quantise every linear layer of ``model_id`` in every format and measure it."""
    import torch
    from transformers import AutoModelForCausalLM

    if blocksize not in (64, 128, 256, 512, 1024, 2048, 4096):
        raise BadInputError(f"--blocksize {blocksize}: bitsandbytes takes 64 ... 4096")
    from pipelines.train.model import load_error

    try:
        model = AutoModelForCausalLM.from_pretrained(model_id, dtype="auto")
    except (OSError, ValueError) as exc:
        raise load_error(model_id, "model", exc) from exc
    layers = linear_layers(model, max_layers)
    total = sum(p.numel() for p in model.parameters())
    all_linear = sum(m.weight.numel() for _, m in linear_layers(model, None))
    rep = QuantReport(model_id, blocksize, len(layers), all_linear, total - all_linear)
    with torch.no_grad():
        for i, (name, mod) in enumerate(layers):
            _measure(rep, name.split(".")[-1], mod.weight.detach().float(), blocksize)
            if progress is not None:
                progress(i + 1, len(layers))
    return rep


def _measure(rep: QuantReport, kind: str, w: Any, blocksize: int) -> None:
    norm = float(w.double().pow(2).sum())
    by_fmt = rep.cells.setdefault(kind, {f: Cell() for f in FORMATS})
    for fmt in FORMATS:
        deq, nbytes = roundtrip(w, fmt, blocksize)
        d = (deq - w).double()
        by_fmt[fmt].add(w.numel(), float(d.pow(2).sum()), norm, float(d.abs().max()), nbytes)


def human_bytes(n: float) -> str:
    """``1.23 GiB`` / ``4.5 MiB`` / ``12 KiB``."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def markdown(rep: QuantReport) -> str:
    """The report as Markdown: per layer type and format, then the whole model per format."""
    lines = [
        f"# Quantisation report: {rep.model}",
        "",
        f"{rep.layers} linear layers measured (blocksize {rep.blocksize}); "
        f"{rep.linear_params:,} linear and {rep.other_params:,} other parameters.",
        "",
        "| layer type | format | rel. Frobenius error | max abs error | bytes/param |",
        "|---|---|--:|--:|--:|",
    ]
    for kind, by_fmt in rep.cells.items():
        for fmt, c in by_fmt.items():
            lines.append(
                f"| {kind} | {fmt} | {c.rel_frobenius:.5f} | {c.max_abs:.3g} | "
                f"{c.bytes_per_param:.4f} |"
            )
    lines += [
        "",
        "| format | rel. Frobenius error (all linear) | bytes/param (linear) | whole model |",
        "|---|--:|--:|--:|",
    ]
    for fmt in FORMATS:
        t = rep.total(fmt)
        lines.append(
            f"| {fmt} | {t.rel_frobenius:.5f} | {t.bytes_per_param:.4f} | "
            f"{human_bytes(rep.model_bytes(fmt))} |"
        )
    return "\n".join(lines) + "\n"


def plot(rep: QuantReport, dest: Path) -> None:
    """Bars: relative error per layer type and format (log scale), and bytes per parameter."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(rep.cells)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / len(FORMATS)
    for j, fmt in enumerate(FORMATS):
        xs = [i + (j - len(FORMATS) / 2) * width for i in range(len(kinds))]
        ax1.bar(xs, [rep.cells[k][fmt].rel_frobenius for k in kinds], width, label=fmt)
    ax1.set_xticks(range(len(kinds)), kinds, rotation=30)
    ax1.set_yscale("log")
    ax1.set_ylabel("relative Frobenius error")
    ax1.legend(fontsize=8)
    ax2.bar(FORMATS, [rep.total(f).bytes_per_param for f in FORMATS])
    ax2.set_ylabel("bytes per parameter (linear layers)")
    fig.suptitle(f"{rep.model}: bitsandbytes quantisation (block {rep.blocksize})")
    fig.tight_layout()
    fig.savefig(dest, dpi=110)
    plt.close(fig)


def write_report(rep: QuantReport, out: Path) -> list[Path]:
    """quant_report.json, .md and .png in ``out``."""
    from corpus.store import write_bytes_atomic, write_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / REPORT_JSON, rep.to_dict())
    write_bytes_atomic(out / REPORT_MD, markdown(rep).encode("utf-8"))
    plot(rep, out / REPORT_PNG)
    return [out / REPORT_JSON, out / REPORT_MD, out / REPORT_PNG]

"""`corpus train` (trains) and its subcommands: plan, validate, merge, ablate, lr-find,
combine, export, quant-report.

Only typer/rich at module level: torch, transformers, peft and trl (~8 s to import) are imported
inside the command functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import (
    ExitCode,
    console,
    err_console,
    fail,
    is_interactive,
    user_errors,
)

train_app = typer.Typer(
    help="Fine-tune Qwen2.5-Coder on the corpus with QLoRA (needs the `train` extra).",
    invoke_without_command=True,
    no_args_is_help=False,
)

_RECIPE = typer.Option(None, "--recipe", "-r", help="Tier: tiny, small (default), medium, large.")
_CONFIG = typer.Option(None, "--config", "-c", help="A recipe YAML file instead of a tier.")
_SET = typer.Option([], "--set", help="Override any config key: --set key=value (repeatable).")


def register(app: typer.Typer) -> None:
    """Add the train group to ``app`` (`corpus generate` lives in commands/generate.py)."""
    app.add_typer(train_app, name="train")


TRAINING_STACK = ("torch", "transformers", "peft", "trl")
TRAIN_EXTRA_HINT = (
    "pip install torch && pip install 'rustdoc-corpus[train]' "
    "(on a machine without a GPU, install torch's CPU build first)"
)


def require_modules(names: tuple[str, ...] = TRAINING_STACK) -> None:
    """Exit 2 with the install line when the `train` extra is missing, instead of a traceback.

    Looks the modules up without importing them, so the check costs nothing.
    """
    import importlib.util

    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        fail(
            f"this command needs the `train` extra ({', '.join(missing)} not installed): "
            f"{TRAIN_EXTRA_HINT}",
            ExitCode.BAD_INPUT,
        )


def _overrides(sets: list[str], **flags: Any) -> dict[str, Any]:
    from pipelines.train.config import parse_set

    values = {k: v for k, v in flags.items() if v is not None}
    values.update(parse_set(sets))  # --set wins over flags: it is the most explicit
    return values


def _config(recipe: str | None, config: Path | None, sets: list[str], **flags: Any):
    from pipelines.train.config import load_config

    return load_config(recipe, config, _overrides(sets, **flags))


@train_app.callback()
def train(
    ctx: typer.Context,
    data: str = typer.Option(None, "--data", "-d", help="Dataset folder or Hub ORG/NAME@rev."),
    out: str = typer.Option(None, "--out", "-o", help="Run folder (adapter/, checkpoints/...)."),
    recipe: str = _RECIPE,
    config: Path = _CONFIG,
    model: str = typer.Option(None, "--model", "-m", help="Base model: Hub id or local dir."),
    bits: int = typer.Option(None, "--bits", help="4 (QLoRA, NF4) or 16 (plain LoRA)."),
    rank: int = typer.Option(None, "--rank", help="LoRA rank r."),
    adapter: str = typer.Option(
        None, "--adapter", help="Adapter type: lora, dora, loha or lokr (loha/lokr: --bits 16)."
    ),
    lr: float = typer.Option(None, "--lr", help="Peak learning rate."),
    epochs: float = typer.Option(None, "--epochs", help="Passes over the training data."),
    max_steps: int = typer.Option(None, "--max-steps", help="Stop after N optimiser steps."),
    batch_size: int = typer.Option(None, "--batch-size", help="Sequences per step."),
    grad_accum: int = typer.Option(None, "--grad-accum", help="Gradient accumulation steps."),
    max_length: int = typer.Option(None, "--max-length", help="Tokens per (packed) sequence."),
    seed: int = typer.Option(None, "--seed", help="Random seed."),
    device: str = typer.Option(None, "--device", help="auto, cpu or cuda."),
    push_to_hub: str = typer.Option(None, "--push-to-hub", help="Push the adapter to ORG/NAME."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint."),
    sets: list[str] = _SET,
) -> None:
    """Train a LoRA adapter (with no subcommand). See `corpus train plan` first."""
    if ctx.invoked_subcommand is not None:
        return
    require_modules()
    with user_errors():
        cfg = _config(
            recipe,
            config,
            sets,
            dataset=data,
            output_dir=out,
            model=model,
            bits=bits,
            lora_r=rank,
            adapter=adapter,
            learning_rate=lr,
            epochs=epochs,
            max_steps=max_steps,
            batch_size=batch_size,
            grad_accum=grad_accum,
            max_length=max_length,
            seed=seed,
            device=device,
            push_to_hub=push_to_hub,
        )
        from pipelines.train.run import train as run_train

        res = run_train(cfg, resume=resume, progress=is_interactive())
    _print_run(res)


def _print_run(res: Any) -> None:
    """One line for the finished run (only rank 0's under torchrun / accelerate launch)."""
    from pipelines.train.run import is_main_process

    if not is_main_process():
        return
    ev = f"{res.eval_loss:.4f}" if res.eval_loss is not None else "-"
    tl = f"{res.train_loss:.4f}" if res.train_loss is not None else "-"
    ranks = f" on {res.world_size} ranks" if res.world_size > 1 else ""
    console.print(
        f"trained {res.steps} steps on {res.device}{ranks} in {res.seconds:.1f}s: train loss "
        f"{tl}, eval loss {ev}; adapter in {res.adapter_dir}",
        soft_wrap=True,
        markup=False,
    )


@train_app.command("validate")
def validate(
    recipe: str = _RECIPE,
    config: Path = _CONFIG,
    sets: list[str] = _SET,
) -> None:
    """Check a recipe and overrides; report every error at once (exit 2 if any)."""
    with user_errors():
        from pipelines.train.config import collect_errors, load_values

        cfg, errors = collect_errors(load_values(recipe, config, _overrides(sets)))
    if errors:
        err_console.print(f"[bold red]{len(errors)} config error(s):[/]")
        for e in errors:
            err_console.print(f"  - {e}", markup=False)
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    console.print(f"config OK: {cfg.model}, bits={cfg.bits}, r={cfg.lora_r}", markup=False)


@train_app.command("plan")
def plan(
    recipe: str = _RECIPE,
    model: list[str] = typer.Option(
        None, "--model", "-m", help="Hub id, local model dir or config.json (repeatable)."
    ),
    all_tiers: bool = typer.Option(False, "--all-tiers", help="Plan the four built-in tiers."),
    rank: int = typer.Option(64, "--rank", help="LoRA rank r."),
    batch_size: int = typer.Option(1, "--batch-size", help="Sequences per step."),
    seq_len: int = typer.Option(2048, "--seq-len", "--max-length", help="Tokens per sequence."),
    bits: int = typer.Option(4, "--bits", help="4 (NF4) or 16."),
    targets: str = typer.Option("all", "--targets", help="attention, mlp or all."),
    adapter: str = typer.Option("lora", "--adapter", help="lora, dora, loha or lokr."),
    no_checkpointing: bool = typer.Option(False, "--no-checkpointing", help="Plan without it."),
    cpu: bool = typer.Option(False, "--cpu", help="Plan a CPU run (fp32 compute)."),
    vram: float = typer.Option(None, "--vram", help="GiB available: say if it fits, and how to."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Memory plan (weights, adapters, optimizer, activations) from the model's config."""
    with user_errors():
        from pipelines.train.plan import PlanRequest, plan_models

        req = PlanRequest(bits=bits, lora_r=rank, batch_size=batch_size, seq_len=seq_len,
                          targets=targets, adapter=adapter, gpu=not cpu,
                          gradient_checkpointing=not no_checkpointing, vram_gib=vram)  # fmt: skip
        rows = plan_models(_plan_targets(recipe, model, all_tiers), req)
    if as_json:
        console.print_json(json.dumps([row.to_dict() for row in rows]))
    else:
        _print_plan(rows, req)
    if vram is not None and any(row.advice for row in rows):
        raise typer.Exit(int(ExitCode.FAILURE))


def _plan_targets(recipe: str | None, model: list[str] | None, all_tiers: bool) -> list[str]:
    from pipelines.train.arch import BUILTIN
    from pipelines.train.config import load_config

    if all_tiers:
        return list(BUILTIN)
    return list(model) if model else [load_config(recipe).model]


def _print_plan(rows: list[Any], req: Any) -> None:
    from rich.table import Table

    from pipelines.train.plan import GIB

    table = Table(
        title=f"memory plan: r={req.lora_r}, batch {req.batch_size}, seq {req.seq_len}, "
        f"{req.bits}-bit"
    )
    for col in ("model", "weights", "adapters", "optimizer", "activations", "total"):
        table.add_column(col, justify="left" if col == "model" else "right")
    if req.vram_gib is not None:
        table.add_column(f"fits {req.vram_gib:g} GiB")
    for row in rows:
        p = row.plan
        cells = [p.model.rsplit("/", 1)[-1]] + [
            f"{x / GIB:.2f} GiB"
            for x in (p.weights, p.adapters + p.gradients, p.optimizer, p.activations, p.total)
        ]
        if req.vram_gib is not None:
            cells.append("no" if row.advice else "yes")
        table.add_row(*cells)
    console.print(table)
    reserve = rows[0].plan.overhead / GIB if rows else 0.0
    console.print(
        "adapters column = LoRA weights + their gradients (fp32); total includes "
        f"{reserve:.1f} GiB CUDA context/workspace reserve.",
        markup=False,
    )
    for row in rows:
        for tip in row.advice:
            console.print(
                f"{row.plan.model}: does not fit {req.vram_gib:g} GiB; {tip}", markup=False
            )


@train_app.command("merge")
def merge(
    adapter: Path = typer.Argument(..., help="Adapter folder (RUN/adapter)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the merged model."),
    model: str = typer.Option(None, "--model", "-m", help="Base model (default: the adapter's)."),
    dtype: str = typer.Option("bfloat16", "--dtype", help="bfloat16, float16 or float32."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    base_weights: str = typer.Option(
        "original",
        "--base-weights",
        help="4-bit runs: original = reload the base's 16-bit weights and merge "
        "(dequantize-then-merge, W + dW); dequantized = load the base in NF4 as trained, "
        "dequantize it, merge (deq(NF4(W)) + dW: the model the adapter trained against).",
    ),
    push_to_hub: str = typer.Option(
        None, "--push-to-hub", help="Push the merged model to ORG/NAME."
    ),
) -> None:
    """Merge an adapter (lora/dora/loha/lokr) into its base in 16-bit, save safetensors."""
    require_modules()
    with user_errors():
        from pipelines.train.merge import merge_adapter

        res = merge_adapter(adapter, out, model=model, dtype=dtype, device=device,
                            base_weights=base_weights)  # fmt: skip
        if push_to_hub:
            from pipelines.train.run import push_adapter

            push_adapter(res.path, push_to_hub)
    console.print(f"{res.how}; merged model written to {res.path}", markup=False, soft_wrap=True)


def _parse_ranks(text: str) -> list[int]:
    try:
        ranks = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        fail(f"--ranks {text!r}: expected integers like 4,8,16", ExitCode.BAD_INPUT)
    if not ranks or min(ranks) < 1:
        fail(f"--ranks {text!r}: expected positive integers", ExitCode.BAD_INPUT)
    return ranks


@train_app.command("ablate")
def ablate(
    data: str = typer.Option(..., "--data", "-d", help="Dataset folder or Hub ORG/NAME@rev."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for one run per rank + table."),
    ranks: str = typer.Option("4,8,16,32,64", "--ranks", help="Comma-separated ranks."),
    recipe: str = _RECIPE,
    config: Path = _CONFIG,
    model: str = typer.Option(None, "--model", "-m", help="Base model: Hub id or local dir."),
    max_steps: int = typer.Option(None, "--max-steps", help="Steps per run."),
    sets: list[str] = _SET,
) -> None:
    """Rank ablation: eval loss, trainable params, time and peak memory per rank."""
    rank_list = _parse_ranks(ranks)
    require_modules()
    with user_errors():
        cfg = _config(recipe, config, sets, dataset=data, model=model, max_steps=max_steps)
        from pipelines.train.sweeps import ablate_ranks

        rows = ablate_ranks(cfg, rank_list, out)
    console.print((out / "ablation.md").read_text(encoding="utf-8"), markup=False)
    _ = rows


@train_app.command("lr-find")
def lr_find(
    data: str = typer.Option(..., "--data", "-d", help="Dataset folder or Hub ORG/NAME@rev."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for lr_find.json and .png."),
    recipe: str = _RECIPE,
    config: Path = _CONFIG,
    model: str = typer.Option(None, "--model", "-m", help="Base model: Hub id or local dir."),
    min_lr: float = typer.Option(1e-6, "--min-lr", help="Start of the range."),
    max_lr: float = typer.Option(1e-1, "--max-lr", help="End of the range."),
    steps: int = typer.Option(50, "--steps", help="Steps across the range."),
    sets: list[str] = _SET,
) -> None:
    """LR range test: exponential LR sweep; suggests the LR of steepest loss descent."""
    if not 0 < min_lr < max_lr or steps < 3:
        fail("need 0 < --min-lr < --max-lr and --steps >= 3", ExitCode.BAD_INPUT)
    require_modules()
    with user_errors():
        cfg = _config(recipe, config, sets, dataset=data, model=model)
        from pipelines.train.sweeps import lr_range_test

        res = lr_range_test(cfg, out, min_lr=min_lr, max_lr=max_lr, steps=steps)
    console.print(f"suggested learning rate: {res['suggested_lr']:.2e} (plot: {out}/lr_find.png)")


@train_app.command("combine")
def combine(
    adapters: list[Path] = typer.Argument(..., help="Two or more LoRA adapter folders."),
    weights: str = typer.Option(..., "--weights", "-w", help="One weight each: 0.7,0.3."),
    method: str = typer.Option(
        "cat",
        "--method",
        help="cat (default; exactly the weighted sum of the adapters' weight deltas, rank = "
        "sum of ranks), svd (that sum refactored to --svd-rank), ties, dare_ties, dare_linear, "
        "magnitude_prune (prune with --density; one rank only). peft's linear is not offered: "
        "it mixes A and B separately, adding cross terms B_i A_j no adapter learned, which is "
        "wrong for independently trained adapters.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the combined adapter."),
    density: float = typer.Option(
        None, "--density", help="ties/dare/magnitude_prune: fraction kept (default 0.5)."
    ),
    svd_rank: int = typer.Option(None, "--svd-rank", help="svd: rank of the result."),
    seed: int = typer.Option(0, "--seed", help="Seed for DARE's random drops."),
) -> None:
    """Combine LoRA adapters of one base into one adapter (peft's add_weighted_adapter)."""
    require_modules()
    with user_errors():
        from pipelines.train.combine import combine_adapters, parse_weights

        w = parse_weights(weights, len(adapters))
        res = combine_adapters(list(adapters), w, method, out, density=density,
                               svd_rank=svd_rank, seed=seed)  # fmt: skip
    console.print(
        f"combined {len(adapters)} adapters ({res.method}, weights "
        f"{', '.join(f'{x:g}' for x in res.weights)}) into a rank-{res.rank} adapter: {res.path}",
        markup=False,
        soft_wrap=True,
    )


@train_app.command("export")
def export(
    run: Path = typer.Argument(..., help="Run folder (RUN/adapter), adapter or merged model."),
    fmt: str = typer.Option("gguf", "--format", help="gguf (for llama.cpp and Ollama)."),
    outtype: str = typer.Option(
        "f16",
        "--outtype",
        help="f32, f16, bf16, q8_0 (written by the gguf library), or a k-quant such as q4_k_m "
        "(needs llama.cpp's llama-quantize on PATH).",
    ),
    lora_only: bool = typer.Option(
        False, "--lora-only", help="The adapter alone (llama.cpp --lora / Ollama ADAPTER)."
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Export folder (default RUN/gguf)."),
    name: str = typer.Option(None, "--name", help="Ollama model name (default rustdoc-RUN)."),
    model: str = typer.Option(None, "--model", "-m", help="Base model (default: the adapter's)."),
    base_gguf: Path = typer.Option(
        None,
        "--base-gguf",
        help="--lora-only: an existing base GGUF to name instead of writing one.",
    ),
    base_weights: str = typer.Option(
        "original", "--base-weights", help="4-bit runs: original or dequantized (see merge)."
    ),
) -> None:
    """Export a run as GGUF with an Ollama Modelfile; prints the commands that run it."""
    if fmt != "gguf":
        fail(
            f"--format {fmt}: only gguf is supported (merge writes safetensors)", ExitCode.BAD_INPUT
        )
    require_modules(("torch", "transformers", "peft", "gguf"))
    with user_errors():
        from pipelines.train.export import export_gguf

        res = export_gguf(run, out, outtype=outtype, lora_only=lora_only, name=name, model=model,
                          base_gguf=base_gguf, base_weights=base_weights)  # fmt: skip
    for note in res.notes:
        console.print(note, markup=False, soft_wrap=True)
    for f in res.files:
        console.print(f"wrote {f}", markup=False, soft_wrap=True)
    console.print("run it with:", markup=False)
    for cmd in res.commands:
        console.print(f"  {cmd}", markup=False, soft_wrap=True)


@train_app.command("quant-report")
def quant_report(
    model: str = typer.Option(..., "--model", "-m", help="Hub id or local model folder."),
    out: Path = typer.Option(Path("quant-report"), "--out", "-o", help="Folder for the report."),
    layers: int = typer.Option(
        None, "--layers", help="Measure only the first N decoder layers (default: all)."
    ),
    blocksize: int = typer.Option(64, "--blocksize", help="4-bit block size (QLoRA: 64)."),
) -> None:
    """int8 vs NF4 vs FP4 (± double quantisation) on every linear layer, with bitsandbytes:
    error and bytes per parameter per layer type, and the model's memory in each format."""
    if layers is not None and layers < 1:
        fail("--layers must be at least 1", ExitCode.BAD_INPUT)
    require_modules(("torch", "transformers", "bitsandbytes", "matplotlib"))
    with user_errors():
        from pipelines.train.quant_report import quant_report as run_report
        from pipelines.train.quant_report import write_report

        rep = run_report(model, max_layers=layers, blocksize=blocksize)
        files = write_report(rep, out)
    _print_quant(rep)
    console.print(f"report: {', '.join(map(str, files))}", markup=False, soft_wrap=True)


def _print_quant(rep: Any) -> None:
    from rich.table import Table

    from pipelines.train.quant_report import FORMATS, human_bytes

    table = Table(title=f"quantisation of {rep.model} ({rep.layers} linear layers)")
    for col in ("layer type", "format", "rel. Frobenius", "max |Δ|", "bytes/param"):
        table.add_column(col, justify="left" if col in ("layer type", "format") else "right")
    for kind, by_fmt in rep.cells.items():
        for fmt, c in by_fmt.items():
            table.add_row(
                kind, fmt, f"{c.rel_frobenius:.5f}", f"{c.max_abs:.3g}", f"{c.bytes_per_param:.4f}"
            )
    console.print(table)
    total = Table(title="whole model")
    for col in ("format", "rel. Frobenius", "bytes/param", "memory"):
        total.add_column(col, justify="left" if col == "format" else "right")
    for fmt in FORMATS:
        t = rep.total(fmt)
        total.add_row(
            fmt,
            f"{t.rel_frobenius:.5f}",
            f"{t.bytes_per_param:.4f}",
            human_bytes(rep.model_bytes(fmt)),
        )
    console.print(total)

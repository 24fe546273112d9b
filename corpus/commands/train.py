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
    PANEL_TRAIN,
    ExitCode,
    command_class,
    console,
    err_console,
    fail,
    group_class,
    is_interactive,
    user_errors,
)

train_app = typer.Typer(
    cls=group_class(),
    help="Fine-tune Qwen2.5-Coder on the corpus with QLoRA (needs the `train` extra).",
    invoke_without_command=True,
    no_args_is_help=False,
)

_RECIPE = typer.Option(
    None, "--recipe", "-r", metavar="TIER", help="Tier: tiny, small (default), medium, large."
)
_CONFIG = typer.Option(
    None, "--config", "-c", metavar="FILE", help="A recipe YAML file instead of a tier."
)
_SET = typer.Option(
    [], "--set", metavar="KEY=VALUE", help="Override any config key: --set key=value (repeatable)."
)
_EVAL_LIMIT = typer.Option(
    None,
    "--eval-limit",
    metavar="N",
    help="Test records for the end-of-run eval vs the base (0 = off).",
)


def register(app: typer.Typer) -> None:
    """Add the train group to ``app`` (`corpus generate` lives in commands/generate.py)."""
    app.add_typer(train_app, name="train", rich_help_panel=PANEL_TRAIN)


TRAINING_STACK = ("torch", "transformers", "peft", "trl")


def require_modules(names: tuple[str, ...] = TRAINING_STACK) -> None:
    """Exit 2 with the install line when the `train` extra is missing, instead of a traceback.

    Looks the modules up without importing them, so the check costs nothing. The install line
    fits this install (a git checkout installs extras editable, with its constraints file) and
    this machine (without an NVIDIA GPU, torch's CPU build).
    """
    import importlib.util

    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        from corpus.install import train_install_hint

        fail(
            f"this command needs the `train` extra ({', '.join(missing)} not installed); "
            f"install it {train_install_hint()}",
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
    data: str = typer.Option(
        None, "--data", "-d", metavar="DATASET", help="Dataset folder or Hub ORG/NAME@rev."
    ),
    out: str = typer.Option(
        None, "--out", "-o", metavar="DIR", help="Run folder (adapter/, checkpoints/...)."
    ),
    recipe: str = _RECIPE,
    config: Path = _CONFIG,
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Base model: Hub id or local dir."
    ),
    bits: int = typer.Option(
        None, "--bits", metavar="4|16", help="4 (QLoRA, NF4) or 16 (plain LoRA)."
    ),
    rank: int = typer.Option(None, "--rank", metavar="R", help="LoRA rank r."),
    adapter: str = typer.Option(
        None,
        "--adapter",
        metavar="lora|dora|loha|lokr",
        help="Adapter type: lora, dora, loha or lokr (loha/lokr: --bits 16).",
    ),
    lr: float = typer.Option(None, "--lr", metavar="LR", help="Peak learning rate."),
    epochs: float = typer.Option(
        None, "--epochs", metavar="N", help="Passes over the training data."
    ),
    max_steps: int = typer.Option(
        None, "--max-steps", metavar="N", help="Stop after N optimiser steps."
    ),
    batch_size: int = typer.Option(None, "--batch-size", metavar="N", help="Sequences per step."),
    grad_accum: int = typer.Option(
        None, "--grad-accum", metavar="N", help="Gradient accumulation steps."
    ),
    max_length: int = typer.Option(
        None, "--max-length", metavar="N", help="Tokens per (packed) sequence."
    ),
    seed: int = typer.Option(None, "--seed", metavar="N", help="Random seed."),
    device: str = typer.Option(None, "--device", metavar="DEVICE", help="auto, cpu or cuda."),
    push_to_hub: str = typer.Option(
        None, "--push-to-hub", metavar="ORG/NAME", help="Push the adapter to ORG/NAME."
    ),
    eval_limit: int = _EVAL_LIMIT,
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint."),
    sets: list[str] = _SET,
) -> None:
    """Train a LoRA adapter (with no subcommand). See `corpus train plan` first."""
    if ctx.invoked_subcommand is not None:
        return
    options = dict(locals())
    require_modules()
    with user_errors():
        flags = {field: options[name] for name, field in _TRAIN_FLAGS.items()}
        _train_and_report(_config(recipe, config, sets, **flags), resume)


#: `corpus train` flags -> the TrainConfig fields they set.
_TRAIN_FLAGS = {
    "data": "dataset", "out": "output_dir", "model": "model", "bits": "bits", "rank": "lora_r",
    "adapter": "adapter",
    "lr": "learning_rate", "epochs": "epochs", "max_steps": "max_steps",
    "batch_size": "batch_size", "grad_accum": "grad_accum", "max_length": "max_length",
    "seed": "seed", "device": "device", "push_to_hub": "push_to_hub",
    "eval_limit": "eval_limit",
}  # fmt: skip


def _train_and_report(cfg: Any, resume: bool) -> None:
    # Data, model and run folder are checked before torch is imported (seconds, and
    # bitsandbytes' start-up noise): a wrong --data fails at once and leaves no folder.
    from pipelines.train.run import check_inputs
    from pipelines.train.run import train as run_train

    check_inputs(cfg, resume=resume)
    res = run_train(cfg, resume=resume, progress=is_interactive())
    from pipelines.train.run import is_main_process

    if not is_main_process():  # one line per run: rank 0's, under torchrun / accelerate
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
    _print_eval_line(Path(res.output_dir))


def _print_eval_line(run: Path) -> None:
    """One line from the end-of-run eval (RUN/eval/eval.json), when there was one."""
    from pipelines.eval.training import EVAL_DIR

    f = run / EVAL_DIR / "eval.json"
    if f.is_file():
        summary = json.loads(f.read_text(encoding="utf-8"))
        means = {s["name"]: s["metrics"][summary["primary"]]["mean"] for s in summary["systems"]}
        shown = ", ".join(f"{n} {m:.2f}" for n, m in means.items() if m is not None)
        console.print(
            f"eval on {summary['n']} {summary['split']} records, {summary['primary']}: {shown} "
            f"(report: {run / 'report.md'})",
            soft_wrap=True,
            markup=False,
        )


@train_app.command("validate", cls=command_class())
def validate(
    recipe: str = _RECIPE,
    config: Path = _CONFIG,
    method: str = typer.Option(
        None,
        "--method",
        metavar="dpo|kto|orpo|reward|rl",
        help="Check the recipe with this method's overlay laid over it.",
    ),
    sets: list[str] = _SET,
) -> None:
    """Check a recipe and overrides; report every error at once (exit 2 if any)."""
    with user_errors():
        from pipelines.train.config import collect_errors, load_values

        cfg, errors = collect_errors(load_values(recipe, config, _overrides(sets), method))
    if errors:
        err_console.print(f"[bold red]{len(errors)} config error(s):[/]")
        for e in errors:
            err_console.print(f"  - {e}", markup=False)
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    console.print(
        f"config OK: {cfg.method}, {cfg.model}, bits={cfg.bits}, r={cfg.lora_r}", markup=False
    )


_PLAN_MODEL = typer.Option(
    None,
    "--model",
    "-m",
    metavar="MODEL",
    help="Hub id, local model dir or config.json (repeatable).",
)
_PLAN_METHOD = typer.Option(
    [],
    "--method",
    metavar="sft|dpo|kto|orpo|reward|rl",
    help="Plan these methods (repeatable; 'all' for every one): memory per model, and with "
    "--pairs (rl: --data) steps per tier.",
)
_PLAN_PAIRS = typer.Option(
    None, "--pairs", metavar="DIR", help="With --method: a `corpus pairs` folder to size steps."
)


@train_app.command("plan", cls=command_class())
def plan(
    recipe: str = _RECIPE,
    model: list[str] = _PLAN_MODEL,
    all_tiers: bool = typer.Option(False, "--all-tiers", help="Plan the four built-in tiers."),
    rank: int = typer.Option(64, "--rank", metavar="R", help="LoRA rank r."),
    batch_size: int = typer.Option(1, "--batch-size", metavar="N", help="Sequences per step."),
    seq_len: int = typer.Option(
        2048, "--seq-len", "--max-length", metavar="N", help="Tokens per sequence."
    ),
    bits: int = typer.Option(4, "--bits", metavar="4|16", help="4 (NF4) or 16."),
    targets: str = typer.Option(
        "all", "--targets", metavar="all|attention|mlp", help="attention, mlp or all."
    ),
    adapter: str = typer.Option(
        "lora", "--adapter", metavar="lora|dora|loha|lokr", help="lora, dora, loha or lokr."
    ),
    no_checkpointing: bool = typer.Option(False, "--no-checkpointing", help="Plan without it."),
    cpu: bool = typer.Option(False, "--cpu", help="Plan a CPU run (fp32 compute)."),
    vram: float = typer.Option(
        None, "--vram", metavar="GIB", help="GiB available: say if it fits, and how to."
    ),
    data: str = typer.Option(
        None,
        "--data",
        "-d",
        metavar="DATASET",
        help="Also plan the run over this dataset: steps per epoch, tokens per step, evals and "
        "expected wall time per tier (--recipe, else all four).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    method: list[str] = _PLAN_METHOD,
    pairs: str = _PLAN_PAIRS,
) -> None:
    """Memory plan (weights, adapters, optimizer, activations) from the model's config; with
    --data, the run's length and cadence on that dataset too; with --method, per method."""
    if method:
        from corpus.commands.train_methods import plan_methods_command

        plan_methods_command(dict(locals()), _plan_targets(recipe, model, all_tiers))
        return
    if data is not None:
        _plan_data(data, recipe, as_json)
        return
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


def _plan_data(data: str, recipe: str | None, as_json: bool) -> None:
    from rich.table import Table

    with user_errors():
        from pipelines.train.config import TIERS
        from pipelines.train.plan import plan_data

        rows = plan_data(data, [recipe] if recipe else list(TIERS))
    if as_json:
        console.print_json(json.dumps([r.to_dict() for r in rows]))
        return
    from rich import box

    # Numbers never fold (``619,79`` over ``4``): short headers keep the table in 80 columns.
    table = Table(
        title=f"run plan on {data}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),
    )
    for col in ("tier", "examples", "tokens", "steps/ep", "steps", "tok/step", "evals",
                "patience", "warmup"):  # fmt: skip
        table.add_column(col, justify="left" if col == "tier" else "right", no_wrap=True)
    hardware = list(rows[0].seconds) if rows else []
    times = Table(title="expected wall time (throughput measured per accelerator)")
    times.add_column("tier", overflow="fold")
    for hw in hardware:
        times.add_column(hw, justify="right", overflow="fold")
    for r in rows:
        s = r.schedule
        table.add_row(r.tier, f"{r.examples:,}", f"{r.tokens:,}", str(s.steps_per_epoch),
                      str(s.total_steps), f"{s.tokens_per_step:,}", str(s.evals),
                      str(s.patience or "-"), str(s.warmup_steps))  # fmt: skip
        times.add_row(r.tier, *(_duration(r.seconds[hw]) for hw in hardware))
    console.print(table)
    console.print(times)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unmeasured"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


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


@train_app.command("merge", cls=command_class())
def merge(
    adapter: Path = typer.Argument(..., metavar="ADAPTER", help="Adapter folder (RUN/adapter)."),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="DIR", help="Folder for the merged model."
    ),
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Base model (default: the adapter's)."
    ),
    dtype: str = typer.Option(
        "bfloat16", "--dtype", metavar="DTYPE", help="bfloat16, float16 or float32."
    ),
    device: str = typer.Option("cpu", "--device", metavar="DEVICE", help="cpu or cuda."),
    base_weights: str = typer.Option(
        "original",
        "--base-weights",
        metavar="original|dequantized",
        help="4-bit runs: original = reload the base's 16-bit weights and merge "
        "(dequantize-then-merge, W + dW); dequantized = load the base in NF4 as trained, "
        "dequantize it, merge (deq(NF4(W)) + dW: the model the adapter trained against).",
    ),
    push_to_hub: str = typer.Option(
        None, "--push-to-hub", metavar="ORG/NAME", help="Push the merged model to ORG/NAME."
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


@train_app.command("ablate", cls=command_class())
def ablate(
    data: str = typer.Option(
        ..., "--data", "-d", metavar="DATASET", help="Dataset folder or Hub ORG/NAME@rev."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="DIR", help="Folder for one run per rank + table."
    ),
    ranks: str = typer.Option(
        "4,8,16,32,64", "--ranks", metavar="R,R,...", help="Comma-separated ranks."
    ),
    recipe: str = _RECIPE,
    config: Path = _CONFIG,
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Base model: Hub id or local dir."
    ),
    max_steps: int = typer.Option(None, "--max-steps", metavar="N", help="Steps per run."),
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


@train_app.command("lr-find", cls=command_class())
def lr_find(
    data: str = typer.Option(
        ..., "--data", "-d", metavar="DATASET", help="Dataset folder or Hub ORG/NAME@rev."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="DIR", help="Folder for lr_find.json and .png."
    ),
    recipe: str = _RECIPE,
    config: Path = _CONFIG,
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Base model: Hub id or local dir."
    ),
    min_lr: float = typer.Option(1e-6, "--min-lr", metavar="LR", help="Start of the range."),
    max_lr: float = typer.Option(1e-1, "--max-lr", metavar="LR", help="End of the range."),
    steps: int = typer.Option(50, "--steps", metavar="N", help="Steps across the range."),
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


@train_app.command("combine", cls=command_class())
def combine(
    adapters: list[Path] = typer.Argument(
        ..., metavar="ADAPTER...", help="Two or more LoRA adapter folders."
    ),
    weights: str = typer.Option(
        ..., "--weights", "-w", metavar="W,W,...", help="One weight each: 0.7,0.3."
    ),
    method: str = typer.Option(
        "cat",
        "--method",
        metavar="METHOD",
        help="cat (default; exactly the weighted sum of the adapters' weight deltas, rank = "
        "sum of ranks), svd (that sum refactored to --svd-rank), ties, dare_ties, dare_linear, "
        "magnitude_prune (prune with --density; one rank only). peft's linear is not offered: "
        "it mixes A and B separately, adding cross terms B_i A_j no adapter learned, which is "
        "wrong for independently trained adapters.",
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="DIR", help="Folder for the combined adapter."
    ),
    density: float = typer.Option(
        None,
        "--density",
        metavar="FRACTION",
        help="ties/dare/magnitude_prune: fraction kept (default 0.5).",
    ),
    svd_rank: int = typer.Option(None, "--svd-rank", metavar="R", help="svd: rank of the result."),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed for DARE's random drops."),
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


@train_app.command("export", cls=command_class())
def export(
    run: Path = typer.Argument(
        ..., metavar="RUN", help="Run folder (RUN/adapter), adapter or merged model."
    ),
    fmt: str = typer.Option(
        "gguf", "--format", metavar="gguf", help="gguf (for llama.cpp and Ollama)."
    ),
    outtype: str = typer.Option(
        "f16",
        "--outtype",
        metavar="TYPE",
        help="f32, f16, bf16, q8_0 (written by the gguf library), or a k-quant such as q4_k_m "
        "(needs llama.cpp's llama-quantize on PATH).",
    ),
    lora_only: bool = typer.Option(
        False, "--lora-only", help="The adapter alone (llama.cpp --lora / Ollama ADAPTER)."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", metavar="DIR", help="Export folder (default RUN/gguf)."
    ),
    name: str = typer.Option(
        None, "--name", metavar="NAME", help="Ollama model name (default rustdoc-RUN)."
    ),
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Base model (default: the adapter's)."
    ),
    base_gguf: Path = typer.Option(
        None,
        "--base-gguf",
        metavar="FILE",
        help="--lora-only: an existing base GGUF to name instead of writing one.",
    ),
    base_weights: str = typer.Option(
        "original",
        "--base-weights",
        metavar="original|dequantized",
        help="4-bit runs: original or dequantized (see merge).",
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


@train_app.command("quant-report", cls=command_class())
def quant_report(
    model: str = typer.Option(
        ..., "--model", "-m", metavar="MODEL", help="Hub id or local model folder."
    ),
    out: Path = typer.Option(
        Path("quant-report"), "--out", "-o", metavar="DIR", help="Folder for the report."
    ),
    layers: int = typer.Option(
        None,
        "--layers",
        metavar="N",
        help="Measure only the first N decoder layers (default: all).",
    ),
    blocksize: int = typer.Option(
        64, "--blocksize", metavar="N", help="4-bit block size (QLoRA: 64)."
    ),
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

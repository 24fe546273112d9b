"""`corpus train dpo|kto|orpo|reward|rl`: training after SFT, on the same recipes and flags.

Each command lays its method's overlay (``pipelines/train/recipes/methods/METHOD.yaml``) over
a tier's recipe, takes the base and prompt of the SFT adapter given with ``--from``, and
applies flags and ``--set`` on top. Every input is checked before torch is imported (exit 2,
one line). Only typer/rich at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import command_class, console, is_interactive, user_errors
from corpus.commands.train import _CONFIG, _EVAL_LIMIT, _RECIPE, _SET, require_modules, train_app

_PAIRS = typer.Option(
    None, "--pairs", "-p", metavar="DIR", help="`corpus pairs` output (preferences/ and kto/)."
)
_FROM = typer.Option(
    None,
    "--from",
    metavar="RUN/adapter",
    help="The SFT adapter to start from; its frozen copy is the reference.",
)
_DATA = typer.Option(
    None,
    "--data",
    "-d",
    metavar="DATASET",
    help="Dataset for the end-of-run eval (default: the one the pairs came from).",
)
_OUT = typer.Option(None, "--out", "-o", metavar="DIR", help="Run folder (default TIER-METHOD).")
_MODEL = typer.Option(
    None, "--model", "-m", metavar="MODEL", help="Base model (default: the --from adapter's)."
)
_BITS = typer.Option(None, "--bits", metavar="4|16", help="4 (QLoRA, NF4) or 16.")
_BETA = typer.Option(None, "--beta", metavar="BETA", help="The method's beta (see the README).")
_LR = typer.Option(None, "--lr", metavar="LR", help="Peak learning rate.")
_MAX_STEPS = typer.Option(None, "--max-steps", metavar="N", help="Stop after N optimiser steps.")
_BATCH = typer.Option(None, "--batch-size", metavar="N", help="Examples per device step.")
_ACCUM = typer.Option(None, "--grad-accum", metavar="N", help="Gradient accumulation steps.")
_MAX_LENGTH = typer.Option(None, "--max-length", metavar="N", help="Tokens per example.")
_SEED = typer.Option(None, "--seed", metavar="N", help="Random seed.")
_DEVICE = typer.Option(None, "--device", metavar="DEVICE", help="auto, cpu or cuda.")
_PUSH = typer.Option(None, "--push-to-hub", metavar="ORG/NAME", help="Push the adapter.")
_RESUME = typer.Option(False, "--resume", help="Continue from the last checkpoint.")

#: CLI parameter -> TrainConfig field.
_FLAGS = {"pairs": "pairs", "from_": "init_adapter", "data": "dataset", "out": "output_dir",
          "model": "model", "bits": "bits", "beta": "beta", "lr": "learning_rate",
          "max_steps": "max_steps", "batch_size": "batch_size", "grad_accum": "grad_accum",
          "max_length": "max_length", "seed": "seed", "device": "device",
          "push_to_hub": "push_to_hub", "eval_limit": "eval_limit", "loss_type": "loss_type",
          "num_generations": "num_generations", "reward_run": "reward_run"}  # fmt: skip


def register(app: typer.Typer) -> None:
    """The commands are on `corpus train` (added when this module is imported)."""
    _ = app


def _run(method: str, flags: dict[str, Any]) -> None:
    """Config, checks (no model yet), training, one summary line."""
    from corpus.commands.train import _overrides

    require_modules()
    with user_errors():
        from pipelines.train.methods.inputs import check_method_inputs, method_config

        values = {field: flags.get(name) for name, field in _FLAGS.items() if name in flags}
        values = {k: (str(v) if isinstance(v, Path) else v) for k, v in values.items()}
        overrides = _overrides(flags.get("sets") or [], **values)
        cfg = method_config(method, flags.get("recipe"), flags.get("config"), overrides)
        check_method_inputs(cfg, resume=flags.get("resume", False))
        from pipelines.train.methods.run import train_method

        res = train_method(cfg, resume=flags.get("resume", False), progress=is_interactive())
    tl = f"{res.train_loss:.4f}" if res.train_loss is not None else "-"
    ev = f"{res.eval_loss:.4f}" if res.eval_loss is not None else "-"
    console.print(
        f"{method}: trained {res.steps} steps on {res.device} in {res.seconds:.1f}s: train loss "
        f"{tl}, eval loss {ev}; adapter in {res.adapter_dir} (report: {res.output_dir}/report.md)",
        soft_wrap=True,
        markup=False,
    )
    from corpus.commands.train import _print_eval_line

    _print_eval_line(Path(res.output_dir))


@train_app.command("dpo", cls=command_class())
def dpo(
    pairs: str = _PAIRS, from_: str = _FROM, data: str = _DATA, out: str = _OUT,
    recipe: str = _RECIPE, config: Path = _CONFIG, model: str = _MODEL, bits: int = _BITS,
    beta: float = _BETA,
    loss_type: str = typer.Option(
        None, "--loss-type", metavar="sigmoid|ipo|hinge", help="sigmoid (DPO), ipo or hinge."
    ),
    lr: float = _LR, max_steps: int = _MAX_STEPS, batch_size: int = _BATCH,
    grad_accum: int = _ACCUM, max_length: int = _MAX_LENGTH, seed: int = _SEED,
    device: str = _DEVICE, push_to_hub: str = _PUSH, eval_limit: int = _EVAL_LIMIT,
    resume: bool = _RESUME, sets: list[str] = _SET,
) -> None:  # fmt: skip
    """DPO / IPO / hinge on preference pairs, from an SFT adapter (--from)."""
    _run("dpo", dict(locals()))


@train_app.command("kto", cls=command_class())
def kto(
    pairs: str = _PAIRS, from_: str = _FROM, data: str = _DATA, out: str = _OUT,
    recipe: str = _RECIPE, config: Path = _CONFIG, model: str = _MODEL, bits: int = _BITS,
    beta: float = _BETA, lr: float = _LR, max_steps: int = _MAX_STEPS, batch_size: int = _BATCH,
    grad_accum: int = _ACCUM, max_length: int = _MAX_LENGTH, seed: int = _SEED,
    device: str = _DEVICE, push_to_hub: str = _PUSH, eval_limit: int = _EVAL_LIMIT,
    resume: bool = _RESUME, sets: list[str] = _SET,
) -> None:  # fmt: skip
    """KTO on the KTO view of the pairs (desirable / undesirable), from an SFT adapter."""
    _run("kto", dict(locals()))


@train_app.command("orpo", cls=command_class())
def orpo(
    pairs: str = _PAIRS, from_: str = _FROM, data: str = _DATA, out: str = _OUT,
    recipe: str = _RECIPE, config: Path = _CONFIG, model: str = _MODEL, bits: int = _BITS,
    beta: float = _BETA, lr: float = _LR, max_steps: int = _MAX_STEPS, batch_size: int = _BATCH,
    grad_accum: int = _ACCUM, max_length: int = _MAX_LENGTH, seed: int = _SEED,
    device: str = _DEVICE, push_to_hub: str = _PUSH, eval_limit: int = _EVAL_LIMIT,
    resume: bool = _RESUME, sets: list[str] = _SET,
) -> None:  # fmt: skip
    """ORPO on preference pairs from the base model: SFT and preference in one stage."""
    _run("orpo", dict(locals()))


@train_app.command("reward", cls=command_class())
def reward(
    pairs: str = _PAIRS, out: str = _OUT, recipe: str = _RECIPE, config: Path = _CONFIG,
    model: str = _MODEL, bits: int = _BITS, lr: float = _LR, max_steps: int = _MAX_STEPS,
    batch_size: int = _BATCH, grad_accum: int = _ACCUM, max_length: int = _MAX_LENGTH,
    seed: int = _SEED, device: str = _DEVICE, push_to_hub: str = _PUSH, resume: bool = _RESUME,
    sets: list[str] = _SET,
) -> None:  # fmt: skip
    """A Bradley-Terry reward model (classification head + LoRA) on preference pairs."""
    _run("reward", dict(locals()))


@train_app.command("rl", cls=command_class())
def rl(
    data: str = typer.Option(
        None, "--data", "-d", metavar="DATASET", help="Dataset: prompts and references."
    ),
    from_: str = _FROM, out: str = _OUT, recipe: str = _RECIPE, config: Path = _CONFIG,
    model: str = _MODEL, bits: int = _BITS, beta: float = _BETA,
    num_generations: int = typer.Option(
        None, "--num-generations", metavar="N", help="Completions per prompt (the group)."
    ),
    reward_run: str = typer.Option(
        None, "--reward-run", metavar="RUN", help="Reward model for the reward_model component."
    ),
    lr: float = _LR, max_steps: int = _MAX_STEPS, batch_size: int = _BATCH,
    grad_accum: int = _ACCUM, max_length: int = _MAX_LENGTH, seed: int = _SEED,
    device: str = _DEVICE, push_to_hub: str = _PUSH, eval_limit: int = _EVAL_LIMIT,
    resume: bool = _RESUME, sets: list[str] = _SET,
) -> None:  # fmt: skip
    """Online RL (GRPO) from an SFT adapter against code-aware reward components."""
    _run("rl", dict(locals()))


def plan_methods_command(flags: dict[str, Any], models: list[str]) -> None:
    """`corpus train plan --method ...`: memory per (model, method); steps per tier with
    --pairs (pair methods) or --data (rl)."""
    import json

    from corpus.commands._common import ExitCode, fail

    with user_errors():
        from pipelines.train.config import METHODS
        from pipelines.train.methods.plan import plan_method_steps, plan_methods
        from pipelines.train.plan import PlanRequest

        methods = list(METHODS) if "all" in flags["method"] else list(flags["method"])
        bad = [m for m in methods if m not in METHODS]
        if bad:
            fail(f"--method {bad[0]}: choose from {', '.join(METHODS)} or all", ExitCode.BAD_INPUT)
        req = PlanRequest(bits=flags["bits"], lora_r=flags["rank"], batch_size=flags["batch_size"],
                          seq_len=flags["seq_len"], targets=flags["targets"],
                          adapter=flags["adapter"], gpu=not flags["cpu"],
                          gradient_checkpointing=not flags["no_checkpointing"])  # fmt: skip
        plans = plan_methods(models, methods, req)
        steps = _method_steps(methods, flags, plan_method_steps)
    if flags["as_json"]:
        console.print_json(json.dumps({"memory": [p.to_dict() for p in plans], "steps": steps}))
        return
    _print_method_plans(plans, flags.get("vram"), steps)
    if flags.get("vram") is not None and any(p.total > flags["vram"] * 2**30 for p in plans):
        raise typer.Exit(int(ExitCode.FAILURE))


def _method_steps(methods: list[str], flags: dict[str, Any], planner: Any) -> list[dict]:
    from pipelines.train.config import TIERS

    tiers = [flags["recipe"]] if flags.get("recipe") else list(TIERS)
    rows: list[dict] = []
    for method in methods:
        source = flags.get("data") if method == "rl" else flags.get("pairs")
        if source and method != "sft":
            rows += planner(method, source, tiers)
    return rows


def _print_method_plans(plans: list[Any], vram: float | None, steps: list[dict]) -> None:
    from rich.table import Table

    gib = 2**30
    table = Table(title="memory plan per method (GiB)")
    for col in ("model", "method", "weights", "adapters+opt", "activations", "reference",
                "generation", "total"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("model", "method") else "right",
                         overflow="fold")  # fmt: skip
    if vram is not None:
        table.add_column(f"fits {vram:g} GiB")
    for p in plans:
        b = p.base
        cells = [b.model.rsplit("/", 1)[-1], p.method] + [
            f"{x / gib:.2f}"
            for x in (
                b.weights,
                b.adapters + b.gradients + b.optimizer,
                b.activations,
                p.reference,
                p.generation,
                p.total,
            )
        ]
        if vram is not None:
            cells.append("yes" if p.total <= vram * gib else "no")
        table.add_row(*cells)
    console.print(table)
    if steps:
        st = Table(title="steps per tier")
        for col in ("tier", "method", "examples", "per step", "steps/epoch", "steps"):
            st.add_column(col, justify="left" if col in ("tier", "method") else "right")
        for r in steps:
            st.add_row(r["tier"], r["method"], f"{r['examples']:,}", str(r["per_step"]),
                       str(r["steps_per_epoch"]), str(r["steps"]))  # fmt: skip
        console.print(st)

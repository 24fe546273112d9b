"""A method run's config, and everything about its inputs that can be checked before a model
loads: the pairs (and the view the method needs), the SFT adapter (``--from``) and its base,
the dataset, the run folder. Every failure is one BadInputError line (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from pipelines.train.config import TrainConfig, load_config

#: Methods that train relative to the SFT model, so need its adapter (``--from``).
NEEDS_FROM = ("dpo", "kto", "rl")
#: What a method run takes over from the SFT adapter's recipe unless told otherwise: the
#: base it was trained on and the prompt it answers (the pairs and rewards must match it).
INHERITED = ("model", "bits", "prompt_input", "system_prompt", "source_budget", "lora_r",
             "lora_alpha", "lora_dropout", "lora_targets", "adapter", "use_rslora", "use_dora",
             "attn_implementation")  # fmt: skip


def adapter_folder(spec: str) -> Path:
    """``RUN`` or ``RUN/adapter`` -> the adapter folder, or exit 2 naming what is missing."""
    path = Path(spec).expanduser()
    for cand in (path, path / "adapter"):
        if (cand / "adapter_config.json").is_file():
            return cand
    if not path.exists():
        raise BadInputError(f"--from {spec}: no such run or adapter folder")
    raise BadInputError(f"--from {spec}: not an adapter folder (no adapter_config.json)")


def method_config(
    method: str,
    tier: str | None = None,
    config: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """The validated config of a ``method`` run: the tier (or ``config``), the method's
    overlay, the SFT adapter's base and prompt (:data:`INHERITED`), then ``overrides``."""
    from pipelines.train.config import load_values

    overrides = dict(overrides or {})
    init = overrides.get("init_adapter") or ""
    if not init and config is not None:
        init = load_values(None, config, {}, method).get("init_adapter") or ""
    if init:
        folder = adapter_folder(str(init))
        overrides["init_adapter"] = str(folder)
        trained = _trained_recipe(folder)
        for key in INHERITED:
            if key not in overrides and key in trained:
                overrides[key] = trained[key]
    return load_config(tier, config, overrides, method=method)


def _trained_recipe(adapter: Path) -> dict[str, Any]:
    """The recipe an adapter was trained with (train_config.yaml), else its base from
    adapter_config.json (an adapter made elsewhere)."""
    from pipelines.train.config import read_yaml
    from pipelines.train.merge import adapter_base
    from pipelines.train.run import CONFIG_FILE

    if (adapter / CONFIG_FILE).is_file():
        return read_yaml(adapter / CONFIG_FILE)
    return {"model": adapter_base(adapter)}


def check_from(cfg: TrainConfig) -> None:
    """``--from`` is given where the method needs it, and its adapter fits ``cfg.model``."""
    if cfg.method in NEEDS_FROM and not cfg.init_adapter:
        raise BadInputError(
            f"corpus train {cfg.method} needs --from RUN/adapter: the SFT adapter it starts "
            "from (and whose frozen copy is its reference); train one with `corpus train` first"
        )
    if not cfg.init_adapter:
        return
    if cfg.method == "reward":
        raise BadInputError(
            "corpus train reward starts from the base model (a new classification head); "
            "drop --from"
        )
    adapter = adapter_folder(cfg.init_adapter)
    check_base(adapter, cfg.model)


def check_base(adapter: Path, model: str) -> None:
    """Refuse an adapter trained on another base than ``model`` (shapes compared when both
    configs are local; two different Hub ids are refused by name)."""
    from pipelines.train.merge import _local_config, adapter_base, check_same_base

    check_same_base(adapter, model)
    trained_on = adapter_base(adapter)
    if trained_on == model or Path(trained_on).expanduser().resolve() == Path(model).resolve():
        return
    if _local_config(trained_on) is None and _local_config(model) is None:
        raise BadInputError(
            f"--from {adapter} was trained on {trained_on}, not {model}; drop --model (the "
            "run takes the adapter's base) or pass an adapter of that base"
        )


def pairs_view(method: str) -> str:
    """Which `corpus pairs` view a method trains on."""
    return "kto" if method == "kto" else "preferences"


def check_pairs(cfg: TrainConfig) -> list[Path]:
    """The pairs a pair method needs, in the view it needs, made with the run's prompt."""
    from pipelines.pairs.store import check_pairs_path, find_report

    files = check_pairs_path(cfg.pairs, pairs_view(cfg.method))
    report = find_report(cfg.pairs) or {}
    mined = (report.get("prompt") or {}).get("input")
    if mined and mined != cfg.prompt_input:
        raise BadInputError(
            f"--pairs {cfg.pairs} were mined with prompt input {mined!r}, but this run "
            f"prompts with {cfg.prompt_input!r} (its SFT adapter's); re-mine with `corpus "
            f"pairs DATASET --prompt-input {cfg.prompt_input}` or --set prompt_input={mined}"
        )
    return files


def default_dataset(cfg: TrainConfig) -> str:
    """The dataset a pair run evaluates on: --data, else the one its pairs were mined from."""
    from pipelines.pairs.store import find_report

    if cfg.dataset or not cfg.pairs:
        return cfg.dataset
    mined_from = (find_report(cfg.pairs) or {}).get("dataset") or ""
    return mined_from if mined_from and Path(mined_from).exists() else ""


def check_method_inputs(cfg: TrainConfig, *, resume: bool = False) -> Path | None:
    """Every check of a method run short of loading a model; returns the checkpoint to
    resume from (see ``pipelines.train.run.check_inputs``)."""
    from corpus.layout import check_dataset_spec
    from pipelines.train.model import _check_model_source
    from pipelines.train.run import CHECKPOINT_DIR, last_checkpoint

    if cfg.method == "sft":
        raise BadInputError("method sft is plain `corpus train`")
    check_from(cfg)
    if cfg.method == "rl":
        if not cfg.dataset:
            raise BadInputError("corpus train rl needs --data DATASET (its prompts and rewards)")
        if "reward_model" in cfg.rewards:
            from pipelines.train.methods.reward_model import reward_adapter

            reward_adapter(cfg.reward_run, cfg.model)
    else:
        check_pairs(cfg)
    if cfg.dataset:
        check_dataset_spec(cfg.dataset, cfg.dataset_config)
    _check_model_source(cfg.model)
    out = Path(cfg.output_dir)
    checkpoint = last_checkpoint(out)
    if resume and checkpoint is None:
        raise BadInputError(f"--resume: no checkpoint under {out / CHECKPOINT_DIR}")
    if not resume and checkpoint is not None:
        raise BadInputError(
            f"{out} already holds checkpoints; pass --resume to continue, or choose another --out"
        )
    return checkpoint

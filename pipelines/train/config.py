"""The training recipe: one dataclass of documented fields, loaded from YAML, overridden, validated.

A recipe YAML (``recipes/<tier>.yaml``) sets fields of :class:`TrainConfig`; the command line
overrides them (``--set key=value`` or first-class flags). :func:`validate` collects *every*
problem at once so ``corpus train validate`` can report them together. Defaults live here and
in the YAML files only, never in ``cfg.get(key, default)`` calls elsewhere.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from corpus.errors import BadInputError
from corpus.prompt import DEFAULT_PROMPT_INPUT, DEFAULT_SOURCE_BUDGET, PROMPT_INPUTS, SYSTEM_PROMPT

RECIPES_DIR = Path(__file__).parent / "recipes"
TIERS = ("tiny", "small", "medium", "large")
#: peft adapter types: LoRA, DoRA (LoRA + a magnitude vector), LoHa (Hadamard), LoKr (Kronecker).
ADAPTERS = ("lora", "dora", "loha", "lokr")
DEFAULT_TIER = "small"
#: What `corpus train` can train: supervised fine-tuning and the methods after it.
METHODS = ("sft", "dpo", "kto", "orpo", "reward", "rl")
PAIR_METHODS = ("dpo", "kto", "orpo", "reward")
DPO_LOSSES = ("sigmoid", "ipo", "hinge")
METHODS_DIR = RECIPES_DIR / "methods"

DEFAULT_SYSTEM_PROMPT = SYSTEM_PROMPT


def _f(
    default: Any,
    help: str,
    choices: tuple[Any, ...] | None = None,
    *,
    ge: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
) -> Any:
    """A dataclass field carrying its help text, allowed choices and range (``ge``: at least,
    ``gt``: more than, ``lt``: less than), all checked by :func:`collect_errors`."""
    meta: dict[str, Any] = {"help": help}
    if choices is not None:
        meta["choices"] = choices
    for name, bound in (("ge", ge), ("gt", gt), ("lt", lt)):
        if bound is not None:
            meta[name] = bound
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Everything one training run needs. Grouped: model, LoRA, data, optimisation, loop, output."""

    # --- model ---------------------------------------------------------------------------
    model: str = _f(
        "Qwen/Qwen2.5-Coder-1.5B-Instruct",
        "Base model: a Hub id (ORG/NAME) or a local directory with config.json and weights.",
    )
    bits: int = _f(
        4, "Base weights: 4 = NF4 + double quantisation (QLoRA); 16 = plain LoRA.", (4, 16)
    )
    device: str = _f(
        "auto", "Where to train: auto picks cuda when available, else cpu.", ("auto", "cpu", "cuda")
    )
    gradient_checkpointing: bool = _f(True, "Recompute activations in backward to save memory.")
    attn_implementation: str = _f(
        "sdpa", "Attention kernel passed to transformers.", ("sdpa", "eager", "flash_attention_2")
    )

    # --- LoRA ----------------------------------------------------------------------------
    lora_r: int = _f(64, "LoRA rank r (>= 1).", ge=1)
    lora_alpha: float = _f(
        16.0, "LoRA alpha; the update is scaled by alpha/r (alpha/sqrt(r) with rsLoRA).", gt=0
    )
    lora_dropout: float = _f(0.1, "Dropout on the LoRA input, in [0, 1).", ge=0, lt=1)
    lora_targets: str = _f(
        "all",
        "Which linear projections get adapters: attention (q,k,v,o), mlp (gate,up,down) or all.",
        ("attention", "mlp", "all"),
    )
    use_rslora: bool = _f(False, "Rank-stabilised LoRA: scale alpha/sqrt(r) instead of alpha/r.")
    adapter: str = _f(
        "lora",
        "Adapter type (peft): lora; dora (weight-decomposed LoRA, a magnitude vector per "
        "module); loha (low-rank Hadamard product, twice LoRA's parameters); lokr (Kronecker "
        "product, far fewer). loha and lokr need bits=16 and train without dropout.",
        ADAPTERS,
    )
    use_dora: bool = _f(
        False,
        "Old spelling of adapter=dora, kept so older recipes and run folders load: true makes "
        "a lora adapter dora. Always saved equal to (adapter == dora).",
    )

    # --- data ----------------------------------------------------------------------------
    dataset: str = _f(
        "",
        "Local dataset folder/parquet (corpus build output) or a Hub dataset ORG/NAME[@revision].",
    )
    prompt_input: str = _f(
        DEFAULT_PROMPT_INPUT,
        "What the user turn shows: the signature; its context (module path and the enclosing "
        "impl/trait/extern header around the signature); or the whole source, in context.",
        PROMPT_INPUTS,
    )
    source_budget: int = _f(
        DEFAULT_SOURCE_BUDGET,
        "Tokens of item source a `source` prompt shows before cutting the body's middle.",
        ge=16,
    )
    system_prompt: str = _f(DEFAULT_SYSTEM_PROMPT, "System message of every conversation.")
    dataset_config: str = _f(
        "default",
        "Which config of the dataset: default (every record) or balanced (capped repo shares).",
        ("default", "balanced"),
    )
    mixture: dict = _f(  # noqa: RUF009  (_f returns a field with a default_factory)
        {},
        "Per-repository sampling weights, e.g. {tokio-rs/tokio: 0.5}: a record's chance of being "
        "drawn scales with its repository's weight (unlisted repositories weigh 1). The "
        "training set keeps its size; repositories are up- or down-sampled, seeded.",
    )
    mixture_temperature: float = _f(
        1.0,
        "Temperature sampling over repositories: shares proportional to n**(1/T); 1 keeps the "
        "natural shares, larger T flattens them toward uniform (combines with mixture).",
        gt=0,
    )
    include_tests: bool = _f(False, "Also train on records flagged is_test.")
    max_length: int = _f(
        2048,
        "Maximum tokens per example and (packed) sequence; longer examples are shortened "
        "(source prompts) or dropped, never cut.",
        ge=32,
    )
    packing: bool = _f(True, "Pack several conversations into one sequence (padding-free).")
    packing_strategy: str = _f(
        "bfd",
        "TRL packing: bfd keeps conversations whole; wrapped cuts across them.",
        ("bfd", "wrapped"),
    )
    train_split: str = _f("train", "Value of the corpus `split` column used for training.")
    eval_split: str = _f(
        "validation", "Value of the `split` column used for eval loss ('' = none)."
    )
    max_train_records: int = _f(0, "Use at most this many training records (0 = all).", ge=0)
    max_eval_records: int = _f(512, "Use at most this many eval records (0 = all).", ge=0)

    # --- optimisation --------------------------------------------------------------------
    learning_rate: float = _f(2e-4, "Peak learning rate.", gt=0)
    lr_scheduler: str = _f(
        "constant_with_warmup",
        "Schedule after warmup.",
        ("constant_with_warmup", "cosine", "linear", "constant"),
    )
    warmup: float = _f(
        0.03, "Warmup: a fraction of the steps if < 1, else a number of steps.", ge=0
    )
    weight_decay: float = _f(0.0, "AdamW weight decay.", ge=0)
    max_grad_norm: float = _f(0.3, "Gradient clipping norm (0 = off).", ge=0)
    optimizer: str = _f(
        "auto",
        "auto = paged_adamw_32bit on GPU, adamw_torch on CPU (paging needs CUDA).",
        ("auto", "paged_adamw_32bit", "paged_adamw_8bit", "adamw_torch"),
    )
    batch_size: int = _f(1, "Sequences per device step.", ge=1)
    grad_accum: int = _f(
        16, "Gradient accumulation steps (effective batch = batch_size * this).", ge=1
    )
    epochs: float = _f(1.0, "Passes over the training data (ignored when max_steps > 0).", gt=0)
    max_steps: int = _f(0, "Stop after this many optimiser steps (0 = use epochs).", ge=0)
    seed: int = _f(42, "Seed for data order, LoRA init and dropout.")

    # --- loop ----------------------------------------------------------------------------
    eval_steps: int = _f(
        0,
        "Eval loss every N optimiser steps; 0 = sized from the data (evals_per_run evals over "
        "the run); -1 = only at the end.",
        ge=-1,
    )
    evals_per_run: int = _f(
        10,
        "With eval_steps 0 (and save_steps 0): how many evals (and checkpoints) a run has.",
        ge=1,
    )
    early_stopping_patience: int = _f(
        -1,
        "Stop after this many evals without improvement; -1 = a third of the run's evals "
        "(at least 2), sized from the data; 0 = off.",
        ge=-1,
    )
    save_steps: int = _f(
        0,
        "Checkpoint every N optimiser steps; 0 = with every eval (sized from the data); "
        "-1 = only at the end.",
        ge=-1,
    )
    save_total_limit: int = _f(3, "Keep at most this many checkpoints (0 = all).", ge=0)
    logging_steps: int = _f(10, "Log train loss every N optimiser steps.", ge=1)

    # --- evaluation (`corpus eval` at the end of the run) -------------------------------
    eval_limit: int = _f(
        64,
        "After training, compare the adapter with its base and the retrieval baseline on this "
        "many test-split records (a fixed subset) with `corpus eval`'s metrics; written to "
        "RUN/eval/ and report.md (0 = off).",
        ge=0,
    )
    eval_max_new_tokens: int = _f(256, "Generation budget per doc in that evaluation.", ge=1)

    # --- alignment: dpo, kto, orpo, reward, rl (pipelines/train/methods) -----------------
    method: str = _f(
        "sft",
        "What the run trains: sft (supervised, the default), dpo, kto, orpo (preference "
        "optimisation on `corpus pairs`), reward (a Bradley-Terry reward model) or rl (GRPO "
        "against code-aware rewards). `corpus train METHOD` sets it.",
        METHODS,
    )
    pairs: str = _f(
        "", "dpo/kto/orpo/reward: the `corpus pairs` folder (preferences/ and kto/) to train on."
    )
    init_adapter: str = _f(
        "",
        "dpo/kto/rl (and optionally orpo): the SFT adapter the run starts from (--from "
        "RUN/adapter). It keeps training; a frozen copy is the reference (TRL's 'ref' adapter: "
        "no second model in memory).",
    )
    beta: float = _f(
        0.1,
        "dpo/kto: how far the policy may move from the reference (the loss's beta; for ipo "
        "its regulariser tau); orpo: the odds-ratio weight lambda; rl: the KL coefficient "
        "(0 = no KL term; the KL is then not measured).",
        ge=0,
    )
    loss_type: str = _f(
        "sigmoid",
        "dpo: sigmoid (DPO), ipo (IPO: squared loss, robust to deterministic preferences) or "
        "hinge (SLiC).",
        DPO_LOSSES,
    )
    kto_balance: bool = _f(
        True,
        "kto: weigh desirable rows by (undesirable rows / desirable rows), so both sides pull "
        "equally (the KTO paper's rule; `corpus pairs` gives one doc per four rejections).",
    )
    rewards: dict = _f(  # noqa: RUF009  (_f returns a field with a default_factory)
        {"format_valid": 1.0, "section_agreement": 0.5, "param_coverage": 0.5,
         "doctest_parse": 0.5, "no_invented_ids": 0.5, "rouge_l": 1.0},
        "rl: weight of each reward component (pipelines/train/rewards.py): format_valid, "
        "section_agreement, param_coverage, doctest_parse, no_invented_ids, rouge_l, "
        "reward_model (needs reward_run). Each scores in [0, 1]; the guards come on top.",
    )  # fmt: skip
    reward_run: str = _f(
        "", "rl: a `corpus train reward` run whose model is the reward_model component."
    )
    length_penalty: float = _f(
        0.5,
        "rl: weight of the length guard: a doc outside half to twice its reference's length "
        "loses up to this much (0 = off).",
        ge=0,
    )
    degenerate_guard: bool = _f(
        True,
        "rl: a degenerate output (empty, no doc line, a loop of repeated words) gets a total "
        "reward below any sound output's, whatever its components say.",
    )
    num_generations: int = _f(4, "rl: completions sampled per prompt (the GRPO group).", ge=2)
    rl_max_new_tokens: int = _f(256, "rl: generation budget per completion.", ge=1)
    temperature: float = _f(1.0, "rl: sampling temperature of the generations.", gt=0)

    # --- output --------------------------------------------------------------------------
    output_dir: str = _f("runs/train", "Run folder: adapter/, checkpoints/, metrics.jsonl, report.")
    push_to_hub: str = _f(
        "", "Push the adapter to this Hub repo ORG/NAME after training ('' = no)."
    )

    # ------------------------------------------------------------------------------------
    @property
    def uses_eval(self) -> bool:
        """True when an eval split is configured."""
        return bool(self.eval_split)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (what gets saved beside the run as train_config.yaml)."""
        return dataclasses.asdict(self)


FIELD_NAMES = tuple(f.name for f in fields(TrainConfig))
_HINTS = typing.get_type_hints(TrainConfig)


def field_help() -> dict[str, str]:
    """name -> help text, with the allowed choices appended (for docs and `validate`)."""
    out = {}
    for f in fields(TrainConfig):
        text = f.metadata["help"]
        if "choices" in f.metadata:
            text += f" One of: {', '.join(map(str, f.metadata['choices']))}."
        out[f.name] = text
    return out


def recipe_path(tier: str) -> Path:
    """The YAML file of a tier."""
    if tier not in TIERS:
        raise BadInputError(f"unknown recipe tier {tier!r}; choose one of {', '.join(TIERS)}")
    return RECIPES_DIR / f"{tier}.yaml"


def read_yaml(path: Path) -> dict[str, Any]:
    """A recipe file as a mapping, with clear errors for a missing or malformed file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInputError(f"{path}: no such config file") from exc
    except yaml.YAMLError as exc:
        raise BadInputError(f"{path}: not valid YAML ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: a recipe must be a mapping of key: value")
    return data


def parse_set(items: list[str]) -> dict[str, Any]:
    """``["lora_r=8", "packing=false"]`` -> ``{"lora_r": 8, "packing": False}`` (YAML scalars)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"--set {item!r}: expected key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        out[key.strip()] = value
    return out


def _check_type(name: str, value: Any) -> tuple[Any, str | None]:
    """Coerce ``value`` to the field's type where lossless; return (value, error or None)."""
    hint = _HINTS[name]
    if isinstance(hint, types.UnionType):  # not used today; kept explicit rather than guessed
        return value, None
    if hint is bool:
        if isinstance(value, bool):
            return value, None
        return value, f"{name}: expected true or false, got {value!r}"
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        return value, f"{name}: expected an integer, got {value!r}"
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value), None
        if isinstance(value, str):  # YAML reads "2e-4" as a string
            try:
                return float(value), None
            except ValueError:
                pass
        return value, f"{name}: expected a number, got {value!r}"
    if hint is dict:
        if isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
            for k, v in value.items()
        ):
            return {k: float(v) for k, v in value.items()}, None
        return value, f"{name}: expected a mapping of name to weight, got {value!r}"
    if hint is str:
        if isinstance(value, str):
            return value, None
        if value is None:
            return "", None
        return value, f"{name}: expected a string, got {value!r}"
    return value, None


def collect_errors(values: dict[str, Any]) -> tuple[TrainConfig | None, list[str]]:
    """Build a config from raw values; return it (None if unusable) and every error found."""
    errors: list[str] = []
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key not in FIELD_NAMES:
            near = [n for n in FIELD_NAMES if key.replace("-", "_") == n or key in n]
            hint = f" (did you mean {near[0]}?)" if near else ""
            errors.append(f"{key}: unknown option{hint}")
            continue
        value, err = _check_type(key, value)
        if err:
            errors.append(err)
        else:
            clean[key] = value
    cfg = TrainConfig(**clean)
    _apply_aliases(cfg)
    errors.extend(_semantic_errors(cfg, failed_type=set(values) - set(clean)))
    return cfg, errors


def _apply_aliases(cfg: TrainConfig) -> None:
    """``use_dora: true`` (the old spelling) means ``adapter: dora``; afterwards the two agree."""
    if cfg.use_dora and cfg.adapter == "lora":
        cfg.adapter = "dora"
    if cfg.adapter == "dora":
        cfg.use_dora = True


_BOUNDS = (
    ("ge", lambda v, b: v >= b, "must be >= {}"),
    ("gt", lambda v, b: v > b, "must be > {}"),
    ("lt", lambda v, b: v < b, "must be < {}"),
)


def _field_errors(cfg: TrainConfig, failed_type: set[str]) -> list[str]:
    """Each field's choices and range, as its metadata declares them."""
    errs: list[str] = []
    for f in fields(TrainConfig):
        if f.name in failed_type:
            continue
        value = getattr(cfg, f.name)
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            errs.append(f"{f.name}: {value!r} is not one of {', '.join(map(str, choices))}")
        for key, ok, text in _BOUNDS:
            if key in f.metadata and not ok(value, f.metadata[key]):
                errs.append(f"{f.name}: {text.format(f.metadata[key])}, got {value}")
    return errs


#: Rules across fields: (holds, message (formatted with c=the config), the fields it reads).
_RULES: tuple[tuple[Any, str, tuple[str, ...]], ...] = (
    (lambda c: bool(c.model.strip()), "model: must name a Hub id or a local directory",
     ("model",)),
    (lambda c: not (c.early_stopping_patience > 0 and not c.eval_split),
     "early_stopping_patience: needs an eval split (set eval_split, or "
     "early_stopping_patience=0)", ("early_stopping_patience", "eval_split")),
    (lambda c: not (c.adapter == "dora" and c.bits == 4 and c.device == "cpu"),
     "adapter: DoRA on a 4-bit base needs a GPU (peft dequantises every step); use bits=16 "
     "on CPU", ("adapter", "use_dora", "bits", "device")),
    (lambda c: not (c.adapter in ("loha", "lokr") and c.bits == 4),
     "adapter: {c.adapter} cannot train on a 4-bit base (peft wraps the packed NF4 weight as "
     "a plain Linear and fails at the first forward); use bits=16", ("adapter", "bits")),
    (lambda c: not (c.adapter in ("loha", "lokr") and c.use_rslora),
     "use_rslora: rank-stabilised scaling exists for lora and dora only, not {c.adapter}",
     ("adapter", "use_rslora")),
    (lambda c: not (c.adapter in ("loha", "lokr") and c.use_dora),
     "use_dora: true asks for DoRA, but adapter is {c.adapter}; drop use_dora",
     ("adapter", "use_dora")),
    (lambda c: not (c.optimizer.startswith("paged_") and c.device == "cpu"),
     "optimizer: {c.optimizer} pages optimizer state through CUDA; use adamw_torch or auto "
     "on CPU", ("optimizer", "device")),
    (lambda c: not (c.push_to_hub and "/" not in c.push_to_hub),
     "push_to_hub: expected ORG/NAME, got {c.push_to_hub!r}", ("push_to_hub",)),
    (lambda c: not (c.method in ("dpo", "kto", "orpo") and c.beta <= 0),
     "beta: {c.method} needs beta > 0", ("method", "beta")),
    (lambda c: not (c.method == "rl" and (c.batch_size * c.grad_accum) % c.num_generations),
     "num_generations: batch_size * grad_accum ({c.batch_size} * {c.grad_accum}) must be a "
     "multiple of it (each step scores whole groups)", ("method", "batch_size", "grad_accum",
                                                        "num_generations")),
    (lambda c: _unknown_rewards(c) == "", lambda c: f"rewards: {_unknown_rewards(c)}",
     ("rewards",)),
    (lambda c: not ("reward_model" in c.rewards and not c.reward_run),
     "rewards: reward_model needs reward_run (a `corpus train reward` run)",
     ("rewards", "reward_run")),
)  # fmt: skip


def _unknown_rewards(cfg: TrainConfig) -> str:
    """'' when every key of ``rewards`` names a component, else what is wrong."""
    from pipelines.train.rewards import COMPONENTS

    bad = sorted(set(cfg.rewards) - set(COMPONENTS))
    if bad:
        return f"unknown component(s) {', '.join(bad)}; choose from {', '.join(COMPONENTS)}"
    if any(w < 0 for w in cfg.rewards.values()):
        return "weights must be >= 0 (the guards are the only penalties)"
    return ""


def _semantic_errors(cfg: TrainConfig, failed_type: set[str]) -> list[str]:
    """Choices, ranges and cross-field rules (skipping fields that already failed their type)."""
    errs = _field_errors(cfg, failed_type)
    for holds, message, names in _RULES:
        if not failed_type & set(names) and not holds(cfg):
            errs.append(message(cfg) if callable(message) else message.format(c=cfg))
    return errs


def method_path(method: str) -> Path:
    """The YAML overlay of a method (what it changes in a tier's recipe)."""
    if method not in METHODS or method == "sft":
        raise BadInputError(f"unknown method {method!r}; choose one of {', '.join(METHODS[1:])}")
    return METHODS_DIR / f"{method}.yaml"


def load_values(
    tier: str | None = None,
    config: Path | None = None,
    overrides: dict[str, Any] | None = None,
    method: str | None = None,
) -> dict[str, Any]:
    """Raw values: the tier's YAML (or ``config``), the method's overlay (its learning rate,
    beta, ... and a run folder of its own), then ``overrides`` on top."""
    if config is not None and tier is not None:
        raise BadInputError("give either --recipe or --config, not both")
    path = Path(config) if config is not None else recipe_path(tier or DEFAULT_TIER)
    values = read_yaml(path)
    # A run's own train_config.yaml (resuming it) already holds its method's values.
    if method and method != "sft" and values.get("method") != method:
        if config is None:  # a tier's run folder is the SFT run's: the method gets its own
            values["output_dir"] = f"{values.get('output_dir', 'runs/train')}-{method}"
        values.update(read_yaml(method_path(method)), method=method)
    values.update(overrides or {})
    return values


def load_config(
    tier: str | None = None,
    config: Path | None = None,
    overrides: dict[str, Any] | None = None,
    method: str | None = None,
) -> TrainConfig:
    """A validated config; raises BadInputError listing every error."""
    cfg, errors = collect_errors(load_values(tier, config, overrides, method))
    if errors:
        raise BadInputError(
            f"{len(errors)} config error(s):\n" + "\n".join(f"  - {e}" for e in errors)
        )
    assert cfg is not None
    return cfg


def save_config(cfg: TrainConfig, dest: Path) -> None:
    """Write the effective config beside a run (atomically), so a rerun can reuse it."""
    from corpus.store import write_bytes_atomic

    text = yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True)
    write_bytes_atomic(dest, text.encode("utf-8"))

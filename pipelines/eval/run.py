"""`corpus eval`'s one entry point: :func:`evaluate` (config in, :class:`EvalResult` out).

Order of work: read the dataset and pick the split's records; parse and check *every* system
(paths, models, endpoints, keys, extras) before any of them generates, so bad input fails in
a second and not after an hour of generation; generate; score; summarise. Nothing is written
here: :func:`pipelines.eval.report.write_eval` writes every file at the end.
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.install import install_hint
from pipelines.eval.bootstrap import DEFAULT_RESAMPLES
from pipelines.eval.metrics import METRICS
from pipelines.eval.systems import Generated, Options, Progress, SystemSpec

DEFAULT_PRIMARY = "chrf_doc"


@dataclass
class EvalConfig:
    """Everything one evaluation needs (the CLI's flags)."""

    data: str
    systems: list[str] = field(default_factory=list)
    split: str = "test"
    limit: int = 0  # 0 = every record of the split
    primary: str = DEFAULT_PRIMARY
    seed: int = 0
    resamples: int = DEFAULT_RESAMPLES
    examples: int = 3  # best and worst examples shown in the report
    train_split: str = "train"  # what retrieval indexes
    checkpoints: str | None = None  # a run folder: evaluate each of its checkpoints
    options: Options = field(default_factory=Options)
    metrics: list[str] = field(default_factory=list)  # added columns: reward:RUN


@dataclass
class EvalResult:
    """Outputs and per-example scores of every system, and their summary (``summary``)."""

    config: EvalConfig
    records: list[dict[str, Any]]
    generated: list[Generated]
    scores: dict[str, list[dict[str, float | None]]]
    summary: dict[str, Any] = field(default_factory=dict)
    extra_definitions: dict[str, str] = field(default_factory=dict)


def require(modules: tuple[str, ...], hint: str) -> None:
    """Exit 2 with the install line when an extra is missing (looked up, not imported)."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise BadInputError(f"needs {', '.join(missing)} (not installed): {hint}")


def subset_order(record_id: str) -> str:
    """Records are taken in sha256(id) order: a fixed subset spread over every repository,
    the same on every run and machine, whatever the seed."""
    return hashlib.sha256(record_id.encode("utf-8")).hexdigest()


def load_records(data: str) -> list[dict[str, Any]]:
    """Every documented, non-test record of a dataset folder, parquet file or Hub dataset."""
    from pipelines.train.data import read_dataset

    df = read_dataset(data)
    missing = {"id", "repo", "split", "doc", "name", "signature"} - set(df.columns)
    if missing:
        raise BadInputError(f"{data}: lacks column(s) {sorted(missing)}; not a corpus dataset")
    rows = df.to_dicts()
    return [r for r in rows if (r.get("doc") or "").strip() and not r.get("is_test")]


def pick(records: list[dict[str, Any]], split: str, limit: int) -> list[dict[str, Any]]:
    """The split's records (``limit`` of them in :func:`subset_order`), or exit 2."""
    part = [r for r in records if r["split"] == split]
    if not part:
        present = sorted({r["split"] for r in records})
        raise BadInputError(
            f"no documented records in split {split!r} (splits present: "
            f"{', '.join(present) or 'none'})"
        )
    if limit:
        part = sorted(part, key=lambda r: subset_order(r["id"]))[:limit]
    return part


def checkpoint_systems(run: Path) -> list[SystemSpec]:
    """Every ``RUN/checkpoints/checkpoint-N`` (and ``RUN/adapter``) as adapter systems,
    prompted and loaded as the run was trained (checkpoints carry no recipe file)."""
    from pipelines.train.config import load_config
    from pipelines.train.data import prompt_spec
    from pipelines.train.run import CHECKPOINT_DIR, CONFIG_FILE

    if not (run / CONFIG_FILE).is_file():
        raise BadInputError(f"--checkpoints {run}: not a training run (no {CONFIG_FILE})")
    cfg = load_config(config=run / CONFIG_FILE)
    ckpts = sorted(
        (
            p
            for p in (run / CHECKPOINT_DIR).glob("checkpoint-*")
            if (p / "adapter_config.json").is_file()
        ),
        key=lambda p: int(p.name.rsplit("-", 1)[1]),
    )
    if not ckpts:
        raise BadInputError(f"--checkpoints {run}: no {CHECKPOINT_DIR}/checkpoint-N adapters")
    spec, out = prompt_spec(cfg), []
    for p in ckpts:
        step = int(p.name.rsplit("-", 1)[1])
        out.append(SystemSpec(f"step-{step}", "adapter", str(p), step, spec, cfg.bits))
    return out


def parse_systems(cfg: EvalConfig) -> list[SystemSpec]:
    """Every system of the config, checked (names, kinds, paths, primary metric)."""
    from pipelines.eval.systems import check_local_model, check_unique, parse_system

    specs = [parse_system(s) for s in cfg.systems]
    if cfg.checkpoints:
        specs = checkpoint_systems(Path(cfg.checkpoints)) + specs
    check_unique(specs)
    reward_columns(cfg)  # a bad reward:RUN fails now too
    cfg.options.spec()  # a bad --prompt-input fails now, not after other systems generated
    metric = METRICS.get(cfg.primary)
    if metric is None or not metric.always or metric.better == "one":
        usable = [m.name for m in METRICS.values() if m.always and m.better != "one"]
        raise BadInputError(f"--primary {cfg.primary!r}: choose one of {', '.join(usable)}")
    for s in specs:
        if s.kind == "base":
            check_local_model(s.target)
    if any(s.kind in ("base", "adapter") for s in specs):
        require(("torch", "transformers", "peft"), install_hint("train"))
    if any(s.kind == "openai" for s in specs):
        require(("openai",), install_hint("eval"))
    return specs


def _check_endpoints(specs: list[SystemSpec], opts: Options) -> None:
    from pipelines.eval.remote import api_key, check_reachable, parse_endpoint

    for s in specs:
        if s.kind == "openai":
            check_reachable(parse_endpoint(s.target), api_key(opts.api_key_env), opts.timeout)


def _run_simple(
    s: SystemSpec,
    records: list[dict[str, Any]],
    everything: list[dict[str, Any]],
    cfg: EvalConfig,
    progress: Progress | None,
) -> Generated:
    """A baseline or endpoint system's outputs."""
    from pipelines.eval import baselines, remote

    t0 = time.monotonic()
    if s.kind == "template":
        texts = baselines.template(records)
    elif s.kind == "retrieval":
        train = [r for r in everything if r["split"] == cfg.train_split]
        texts = baselines.retrieval(records, train)
    else:
        opts = cfg.options
        done = [0]

        def tick(k: int) -> None:
            done[0] += k
            if progress is not None:
                progress(s.name, done[0], len(records))

        texts = remote.generate(
            remote.parse_endpoint(s.target),
            records,
            spec=opts.spec(),
            key=remote.api_key(opts.api_key_env),
            timeout=opts.timeout,
            max_new_tokens=opts.max_new_tokens,
            concurrency=opts.batch_size,
            progress=tick,
        )
    if progress is not None:
        progress(s.name, len(records), len(records))
    return Generated(s, texts, time.monotonic() - t0)


def evaluate(cfg: EvalConfig, progress: Progress | None = None) -> EvalResult:
    """Generate with every system on the split's records, score, and summarise."""
    from pipelines.eval.metrics import KnownNames, score
    from pipelines.eval.summary import summarise
    from pipelines.eval.systems import model_groups, run_group

    require(("rouge_score", "sacrebleu", "bm25s", "matplotlib"), install_hint("eval"))
    everything = load_records(cfg.data)
    records = pick(everything, cfg.split, cfg.limit)
    specs = parse_systems(cfg)
    groups = model_groups(specs)  # reads every adapter's base: a bad folder fails here
    _check_endpoints(specs, cfg.options)
    done: dict[str, Generated] = {}
    for s in specs:
        if s.kind not in ("base", "adapter"):
            done[s.name] = _run_simple(s, records, everything, cfg, progress)
    for base, members in groups:
        for g in run_group(base, members, records, cfg.options, progress):
            done[g.spec.name] = g
    generated = [done[s.name] for s in specs]
    known = KnownNames(everything)
    scores = {
        g.spec.name: [score(o, r, known) for o, r in zip(g.outputs, records, strict=True)]
        for g in generated
    }
    result = EvalResult(cfg, records, generated, scores)
    add_reward_columns(result)
    result.summary = summarise(result)
    return result


REWARD_DEFINITION = (
    "The reward model's score (its classification head's logit; higher = preferred) of the "
    "raw output as the assistant's answer to the record's prompt, prompted as the reward "
    "model was trained (`corpus train reward`, run {run})."
)


def reward_columns(cfg: EvalConfig) -> dict[str, Path]:
    """``reward:RUN`` metrics -> their checked reward adapters (column name ``reward:NAME``,
    NAME the run folder's name). Reads two small files per run; loads nothing."""
    from pipelines.train.methods.reward_model import reward_adapter

    out: dict[str, Path] = {}
    if cfg.metrics:
        require(("torch", "transformers", "peft"), install_hint("train"))
    for spec in cfg.metrics:
        kind, sep, run = spec.partition(":")
        if kind != "reward" or not sep or not run:
            raise BadInputError(f"--metric {spec!r}: expected reward:RUN (a reward model run)")
        folder = reward_adapter(run)
        name = folder.parent.name if folder.name == "adapter" else folder.name
        out[f"reward:{name}"] = folder
    return out


def add_reward_columns(result: EvalResult) -> None:
    """Score every system's outputs with each ``reward:RUN`` model (one column each)."""
    from pipelines.train.methods.reward_model import RewardScorer

    opts = result.config.options
    for name, folder in reward_columns(result.config).items():
        scorer = RewardScorer(str(folder), device=opts.device, bits=opts.bits,
                              batch_size=opts.batch_size)  # fmt: skip
        for g in result.generated:
            values = scorer.score_records(result.records, g.outputs)
            for row, v in zip(result.scores[g.spec.name], values, strict=True):
                row[name] = v
        result.extra_definitions[name] = REWARD_DEFINITION.format(run=folder)
        del scorer

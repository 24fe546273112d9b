"""`corpus pairs`'s one entry point: :func:`make_pairs` (a config in, pairs on disk out).

Order of work: check the dataset, the output folder and any model or adapter (paths, extras,
the adapter's prompt) before anything loads; read the records; generate with the model when
one is given; mine and check the pairs; write them. A failed check writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.prompt import PromptSpec
from pipelines.pairs.generated import ModelSource


@dataclass
class PairsConfig:
    """Everything one mining run needs (the CLI's flags)."""

    data: str
    out: Path
    config: str = "default"
    spec: PromptSpec = field(default_factory=PromptSpec)
    include_tests: bool = False
    source: ModelSource | None = None  # --model / --adapter: adds the `model` kind
    limit: int = 0  # records the model generates for (0 = all), in sha256(id) order


@dataclass
class PairsResult:
    """What was written and its report."""

    files: dict[str, Path]
    report: dict[str, Any]


def check_config(cfg: PairsConfig) -> Path | None:
    """Everything checkable without reading the data or loading a model; returns the local
    dataset folder (None for a Hub dataset)."""
    from corpus.layout import check_dataset_spec

    path = check_dataset_spec(cfg.data, cfg.config)
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise BadInputError(f"--out {out}: exists and is not a folder")
    if cfg.limit < 0:
        raise BadInputError(f"--limit {cfg.limit}: must be >= 0")
    if cfg.source is not None:
        _check_source(cfg.source, cfg.spec)
    return path


def _check_source(source: ModelSource, spec: PromptSpec) -> None:
    """The generator exists, the train and eval extras are installed, and an adapter was
    trained on the prompt the pairs use (else its generations answer another prompt)."""
    from corpus.install import install_hint
    from pipelines.eval.run import require

    require(("torch", "transformers", "peft"), install_hint("train"))
    require(("rouge_score", "sacrebleu"), install_hint("eval"))
    if source.model and source.adapter:
        raise BadInputError("give --model or --adapter, not both (an adapter names its base)")
    if source.adapter is not None:
        from pipelines.eval.systems import adapter_dir
        from pipelines.train.data import prompt_spec
        from pipelines.train.inference import adapter_config

        adapter = adapter_dir(Path(source.adapter))
        trained = adapter_config(adapter)
        if trained is not None and prompt_spec(trained) != spec:
            raise BadInputError(
                f"--adapter {adapter} was trained with prompt input {trained.prompt_input!r} "
                f"(and its system prompt); mine with --prompt-input {trained.prompt_input} so "
                "its generations answer the pairs' prompt"
            )
    elif source.model:
        from pipelines.eval.systems import check_local_model

        check_local_model(source.model)


def _generations(
    cfg: PairsConfig, records: list[dict[str, Any]], rows: list[dict[str, Any]], progress: Any
) -> tuple[dict, dict]:
    """The `model` kind's rejections and counts (nothing without --model / --adapter)."""
    if cfg.source is None:
        return {}, {}
    from pipelines.eval.run import subset_order
    from pipelines.pairs.generated import generate, model_rejections

    chosen = sorted(records, key=lambda r: subset_order(r["id"]))
    chosen = chosen[: cfg.limit] if cfg.limit else chosen
    source = cfg.source
    if source.adapter is not None:
        from pipelines.eval.systems import adapter_dir

        source = ModelSource(**{**source.__dict__, "adapter": adapter_dir(Path(source.adapter))})
    t0 = time.monotonic()
    outputs = generate(chosen, source, cfg.spec, progress)
    kept, stats = model_rejections(chosen, outputs, rows)
    return kept, {"generator": source.label, "seconds": round(time.monotonic() - t0, 3), **stats}


def make_pairs(cfg: PairsConfig, progress: Any = None) -> PairsResult:
    """Mine, check and write the pairs of ``cfg.data`` (see the module docstring)."""
    from corpus.layout import dataset_parquet_files
    from corpus.store import read_dataset
    from pipelines.pairs.mine import data_hash, documented, mine
    from pipelines.pairs.store import write_pairs

    t0 = time.monotonic()
    local = check_config(cfg)
    rows = read_dataset(cfg.data, cfg.config).to_dicts()
    if "doc" not in (rows[0] if rows else {}):
        raise BadInputError(f"{cfg.data}: no records with a doc column; is it a corpus dataset?")
    records = documented(rows, cfg.include_tests)
    if not records:
        raise BadInputError(f"{cfg.data}: no documented records to mine pairs from")
    model, model_stats = _generations(cfg, records, rows, progress)
    pairset = mine(records, cfg.spec, model=model)
    pairset.report.update(
        dataset=cfg.data,
        config=cfg.config,
        include_tests=cfg.include_tests,
        data_hash=data_hash(dataset_parquet_files(local, cfg.config)) if local else None,
        model=model_stats or None,
        seconds=round(time.monotonic() - t0, 3),
    )
    files = write_pairs(pairset, cfg.out)
    return PairsResult(files, pairset.report)

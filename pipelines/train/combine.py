"""Combine LoRA adapters into one with peft's ``add_weighted_adapter``.

``cat`` (the default) concatenates the adapters' ranks, scaling each A by its weight and
scaling, so the new adapter's delta is exactly ``sum_i w_i * B_i A_i * s_i``: the weighted sum
of the adapters' weight deltas (its rank is the sum of theirs). ``svd`` refactors that sum to
a lower rank (``svd_rank``, default the largest input rank: lossy when smaller than the sum).
``ties``, ``dare_ties``, ``dare_linear`` and ``magnitude_prune`` prune and rescale the deltas
(TIES-merging, DARE); they need adapters of one rank and a ``density``. peft's ``linear`` is
not offered: it mixes the A and the B matrices separately, so the product has cross terms
``B_i A_j`` that no adapter learned — wrong for independently trained adapters.

The base model's weights play no part in a combination, so the base is built from its config
with uninitialised memory (``to_empty``): pages that are never touched are never allocated,
and combining adapters of a 32B model needs about as much memory as the adapters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError

METHODS = ("cat", "svd", "ties", "dare_ties", "dare_linear", "magnitude_prune")
SAME_RANK = ("ties", "dare_ties", "dare_linear", "magnitude_prune")
NEEDS_DENSITY = SAME_RANK
DEFAULT_DENSITY = 0.5
COMBINED = "combined"
INFO_FILE = "combine.json"
_PROMPT_FIELDS = ("prompt_input", "system_prompt", "source_budget")


@dataclass(frozen=True)
class CombineResult:
    """The combined adapter folder and what went into it."""

    path: Path
    method: str
    rank: int
    weights: tuple[float, ...]


def parse_weights(text: str, n: int) -> tuple[float, ...]:
    """``"0.7,0.3"`` -> ``(0.7, 0.3)``: one finite number per adapter."""
    try:
        weights = tuple(float(x) for x in text.split(","))
    except ValueError as exc:
        raise BadInputError(f"--weights {text!r}: expected numbers like 0.7,0.3") from exc
    if len(weights) != n or not all(math.isfinite(w) for w in weights):
        raise BadInputError(f"--weights {text!r}: give {n} finite numbers, one per adapter")
    return weights


def check_inputs(adapters: list[Path], method: str, density: float | None) -> list[int]:
    """Everything that can be refused before a model is built; returns the adapters' ranks."""
    from pipelines.train.merge import adapter_base, adapter_kind, adapter_rank

    if method == "linear":
        raise BadInputError(
            "--method linear mixes the A and B matrices separately (cross terms B_i A_j that "
            "no adapter learned); use cat, the exact weighted sum of the adapters' deltas"
        )
    if method not in METHODS:
        raise BadInputError(f"--method {method}: choose one of {', '.join(METHODS)}")
    if len(adapters) < 2:
        raise BadInputError("combine needs at least two adapters")
    if density is not None and not 0 < density <= 1:
        raise BadInputError(f"--density {density}: must be in (0, 1]")
    for a in adapters:
        kind = adapter_kind(a)
        if kind == "dora":
            raise BadInputError(
                f"{a} is a DoRA adapter: add_weighted_adapter combines only its low-rank part "
                "and re-initialises the magnitudes; merge each adapter and combine the models "
                "instead"
            )
        if kind != "lora":
            raise BadInputError(f"{a} is a {kind} adapter: only LoRA adapters can be combined")
    bases = {adapter_base(a) for a in adapters}
    if len(bases) > 1:
        raise BadInputError(
            f"the adapters were trained on different base models ({', '.join(sorted(bases))})"
        )
    ranks = [adapter_rank(a) for a in adapters]
    if method in SAME_RANK and len(set(ranks)) > 1:
        raise BadInputError(
            f"--method {method} needs adapters of one rank (got {', '.join(map(str, ranks))}); "
            "cat and svd combine different ranks"
        )
    _check_prompts(adapters)
    return ranks


def _check_prompts(adapters: list[Path]) -> None:
    """Adapters trained on different prompts cannot share one: the result would have none."""
    from pipelines.train.inference import adapter_config

    seen: dict[tuple, Path] = {}
    for a in adapters:
        cfg = adapter_config(a)
        if cfg is not None:
            seen.setdefault(tuple(getattr(cfg, f) for f in _PROMPT_FIELDS), a)
    if len(seen) > 1:
        raise BadInputError(
            "the adapters were trained with different prompts (prompt_input, system prompt or "
            f"source budget differ between {', '.join(map(str, seen.values()))})"
        )


def skeleton_base(base_id: str) -> Any:
    """The base architecture in fp32 with uninitialised weights (no weights are read)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(base_id)
    except OSError as exc:
        raise BadInputError(f"{base_id}: cannot read the base model's config ({exc})") from exc
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    return model.to_empty(device="cpu")


def combined_model(
    adapters: list[Path],
    weights: tuple[float, ...],
    method: str,
    *,
    density: float | None = None,
    svd_rank: int | None = None,
    seed: int = 0,
) -> Any:
    """A PeftModel holding the inputs (``a0``, ``a1``, ...) and their combination."""
    import torch

    from pipelines.train.merge import adapter_base, attach_adapter

    model = skeleton_base(adapter_base(adapters[0]))
    names = [f"a{i}" for i in range(len(adapters))]
    for name, path in zip(names, adapters, strict=True):
        model = attach_adapter(model, path, name)
    # peft copies the first input's config into the new adapter (alpha = r, so scaling 1); with
    # use_rslora inherited its scaling would be sqrt(r), not 1. The inputs' scalings are already
    # cached on their layers, so this only fixes the new adapter's.
    model.peft_config[names[0]].use_rslora = False
    if method in NEEDS_DENSITY and density is None:
        density = DEFAULT_DENSITY
    torch.manual_seed(seed)  # DARE drops entries at random
    model.add_weighted_adapter(
        names, list(weights), COMBINED, combination_type=method, density=density, svd_rank=svd_rank
    )
    return model


def combine_adapters(
    adapters: list[Path],
    weights: tuple[float, ...],
    method: str,
    out: Path,
    *,
    density: float | None = None,
    svd_rank: int | None = None,
    seed: int = 0,
) -> CombineResult:
    """Combine ``adapters`` and write the result as an adapter folder at ``out``: weights,
    adapter_config.json, the tokenizer, a train_config.yaml (the inputs' prompt) and
    combine.json (what went in)."""
    adapters = [Path(a) for a in adapters]
    for a in adapters:
        if not a.is_dir():
            raise BadInputError(f"no such adapter folder: {a}")
    ranks = check_inputs(adapters, method, density)
    if svd_rank is not None and svd_rank < 1:
        raise BadInputError(f"--svd-rank {svd_rank}: must be at least 1")
    model = combined_model(adapters, weights, method, density=density, svd_rank=svd_rank, seed=seed)
    rank = int(model.peft_config[COMBINED].r)
    info = {
        "adapters": [str(a) for a in adapters],
        "weights": list(weights),
        "method": method,
        "density": density if method in NEEDS_DENSITY else None,
        "svd_rank": svd_rank,
        "input_ranks": ranks,
        "rank": rank,
        "seed": seed,
    }
    if method in NEEDS_DENSITY and density is None:
        info["density"] = DEFAULT_DENSITY
    _save(model, adapters[0], rank, info, Path(out))
    return CombineResult(Path(out), method, rank, tuple(weights))


def _save(model: Any, first: Path, rank: int, info: dict, out: Path) -> None:
    import shutil

    from corpus.store import swap_dir, write_json
    from pipelines.train.config import save_config
    from pipelines.train.inference import adapter_config
    from pipelines.train.merge import tokenizer_source
    from pipelines.train.model import load_tokenizer
    from pipelines.train.run import CONFIG_FILE

    cfg = adapter_config(first)
    tokenizer = load_tokenizer(tokenizer_source(first, None))

    def fill(tmp: Path) -> None:
        staging = tmp / ".peft"
        model.save_pretrained(str(staging), selected_adapters=[COMBINED])
        for f in (staging / COMBINED).iterdir():
            shutil.move(str(f), tmp / f.name)
        shutil.rmtree(staging)
        tokenizer.save_pretrained(str(tmp))
        if cfg is not None:
            cfg.lora_r, cfg.lora_alpha, cfg.use_rslora = rank, float(rank), False
            cfg.adapter, cfg.use_dora = "lora", False
            save_config(cfg, tmp / CONFIG_FILE)
        write_json(tmp / INFO_FILE, info)

    swap_dir(out, fill)

"""Generating docs with a base model and any number of named adapters on it, as trained.

One loaded base serves every adapter: ``Engine.generate(records, adapter="a")`` switches with
peft's ``set_adapter``; ``adapter=None`` runs the base alone (adapters disabled). The base is
loaded the way the adapters were trained — 4-bit NF4 with the recipe's quantization config when
they were trained at 4 bits (a 32B base then needs ~18 GiB, not ~64) — unless ``bits`` says
otherwise. Each adapter is prompted exactly as it was trained (its ``train_config.yaml``: prompt
input, system prompt, source budget), through ``corpus.prompt``. Decoding is greedy and
batched (left padding); the raw completion is returned — whether it is a doc is the caller's
(the eval's) question, never patched here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.prompt import PromptSpec, messages

BASE = "base"


@dataclass
class Engine:
    """A loaded base with its adapters, ready to generate."""

    model: Any
    tokenizer: Any
    device: str
    bits: int
    base: str
    specs: dict[str, PromptSpec] = field(default_factory=dict)  # adapter name -> its prompt
    base_spec: PromptSpec = field(default_factory=PromptSpec)

    @property
    def names(self) -> list[str]:
        """``base`` and every adapter name."""
        return [BASE, *self.specs]

    def spec(self, adapter: str | None) -> PromptSpec:
        """The prompt ``adapter`` was trained with (the base: the one it is compared under)."""
        if adapter in (None, BASE):
            return self.base_spec
        if adapter not in self.specs:
            raise BadInputError(f"unknown adapter {adapter!r}; loaded: {', '.join(self.names)}")
        return self.specs[adapter]

    def prompts(self, records: list[dict[str, Any]], adapter: str | None) -> list[str]:
        """The chat-templated prompt text of each record (ends with the assistant's turn)."""
        spec = self.spec(adapter)
        return [
            self.tokenizer.apply_chat_template(
                messages(r, spec, with_answer=False), tokenize=False, add_generation_prompt=True
            )
            for r in records
        ]

    def generate(
        self,
        records: list[dict[str, Any]],
        *,
        adapter: str | None = None,
        max_new_tokens: int = 256,
        batch_size: int = 8,
        progress: Callable[[int], None] | None = None,
    ) -> list[str]:
        """Greedy completions for ``records`` with ``adapter`` (None: the base alone)."""
        texts = self.prompts(records, adapter)
        out: list[str] = []
        for i in range(0, len(texts), batch_size):
            out += self._batch(texts[i : i + batch_size], adapter, max_new_tokens)
            if progress is not None:
                progress(len(texts[i : i + batch_size]))
        return out

    def _batch(self, texts: list[str], adapter: str | None, max_new_tokens: int) -> list[str]:
        import contextlib

        import torch

        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        if adapter in (None, BASE) and self.specs:
            ctx: Any = self.model.disable_adapter()
        else:
            if self.specs:
                self.model.set_adapter(adapter)
            ctx = contextlib.nullcontext()
        with ctx, torch.no_grad():
            ids = self.model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=self.tokenizer.convert_tokens_to_ids("<|im_end|>"),
                pad_token_id=self.tokenizer.pad_token_id,
            )
        new = ids[:, enc["input_ids"].shape[1] :]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]


def adapter_config(adapter: Path) -> Any:
    """The recipe an adapter folder was trained with (its train_config.yaml), or None."""
    from pipelines.train.config import load_config
    from pipelines.train.run import CONFIG_FILE

    f = Path(adapter) / CONFIG_FILE
    return load_config(config=f) if f.is_file() else None


def _check_adapters(adapters: dict[str, Path], base: str | None) -> str:
    """Every adapter folder exists and all share one base; returns that base."""
    from pipelines.train.merge import adapter_base

    bases: dict[str, str] = {}
    for name, path in adapters.items():
        if name == BASE:
            raise BadInputError(f"{BASE!r} names the base model; choose another adapter name")
        if not Path(path).is_dir():
            raise BadInputError(f"adapter {name}: no such folder {path}")
        bases[name] = adapter_base(Path(path))
    chosen = base or next(iter(bases.values()), None)
    if chosen is None:
        raise BadInputError("no base model: give a model, or at least one adapter")
    if base is None:
        odd = {n: b for n, b in bases.items() if b != chosen}
        if odd:
            raise BadInputError(
                f"adapters were trained on different bases ({chosen} and "
                f"{', '.join(f'{n}: {b}' for n, b in odd.items())}); load them separately"
            )
    return chosen


def load_engine(
    adapters: dict[str, Path] | None = None,
    *,
    base: str | None = None,
    bits: int | None = None,
    device: str = "auto",
    base_spec: PromptSpec | None = None,
) -> Engine:
    """Load ``base`` (default: the adapters' own) with every named adapter on it.

    ``bits`` None loads the base as the adapters were trained (their recipe's ``bits``).
    """
    from pipelines.train.model import load_base, load_tokenizer, resolve_device

    adapters = dict(adapters or {})
    base_id = _check_adapters(adapters, base)
    cfgs = {n: adapter_config(p) for n, p in adapters.items()}
    trained_bits = {c.bits for c in cfgs.values() if c is not None}
    use_bits = bits or (min(trained_bits) if trained_bits else 16)
    if use_bits not in (4, 16):
        raise BadInputError(f"--bits {use_bits}: choose 4 or 16")
    dev = resolve_device(device)
    first = next(iter(adapters.values()), None)
    tok_src = first if first is not None and (first / "tokenizer_config.json").exists() else base_id
    tokenizer = load_tokenizer(str(tok_src))
    tokenizer.padding_side = "left"  # generation continues each row's last token
    model = load_base(base_id, bits=use_bits, device=dev).eval()
    model.config.use_cache = True
    if adapters:
        from peft import PeftModel

        names = list(adapters)
        model = PeftModel.from_pretrained(model, str(adapters[names[0]]), adapter_name=names[0])
        for name in names[1:]:
            model.load_adapter(str(adapters[name]), adapter_name=name)
        model.eval()
    specs = {
        n: _spec_of(c) if c is not None else (base_spec or PromptSpec()) for n, c in cfgs.items()
    }
    spec0 = base_spec or next(iter(specs.values()), PromptSpec())
    return Engine(model, tokenizer, dev, use_bits, base_id, specs, spec0)


def _spec_of(cfg: Any) -> PromptSpec:
    from pipelines.train.data import prompt_spec

    return prompt_spec(cfg)

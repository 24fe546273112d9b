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

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.prompt import PromptSpec, messages

BASE = "base"


@dataclass(frozen=True)
class Sampling:
    """How to decode. Temperature 0 (the default) is greedy: what the eval measures."""

    max_new_tokens: int = 256
    min_new_tokens: int = 0  # end-of-turn is suppressed until this many (vLLM's min_tokens)
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class Completion:
    """One generated text and what it cost (OpenAI's ``usage`` and ``finish_reason``)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (end of turn or a stop string) or "length"


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """``text`` up to the earliest stop string, and whether one was found."""
    hits = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return (text[: min(hits)], True) if hits else (text, False)


@dataclass
class Engine:
    """A loaded base with its adapters, ready to generate.

    One model holds every adapter and ``set_adapter`` switches between them, so generations
    are serialised by a lock: each runs with the adapter it asked for, start to end.
    """

    model: Any
    tokenizer: Any
    device: str
    bits: int
    base: str
    specs: dict[str, PromptSpec] = field(default_factory=dict)  # adapter name -> its prompt
    base_spec: PromptSpec = field(default_factory=PromptSpec)
    kinds: dict[str, str] = field(default_factory=dict)  # adapter name -> lora/dora/loha/lokr
    ranks: dict[str, int] = field(default_factory=dict)  # adapter name -> its rank r
    lock: Any = field(default_factory=threading.Lock, repr=False, compare=False)

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

    def chat_prompt(self, msgs: list[dict[str, str]]) -> str:
        """A conversation rendered by the tokenizer's chat template, ready for the answer."""
        return self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)

    def prompts(self, records: list[dict[str, Any]], adapter: str | None) -> list[str]:
        """The chat-templated prompt text of each record (ends with the assistant's turn)."""
        spec = self.spec(adapter)
        return [self.chat_prompt(messages(r, spec, with_answer=False)) for r in records]

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model sees it (special tokens parsed, none added)."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

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
            done = self.complete(texts[i : i + batch_size], adapter=adapter,
                                 sampling=Sampling(max_new_tokens=max_new_tokens))  # fmt: skip
            out += [c.text.strip() for c in done]
            if progress is not None:
                progress(len(texts[i : i + batch_size]))
        return out

    def complete(
        self, texts: list[str], *, adapter: str | None = None, sampling: Sampling = Sampling()
    ) -> list[Completion]:
        """Continue each prompt text (one left-padded batch) with ``adapter``."""
        import torch

        self.spec(adapter)  # an unknown name fails before any work
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        with self.lock, self.adapter_context(adapter), torch.no_grad():
            if sampling.seed is not None:
                torch.manual_seed(sampling.seed)
            ids = self.model.generate(**enc, **self.generate_kwargs(sampling))
        new = ids[:, enc["input_ids"].shape[1] :]
        prompt_lens = enc["attention_mask"].sum(dim=1).tolist()
        return [self._completion(row, n, sampling) for row, n in zip(new, prompt_lens, strict=True)]

    def stream(
        self, text: str, *, adapter: str | None = None, sampling: Sampling = Sampling()
    ) -> TokenStream:
        """Continue one prompt text, yielding text pieces as they are decoded."""
        self.spec(adapter)
        return TokenStream(self, text, adapter, sampling)

    def stop_ids(self) -> list[int]:
        """Token ids that end a generation: ChatML's end of turn, and the end of text."""
        vocab = self.tokenizer.get_vocab()
        ids = [vocab[t] for t in ("<|im_end|>", "<|endoftext|>") if t in vocab]
        return ids or [self.tokenizer.eos_token_id]

    def generate_kwargs(self, sampling: Sampling) -> dict[str, Any]:
        """``model.generate`` arguments for ``sampling``."""
        kw: dict[str, Any] = {
            "max_new_tokens": sampling.max_new_tokens,
            "eos_token_id": self.stop_ids(),
            "pad_token_id": self.tokenizer.pad_token_id,
            "do_sample": sampling.temperature > 0,
        }
        if sampling.min_new_tokens:
            kw["min_new_tokens"] = min(sampling.min_new_tokens, sampling.max_new_tokens)
        if sampling.temperature > 0:
            kw.update(temperature=sampling.temperature, top_p=sampling.top_p)
        if sampling.stop:
            kw.update(stop_strings=list(sampling.stop), tokenizer=self.tokenizer)
        return kw

    def adapter_context(self, adapter: str | None) -> Any:
        """Run with ``adapter`` active (its ``set_adapter``), or with every adapter disabled."""
        import contextlib

        if adapter in (None, BASE):
            return self.model.disable_adapter() if self.specs else contextlib.nullcontext()
        self.model.set_adapter(adapter)
        return contextlib.nullcontext()

    def _completion(self, row: Any, prompt_tokens: int, sampling: Sampling) -> Completion:
        ids = row.tolist()
        stops = set(self.stop_ids())
        end = next((i for i, t in enumerate(ids) if t in stops), None)
        n = len(ids) if end is None else end + 1
        text = self.tokenizer.decode(ids[:n], skip_special_tokens=True)
        text, hit = cut_at_stop(text, sampling.stop)
        reason = "stop" if end is not None or hit else "length"
        return Completion(text, int(prompt_tokens), n, reason)


class TokenStream:
    """Text pieces of one generation as they are decoded (``transformers``'
    ``TextIteratorStreamer``), run in a worker thread that holds the engine's lock.

    After iteration, ``finish_reason`` and ``completion_tokens`` are set. Closing the iterator
    early (a client that went away) stops the generation at its next token.
    """

    def __init__(self, engine: Engine, text: str, adapter: str | None, sampling: Sampling):
        self.engine, self.text, self.adapter, self.sampling = engine, text, adapter, sampling
        self.prompt_tokens = engine.count_tokens(text)
        self.completion_tokens = 0
        self.finish_reason = "stop"
        self._cancel = threading.Event()
        self._result: dict[str, Any] = {}

    def cancel(self) -> None:
        """Stop the generation at its next token (the consumer went away)."""
        self._cancel.set()

    def __iter__(self) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.engine.tokenizer, skip_prompt=True,
                                        skip_special_tokens=True)  # fmt: skip
        worker = threading.Thread(target=self._run, args=(streamer,), daemon=True)
        worker.start()
        held = _StopFilter(self.sampling.stop)
        try:
            for piece in streamer:
                out = held.feed(piece)
                if out:
                    yield out
                if held.hit:
                    self._cancel.set()
            tail = held.flush()
            if tail:
                yield tail
        finally:
            self._cancel.set()
            if worker is not threading.current_thread():  # closed by GC on the worker
                worker.join()
        if "error" in self._result:
            raise self._result["error"]
        done = self._result["completion"]
        self.completion_tokens = done.completion_tokens
        self.finish_reason = "stop" if held.hit else done.finish_reason

    def _run(self, streamer: Any) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        cancel = self._cancel

        class _Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool)

        eng = self.engine
        try:
            enc = eng.tokenizer([self.text], return_tensors="pt", add_special_tokens=False)
            enc = {k: v.to(eng.device) for k, v in enc.items()}
            kw = eng.generate_kwargs(self.sampling)
            kw.update(streamer=streamer, stopping_criteria=StoppingCriteriaList([_Cancelled()]))
            with eng.lock, eng.adapter_context(self.adapter), torch.no_grad():
                if self.sampling.seed is not None:
                    torch.manual_seed(self.sampling.seed)
                ids = eng.model.generate(**enc, **kw)
            new = ids[0, enc["input_ids"].shape[1] :]
            self._result["completion"] = eng._completion(new, self.prompt_tokens, self.sampling)
        except Exception as exc:  # handed to the consumer, which re-raises it
            self._result["error"] = exc
            streamer.end()


class _StopFilter:
    """Holds back the last few characters of a stream so a stop string split across pieces is
    never emitted."""

    def __init__(self, stop: tuple[str, ...]) -> None:
        self.stop = tuple(s for s in stop if s)
        self.keep = max((len(s) for s in self.stop), default=1) - 1
        self.buf = ""
        self.hit = False

    def feed(self, piece: str) -> str:
        """The text now safe to emit after ``piece``."""
        if self.hit:
            return ""
        self.buf += piece
        text, self.hit = cut_at_stop(self.buf, self.stop)
        if self.hit:
            self.buf = ""
            return text
        cut = len(self.buf) - self.keep
        out, self.buf = self.buf[: max(cut, 0)], self.buf[max(cut, 0) :]
        return out

    def flush(self) -> str:
        """What is left at the end (nothing after a stop string)."""
        out, self.buf = ("" if self.hit else self.buf), ""
        return out


def adapter_config(adapter: Path) -> Any:
    """The recipe an adapter folder was trained with (its train_config.yaml), or None."""
    from pipelines.train.config import load_config
    from pipelines.train.run import CONFIG_FILE

    f = Path(adapter) / CONFIG_FILE
    return load_config(config=f) if f.is_file() else None


#: An adapter's name is also its model name on the server and in file names.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_adapter_name(name: str) -> str:
    """A usable adapter name (letters, digits, ``_``, ``-``; not ``base``), or a clear error.

    peft makes the name a torch module name, so no dots."""
    if name == BASE:
        raise BadInputError(f"{BASE!r} names the base model; choose another adapter name")
    if not NAME_RE.match(name):
        raise BadInputError(f"adapter name {name!r}: use letters, digits, '_' or '-' (at most 64)")
    return name


def _check_adapters(adapters: dict[str, Path], base: str | None) -> str:
    """Every adapter folder exists and all share one base; returns that base."""
    from pipelines.train.merge import adapter_base, check_same_base

    bases: dict[str, str] = {}
    for name, path in adapters.items():
        check_adapter_name(name)
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
    for path in adapters.values():
        check_same_base(Path(path), chosen)
    return chosen


def _check_kinds(kinds: dict[str, str], bits: int) -> None:
    """LoHa and LoKr cannot run on a 4-bit base (peft fails at the first forward)."""
    bad = [f"{n} ({k})" for n, k in kinds.items() if k in ("loha", "lokr")]
    if bits == 4 and bad:
        raise BadInputError(
            f"adapter {', '.join(bad)} cannot run on a 4-bit base; load it with --bits 16"
        )


def _attach(model: Any, adapters: dict[str, Path], kinds: dict[str, str]) -> Any:
    """Every adapter on one model: a PeftModel, or peft's PeftMixedModel when the adapters
    are of different peft types (LoRA/DoRA, LoHa, LoKr cannot share a PeftModel)."""
    from pipelines.train.merge import attach_adapter

    types = {"lora" if k == "dora" else k for k in kinds.values()}
    names = list(adapters)
    if len(types) > 1:
        from peft import PeftMixedModel

        model = PeftMixedModel.from_pretrained(model, str(adapters[names[0]]),
                                               adapter_name=names[0])  # fmt: skip
        for name in names[1:]:
            model.load_adapter(str(adapters[name]), adapter_name=name)
    else:
        for name in names:
            model = attach_adapter(model, adapters[name], name)
    return model.eval()


def load_engine(
    adapters: dict[str, Path] | None = None,
    *,
    base: str | None = None,
    bits: int | None = None,
    device: str = "auto",
    base_spec: PromptSpec | None = None,
) -> Engine:
    """Load ``base`` (default: the adapters' own) with every named adapter on it.

    ``bits`` None loads the base as the adapters were trained (their recipe's ``bits``: a
    4-bit run's base in NF4 with the quantization config it was trained with).
    """
    from pipelines.train.merge import adapter_kind, adapter_rank
    from pipelines.train.model import load_base, load_tokenizer, resolve_device

    adapters = {n: Path(p) for n, p in (adapters or {}).items()}
    base_id = _check_adapters(adapters, base)
    cfgs = {n: adapter_config(p) for n, p in adapters.items()}
    kinds = {n: adapter_kind(p) for n, p in adapters.items()}
    trained_bits = {c.bits for c in cfgs.values() if c is not None}
    use_bits = bits or (min(trained_bits) if trained_bits else 16)
    if use_bits not in (4, 16):
        raise BadInputError(f"--bits {use_bits}: choose 4 or 16")
    _check_kinds(kinds, use_bits)
    dev = resolve_device(device)
    first = next(iter(adapters.values()), None)
    tok_src = first if first is not None and (first / "tokenizer_config.json").exists() else base_id
    tokenizer = load_tokenizer(str(tok_src))
    tokenizer.padding_side = "left"  # generation continues each row's last token
    model = load_base(base_id, bits=use_bits, device=dev).eval()
    model.config.use_cache = True
    if adapters:
        model = _attach(model, adapters, kinds)
    specs = {
        n: _spec_of(c) if c is not None else (base_spec or PromptSpec()) for n, c in cfgs.items()
    }
    spec0 = base_spec or next(iter(specs.values()), PromptSpec())
    ranks = {n: adapter_rank(p) for n, p in adapters.items()}
    return Engine(model, tokenizer, dev, use_bits, base_id, specs, spec0, kinds, ranks)


def _spec_of(cfg: Any) -> PromptSpec:
    from pipelines.train.data import prompt_spec

    return prompt_spec(cfg)

"""What a ``--system`` names, checked before anything runs, and how each kind generates.

Kinds: ``template``, ``retrieval`` (``pipelines.eval.baselines``); ``base:MODEL`` (zero-shot
with the same prompt) and ``adapter:RUN/adapter`` (or ``adapter:RUN``), which run through
``pipelines.train.inference.load_engine``; ``openai:URL#model`` (``pipelines.eval.remote``).
A system may be named: ``NAME=SPEC``. Model systems on one base share one loaded base: its
adapters are switched with peft, and ``base:`` runs it with the adapters disabled.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.prompt import PromptSpec

KINDS = ("template", "retrieval", "base", "adapter", "openai")
_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*$")
_USERINFO = re.compile(r"//[^/@\s]+@")
#: (system name, done, total) while a system generates.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SystemSpec:
    """One system to evaluate. ``target``: the model, adapter folder or endpoint."""

    name: str
    kind: str
    target: str = ""
    step: int | None = None  # a checkpoint's optimiser step (a curve point)
    prompt: PromptSpec | None = None  # override the prompt (checkpoints: the run's)
    bits: int | None = None  # override the bits (checkpoints: the run's)


@dataclass
class Options:
    """How model and endpoint systems generate (the CLI's flags)."""

    bits: int | None = None
    device: str = "auto"
    batch_size: int = 8
    max_new_tokens: int = 256
    prompt_input: str | None = None
    api_key_env: str | None = None
    timeout: float = 60.0

    def spec(self) -> PromptSpec:
        """The prompt for systems that have no trained one (``base:`` alone, ``openai:``)."""
        return PromptSpec(input=self.prompt_input) if self.prompt_input else PromptSpec()


@dataclass
class Generated:
    """A system's raw outputs (one per record) and the seconds it took."""

    spec: SystemSpec
    outputs: list[str]
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def _default_name(kind: str, target: str) -> str:
    if kind in ("template", "retrieval"):
        return kind
    if kind == "openai":
        return f"openai:{target.partition('#')[2]}"
    path = Path(target)
    short = path.parent.name if path.name == "adapter" and path.parent.name else path.name
    return f"{kind}:{short or target}"


def shown(text: str) -> str:
    """``text`` with any ``//user:password@`` of a URL removed (for messages and reports)."""
    return _USERINFO.sub("//", text)


def public_target(spec: SystemSpec) -> str:
    """What eval.json may say a system ran on: an endpoint URL without its credentials."""
    return shown(spec.target)


def parse_system(text: str) -> SystemSpec:
    """``[NAME=]KIND[:TARGET]`` -> SystemSpec (exit 2 for anything malformed)."""
    text_shown = shown(text)
    name, sep, spec = text.partition("=")
    if not sep or ":" in name or not _NAME.match(name):
        name, spec = "", text
    kind, _, target = spec.partition(":")
    kind = kind.strip()
    if kind not in KINDS:
        raise BadInputError(
            f"--system {text_shown!r}: unknown kind {kind!r}; use one of "
            "template, retrieval, base:MODEL, adapter:RUN/adapter, "
            "openai:URL#model"
        )
    if kind in ("template", "retrieval") and target:
        raise BadInputError(f"--system {text_shown!r}: {kind} takes no argument")
    if kind in ("base", "adapter", "openai") and not target.strip():
        raise BadInputError(f"--system {text_shown!r}: {kind} needs a target ({kind}:...)")
    target = target.strip()
    if kind == "adapter":
        target = str(adapter_dir(Path(target)))
    return SystemSpec(name or _default_name(kind, target), kind, target)


def adapter_dir(path: Path) -> Path:
    """An adapter folder, given it or the run folder holding it (``RUN`` -> ``RUN/adapter``)."""
    if (path / "adapter_config.json").is_file():
        return path
    if (path / "adapter" / "adapter_config.json").is_file():
        return path / "adapter"
    if not path.exists():
        raise BadInputError(f"adapter:{path}: no such run or adapter folder")
    raise BadInputError(f"adapter:{path}: not an adapter folder (no adapter_config.json)")


def check_unique(specs: list[SystemSpec]) -> None:
    """Every system has its own name (reports and comparisons are keyed by it)."""
    seen: set[str] = set()
    for s in specs:
        if s.name in seen:
            raise BadInputError(f"two systems are named {s.name!r}; name them: NAME=SPEC")
        seen.add(s.name)
    if not specs:
        raise BadInputError("no system to evaluate: pass --system (e.g. --system retrieval)")


def check_local_model(model: str) -> None:
    """A local model path must exist (a Hub id is checked when it loads)."""
    path = Path(model).expanduser()
    local = model.startswith((".", "/", "~")) or path.exists()
    if local and not (path / "config.json").is_file():
        raise BadInputError(f"base:{model}: not a model directory (no config.json)")


def _same_model(a: str, b: str) -> bool:
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.exists() and pb.exists():
        return pa.resolve() == pb.resolve()
    return a == b


def model_groups(specs: list[SystemSpec]) -> list[tuple[str, list[SystemSpec]]]:
    """(base model, its systems) for every ``base:``/``adapter:`` system: one load each."""
    from pipelines.train.merge import adapter_base

    groups: list[tuple[str, list[SystemSpec]]] = []
    for s in specs:
        if s.kind not in ("base", "adapter"):
            continue
        base = s.target if s.kind == "base" else adapter_base(Path(s.target))
        for key, members in groups:
            if _same_model(key, base):
                members.append(s)
                break
        else:
            groups.append((base, [s]))
    return groups


def run_group(
    base: str,
    members: list[SystemSpec],
    records: list[dict[str, Any]],
    opts: Options,
    progress: Progress | None,
) -> list[Generated]:
    """Load ``base`` once with every adapter of ``members`` on it, and generate for each.

    The base alone is prompted as a checkpoint's run was trained, else as ``--prompt-input``
    says, else as the first adapter was trained (the engine's rule), else with the defaults.
    """
    import gc

    from pipelines.train.inference import load_engine

    names = {id(s): f"a{i}" for i, s in enumerate(members) if s.kind == "adapter"}
    adapters = {names[id(s)]: Path(s.target) for s in members if s.kind == "adapter"}
    base_spec = next((s.prompt for s in members if s.prompt is not None), None)
    if base_spec is None and (opts.prompt_input or not adapters):
        base_spec = opts.spec()
    bits = opts.bits or next((s.bits for s in members if s.bits is not None), None)
    engine = load_engine(adapters, base=base, bits=bits, device=opts.device, base_spec=base_spec)
    out = []
    for s in members:
        t0 = time.monotonic()
        texts = engine.generate(
            records,
            adapter=names.get(id(s)),
            max_new_tokens=opts.max_new_tokens,
            batch_size=opts.batch_size,
            progress=_counter(s.name, len(records), progress),
        )
        out.append(Generated(s, texts, time.monotonic() - t0, {"bits": engine.bits}))
    del engine
    gc.collect()
    _free_cuda()
    return out


def _free_cuda() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _counter(name: str, total: int, progress: Progress | None) -> Callable[[int], None]:
    done = 0

    def step(k: int) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(name, done, total)

    return step

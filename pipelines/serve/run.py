"""Start a server: the built-in one (this package's app on uvicorn), or vLLM / llama.cpp's
``llama-server`` with the command line this module builds for them.

- vLLM serves the base with every adapter as a LoRA module (``--lora-modules name=path``);
  ``--max-lora-rank`` is set from the adapters' largest rank, rounded up to a value vLLM accepts
  (its default, 16, is below the recipes' 64 and vLLM would refuse the adapters); a 4-bit run's
  base is quantised in flight with bitsandbytes, as it was trained. Plain LoRA only.
- llama.cpp serves an exported GGUF (``corpus train export``): a file, or the export folder,
  whose Modelfile names the model file and any LoRA adapter.

The API key is passed to either through its own environment variable (``VLLM_API_KEY``,
``LLAMA_API_KEY``), never on the command line, where every local user could read it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError

ENGINES = ("builtin", "vllm", "llamacpp")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
API_KEY_ENV = "CORPUS_SERVE_API_KEY"
#: vLLM's accepted --max-lora-rank values (vllm.config.lora.MaxLoRARanks).
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
ENGINE_KEY_ENV = {"vllm": "VLLM_API_KEY", "llamacpp": "LLAMA_API_KEY"}
BINARIES = {"vllm": "vllm", "llamacpp": "llama-server"}
INSTALL_HINTS = {
    "vllm": "pip install vllm (it needs a CUDA GPU)",
    "llamacpp": "install llama.cpp (`brew install llama.cpp`, or build llama-server from "
    "https://github.com/ggml-org/llama.cpp) and put llama-server on PATH",
}


def vllm_lora_rank(rank: int) -> int:
    """The smallest ``--max-lora-rank`` vLLM accepts that holds ``rank``."""
    for r in VLLM_LORA_RANKS:
        if r >= rank:
            return r
    raise BadInputError(f"adapter rank {rank} is above vLLM's largest --max-lora-rank (512)")


def adapter_facts(adapters: dict[str, Path]) -> tuple[dict[str, str], dict[str, int], int]:
    """(kinds, ranks, bits the base was trained at) from the adapter folders, nothing loaded."""
    from pipelines.train.inference import adapter_config
    from pipelines.train.merge import adapter_kind, adapter_rank

    kinds = {n: adapter_kind(p) for n, p in adapters.items()}
    ranks = {n: adapter_rank(p) for n, p in adapters.items()}
    bits = {c.bits for c in (adapter_config(p) for p in adapters.values()) if c is not None}
    return kinds, ranks, min(bits) if bits else 16


def vllm_command(
    base: str,
    adapters: dict[str, Path],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    binary: str = "vllm",
) -> list[str]:
    """``vllm serve`` for ``base`` with every adapter as a named LoRA module."""
    kinds, ranks, bits = adapter_facts(adapters)
    odd = [f"{n} ({k})" for n, k in kinds.items() if k != "lora"]
    if odd:
        raise BadInputError(
            f"vLLM serves plain LoRA adapters; {', '.join(odd)} is not: merge it "
            "(corpus train merge) and serve the merged model"
        )
    cmd = [
        binary,
        "serve",
        base,
        "--host",
        host,
        "--port",
        str(port),
        "--served-model-name",
        "base",
    ]
    if adapters:
        cmd += [
            "--enable-lora",
            "--lora-modules",
            *(f"{n}={Path(p).resolve()}" for n, p in adapters.items()),
            "--max-lora-rank",
            str(vllm_lora_rank(max(ranks.values()))),
            "--max-loras",
            str(len(adapters)),
        ]
    if bits == 4:
        cmd += ["--quantization", "bitsandbytes"]  # the NF4 base the adapters trained on
    return cmd


def gguf_files(path: Path) -> tuple[Path, Path | None]:
    """(model GGUF, LoRA GGUF or None): a .gguf file, or an export folder's Modelfile."""
    from pipelines.train.modelfile import parse

    path = Path(path)
    if path.is_file() and path.suffix == ".gguf":
        return path, None
    mf = path / "Modelfile"
    if not mf.is_file():
        raise BadInputError(f"{path}: not a .gguf file or an export folder with a Modelfile")
    parsed = parse(mf.read_text(encoding="utf-8"))

    def local(p: str) -> Path:
        f = Path(p) if Path(p).is_absolute() else path / p
        if not f.is_file():
            raise BadInputError(f"{mf} names {p}, which is not there")
        return f

    return local(parsed.from_), local(parsed.adapters[0]) if parsed.adapters else None


def llamacpp_command(
    gguf: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    alias: str = "rustdoc",
    ctx: int = 4096,
    binary: str = "llama-server",
) -> list[str]:
    """``llama-server`` for an exported GGUF (and its LoRA adapter, if the export has one)."""
    model, lora = gguf_files(gguf)
    cmd = [binary, "-m", str(model)]
    if lora is not None:
        cmd += ["--lora", str(lora)]
    return [
        *cmd,
        "--host",
        host,
        "--port",
        str(port),
        "--alias",
        alias,
        "--chat-template",
        "chatml",
        "-c",
        str(ctx),
    ]


def find_binary(engine: str) -> str:
    """The engine's program on PATH, or a clear error saying how to get it."""
    found = shutil.which(BINARIES[engine])
    if found is None:
        raise BadInputError(
            f"--engine {engine}: {BINARIES[engine]} is not installed: {INSTALL_HINTS[engine]}"
        )
    return found


def external_env(engine: str, api_key: str | None) -> dict[str, str]:
    """The environment for an external server: ours, plus the key under its variable."""
    env = dict(os.environ)
    if api_key:
        env[ENGINE_KEY_ENV[engine]] = api_key
    return env


def run_external(cmd: list[str], env: dict[str, str]) -> int:
    """Run the server in the foreground until it exits (Ctrl-C reaches it too)."""
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130


def serve_builtin(
    engine: Any, *, host: str, port: int, limits: Any, api_key: str | None, log_level: str = "info"
) -> None:
    """The built-in server on uvicorn, in the foreground."""
    import uvicorn

    from pipelines.serve.app import create_app

    app = create_app(engine, limits=limits, api_key=api_key)
    uvicorn.run(app, host=host, port=port, log_level=log_level)

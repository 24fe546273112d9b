"""`corpus serve`: an OpenAI-compatible server for a base model and its adapters.

Only typer/rich at module level; FastAPI, uvicorn and the model stack are imported when the
command runs.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import shlex
from pathlib import Path

import typer

from corpus.commands._adapters import parse_adapters
from corpus.commands._common import (
    PANEL_USE,
    ExitCode,
    add_command,
    console,
    err_console,
    fail,
    user_errors,
)


def register(app: typer.Typer) -> None:
    """Add the serve command to ``app``."""
    add_command(app, "serve", serve, PANEL_USE)


def _api_key(env_name: str) -> str | None:
    """The key from the environment (never from the command line, never printed)."""
    key = os.environ.get(env_name, "")
    return key or None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _announce(host: str, port: int, key_env: str, key: str | None) -> None:
    err_console.print(
        f"API key: {'required (from $' + key_env + ')' if key else 'none'}; "
        f"OpenAI base URL: http://{host}:{port}/v1",
        markup=False,
        soft_wrap=True,
    )
    if not _is_loopback(host):
        note = "" if key else " with no API key"
        err_console.print(
            f"warning: listening on {host}: reachable from other machines{note}", markup=False
        )


_ADAPTER = typer.Option(
    [],
    "--adapter",
    "-a",
    metavar="NAME=DIR",
    help="Adapter folder, optionally named NAME=DIR (repeatable).",
)

_MODEL = typer.Option(
    None, "--model", "-m", metavar="MODEL", help="Base model (default: the adapters')."
)

_ENGINE = typer.Option(
    "builtin", "--engine", metavar="builtin|vllm|llamacpp", help="builtin, vllm or llamacpp."
)

_GGUF = typer.Option(
    None,
    "--gguf",
    metavar="FILE",
    help="llamacpp: an exported .gguf file or export folder (Modelfile).",
)

_HOST = typer.Option(
    "127.0.0.1", "--host", metavar="HOST", help="Address to bind (loopback default)."
)

_API_KEY_ENV = typer.Option(
    "CORPUS_SERVE_API_KEY",
    "--api-key-env",
    metavar="VAR",
    help="Environment variable holding the API key clients must send (unset: no key).",
)

_MAX_BODY_BYTES = typer.Option(1_000_000, "--max-body-bytes", metavar="BYTES", help="Larger: 413.")

_MAX_CONCURRENCY = typer.Option(4, "--max-concurrency", metavar="N", help="In flight; more: 429.")

_MAX_TOKENS = typer.Option(1024, "--max-tokens", metavar="N", help="Most new tokens per request.")

_MAX_PROMPT_TOKENS = typer.Option(8192, "--max-prompt-tokens", metavar="N", help="Longer: 400.")

_DRY_RUN = typer.Option(
    False, "--dry-run", help="vllm/llamacpp: print the command instead of running it."
)


def serve(
    adapter: list[str] = _ADAPTER,
    model: str = _MODEL,
    engine: str = _ENGINE,
    gguf: Path = _GGUF,
    host: str = _HOST,
    port: int = typer.Option(8000, "--port", metavar="PORT", help="Port to listen on."),
    api_key_env: str = _API_KEY_ENV,
    max_body_bytes: int = _MAX_BODY_BYTES,
    max_concurrency: int = _MAX_CONCURRENCY,
    max_tokens: int = _MAX_TOKENS,
    max_prompt_tokens: int = _MAX_PROMPT_TOKENS,
    bits: int = typer.Option(None, "--bits", metavar="4|16", help="4 or 16 (default: as trained)."),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help="auto, cpu or cuda."),
    dry_run: bool = _DRY_RUN,
) -> None:
    """Serve the base and every adapter behind an OpenAI-compatible API (/v1/models,
    /v1/chat/completions, /v1/completions, streaming) plus /v1/rustdoc."""
    if engine not in ("builtin", "vllm", "llamacpp"):
        fail(f"--engine {engine}: choose builtin, vllm or llamacpp", ExitCode.BAD_INPUT)
    if min(max_body_bytes, max_concurrency, max_tokens, max_prompt_tokens) < 1:
        fail("limits must be at least 1", ExitCode.BAD_INPUT)
    if not 0 < port < 65536:
        fail(f"--port {port}: not a TCP port", ExitCode.BAD_INPUT)
    adapters = parse_adapters(adapter)
    key = _api_key(api_key_env)
    if engine != "builtin":
        _external(engine, adapters, model, gguf, host, port, (api_key_env, key), dry_run)
        return
    limits = dict(
        max_body_bytes=max_body_bytes,
        max_concurrency=max_concurrency,
        max_tokens=max_tokens,
        max_prompt_tokens=max_prompt_tokens,
    )
    _builtin(adapters, model, bits, device, host, port, (api_key_env, key), limits)


def _builtin(
    adapters: dict,
    model: str | None,
    bits: int | None,
    device: str,
    host: str,
    port: int,
    key: tuple[str, str | None],
    limits: dict,
) -> None:
    """Load the engine once (every adapter on one base) and serve it on uvicorn."""
    missing = [
        m
        for m in ("fastapi", "uvicorn", "torch", "transformers", "peft")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        from corpus.install import install_hint

        fail(
            f"corpus serve needs {', '.join(missing)}: {install_hint('train,serve')}",
            ExitCode.BAD_INPUT,
        )
    with user_errors():
        from pipelines.serve.limits import Limits
        from pipelines.serve.run import serve_builtin
        from pipelines.train.inference import load_engine

        loaded = load_engine(adapters, base=model, bits=bits, device=device)
        err_console.print(
            f"serving {', '.join(loaded.names)} ({loaded.bits}-bit base "
            f"{loaded.base}, {loaded.device})",
            markup=False,
            soft_wrap=True,
        )
        _announce(host, port, key[0], key[1])
        serve_builtin(loaded, host=host, port=port, limits=Limits(**limits), api_key=key[1])


def _external(
    engine: str,
    adapters: dict,
    model: str | None,
    gguf: Path | None,
    host: str,
    port: int,
    key: tuple[str, str | None],
    dry_run: bool,
) -> None:
    """vLLM or llama-server: build the command, check the program, run it (or print it)."""
    with user_errors():
        from pipelines.serve.run import (
            external_env,
            find_binary,
            llamacpp_command,
            run_external,
            vllm_command,
        )
        from pipelines.train.merge import adapter_base

        if engine == "vllm":
            if not adapters and not model:
                fail("--engine vllm: give --adapter DIR or --model BASE", ExitCode.BAD_INPUT)
            base = model or adapter_base(next(iter(adapters.values())))
            cmd = vllm_command(base, adapters, host=host, port=port)
        else:
            if gguf is None or adapters:
                fail(
                    "--engine llamacpp serves an export: give --gguf FILE|FOLDER (from "
                    "corpus train export), not --adapter",
                    ExitCode.BAD_INPUT,
                )
            cmd = llamacpp_command(gguf, host=host, port=port)
        if dry_run:
            console.print(shlex.join(cmd), markup=False, soft_wrap=True, highlight=False)
            return
        cmd[0] = find_binary(engine)
        _announce(host, port, key[0], key[1])
        code = run_external(cmd, external_env(engine, key[1]))
    if code:
        raise typer.Exit(code)

"""The ``openai:URL#model`` system: any OpenAI-compatible chat endpoint (vLLM, llama.cpp's
server, Ollama, ...), asked through the official ``openai`` client.

Each record is sent as ``corpus.prompt``'s conversation (system + user turns), greedy
(``temperature=0``), with no retries (``max_retries=0``: a failing endpoint fails the eval
instead of silently stretching it) and a timeout per request. The API key comes from an
environment variable; it is handed to the client and never printed, logged or written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from corpus.errors import BadInputError, CorpusError, ExitCode
from corpus.prompt import PromptSpec, messages

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
#: Sent when no key is configured: local servers ignore it, the client refuses ``None``.
NO_KEY = "not-needed"


@dataclass(frozen=True)
class Endpoint:
    """Where to ask: the API base URL (``.../v1``) and the model name."""

    url: str
    model: str

    @property
    def shown(self) -> str:
        """The URL without any user:password part, for messages."""
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """``http://u:p@host/v1`` -> ``http://host/v1`` (credentials never reach a message)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def parse_endpoint(target: str) -> Endpoint:
    """``http://host:8000/v1#model`` -> Endpoint; a clear error for anything else."""
    url, sep, model = target.partition("#")
    parts = urlsplit(url)
    if not sep or not model.strip():
        raise BadInputError(f"openai:{redact_url(url)}: expected openai:URL#model")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInputError(f"openai:{redact_url(url)}: not an http(s) URL")
    return Endpoint(url.rstrip("/"), model.strip())


def api_key(env: str | None) -> str:
    """The key from ``env`` (which must be set), else $OPENAI_API_KEY, else a placeholder."""
    if env:
        value = os.environ.get(env)
        if not value:
            raise BadInputError(f"--api-key-env {env}: that environment variable is not set")
        return value
    return os.environ.get(DEFAULT_KEY_ENV) or NO_KEY


def client(endpoint: Endpoint, key: str, timeout: float) -> Any:
    """The official client for ``endpoint``: no retries, ``timeout`` seconds per request."""
    from openai import OpenAI

    return OpenAI(base_url=endpoint.url, api_key=key, max_retries=0, timeout=timeout)


def _failure(endpoint: Endpoint, exc: Exception) -> CorpusError:
    """One line for the user; credentials and tokens never appear in it."""
    import openai

    where = f"openai:{endpoint.shown}"
    if isinstance(exc, openai.APITimeoutError):
        return CorpusError(f"{where}: no answer within the timeout")
    if isinstance(exc, openai.APIConnectionError):
        return CorpusError(f"{where}: cannot reach the endpoint ({type(exc).__name__})")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return CorpusError(
            f"{where}: the endpoint refused the API key ({exc.status_code}); set it with "
            f"--api-key-env VAR or ${DEFAULT_KEY_ENV}",
            ExitCode.BAD_INPUT,
        )
    if isinstance(exc, openai.NotFoundError):
        return CorpusError(
            f"{where}: model {endpoint.model!r} or the chat route was not found (404)",
            ExitCode.BAD_INPUT,
        )
    if isinstance(exc, openai.APIStatusError):
        return CorpusError(f"{where}: the endpoint answered HTTP {exc.status_code}")
    return CorpusError(f"{where}: {type(exc).__name__}")


def check_reachable(endpoint: Endpoint, key: str, timeout: float) -> None:
    """Fail before any generation when nothing answers at the URL (exit 1). A server without
    ``/models`` is fine: only a connection failure or a timeout counts."""
    import openai

    try:
        client(endpoint, key, timeout).models.list()
    except (openai.APIConnectionError, openai.AuthenticationError) as exc:
        raise _failure(endpoint, exc) from None
    except openai.APIStatusError:
        pass


def generate(
    endpoint: Endpoint,
    records: list[dict[str, Any]],
    *,
    spec: PromptSpec,
    key: str,
    timeout: float,
    max_new_tokens: int,
    concurrency: int,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """The endpoint's completion for each record, in order (``concurrency`` requests at once)."""
    from concurrent.futures import ThreadPoolExecutor

    import openai

    api = client(endpoint, key, timeout)

    def ask(record: dict[str, Any]) -> str:
        reply = api.chat.completions.create(
            model=endpoint.model,
            messages=messages(record, spec, with_answer=False),  # type: ignore[arg-type]
            temperature=0,
            max_tokens=max_new_tokens,
        )
        if progress is not None:
            progress(1)
        return (reply.choices[0].message.content or "").strip() if reply.choices else ""

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            return list(pool.map(ask, records))
    except openai.OpenAIError as exc:
        raise _failure(endpoint, exc) from None

"""What one request may ask of the server, how many may be in flight, and the API key.

Everything a request can exceed is answered with an OpenAI-style JSON error before any model
work: a body over ``max_body_bytes`` (413), ``max_tokens`` over the limit or a prompt longer
than ``max_prompt_tokens`` (400), more than ``max_concurrency`` requests running or waiting
(429, with ``Retry-After``). The engine generates one request at a time (one model holds every
adapter), so the concurrency limit bounds the queue.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Per-request and per-server limits (the `corpus serve` flags)."""

    max_body_bytes: int = 1_000_000
    max_concurrency: int = 4
    max_tokens: int = 1024
    default_max_tokens: int = 256
    max_prompt_tokens: int = 8192
    max_prompts: int = 16  # prompts in one /v1/completions request


class InFlight:
    """Counts requests running or waiting; refuses one more than ``limit``."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(max(1, limit))

    def try_enter(self) -> bool:
        """Take a slot if one is free (never waits)."""
        return self._slots.acquire(blocking=False)

    def leave(self) -> None:
        """Give the slot back."""
        self._slots.release()


def key_matches(authorization: str | None, api_key: str) -> bool:
    """``Authorization: Bearer <key>`` holds ``api_key`` (compared in constant time)."""
    scheme, _, token = (authorization or "").partition(" ")
    ok = scheme.lower() == "bearer"
    return hmac.compare_digest(token.strip().encode(), api_key.encode()) and ok


class DeclaredSizeLimit:
    """ASGI middleware: a request whose Content-Length is over the limit gets OpenAI's JSON
    413 before its body is read. (A chunked body without a length is still stopped at the
    limit by FastAPI's ``max_body_size``, with a plain-text 413.)"""

    def __init__(self, app: Any, max_bytes: int, body: Callable[[int], dict]) -> None:
        self.app, self.max_bytes, self.body = app, max_bytes, body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers") or []).get(b"content-length", b"")
            if length.isdigit() and int(length) > self.max_bytes:
                from fastapi.responses import JSONResponse

                await JSONResponse(self.body(int(length)), status_code=413)(scope, receive, send)
                return
        await self.app(scope, receive, send)

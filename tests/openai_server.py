"""A tiny OpenAI-compatible server (FastAPI), started by tests on 127.0.0.1.

It answers ``GET /v1/models`` and ``POST /v1/chat/completions`` the way vLLM, llama.cpp's
server and Ollama do, with two models: ``doc-model`` writes ``/// Returns the <name>.`` for
the function in the prompt; ``prose-model`` writes the same sentence as plain prose (a
generation that is not a doc). With ``key`` set, requests need ``Authorization: Bearer key``.
It records the requests it saw, so tests can check what the client sent.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

MODELS = ("doc-model", "prose-model")


@dataclass
class ServerState:
    """What the app was configured with, and what it was asked."""

    key: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)


def _error(status: int, message: str, kind: str) -> Any:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status)


def make_app(state: ServerState) -> Any:
    """The FastAPI app over ``state`` (FastAPI reads the handlers' annotations, so Request is
    imported at module level, where it can resolve them)."""
    app = FastAPI()

    def authorised(request: Request) -> bool:
        return state.key is None or request.headers.get("authorization") == f"Bearer {state.key}"

    @app.get("/v1/models")
    def models(request: Request) -> Any:
        if not authorised(request):
            return _error(401, "invalid api key", "authentication_error")
        return {"object": "list", "data": [{"id": m, "object": "model"} for m in MODELS]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        if not authorised(request):
            return _error(401, "invalid api key", "authentication_error")
        body = await request.json()
        state.requests.append(body)
        if body.get("model") not in MODELS:
            return _error(404, f"The model `{body.get('model')}` does not exist", "not_found")
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        found = re.search(r"\bfn\s+(\w+)", user)
        name = found.group(1) if found else "value"
        text = f"Returns the {name.replace('_', ' ')}."
        content = f"/// {text}" if body["model"] == "doc-model" else text
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
        }  # fmt: skip

    return app


def free_port() -> int:
    """A port nothing listens on right now (for the 'unreachable endpoint' test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(state: ServerState) -> Iterator[str]:
    """Run the app with uvicorn in a thread on an ephemeral port; yields the base URL."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(make_app(state), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test OpenAI server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(10)

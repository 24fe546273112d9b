"""The FastAPI app over one inference engine: OpenAI's ``/v1/models``, ``/v1/chat/completions``
and ``/v1/completions`` (plain and streamed as server-sent events), and ``/v1/rustdoc``.

Model names: ``base`` (the base alone, adapters disabled) and one per adapter, switched per
request. A chat without a system turn gets the adapter's training system prompt, as an Ollama
Modelfile's SYSTEM would. ``/v1/rustdoc`` takes a signature or a whole function (and its
enclosing ``impl``/``trait`` header and module) and answers with the ``///`` block, prompted
exactly as the adapter was trained (``corpus.prompt``). Every error is OpenAI's JSON body
``{"error": {"message", "type", "param", "code"}}``; generated text is returned as data and
never interpreted.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException

from pipelines.serve.limits import DeclaredSizeLimit, InFlight, Limits, key_matches
from pipelines.serve.schemas import ChatRequest, CompletionRequest, RustdocRequest

OWNER = "rustdoc-corpus"


class APIError(Exception):
    """An error answered as OpenAI's JSON error body with its HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = (
            status,
            message,
            kind,
            code,
            param,
        )


def error_body(status: int, message: str, kind: str, code: Any = None, param: Any = None) -> dict:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code or status}}


_KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def create_app(engine: Any, *, limits: Limits | None = None, api_key: str | None = None) -> Any:
    """The ASGI app serving ``engine`` (``pipelines.train.inference.Engine``): FastAPI, inside
    a guard that refuses a declared oversized body."""
    limits = limits or Limits()
    app = FastAPI(
        title="rustdoc-corpus",
        max_body_size=limits.max_body_bytes,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    _error_handlers(app)

    def authorize(request: Request) -> None:
        if api_key and not key_matches(request.headers.get("authorization"), api_key):
            raise APIError(
                401,
                "Incorrect or missing API key (Authorization: Bearer KEY)",
                "authentication_error",
                "invalid_api_key",
            )

    service = Service(engine, limits)
    app.state.service = service
    guard = [Depends(authorize)]
    app.get("/health")(lambda: {"status": "ok", "models": engine.names})
    app.get("/v1/models", dependencies=guard)(service.models)
    app.get("/v1/models/{model_id}", dependencies=guard)(service.model)
    app.post("/v1/chat/completions", dependencies=guard)(service.chat)
    app.post("/v1/completions", dependencies=guard)(service.completions)
    app.post("/v1/rustdoc", dependencies=guard)(service.rustdoc)
    # Outermost: a declared Content-Length over the limit gets OpenAI's JSON 413 before
    # FastAPI (whose own limit stops chunked bodies, with a plain-text 413) sees the request.
    too_large = f"request body too large (limit {limits.max_body_bytes} bytes)"
    return DeclaredSizeLimit(
        app,
        limits.max_body_bytes,
        lambda n: error_body(
            413, f"{too_large}: {n} bytes", "invalid_request_error", "request_too_large"
        ),
    )


def _error_handlers(app: Any) -> None:
    def answer(status: int, message: str, kind: str, code: Any = None, param: Any = None):
        headers = {"Retry-After": "1"} if status == 429 else None
        return JSONResponse(
            error_body(status, message, kind, code, param), status_code=status, headers=headers
        )

    @app.exception_handler(APIError)
    def _api(request: Any, exc: APIError) -> Any:
        return answer(exc.status, exc.message, exc.kind, exc.code, exc.param)

    @app.exception_handler(HTTPException)
    def _http(request: Any, exc: HTTPException) -> Any:
        message = {413: f"request body too large (limit {app.max_body_size} bytes)"}.get(
            exc.status_code, str(exc.detail)
        )
        return answer(exc.status_code, message, _KINDS.get(exc.status_code, "api_error"))

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Any, exc: RequestValidationError) -> Any:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return answer(
            400,
            f"{where}: {first.get('msg', 'invalid request')}",
            "invalid_request_error",
            param=where or None,
        )


def _now() -> int:
    return int(time.time())


def _sse(obj: Any) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


class Service:
    """The routes' logic over one engine (plain methods: FastAPI runs them in its thread
    pool, so a generation never blocks the event loop)."""

    def __init__(self, engine: Any, limits: Limits) -> None:
        self.engine, self.limits = engine, limits
        self.inflight = InFlight(limits.max_concurrency)
        self.created = _now()

    # -- models ------------------------------------------------------------------------------
    def _card(self, name: str) -> dict:
        return {"id": name, "object": "model", "created": self.created, "owned_by": OWNER}

    def models(self) -> dict:
        """``GET /v1/models``: the base and every adapter."""
        return {"object": "list", "data": [self._card(n) for n in self.engine.names]}

    def model(self, model_id: str) -> dict:
        """``GET /v1/models/{id}``."""
        self.adapter(model_id)
        return self._card(model_id)

    def adapter(self, model: str) -> str | None:
        """The adapter a model name selects (None: the base); 404 for an unknown name."""
        from pipelines.train.inference import BASE

        if model not in self.engine.names:
            raise APIError(
                404,
                f"The model `{model}` does not exist; this server has "
                f"{', '.join(self.engine.names)}",
                "not_found_error",
                "model_not_found",
                "model",
            )
        return None if model == BASE else model

    # -- limits ------------------------------------------------------------------------------
    def sampling(self, req: Any, max_tokens: int | None) -> Any:
        """The engine's Sampling for a request, within the server's token limit."""
        from pipelines.train.inference import Sampling

        n = max_tokens or self.limits.default_max_tokens
        if n > self.limits.max_tokens:
            raise APIError(
                400,
                f"max_tokens {n} is over this server's limit of {self.limits.max_tokens}",
                param="max_tokens",
            )
        return Sampling(
            max_new_tokens=n,
            min_new_tokens=req.min_tokens,
            temperature=req.temperature or 0.0,
            top_p=req.top_p or 1.0,
            stop=req.stops(),
            seed=req.seed,
        )

    def check_prompt(self, text: str) -> None:
        """Refuse a prompt longer than the server allows (before it reaches the model)."""
        n = self.engine.count_tokens(text)
        if n > self.limits.max_prompt_tokens:
            raise APIError(
                400,
                f"the prompt has {n} tokens; this server takes at most "
                f"{self.limits.max_prompt_tokens}",
                code="context_length_exceeded",
            )

    def enter(self) -> None:
        """Take a request slot, or answer 429."""
        if not self.inflight.try_enter():
            raise APIError(
                429,
                f"{self.limits.max_concurrency} requests are already in flight; retry shortly",
                "rate_limit_error",
            )

    def run(self, prompts: list[str], adapter: str | None, sampling: Any) -> list[Any]:
        """Complete ``prompts`` holding a request slot."""
        self.enter()
        try:
            return self.engine.complete(prompts, adapter=adapter, sampling=sampling)
        finally:
            self.inflight.leave()

    def stream(
        self,
        prompt: str,
        adapter: str | None,
        sampling: Any,
        frame: Callable[[str | None, str | None], dict],
    ) -> Any:
        """An SSE response of ``frame(piece, finish_reason)`` chunks, then ``[DONE]``."""
        self.enter()
        release = _Once(self.inflight.leave)
        try:
            tokens = self.engine.stream(prompt, adapter=adapter, sampling=sampling)
        except Exception:
            release()
            raise

        def events() -> Iterator[str]:
            pieces = iter(tokens)
            try:
                yield _sse(frame("", None))
                for piece in pieces:
                    yield _sse(frame(piece, None))
                yield _sse(frame(None, tokens.finish_reason))
                yield "data: [DONE]\n\n"
            except Exception as exc:  # after the 200: the error travels as an event
                yield _sse(
                    error_body(500, f"generation failed: {type(exc).__name__}", "server_error")
                )
            finally:
                pieces.close()  # a client that went away stops the generation
                release()

        def hang_up() -> None:
            tokens.cancel()
            release()

        body = events()
        # A client that goes away leaves the generator suspended (its finally runs only when
        # it is collected, which a reference cycle defers to the cyclic GC): the response's
        # background task, which runs once the client is gone (or the stream is done), stops
        # the generation and gives the slot back; collection is the last resort. Starlette runs
        # that task after a disconnect for servers speaking ASGI HTTP < 2.4 (uvicorn speaks
        # 2.3); under a newer one it would not run, and
        # test_a_client_that_leaves_mid_stream_gives_its_slot_back would fail.
        weakref.finalize(body, release)
        return StreamingResponse(
            body,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
            background=BackgroundTask(hang_up),
        )

    # -- routes ------------------------------------------------------------------------------
    def chat(self, req: ChatRequest) -> Any:
        """``POST /v1/chat/completions``."""
        adapter = self.adapter(req.model)
        msgs = [{"role": m.role, "content": m.text()} for m in req.messages]
        if msgs[0]["role"] != "system":
            msgs.insert(0, {"role": "system", "content": self.engine.spec(adapter).system})
        prompt = self.engine.chat_prompt(msgs)
        self.check_prompt(prompt)
        sampling = self.sampling(req, req.max_completion_tokens or req.max_tokens)
        head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": _now(), "model": req.model}
        if req.stream:

            def frame(piece: str | None, finish: str | None) -> dict:
                delta = {} if piece is None else {"content": piece}
                if piece == "":
                    delta["role"] = "assistant"
                choice = {"index": 0, "delta": delta, "finish_reason": finish}
                return {**head, "object": "chat.completion.chunk", "choices": [choice]}

            return self.stream(prompt, adapter, sampling, frame)
        done = self.run([prompt], adapter, sampling)[0]
        message = {"role": "assistant", "content": done.text}
        return {
            **head,
            "object": "chat.completion",
            "usage": _usage([done]),
            "choices": [{"index": 0, "message": message, "finish_reason": done.finish_reason}],
        }

    def completions(self, req: CompletionRequest) -> Any:
        """``POST /v1/completions`` (a list of prompts is one batch; streaming takes one)."""
        adapter = self.adapter(req.model)
        prompts = [req.prompt] if isinstance(req.prompt, str) else list(req.prompt)
        if not prompts or len(prompts) > self.limits.max_prompts:
            raise APIError(400, f"give 1 to {self.limits.max_prompts} prompts", param="prompt")
        if req.stream and len(prompts) > 1:
            raise APIError(400, "streaming takes one prompt", param="prompt")
        for p in prompts:
            self.check_prompt(p)
        sampling = self.sampling(req, req.max_tokens)
        head = {
            "id": f"cmpl-{uuid.uuid4().hex}",
            "created": _now(),
            "model": req.model,
            "object": "text_completion",
        }
        if req.stream:

            def frame(piece: str | None, finish: str | None) -> dict:
                choice = {"index": 0, "text": piece or "", "finish_reason": finish}
                return {**head, "choices": [choice]}

            return self.stream(prompts[0], adapter, sampling, frame)
        done = self.run(prompts, adapter, sampling)
        return {
            **head,
            "usage": _usage(done),
            "choices": [
                {"index": i, "text": d.text, "finish_reason": d.finish_reason, "logprobs": None}
                for i, d in enumerate(done)
            ],
        }

    def rustdoc(self, req: RustdocRequest) -> dict:
        """``POST /v1/rustdoc``: the ``///`` block for one function, with the training prompt."""
        from pipelines.train.generate import doc_block

        adapter = self.adapter(req.model)
        record = function_record(req)
        prompt = self.engine.prompts([record], adapter)[0]
        self.check_prompt(prompt)
        n = req.max_tokens or self.limits.default_max_tokens
        if n > self.limits.max_tokens:
            raise APIError(
                400,
                f"max_tokens {n} is over this server's limit of {self.limits.max_tokens}",
                param="max_tokens",
            )
        from pipelines.train.inference import Sampling

        done = self.run([prompt], adapter, Sampling(max_new_tokens=n))[0]
        return {
            "id": f"rustdoc-{uuid.uuid4().hex}",
            "object": "rustdoc",
            "created": _now(),
            "model": req.model,
            "doc": doc_block(done.text),
            "completion": done.text,
            "prompt_input": self.engine.spec(adapter).input,
            "finish_reason": done.finish_reason,
            "usage": _usage([done]),
        }


class _Once:
    """Calls ``fn`` the first time it is called, never again."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn: Callable[[], None] | None = fn
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            fn, self.fn = self.fn, None
        if fn is not None:
            fn()


def _usage(done: list[Any]) -> dict:
    p = sum(d.prompt_tokens for d in done)
    c = sum(d.completion_tokens for d in done)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def function_record(req: RustdocRequest) -> dict:
    """The record a /v1/rustdoc request describes: a signature, or the first function of the
    source it sends (found by the extractor), in its container and module."""
    from corpus.prompt import record_for

    if bool(req.signature) == bool(req.source):
        raise APIError(400, "give exactly one of signature or source", param="signature")
    if req.signature:
        return record_for(req.signature, container=req.container, module=req.module)
    from corpus.extract import context_for, extract_file_bytes

    ctx = context_for(None, "input.rs", repo="local/serve", commit="0" * 40, license="")
    found = extract_file_bytes(req.source.encode("utf-8"), "input.rs", ctx).records  # type: ignore[union-attr]
    if not found:
        raise APIError(400, "source holds no Rust function the parser can read", param="source")
    fn = found[0]
    return record_for(
        fn["signature"],
        container=req.container or fn.get("container_header"),
        module=req.module,
        source=fn["source"],
    )

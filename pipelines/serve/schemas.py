"""Request bodies of the OpenAI-compatible routes (and of ``/v1/rustdoc``), validated by
pydantic. Fields the server does not use (``user``, ``logprobs``, ``stream_options``, ...) are
accepted and ignored, as clients send them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class _Sampled(BaseModel):
    model: str
    max_tokens: int | None = Field(None, ge=1)
    min_tokens: int = Field(0, ge=0)  # vLLM's extension: no end of turn before this many
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(1, ge=1, le=1)  # one choice per request
    stream: bool = False

    def stops(self) -> tuple[str, ...]:
        """``stop`` as a tuple of non-empty strings."""
        if self.stop is None:
            return ()
        items = [self.stop] if isinstance(self.stop, str) else self.stop
        return tuple(s for s in items if s)


class ChatMessage(BaseModel):
    """One turn; ``content`` as a string or OpenAI's list of text parts."""

    role: Literal["system", "user", "assistant"]
    content: str | list[dict[str, str]]

    def text(self) -> str:
        """The turn's text (text parts joined)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")


class ChatRequest(_Sampled):
    """``POST /v1/chat/completions``."""

    messages: list[ChatMessage] = Field(..., min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)


class CompletionRequest(_Sampled):
    """``POST /v1/completions`` (OpenAI's default of 16 new tokens)."""

    prompt: str | list[str]
    max_tokens: int | None = Field(16, ge=1)


class RustdocRequest(BaseModel):
    """``POST /v1/rustdoc``: one function, given by its signature or its source, in context."""

    model: str
    signature: str | None = None
    source: str | None = None
    container: str | None = Field(
        None, description='the enclosing block\'s header: "impl<T> Foo<T>", "trait Read"'
    )
    module: str = ""
    max_tokens: int | None = Field(None, ge=1)

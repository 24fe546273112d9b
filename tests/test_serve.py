"""`corpus serve`: the built-in OpenAI-compatible server on 127.0.0.1, answered by the official
`openai` client — two adapters and the base on one tiny Qwen2, plain and streamed; limits,
unknown models, the API key; the command lines of vLLM and llama.cpp's server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from tests.ship_fixtures import Ship, ship

__all__ = ["ship"]
runner = CliRunner()
ASK = (
    "Write the rustdoc comment for this Rust function.\n\n```rust\npub fn add(x: u32) -> u32;\n```"
)
MSGS = [{"role": "user", "content": ASK}]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app on a real uvicorn server in a thread."""

    def __init__(self, asgi, port: int) -> None:
        import uvicorn

        self.asgi, self.port = asgi, port
        self.server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=port,
                                                    log_level="warning"))  # fmt: skip
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def client(self, key: str = "unused") -> openai.OpenAI:
        return openai.OpenAI(base_url=f"http://127.0.0.1:{self.port}/v1", api_key=key,
                             max_retries=0)  # fmt: skip

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def engine(ship: Ship):
    from pipelines.train.inference import load_engine

    return load_engine({"one": ship.adapter("one"), "two": ship.adapter("two")}, device="cpu")


@pytest.fixture(scope="module")
def server(engine):
    from pipelines.serve.app import create_app
    from pipelines.serve.limits import Limits

    limits = Limits(max_body_bytes=20_000, max_tokens=64, default_max_tokens=24,
                    max_prompt_tokens=600)  # fmt: skip
    srv = Server(create_app(engine, limits=limits), _port())
    yield srv
    srv.stop()


def test_models_lists_the_base_and_each_adapter(server: Server) -> None:
    client = server.client()
    assert [m.id for m in client.models.list().data] == ["base", "one", "two"]
    assert client.models.retrieve("two").id == "two"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("three")


def test_two_adapters_and_the_base_answer_differently(server: Server) -> None:
    client = server.client()
    texts = {}
    for model in ("base", "one", "two"):
        r = client.chat.completions.create(model=model, messages=MSGS, max_tokens=24)
        assert r.model == model and r.object == "chat.completion"
        assert r.choices[0].finish_reason in ("stop", "length")
        assert r.usage.prompt_tokens > 50 and 0 < r.usage.completion_tokens <= 24
        texts[model] = r.choices[0].message.content
    assert len(set(texts.values())) == 3, texts
    assert texts["one"].startswith("///")  # trained to answer with doc lines


def test_streaming_gives_the_same_text_in_pieces(server: Server) -> None:
    client = server.client()
    plain = client.chat.completions.create(model="one", messages=MSGS, max_tokens=24)
    chunks = list(client.chat.completions.create(model="one", messages=MSGS, max_tokens=24,
                                                 stream=True))  # fmt: skip
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 3 and "".join(pieces) == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == plain.choices[0].finish_reason
    assert len({c.id for c in chunks}) == 1

    done = client.completions.create(model="two", prompt="pub fn", max_tokens=8)
    streamed = client.completions.create(model="two", prompt="pub fn", max_tokens=8, stream=True)
    assert "".join(c.choices[0].text for c in streamed) == done.choices[0].text
    batch = client.completions.create(model="two", prompt=["pub fn", "impl Foo"], max_tokens=8)
    assert [c.index for c in batch.choices] == [0, 1]
    assert batch.choices[0].text == done.choices[0].text  # left padding changes nothing


def test_stop_strings_end_the_text_before_them(server: Server) -> None:
    client = server.client()
    full = client.chat.completions.create(model="one", messages=MSGS, max_tokens=24)
    text = full.choices[0].message.content
    stop = text[8:12]
    assert stop and stop in text
    cut = client.chat.completions.create(model="one", messages=MSGS, max_tokens=24, stop=[stop])
    assert cut.choices[0].message.content == text[: text.index(stop)]
    assert cut.choices[0].finish_reason == "stop"
    streamed = client.chat.completions.create(model="one", messages=MSGS, max_tokens=24,
                                              stop=stop, stream=True)  # fmt: skip
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == text[: text.index(stop)]


def test_unknown_model_is_a_404_with_openai_s_error_body(server: Server) -> None:
    client = server.client()
    for call in (
        lambda: client.chat.completions.create(model="nope", messages=MSGS),
        lambda: client.chat.completions.create(model="nope", messages=MSGS, stream=True),
        lambda: client.completions.create(model="nope", prompt="x"),
    ):
        with pytest.raises(openai.NotFoundError) as err:
            call()
        assert err.value.status_code == 404
        assert err.value.body["code"] == "model_not_found" and "`nope`" in err.value.body["message"]


def test_limits_answer_413_400_and_429(server: Server) -> None:
    client = server.client()
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(
            model="one", messages=[{"role": "user", "content": "x" * 30_000}]
        )
    assert err.value.status_code == 413 and err.value.body["code"] == "request_too_large"
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="one", messages=MSGS, max_tokens=65)
    assert "over this server's limit of 64" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="one", messages=[{"role": "user", "content": "fn f() " * 400}]
        )
    assert err.value.body["code"] == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="one", messages=MSGS, temperature=5)
    assert err.value.body["param"] == "temperature"

    service = server.asgi.app.state.service
    held = [service.inflight.try_enter() for _ in range(4)]  # every slot taken
    assert all(held) and not service.inflight.try_enter()
    try:
        with pytest.raises(openai.RateLimitError) as err:
            client.chat.completions.create(model="one", messages=MSGS, max_tokens=4)
        assert err.value.response.headers["retry-after"] == "1"
    finally:
        for _ in held:
            service.inflight.leave()
    assert client.chat.completions.create(model="one", messages=MSGS, max_tokens=4).choices


def test_a_client_that_leaves_mid_stream_gives_its_slot_back(server: Server) -> None:
    import gc

    client = server.client()
    # With the cyclic GC off, only the server's own hang-up can give the slot back (before
    # the fix it waited for a collection: never, here; in a long CI run, sometimes too late).
    gc.disable()
    try:
        stream = client.chat.completions.create(model="one", messages=MSGS, max_tokens=64,
                                                stream=True, extra_body={"min_tokens": 64})  # fmt: skip
        next(iter(stream))
        stream.close()  # gone after the first chunk
        service = server.asgi.app.state.service
        deadline = time.monotonic() + 30
        while True:
            held = [service.inflight.try_enter() for _ in range(4)]
            for ok in held:
                if ok:
                    service.inflight.leave()
            if all(held):
                break
            assert time.monotonic() < deadline, "the stream's slot was never given back"
            time.sleep(0.05)
    finally:
        gc.enable()
    assert client.chat.completions.create(model="one", messages=MSGS, max_tokens=4).choices


def test_rustdoc_route_uses_the_training_prompt(server: Server, engine) -> None:
    from corpus.prompt import record_for

    client = server.client()
    body = {"model": "one", "signature": "pub fn len(&self) -> usize", "container": "impl Buf"}
    got = client.post("/rustdoc", body=body, cast_to=object)
    record = record_for(body["signature"], container=body["container"])
    want = engine.generate([record], adapter="one", max_new_tokens=24)[0]
    assert got["completion"].strip() == want
    assert got["doc"].startswith("///") and got["prompt_input"] == "context"
    src = "impl Buf {\n    pub fn len(&self) -> usize {\n        self.n\n    }\n}\n"
    from_source = client.post("/rustdoc", body={"model": "one", "source": src}, cast_to=object)
    assert from_source["completion"] == got["completion"]  # the same function, found in source
    for bad, message in (({"model": "one"}, "exactly one of"),
                         ({"model": "one", "source": "struct S;"}, "no Rust function"),
                         ({"model": "zzz", "signature": "fn f()"}, "does not exist")):  # fmt: skip
        with pytest.raises(openai.APIStatusError) as err:
            client.post("/rustdoc", body=bad, cast_to=object)
        assert message in err.value.body["message"]


def test_api_key_is_required_when_set(engine) -> None:
    import json
    import urllib.error
    import urllib.request

    from pipelines.serve.app import create_app

    srv = Server(create_app(engine, api_key="s3cret-key"), _port())
    try:
        with pytest.raises(openai.AuthenticationError) as err:
            srv.client("wrong").models.list()
        assert err.value.body["code"] == "invalid_api_key"
        with pytest.raises(urllib.error.HTTPError) as no_header:
            urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/v1/models")
        assert no_header.value.code == 401
        assert json.loads(no_header.value.read())["error"]["type"] == "authentication_error"
        assert srv.client("s3cret-key").models.list().data[0].id == "base"
    finally:
        srv.stop()


def test_corpus_serve_binds_loopback_and_never_prints_the_key(ship: Ship, tmp_path: Path) -> None:
    port = _port()
    env = {**os.environ, "CORPUS_SERVE_API_KEY": "k3y-that-must-not-leak", "CI": "1"}
    cmd = [sys.executable, "-m", "corpus.cli", "serve", "--adapter", f"one={ship.adapter('one')}",
           "--port", str(port), "--device", "cpu", "--max-tokens", "16"]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1",
                                   api_key="k3y-that-must-not-leak", max_retries=0)  # fmt: skip
            deadline = time.monotonic() + 120
            while True:
                try:
                    names = [m.id for m in client.models.list().data]
                    break
                except openai.APIConnectionError:
                    assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                    time.sleep(0.3)
            assert names == ["base", "one"]
            r = client.chat.completions.create(model="one", messages=MSGS, max_tokens=8)
            assert r.choices[0].message.content
        finally:
            proc.terminate()
            proc.wait(30)
    text = log.read_text()
    assert "k3y-that-must-not-leak" not in text
    assert "API key: required (from $CORPUS_SERVE_API_KEY)" in text
    assert f"http://127.0.0.1:{port}/v1" in text


# -- external engines: the command lines ---------------------------------------------------------
def test_vllm_command_matches_the_adapters(ship: Ship, tmp_path: Path, monkeypatch) -> None:
    from pipelines.serve.run import vllm_command, vllm_lora_rank

    assert [vllm_lora_rank(r) for r in (1, 4, 8, 9, 64, 65, 300)] == [1, 8, 8, 16, 64, 128, 320]
    cmd = vllm_command(str(ship.model), {"one": ship.adapter("one"), "four": ship.adapter("four")},
                       port=9000)  # fmt: skip
    assert cmd[:3] == ["vllm", "serve", str(ship.model)]
    i = cmd.index("--lora-modules")
    assert cmd[i + 1 : i + 3] == [f"one={ship.adapter('one').resolve()}",
                                  f"four={ship.adapter('four').resolve()}"]  # fmt: skip
    assert cmd[cmd.index("--max-lora-rank") + 1] == "8"  # the largest rank, vLLM default is 16
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--enable-lora" in cmd
    assert "--quantization" not in cmd
    q4 = vllm_command(str(ship.model), {"q4": ship.adapter("q4")})
    assert q4[q4.index("--quantization") + 1] == "bitsandbytes"  # the base as it was trained

    res = runner.invoke(app, ["serve", "--engine", "vllm", "--adapter",
                              f"one={ship.adapter('one')}", "--dry-run"])  # fmt: skip
    assert res.exit_code == 0 and "--max-lora-rank 8" in res.stdout
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CORPUS_SERVE_API_KEY", "abc")
    res = runner.invoke(app, ["serve", "--engine", "vllm", "--adapter", str(ship.adapter("one"))])
    assert res.exit_code == 2 and "vllm is not installed" in " ".join(res.output.split())
    assert "abc" not in res.output


def test_llamacpp_command_serves_an_export(ship: Ship, tmp_path: Path, monkeypatch) -> None:
    from pipelines.serve.run import external_env, llamacpp_command

    export = tmp_path / "gguf"
    res = runner.invoke(app, ["train", "export", str(ship.runs["one"]), "--lora-only",
                              "--outtype", "f32", "--out", str(export), "--name", "one"])  # fmt: skip
    assert res.exit_code == 0, res.output
    cmd = llamacpp_command(export, port=8081)
    assert cmd[:5] == ["llama-server", "-m", str(export / "base-f32.gguf"), "--lora",
                       str(export / "one-lora-f32.gguf")]  # fmt: skip
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "8081"
    assert "--api-key" not in cmd and external_env("llamacpp", "xyz")["LLAMA_API_KEY"] == "xyz"
    monkeypatch.setenv("PATH", str(tmp_path))
    res = runner.invoke(app, ["serve", "--engine", "llamacpp", "--gguf", str(export)])
    assert res.exit_code == 2 and "llama-server is not installed" in " ".join(res.output.split())
    res = runner.invoke(app, ["serve", "--engine", "llamacpp", "--gguf", str(tmp_path)])
    assert res.exit_code == 2 and "not a .gguf file or an export folder" in res.output
    res = runner.invoke(app, ["serve", "--engine", "tgi"])
    assert res.exit_code == 2 and "choose builtin, vllm or llamacpp" in res.output


def test_vllm_refuses_adapters_it_cannot_serve(ship: Ship, tmp_path: Path) -> None:
    import json
    import shutil

    from corpus.errors import BadInputError
    from pipelines.serve.run import vllm_command

    loha = tmp_path / "loha"
    shutil.copytree(ship.adapter("one"), loha)
    cfg = json.loads((loha / "adapter_config.json").read_text())
    (loha / "adapter_config.json").write_text(json.dumps({**cfg, "peft_type": "LOHA"}))
    with pytest.raises(BadInputError, match=r"loha \(loha\) is not"):
        vllm_command(str(ship.model), {"loha": loha})

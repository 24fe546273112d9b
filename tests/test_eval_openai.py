"""The ``openai:URL#model`` system against a real OpenAI-compatible server on 127.0.0.1
(tests/openai_server.py, FastAPI + uvicorn), through the official client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.prompt import SYSTEM_PROMPT
from tests.eval_fixtures import eval_dataset_dir
from tests.openai_server import ServerState, free_port, serve

__all__ = ["eval_dataset_dir"]
runner = CliRunner()
KEY = "sk-test-0123456789abcdef"  # the server's key; must never show up in any output


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ServerState]]:
    state = ServerState(key=KEY)
    with serve(state) as url:
        yield url, state


def _eval(data: Path, out: Path, *args: str, env: dict | None = None):
    return runner.invoke(app, ["eval", "--data", str(data), "--out", str(out), *args],
                         env=env or {})  # fmt: skip


def _error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_openai_systems_are_scored_as_they_answer(server, eval_dataset_dir, tmp_path) -> None:
    url, state = server
    state.requests.clear()
    out = tmp_path / "ev"
    res = _eval(eval_dataset_dir, out, "--system", f"openai:{url}#doc-model", "--system",
                f"prose=openai:{url}#prose-model", "--api-key-env", "EVAL_TEST_KEY",
                "--max-new-tokens", "64", env={"EVAL_TEST_KEY": KEY})  # fmt: skip
    assert res.exit_code == 0, res.output
    d = json.loads((out / "eval.json").read_text())
    by = {s["name"]: s["metrics"] for s in d["systems"]}
    assert set(by) == {"openai:doc-model", "prose"}
    assert by["openai:doc-model"]["format_valid"]["mean"] == 1.0
    # The same sentence without ///: not a doc, so nothing is credited (never re-wrapped).
    assert by["prose"]["format_valid"]["mean"] == 0.0 and by["prose"]["chrf_doc"]["mean"] == 0.0
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    name = rows[0]["outputs"]["openai:doc-model"].removeprefix("/// Returns the ").rstrip(".")
    assert rows[0]["outputs"]["prose"] == f"Returns the {name}."
    # The client sent corpus.prompt's conversation, greedy, with our budget, to the model.
    sent = state.requests[0]
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert sent["messages"][0]["content"] == SYSTEM_PROMPT
    assert "```rust\n" in sent["messages"][1]["content"]
    assert sent["temperature"] == 0 and sent["max_tokens"] == 64
    assert len(state.requests) == 2 * d["n"]
    written = "".join(p.read_text(errors="replace") for p in out.iterdir() if p.suffix != ".png")
    assert KEY not in written and KEY not in res.output


def test_a_wrong_or_missing_key_is_bad_input(server, eval_dataset_dir, tmp_path) -> None:
    url, _ = server
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", f"openai:{url}#doc-model",
                env={"OPENAI_API_KEY": "sk-wrong-key"})  # fmt: skip
    assert res.exit_code == 2 and "refused the API key (401)" in _error_line(res.output)
    assert "sk-wrong-key" not in res.output
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", f"openai:{url}#doc-model",
                "--api-key-env", "EVAL_NO_SUCH_VAR")  # fmt: skip
    assert res.exit_code == 2 and "EVAL_NO_SUCH_VAR" in _error_line(res.output)
    assert not (tmp_path / "ev").exists()


def test_an_unknown_model_is_bad_input(server, eval_dataset_dir, tmp_path) -> None:
    url, _ = server
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", "template", "--system",
                f"openai:{url}#no-such-model", env={"OPENAI_API_KEY": KEY})  # fmt: skip
    assert res.exit_code == 2 and "'no-such-model'" in _error_line(res.output)
    assert not (tmp_path / "ev").exists()  # the template ran, but nothing was written


def test_an_unreachable_endpoint_fails_with_its_url(eval_dataset_dir, tmp_path) -> None:
    url = f"http://user:secret@127.0.0.1:{free_port()}/v1"
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", "template", "--system",
                f"openai:{url}#doc-model", "--timeout", "5")  # fmt: skip
    assert res.exit_code == 1, res.output
    line = _error_line(res.output)
    assert "127.0.0.1" in line and "cannot reach the endpoint" in line
    assert "secret" not in res.output  # credentials in a URL are never echoed
    assert not (tmp_path / "ev").exists()

"""`corpus export`: the trainer's exact conversations, readable by `datasets`, in three shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.export import export
from corpus.prompt import PromptSpec
from tests.records_factory import make_dataset_dir, make_record
from tests.train_fixtures import dataset_records, tiny_model_dir

__all__ = ["tiny_model_dir"]
runner = CliRunner()


def _dataset(tmp_path: Path) -> Path:
    return make_dataset_dir(tmp_path / "ds", dataset_records())


@pytest.mark.parametrize("fmt", ["chatml", "jsonl", "alpaca"])
def test_every_format_round_trips_through_datasets(tmp_path: Path, fmt: str) -> None:
    from datasets import load_dataset

    out = tmp_path / f"{fmt}.jsonl"
    res = runner.invoke(app, ["export", str(_dataset(tmp_path)), "--format", fmt, "--out",
                              str(out), "--split", "train", "--split", "validation"])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    ds = load_dataset("json", data_files=str(out), split="train")
    assert ds.num_rows == len(rows) == 48  # documented, not tests, train + validation
    assert ds[0] == rows[0]
    assert "wrote 48 conversations" in res.output


def test_the_exported_conversations_are_the_trainers(tmp_path: Path, tiny_model_dir) -> None:
    from pipelines.train.config import load_config
    from pipelines.train.data import to_messages, tokenize_conversation
    from pipelines.train.model import load_tokenizer

    records = [r for r in dataset_records() if r["split"] == "train" and r["doc"]]
    records = [r for r in records if not r["is_test"]]
    tok = load_tokenizer(str(tiny_model_dir))
    for prompt_input in ("signature", "context", "source"):
        cfg = load_config("tiny", overrides={"prompt_input": prompt_input})
        out = tmp_path / f"{prompt_input}.jsonl"
        export(records, "chatml", out, spec=PromptSpec(input=prompt_input), splits=("train",))
        exported = [json.loads(line)["messages"] for line in out.read_text().splitlines()]
        trained = [to_messages(r, cfg) for r in records]
        assert exported == trained
        assert tokenize_conversation(tok, exported[0]) == tokenize_conversation(tok, trained[0])


def test_alpaca_and_prompt_completion_split_the_same_turns(tmp_path: Path) -> None:
    rec = make_record(1, split="train")
    export([rec], "chatml", tmp_path / "c.jsonl")
    export([rec], "jsonl", tmp_path / "j.jsonl")
    export([rec], "alpaca", tmp_path / "a.jsonl")
    (msgs,) = [json.loads(x)["messages"] for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    (pc,) = [json.loads(x) for x in (tmp_path / "j.jsonl").read_text().splitlines()]
    (al,) = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert pc["prompt"] + pc["completion"] == msgs
    assert al["system"] == msgs[0]["content"] and al["output"] == msgs[2]["content"]
    assert f"{al['instruction']}\n\n{al['input']}" == msgs[1]["content"]
    assert al["input"].startswith("```rust\n") and "/// " in al["output"]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    ds = _dataset(tmp_path)
    out = tmp_path / "x.jsonl"
    cases = {
        ("--format", "sharegpt"): "--format 'sharegpt': choose one of chatml, jsonl, alpaca",
        ("--split", "dev"): "--split 'dev': choose from train, validation, test",
        ("--config", "balanced"): "no dataset here",
        ("--prompt-input", "body"): "prompt_input 'body': choose one of",
    }
    for extra, why in cases.items():
        res = runner.invoke(app, ["export", str(ds), "--out", str(out), *extra])
        assert res.exit_code == 2 and why in res.output, (extra, res.output)
        assert not out.exists()
    bare = make_dataset_dir(tmp_path / "nodocs", [make_record(i, doc=None, doc_summary=None)
                                                   for i in range(5)])  # fmt: skip
    res = runner.invoke(app, ["export", str(bare), "--out", str(out)])
    assert res.exit_code == 2 and "no documented records in split train" in res.output
    res = runner.invoke(app, ["export", str(tmp_path / "missing"), "--out", str(out)])
    assert res.exit_code == 2 and "no such local dataset" in res.output

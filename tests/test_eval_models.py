"""Model systems end to end on CPU: a tiny random Qwen2 trained with `corpus train` (which
evaluates itself at the end), then `corpus eval` of base vs adapters, bits, checkpoints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from tests.eval_fixtures import eval_dataset_dir
from tests.records_factory import make_dataset_dir, make_record
from tests.train_fixtures import tiny_model_dir

__all__ = ["eval_dataset_dir", "tiny_model_dir"]
runner = CliRunner()
SMALL = ["--max-new-tokens", "16", "--batch-size", "4", "--device", "cpu"]


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, eval_dataset_dir: Path, tmp_path_factory) -> tuple[Path, str]:
    """A 16-step LoRA run with two checkpoints, its end-of-run eval on 4 test records."""
    run = tmp_path_factory.mktemp("evalrun") / "run"
    args = ["train", "--data", str(eval_dataset_dir), "--out", str(run), "--recipe", "tiny",
            "--model", str(tiny_model_dir), "--bits", "16", "--rank", "8", "--max-steps", "16",
            "--batch-size", "2", "--grad-accum", "1", "--lr", "2e-2", "--max-length", "256",
            "--eval-limit", "4"]  # fmt: skip
    for kv in ("eval_steps=8", "save_steps=8", "save_total_limit=0", "device=cpu", "warmup=0",
               "gradient_checkpointing=false", "early_stopping_patience=0",
               "eval_max_new_tokens=16"):  # fmt: skip
        args += ["--set", kv]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return run, res.output


def _eval(data: Path, out: Path, *args: str):
    return runner.invoke(app, ["eval", "--data", str(data), "--out", str(out), *SMALL, *args])


def _summary(out: Path) -> dict:
    return json.loads((out / "eval.json").read_text())


def test_train_evaluates_the_adapter_against_its_base(trained) -> None:
    run, output = trained
    d = _summary(run / "eval")
    assert [s["name"] for s in d["systems"]] == ["adapter", "base", "retrieval"]
    assert d["split"] == "test" and d["n"] == 4
    assert {(c["a"], c["b"]) for c in d["comparisons"]} == {
        ("adapter", "base"), ("adapter", "retrieval"), ("base", "retrieval")}  # fmt: skip
    report = (run / "report.md").read_text()
    assert "## Evaluation (test split, 4 records)" in report and "| adapter |" in report
    assert "| base |" in report and "[eval/report.md](eval/report.md)" in report
    assert "eval on 4 test records, chrf_doc: adapter" in " ".join(output.split())


def test_adapters_and_their_base_share_one_load(trained, tiny_model_dir, eval_dataset_dir,
                                                tmp_path) -> None:  # fmt: skip
    from pipelines.eval.systems import model_groups, parse_system

    run, _ = trained
    twin = tmp_path / "twin"
    shutil.copytree(run / "adapter", twin)
    systems = [f"base:{tiny_model_dir}", f"adapter:{run}", f"twin=adapter:{twin}", "retrieval"]
    groups = model_groups([parse_system(s) for s in systems])
    assert len(groups) == 1 and len(groups[0][1]) == 3
    out = tmp_path / "ev"
    res = _eval(
        eval_dataset_dir, out, *[a for s in systems for a in ("--system", s)], "--limit", "6"
    )
    assert res.exit_code == 0, res.output
    d = _summary(out)
    by = {s["name"]: s for s in d["systems"]}
    assert set(by) == {"base:model", "adapter:run", "twin", "retrieval"}
    assert by["adapter:run"]["bits"] == by["base:model"]["bits"] == 16  # as trained
    assert len(d["comparisons"]) == 6
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    # Same weights under two names: switching adapters really switches (and back).
    assert all(r["outputs"]["twin"] == r["outputs"]["adapter:run"] for r in rows)
    # 16 steps teach the adapter the /// format; the random base never produces it.
    fmt = {n: s["metrics"]["format_valid"]["mean"] for n, s in by.items()}
    assert fmt["adapter:run"] > fmt["base:model"] == 0.0
    assert all(r["outputs"]["adapter:run"].startswith("/// ") for r in rows)
    assert all(not r["outputs"]["base:model"].startswith("///") for r in rows)


def test_bits_override_loads_the_base_in_4_bits(trained, eval_dataset_dir, tmp_path) -> None:
    run, _ = trained
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", f"adapter:{run}/adapter", "--bits",
                "4", "--limit", "1", "--max-new-tokens", "4")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert _summary(tmp_path / "ev")["systems"][0]["bits"] == 4


def test_every_checkpoint_makes_a_curve(trained, eval_dataset_dir, tmp_path) -> None:
    run, _ = trained
    out = tmp_path / "ev"
    res = _eval(eval_dataset_dir, out, "--checkpoints", str(run), "--system", "retrieval",
                "--limit", "4")  # fmt: skip
    assert res.exit_code == 0, res.output
    d = _summary(out)
    assert [(c["step"], c["system"]) for c in d["curve"]] == [(8, "step-8"), (16, "step-16")]
    assert [s["name"] for s in d["systems"]] == ["step-8", "step-16", "retrieval"]
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "## Checkpoints" in (out / "report.md").read_text()


def test_an_adapter_whose_base_is_missing_is_bad_input(trained, eval_dataset_dir, tmp_path):
    run, _ = trained
    bad = tmp_path / "bad"
    shutil.copytree(run / "adapter", bad)
    cfg = json.loads((bad / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(tmp_path / "no-such-model")
    (bad / "adapter_config.json").write_text(json.dumps(cfg))
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", "template", "--system",
                f"adapter:{bad}")  # fmt: skip
    assert res.exit_code == 2 and "not a model directory" in res.output, res.output
    assert not (tmp_path / "ev").exists()


def test_end_of_run_eval_is_skipped_when_off_or_without_a_test_split(tmp_path) -> None:
    from pipelines.eval.training import evaluate_run
    from pipelines.train.config import load_config

    data = make_dataset_dir(tmp_path / "ds", [make_record(i, split="train") for i in range(4)])
    run = tmp_path / "run"
    run.mkdir()
    cfg = load_config("tiny", overrides={"dataset": str(data), "eval_limit": 0})
    assert evaluate_run(cfg, run) is None and not (run / "report.md").exists()
    cfg = load_config("tiny", overrides={"dataset": str(data), "eval_limit": 8})
    assert evaluate_run(cfg, run) is None
    assert "Skipped: the dataset has no documented `test` records." in (
        (run / "report.md").read_text())  # fmt: skip
    assert not (run / "eval").exists()


def test_a_failed_end_of_run_eval_is_reported_not_raised(eval_dataset_dir, tmp_path) -> None:
    from pipelines.eval.training import evaluate_run
    from pipelines.train.config import load_config

    run = tmp_path / "run"  # no adapter was saved here
    cfg = load_config("tiny", overrides={"dataset": str(eval_dataset_dir), "eval_limit": 2})
    assert evaluate_run(cfg, run) is None
    assert "Failed: adapter:" in (run / "report.md").read_text()
    assert not (run / "eval").exists()


def test_ablation_ranks_runs_by_eval_loss_and_by_the_eval_metric(tmp_path) -> None:
    from pipelines.train.sweeps import _add_eval_metric

    rows = [{"rank": 2, "eval_loss": 1.0}, {"rank": 8, "eval_loss": 2.0}, {"rank": 16,
            "eval_loss": None}]  # fmt: skip
    for rank, score in ((2, 10.0), (8, 30.0)):
        (tmp_path / f"r{rank}" / "eval").mkdir(parents=True)
        summary = {"primary": "chrf_doc", "systems": [
            {"name": "base", "metrics": {"chrf_doc": {"mean": 99.0}}},
            {"name": "adapter", "metrics": {"chrf_doc": {"mean": score}}}]}  # fmt: skip
        (tmp_path / f"r{rank}" / "eval" / "eval.json").write_text(json.dumps(summary))
    assert _add_eval_metric(rows, tmp_path) == "chrf_doc"
    assert [r["eval_metric"] for r in rows] == [10.0, 30.0, None]
    assert [r["rank_eval_loss"] for r in rows] == [1, 2, None]
    assert [r["rank_metric"] for r in rows] == [2, 1, None]

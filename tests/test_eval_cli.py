"""`corpus eval` through the CLI with the baselines: the files it writes, the eval.json
contract, determinism, and one clear line (exit 2, nothing written) for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.prompt import doc_as_comment
from pipelines.eval.metrics import METRICS
from pipelines.eval.run import subset_order
from tests.eval_fixtures import eval_dataset_dir, eval_records

__all__ = ["eval_dataset_dir"]
runner = CliRunner()
BASELINES = ["--system", "template", "--system", "retrieval"]


def _eval(data: Path, out: Path, *args: str):
    return runner.invoke(app, ["eval", "--data", str(data), "--out", str(out), *args])


def _error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_baselines_end_to_end(eval_dataset_dir: Path, tmp_path: Path) -> None:
    res = _eval(eval_dataset_dir, tmp_path / "ev", *BASELINES)
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert (d["split"], d["n"], d["primary"], d["seed"]) == ("test", 12, "chrf_doc", 0)
    assert [(s["name"], s["kind"]) for s in d["systems"]] == [
        ("template", "template"), ("retrieval", "retrieval")]  # fmt: skip
    for s in d["systems"]:
        assert set(s["metrics"]) == set(METRICS) and s["seconds"] >= 0
        for m in s["metrics"].values():
            assert set(m) == {"mean", "lo", "hi", "n"}
            assert m["mean"] is None or m["lo"] <= m["mean"] <= m["hi"]
    (c,) = d["comparisons"]
    assert (c["a"], c["b"], c["metric"]) == ("template", "retrieval", "chrf_doc")
    assert c["wins"] + c["ties"] + c["losses"] == 12 and c["hi"] < 0  # retrieval wins clearly
    assert set(d["per_repo"]) == {"acme/gadgets", "acme/widgets"}
    assert set(d["per_repo"]["acme/widgets"]) == {"template", "retrieval"}
    assert {"id", "repo", "reference", "outputs", "scores"} <= set(d["examples"][0])
    assert set(d["examples"][0]["outputs"]) == {"template", "retrieval"}
    assert set(d["definitions"]) == set(METRICS)
    report = (tmp_path / "ev" / "report.md").read_text()
    assert "| template |" in report and "## Paired comparisons" in report
    assert "| example | reference | template | retrieval |" in report  # side by side
    assert all(f"`{m}`" in report for m in METRICS)
    for png in ("metrics.png", "per_repo.png"):
        assert (tmp_path / "ev" / png).read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "ev" / "curve.png").exists()
    preds = (tmp_path / "ev" / "predictions.jsonl").read_text().splitlines()
    assert len(preds) == 12
    # Regression: an undefined mean (template docs have no doc tests) prints as "-".
    assert "doctest_parse" in res.output and " - " in res.output


def test_eval_is_deterministic(eval_dataset_dir: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert _eval(eval_dataset_dir, tmp_path / name, *BASELINES).exit_code == 0

    def strip(path: Path) -> dict:
        d = json.loads((path / "eval.json").read_text())
        for s in d["systems"]:
            s.pop("seconds")
        return d

    assert strip(tmp_path / "a") == strip(tmp_path / "b")


def test_limit_takes_the_same_fixed_subset(eval_dataset_dir: Path, tmp_path: Path) -> None:
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", "template", "--limit", "5")
    assert res.exit_code == 0, res.output
    ids = [
        json.loads(x)["id"]
        for x in (tmp_path / "ev" / "predictions.jsonl").read_text().splitlines()
    ]
    test = [r for r in eval_records() if r["split"] == "test"]
    assert ids == [r["id"] for r in sorted(test, key=lambda r: subset_order(r["id"]))][:5]
    assert len({r["repo"] for r in test if r["id"] in ids}) == 2  # spread, not one repo


def test_retrieval_on_train_never_returns_the_record_itself(eval_dataset_dir, tmp_path) -> None:
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", "retrieval", "--split", "train")
    assert res.exit_code == 0, res.output
    docs = {r["id"]: r["doc"] for r in eval_records()}
    for line in (tmp_path / "ev" / "predictions.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert row["outputs"]["retrieval"] != doc_as_comment(docs[row["id"]])


def test_named_systems_and_a_chosen_primary(eval_dataset_dir: Path, tmp_path: Path) -> None:
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--system", "floor=template", "--system",
                "bm25=retrieval", "--primary", "rouge_l_summary", "--examples", "1")  # fmt: skip
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert [s["name"] for s in d["systems"]] == ["floor", "bm25"]
    assert d["comparisons"][0]["metric"] == "rouge_l_summary" and len(d["examples"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--system", "template", "--split", "nope"], "no documented records in split 'nope'"),
        (["--system", "magic"], "unknown kind 'magic'"),
        (["--system", "retrieval:x"], "retrieval takes no argument"),
        (["--system", "base:"], "base needs a target"),
        (["--system", "adapter:/no/such/run"], "no such run or adapter folder"),
        (["--system", "base:/no/such/model"], "not a model directory"),
        (["--system", "openai:http://127.0.0.1:9/v1"], "expected openai:URL#model"),
        (["--system", "openai:ftp://host/v1#m"], "not an http(s) URL"),
        (["--system", "template", "--system", "template"], "two systems are named 'template'"),
        (["--system", "template", "--primary", "length_ratio"], "--primary 'length_ratio'"),
        (["--system", "template", "--primary", "param_coverage"], "choose one of"),
        (["--system", "template", "--bits", "8"], "--bits 8: choose 4 or 16"),
        (["--system", "template", "--limit", "-1"], "--limit >= 0"),
        (["--system", "template", "--prompt-input", "nope"], "prompt_input 'nope'"),
        ([], "no system to evaluate"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(eval_dataset_dir, tmp_path, args, message):
    res = _eval(eval_dataset_dir, tmp_path / "ev", *args)
    assert res.exit_code == 2, res.output
    assert message in _error_line(res.output)
    assert not (tmp_path / "ev" / "eval.json").exists()


def test_missing_dataset_and_non_run_checkpoints(tmp_path: Path, eval_dataset_dir: Path) -> None:
    res = _eval(tmp_path / "missing", tmp_path / "ev", "--system", "template")
    assert res.exit_code == 2 and "no such local dataset" in _error_line(res.output)
    res = _eval(eval_dataset_dir, tmp_path / "ev", "--checkpoints", str(tmp_path))
    assert res.exit_code == 2 and "not a training run" in _error_line(res.output)
    assert not (tmp_path / "ev").exists()


def test_credentials_in_a_url_never_reach_a_message_or_eval_json() -> None:
    from corpus.errors import BadInputError
    from pipelines.eval.systems import parse_system, public_target

    spec = parse_system("openai:https://me:hunter2@api.example/v1#m")
    assert public_target(spec) == "https://api.example/v1#m"
    with pytest.raises(BadInputError) as err:
        parse_system("opnai:https://me:hunter2@api.example/v1#m")
    assert "hunter2" not in str(err.value) and "api.example" in str(err.value)


def test_cli_start_up_imports_no_eval_library() -> None:
    heavy = ("bm25s", "openai", "matplotlib", "rouge_score", "sacrebleu", "numpy", "torch")
    code = (
        "import sys, corpus.cli; "
        f"bad = [m for m in {heavy!r} if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_progress_reports_every_system_to_its_last_record(eval_dataset_dir: Path) -> None:
    # The bar `corpus eval` draws on a terminal is fed by this callback: every system must
    # report, never go backwards, and end at its record count.
    from pipelines.eval.run import EvalConfig, evaluate

    calls: list[tuple[str, int, int]] = []
    cfg = EvalConfig(data=str(eval_dataset_dir), systems=["template", "retrieval"])
    evaluate(cfg, lambda name, done, total: calls.append((name, done, total)))
    for name in ("template", "retrieval"):
        mine = [(d, t) for n, d, t in calls if n == name]
        assert mine and mine[-1] == (12, 12), (name, mine)
        assert [d for d, _ in mine] == sorted(d for d, _ in mine)

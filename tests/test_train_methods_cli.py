"""`corpus train dpo|kto|orpo|reward|rl` from the command line: bad input is one line and
exit 2 before any model loads; method recipes, validate and plan cover every method."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from pipelines.train.config import METHODS, TIERS, load_config, method_path
from tests.method_fixtures import (
    build_sharp_model,
    rich_dataset_dir,
    sft_run,
    sharp_model,
    sig_pairs,
    tiny_model_dir,
    toy_pairs,
)
from tests.pairs_fixtures import pairs_dir

__all__ = ["pairs_dir", "rich_dataset_dir", "sft_run", "sharp_model", "sig_pairs",
           "tiny_model_dir", "toy_pairs"]  # fmt: skip
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def other_base(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A base model of another shape (hidden 32): no adapter of the sharp model fits it."""
    return build_sharp_model(tmp_path_factory.mktemp("other") / "model", tiny_model_dir, hidden=32)


def _bad(args: list[str], out: Path, needle: str) -> None:
    res = runner.invoke(app, ["train", *args, "--out", str(out), "--device", "cpu"])
    assert res.exit_code == 2, res.output
    assert needle in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
    assert not out.exists()


def test_bad_inputs_are_one_line_and_exit_2(
    tmp_path, sft_run, toy_pairs, sig_pairs, pairs_dir, other_base, sharp_model
) -> None:
    out = tmp_path / "run"
    _bad(["dpo", "--pairs", str(toy_pairs), "--model", str(sharp_model)], out, "needs --from")
    _bad(["rl", "--model", str(sharp_model)], out, "needs --from")
    _bad(["dpo", "--pairs", str(toy_pairs), "--from", str(sft_run), "--model", str(other_base)],
         out, "trained on another base")  # fmt: skip
    _bad(["kto", "--pairs", str(toy_pairs), "--from", str(sft_run)], out, "KTO view")
    only = toy_pairs / "preferences" / "train-00000-of-00001.parquet"
    _bad(["kto", "--pairs", str(only), "--from", str(sft_run)], out, "KTO view")
    _bad(["dpo", "--pairs", str(pairs_dir), "--from", str(sft_run)], out, "mined with prompt input")
    _bad(["dpo", "--from", str(sft_run)], out, "no pairs")
    _bad(["dpo", "--pairs", str(sig_pairs), "--from", str(tmp_path / "nope")], out, "no such run")
    _bad(["rl", "--from", str(sft_run)], out, "needs --data")
    _bad(["reward", "--pairs", str(sig_pairs), "--model", str(sharp_model), "--set",
          f"init_adapter={sft_run}"], out, "drop --from")  # fmt: skip
    # A bad recipe value lists every config error (one per line), as `corpus train` does.
    res = runner.invoke(app, ["train", "dpo", "--pairs", str(sig_pairs), "--from", str(sft_run),
                              "--loss-type", "x", "--out", str(out)])  # fmt: skip
    assert res.exit_code == 2 and "loss_type: 'x' is not one of sigmoid, ipo, hinge" in res.output


def test_bad_input_fails_before_torch_is_imported(tmp_path, toy_pairs, sharp_model) -> None:
    code = (
        "import sys\nfrom corpus.cli import app\ntry:\n    app(sys.argv[1:], prog_name='corpus')\n"
        "except SystemExit as e:\n    code = e.code\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'trl') if m in sys.modules]\n"
        "print('HEAVY', heavy)\nsys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, "train", "dpo", "--pairs", str(toy_pairs),
                           "--model", str(sharp_model), "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout


@pytest.mark.parametrize("method", [m for m in METHODS if m != "sft"])
def test_method_recipes_begin_with_their_command_and_fit_every_tier(method: str) -> None:
    first = method_path(method).read_text().splitlines()[0]
    assert first.startswith(f"# corpus train {method} --recipe ")
    for tier in TIERS:
        cfg = load_config(tier, method=method)
        assert cfg.method == method and cfg.output_dir.endswith(f"-{method}")
    res = runner.invoke(app, ["train", "validate", "--recipe", "small", "--method", method])
    assert res.exit_code == 0 and f"config OK: {method}" in res.output


def test_plan_covers_each_method() -> None:
    from pipelines.train.arch import BUILTIN, resolve_shape
    from pipelines.train.methods.plan import plan_method

    shape = resolve_shape(next(iter(BUILTIN)))
    plans = {m: plan_method(shape, m, batch_size=2, seq_len=1024) for m in METHODS}
    assert plans["dpo"].base.activations == 2 * plans["sft"].base.activations  # two sequences
    assert plans["dpo"].reference > 0 and plans["orpo"].reference == 0
    assert plans["reward"].base.activations < plans["sft"].base.activations  # no vocab logits
    assert plans["rl"].generation > 0 and plans["sft"].generation == 0
    more = plan_method(shape, "rl", batch_size=2, seq_len=1024, grad_accum=32)
    assert more.generation > plans["rl"].generation
    res = runner.invoke(app, ["train", "plan", "--all-tiers", "--method", "all", "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.output)["memory"]) == len(BUILTIN) * len(METHODS)


def test_plan_sizes_steps_per_tier_from_the_pairs(sig_pairs, rich_dataset_dir) -> None:
    res = runner.invoke(app, ["train", "plan", "--method", "dpo", "--method", "rl", "--pairs",
                              str(sig_pairs), "--data", str(rich_dataset_dir), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    steps = json.loads(res.output)["steps"]
    assert {(r["tier"], r["method"]) for r in steps} == {
        (t, m) for t in TIERS for m in ("dpo", "rl")
    }
    dpo = next(r for r in steps if r["method"] == "dpo" and r["tier"] == "tiny")
    assert dpo["examples"] == 192 and dpo["steps"] == 12  # 192 train pairs / 16 per step


def test_cli_dpo_from_sft_trains_evaluates_against_sft_and_prints_one_line(
    sft_run, sig_pairs, rich_dataset_dir, tmp_path
) -> None:
    out = tmp_path / "dpo"
    res = runner.invoke(app, ["train", "dpo", "--pairs", str(sig_pairs), "--from", str(sft_run),
                              "--data", str(rich_dataset_dir), "--out", str(out), "--device",
                              "cpu", "--bits", "16", "--max-steps", "2", "--batch-size", "2",
                              "--grad-accum", "1", "--eval-limit", "2", "--set",
                              "eval_max_new_tokens=8", "--set", "eval_split=",
                              "--set", "early_stopping_patience=0", "--set",
                              "gradient_checkpointing=false"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "dpo: trained 2 steps on cpu" in res.output and "eval on 2 test records" in res.output
    summary = json.loads((out / "eval" / "eval.json").read_text())
    assert [s["name"] for s in summary["systems"]] == ["adapter", "sft", "base", "retrieval"]
    saved = (out / "adapter" / "train_config.yaml").read_text()
    assert "method: dpo" in saved and f"init_adapter: {sft_run / 'adapter'}" in saved


def test_a_saved_method_config_is_not_overlaid_again(tmp_path: Path) -> None:
    from pipelines.train.config import save_config

    cfg = load_config("small", method="dpo", overrides={"learning_rate": 1e-6})
    save_config(cfg, tmp_path / "train_config.yaml")
    again = load_config(config=tmp_path / "train_config.yaml", method="dpo")
    assert again.learning_rate == 1e-6 and again.output_dir == cfg.output_dir

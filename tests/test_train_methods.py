"""`corpus train dpo|kto|orpo|reward` on CPU: a tiny random Qwen2, a few steps each; the
metrics move as each method predicts, the adapter trains and the base and reference do not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.train.methods.inputs import method_config
from pipelines.train.run import read_metrics
from tests.method_fixtures import (
    BASE,
    rich_dataset_dir,
    sft_run,
    sharp_model,
    sig_pairs,
    tiny_model_dir,
    toy_pairs,
)

__all__ = ["rich_dataset_dir", "sft_run", "sharp_model", "sig_pairs", "tiny_model_dir",
           "toy_pairs"]  # fmt: skip


def _cfg(method: str, out: Path, **kw):
    return method_config(method, "tiny", None, {**BASE, "output_dir": str(out), **kw})


def _series(out: Path, key: str) -> list[float]:
    return [r[key] for r in read_metrics(out) if key in r]


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo", "hinge"])
def test_dpo_margins_grow_on_a_separable_toy_set(loss_type, sft_run, toy_pairs, tmp_path):
    from pipelines.train.methods.run import train_method

    out = tmp_path / "dpo"
    cfg = _cfg("dpo", out, pairs=str(toy_pairs), init_adapter=str(sft_run), max_steps=8,
               learning_rate=2e-2, loss_type=loss_type)  # fmt: skip
    assert cfg.prompt_input == "signature" and cfg.model.endswith("model")  # from the SFT run
    res = train_method(cfg)
    margins = _series(out, "rewards/margins")
    assert len(margins) == 8 and margins[0] == pytest.approx(0.0, abs=1e-6)
    # IPO pulls the margin to a target instead of without end: it may overshoot, then settle.
    assert margins[-1] > 0.05 and sum(margins[-3:]) / 3 > sum(margins[:2]) / 2, margins
    assert _series(out, "rewards/accuracies")[-1] == 1.0
    assert _series(out, "rewards/chosen")[-1] > _series(out, "rewards/rejected")[-1]
    report = (out / "report.md").read_text()
    assert f"loss {loss_type}" in report and "rewards/margins" in report
    assert res.steps == 8 and (out / "metrics.png").read_bytes()[:4] == b"\x89PNG"


def test_dpo_trains_the_adapter_not_the_base_or_its_reference(sft_run, toy_pairs, tmp_path):
    import torch
    from safetensors.torch import load_file

    from pipelines.train.methods.run import make_method_trainer
    from pipelines.train.methods.trainers import save_adapter

    cfg = _cfg("dpo", tmp_path / "dpo", pairs=str(toy_pairs), init_adapter=str(sft_run),
               max_steps=2, learning_rate=1e-2)  # fmt: skip
    built, tok, _ = make_method_trainer(cfg)
    model = built.trainer.model
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    assert any(".ref." in n for n in before), "TRL's frozen reference adapter is missing"
    built.trainer.train()
    for n, p in model.named_parameters():
        changed = not torch.equal(before[n], p.detach())
        assert changed == (".default." in n and "lora_" in n), n
    sft = load_file(str(sft_run / "adapter" / "adapter_model.safetensors"))
    for n, p in model.named_parameters():  # the reference is still the SFT adapter
        if ".ref." in n:
            key = n.replace(".ref.", ".").replace("base_model.model.", "base_model.model.", 1)
            assert torch.equal(p.detach(), sft[key]), n
    save_adapter(model, tok, cfg, tmp_path / "saved")
    saved = load_file(str(tmp_path / "saved" / "adapter_model.safetensors"))
    assert set(saved) == set(sft) and not (tmp_path / "saved" / "ref").exists()


def test_kto_trains_on_the_kto_view_with_balanced_weights(sft_run, sig_pairs, tmp_path):
    from pipelines.train.methods.run import make_method_trainer

    cfg = _cfg("kto", tmp_path / "kto", pairs=str(sig_pairs), init_adapter=str(sft_run),
               max_steps=3, learning_rate=1e-2, max_train_records=40)  # fmt: skip
    built, *_ = make_method_trainer(cfg)
    trainer = built.trainer
    labels = list(trainer.train_dataset["label"])
    assert trainer.args.desirable_weight == pytest.approx((len(labels) - sum(labels)) / sum(labels))
    trainer.train()
    logged = read_metrics(tmp_path / "kto")
    assert any("kl" in r for r in logged) and any("rewards/chosen" in r for r in logged)
    assert built.data.kinds["doc"] == sum(labels)


def test_orpo_trains_from_the_base_without_sft(sharp_model, sig_pairs, tmp_path):
    from pipelines.train.methods.run import train_method

    out = tmp_path / "orpo"
    cfg = _cfg("orpo", out, pairs=str(sig_pairs), model=str(sharp_model), max_steps=3,
               prompt_input="signature", learning_rate=1e-2, max_train_records=24)  # fmt: skip
    res = train_method(cfg)
    assert res.steps == 3 and len(_series(out, "nll_loss")) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data"]["examples"]["train"] == 24
    assert "ORPO has no reference" in (out / "report.md").read_text()


def test_reward_model_learns_the_toy_preference_and_scores_in_eval(
    sharp_model, toy_pairs, rich_dataset_dir, tmp_path
):
    from typer.testing import CliRunner

    from corpus.cli import app
    from pipelines.train.methods.reward_model import RewardScorer
    from pipelines.train.methods.run import train_method

    out = tmp_path / "rm"
    cfg = _cfg("reward", out, pairs=str(toy_pairs), model=str(sharp_model), max_steps=6,
               learning_rate=1e-2, prompt_input="signature")  # fmt: skip
    train_method(cfg)
    assert _series(out, "accuracy")[-1] == 1.0
    scorer = RewardScorer(str(out), device="cpu")
    prompt = [{"role": "user", "content": "pub fn g(x: u32) -> u32"}]
    good, bad = scorer([prompt, prompt], ["/// Returns `x` doubled.", "/// Opens the file."])
    assert good > bad
    res = CliRunner().invoke(app, ["eval", "--data", str(rich_dataset_dir), "--out",
                                   str(tmp_path / "ev"), "--system", "template", "--metric",
                                   f"reward:{out}", "--limit", "4", "--bootstrap", "100",
                                   "--device", "cpu"])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert summary["systems"][0]["metrics"]["reward:rm"]["n"] == 4
    assert "reward:rm" in summary["definitions"]
    assert "reward:rm" in (tmp_path / "ev" / "report.md").read_text()


def test_a_dpo_run_resumes_from_its_checkpoint(sft_run, toy_pairs, tmp_path):
    from pipelines.train.methods.run import train_method

    out = tmp_path / "dpo"
    kw = {"pairs": str(toy_pairs), "init_adapter": str(sft_run), "learning_rate": 1e-2,
          "save_steps": 1}  # fmt: skip
    train_method(_cfg("dpo", out, max_steps=2, **kw))
    assert (out / "checkpoints" / "checkpoint-2").is_dir()
    res = train_method(_cfg("dpo", out, max_steps=3, **kw), resume=True)
    assert res.steps == 3
    assert [r["step"] for r in read_metrics(out) if "loss" in r] == [1, 2, 3]

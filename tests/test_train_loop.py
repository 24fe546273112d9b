"""Real training runs on the tiny Qwen2 (CPU): loss, grad accumulation, resume, merge, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from pipelines.train.config import load_config
from tests.train_fixtures import tiny_dataset_dir, tiny_model_dir

__all__ = ["tiny_dataset_dir", "tiny_model_dir"]
runner = CliRunner()


def _cfg(model: Path, data: Path, out: Path, **kw):
    values = {
        "model": str(model),
        "dataset": str(data),
        "output_dir": str(out),
        "device": "cpu",
        "bits": 16,
        "lora_r": 8,
        "max_length": 256,
        "batch_size": 2,
        "grad_accum": 1,
        "learning_rate": 3e-3,
        "warmup": 0,
        "eval_steps": -1,
        "save_steps": -1,
        "early_stopping_patience": 0,
        "logging_steps": 1,
    }
    values.update(kw)
    return load_config("tiny", overrides=values)


def _adapter(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "adapter_model.safetensors"))


def test_loss_decreases(tiny_model_dir, tiny_dataset_dir, tmp_path) -> None:
    from pipelines.train.run import read_metrics, train

    res = train(_cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "run", bits=4, max_steps=30))
    losses = [r["loss"] for r in read_metrics(tmp_path / "run") if "loss" in r]
    assert len(losses) >= 25
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first - 0.5, losses
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()
    assert (tmp_path / "run" / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert "eval loss" in (tmp_path / "run" / "report.md").read_text()
    assert res.eval_loss is not None and res.steps == 30


def test_grad_accumulation_trains_adapter_not_base(tiny_model_dir, tiny_dataset_dir, tmp_path):
    import torch

    from pipelines.train.run import make_trainer

    cfg = _cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "run", grad_accum=4, max_steps=3)
    trainer, *_ = make_trainer(cfg)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    assert trainer.state.global_step == 3
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    for n, p in trainer.model.named_parameters():
        changed = not torch.equal(before[n], p.detach())
        if "lora_" in n:
            assert changed, f"adapter weight {n} did not change"
        else:
            assert not changed, f"base weight {n} changed"


def test_resume_reaches_same_weights(tiny_model_dir, tiny_dataset_dir, tmp_path) -> None:
    import torch

    from pipelines.train.run import train

    kw = {"max_steps": 8, "save_steps": 4, "save_total_limit": 0, "lora_dropout": 0.1}
    train(_cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "full", **kw))
    # The "interrupted" run: only the step-4 checkpoint survived.
    part = tmp_path / "part"
    (part / "checkpoints").mkdir(parents=True)
    shutil.copytree(
        tmp_path / "full" / "checkpoints" / "checkpoint-4", part / "checkpoints" / "checkpoint-4"
    )
    res = train(_cfg(tiny_model_dir, tiny_dataset_dir, part, **kw), resume=True)
    assert res.steps == 8
    a, b = _adapter(tmp_path / "full" / "adapter"), _adapter(part / "adapter")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6)
    # Without --resume, a folder with checkpoints is refused rather than overwritten.
    from corpus.errors import BadInputError

    with pytest.raises(BadInputError, match="--resume"):
        train(_cfg(tiny_model_dir, tiny_dataset_dir, part, **kw))


def test_cli_train_merge_generate(tiny_model_dir, tiny_dataset_dir, tmp_path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from pipelines.train.merge import load_adapter_model

    run = tmp_path / "run"
    args = ["train", "--data", str(tiny_dataset_dir), "--out", str(run), "--recipe", "tiny"]
    args += ["--model", str(tiny_model_dir), "--bits", "16", "--rank", "8", "--max-steps", "12"]
    args += ["--batch-size", "2", "--grad-accum", "1", "--lr", "3e-3", "--max-length", "256"]
    args += ["--set", "eval_steps=6", "--set", "save_steps=6", "--set", "device=cpu"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "adapter in" in res.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 12 and summary["data"]["tests_excluded"] == 1
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("eval_loss" in r for r in rows) and any("loss" in r for r in rows)

    merged = tmp_path / "merged"
    res = runner.invoke(
        app, ["train", "merge", str(run / "adapter"), "--out", str(merged), "--dtype", "float32"]
    )
    assert res.exit_code == 0, res.output
    assert (merged / "model.safetensors").is_file()
    ids = torch.randint(0, 500, (2, 40), generator=torch.Generator().manual_seed(1))
    peft_model = load_adapter_model(run / "adapter", model=None, dtype="float32", device="cpu")
    merged_model = AutoModelForCausalLM.from_pretrained(str(merged), dtype=torch.float32).eval()
    with torch.no_grad():
        want = peft_model(input_ids=ids).logits
        got = merged_model(input_ids=ids).logits
        base_logits = peft_model.get_base_model()
    assert (want - got).abs().max() < 1e-4
    with torch.no_grad(), peft_model.disable_adapter():
        base_logits = peft_model(input_ids=ids).logits
    assert (want - base_logits).abs().max() > 1e-3  # the adapter really changes the output

    res = runner.invoke(
        app, ["generate", "--adapter", str(run / "adapter"), "--signature", "pub fn f(x: u32)"]
    )
    assert res.exit_code == 0, res.output
    src = tmp_path / "lib.rs"
    src.write_text("/// Old.\npub fn add_one(x: u32) -> u32 {\n    x + 1\n}\n")
    res = runner.invoke(
        app,
        ["generate", "--adapter", str(run / "adapter"), "--file", str(src), "--fn", "add_one"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["generate", "--adapter", str(run / "adapter"), "--file", str(src), "--fn", "nope"]
    )
    assert res.exit_code == 2 and "no function named" in " ".join(res.output.split())


def test_cli_bad_inputs(tiny_model_dir, tmp_path) -> None:
    res = runner.invoke(app, ["train", "--data", str(tmp_path / "missing"), "--set", "lora_r=0"])
    assert res.exit_code == 2 and "lora_r" in res.output
    res = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tmp_path / "missing"),
            "--model",
            str(tiny_model_dir),
            "--out",
            str(tmp_path / "o"),
            "--device",
            "cpu",
        ],
    )
    assert res.exit_code == 2 and "no such local dataset" in " ".join(res.output.split())
    assert runner.invoke(app, ["generate", "--adapter", str(tmp_path)]).exit_code == 2


def test_rslora_and_dora_switches_change_the_adapters(tiny_model_dir, tiny_dataset_dir, tmp_path):
    from pipelines.train.model import build_model

    base = _cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "a", lora_r=16, lora_alpha=32)
    plain = build_model(base, "cpu")
    layer = plain.base_model.model.model.layers[0].self_attn.q_proj
    assert layer.scaling["default"] == 32 / 16  # alpha / r

    rs = build_model(_cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "b", lora_r=16,
                          lora_alpha=32, use_rslora=True), "cpu")  # fmt: skip
    layer = rs.base_model.model.model.layers[0].self_attn.q_proj
    assert abs(layer.scaling["default"] - 32 / 16**0.5) < 1e-9  # alpha / sqrt(r)

    dora = build_model(_cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "c", use_dora=True), "cpu")
    names = [n for n, p in dora.named_parameters() if p.requires_grad]
    assert any("lora_magnitude_vector" in n for n in names)  # DoRA's per-module magnitudes
    assert not any("lora_magnitude_vector" in n for n, _ in plain.named_parameters())


def test_early_stopping_ends_a_run_whose_eval_loss_stops_improving(
    tiny_model_dir, tiny_dataset_dir, tmp_path
):
    from pipelines.train.run import train

    # A diverging learning rate: the eval loss gets worse, so patience 1 must stop the run
    # well before max_steps.
    kw = {"learning_rate": 50.0, "max_steps": 16, "eval_steps": 2, "save_steps": 2}
    stopped = train(_cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "a", **kw,
                         early_stopping_patience=1))  # fmt: skip
    control = train(_cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "b", **kw,
                         early_stopping_patience=0))  # fmt: skip
    assert control.steps == 16
    assert stopped.steps < 16 and stopped.eval_loss is not None


def test_4bit_training_survives_evaluations_mid_run(tiny_model_dir, tiny_dataset_dir, tmp_path):
    # Regression: on a CPU with avx512-bf16, bitsandbytes repacked NF4 weights in place for
    # inference at the first eval, and the next training step crashed ("a view of a leaf
    # Variable that requires grad is being used in an in-place operation").
    import bitsandbytes as bnb

    from pipelines.train.run import make_trainer, read_metrics, train

    cfg = _cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / "run", bits=4, max_steps=6,
               eval_steps=2, save_steps=2)  # fmt: skip
    res = train(cfg)
    rows = read_metrics(tmp_path / "run")
    assert res.steps == 6 and sum("eval_loss" in r for r in rows) >= 3
    assert all(r["loss"] == r["loss"] for r in rows if "loss" in r)  # finite, not NaN
    trainer, *_ = make_trainer(cfg)
    layers = [m for m in trainer.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers and not any(m.support_avx512bf16_for_cpu for m in layers)


def test_a_4bit_layer_trains_after_an_inference_forward(tiny_model_dir) -> None:
    # The crash itself, without a trainer around it: eval-mode no-grad forward, then a training
    # step. Without the fix this raises on CPUs with avx512-bf16 (this one and most servers).
    import torch
    from peft import LoraConfig, get_peft_model

    from pipelines.train.model import load_base

    base = load_base(str(tiny_model_dir), bits=4, device="cpu")
    model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                            task_type="CAUSAL_LM"))  # fmt: skip
    x = torch.randint(0, 100, (1, 16))
    model.eval()
    with torch.no_grad():
        model(input_ids=x)
    model.train()
    model(input_ids=x, labels=x).loss.backward()
    grads = [p.grad for n, p in model.named_parameters() if "lora_B" in n]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


def test_inference_engine_serves_base_and_named_adapters(tiny_model_dir, tiny_dataset_dir,
                                                         tmp_path):  # fmt: skip
    from pipelines.train.inference import load_engine
    from pipelines.train.run import train
    from tests.records_factory import make_record

    for name, seed in (("a", 1), ("b", 2)):
        train(_cfg(tiny_model_dir, tiny_dataset_dir, tmp_path / name, max_steps=8, seed=seed,
                   learning_rate=5e-2))  # fmt: skip
    engine = load_engine({"a": tmp_path / "a" / "adapter", "b": tmp_path / "b" / "adapter"},
                         device="cpu")  # fmt: skip
    assert engine.names == ["base", "a", "b"] and engine.bits == 16
    recs = [make_record(i) for i in range(3)]
    outs = {n: engine.generate(recs, adapter=n, max_new_tokens=12, batch_size=2)
            for n in (None, "a", "b")}  # fmt: skip
    assert all(len(v) == 3 for v in outs.values())
    assert outs["a"] != outs["b"] and outs[None] != outs["a"]
    # batched (left-padded) and one-by-one greedy decoding agree
    single = [engine.generate([r], adapter="a", max_new_tokens=12)[0] for r in recs]
    assert single == outs["a"]
    from corpus.errors import BadInputError

    with pytest.raises(BadInputError, match="unknown adapter 'c'"):
        engine.generate(recs, adapter="c")

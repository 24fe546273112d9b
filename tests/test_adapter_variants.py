"""Adapter variants (LoRA, DoRA, LoHa, LoKr): config rules, the planner's parameter counts,
training and merging each on the tiny Qwen2, and merging a 4-bit run both ways."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corpus.cli import app
from corpus.errors import BadInputError
from pipelines.train.config import collect_errors, load_config
from tests.ship_fixtures import Ship, ship, train_overrides

__all__ = ["ship"]
runner = CliRunner()
VARIANTS = ("lora", "dora", "loha", "lokr")


def _out(res) -> str:
    return " ".join(res.output.split())


# -- config -------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["loha", "lokr"])
def test_loha_and_lokr_are_refused_on_a_4bit_base(variant: str) -> None:
    _, errors = collect_errors({"adapter": variant, "bits": 4})
    assert any("cannot train on a 4-bit base" in e and "bits=16" in e for e in errors), errors
    _, errors = collect_errors({"adapter": variant, "bits": 16})
    assert errors == []
    _, errors = collect_errors({"adapter": variant, "bits": 16, "use_rslora": True})
    assert any(e.startswith("use_rslora:") for e in errors)


def test_an_unknown_adapter_type_is_refused() -> None:
    _, errors = collect_errors({"adapter": "ia3"})
    assert errors == ["adapter: 'ia3' is not one of lora, dora, loha, lokr"]


def test_use_dora_is_the_old_spelling_of_adapter_dora(tmp_path: Path) -> None:
    cfg = load_config("tiny", overrides={"use_dora": True, "bits": 16})
    assert (cfg.adapter, cfg.use_dora) == ("dora", True)
    cfg = load_config("tiny", overrides={"adapter": "dora", "bits": 16})
    assert cfg.use_dora is True  # saved consistently, so old readers still see DoRA
    assert load_config("tiny").adapter == "lora" and load_config("tiny").use_dora is False
    _, errors = collect_errors({"adapter": "loha", "use_dora": True, "bits": 16})
    assert any(e.startswith("use_dora: true asks for DoRA") for e in errors)


def test_train_cli_refuses_loha_at_4_bits_before_loading_anything(tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "--data", str(tmp_path), "--adapter", "loha",
                              "--bits", "4", "--out", str(tmp_path / "o")])  # fmt: skip
    assert res.exit_code == 2 and "cannot train on a 4-bit base" in _out(res)


# -- planner ------------------------------------------------------------------------------------
@settings(max_examples=12, deadline=None)
@given(
    heads=st.integers(1, 4),
    head_dim=st.sampled_from([8, 12, 16]),
    kv=st.integers(1, 2),
    inter=st.integers(16, 200),
    r=st.integers(1, 40),
    variant=st.sampled_from(VARIANTS),
)
def test_planned_adapter_parameters_equal_peft_s(heads, head_dim, kv, inter, r, variant) -> None:
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, Qwen2Config

    from pipelines.train.arch import ModelShape
    from pipelines.train.model import lora_config
    from pipelines.train.plan import adapter_params

    kv = min(kv, heads) if heads % min(kv, heads) == 0 else 1
    hidden = heads * head_dim
    cfg = Qwen2Config(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=2,
                      num_attention_heads=heads, num_key_value_heads=kv, vocab_size=64)  # fmt: skip
    recipe = load_config("tiny", overrides={"adapter": variant, "lora_r": r, "bits": 16})
    with torch.device("meta"):
        model = get_peft_model(AutoModelForCausalLM.from_config(cfg), lora_config(recipe))
    real = sum(p.numel() for p in model.parameters() if p.requires_grad)
    shape = ModelShape(hidden, 2, heads, kv, 64, inter, False)
    assert adapter_params(shape, r, adapter=variant) == real


def test_plan_command_knows_each_variant() -> None:
    sizes = {}
    for v in VARIANTS:
        res = runner.invoke(app, ["train", "plan", "--recipe", "tiny", "--bits", "16",
                                  "--adapter", v, "--json"])  # fmt: skip
        assert res.exit_code == 0, res.output
        sizes[v] = json.loads(res.output)[0]["trainable_params"]
    assert sizes["lokr"] < sizes["lora"] < sizes["dora"] < sizes["loha"] == 2 * sizes["lora"]
    res = runner.invoke(app, ["train", "plan", "--recipe", "tiny", "--adapter", "lokr"])
    assert res.exit_code == 2 and "cannot train on a 4-bit base" in _out(res)


# -- training and merging -------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_trains_and_merges(variant: str, ship: Ship, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from pipelines.train.merge import adapter_kind, load_adapter_model
    from pipelines.train.run import train

    cfg = load_config("tiny", overrides=train_overrides(
        ship.model, ship.dataset, tmp_path / "run", adapter=variant, max_steps=3,
        learning_rate=5e-2))  # fmt: skip
    res = train(cfg)
    adapter = tmp_path / "run" / "adapter"
    assert res.steps == 3 and adapter_kind(adapter) == variant
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    prefix = {"lora": "lora_", "dora": "lora_magnitude", "loha": "hada_", "lokr": "lokr_"}[variant]
    assert any(prefix in k for k in weights)

    merged_dir = tmp_path / "merged"
    out = runner.invoke(app, ["train", "merge", str(adapter), "--out", str(merged_dir),
                              "--dtype", "float32"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert f"merged the {variant} adapter into the base in float32" in _out(out)
    ids = torch.randint(0, 500, (2, 24), generator=torch.Generator().manual_seed(0))
    peft_model = load_adapter_model(adapter, model=None, dtype="float32", device="cpu")
    merged = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32).eval()
    with torch.no_grad():
        want, got = peft_model(input_ids=ids).logits, merged(input_ids=ids).logits
        with peft_model.disable_adapter():
            base = peft_model(input_ids=ids).logits
    assert (want - got).abs().max() < 1e-4
    assert (want - base).abs().max() > 1e-3  # the adapter has an effect the merge kept


def test_a_4bit_run_merges_either_way_and_says_which(ship: Ship, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from pipelines.train.inference import load_engine

    adapter = ship.adapter("q4")
    res = runner.invoke(app, ["train", "merge", str(adapter), "--out", str(tmp_path / "orig"),
                              "--dtype", "float32"])  # fmt: skip
    assert res.exit_code == 0 and "dequantize-then-merge" in _out(res), res.output
    res = runner.invoke(app, ["train", "merge", str(adapter), "--out", str(tmp_path / "deq"),
                              "--dtype", "float32", "--base-weights", "dequantized"])  # fmt: skip
    assert res.exit_code == 0 and "loaded the base in NF4 as trained" in _out(res), res.output

    engine = load_engine({"q4": adapter}, device="cpu")  # the model as trained: NF4 base
    assert engine.bits == 4
    ids = torch.randint(0, 500, (1, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        engine.model.set_adapter("q4")
        as_trained = engine.model(input_ids=ids).logits
        errs = {}
        for name in ("orig", "deq"):
            m = AutoModelForCausalLM.from_pretrained(str(tmp_path / name), dtype=torch.float32)
            errs[name] = float((m.eval()(input_ids=ids).logits - as_trained).abs().max())
    # Merging into the dequantised NF4 weights reproduces the model the adapter trained with;
    # the original 16-bit weights differ from it by the NF4 rounding.
    assert errs["deq"] < 1e-3 < errs["orig"], errs

    res = runner.invoke(app, ["train", "merge", str(ship.adapter("one")), "--out",
                              str(tmp_path / "x"), "--base-weights", "dequantized"])  # fmt: skip
    assert res.exit_code == 2 and "trained at 16 bits, not 4" in _out(res)


# -- inference engine: bits as trained, variants, bases -----------------------------------------------
def test_engine_loads_a_4bit_run_in_4bit_and_refuses_loha_there(ship: Ship, tmp_path) -> None:
    import bitsandbytes as bnb

    from pipelines.train.inference import load_engine

    engine = load_engine({"q4": ship.adapter("q4")}, device="cpu")
    assert engine.bits == 4 and engine.kinds == {"q4": "lora"} and engine.ranks == {"q4": 8}
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in engine.model.modules())
    loha = tmp_path / "loha"
    _fake_kind(ship.adapter("one"), loha, "LOHA")
    with pytest.raises(BadInputError, match=r"loha \(loha\) cannot run on a 4-bit base"):
        load_engine({"q4": ship.adapter("q4"), "loha": loha}, device="cpu")


def _fake_kind(src: Path, dest: Path, peft_type: str) -> None:
    """A copy of an adapter folder whose config names another peft type (refused before any
    weight is read, so the weights need not match)."""
    import shutil

    shutil.copytree(src, dest)
    cfg = json.loads((dest / "adapter_config.json").read_text())
    cfg["peft_type"] = peft_type
    (dest / "adapter_config.json").write_text(json.dumps(cfg))


def test_an_adapter_from_another_base_model_is_refused(ship: Ship, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, Qwen2Config

    from pipelines.train.inference import load_engine
    from pipelines.train.merge import attach_adapter

    other = tmp_path / "other"
    small = Qwen2Config(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=2, num_key_value_heads=1, vocab_size=2048)  # fmt: skip
    AutoModelForCausalLM.from_config(small).save_pretrained(str(other))
    with pytest.raises(BadInputError, match="trained on another base model"):
        load_engine({"one": ship.adapter("one")}, base=str(other), device="cpu")
    res = runner.invoke(app, ["train", "merge", str(ship.adapter("one")), "--out",
                              str(tmp_path / "m"), "--model", str(other)])  # fmt: skip
    assert res.exit_code == 2 and "trained on another base model" in _out(res)
    # Where the configs cannot be compared, loading the weights still refuses it in one line.
    model = AutoModelForCausalLM.from_pretrained(str(other))
    with pytest.raises(BadInputError, match="does not fit this base model"):
        attach_adapter(model, ship.adapter("one"))


def test_generate_takes_named_adapters_and_the_base(ship: Ship) -> None:
    args = ["generate", "--adapter", f"a={ship.adapter('one')}", "--adapter",
            f"b={ship.adapter('two')}", "--base", "--signature", "pub fn len(&self) -> usize",
            "--impl", "impl Buffer", "--max-new-tokens", "12", "--device", "cpu"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("== ")] == [
        "== base ==", "== a ==", "== b =="]  # fmt: skip
    res = runner.invoke(app, ["generate", "--adapter", str(ship.adapter("one")), "--adapter",
                              str(ship.adapter("one")), "--signature", "fn f()"])  # fmt: skip
    assert res.exit_code == 2 and "given twice" in _out(res)
    res = runner.invoke(app, ["generate", "--signature", "fn f()"])
    assert res.exit_code == 2 and "--model BASE" in _out(res)

"""`corpus train combine`: peft's add_weighted_adapter on real trained adapters. ``cat`` is the
weighted sum of the adapters' weight deltas (also with rsLoRA inputs and different ranks);
every method runs; what cannot be combined is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from tests.ship_fixtures import Ship, ship

__all__ = ["ship"]
runner = CliRunner()


def _out(res) -> str:
    return " ".join(res.output.split())


def _deltas(adapter: Path, base: Path) -> dict[str, object]:
    """Every LoRA layer's delta weight (B A * scaling) of ``adapter`` on ``base``."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(model, str(adapter))
    out = {}
    for name, mod in peft_model.named_modules():
        if hasattr(mod, "get_delta_weight") and "default" in getattr(mod, "lora_A", {}):
            out[name] = mod.get_delta_weight("default").detach()
    return out


@pytest.mark.parametrize("pair", [("two", "one"), ("one", "four")])
def test_cat_is_the_weighted_sum_of_the_deltas(ship: Ship, tmp_path: Path, pair) -> None:
    # ("two", "one"): two is rsLoRA, and peft copies the first input's config into the
    # combined adapter (it would inherit sqrt(r) scaling instead of 1);
    # ("one", "four"): ranks 8 and 4.
    a, b = (ship.adapter(n) for n in pair)
    out = tmp_path / "mix"
    res = runner.invoke(app, ["train", "combine", str(a), str(b), "--weights", "0.7,0.3",
                              "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    rank = 16 if "two" in pair else 12
    assert f"rank-{rank} adapter" in _out(res)
    da, db, dm = _deltas(a, ship.model), _deltas(b, ship.model), _deltas(out, ship.model)
    assert da.keys() == db.keys() == dm.keys() and len(dm) == 14
    worst = max(float((dm[k] - (0.7 * da[k] + 0.3 * db[k])).abs().max()) for k in dm)
    scale = max(float(da[k].abs().max()) for k in da)
    assert worst < 1e-6 and scale > 1e-3, (worst, scale)
    info = json.loads((out / "combine.json").read_text())
    assert info["method"] == "cat" and info["weights"] == [0.7, 0.3] and info["rank"] == rank
    # the combined adapter is a usable adapter folder: it loads with its prompt in the engine
    from pipelines.train.inference import load_engine

    engine = load_engine({"mix": out}, device="cpu")
    assert engine.spec("mix") == engine.base_spec and engine.ranks == {"mix": rank}


@pytest.mark.parametrize("method", ["svd", "ties", "dare_ties", "dare_linear", "magnitude_prune"])
def test_every_method_runs(ship: Ship, tmp_path: Path, method: str) -> None:
    out = tmp_path / method
    res = runner.invoke(app, ["train", "combine", str(ship.adapter("one")),
                              str(ship.adapter("two")), "--weights", "0.5,0.5", "--method",
                              method, "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (out / "adapter_model.safetensors").is_file()
    info = json.loads((out / "combine.json").read_text())
    assert info["method"] == method and info["rank"] == 8
    assert info["density"] == (None if method == "svd" else 0.5)


def test_what_cannot_be_combined_is_refused(ship: Ship, tmp_path: Path) -> None:
    one, two, four = (str(ship.adapter(n)) for n in ("one", "two", "four"))
    cases = [
        ([one, two, "--weights", "0.5,0.5", "--method", "linear"], "mixes the A and B"),
        ([one, two, "--weights", "0.5,0.5", "--method", "bogus"], "choose one of cat, svd"),
        ([one, four, "--weights", "0.5,0.5", "--method", "ties"], "needs adapters of one rank"),
        ([one, two, "--weights", "0.5"], "give 2 finite numbers"),
        ([one, two, "--weights", "a,b"], "expected numbers"),
        ([one, "--weights", "1"], "at least two adapters"),
        ([one, two, "--weights", "1,1", "--density", "2"], "must be in (0, 1]"),
        ([one, str(tmp_path / "missing"), "--weights", "1,1"], "no such adapter folder"),
    ]
    for args, message in cases:
        res = runner.invoke(app, ["train", "combine", *args, "--out", str(tmp_path / "o")])
        assert res.exit_code == 2 and message in _out(res), (args, res.output)
    assert not (tmp_path / "o").exists()


def test_dora_other_bases_and_other_prompts_are_refused(ship: Ship, tmp_path: Path) -> None:
    import shutil

    one = ship.adapter("one")
    dora = tmp_path / "dora"
    shutil.copytree(one, dora)
    cfg = json.loads((dora / "adapter_config.json").read_text())
    (dora / "adapter_config.json").write_text(json.dumps({**cfg, "use_dora": True}))
    other = tmp_path / "other"
    shutil.copytree(one, other)
    (other / "adapter_config.json").write_text(
        json.dumps({**cfg, "base_model_name_or_path": "Qwen/Qwen2.5-Coder-7B-Instruct"}))  # fmt: skip
    prompt = tmp_path / "prompt"
    shutil.copytree(one, prompt)
    recipe = (prompt / "train_config.yaml").read_text()
    assert "prompt_input: context" in recipe
    (prompt / "train_config.yaml").write_text(
        recipe.replace("prompt_input: context", "prompt_input: signature")
    )
    for second, message in (
        (dora, "is a DoRA adapter"),
        (other, "different base models"),
        (prompt, "trained with different prompts"),
    ):
        res = runner.invoke(app, ["train", "combine", str(one), str(second), "--weights",
                                  "0.5,0.5", "--out", str(tmp_path / "o")])  # fmt: skip
        assert res.exit_code == 2 and message in _out(res), res.output


def test_help_says_why_linear_is_not_offered() -> None:
    res = runner.invoke(app, ["train", "combine", "--help"], env={"COLUMNS": "200"})
    text = _out(res)
    assert "exactly the weighted sum" in text and "linear is not offered" in text

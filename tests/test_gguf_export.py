"""`corpus train export --format gguf`: the merged model and the adapter alone as GGUF,
read back by transformers' GGUF loader and by the gguf package's reader, and the Modelfile."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from tests.ship_fixtures import Ship, ship

__all__ = ["ship"]
runner = CliRunner()
#: (max, mean) |logit difference| allowed against the merged fp32 model over a 155-token ChatML
#: prompt. The tiny model's logits have a standard deviation of 0.16 and reach 1.27; measured:
#: f16 1.5e-3 / 4.0e-5, bf16 7.8e-3 / 3.0e-4, q8_0 9.8e-2 / 1.1e-3 (32-weight blocks with one
#: scale each: a block's outlier costs its small weights precision).
TOLERANCE = {"f16": (5e-3, 2e-4), "bf16": (2e-2, 1e-3), "q8_0": (0.15, 4e-3)}
TEXTS = ["pub fn add(x: u32) -> u32 { x + 1 }", "let v = vec![1, 22, 333];  // tabs\tand ünïcødé 🦀",
         "<|im_start|>user\nhi<|im_end|>\n"]  # fmt: skip


def _out(res) -> str:
    return " ".join(res.output.split())


def _export(run: Path, out: Path, *args: str) -> str:
    res = runner.invoke(app, ["train", "export", str(run), "--out", str(out), *args])
    assert res.exit_code == 0, res.output
    return res.stdout


def _merged(ship: Ship):
    from pipelines.train.merge import merged_model

    model, _ = merged_model(ship.adapter("one"), model=None, dtype="float32", device="cpu",
                            base_weights="original")  # fmt: skip
    return model.eval()


@pytest.mark.parametrize("outtype", ["f16", "q8_0", "bf16"])
def test_gguf_round_trips_through_transformers(ship: Ship, tmp_path: Path, outtype: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from corpus.prompt import messages
    from tests.records_factory import make_record

    out = tmp_path / "gguf"
    printed = _export(ship.runs["one"], out, "--outtype", outtype, "--name", "rustdoc-one")
    gguf_file = f"rustdoc-one-{outtype}.gguf"
    assert (out / gguf_file).is_file() and (out / "Modelfile").is_file()
    assert "ollama create rustdoc-one -f" in printed and "llama-cli -m" in printed

    tok = AutoTokenizer.from_pretrained(str(ship.adapter("one")))
    gtok = AutoTokenizer.from_pretrained(str(out), gguf_file=gguf_file)
    chat = tok.apply_chat_template(messages(make_record(3), with_answer=False), tokenize=False,
                                   add_generation_prompt=True)  # fmt: skip
    assert gtok.apply_chat_template(messages(make_record(3), with_answer=False), tokenize=False,
                                    add_generation_prompt=True) == chat  # fmt: skip
    for text in [*TEXTS, chat]:
        assert gtok(text)["input_ids"] == tok(text)["input_ids"], text
    assert (gtok.eos_token, gtok.pad_token) == ("<|im_end|>", "<|endoftext|>")

    merged = _merged(ship)
    loaded = AutoModelForCausalLM.from_pretrained(str(out), gguf_file=gguf_file,
                                                  dtype=torch.float32).eval()  # fmt: skip
    ids = tok(chat, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        want, got = merged(input_ids=ids).logits, loaded(input_ids=ids).logits
        diff = (want - got).abs()
        assert (
            float(diff.max()) < TOLERANCE[outtype][0] and float(diff.mean()) < TOLERANCE[outtype][1]
        )
        assert (want.argmax(-1) == got.argmax(-1)).float().mean() >= 0.99
        if outtype == "f16":  # greedy decoding picks the very same tokens
            kw = {"max_new_tokens": 16, "do_sample": False, "pad_token_id": 0}
            assert torch.equal(merged.generate(ids, **kw), loaded.generate(ids, **kw))


def test_gguf_metadata_is_what_llama_cpp_reads(ship: Ship, tmp_path: Path) -> None:
    import gguf
    from transformers import AutoConfig

    _export(ship.runs["one"], tmp_path, "--outtype", "q8_0", "--name", "m")
    reader = gguf.GGUFReader(str(tmp_path / "m-q8_0.gguf"))
    cfg = AutoConfig.from_pretrained(str(ship.model))

    def field(key: str):
        return reader.fields[key].contents()

    assert field("general.architecture") == "qwen2" and field("general.type") == "model"
    assert field("general.file_type") == int(gguf.LlamaFileType.MOSTLY_Q8_0)
    assert field("qwen2.block_count") == cfg.num_hidden_layers
    assert field("qwen2.attention.head_count_kv") == cfg.num_key_value_heads
    theta = (getattr(cfg, "rope_parameters", None) or {}).get("rope_theta")
    assert math.isclose(field("qwen2.rope.freq_base"), theta)
    assert field("tokenizer.ggml.pre") == "qwen2" and field("tokenizer.ggml.model") == "gpt2"
    tokens, types = field("tokenizer.ggml.tokens"), field("tokenizer.ggml.token_type")
    assert len(tokens) == cfg.vocab_size
    control = {t for t, k in zip(tokens, types, strict=True) if k == gguf.TokenType.CONTROL}
    assert control == {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
    assert "<|im_start|>" in field("tokenizer.chat_template")
    kinds = {t.name: t.tensor_type.name for t in reader.tensors}
    assert "output.weight" not in kinds  # tied embeddings: readers reuse token_embd
    assert kinds["blk.0.attn_q.weight"] == "Q8_0" and kinds["blk.0.attn_norm.weight"] == "F32"


def test_lora_only_gguf_holds_the_adapter_s_deltas(ship: Ship, tmp_path: Path) -> None:
    import gguf
    import numpy as np
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from pipelines.train.modelfile import parse

    printed = _export(ship.runs["two"], tmp_path, "--lora-only", "--outtype", "f32",
                      "--name", "two")  # fmt: skip
    assert "--lora" in printed
    mf = parse((tmp_path / "Modelfile").read_text())
    assert mf.from_ == "./base-f32.gguf" and mf.adapters == ["./two-lora-f32.gguf"]
    reader = gguf.GGUFReader(str(tmp_path / "two-lora-f32.gguf"))
    assert reader.fields["general.type"].contents() == "adapter"
    assert reader.fields["adapter.type"].contents() == "lora"
    alpha = reader.fields["adapter.lora.alpha"].contents()
    t = {x.name: np.array(x.data) for x in reader.tensors}
    assert len(t) == 28

    base = AutoModelForCausalLM.from_pretrained(str(ship.model))
    layer = PeftModel.from_pretrained(base, str(ship.adapter("two"))).base_model.model
    q = layer.model.layers[1].self_attn.q_proj
    a, b = t["blk.1.attn_q.weight.lora_a"], t["blk.1.attn_q.weight.lora_b"]
    # llama.cpp applies W x + (alpha / r) B A x, with r the rows of A: an rsLoRA adapter
    # (scaling alpha / sqrt(r)) must be written with alpha * sqrt(r).
    delta = (alpha / a.shape[0]) * (b @ a)
    assert np.abs(delta - q.get_delta_weight("default").detach().numpy()).max() < 1e-6


def _render(template: str, **values: str) -> str:
    """Ollama's Go template, for the constructs the ChatML template uses."""
    text = re.sub(r"\{\{ if \.(\w+) \}\}(.*?)\{\{ end \}\}",
                  lambda m: m.group(2) if values[m.group(1)] else "", template, flags=re.S)  # fmt: skip
    return re.sub(r"\{\{ \.(\w+) \}\}", lambda m: values[m.group(1)], text)


def test_modelfile_prompts_exactly_as_the_model_was_trained(ship: Ship, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from corpus.prompt import messages
    from pipelines.train.config import load_config
    from pipelines.train.data import prompt_spec
    from pipelines.train.modelfile import STOP_TOKENS, parse
    from tests.records_factory import make_record

    _export(ship.runs["one"], tmp_path, "--outtype", "f16", "--name", "one")
    mf = parse((tmp_path / "Modelfile").read_text())
    assert (tmp_path / mf.from_).is_file() and not mf.adapters
    cfg = load_config(config=ship.adapter("one") / "train_config.yaml")
    assert mf.system == cfg.system_prompt
    assert tuple(mf.parameter("stop")) == STOP_TOKENS and mf.parameter("temperature") == ["0"]
    assert mf.parameter("num_ctx") == ["4096"]

    tok = AutoTokenizer.from_pretrained(str(ship.adapter("one")))
    conv = messages(make_record(5), prompt_spec(cfg))
    user = conv[1]["content"]
    prompt = _render(mf.template.split("{{ .Response }}")[0], System=mf.system, Prompt=user)
    assert prompt == tok.apply_chat_template(conv[:2], tokenize=False, add_generation_prompt=True)
    full = _render(mf.template, System=mf.system, Prompt=user, Response=conv[2]["content"])
    assert full == tok.apply_chat_template(conv, tokenize=False)


def test_the_modelfile_reader_refuses_what_ollama_would() -> None:
    from pipelines.train.modelfile import parse

    with pytest.raises(ValueError, match="unknown instruction FRUM"):
        parse("FRUM ./x.gguf\n")
    with pytest.raises(ValueError, match="unterminated"):
        parse('FROM ./x.gguf\nSYSTEM """never closed\n')
    mf = parse('# comment\nFROM ./x.gguf\nPARAMETER stop "<|im_end|>"\nSYSTEM """two\nlines"""\n')
    assert (mf.from_, mf.system, mf.parameter("stop")) == ("./x.gguf", "two\nlines", ["<|im_end|>"])


def test_bad_export_requests_are_refused(ship: Ship, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no llama-quantize anywhere
    run = str(ship.runs["one"])
    cases = [
        (["--outtype", "q4_k_m"], "needs llama.cpp's llama-quantize, which is not on PATH"),
        (["--outtype", "iq2_xxs"], "the gguf library writes f32, f16, bf16, q8_0"),
        (["--outtype", "q4_k_m", "--lora-only"], "a LoRA GGUF is written as"),
        (["--format", "onnx"], "only gguf is supported"),
        (["--base-gguf", str(tmp_path / "nope.gguf"), "--lora-only"], "--base-gguf FILE"),
    ]
    for args, message in cases:
        res = runner.invoke(app, ["train", "export", run, "--out", str(tmp_path / "o"), *args])
        assert res.exit_code == 2 and message in _out(res), (args, res.output)
    res = runner.invoke(app, ["train", "export", str(tmp_path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "not a run folder" in _out(res)
    assert not (tmp_path / "o").exists()


def test_llama_quantize_is_called_as_documented(tmp_path: Path) -> None:
    from corpus.errors import CorpusError
    from pipelines.train.gguf import quantize_command, quantize_file

    cmd = quantize_command("/opt/llama/llama-quantize", tmp_path / "a.gguf", tmp_path / "b.gguf",
                           "q4_k_m")  # fmt: skip
    assert cmd == ["/opt/llama/llama-quantize", str(tmp_path / "a.gguf"),
                   str(tmp_path / "b.gguf"), "Q4_K_M"]  # fmt: skip
    with pytest.raises(CorpusError, match=r"false failed \(exit 1\)"):
        quantize_file("false", tmp_path / "a.gguf", tmp_path / "b.gguf", "q4_k_m")


def test_lora_only_refuses_adapters_llama_cpp_cannot_apply(ship: Ship, tmp_path: Path) -> None:
    import json
    import shutil

    dora = tmp_path / "dora"
    shutil.copytree(ship.adapter("one"), dora)
    cfg = json.loads((dora / "adapter_config.json").read_text())
    (dora / "adapter_config.json").write_text(json.dumps({**cfg, "use_dora": True}))
    res = runner.invoke(app, ["train", "export", str(dora), "--lora-only", "--out",
                              str(tmp_path / "o")])  # fmt: skip
    assert res.exit_code == 2 and "llama.cpp applies plain LoRA only" in _out(res)

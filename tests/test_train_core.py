"""Trainer pieces without a training loop: config, data/labels, NF4 layers, memory plan, CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corpus.cli import app
from corpus.errors import BadInputError
from corpus.prompt import comment_as_doc, doc_as_comment
from pipelines.train.arch import BUILTIN, resolve_shape
from pipelines.train.config import TIERS, collect_errors, load_config, load_values
from pipelines.train.data import IGNORE_INDEX, to_messages
from pipelines.train.plan import GIB, plan_memory
from tests.records_factory import make_record
from tests.train_fixtures import tiny_dataset_dir, tiny_model_dir

__all__ = ["tiny_dataset_dir", "tiny_model_dir"]
runner = CliRunner()


def test_cli_import_does_not_load_torch() -> None:
    code = (
        "import sys, corpus.cli; "
        "bad = [m for m in ('torch', 'transformers', 'peft', 'trl') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("tier", TIERS)
def test_recipes_validate_and_begin_with_their_command(tier: str) -> None:
    from pipelines.train.config import recipe_path

    first = recipe_path(tier).read_text().splitlines()[0]
    assert first.startswith(f"# corpus train --recipe {tier} ")
    assert load_config(tier).model in BUILTIN


def test_bad_config_reports_every_error() -> None:
    values = load_values(
        "small", None, {"lora_r": 0, "bits": 8, "typo_key": 1, "lr_scheduler": "x"}
    )
    _, errors = collect_errors(values)
    assert len(errors) == 4
    with pytest.raises(BadInputError) as exc:
        load_config("small", overrides={"lora_r": 0, "bits": 8, "learning_rate": "fast"})
    msg = str(exc.value)
    assert (
        "3 config error(s)" in msg and "lora_r" in msg and "bits" in msg and "learning_rate" in msg
    )


def test_cli_validate_exit_codes(tmp_path) -> None:
    bad = runner.invoke(app, ["train", "validate", "--set", "lora_r=-1", "--set", "nope=2"])
    assert bad.exit_code == 2
    assert "lora_r" in bad.output and "nope: unknown option" in bad.output
    cfg = tmp_path / "x.yaml"
    cfg.write_text("model: [unclosed\n")
    assert runner.invoke(app, ["train", "validate", "--config", str(cfg)]).exit_code == 2
    assert runner.invoke(app, ["train", "validate", "--recipe", "medium"]).exit_code == 0


@settings(max_examples=40, deadline=None)
@given(r=st.integers(-5, 512), dropout=st.floats(-1, 2, allow_nan=False))
def test_lora_ranges_property(r: int, dropout: float) -> None:
    _, errors = collect_errors({"lora_r": r, "lora_dropout": dropout})
    assert any(e.startswith("lora_r:") for e in errors) == (r < 1)
    assert any(e.startswith("lora_dropout:") for e in errors) == (not 0 <= dropout < 1)


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30), min_size=1))
def test_doc_comment_roundtrip(lines: list[str]) -> None:
    doc = "\n".join(line.strip() for line in lines).strip("\n")
    comment = doc_as_comment(doc)
    assert all(line.startswith("///") for line in comment.split("\n"))
    assert comment_as_doc(comment) == "\n".join(x.rstrip() for x in doc.split("\n")).strip()


def test_only_assistant_tokens_carry_loss(tiny_model_dir) -> None:
    from pipelines.train.data import tokenize_conversation
    from pipelines.train.model import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    cfg = load_config("tiny")
    rec = make_record(3, doc="Adds three.\n\n# Panics\nNever.")
    msgs = to_messages(rec, cfg)
    ids, labels = tokenize_conversation(tok, msgs)
    assert len(ids) == len(labels)
    first = next(i for i, x in enumerate(labels) if x != IGNORE_INDEX)
    assert all(x == IGNORE_INDEX for x in labels[:first])
    assert labels[first:] == ids[first:]
    assert tok.decode(ids[first:]) == msgs[-1]["content"] + "<|im_end|>\n"
    assert tok.decode(ids[:first]).endswith("<|im_start|>assistant\n")
    assert "rustdoc comment" in tok.decode(ids[:first]) and rec["signature"] in tok.decode(ids)


def test_data_selection_and_examples_are_never_cut(tiny_model_dir, tiny_dataset_dir) -> None:
    from pipelines.train.data import build_datasets, tokenize_conversation
    from pipelines.train.model import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    base = load_config("tiny", overrides={"dataset": str(tiny_dataset_dir)})
    lengths = sorted(len(tokenize_conversation(tok, to_messages(make_record(i), base))[0])
                     for i in range(48))  # fmt: skip
    # A limit between the shortest and the longest example: the long ones are dropped whole,
    # never cut (a cut answer loses its end-of-turn).
    limit = lengths[-1] - 1
    cfg = load_config("tiny", overrides={"dataset": str(tiny_dataset_dir), "max_length": limit})
    train, evaluation, stats = build_datasets(cfg, tok)
    assert stats.no_doc == 1 and stats.tests_excluded == 1
    assert stats.per_split == {"train": 40, "validation": 8}
    kept = list(train["input_ids"]) + list(evaluation["input_ids"])
    assert stats.dropped_too_long == 48 - len(kept) > 0 and stats.examples == len(kept)
    end = tok.convert_tokens_to_ids("<|im_end|>")
    for ids in kept:
        assert len(ids) <= limit and end in ids[-2:]  # every kept example ends its answer
    too_short = load_config(
        "tiny", overrides={"dataset": str(tiny_dataset_dir), "max_length": lengths[0] - 1}
    )
    with pytest.raises(BadInputError, match="every training example is longer than"):
        build_datasets(too_short, tok)
    cfg2 = load_config(
        "tiny",
        overrides={"dataset": str(tiny_dataset_dir), "include_tests": True, "max_length": 512},
    )
    _, _, stats2 = build_datasets(cfg2, tok)
    assert stats2.per_split["train"] == 41 and stats2.dropped_too_long == 0
    with pytest.raises(BadInputError, match="no such local dataset"):
        build_datasets(load_config("tiny", overrides={"dataset": "./missing"}), tok)


def test_a_source_prompt_is_shortened_to_fit_not_its_answer(tiny_model_dir) -> None:
    from pipelines.train.data import DataStats, tokenize_records
    from pipelines.train.model import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    body = "\n".join(f"    let v{i} = x.wrapping_add({i});" for i in range(300))
    rec = make_record(1, source=f"pub fn func_1(x: u32) -> u32 {{\n{body}\n    x\n}}")
    cfg = load_config("tiny", overrides={"prompt_input": "source", "max_length": 600})
    stats = DataStats()
    cols = tokenize_records([rec], tok, cfg, stats)
    (ids,) = cols["input_ids"]
    text = tok.decode(ids)
    assert stats.shortened == 1 and len(ids) <= 600 and "lines elided" in text
    assert text.endswith(doc_as_comment(rec["doc"]) + "<|im_end|>\n")
    assert "let v0 = " in text and "let v299 = " in text  # the body's first and last lines


def test_4bit_layers_are_nf4_with_double_quant(tiny_model_dir) -> None:
    import bitsandbytes as bnb

    from pipelines.train.model import load_base

    model = load_base(str(tiny_model_dir), bits=4, device="cpu")
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(layers) == 2 * 7  # every projection of both decoder layers
    for layer in layers:
        qs = layer.weight.quant_state
        assert layer.weight.quant_type == "nf4" and qs.quant_type == "nf4"
        assert qs.nested and qs.state2 is not None  # double quantisation of the absmax
        assert qs.blocksize == 64 and qs.state2.blocksize == 256
    assert not isinstance(model.lm_head, bnb.nn.Linear4bit)


def test_builtin_4bit_weights_match_qlora_numbers() -> None:
    expected = [0.43, 1.06, 5.17, 17.9]  # GiB, from the QLoRA recipe note
    for (name, shape), gib in zip(BUILTIN.items(), expected, strict=True):
        got = plan_memory(shape, model=name).weights / GIB
        assert abs(got - gib) / gib < 0.02, name


def _measured_peak(model_dir: str, *, bits: int, seq: int, batch: int, gc: bool) -> int:
    """Peak bytes held by torch's CPU allocator over load + two optimiser steps.

    Measured from the profiler's memory events (every allocation and free, in time order);
    RSS would add the Python interpreter and library code to a few-MB signal.
    """
    import torch
    from torch.profiler import ProfilerActivity, profile

    from pipelines.train.model import build_model

    cfg = load_config(
        "tiny",
        overrides={"model": model_dir, "bits": bits, "lora_r": 8, "gradient_checkpointing": gc},
    )
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model = build_model(cfg, "cpu")
        model.train()
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        ids = torch.randint(0, model.config.vocab_size, (batch, seq))
        for _ in range(2):
            model(input_ids=ids, labels=ids).loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    events = sorted(
        (e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
        key=lambda e: e.start_ns(),
    )
    cur = peak = 0
    for e in events:
        cur += e.nbytes()
        peak = max(peak, cur)
    return peak


@pytest.mark.parametrize(("bits", "seq", "batch", "gc"), [(4, 512, 2, True), (16, 512, 1, False)])
def test_memory_plan_within_15_percent(tiny_model_dir, bits, seq, batch, gc) -> None:
    measured = _measured_peak(str(tiny_model_dir), bits=bits, seq=seq, batch=batch, gc=gc)
    plan = plan_memory(
        resolve_shape(str(tiny_model_dir)),
        bits=bits,
        lora_r=8,
        batch_size=batch,
        seq_len=seq,
        gpu=False,
        gradient_checkpointing=gc,
    )
    assert abs(plan.total - measured) / measured < 0.15, (plan.to_dict(), measured)


def test_cli_plan(tiny_model_dir) -> None:
    import json

    res = runner.invoke(app, ["train", "plan", "--all-tiers", "--json", "--vram", "24"])
    assert res.exit_code == 1  # 32B does not fit 24 GiB at r=64 seq 2048
    rows = json.loads(res.output)
    assert [r["fits"] for r in rows] == [True, True, True, False]
    assert rows[3]["advice"]
    ok = runner.invoke(
        app, ["train", "plan", "--model", str(tiny_model_dir), "--cpu", "--vram", "1"]
    )
    assert ok.exit_code == 0 and "model" in ok.output
    bad = runner.invoke(app, ["train", "plan", "--model", "/nonexistent/dir/"])
    assert bad.exit_code == 2


def test_each_distributed_rank_loads_onto_its_own_gpu(monkeypatch) -> None:
    from pipelines.train.model import process_device

    monkeypatch.setenv("LOCAL_RANK", "3")
    assert process_device("cuda") == "cuda:3"
    assert process_device("cpu") == "cpu"
    monkeypatch.delenv("LOCAL_RANK")
    assert process_device("cuda") == "cuda:0"


def test_a_missing_training_stack_is_an_install_hint_not_a_traceback() -> None:
    # Regression: `corpus train` on a core install died with ModuleNotFoundError: torch.
    import typer

    from corpus.commands.train import require_modules

    require_modules()  # this environment has the train extra: no exit
    with pytest.raises(typer.Exit) as err:
        require_modules(("torch", "no_such_training_module_xyz"))
    assert err.value.exit_code == 2


@pytest.mark.parametrize("rows", [40, 400, 2531, 20000])
def test_recipes_sized_from_the_data_evaluate_and_checkpoint_at_least_5_times(rows) -> None:
    from pipelines.train.schedule import plan_schedule

    for tier in TIERS:
        cfg = load_config(tier)
        # ~250 tokens per conversation, as on the seven-repo corpus (stats.json: tokens).
        s = plan_schedule(cfg, tokens=rows * 250, examples=rows)
        assert s.eval_steps is not None and s.save_steps == s.eval_steps
        if s.total_steps >= 5:
            assert s.total_steps // s.eval_steps >= 5, (tier, rows, s)
        # About every 10% of the run: never an eval at every step of a run of 11 or more.
        assert s.evals <= 10 and (s.total_steps <= 10 or s.eval_steps > 1), (tier, rows, s)
        assert s.patience == max(2, s.evals // 3) and s.patience < max(3, s.evals)
        assert s.warmup_steps <= max(1, s.total_steps // 10)
    fixed = load_config("small", overrides={"eval_steps": 7, "save_steps": -1})
    s = plan_schedule(fixed, tokens=10**6, examples=4000)
    assert (s.eval_steps, s.save_steps) == (7, None)
    assert plan_schedule(fixed, tokens=10**6, examples=4000).patience == max(2, s.evals // 3)
    off = load_config("small", overrides={"eval_steps": -1, "early_stopping_patience": 0})
    assert plan_schedule(off, tokens=10**6, examples=4000).eval_steps is None
    assert plan_schedule(off, tokens=10**6, examples=4000).patience == 0
    # Regression: 19 steps (the seven-repo corpus) evaluated and checkpointed at every step.
    nineteen = plan_schedule(load_config("small"), tokens=19 * 32_768, examples=2_886)
    assert (nineteen.total_steps, nineteen.eval_steps, nineteen.evals) == (19, 2, 9)
    given = load_config("small", overrides={"early_stopping_patience": 4})
    assert plan_schedule(given, tokens=10**6, examples=4000).patience == 4


@given(st.integers(1, 5_000), st.integers(1, 40))
def test_evals_are_about_evals_per_run_and_never_too_few(total: int, per_run: int) -> None:
    from pipelines.train.schedule import MIN_EVALS, plan_schedule

    cfg = load_config("small", overrides={"max_steps": total, "evals_per_run": per_run})
    s = plan_schedule(cfg, tokens=10**6, examples=4000)
    assert s.total_steps == total and s.save_steps == s.eval_steps
    assert s.evals >= min(total, MIN_EVALS, per_run)
    assert s.evals <= max(per_run, MIN_EVALS) or s.eval_steps == 1


def test_the_schedule_counts_packed_sequences_and_processes() -> None:
    from pipelines.train.schedule import plan_schedule

    cfg = load_config("small", overrides={"max_length": 1000, "batch_size": 2, "grad_accum": 8})
    s = plan_schedule(cfg, tokens=100_000, examples=700)
    assert (s.sequences, s.steps_per_epoch, s.tokens_per_step) == (100, 7, 16_000)
    assert plan_schedule(cfg, tokens=100_000, examples=700, world_size=2).steps_per_epoch == 4
    unpacked = load_config("small", overrides={"packing": False})
    assert plan_schedule(unpacked, tokens=100_000, examples=700).sequences == 700


def test_mixture_weights_resample_repositories_and_keep_the_size() -> None:
    from pipelines.train.mixture import apply_mixture, target_counts

    recs = [make_record(i, repo="big/repo") for i in range(80)]
    recs += [make_record(100 + i, repo="small/repo") for i in range(20)]
    same, summary = apply_mixture(recs, {}, 1.0, seed=0)
    assert same is recs and summary["big/repo"] == {"records": 80, "examples": 80}
    out, summary = apply_mixture(recs, {"big/repo": 0.25}, 1.0, seed=0)
    assert len(out) == 100 and summary["big/repo"]["examples"] == 50  # 80*.25 : 20*1 = 1:1
    assert sum(r["repo"] == "small/repo" for r in out) == 50  # every record, some twice
    assert {r["id"] for r in out if r["repo"] == "small/repo"} == {r["id"] for r in recs[80:]}
    flat = target_counts({"a": 900, "b": 100}, {}, temperature=1e9)
    assert flat == {"a": 500, "b": 500}
    assert apply_mixture(recs, {"big/repo": 0.25}, 1.0, seed=0)[0] == out  # seeded
    with pytest.raises(BadInputError, match="mixture names nope/x, not in the training data"):
        apply_mixture(recs, {"nope/x": 1.0}, 1.0, seed=0)
    with pytest.raises(BadInputError, match="weight 0"):
        apply_mixture(recs, {"big/repo": 0, "small/repo": 0}, 1.0, seed=0)


def test_plan_data_sizes_the_run_from_the_dataset(tiny_dataset_dir) -> None:
    import json

    res = runner.invoke(app, ["train", "plan", "--data", str(tiny_dataset_dir), "--recipe",
                              "tiny", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.output)
    s = row["schedule"]
    assert row["tier"] == "tiny" and row["examples"] == 40 and row["tokens"] > 0
    assert s["steps_per_epoch"] >= 1 and s["total_steps"] == s["steps_per_epoch"]
    assert s["evals"] >= 1 and set(row["seconds"]) >= {"T4", "A100"}
    table = runner.invoke(app, ["train", "plan", "--data", str(tiny_dataset_dir)],
                          env={"COLUMNS": "250"})  # fmt: skip
    assert table.exit_code == 0 and "unmeasured" in table.output and "medium" in table.output
    bad = runner.invoke(app, ["train", "plan", "--data", "/nonexistent/ds"])
    assert bad.exit_code == 2 and "no such local dataset" in bad.output


def test_a_shapes_qwen2_config_builds_the_layers_the_plan_counts() -> None:
    from transformers import Qwen2ForCausalLM

    from pipelines.train.arch import ModelShape

    shape = ModelShape(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, vocab_size=128, intermediate_size=96,
                       tie_word_embeddings=True)  # fmt: skip
    layer = Qwen2ForCausalLM(shape.qwen2_config()).model.layers[0]
    modules = dict(layer.named_modules())
    for name, (n_in, n_out) in shape.linear_shapes().items():
        proj = next(m for k, m in modules.items() if k.endswith(name))
        assert (proj.in_features, proj.out_features) == (n_in, n_out), name

"""Rank ablation and LR range test, run for real on the tiny Qwen2 through the CLI."""

from __future__ import annotations

import itertools
import json
import math

from typer.testing import CliRunner

from corpus.cli import app
from tests.train_fixtures import tiny_dataset_dir, tiny_model_dir

__all__ = ["tiny_dataset_dir", "tiny_model_dir"]
runner = CliRunner()
CPU = ["--set", "device=cpu", "--set", "bits=16", "--set", "max_length=256",
       "--set", "batch_size=2", "--set", "eval_steps=-1", "--set", "save_steps=-1",
       "--set", "early_stopping_patience=0"]  # fmt: skip


def test_ablate_reports_each_rank(tiny_model_dir, tiny_dataset_dir, tmp_path) -> None:
    out = tmp_path / "ablate"
    res = runner.invoke(
        app,
        ["train", "ablate", "--data", str(tiny_dataset_dir), "--model", str(tiny_model_dir),
         "--out", str(out), "--ranks", "2,8", "--max-steps", "3", "--recipe", "tiny", *CPU],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "ablation.json").read_text())
    assert [r["rank"] for r in rows] == [2, 8]
    # LoRA adds r * (d_in + d_out) parameters per adapted matrix: exactly 4x from r=2 to r=8.
    assert rows[1]["trainable_params"] == 4 * rows[0]["trainable_params"]
    assert all(r["eval_loss"] is not None and math.isfinite(r["eval_loss"]) for r in rows)
    assert all(r["seconds"] > 0 and r["peak_memory_mib"] > 0 for r in rows)
    assert "| 8 |" in (out / "ablation.md").read_text() and "| 8 |" in res.output


def test_ablate_bad_ranks_exit_2(tiny_dataset_dir, tmp_path) -> None:
    # A real dataset: the rank check itself must be what refuses (not a missing --data).
    for ranks, why in (("4,x", "expected integers like 4,8,16"), ("4,0", "positive integers")):
        res = runner.invoke(app, ["train", "ablate", "--data", str(tiny_dataset_dir), "--out",
                                  str(tmp_path / "o"), "--ranks", ranks])  # fmt: skip
        assert res.exit_code == 2 and why in res.output, res.output
        assert not (tmp_path / "o").exists()


def test_lr_find_sweeps_and_suggests(tiny_model_dir, tiny_dataset_dir, tmp_path) -> None:
    out = tmp_path / "lr"
    res = runner.invoke(
        app,
        ["train", "lr-find", "--data", str(tiny_dataset_dir), "--model", str(tiny_model_dir),
         "--out", str(out), "--steps", "12", "--min-lr", "1e-5", "--max-lr", "1e-1",
         "--recipe", "tiny", *CPU],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads((out / "lr_find.json").read_text())
    lrs = data["lrs"]
    assert math.isclose(lrs[0], 1e-5) and all(b > a for a, b in itertools.pairwise(lrs))
    ratios = {round(b / a, 6) for a, b in itertools.pairwise(lrs)}
    assert len(ratios) == 1  # exponential: a constant factor per step
    assert data["suggested_lr"] in lrs
    assert (out / "lr_find.png").read_bytes()[:4] == b"\x89PNG"
    assert "suggested learning rate" in res.output


def test_lr_find_rejects_bad_range(tiny_dataset_dir, tmp_path) -> None:
    for extra in (["--min-lr", "1e-1", "--max-lr", "1e-3"], ["--min-lr", "0"], ["--steps", "2"]):
        res = runner.invoke(app, ["train", "lr-find", "--data", str(tiny_dataset_dir), "--out",
                                  str(tmp_path / "o"), *extra])  # fmt: skip
        assert res.exit_code == 2 and "need 0 < --min-lr < --max-lr" in res.output, res.output
        assert not (tmp_path / "o").exists()

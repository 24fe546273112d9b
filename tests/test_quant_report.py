"""`corpus train quant-report`: bitsandbytes int8 / NF4 / FP4 (± double quantisation) on every
linear layer of a real (tiny, randomly initialised) model, ordered as theory says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corpus.cli import app
from tests.ship_fixtures import Ship, ship

__all__ = ["ship"]
runner = CliRunner()
KINDS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@pytest.fixture(scope="module")
def report(ship: Ship, tmp_path_factory) -> tuple[dict, Path, str]:
    out = tmp_path_factory.mktemp("quant")
    res = runner.invoke(
        app, ["train", "quant-report", "--model", str(ship.model), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return json.loads((out / "quant_report.json").read_text()), out, res.stdout


def test_errors_are_ordered_as_theory_says(report) -> None:
    rep, _, _ = report
    assert set(rep["per_layer_type"]) == set(KINDS)
    for kind, cells in rep["per_layer_type"].items():
        err = {f: c["rel_frobenius"] for f, c in cells.items()}
        assert err["bf16"] < err["int8"] < err["nf4"] < err["fp4"], (kind, err)
        # double quantisation of the block scales costs almost nothing in accuracy
        assert abs(err["nf4-dq"] - err["nf4"]) < 0.01 * err["nf4"]
        assert abs(err["fp4-dq"] - err["fp4"]) < 0.01 * err["fp4"]
        assert 0.08 < err["nf4"] < 0.11 and 0.11 < err["fp4"] < 0.14  # measured 0.092 / 0.122
        assert cells["int8"]["max_abs"] < cells["nf4"]["max_abs"]


def test_bytes_per_parameter_are_what_is_stored(report, ship: Ship) -> None:
    from transformers import AutoConfig

    rep, _, _ = report
    cfg = AutoConfig.from_pretrained(str(ship.model))
    cells = rep["per_layer_type"]["q_proj"]  # 64 x 64: one fp32 scale per row of 64 for int8
    assert cells["bf16"]["bytes_per_param"] == 2
    assert cells["int8"]["bytes_per_param"] == pytest.approx(1 + 4 / cfg.hidden_size)
    assert cells["nf4"]["bytes_per_param"] == pytest.approx(0.5 + 4 / 64)  # fp32 absmax / 64
    assert 0.5 + 1 / 64 < cells["nf4-dq"]["bytes_per_param"] < 0.5 + 1 / 64 + 0.01
    total = rep["linear_params"] + rep["other_params"]
    per = rep["per_format"]
    assert per["bf16"]["model_bytes"] == 2 * total
    sizes = [per[f]["model_bytes"] for f in ("bf16", "int8", "nf4", "nf4-dq")]
    assert sizes == sorted(sizes, reverse=True)
    assert per["nf4"]["model_bytes"] == per["fp4"]["model_bytes"]


def test_report_files_and_table(report) -> None:
    _, out, printed = report
    md = (out / "quant_report.md").read_text()
    assert "| q_proj | nf4-dq |" in md and "whole model" in md
    assert (out / "quant_report.png").read_bytes()[:4] == b"\x89PNG"
    assert "nf4-dq" in printed and "bytes/param" in printed


@settings(max_examples=10, deadline=None)
@given(rows=st.integers(64, 256), cols=st.sampled_from([64, 128, 192, 256]),
       std=st.floats(1e-3, 1.0))  # fmt: skip
def test_int8_beats_nf4_beats_fp4_on_normal_weights(rows: int, cols: int, std: float) -> None:
    import torch

    from pipelines.train.quant_report import roundtrip

    w = torch.randn(rows, cols, generator=torch.Generator().manual_seed(rows * cols)) * std
    err = {f: float((roundtrip(w, f)[0] - w).norm() / w.norm()) for f in ("int8", "nf4", "fp4")}
    assert err["int8"] < err["nf4"] < err["fp4"], err


def test_bad_input(tmp_path: Path) -> None:
    for args, message in (
        (["--model", str(tmp_path / "none")], "cannot load the model"),
        (["--model", str(tmp_path), "--layers", "0"], "--layers must be at least 1"),
        (["--model", str(tmp_path), "--blocksize", "100"], "bitsandbytes takes 64"),
    ):
        res = runner.invoke(app, ["train", "quant-report", *args, "--out", str(tmp_path / "o")])
        assert res.exit_code == 2 and message in " ".join(res.output.split()), res.output

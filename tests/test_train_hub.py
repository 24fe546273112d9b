"""The trainer reads a published dataset from a Hub at a pinned revision (loopback Hub)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.hub_fixtures import REPO_ID, hf_env, hub, make_build, run_cli
from tests.hub_server import HubServer
from tests.train_fixtures import tiny_model_dir

__all__ = ["hub", "tiny_model_dir"]


def test_train_reads_a_hub_dataset_at_its_build_tag(
    hub: HubServer, tiny_model_dir: Path, tmp_path: Path
) -> None:
    env = hf_env(hub, tmp_path / "hf-home")
    v1 = run_cli(
        ["publish", str(make_build(tmp_path / "v1", 24)), "--repo-id", REPO_ID], env, tmp_path
    )
    assert v1.returncode == 0, v1.stderr
    tag = re.search(r"v\d{4}\.\d\d\.\d\d-[0-9a-f]{12}", v1.stdout).group(0)
    # A second build moves main; training at the tag must still see exactly the v1 rows.
    v2 = run_cli(["publish", str(make_build(tmp_path / "v2", 60, first=100)), "--repo-id", REPO_ID],
                 env, tmp_path)  # fmt: skip
    assert v2.returncode == 0, v2.stderr
    out = tmp_path / "run"
    res = run_cli(
        ["train", "--data", f"{REPO_ID}@{tag}", "--model", str(tiny_model_dir), "--out", str(out),
         "--recipe", "tiny", "--max-steps", "2", "--set", "device=cpu", "--set", "bits=16",
         "--set", "max_length=256", "--set", "eval_steps=-1", "--set", "save_steps=-1",
         "--set", "early_stopping_patience=0"],
        env,
        tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads((out / "summary.json").read_text())["data"]
    import polars as pl

    v1_rows = pl.read_parquet(tmp_path / "v1" / "data" / "*.parquet")
    trainable = v1_rows.filter(pl.col("split") != "test").height
    assert data["records"] == trainable  # the v1 build's train+validation rows, not main's
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert hub.token not in res.stdout + res.stderr


def test_train_with_a_missing_hub_dataset_is_a_clear_error(hub: HubServer, tmp_path: Path) -> None:
    env = hf_env(hub, tmp_path / "hf-home")
    res = run_cli(["train", "--data", f"{REPO_ID}@v0000.00.00-000000000000", "--out",
                   str(tmp_path / "run"), "--set", "device=cpu"], env, tmp_path)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "no such Hub dataset, revision or config" in res.stderr
    assert "Traceback" not in res.stderr


def test_adapter_and_merged_model_are_pushed_to_the_hub(
    hub: HubServer, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from tests.records_factory import make_dataset_dir
    from tests.train_fixtures import dataset_records

    data = make_dataset_dir(tmp_path / "ds", dataset_records())
    env = hf_env(hub, tmp_path / "hf-home")
    out = tmp_path / "run"
    res = run_cli(
        ["train", "--data", str(data), "--model", str(tiny_model_dir), "--out", str(out),
         "--recipe", "tiny", "--max-steps", "2", "--push-to-hub", "rustdoc/tiny-adapter",
         "--set", "device=cpu", "--set", "bits=16", "--set", "max_length=256",
         "--set", "eval_steps=-1", "--set", "save_steps=-1", "--set", "early_stopping_patience=0"],
        env,
        tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    local = (out / "adapter" / "adapter_model.safetensors").read_bytes()
    pushed = hub.read_file("rustdoc/tiny-adapter", "main", "adapter_model.safetensors", "models")
    assert pushed == local
    assert b"lora" in hub.read_file("rustdoc/tiny-adapter", "main", "adapter_config.json", "models")

    merged = tmp_path / "merged"
    res = run_cli(
        ["train", "merge", str(out / "adapter"), "--out", str(merged), "--dtype", "float32",
         "--push-to-hub", "rustdoc/tiny-merged"],
        env,
        tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    weights = sorted(p.name for p in merged.glob("*.safetensors"))
    assert weights
    for name in weights:
        assert (
            hub.read_file("rustdoc/tiny-merged", "main", name, "models")
            == (merged / name).read_bytes()
        )
    assert not hub.repo_exists("rustdoc/tiny-adapter")  # no dataset repo was made by mistake
    assert hub.token not in res.stdout + res.stderr

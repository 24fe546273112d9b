"""`corpus train rl` (GRPO) on CPU: the reward rises on a toy reward, every component and
guard is logged, the KL to the SFT reference is measured and reported."""

from __future__ import annotations

from pathlib import Path

from pipelines.train.methods.inputs import method_config
from pipelines.train.rewards import COMPONENTS
from pipelines.train.run import read_metrics
from tests.method_fixtures import BASE, rich_dataset_dir, sft_run, sharp_model, tiny_model_dir

__all__ = ["rich_dataset_dir", "sft_run", "sharp_model", "tiny_model_dir"]


def test_rl_reward_rises_on_a_toy_reward_and_logs_components_and_kl(
    sft_run: Path, rich_dataset_dir: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    from pipelines.train.methods.run import train_method

    tok = AutoTokenizer.from_pretrained(str(sft_run / "adapter"))
    half = len(tok) // 2

    def low_ids(raw: str, record: dict) -> float:
        """Toy reward: the share of the output's tokens from the lower half of the vocab."""
        ids = tok(raw, add_special_tokens=False)["input_ids"]
        return sum(i < half for i in ids) / max(1, len(ids))

    out = tmp_path / "rl"
    # The code-aware components are measured (weight 0) while the toy reward drives learning.
    weights = {n: 0.0 for n in COMPONENTS if n != "reward_model"}
    cfg = method_config("rl", "tiny", None, {**BASE, "output_dir": str(out), "init_adapter":
                        str(sft_run), "dataset": str(rich_dataset_dir), "batch_size": 8,
                        "num_generations": 4, "rl_max_new_tokens": 8, "max_steps": 12,
                        "learning_rate": 0.2, "max_train_records": 16, "rewards": weights,
                        "length_penalty": 0.0, "degenerate_guard": False})  # fmt: skip
    res = train_method(cfg, extra_rewards={"low_ids": low_ids})
    rows = read_metrics(out)
    toy = [r["rewards/low_ids/mean"] for r in rows if "rewards/low_ids/mean" in r]
    assert res.steps == 12 and len(toy) == 12
    assert sum(toy[-3:]) / 3 > sum(toy[:3]) / 3 + 0.05, toy
    # doctest_parse is undefined (no code block in these outputs), so TRL logs no mean for it.
    for name in [*(n for n in weights if n != "doctest_parse"), "length", "degenerate"]:
        assert any(f"rewards/{name}/mean" in r for r in rows), name
    kl = [r["kl"] for r in rows if "kl" in r]
    assert kl[0] < 1e-3 and max(kl) > 0.1  # the policy left its SFT reference, and it is measured
    report = (out / "report.md").read_text()
    assert "KL to the reference" in report and "## Reward-hacking guards" in report
    assert "guard off: measured, not applied" in report
    assert "rewards/low_ids/mean" in report and "rewards/format_valid/mean" in report


def test_rl_with_the_reward_model_component(
    sft_run: Path, sharp_model: Path, rich_dataset_dir: Path, tmp_path: Path
) -> None:
    """A `corpus train reward` run scores RL's generations as the reward_model component."""
    import pyarrow as pa

    from corpus.store import write_parquet
    from pipelines.pairs.store import _schemas
    from pipelines.train.methods.run import train_method
    from tests.method_fixtures import toy_rows

    pairs = tmp_path / "pairs" / "preferences"
    pairs.mkdir(parents=True)
    write_parquet(pairs / "train-00000-of-00001.parquet", pa.Table.from_pylist(toy_rows(),
                  _schemas()[0]))  # fmt: skip
    rm = tmp_path / "rm"
    train_method(method_config("reward", "tiny", None, {**BASE, "output_dir": str(rm),
                 "pairs": str(pairs.parent), "model": str(sharp_model), "max_steps": 2,
                 "prompt_input": "signature"}))  # fmt: skip
    out = tmp_path / "rl"
    cfg = method_config("rl", "tiny", None, {**BASE, "output_dir": str(out), "init_adapter":
                        str(sft_run), "dataset": str(rich_dataset_dir), "batch_size": 4,
                        "num_generations": 2, "rl_max_new_tokens": 4, "max_steps": 1,
                        "max_train_records": 4, "reward_run": str(rm),
                        "rewards": {"reward_model": 1.0, "format_valid": 1.0}})  # fmt: skip
    train_method(cfg)
    rows = read_metrics(out)
    scores = [r["rewards/reward_model/mean"] for r in rows if "rewards/reward_model/mean" in r]
    assert scores and 0.0 < scores[0] < 1.0  # a sigmoid of the reward model's logit

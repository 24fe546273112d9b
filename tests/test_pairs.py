"""`corpus pairs`: every rejection kind, in its record's split, checked; the KTO view; bad input."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corpus.cli import app
from corpus.prompt import PromptSpec, doc_as_comment, messages
from pipelines.pairs.mine import mine
from pipelines.pairs.store import read_pairs
from tests.pairs_fixtures import pairs_dir, rich_dataset_dir, rich_records
from tests.records_factory import make_dataset_dir, make_record
from tests.train_fixtures import tiny_model_dir

__all__ = ["pairs_dir", "rich_dataset_dir", "tiny_model_dir"]
runner = CliRunner()


def test_every_kind_is_mined_in_the_records_split(pairs_dir: Path) -> None:
    import json

    report = json.loads((pairs_dir / "preferences" / "pairs.json").read_text())
    for kind in ("neighbour", "sections_stripped", "swapped", "summary_only"):
        assert set(report["counts"][kind]) == {"train", "validation", "test"}, kind
    assert all(c["ok"] for c in report["checks"]) and len(report["checks"]) == 8
    by_id = {r["id"]: r for r in rich_records() if r.get("doc") and not r["is_test"]}
    pairs = read_pairs(str(pairs_dir))
    assert len(pairs) == report["pairs"] == 4 * len(by_id)
    for p in pairs:
        rec = by_id[p["id"]]
        assert p["split"] == rec["split"]
        assert p["chosen"] == [{"role": "assistant", "content": doc_as_comment(rec["doc"])}]
        assert p["prompt"] == messages(rec, PromptSpec(), with_answer=False)
        if p["source_id"]:
            assert by_id[p["source_id"]]["split"] == rec["split"]
    kto = read_pairs(str(pairs_dir), "kto")
    assert sum(r["label"] for r in kto) == len(by_id)  # each doc desirable once
    assert sum(not r["label"] for r in kto) == len(pairs)


_docs = st.sampled_from([
    "Adds `x`.\n\nMore about it.", "Adds `x`.", "Reads `x`.\n\n# Panics\n\nNever.",
    "Same doc.", "Same doc.", "Counts x twice.\n\nSecond paragraph.\n\n# Examples\n\n```\nf(1);\n```",
])  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["train", "validation", "test"]), _docs),
                min_size=1, max_size=14))  # fmt: skip
def test_no_pair_crosses_splits_and_chosen_is_the_doc(rows: list[tuple[str, str]]) -> None:
    recs = [make_record(i, split=s, doc=d, params=[f"p{i % 3}: u32"]) for i, (s, d) in
            enumerate(rows)]  # fmt: skip
    by_id = {r["id"]: r for r in recs}
    ps = mine(recs)
    for p in ps.pairs:
        rec = by_id[p["id"]]
        assert p["split"] == rec["split"]
        assert p["chosen"][0]["content"] == doc_as_comment(rec["doc"])
        assert p["rejected"] != p["chosen"]
        if p["source_id"]:
            assert by_id[p["source_id"]]["split"] == rec["split"]
            assert by_id[p["source_id"]]["doc"] != rec["doc"]
    for row in ps.kto:
        assert row["split"] == by_id[row["id"]]["split"]


def test_the_model_kind_rejects_a_random_models_generations(
    rich_dataset_dir: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pairs"
    res = runner.invoke(app, ["pairs", str(rich_dataset_dir), "--out", str(out), "--model",
                              str(tiny_model_dir), "--limit", "4", "--max-new-tokens", "8",
                              "--device", "cpu", "--bits", "16"])  # fmt: skip
    assert res.exit_code == 0, res.output
    model = [p for p in read_pairs(str(out)) if p["rejection"] == "model"]
    assert 1 <= len(model) <= 4
    assert "model kind:" in res.output


def test_a_dataset_without_docs_is_one_line_and_exit_2(tmp_path: Path) -> None:
    ds = make_dataset_dir(tmp_path / "ds", [make_record(i, doc=None, doc_summary=None)
                                            for i in range(4)])  # fmt: skip
    res = runner.invoke(app, ["pairs", str(ds), "--out", str(tmp_path / "p")])
    assert res.exit_code == 2
    assert "no documented records" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()


def test_a_kto_run_on_a_dpo_only_file_is_refused_by_name(pairs_dir: Path) -> None:
    import pytest

    from corpus.errors import BadInputError
    from pipelines.pairs.store import check_pairs_path

    only = pairs_dir / "preferences" / "train-00000-of-00001.parquet"
    with pytest.raises(BadInputError, match="KTO view"):
        check_pairs_path(str(only), "kto")

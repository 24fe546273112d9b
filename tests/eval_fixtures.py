"""A small corpus dataset for eval tests: two repositories, a train split to retrieve from,
and test records with and without sections and doc tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.records_factory import make_dataset_dir, make_record


def eval_records(n: int = 60) -> list[dict]:
    """``n`` documented records: every 5th is test, the next validation, the rest train."""
    recs = []
    for i in range(n):
        split = ("test", "validation", "train", "train", "train")[i % 5]
        doc = f"Adds {i} to `x`.\n\nLonger text about func_{i}."
        if i % 4 == 0:
            doc += f"\n\n# Examples\n\n```\nlet y = func_{i}(1);\n```"
        repo = "acme/widgets" if i % 2 else "acme/gadgets"
        recs.append(make_record(i, split=split, doc=doc, repo=repo))
    return recs


@pytest.fixture(scope="session")
def eval_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset folder of :func:`eval_records` (12 test records)."""
    return make_dataset_dir(tmp_path_factory.mktemp("evalds") / "ds", eval_records())

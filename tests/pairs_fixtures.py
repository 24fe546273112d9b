"""Corpus records rich enough for every rejection kind, a dataset of them, and the pairs
`corpus pairs` mines from it (session-scoped fixtures; import them into a test module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.records_factory import make_dataset_dir, make_record

_PARAMS = ("count", "limit", "width", "offset")


def rich_doc(i: int, name: str, param: str) -> str:
    """A doc naming its parameter in backticks, with a second paragraph and an Examples
    section (so every kind applies: swapped, summary_only, sections_stripped, neighbour)."""
    return (
        f"Returns `{param}` plus {i} for item {name}.\n\n"
        f"The value `{param}` is read once; {name} never panics.\n\n"
        f"# Examples\n\n```\nlet y = {name}(3);\nassert!(y > 0);\n```"
    )


def rich_records(n: int = 60) -> list[dict[str, Any]]:
    """``n`` documented records over the three splits, plus an undocumented and a test one."""
    recs = []
    for i in range(n):
        name, param = f"func_{i}", _PARAMS[i % len(_PARAMS)]
        recs.append(
            make_record(
                i,
                params=[f"{param}: u32"],
                doc=rich_doc(i, name, param),
                doc_sections=["Examples"],
                source=f"pub fn {name}({param}: u32) -> u32 {{\n    {param} + {i}\n}}",
            )
        )
    recs.append(make_record(n, doc=None, doc_summary=None))
    recs.append(make_record(n + 1, is_test=True, test_reason="cfg_test"))
    return recs


@pytest.fixture(scope="session")
def rich_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus dataset folder of :func:`rich_records`."""
    return make_dataset_dir(tmp_path_factory.mktemp("rich") / "ds", rich_records())


@pytest.fixture(scope="session")
def pairs_dir(rich_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`corpus pairs` output (preferences/ and kto/) for :func:`rich_dataset_dir`."""
    from pipelines.pairs.run import PairsConfig, make_pairs

    out = tmp_path_factory.mktemp("pairs") / "pairs"
    make_pairs(PairsConfig(data=str(rich_dataset_dir), out=out))
    return out

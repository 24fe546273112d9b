"""The ``preferences`` config of a published build: preference pairs mined from its records.

Staging (``stage.prepare``, so `corpus publish` and `corpus build --push` alike) gives every
build the config: the dataset folder's own ``preferences/`` when `corpus pairs DATASET --out
DATASET` wrote one from these very rows (it may hold a model's generations), else pairs
mined now with the defaults (no model: the same rows always give the same pairs). Pairs mined
from other rows are refused, not published. The staged ``preferences/pairs.json`` leaves out
what differs between runs of the same mining (timings, the local path), so publishing the
same build twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.layout import (
    CONFIG_DIRS,
    PAIRS_REPORT,
    PREFERENCES_DIR,
    RECORD_CONFIGS,
    DatasetLayout,
    dataset_parquet_files,
)
from corpus.store import read_json_object, write_json

CONFIG = "preferences"
#: pairs.json keys that differ between two minings of the same rows (or name this machine).
VOLATILE = ("seconds", "mining_seconds", "dataset")


def published_report(report: dict[str, Any]) -> dict[str, Any]:
    """pairs.json as published: without timings and the local dataset path."""
    out = {k: v for k, v in report.items() if k not in VOLATILE}
    if isinstance(out.get("model"), dict):
        out["model"] = {k: v for k, v in out["model"].items() if k != "seconds"}
    return out


def own_report(dataset: Path) -> dict[str, Any]:
    """The dataset's own pairs.json, vouching that its pairs were mined from its rows."""
    from pipelines.pairs.mine import data_hash

    f = Path(dataset) / PREFERENCES_DIR / PAIRS_REPORT
    if not f.is_file():
        raise BadInputError(f"{dataset}/{PREFERENCES_DIR}: no {PAIRS_REPORT}; rerun `corpus "
                            f"pairs {dataset} --out {dataset}`")  # fmt: skip
    report = read_json_object(f)
    config = report.get("config", "default")
    files = dataset_parquet_files(dataset, config) if config in RECORD_CONFIGS else []
    if not files or report.get("data_hash") != data_hash(files):
        raise BadInputError(
            f"{dataset}/{PREFERENCES_DIR}: mined from other rows than this build's; rerun "
            f"`corpus pairs {dataset} --out {dataset}` (or delete the folder to publish pairs "
            "mined with the defaults)"
        )
    return report


def mine_into(dataset: Path, folder: Path) -> dict[str, Any] | None:
    """Mine the default pairs of ``dataset``'s records into ``folder/preferences``; None when
    the build has no documented record (then it has no preferences config)."""
    from corpus.store import read_records
    from pipelines.pairs.mine import data_hash, documented, mine
    from pipelines.pairs.store import write_preferences

    records = documented(read_records(dataset).to_dicts())
    if not records:
        return None
    pairset = mine(records)
    if not pairset.pairs:
        return None
    pairset.report.update(config="default", include_tests=False, model=None,
                          data_hash=data_hash(dataset_parquet_files(dataset)))  # fmt: skip
    pairset.report = published_report(pairset.report)
    write_preferences(pairset, folder)
    return pairset.report


def _with_config(facts: Any, folder: Path, report: dict[str, Any]) -> Any:
    """``facts`` with the preferences config (rows and files read from ``folder``) and its
    report (``stats["preferences"]``, which the card's preferences section reads)."""
    import pyarrow.parquet as pq

    from corpus.layout import split_of_file_name
    from corpus.schema import SPLITS

    rows: dict[str, int] = {}
    files = DatasetLayout(folder).parquet_files(CONFIG)
    for f in files:
        split = split_of_file_name(f.name, SPLITS)
        if split is None:
            raise BadInputError(f"{f}: expected <split>-NNNNN-of-NNNNN.parquet")
        rows[split] = rows.get(split, 0) + pq.ParquetFile(f).metadata.num_rows
    return dataclasses.replace(
        facts,
        config_rows={**facts.config_rows, CONFIG: rows},
        config_files={**facts.config_files,
                      CONFIG: sorted(f.relative_to(folder).as_posix() for f in files)},
        stats={**facts.stats, CONFIG: report},
    )  # fmt: skip


def stage_preferences(dataset: Path, folder: Path, facts: Any) -> Any:
    """Put the preferences config into the staged ``folder`` (see the module docstring);
    returns the facts that list it. The dataset's own pairs were copied with its data."""
    if CONFIG in facts.config_rows:
        report = published_report(own_report(dataset))
        write_json(Path(folder) / PREFERENCES_DIR / PAIRS_REPORT, report)
        return dataclasses.replace(facts, stats={**facts.stats, CONFIG: report})
    report = mine_into(dataset, folder)
    return facts if report is None else _with_config(facts, folder, report)


@contextmanager
def card_view(dataset: Path, facts: Any) -> Iterator[tuple[Any, Path]]:
    """(facts with the preferences config, a folder its card's data files match): what
    `corpus card` renders and checks, the same card staging would make, nothing written to
    the dataset (mined pairs go to a temporary folder beside links to the dataset's data)."""
    dataset = Path(dataset)
    if CONFIG in facts.config_rows:
        yield stage_preferences_report(dataset, facts), dataset
        return
    with tempfile.TemporaryDirectory(prefix="corpus-card-") as tmp:
        view = Path(tmp)
        for config in RECORD_CONFIGS:
            if (dataset / CONFIG_DIRS[config]).is_dir():
                (view / CONFIG_DIRS[config]).symlink_to((dataset / CONFIG_DIRS[config]).resolve())
        report = mine_into(dataset, view)
        yield (facts if report is None else _with_config(facts, view, report)), view
        shutil.rmtree(view / PREFERENCES_DIR, ignore_errors=True)


def stage_preferences_report(dataset: Path, facts: Any) -> Any:
    """``facts`` with the dataset's own (checked) pairs report, nothing copied."""
    report = published_report(own_report(dataset))
    return dataclasses.replace(facts, stats={**facts.stats, CONFIG: report})

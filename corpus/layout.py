"""Every file and folder name the project writes, defined once, and the markers that vouch for them.

Three layouts:

- a **dataset folder** (what `corpus build` stages and `corpus publish` uploads)::

      data/{train,validation,test}-00000-of-00001.parquet       the default config: every record
      balanced/{train,validation,test}-00000-of-00001.parquet   the balanced config (a subset)
      [preferences/{split}-00000-of-00001.parquet, pairs.json]   pairs (`corpus pairs`)
      split_manifest.json   file -> split, read back by the next build (sticky splits)
      stats.json  falsification.json  falsification.md  sources.lock  [README.md]  [.build_key]

- an **extract folder** (`corpus extract`): ``records.parquet`` and ``stats.json``;
- an **output folder** (``--out`` of `corpus build` and `corpus rebuild`, the same layout)::

      shards/<owner>+<name>/<commit>-<extractor>.{parquet,stats.json,licenses.json,done}
                                                                  one per repository
      builds/<key>/{dataset/, rejects.parquet, .done, previous-split_manifest.json}
                                                                  one per candidate
      dataset/            the staged build (the last good one, for a rebuild)
      run/sources.toml    the pins the last run built
      history.jsonl       one record per build or rebuild
      build_config.json  build_report.json  [rejects.parquet]
      .corpus.lock        one writer at a time
      .corpus.workers.lock  share-locked by every pool worker for life (a rerun waits)
      .running.json       left by a run that has not finished (a killed run is noted by the next)

A **marker** is a small JSON file written last, after the files it vouches for: it records the
inputs that produced them and the sha256 and size of each file. A unit, candidate or staged
folder counts as done only when its marker's inputs are the ones asked for *and* every file
still has its recorded size and hash; anything else is redone, and :func:`check_marker` says why.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError

# --- a dataset folder ------------------------------------------------------------------------
DATA_DIR = "data"
BALANCED_DIR = "balanced"
#: Preference pairs mined from the records (`corpus pairs`), with pairs.json in the folder.
PREFERENCES_DIR = "preferences"
#: Their KTO view (unpaired), beside them; not a published config.
KTO_DIR = "kto"
PAIRS_REPORT = "pairs.json"
#: Configs of records (what the trainer, export and eval read as records).
RECORD_CONFIGS = ("default", "balanced")
#: Dataset configs and the folder of each (the card's ``configs``; load_dataset(name, config)):
#: the record configs, and ``preferences`` when a folder holds pairs.
CONFIG_DIRS = {"default": DATA_DIR, "balanced": BALANCED_DIR, "preferences": PREFERENCES_DIR}
SPLIT_MANIFEST = "split_manifest.json"
STATS_FILE = "stats.json"
FALSIFICATION_JSON = "falsification.json"
FALSIFICATION_MD = "falsification.md"
SOURCES_LOCK = "sources.lock"
CARD_FILE = "README.md"
BUILD_KEY_FILE = ".build_key"

# --- an extract folder -----------------------------------------------------------------------
RECORDS_FILE = "records.parquet"

# --- an output folder ------------------------------------------------------------------------
OUT_LOCK = ".corpus.lock"
#: Share-locked by every pool worker of a run for its whole life (corpus.lifetime).
WORKERS_LEASE = ".corpus.workers.lock"
RUNNING_FILE = ".running.json"
SHARDS_DIR = "shards"
BUILDS_DIR = "builds"
DATASET_DIR = "dataset"
HISTORY_FILE = "history.jsonl"
BUILD_CONFIG_FILE = "build_config.json"
BUILD_REPORT_FILE = "build_report.json"
REJECTS_FILE = "rejects.parquet"
RUN_SOURCES = "run/sources.toml"
MARKER_FILE = ".done"

_SPLIT_FILE = re.compile(r"([a-z]+)-(\d{5})-of-(\d{5})\.parquet")


def dataset_base(dataset: Path) -> Path:
    """The folder of a dataset path: the path itself, or a file's folder (where stats.json,
    sources.lock and the reports sit beside it)."""
    dataset = Path(dataset)
    return dataset.parent if dataset.is_file() else dataset


def dataset_parquet_files(path: Path, config: str = "default") -> list[Path]:
    """The parquet files behind a dataset path (file, extract dir or dataset dir; a dataset
    dir's ``config``: ``data/`` for the default, ``balanced/`` for the balanced one).

    Raises BadInputError when the path is missing or holds no dataset.
    """
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"{path}: no such file or directory")
    if config not in RECORD_CONFIGS:
        raise BadInputError(f"config {config!r}: choose one of {', '.join(RECORD_CONFIGS)}")
    if path.is_file() or (path / RECORDS_FILE).is_file():
        if config != "default":
            raise BadInputError(f"{path}: an extract has no {config!r} config")
        return [path if path.is_file() else path / RECORDS_FILE]
    files = sorted((path / CONFIG_DIRS[config]).glob("*.parquet"))
    if not files:
        raise BadInputError(
            f"{path}: no dataset here (expected {RECORDS_FILE} or {CONFIG_DIRS[config]}/*.parquet)"
        )
    return files


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?$")


def check_dataset_spec(spec: str, config: str = "default") -> Path | None:
    """The local dataset path ``spec`` names (its parquet files must be there), or None for a
    Hub id ``ORG/NAME[@revision]``; BadInputError for anything else. Cheap: nothing is read."""
    if not spec:
        raise BadInputError("no dataset: pass --data DIR (a corpus build output) or ORG/NAME@rev")
    path = Path(spec).expanduser()
    if path.exists():
        dataset_parquet_files(path, config)
        return path
    if not _HUB_ID.match(spec):
        raise BadInputError(f"{spec}: no such local dataset, and not a Hub id ORG/NAME[@revision]")
    return None


def split_file_name(split: str) -> str:
    """``train`` -> ``train-00000-of-00001.parquet`` (one file per split)."""
    return f"{split}-00000-of-00001.parquet"


def split_of_file_name(name: str, splits: tuple[str, ...]) -> str | None:
    """``train-00000-of-00001.parquet`` -> ``train``; None for any other name."""
    m = _SPLIT_FILE.fullmatch(name)
    return m.group(1) if m and m.group(1) in splits else None


@dataclass(frozen=True)
class DatasetLayout:
    """The files of one dataset folder."""

    root: Path

    @property
    def data_dir(self) -> Path:
        """``data/``: one parquet file per split."""
        return self.root / DATA_DIR

    def split_file(self, split: str) -> Path:
        """The parquet file of ``split``."""
        return self.data_dir / split_file_name(split)

    def parquet_files(self, config: str = "default") -> list[Path]:
        """Every parquet file of a config (``data/*.parquet`` for the default), by name."""
        return sorted((self.root / CONFIG_DIRS[config]).glob("*.parquet"))

    def configs(self) -> list[str]:
        """The configs this folder holds (default first)."""
        return [c for c in CONFIG_DIRS if self.parquet_files(c)]

    @property
    def split_manifest(self) -> Path:
        """``split_manifest.json``: which split every file is in."""
        return self.root / SPLIT_MANIFEST

    @property
    def stats(self) -> Path:
        """``stats.json``: counts, drops, filters, splits."""
        return self.root / STATS_FILE

    @property
    def falsification_json(self) -> Path:
        """``falsification.json``: the suite's report."""
        return self.root / FALSIFICATION_JSON

    @property
    def falsification_md(self) -> Path:
        """``falsification.md``: the report for people."""
        return self.root / FALSIFICATION_MD

    @property
    def sources_lock(self) -> Path:
        """``sources.lock``: the pins the rows were read at."""
        return self.root / SOURCES_LOCK

    @property
    def card(self) -> Path:
        """``README.md``: the dataset card (staged folders only)."""
        return self.root / CARD_FILE

    @property
    def build_key(self) -> Path:
        """``.build_key``: which candidate a staged folder is, as a marker."""
        return self.root / BUILD_KEY_FILE

    def published_files(self) -> list[Path]:
        """What a build publishes besides the card: data, reports, pins, the split manifest."""
        extra = [self.stats, self.falsification_json, self.falsification_md, self.sources_lock,
                 self.split_manifest]  # fmt: skip
        data = [f for c in CONFIG_DIRS for f in self.parquet_files(c)]
        return data + [p for p in extra if p.is_file()]


@dataclass(frozen=True)
class ShardPaths:
    """The shard of one repository at one pin and extractor version."""

    dir: Path
    stem: str

    @property
    def parquet(self) -> Path:
        """The repository's records."""
        return self.dir / f"{self.stem}.parquet"

    @property
    def stats(self) -> Path:
        """The repository's extraction stats."""
        return self.dir / f"{self.stem}.stats.json"

    @property
    def licenses(self) -> Path:
        """The repository's licences detected at the pin (``corpus.licenses``)."""
        return self.dir / f"{self.stem}.licenses.json"

    @property
    def marker(self) -> Path:
        """Written last: the unit's inputs and the checksums of the three files above."""
        return self.dir / f"{self.stem}.done"

    @property
    def outputs(self) -> tuple[Path, Path, Path]:
        """The files the marker vouches for."""
        return (self.parquet, self.stats, self.licenses)


@dataclass(frozen=True)
class CandidatePaths:
    """One filtered, deduplicated, split (and then falsified) candidate dataset."""

    root: Path

    @property
    def key(self) -> str:
        """The hash of everything the candidate was made from."""
        return self.root.name

    @property
    def dataset(self) -> DatasetLayout:
        """The candidate dataset folder."""
        return DatasetLayout(self.root / DATASET_DIR)

    @property
    def rejects(self) -> Path:
        """Every dropped record with its reason."""
        return self.root / REJECTS_FILE

    @property
    def marker(self) -> Path:
        """Written last: the key and the checksums of the candidate's files."""
        return self.root / MARKER_FILE

    @property
    def previous_manifest(self) -> Path:
        """The split manifest of the build before (what falsification checks nothing moved
        against); absent for a first build."""
        return self.root / f"previous-{SPLIT_MANIFEST}"

    def outputs(self) -> list[Path]:
        """The files the marker vouches for (not the falsification report: written after)."""
        ds = self.dataset
        data = [f for c in CONFIG_DIRS for f in ds.parquet_files(c)]
        prev = [self.previous_manifest] if self.previous_manifest.is_file() else []
        return [*data, ds.stats, ds.sources_lock, ds.split_manifest, self.rejects, *prev]


@dataclass(frozen=True)
class OutLayout:
    """An output folder shared by `corpus build` and `corpus rebuild`."""

    root: Path

    @property
    def lock(self) -> Path:
        """The one-writer lock."""
        return self.root / OUT_LOCK

    @property
    def running(self) -> Path:
        """Present while a run has not finished."""
        return self.root / RUNNING_FILE

    @property
    def dataset(self) -> DatasetLayout:
        """The staged build."""
        return DatasetLayout(self.root / DATASET_DIR)

    @property
    def history(self) -> Path:
        """One JSON line per run."""
        return self.root / HISTORY_FILE

    @property
    def build_config(self) -> Path:
        """The full config of the last run."""
        return self.root / BUILD_CONFIG_FILE

    @property
    def build_report(self) -> Path:
        """Per-stage timings and work of the last run."""
        return self.root / BUILD_REPORT_FILE

    @property
    def rejects(self) -> Path:
        """``--write-rejects``: the last candidate's rejects."""
        return self.root / REJECTS_FILE

    @property
    def run_sources(self) -> Path:
        """The pins the last run built."""
        return self.root / RUN_SOURCES

    @property
    def builds_dir(self) -> Path:
        """Every candidate, by key."""
        return self.root / BUILDS_DIR

    def shard(self, repo: str, commit: str, extractor_version: str) -> ShardPaths:
        """The shard of ``repo`` (owner/name) at ``commit``."""
        owner, name = repo.split("/", 1)
        return ShardPaths(
            self.root / SHARDS_DIR / f"{owner}+{name}", f"{commit}-{extractor_version}"
        )

    def candidate(self, key: str) -> CandidatePaths:
        """The candidate built from inputs hashing to ``key``."""
        return CandidatePaths(self.builds_dir / key)


# --- markers -------------------------------------------------------------------------------------


def file_digest(path: Path) -> dict[str, Any]:
    """``{"sha256": hex, "size": bytes}`` of one file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return {"sha256": h.hexdigest(), "size": size}


def marker_text(inputs: dict[str, Any], files: list[Path] | tuple[Path, ...], base: Path) -> str:
    """The marker's JSON: the inputs, and each file (relative to ``base``) with its digest."""
    digests = {p.relative_to(base).as_posix(): file_digest(p) for p in sorted(files)}
    return json.dumps({"inputs": inputs, "files": digests}, sort_keys=True, indent=1) + "\n"


def write_marker(
    marker: Path, inputs: dict[str, Any], files: list[Path] | tuple[Path, ...], base: Path
) -> None:
    """Write ``marker`` (atomically) vouching for ``files`` as produced from ``inputs``."""
    from corpus.store import write_bytes_atomic

    write_bytes_atomic(marker, marker_text(inputs, files, base).encode("utf-8"))


def check_marker(marker: Path, inputs: dict[str, Any], base: Path) -> str | None:
    """None when ``marker`` vouches for ``inputs`` and its files are intact; else why not.

    ``"missing"`` when there is no marker (nothing to report: the work was never done).
    """
    try:
        data = json.loads(Path(marker).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return f"{marker.name} is not a readable marker"
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return f"{marker.name} is not a readable marker"
    if data.get("inputs") != inputs:
        return "its inputs changed"
    for rel, want in sorted(data["files"].items()):
        path = base / rel
        try:
            size = path.stat().st_size
        except OSError:
            return f"{rel} is missing"
        if not isinstance(want, dict) or size != want.get("size"):
            return f"{rel} has {size} bytes, the marker recorded {want.get('size')}"
        if file_digest(path)["sha256"] != want.get("sha256"):
            return f"{rel} does not match the sha256 its marker recorded"
    return None

"""Stage a build for the Hub: exactly the files to upload, with a rendered, validated card.

Layout of a staged folder (and of the Hub repo)::

    data/{train,validation,test}-NNNNN-of-NNNNN.parquet
    README.md           the dataset card
    falsification.json  falsification.md  stats.json  sources.lock  split_manifest.json

Staging is two steps: :func:`prepare` copies the data and reports and proves the folder loads
with ``datasets.load_dataset`` (the slow part, done once per publish), and :func:`write_card`
renders and validates the card for a given tag (cheap, redone when the tag changes).
:func:`stage_dataset` does both in a temporary folder beside ``out_dir`` and renames it into
place only when both succeeded, so a failed stage never leaves a half-written folder.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from corpus.errors import BadInputError
from corpus.layout import (
    CARD_FILE,
    CONFIG_DIRS,
    DATA_DIR,
    FALSIFICATION_JSON,
    FALSIFICATION_MD,
    RECORD_CONFIGS,
    SOURCES_LOCK,
    SPLIT_MANIFEST,
    STATS_FILE,
    DatasetLayout,
)
from corpus.store import write_bytes_atomic
from falsification.report import gate, read_report
from pipelines.publish.card import PLACEHOLDER_REPO_ID, CardFacts, collect_facts, render_card
from pipelines.publish.preferences import card_view, stage_preferences
from pipelines.publish.validate import check_card, check_loads

#: Top-level names publish manages in a Hub repo; anything else there is left alone.
MANAGED_FILES = (CARD_FILE, FALSIFICATION_JSON, FALSIFICATION_MD, STATS_FILE, SOURCES_LOCK,
                 SPLIT_MANIFEST)  # fmt: skip
SHORT_HASH_LEN = 12


def is_managed(path: str) -> bool:
    """Whether a repo path belongs to the published build (and may be replaced or deleted)."""
    return path in MANAGED_FILES or any(path.startswith(f"{d}/") for d in CONFIG_DIRS.values())


def content_hash(dataset: Path) -> str:
    """sha256 over the data files (relative path and sha256 of each), in path order.

    Card, reports and pins are left out: the hash names a set of rows, so rebuilding the same
    rows gives the same hash and the rebuild can tell "nothing to publish".
    """
    layout = DatasetLayout(Path(dataset))
    if not layout.parquet_files():
        raise BadInputError(f"{dataset}: no {DATA_DIR}/*.parquet to hash")
    h = hashlib.sha256()
    for config in RECORD_CONFIGS:  # rows only: pairs are derived from them
        folder = CONFIG_DIRS[config]
        for f in layout.parquet_files(config):
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            h.update(f"{folder}/{f.name}\0{digest}\n".encode())
    return h.hexdigest()


def build_tag(chash: str, day: date | None = None) -> str:
    """``v2026.11.21-<first 12 hex of the content hash>``."""
    day = day or datetime.now(UTC).date()
    return f"v{day.year:04d}.{day.month:02d}.{day.day:02d}-{chash[:SHORT_HASH_LEN]}"


def require_pass(dataset: Path, force: bool) -> bool:
    """The publish gate on a dataset folder (see ``falsification.report.gate``)."""
    return gate(read_report(dataset), force, str(dataset))


def _check_out_dir(out_dir: Path) -> None:
    """Only an empty folder or an earlier staging may be replaced: never lose user files."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise BadInputError(f"{out_dir}: exists and is not a folder")
    foreign = [
        p.name for p in out_dir.iterdir() if p.name not in (*MANAGED_FILES, *CONFIG_DIRS.values())
    ]
    if foreign:
        raise BadInputError(
            f"{out_dir}: not empty and not a staged dataset (has {', '.join(sorted(foreign))}); "
            "choose another --out"
        )


@dataclass(frozen=True)
class Staged:
    """A dataset copied for upload, its card not yet written."""

    folder: Path
    facts: CardFacts
    forced: bool


def prepare(dataset: Path, folder: Path, force: bool, *, check_load: bool = True) -> Staged:
    """Gate ``dataset``, copy its data and reports into the new folder ``folder``, check the
    copy loads with ``datasets`` with the right split sizes."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise BadInputError(f"{dataset}: no such dataset folder")
    forced = require_pass(dataset, force)
    facts = collect_facts(dataset)
    folder.mkdir(parents=True)
    for files in facts.config_files.values():
        for rel in files:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dataset / rel, folder / rel)
    # The report for people travels with the rows it judges (the card links to it).
    for name in (FALSIFICATION_JSON, FALSIFICATION_MD, STATS_FILE, SOURCES_LOCK, SPLIT_MANIFEST):
        if (dataset / name).is_file():
            shutil.copyfile(dataset / name, folder / name)
    facts = stage_preferences(dataset, folder, facts)  # the `preferences` config (pairs)
    if check_load:
        for config, rows in facts.config_rows.items():
            check_loads(folder, rows, config)
    return Staged(folder, facts, forced)


def write_card(staged: Staged, *, repo_id: str | None, tag: str) -> None:
    """Render the card for ``tag`` into the staged folder, validated as the Hub would."""
    card = render_card(
        staged.facts, repo_id=repo_id or PLACEHOLDER_REPO_ID, tag=tag, forced=staged.forced
    )
    check_card(card, staged.folder)
    write_bytes_atomic(staged.folder / CARD_FILE, card.encode("utf-8"))


def stage_dataset(
    dataset: Path,
    out_dir: Path,
    force: bool = False,
    *,
    repo_id: str | None = None,
    tag: str | None = None,
    check_load: bool = True,
) -> Path:
    """Stage ``dataset`` for upload in ``out_dir``; returns ``out_dir``.

    Refuses a build whose falsification did not PASS unless ``force`` (the card then opens
    with a warning). ``tag`` defaults to today's build tag; ``repo_id`` only appears on the card.
    """
    from corpus.store import swap_dir

    out_dir = Path(out_dir)
    _check_out_dir(out_dir)

    def fill(tmp: Path) -> None:
        staged = prepare(dataset, tmp / "stage", force, check_load=check_load)
        write_card(staged, repo_id=repo_id, tag=tag or build_tag(content_hash(dataset)))
        for item in staged.folder.iterdir():
            item.rename(tmp / item.name)
        staged.folder.rmdir()

    # The one folder-swap mechanism: a kill at any point leaves the old staging or the new one.
    swap_dir(out_dir, fill)
    return out_dir


def card_text(dataset: Path, *, repo_id: str | None = None, tag: str | None = None) -> str:
    """The dataset card ``corpus publish`` would upload for ``dataset``, validated as the Hub
    would validate it. Not gated: a build that did not PASS gets the card's warning banner."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise BadInputError(f"{dataset}: no such dataset folder")
    report = read_report(dataset)
    forced = report is None or bool(report.problems()) or report.verdict != "PASS"
    with card_view(dataset, collect_facts(dataset)) as (facts, folder):  # + preferences
        text = render_card(
            facts,
            repo_id=repo_id or PLACEHOLDER_REPO_ID,
            tag=tag or build_tag(content_hash(dataset)),
            forced=forced,
        )
        check_card(text, folder)
    return text

"""Stage a build for the Hub: exactly the files to upload, with a rendered, validated card.

Layout of a staged folder (and of the Hub repo)::

    data/{train,validation,test}-NNNNN-of-NNNNN.parquet
    README.md           the dataset card
    falsification.json  stats.json  sources.lock

Staging happens in a temporary folder beside ``out_dir`` and is renamed into place only after
the card validated and ``datasets.load_dataset`` read the folder back with the right split
sizes, so a failed stage never leaves a half-written folder.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from corpus.errors import BadInputError, CorpusError
from corpus.publish.card import (
    CARD_FILE,
    PLACEHOLDER_REPO_ID,
    SOURCES_LOCK,
    collect_facts,
    render_card,
    verdict_of,
)
from corpus.publish.validate import check_card, check_loads
from corpus.store import (
    DATA_DIR,
    FALSIFICATION_FILE,
    STATS_FILE,
    read_json_object,
    write_bytes_atomic,
)

#: Top-level names publish manages in a Hub repo; anything else there is left alone.
MANAGED_FILES = (CARD_FILE, FALSIFICATION_FILE, STATS_FILE, SOURCES_LOCK)
SHORT_HASH_LEN = 12


def is_managed(path: str) -> bool:
    """Whether a repo path belongs to the published build (and may be replaced or deleted)."""
    return path in MANAGED_FILES or path.startswith(f"{DATA_DIR}/")


def content_hash(dataset: Path) -> str:
    """sha256 over the data files (relative path and sha256 of each), in path order.

    Card, reports and pins are left out: the hash names a set of rows, so rebuilding the same
    rows gives the same hash and the rebuild can tell "nothing to publish".
    """
    files = sorted((Path(dataset) / DATA_DIR).glob("*.parquet"))
    if not files:
        raise BadInputError(f"{dataset}: no {DATA_DIR}/*.parquet to hash")
    h = hashlib.sha256()
    for f in files:
        h.update(f"{DATA_DIR}/{f.name}\0{hashlib.sha256(f.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


def build_tag(chash: str, day: date | None = None) -> str:
    """``v2026.11.21-<first 12 hex of the content hash>``."""
    day = day or datetime.now(UTC).date()
    return f"v{day.year:04d}.{day.month:02d}.{day.day:02d}-{chash[:SHORT_HASH_LEN]}"


def falsification_verdict(dataset: Path) -> tuple[str, str]:
    """(verdict, human description) of a dataset's falsification.json; MISSING if absent."""
    path = Path(dataset) / FALSIFICATION_FILE
    if not path.is_file():
        return "MISSING", "no falsification.json (run `corpus falsify` first)"
    report = read_json_object(path)
    verdict = verdict_of(report)
    return (
        verdict,
        f"verdict {verdict}, score {report.get('score', '?')}/{report.get('max_score', 100)}",
    )


def require_pass(dataset: Path, force: bool) -> bool:
    """Refuse a build whose falsification did not PASS unless ``force``; True when forced."""
    verdict, described = falsification_verdict(dataset)
    if verdict == "PASS":
        return False
    if not force:
        raise CorpusError(
            f"{dataset}: falsification did not pass ({described}); refusing to publish. "
            "Fix the corpus, or pass --force to publish it with a warning on the card."
        )
    return True


def _check_out_dir(out_dir: Path) -> None:
    """Only an empty folder or an earlier staging may be replaced: never lose user files."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise BadInputError(f"{out_dir}: exists and is not a folder")
    foreign = [p.name for p in out_dir.iterdir() if p.name not in (*MANAGED_FILES, DATA_DIR)]
    if foreign:
        raise BadInputError(
            f"{out_dir}: not empty and not a staged dataset (has {', '.join(sorted(foreign))}); "
            "choose another --out"
        )


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
    dataset, out_dir = Path(dataset), Path(out_dir)
    if not dataset.is_dir():
        raise BadInputError(f"{dataset}: no such dataset folder")
    forced = require_pass(dataset, force)
    _check_out_dir(out_dir)
    facts = collect_facts(dataset)
    tag = tag or build_tag(content_hash(dataset))
    card = render_card(facts, repo_id=repo_id or PLACEHOLDER_REPO_ID, tag=tag, forced=forced)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        (tmp / DATA_DIR).mkdir()
        for files in facts.split_files.values():
            for rel in files:
                shutil.copyfile(dataset / rel, tmp / rel)
        for name in (FALSIFICATION_FILE, STATS_FILE, SOURCES_LOCK):
            if (dataset / name).is_file():
                shutil.copyfile(dataset / name, tmp / name)
        write_bytes_atomic(tmp / CARD_FILE, card.encode("utf-8"))
        check_card(card, tmp)
        if check_load:
            check_loads(tmp, facts.split_rows)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out_dir

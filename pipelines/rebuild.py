"""`corpus rebuild`: a scheduled, incremental, locked rebuild that never publishes a failing build.

One run, under an exclusive lock on ``<out>/.corpus.lock`` (shared with `corpus build`):

1. pins: with ``update_pins`` every pin moves to its branch tip (``git ls-remote``, the code of
   `corpus sources update`); the pins this run builds are written to ``<out>/run/sources.toml``.
   The ``--sources`` file is **not** rewritten by default: it is the list of repositories and
   their licences (and, in the package, read-only). The pins of the last good build live in
   ``<out>/dataset/sources.lock``; ``write_sources`` also copies them back into the
   ``--sources`` file, and only once the build PASSed.
2. build: ``pipelines.build.build`` into ``<out>/work`` (shards keyed by commit and extractor
   version, so only repositories whose pin moved are re-extracted; filter, split and
   falsification rerun when any shard changed).
3. gate: a PASS candidate is promoted to ``<out>/dataset`` (the last good build) and, with
   ``push``, published when its rows differ from the Hub's newest build tag. A WARN or FAIL
   candidate stays where the build left it (``<out>/work/builds/<key>/dataset``, with
   ``falsification.md``), ``<out>/dataset`` and the Hub are left alone, and the run says why.
4. history: one JSON line appended to ``<out>/history.jsonl`` (see ``pipelines.history``).

Crash safety: every stage writes atomically or behind a completion marker; ``<out>/dataset``
is replaced by renames (``_promote``) and a run killed between them is repaired by the next
one (``_recover``). A run that never finished leaves ``<out>/.rebuild-running.json``; the next
run notes it in its history record as ``recovered``.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.errors import BadInputError, CorpusError, ExitCode
from corpus.paths import DEFAULT_OUT
from corpus.store import DATA_DIR, FALSIFICATION_FILE, read_json, read_json_object, write_json
from pipelines.history import append_record, dataset_changes, history_path
from pipelines.locking import OUT_LOCK, output_lock

if TYPE_CHECKING:
    from corpus.sources import Source

LOCK_FILE = OUT_LOCK
RUNNING_FILE = ".rebuild-running.json"
WORK_DIR = "work"
RUN_SOURCES = Path("run") / "sources.toml"
DATASET_DIR = "dataset"
BUILD_KEY_FILE = ".build_key"


@dataclass(frozen=True)
class RebuildConfig:
    """What a scheduled rebuild does (no token here: it comes from HF_TOKEN or the login)."""

    out: Path = DEFAULT_OUT
    sources_file: Path | None = None
    cache_dir: Path | None = None
    update_pins: bool = True
    write_sources: bool = False
    push: bool = False
    repo_id: str | None = None
    private: bool = False
    workers: int = 0
    executor: str = "local"
    address: str | None = None
    include_tests: bool = False
    max_repo_share: float = 0.4
    retries: int = 3

    def to_json(self) -> dict[str, Any]:
        """JSON-able config (paths as strings)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


@dataclass
class RebuildResult:
    """The run's history record, its exit code and a one-paragraph summary for the user."""

    record: dict[str, Any]
    exit_code: ExitCode
    message: str
    dataset: Path | None = None
    candidate: Path | None = None
    messages: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- the last good build


def _recover(out: Path) -> None:
    """Undo what a killed ``_promote`` left: restore the last good dataset, drop temp copies."""
    dest = out / DATASET_DIR
    olds = sorted(out.glob(f".{DATASET_DIR}.old-*"), key=lambda p: p.stat().st_mtime)
    if not dest.exists() and olds:
        olds.pop().rename(dest)  # killed between the two renames: the old one is still good
    for stale in [*olds, *out.glob(f".{DATASET_DIR}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def _promote(candidate: Path, key: str, out: Path) -> tuple[Path, bool]:
    """Make ``candidate`` the last good build at ``<out>/dataset`` (renames, never half-copied)."""
    dest = out / DATASET_DIR
    marker = dest / BUILD_KEY_FILE
    if marker.is_file() and marker.read_text() == key:
        return dest, False
    tmp = out / f".{DATASET_DIR}.tmp-{key}"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(candidate, tmp)
    (tmp / BUILD_KEY_FILE).write_text(key)
    old = out / f".{DATASET_DIR}.old-{key}"
    if dest.exists():
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
    tmp.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest, True


def last_good(out: Path) -> Path | None:
    """``<out>/dataset`` when it holds a build, else None."""
    dest = Path(out) / DATASET_DIR
    return dest if (dest / DATA_DIR).is_dir() else None


# --------------------------------------------------------------------------- pieces of a run


def merge_built_pins(current: list[Source], built: list[Source]) -> list[Source]:
    """``current`` (the sources file as it is now) with the pins of ``built`` (what this run
    built) moved in, where the repository's url and branch still match; everything else, an
    entry added or edited meanwhile included, stays as it is."""
    by_repo = {s.repo: s for s in built}
    return [
        replace(c, commit=by_repo[c.repo].commit)
        if c.repo in by_repo and (c.url, c.branch) == (by_repo[c.repo].url, by_repo[c.repo].branch)
        else c
        for c in current
    ]


def _pins(sources: list[Any]) -> dict[str, str]:
    return {s.repo: s.commit for s in sources}


def _pins_before(out: Path, sources: list[Any]) -> dict[str, str]:
    """The pins of the last good build (its sources.lock), else those of the sources file."""
    from corpus.sources import load_sources

    good = last_good(out)
    lock = good / "sources.lock" if good else None
    if lock is not None and lock.is_file():
        try:
            return _pins(load_sources(lock))
        except CorpusError:
            pass  # an unreadable lock only costs the "before" column
    return _pins(sources)


def _failed_checks(candidate: Path) -> list[str]:
    """Failed check ids of a candidate's falsification report, critical ones first."""
    path = candidate / FALSIFICATION_FILE
    if not path.is_file():
        return []
    checks = [c for c in read_json_object(path).get("checks", []) if not c.get("passed")]
    checks.sort(key=lambda c: (c.get("severity") != "critical", c.get("id", "")))
    return [c.get("id", "?") for c in checks]


def _run_build(config: RebuildConfig, work: Path, sources_file: Path) -> dict[str, Any]:
    """Build into ``work``; returns its build_report.json (also when falsification FAILed)."""
    from pipelines.build import BUILD_REPORT_FILE, BuildConfig, build

    report_file = work / BUILD_REPORT_FILE
    # build() writes its report only when it gets as far as the gate: a stale one from an
    # earlier run must not be mistaken for this run's.
    report_file.unlink(missing_ok=True)
    bconf = BuildConfig(
        out=work,
        cache_dir=config.cache_dir,
        sources_file=sources_file,
        workers=config.workers,
        executor=config.executor,
        address=config.address,
        include_tests=config.include_tests,
        max_repo_share=config.max_repo_share,
    )
    try:
        build(bconf)
    except CorpusError:
        report = read_json(report_file) if report_file.is_file() else None
        refused = (report or {}).get("stages", {}).get("stage", {}).get("refused")
        if not refused:
            raise  # a stage failed (clone, extraction, bad input): not a verdict
        return report  # type: ignore[return-value]
    return read_json(report_file)


def _hub_latest(repo_id: str) -> str | None:
    """The newest build tag on the Hub, or None (also when the Hub cannot be asked)."""
    from corpus.publish import latest_build_tag

    try:
        tag = latest_build_tag(repo_id)
    except CorpusError:
        return None
    return tag.name if tag else None


# --------------------------------------------------------------------------- the run


def rebuild(config: RebuildConfig) -> RebuildResult:
    """Run one scheduled rebuild (see the module docstring).

    Raises ``LockedError`` at once when another build or rebuild holds ``<out>/.corpus.lock``,
    ``CorpusError`` when a stage fails (after recording the run in the history).
    """
    if config.push and not config.repo_id:
        raise BadInputError("--push needs --repo-id ORG/NAME")
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    with output_lock(out, "rebuild"):
        return _locked_run(config, out)


def _locked_run(config: RebuildConfig, out: Path) -> RebuildResult:
    t0 = time.perf_counter()
    record: dict[str, Any] = {
        "started_at": _now(),
        "update_pins": config.update_pins,
        "push": config.push,
        "repo_id": config.repo_id,
    }
    running = out / RUNNING_FILE
    if running.is_file():
        try:
            record["recovered"] = read_json(running)
        except (CorpusError, ValueError, OSError):
            record["recovered"] = {"started_at": None}
    write_json(running, {"started_at": record["started_at"], "pid": os.getpid()})
    _recover(out)
    try:
        result = _run(config, out, record)
    except CorpusError as exc:
        record.update(exit_code=int(exc.exit_code), error=str(exc), reason=str(exc))
        _finish(out, record, t0)
        raise
    except Exception as exc:
        record.update(exit_code=int(ExitCode.FAILURE), error=f"{type(exc).__name__}: {exc}"[:2000])
        _finish(out, record, t0)
        raise
    record["exit_code"] = int(result.exit_code)
    _finish(out, record, t0)
    return result


def _finish(out: Path, record: dict[str, Any], t0: float) -> None:
    record["ended_at"] = _now()
    record["duration_s"] = round(time.perf_counter() - t0, 3)
    append_record(history_path(out), record)
    (out / RUNNING_FILE).unlink(missing_ok=True)


def _run(config: RebuildConfig, out: Path, record: dict[str, Any]) -> RebuildResult:
    from corpus.publish import content_hash
    from corpus.sources import load_sources, update_pins, write_sources

    sources = load_sources(config.sources_file)
    before = _pins_before(out, sources)
    if config.update_pins:
        from corpus.clone import branch_tip

        sources, _ = update_pins(sources, lambda s: branch_tip(s, retries=config.retries))
    after = _pins(sources)
    record["pins_before"] = before
    record["pins_after"] = after
    record["moved"] = sorted(r for r, sha in after.items() if before.get(r) != sha)
    run_sources = out / RUN_SOURCES
    write_sources(run_sources, sources)

    work = out / WORK_DIR
    report = _run_build(config, work, run_sources)
    stages = report.get("stages", {})
    key = stages["filter_split"]["key"]
    candidate = work / "builds" / key / DATASET_DIR
    falsification = read_json_object(candidate / FALSIFICATION_FILE)
    verdict = falsification.get("verdict", "FAIL")
    score = falsification.get("score")
    previous = last_good(out)
    chash = content_hash(candidate)
    record.update(
        extracted=sorted(stages.get("clone_extract", {}).get("ran", [])),
        build_key=key,
        candidate=str(candidate),
        verdict=verdict,
        score=score,
        content_hash=chash,
        changes=dataset_changes(previous, candidate),
        published=False,
        tag=None,
    )

    if verdict != "PASS":
        failed = _failed_checks(candidate)
        kept = f"kept the last good build {previous}" if previous else "there is no good build yet"
        if config.push and config.repo_id:
            latest = _hub_latest(config.repo_id)
            record["hub_latest"] = latest
            kept += f"; the Hub's latest build stays {latest}" if latest else ""
        reason = (
            f"falsification {verdict} (score {score}/100; failed: {', '.join(failed) or '?'}): "
            f"not published, {kept}. The candidate is kept for inspection at {candidate} "
            "(see falsification.md)."
        )
        record["reason"] = reason
        code = ExitCode.WARN if verdict == "WARN" else ExitCode.FAILURE
        return RebuildResult(record, code, reason, previous, candidate)

    old_hash = content_hash(previous) if previous else None
    dataset, promoted = _promote(candidate, key, out)
    record["promoted"] = promoted
    if config.write_sources and config.sources_file is not None:
        # Merge the built pins into the file as it is now: entries added or edited while this
        # run was building stay as they are; a pin moves only where url and branch still match.
        current = load_sources(config.sources_file)
        merged = merge_built_pins(current, sources)
        if merged != current:
            write_sources(Path(config.sources_file), merged)
            record["sources_written"] = str(config.sources_file)

    if not config.push:
        changed = "changed" if old_hash != chash else "unchanged"
        record["reason"] = f"rows {changed}; publishing not requested (no --push)"
        return RebuildResult(record, ExitCode.OK, record["reason"], dataset, candidate)

    from corpus.publish import latest_build_tag, needs_publish, publish_dataset

    assert config.repo_id is not None
    # The Hub, not the local folder, decides: a run whose push failed after promoting must
    # still publish on the next run, even though the local rows no longer change.
    if not needs_publish(dataset, config.repo_id):
        latest = latest_build_tag(config.repo_id)
        tag = latest.name if latest else None
        record["hub_latest"] = tag
        record["reason"] = f"unchanged: the Hub's latest build {tag} already holds these rows"
        return RebuildResult(record, ExitCode.OK, record["reason"], dataset, candidate)
    res = publish_dataset(dataset, config.repo_id, private=config.private)
    record.update(published=True, tag=res.tag, hub_commit=res.commit_sha, url=res.url, reason=None)
    record["hub_latest"] = res.tag
    message = f"published {config.repo_id} as {res.tag} ({res.url})"
    return RebuildResult(record, ExitCode.OK, message, dataset, candidate)

"""`corpus rebuild`: a scheduled, incremental, locked rebuild that never publishes a failing build.

A rebuild is a build (``pipelines.build.run_build``, on the same output folder layout) plus pin
updates, a publish decision and a richer history record. One run, under the output folder's
lock (shared with `corpus build`):

1. pins: with ``update_pins`` every pin moves to its branch tip (``git ls-remote``, the code of
   `corpus sources update`); the pins this run builds are written to ``<out>/run/sources.toml``.
   The ``--sources`` file is **not** rewritten by default: it is the list of repositories and
   their licences (and, in the package, read-only). The pins of the last good build live in
   ``<out>/dataset/sources.lock``; ``write_sources`` also copies them back into the
   ``--sources`` file, and only once the build PASSed.
2. build: shards are keyed by commit and extractor version, so only repositories whose pin
   moved are re-extracted (a `corpus build` on the same folder counts: nothing is redone).
3. gate: only a PASS candidate is staged to ``<out>/dataset`` (the last good build) and, with
   ``push``, published when its rows differ from the Hub's newest build tag. A WARN or FAIL
   candidate stays in ``<out>/builds/<key>/dataset`` (read its ``falsification.md``);
   ``<out>/dataset`` and the Hub are left alone, and the run says why.
4. history: one JSON line appended to ``<out>/history.jsonl`` (``pipelines.history``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.defaults import NETWORK_RETRIES
from corpus.errors import CorpusError, ExitCode
from corpus.layout import OutLayout
from pipelines.build import BuildConfig, BuildResult

if TYPE_CHECKING:
    from corpus.sources import Source


@dataclass(frozen=True)
class RebuildConfig:
    """What a scheduled rebuild does: a build, plus pin updates (no token here: it comes from
    HF_TOKEN or the login)."""

    build: BuildConfig = field(default_factory=BuildConfig)
    update_pins: bool = True
    write_sources: bool = False
    retries: int = NETWORK_RETRIES

    def to_json(self) -> dict[str, Any]:
        """JSON-able config (paths as strings)."""
        return {**asdict(self), "build": self.build.to_json()}


@dataclass
class RebuildResult:
    """The run's history record, its exit code and a one-paragraph summary for the user."""

    record: dict[str, Any]
    exit_code: ExitCode
    message: str
    build: BuildResult | None = None


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


def _pins_before(layout: OutLayout, sources: list[Any]) -> dict[str, str]:
    """The pins of the staged build (its sources.lock), else those of the sources file."""
    from corpus.sources import load_sources

    lock = layout.dataset.sources_lock
    if lock.is_file():
        try:
            return _pins(load_sources(lock))
        except CorpusError:
            pass  # an unreadable lock only costs the "before" column
    return _pins(sources)


def _move_pins(config: RebuildConfig, layout: OutLayout, record: dict[str, Any]) -> list[Source]:
    """The sources this run builds (pins moved to their branch tips with ``update_pins``)."""
    from corpus.sources import load_sources, update_pins, write_sources

    sources = load_sources(config.build.sources_file)
    before = _pins_before(layout, sources)
    if config.update_pins:
        from corpus.clone import branch_tip

        sources, _ = update_pins(sources, lambda s: branch_tip(s, retries=config.retries))
    after = _pins(sources)
    record.update(
        update_pins=config.update_pins,
        push=config.build.push,
        repo_id=config.build.repo_id,
        pins_before=before,
        pins_after=after,
        moved=sorted(r for r, sha in after.items() if before.get(r) != sha),
    )
    write_sources(layout.run_sources, sources)
    return sources


def _hub_latest(repo_id: str) -> str | None:
    """The newest build tag on the Hub, or None (also when the Hub cannot be asked)."""
    from pipelines.publish import latest_build_tag

    try:
        tag = latest_build_tag(repo_id)
    except CorpusError:
        return None
    return tag.name if tag else None


def _refused(result: BuildResult, config: RebuildConfig, record: dict[str, Any]) -> str:
    """Why a WARN or FAIL candidate is not published, and what was kept instead."""
    layout = result.out
    failed = sorted(result.report.failed, key=lambda c: (c.severity != "critical", c.id))
    previous = layout.dataset.root if layout.dataset.data_dir.is_dir() else None
    kept = f"kept the last good build {previous}" if previous else "there is no good build yet"
    if config.build.push and config.build.repo_id:
        latest = _hub_latest(config.build.repo_id)
        record["hub_latest"] = latest
        kept += f"; the Hub's latest build stays {latest}" if latest else ""
    return (
        f"falsification {result.verdict} (score {result.score}/100; failed: "
        f"{', '.join(c.id for c in failed) or '?'}): not published, {kept}. The candidate is kept "
        f"for inspection at {result.candidate.dataset.root} (see falsification.md)."
    )


def _write_sources(config: RebuildConfig, sources: list[Source], record: dict[str, Any]) -> None:
    """Merge the built pins into the sources file as it is now (entries added or edited while
    this run was building stay as they are)."""
    from corpus.sources import load_sources, write_sources

    path = config.build.sources_file
    if not config.write_sources or path is None:
        return
    current = load_sources(path)
    merged = merge_built_pins(current, sources)
    if merged != current:
        write_sources(Path(path), merged)
        record["sources_written"] = str(path)


def _publish(result: BuildResult, config: RebuildConfig, record: dict[str, Any]) -> str:
    """Publish the staged build when its rows differ from the Hub's latest build tag."""
    from pipelines.publish import latest_build_tag, needs_publish, publish_dataset

    assert result.dataset is not None and config.build.repo_id is not None
    repo_id, dataset = config.build.repo_id, result.dataset.root
    # The Hub, not the local folder, decides: a run whose push failed after staging must
    # still publish on the next run, even though the local rows no longer change.
    if not needs_publish(dataset, repo_id):
        latest = latest_build_tag(repo_id)
        tag = latest.name if latest else None
        record.update(hub_latest=tag, reason=f"unchanged: the Hub's latest build {tag} already "
                      "holds these rows")  # fmt: skip
        return record["reason"]
    res = publish_dataset(dataset, repo_id, private=config.build.private)
    record.update(published=True, tag=res.tag, hub_commit=res.commit_sha, url=res.url,
                  reason=None, hub_latest=res.tag)  # fmt: skip
    return f"published {repo_id} as {res.tag} ({res.url})"


# --------------------------------------------------------------------------- the run


def rebuild(config: RebuildConfig) -> RebuildResult:
    """Run one scheduled rebuild (see the module docstring).

    Raises ``LockedError`` at once when another build or rebuild holds ``<out>/.corpus.lock``,
    ``CorpusError`` when a stage fails (after recording the run in the history).
    """
    from pipelines.history import recorded_run
    from pipelines.locking import output_lock

    config.build.validate()
    layout = OutLayout(Path(config.build.out))
    with output_lock(layout.root, "rebuild"), recorded_run(layout, "rebuild") as record:
        result = _run(config, layout, record)
        record["exit_code"] = int(result.exit_code)
    return result


def _run(config: RebuildConfig, layout: OutLayout, record: dict[str, Any]) -> RebuildResult:
    from pipelines.build import result_record, run_build

    sources = _move_pins(config, layout, record)
    # The rebuild publishes itself (only when the rows changed) and stages PASS builds only.
    result = run_build(replace(config.build, push=False, stage_warn=False), sources)
    record.update(result_record(result), reason=None)
    if result.verdict != "PASS":
        record["reason"] = _refused(result, config, record)
        return RebuildResult(record, result.exit_code, record["reason"], result)
    _write_sources(config, sources, record)
    if not config.build.push:
        changed = "changed" if record["rows_changed"] else "unchanged"
        record["reason"] = f"rows {changed}; publishing not requested (no --push)"
        return RebuildResult(record, ExitCode.OK, record["reason"], result)
    message = _publish(result, config, record)
    return RebuildResult(record, ExitCode.OK, message, result)

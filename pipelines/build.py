"""`corpus build`: clone → extract → filter/dedup → split → falsify → stage (→ push).

The one build mechanism: `corpus rebuild` runs exactly this (``run_build``) on the same output
folder layout (``corpus.layout.OutLayout``), adding pin updates, its publish decision and its
history fields. Every stage's output is keyed by its inputs and vouched for by a checksummed
marker, so a rerun skips what is done, a killed run resumes, and a damaged file is redone:

- extraction, one unit per repository (clone + extract, run by the chosen executor):
  ``shards/<owner>+<name>/<commit>-<extractor_version>.{parquet,stats.json,licenses.json,done}``
  (the licences are detected from the checkout at the pin, ``corpus.licenses``);
- filter/dedup/split: ``builds/<key>/`` (``key`` hashes the shard inputs, the filter config,
  the sources and the code that filters and falsifies), holding the candidate ``dataset/``,
  ``rejects.parquet`` and ``.done``; falsification writes its report into the candidate;
- staging: the candidate is swapped into ``dataset/`` (PASS, or WARN when ``stage_warn``);
  ``dataset/.build_key`` is its marker.

``build()`` returns a :class:`BuildResult` for PASS, WARN and FAIL alike (its ``exit_code`` and
``message`` say what the command reports); it raises only for real errors (bad input, a failed
unit, a Hub error). Each run writes ``build_config.json``, ``build_report.json`` and one line of
``history.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpus.defaults import DEFAULT_OUT, EXECUTOR, MAX_REPO_SHARE, WORKERS
from corpus.errors import BadInputError, ExitCode
from corpus.layout import (
    WORKERS_LEASE,
    CandidatePaths,
    DatasetLayout,
    OutLayout,
    ShardPaths,
    split_file_name,
)
from corpus.schema import EXTRACTOR_VERSION, SPLITS
from corpus.sources import Source
from corpus.store import read_json, write_json, write_parquet
from falsification.report import Report
from pipelines.executors import RunSummary, Unit, get_executor, run_units


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build was asked to do (saved as build_config.json; no token, ever)."""

    out: Path = DEFAULT_OUT
    cache_dir: Path | None = None
    sources_file: Path | None = None
    only: tuple[str, ...] = ()
    workers: int = WORKERS
    executor: str = EXECUTOR
    address: str | None = None
    include_tests: bool = False
    max_repo_share: float = MAX_REPO_SHARE
    write_rejects: bool = False
    push: bool = False
    repo_id: str | None = None
    private: bool = False
    force: bool = False
    #: Stage a WARN build (`corpus build` does; a rebuild keeps the last PASS build instead).
    stage_warn: bool = True
    #: The split manifest whose files keep their splits (default: the staged build's).
    split_manifest: Path | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-able config (paths as strings)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}

    def validate(self) -> None:
        """Refuse a config that cannot run, before anything is written."""
        if self.push and not self.repo_id:
            raise BadInputError("--push needs --repo-id ORG/NAME")
        if self.split_manifest is not None:
            from corpus.splits import SplitManifest

            if not Path(self.split_manifest).is_file():
                raise BadInputError(f"--split-manifest {self.split_manifest}: no such file")
            SplitManifest.read(Path(self.split_manifest))


VERDICT_EXIT = {"PASS": ExitCode.OK, "WARN": ExitCode.WARN, "FAIL": ExitCode.FAILURE}


@dataclass
class BuildResult:
    """What a build produced: the candidate and its report, what was staged and pushed."""

    out: OutLayout
    sources: list[Source]
    candidate: CandidatePaths
    report: Report
    stats: dict[str, Any]
    stages: dict[str, dict[str, Any]]
    dataset: DatasetLayout | None = None  # the staged folder, when this build was staged
    changes: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Content hash of the rows staged before this build (None: nothing was staged).
    previous_hash: str | None = None
    pushed: Any = None  # PublishResult
    exit_code: ExitCode = ExitCode.OK
    message: str = ""  # the one line to report when exit_code is not OK
    notes: list[str] = field(default_factory=list)  # warnings worth a line (redone units...)

    @property
    def verdict(self) -> str:
        """PASS, WARN or FAIL."""
        return self.report.verdict

    @property
    def score(self) -> int:
        """The falsification score."""
        return self.report.score


# --------------------------------------------------------------------------- extraction units


@dataclass(frozen=True)
class RepoJob:
    """Payload of one extraction unit (picklable; paths as strings for remote workers)."""

    source: Source
    cache_dir: str
    shard_dir: str
    stem: str
    #: An existing checkout at the pin to read instead of cloning (benchmarks, offline use).
    checkout: str = ""


def shard_paths(out: Path, source: Source, commit: str | None = None) -> ShardPaths:
    """The shard (parquet, stats json, marker) of one repository."""
    return OutLayout(Path(out)).shard(source.repo, commit or source.commit, EXTRACTOR_VERSION)


def unit_inputs(source: Source) -> dict[str, str]:
    """What a shard is made from: change any of it and the repository is extracted again."""
    from corpus.extract.parser import GRAMMAR_VERSION
    from corpus.licenses import detector_fingerprint

    return {
        "repo": source.repo,
        "url": source.url,
        "commit": source.commit,
        "license": source.license,
        "extractor_version": EXTRACTOR_VERSION,
        "grammar_version": GRAMMAR_VERSION,
        # the licence detector's libraries and rules: a new one detects every licence again
        "license_detector": detector_fingerprint(),
    }


def extraction_units(sources: list[Source], out: Path, cache_dir: Path) -> list[Unit]:
    """One unit per repository: clone it at its pin and extract every file into its shard."""
    units = []
    for s in sources:
        p = shard_paths(out, s)
        job = RepoJob(s, str(cache_dir), str(p.dir), p.stem)
        units.append(Unit(s.repo, job, p.marker, unit_inputs(s), p.outputs))
    return units


def clone_and_extract(job: RepoJob) -> dict[str, Any]:
    """The work of one unit (runs on a worker): returns the repository's stats."""
    from contextlib import nullcontext

    from corpus.clone import checkout_lock, clone_source
    from corpus.extract import extract_tree
    from corpus.licenses import detect_checkout, record_license

    # Hold the checkout from clone to the last file read: another run sharing the cache (a
    # rebuild with moved pins) must not check out another commit under our reads.
    guard = nullcontext() if job.checkout else checkout_lock(Path(job.cache_dir), job.source.repo)
    with guard:
        root = (
            Path(job.checkout)
            if job.checkout
            else clone_source(job.source, Path(job.cache_dir)).path
        )
        # One process per unit: the executor provides the parallelism across units.
        records, stats = extract_tree(
            root,
            repo=job.source.repo,
            commit=job.source.commit,
            license=job.source.license,
            workers=1,
        )
        licenses = detect_checkout(root, job.source.license)
        for r in records:  # a workspace member's own licence, where it differs
            r["license"] = record_license(licenses, r["path"])
        shard = ShardPaths(Path(job.shard_dir), job.stem)
        write_parquet(shard.parquet, records)
        write_json(shard.stats, stats)
        write_json(shard.licenses, licenses)
    return stats


# --------------------------------------------------------------------------- stages


#: Called as (stage, done, total) while a build runs (for a progress display).
StageProgress = Callable[[str, int, int], None]


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def load_build_sources(config: BuildConfig) -> list[Source]:
    """The sources a build reads (``--sources``, restricted by ``--only``)."""
    from corpus.sources import load_sources, select_sources

    return select_sources(load_sources(config.sources_file), list(config.only) or None)


def code_fingerprint() -> dict[str, str]:
    """What a candidate depends on besides its inputs: the code that filters, splits and
    falsifies, and the libraries that find secrets and near duplicates. A change in any of
    them makes the next build redo those stages instead of reusing a stale candidate."""
    from importlib.metadata import version

    import corpus
    import falsification

    core = Path(corpus.__file__).parent
    files = [core / f for f in ("filters.py", "secrets.py", "doclint.py", "splits.py", "schema.py")]
    files += sorted(Path(falsification.__file__).parent.rglob("*.py"))
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return {
        "code": h.hexdigest()[:16],
        "detect-secrets": version("detect-secrets"),
        "datasketch": version("datasketch"),
    }


def _extract_stage(
    layout: OutLayout, sources: list[Source], cache_dir: Path, config: BuildConfig, progress: Any
) -> RunSummary:
    """Clone and extract every repository whose shard is not done (by the chosen executor)."""
    units = extraction_units(sources, layout.root, cache_dir)
    todo = sum(1 for u in units if not u.is_done())
    done = 0

    def unit_done(_key: str) -> None:
        nonlocal done
        done += 1
        progress("clone + extract", done, todo)

    progress("clone + extract", 0, todo)
    lease = layout.root / WORKERS_LEASE
    with get_executor(
        config.executor, workers=config.workers, address=config.address, lease=lease
    ) as ex:
        return run_units(ex, clone_and_extract, units, unit_done)


def _aggregate_stats(
    sources: list[Source], layout: OutLayout, filt: Any, fconf: Any
) -> dict[str, Any]:
    """stats.json of a candidate: per-repository extraction stats, drops, filters, splits,
    configs and token counts."""
    from corpus.extract.parser import GRAMMAR_VERSION
    from corpus.tokens import token_stats

    repos: dict[str, Any] = {}
    licenses: dict[str, Any] = {}
    drops: dict[str, int] = {}
    for s in sources:
        st = read_json(shard_paths(layout.root, s).stats)
        repos[s.repo] = st
        licenses[s.repo] = read_json(shard_paths(layout.root, s).licenses)
        for k, v in st.get("drops", {}).items():
            drops[k] = drops.get(k, 0) + v
    totals = {
        "files": sum(r.get("files", 0) for r in repos.values()),
        "records": sum(r.get("records", 0) for r in repos.values()),
        "documented": sum(r.get("documented", 0) for r in repos.values()),
        "published": filt.kept.height,
    }
    return {
        "extractor_version": EXTRACTOR_VERSION,
        "grammar_version": GRAMMAR_VERSION,
        "repos": dict(sorted(repos.items())),
        "licenses": dict(sorted(licenses.items())),
        "drops": dict(sorted(drops.items())),
        "filters": filt.counts,
        "filter_config": fconf.to_json(),
        "splits": {**filt.splits, "manifest": {"files": len(filt.manifest),
                                               "new_files": filt.new_files}},
        "configs": _configs_stats(filt, fconf),
        "tokens": token_stats(filt.kept.to_dicts()),
        "totals": totals,
    }  # fmt: skip


def _configs_stats(filt: Any, fconf: Any) -> dict[str, Any]:
    """Rows per split of each published config (the balanced one leaves some records out)."""
    from corpus.splits import split_counts

    configs: dict[str, Any] = {"default": {"rows": filt.kept.height}}
    if fconf.max_repo_share < 1:
        out = set(filt.balanced_excluded)
        rows = [(r, s) for i, r, s in filt.kept.select("id", "repo", "split").iter_rows()
                if i not in out]  # fmt: skip
        counts = split_counts(rows)
        configs["balanced"] = {
            "rows": len(rows),
            "max_repo_share": fconf.max_repo_share,
            "left_out": len(out),
            "splits": {k: counts[k] for k in SPLITS},
            "per_repo": counts["per_repo"],
        }
    return configs


def _candidate_key(sources: list[Source], fconf: Any, previous: Any) -> tuple[str, str]:
    """(the inputs' key, the full key: inputs and the split manifest the build must keep)."""
    base = _hash(
        {
            "shards": sorted(json.dumps(unit_inputs(s), sort_keys=True) + "\n" for s in sources),
            "filters": fconf.to_json(),
            # sources.lock is written from these, in this order
            "sources": [asdict(src) for src in sources],
            "code": code_fingerprint(),
        }
    )
    prev = _hash(previous.to_json())[:8] if previous is not None else "first"
    return base, f"{base}-{prev}"


def _reusable(layout: OutLayout, base: str, previous: Any) -> CandidatePaths | None:
    """A finished candidate of the same inputs whose own manifest is ``previous``.

    Run again on its own output manifest, a build places no file anew and gives the same rows,
    so the candidate that wrote ``previous`` is this build's too: a rerun stays a no-op.
    """
    from corpus.layout import check_marker

    if previous is None or not layout.builds_dir.is_dir():
        return None
    want = previous.to_json()
    for root in sorted(layout.builds_dir.glob(f"{base}-*")):
        cand = CandidatePaths(root)
        manifest = cand.dataset.split_manifest
        intact = check_marker(cand.marker, {"key": cand.key}, cand.root) is None
        if intact and read_json(manifest) == want:
            return cand
    return None


def previous_manifest(layout: OutLayout, config: BuildConfig) -> Any:
    """The split manifest this build must keep: ``--split-manifest``, else the staged build's."""
    from corpus.splits import SplitManifest

    path = config.split_manifest or layout.dataset.split_manifest
    if config.split_manifest is not None and not Path(path).is_file():
        raise BadInputError(f"--split-manifest {path}: no such file")
    return SplitManifest.read(Path(path)) if Path(path).is_file() else None


def _candidate_stage(
    layout: OutLayout, sources: list[Source], config: BuildConfig
) -> tuple[CandidatePaths, bool, str | None]:
    """Filter, dedup and split into the candidate: (its paths, whether it ran, why redone)."""
    import polars as pl

    from corpus.filters import FilterConfig, filter_records
    from corpus.layout import check_marker, write_marker
    from corpus.sources import write_sources
    from corpus.store import read_parquet

    fconf = FilterConfig(include_tests=config.include_tests, max_repo_share=config.max_repo_share)
    previous = previous_manifest(layout, config)
    base, key = _candidate_key(sources, fconf, previous)
    cand = layout.candidate(key)
    why = check_marker(cand.marker, {"key": key}, cand.root)
    if why is None:
        return cand, False, None
    same = _reusable(layout, base, previous)
    if same is not None:
        return same, False, None
    shutil.rmtree(cand.root, ignore_errors=True)  # half-written, or damaged: redo it whole
    frames = [f for s in sources if (f := read_parquet(shard_paths(layout.root, s).parquet)).height]
    filt = filter_records(pl.concat(frames, how="vertical") if frames else [], fconf, previous)
    _write_configs(cand, filt, fconf)
    write_json(cand.dataset.split_manifest, filt.manifest.to_json())
    if previous is not None:
        write_json(cand.previous_manifest, previous.to_json())
    ds = cand.dataset
    # The lock names where rows came from, never where this machine fetched them (a mirror's
    # file:// path, a token in a URL): see corpus.sources.public_url.
    write_sources(ds.sources_lock, [s.published() for s in sources])
    write_json(ds.stats, _aggregate_stats(sources, layout, filt, fconf))
    write_parquet(cand.rejects, filt.rejects.to_arrow())
    write_marker(cand.marker, {"key": key}, cand.outputs(), cand.root)
    return cand, True, (None if why == "missing" else why)


def _write_configs(cand: CandidatePaths, filt: Any, fconf: Any) -> None:
    """data/ (every record) and, with a cap, balanced/ (the capped subset), per split."""
    import polars as pl

    from corpus.layout import BALANCED_DIR

    out = set(filt.balanced_excluded)
    balanced = filt.kept.filter(~pl.col("id").is_in(list(out)))
    for split in SPLITS:
        in_split = pl.col("split") == split
        write_parquet(cand.dataset.data_dir / split_file_name(split), filt.kept.filter(in_split))
        if fconf.max_repo_share < 1:
            dest = cand.dataset.root / BALANCED_DIR / split_file_name(split)
            write_parquet(dest, balanced.filter(in_split))


def _falsify_stage(cand: CandidatePaths, cache_dir: Path) -> tuple[Report, bool, str | None]:
    """The candidate's report, run once per candidate: (report, whether it ran, why rerun)."""
    from corpus.errors import CorpusError
    from falsification import run_suite, write_report

    path = cand.dataset.falsification_json
    why = None
    if path.is_file():
        try:
            report = Report.read(path)
            problems = report.problems()
        except CorpusError as exc:
            problems = [str(exc)]
        if not problems:
            return report, False, None
        why = f"its falsification.json could not be used ({problems[0]}): falsified again"
    sources_dir = cache_dir if cache_dir.is_dir() else None
    prev = cand.previous_manifest if cand.previous_manifest.is_file() else None
    report = run_suite(cand.dataset.root, sources_dir, previous_manifest=prev)
    write_report(report, cand.dataset.root)
    return report, True, why


def _stage(cand: CandidatePaths, layout: OutLayout) -> tuple[bool, str | None]:
    """Swap the candidate into ``<out>/dataset`` unless it is there, intact: (ran, why redone)."""
    from corpus.layout import check_marker, write_marker
    from corpus.store import swap_dir

    dest = layout.dataset
    inputs = {"key": cand.key}
    why = check_marker(dest.build_key, inputs, dest.root)
    if why is None:
        return False, None

    def fill(tmp: Path) -> None:
        shutil.copytree(cand.dataset.root, tmp, dirs_exist_ok=True)
        staged = DatasetLayout(tmp)
        write_marker(staged.build_key, inputs, staged.published_files(), tmp)

    swap_dir(dest.root, fill)
    return True, (None if why == "missing" or why == "its inputs changed" else why)


# --------------------------------------------------------------------------- the build


def build(config: BuildConfig, progress: StageProgress | None = None) -> BuildResult:
    """Run every stage of a build (skipping what is done); see the module docstring.

    Validates everything first; then holds ``<out>/.corpus.lock`` throughout: a second build
    or a rebuild on the same folder is refused at once (``LockedError``, exit code 4).
    """
    from pipelines.history import recorded_run
    from pipelines.locking import output_lock

    config.validate()
    sources = load_build_sources(config)
    layout = OutLayout(Path(config.out))
    with output_lock(layout.root, "build"), recorded_run(layout, "build") as record:
        result = run_build(config, sources, progress)
        record.update(result_record(result))
    return result


def run_build(
    config: BuildConfig, sources: list[Source], progress: StageProgress | None = None
) -> BuildResult:
    """The stages of a build, with the output folder's lock already held by the caller."""
    from corpus.clone import default_cache_dir
    from pipelines.history import dataset_changes

    report_progress: StageProgress = progress or (lambda *_: None)
    # Relative paths are resolved once, here: workers and git run in other directories.
    layout = OutLayout(Path(config.out).absolute())
    cache_dir = Path(config.cache_dir).absolute() if config.cache_dir else default_cache_dir()
    write_json(layout.build_config, {**config.to_json(), "cache_dir": str(cache_dir)})
    stages: dict[str, dict[str, Any]] = {}
    notes: list[str] = []

    t = time.perf_counter()
    extract = _extract_stage(layout, sources, cache_dir, config, report_progress)
    stages["clone_extract"] = _extract_info(extract, config.executor, time.perf_counter() - t)
    notes += [f"{repo}: extracted again: {why}" for repo, why in sorted(extract.redone.items())]

    t = time.perf_counter()
    report_progress("filter, dedup, split", 0, 1)
    cand, ran, why = _candidate_stage(layout, sources, config)
    report_progress("filter, dedup, split", 1, 1)
    stages["filter_split"] = {"ran": ran, "seconds": _secs(t), "key": cand.key}
    notes += [f"candidate {cand.key}: made again: {why}"] if why else []

    t = time.perf_counter()
    report_progress("falsify", 0, 1)
    report, ran, why = _falsify_stage(cand, cache_dir)
    report_progress("falsify", 1, 1)
    stages["falsify"] = {"ran": ran, "seconds": _secs(t), "verdict": report.verdict,
                         "score": report.score}  # fmt: skip
    notes += [f"candidate {cand.key}: {why}"] if why else []

    from pipelines.publish import content_hash

    previous = layout.dataset.root if layout.dataset.parquet_files() else None
    result = BuildResult(
        out=layout,
        sources=sources,
        candidate=cand,
        report=report,
        stats=read_json(cand.dataset.stats),
        stages=stages,
        changes=dataset_changes(previous, cand.dataset.root),
        previous_hash=content_hash(previous) if previous else None,
        notes=notes,
    )
    if config.write_rejects:
        shutil.copyfile(cand.rejects, layout.rejects)
    _gate_and_stage(result, config)
    if config.push and result.dataset is not None:
        _push_stage(result, config)
    write_json(layout.build_report, {"stages": stages})
    return result


def _secs(t: float) -> float:
    return round(time.perf_counter() - t, 3)


def _extract_info(s: RunSummary, executor: str, seconds: float) -> dict[str, Any]:
    return {
        "ran": bool(s.ran),
        "seconds": round(seconds, 3),
        "executor": executor,
        "units_ran": sorted(s.ran),
        "units_done": sorted(s.skipped),
        "unit_seconds": s.unit_seconds,
        "redone": s.redone,
    }


def _gate_and_stage(result: BuildResult, config: BuildConfig) -> None:
    """Stage a PASS (or, with ``stage_warn``, a WARN) candidate; say why anything else is not."""
    t = time.perf_counter()
    verdict, score = result.verdict, result.score
    result.exit_code = VERDICT_EXIT[verdict]
    if verdict == "FAIL" or (verdict == "WARN" and not config.stage_warn):
        result.stages["stage"] = {
            "ran": False,
            "seconds": 0.0,
            "refused": f"falsification {verdict}",
        }
        result.message = (
            f"falsification {verdict} (score {score}/100): the dataset was not staged"
            f"{' or pushed' if config.push else ''}. Read "
            f"{result.candidate.dataset.falsification_md} for the failed checks."
        )
        return
    ran, why = _stage(result.candidate, result.out)
    result.dataset = result.out.dataset
    result.stages["stage"] = {"ran": ran, "seconds": _secs(t), "dataset": str(result.dataset.root)}
    result.notes += [f"{result.dataset.root}: staged again: {why}"] if why else []
    if verdict == "WARN":
        result.message = f"falsification WARN (score {score}/100): staged, see the report"


def _push_stage(result: BuildResult, config: BuildConfig) -> None:
    """Publish the staged build (a WARN one only with ``--force``)."""
    from pipelines.publish import publish_dataset

    assert result.dataset is not None and config.repo_id is not None
    if result.verdict == "WARN" and not config.force:
        result.message = (
            f"falsification WARN (score {result.score}/100): staged at {result.dataset.root} but "
            "not pushed; pass --force to push a WARN dataset"
        )
        return
    t = time.perf_counter()
    result.pushed = publish_dataset(
        result.dataset.root, config.repo_id, private=config.private, force=config.force
    )
    result.stages["push"] = {"ran": result.pushed.changed, "seconds": _secs(t),
                             "repo_id": config.repo_id, "tag": result.pushed.tag}  # fmt: skip


def result_record(result: BuildResult) -> dict[str, Any]:
    """The history fields every build and rebuild record carries."""
    from pipelines.publish import content_hash

    pushed = result.pushed
    return {
        "extracted": result.stages["clone_extract"]["units_ran"],
        "build_key": result.candidate.key,
        "candidate": str(result.candidate.dataset.root),
        "verdict": result.verdict,
        "score": result.score,
        "content_hash": content_hash(result.candidate.dataset.root),
        "changes": result.changes,
        "staged": result.dataset is not None,
        "rows_changed": result.previous_hash != content_hash(result.candidate.dataset.root),
        "published": bool(pushed and pushed.changed),
        "tag": pushed.tag if pushed else None,
        "exit_code": int(result.exit_code),
        "reason": result.message or None,
    }

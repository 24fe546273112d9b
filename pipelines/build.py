"""`corpus build`: clone → extract → filter/dedup → split → falsify → stage (→ push).

Every stage's output is keyed by its inputs, so a rerun skips what is done and a killed run
resumes:

- extraction, one unit per repository (clone + extract, run by the chosen executor):
  ``<out>/shards/<owner>+<name>/<commit>-<extractor_version>.parquet`` with
  ``….stats.json`` and the completion marker ``….done`` (written last; it records the unit's
  inputs — repo, pin, licence, extractor and grammar versions — and counts only if they match);
- filter/dedup/split: ``<out>/builds/<key>/`` where ``key`` hashes the shard markers and the
  filter config; it holds the candidate dataset (``dataset/``), ``rejects.parquet`` and
  ``.done``; falsification writes its report into the candidate;
- staging: the candidate is copied to ``<out>/dataset`` (the publishable folder) unless
  falsification FAILed; ``<out>/dataset/.build_key`` says which candidate it is.

Each run writes ``<out>/build_config.json`` (the full config) and ``<out>/build_report.json``
(per-stage timings, which units ran and which were skipped).
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

from corpus.errors import CorpusError, ExitCode
from corpus.paths import DEFAULT_OUT
from corpus.schema import EXTRACTOR_VERSION, SPLITS
from corpus.sources import Source
from corpus.store import DATA_DIR, STATS_FILE, read_json, write_json, write_parquet
from pipelines.executors import RunSummary, Unit, get_executor, run_units

BUILD_CONFIG_FILE = "build_config.json"
BUILD_REPORT_FILE = "build_report.json"
LOCK_FILE = "sources.lock"
REJECTS_FILE = "rejects.parquet"
BUILD_KEY_FILE = ".build_key"


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build was asked to do (saved as build_config.json; no token, ever)."""

    out: Path = DEFAULT_OUT
    cache_dir: Path | None = None
    sources_file: Path | None = None
    only: tuple[str, ...] = ()
    workers: int = 0
    executor: str = "local"
    address: str | None = None
    include_tests: bool = False
    max_repo_share: float = 0.4
    write_rejects: bool = False
    push: bool = False
    repo_id: str | None = None
    private: bool = False
    force: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-able config (paths as strings)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


@dataclass
class BuildResult:
    """What a build produced: where, the verdict and the exit code to use."""

    out: Path
    candidate: Path
    dataset: Path | None
    verdict: str
    score: float | None
    stats: dict[str, Any]
    report: dict[str, Any]
    exit_code: ExitCode = ExitCode.OK
    pushed: Any = None
    messages: list[str] = field(default_factory=list)


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


def shard_paths(out: Path, source: Source, commit: str | None = None) -> dict[str, Path]:
    """The shard parquet, stats json and marker of one repository."""
    shard_dir = Path(out) / "shards" / f"{source.owner}+{source.name}"
    stem = f"{commit or source.commit}-{EXTRACTOR_VERSION}"
    return {
        "dir": shard_dir,
        "parquet": shard_dir / f"{stem}.parquet",
        "stats": shard_dir / f"{stem}.stats.json",
        "marker": shard_dir / f"{stem}.done",
    }


def _marker_text(source: Source) -> str:
    from corpus.extract.parser import GRAMMAR_VERSION

    inputs = {
        "repo": source.repo,
        "url": source.url,
        "commit": source.commit,
        "license": source.license,
        "extractor_version": EXTRACTOR_VERSION,
        "grammar_version": GRAMMAR_VERSION,
    }
    return json.dumps(inputs, sort_keys=True) + "\n"


def extraction_units(sources: list[Source], out: Path, cache_dir: Path) -> list[Unit]:
    """One unit per repository: clone it at its pin and extract every file into its shard."""
    units = []
    for s in sources:
        p = shard_paths(out, s)
        job = RepoJob(s, str(cache_dir), str(p["dir"]), p["parquet"].name[: -len(".parquet")])
        units.append(Unit(s.repo, job, p["marker"], _marker_text(s)))
    return units


def clone_and_extract(job: RepoJob) -> dict[str, Any]:
    """The work of one unit (runs on a worker): returns the repository's stats."""
    from contextlib import nullcontext

    from corpus.clone import checkout_lock, clone_source
    from corpus.extract import extract_tree

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
        shard_dir = Path(job.shard_dir)
        write_parquet(shard_dir / f"{job.stem}.parquet", records)
        write_json(shard_dir / f"{job.stem}.stats.json", stats)
    return stats


# --------------------------------------------------------------------------- helpers


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _load_sources(config: BuildConfig) -> list[Source]:
    from corpus.sources import load_sources, select_sources

    return select_sources(load_sources(config.sources_file), list(config.only) or None)


def _aggregate_stats(sources: list[Source], out: Path, filt: Any, config: Any) -> dict[str, Any]:
    from corpus.extract.parser import GRAMMAR_VERSION

    repos: dict[str, Any] = {}
    drops: dict[str, int] = {}
    for s in sources:
        st = read_json(shard_paths(out, s)["stats"])
        repos[s.repo] = st
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
        "drops": dict(sorted(drops.items())),
        "filters": filt.counts,
        "filter_config": config.to_json(),
        "splits": filt.splits,
        "totals": totals,
    }


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


def _filter_stage(
    sources: list[Source], out: Path, config: BuildConfig, timings: dict[str, float]
) -> tuple[Path, bool]:
    """Filter, dedup and split into the candidate dataset; returns (its dir, whether it ran)."""
    from corpus.filters import FilterConfig, filter_records
    from corpus.sources import write_sources
    from corpus.store import read_parquet

    fconf = FilterConfig(include_tests=config.include_tests, max_repo_share=config.max_repo_share)
    shard_keys = sorted(_marker_text(s) for s in sources)
    key = _hash(
        {
            "shards": shard_keys,
            "filters": fconf.to_json(),
            # sources.lock is written from these, in this order
            "sources": [asdict(src) for src in sources],
            "code": code_fingerprint(),
        }
    )
    cand = out / "builds" / key
    marker = cand / ".done"
    if marker.is_file() and marker.read_text() == key:
        return cand, False
    if cand.exists():
        shutil.rmtree(cand)  # a half-written candidate from a killed run
    t = time.perf_counter()
    import polars as pl

    frames = [read_parquet(shard_paths(out, s)["parquet"]) for s in sources]
    frames = [f for f in frames if f.height]
    records = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    filt = filter_records(records if frames else [], fconf)
    timings["filter_split"] = time.perf_counter() - t
    ds = cand / "dataset"
    for split in SPLITS:
        rows = filt.kept.filter(pl.col("split") == split)
        write_parquet(ds / DATA_DIR / f"{split}-00000-of-00001.parquet", rows)
    write_sources(ds / LOCK_FILE, sources)
    write_json(ds / STATS_FILE, _aggregate_stats(sources, out, filt, fconf))
    write_parquet(cand / REJECTS_FILE, filt.rejects.to_arrow())
    write_json(cand / "inputs.json", {"shards": shard_keys, "filters": fconf.to_json()})
    marker.write_text(key)
    return cand, True


def _falsify_stage(dataset: Path, cache_dir: Path) -> tuple[dict[str, Any], bool]:
    """falsification.json of the candidate (run once per candidate)."""
    report = dataset / "falsification.json"
    if report.is_file():
        return read_json(report), False
    from falsification import run_suite, write_report

    sources_dir = cache_dir if cache_dir.is_dir() else None
    write_report(run_suite(dataset, sources_dir), dataset)
    return read_json(report), True


def _stage(candidate: Path, out: Path) -> tuple[Path, bool]:
    """Copy the candidate dataset to ``<out>/dataset`` (swap, never half-written)."""
    dest = out / "dataset"
    key = candidate.name
    if (dest / BUILD_KEY_FILE).is_file() and (dest / BUILD_KEY_FILE).read_text() == key:
        return dest, False
    tmp = out / f".dataset.tmp-{key}"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(candidate / "dataset", tmp)
    (tmp / BUILD_KEY_FILE).write_text(key)
    old = out / f".dataset.old-{key}"
    if dest.exists():
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
    tmp.rename(dest)
    if old.exists():
        shutil.rmtree(old)
    return dest, True


def _summary(s: RunSummary) -> dict[str, Any]:
    return {
        "ran": s.ran,
        "skipped": s.skipped,
        "unit_seconds": s.unit_seconds,
        "seconds": round(s.seconds, 3),
    }


# --------------------------------------------------------------------------- the build


#: Called as (stage, done, total) while a build runs (for a progress display).
StageProgress = Callable[[str, int, int], None]


def _report(progress: StageProgress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def build(config: BuildConfig, progress: StageProgress | None = None) -> BuildResult:
    """Run every stage (skipping what is done); see the module docstring for the layout.

    Holds ``<out>/.corpus.lock`` throughout: a second build or a rebuild on the same folder
    is refused at once (``LockedError``, exit code 4).
    """
    from pipelines.locking import output_lock

    with output_lock(Path(config.out), "build"):
        return _build(config, progress)


def _build(config: BuildConfig, progress: StageProgress | None) -> BuildResult:
    from corpus.clone import default_cache_dir

    out = Path(config.out)
    cache_dir = Path(config.cache_dir) if config.cache_dir else default_cache_dir()
    if config.push and not config.repo_id:
        from corpus.errors import BadInputError

        raise BadInputError("--push needs --repo-id ORG/NAME")
    sources = _load_sources(config)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / BUILD_CONFIG_FILE, {**config.to_json(), "cache_dir": str(cache_dir)})
    report: dict[str, Any] = {"stages": {}}
    timings: dict[str, float] = {}

    t = time.perf_counter()
    units = extraction_units(sources, out, cache_dir)
    todo = sum(1 for u in units if not u.is_done())
    done = 0

    def unit_done(_key: str) -> None:
        nonlocal done
        done += 1
        _report(progress, "clone + extract", done, todo)

    _report(progress, "clone + extract", 0, todo)
    with get_executor(config.executor, workers=config.workers, address=config.address) as ex:
        extract = run_units(ex, clone_and_extract, units, unit_done)
    timings["clone_extract"] = time.perf_counter() - t
    report["stages"]["clone_extract"] = {"executor": config.executor, **_summary(extract)}

    t = time.perf_counter()
    _report(progress, "filter, dedup, split", 0, 1)
    candidate, ran = _filter_stage(sources, out, config, timings)
    _report(progress, "filter, dedup, split", 1, 1)
    timings["filter_split"] = time.perf_counter() - t
    report["stages"]["filter_split"] = {"ran": ran, "key": candidate.name}

    t = time.perf_counter()
    _report(progress, "falsify", 0, 1)
    falsification, ran = _falsify_stage(candidate / "dataset", cache_dir)
    _report(progress, "falsify", 1, 1)
    timings["falsify"] = time.perf_counter() - t
    verdict = falsification.get("verdict", "FAIL")
    score = falsification.get("score")
    report["stages"]["falsify"] = {"ran": ran, "verdict": verdict, "score": score}
    stats = read_json(candidate / "dataset" / STATS_FILE)
    result = BuildResult(out, candidate, None, verdict, score, stats, report)

    if config.write_rejects:
        shutil.copyfile(candidate / REJECTS_FILE, out / REJECTS_FILE)

    if verdict == "FAIL":
        report["stages"]["stage"] = {"ran": False, "refused": "falsification FAIL"}
        _finish(out, report, timings)
        raise CorpusError(
            f"falsification FAIL (score {score}/100): the dataset was not staged"
            f"{' or pushed' if config.push else ''}. Read {candidate / 'dataset'}/falsification.md"
            " for the failed checks.",
            ExitCode.FAILURE,
        )
    t = time.perf_counter()
    result.dataset, ran = _stage(candidate, out)
    timings["stage"] = time.perf_counter() - t
    report["stages"]["stage"] = {"ran": ran, "dataset": str(result.dataset)}
    if verdict == "WARN":
        result.exit_code = ExitCode.WARN
        result.messages.append(f"falsification WARN (score {score}/100): staged, see the report")

    if config.push:
        t = time.perf_counter()
        if verdict == "WARN" and not config.force:
            _finish(out, report, timings)
            raise CorpusError(
                f"falsification WARN (score {score}/100): staged at {result.dataset} but not "
                "pushed; pass --force to push a WARN dataset",
                ExitCode.WARN,
            )
        from corpus.publish import publish_dataset

        result.pushed = publish_dataset(
            result.dataset, config.repo_id, private=config.private, force=config.force
        )
        timings["push"] = time.perf_counter() - t
        report["stages"]["push"] = {"ran": True, "repo_id": config.repo_id}
    _finish(out, report, timings)
    return result


def _finish(out: Path, report: dict[str, Any], timings: dict[str, float]) -> None:
    report["timings"] = {k: round(v, 3) for k, v in timings.items()}
    write_json(out / BUILD_REPORT_FILE, report)

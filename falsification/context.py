"""What every check reads: the records, stats.json, sources.lock and (optionally) the clones.

Expensive, shared facts (blobs, re-extractions) are computed once, lazily, and cached here so
checks stay small and the suite stays fast.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from corpus.errors import BadInputError
from corpus.layout import SOURCES_LOCK, dataset_base
from corpus.store import read_records, read_stats


def read_lock(path: Path) -> dict[str, dict[str, Any]] | None:
    """sources.lock (TOML, same shape as sources.toml) as repo -> entry; None when absent."""
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: not valid TOML ({exc})") from exc
    entries = data.get("source", [])
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and "repo" in e for e in entries
    ):
        raise BadInputError(f"{path}: expected [[source]] tables with a `repo` key")
    return {e["repo"]: e for e in entries}


@dataclass
class SuiteContext:
    """The corpus under test and everything the checks may consult."""

    dataset: Path
    df: pl.DataFrame
    stats: dict[str, Any]
    lock: dict[str, dict[str, Any]] | None
    sources_dir: Path | None = None
    seed: int = 0
    hypothesis_examples: int = 60
    fuzz_cases: int = 60
    determinism_files: int = 6
    #: Shrink a falsifying generated item to a minimal one (slower on failure, clearer report).
    hypothesis_shrink: bool = True
    #: The extractor under test (default: corpus.extract.extract_file_bytes). Injectable so
    #: the extractor checks can be shown to fail on a defective extractor.
    extract_bytes: Any = None
    #: The split manifest of the build before: no file it placed may have moved.
    previous_manifest: Path | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, dataset: Path, sources_dir: Path | None = None, **kw: Any) -> SuiteContext:
        """Read the dataset (BadInputError when it cannot be read)."""
        dataset = Path(dataset)
        df = read_records(dataset)
        base = dataset_base(dataset)
        stats = read_stats(dataset)
        if not isinstance(stats, dict):
            raise BadInputError(f"{base / 'stats.json'}: expected a JSON object")
        lock = read_lock(base / SOURCES_LOCK)
        if sources_dir is not None and not Path(sources_dir).is_dir():
            raise BadInputError(f"{sources_dir}: sources dir does not exist")
        return cls(dataset, df, stats, lock, Path(sources_dir) if sources_dir else None, **kw)

    # --- records -----------------------------------------------------------------------
    @cached_property
    def records(self) -> list[dict[str, Any]]:
        """All rows as dicts, in the stable order."""
        return self.df.to_dicts()

    @cached_property
    def scanned_texts(self) -> list[list[str]]:
        """Each record's published strings from the repository (``corpus.secrets``), in
        ``records`` order (not by id: a corpus may repeat one), for the privacy checks."""
        from corpus.secrets import scanned_texts

        return [scanned_texts(r) for r in self.records]

    @cached_property
    def config(self) -> dict[str, Any]:
        """The build configuration recorded in stats.json (``config``), if any."""
        # The build records its FilterConfig as ``filter_config``; ``config`` may override.
        out: dict[str, Any] = {}
        for key in ("filter_config", "config"):
            cfg = self.stats.get(key, {})
            if isinstance(cfg, dict):
                out.update(cfg)
        if "include_tests" in out:
            out.setdefault("keep_tests", out["include_tests"])
        return out

    @cached_property
    def documented(self) -> list[dict[str, Any]]:
        """Records with a (non-null) doc."""
        return [r for r in self.records if r.get("doc") is not None]

    @cached_property
    def manifest(self):  # -> SplitManifest | None
        """The dataset's split manifest (None when it has none)."""
        from corpus.layout import SPLIT_MANIFEST
        from corpus.splits import SplitManifest

        path = dataset_base(self.dataset) / SPLIT_MANIFEST
        return SplitManifest.read(path) if path.is_file() else None

    @cached_property
    def previous(self):  # -> SplitManifest | None
        """The previous build's split manifest, when the suite was given one."""
        from corpus.splits import SplitManifest

        return SplitManifest.read(self.previous_manifest) if self.previous_manifest else None

    @cached_property
    def balanced(self) -> pl.DataFrame | None:
        """The balanced config's records (None when the dataset publishes none)."""
        from corpus.layout import DatasetLayout

        files = DatasetLayout(dataset_base(self.dataset)).parquet_files("balanced")
        if not files:
            return None
        from corpus.store import read_parquet

        return pl.concat([read_parquet(f) for f in files], how="vertical")

    # --- sources -------------------------------------------------------------------------
    @cached_property
    def repos(self):  # -> SourceRepos | None
        """The clone reader, or None without --sources-dir."""
        if self.sources_dir is None:
            return None
        from falsification.gitblobs import SourceRepos

        return SourceRepos(self.sources_dir)

    @cached_property
    def existing_commits(self) -> dict[str, set[str]]:
        """repo -> commits of the corpus that exist in its clone."""
        assert self.repos is not None
        by_repo: dict[str, set[str]] = {}
        for r in self.records:
            by_repo.setdefault(r["repo"], set()).add(r["commit"])
        return {repo: self.repos.existing_commits(repo, cs) for repo, cs in by_repo.items()}

    @cached_property
    def blobs(self) -> dict[tuple[str, str, str], bytes]:
        """(repo, commit, path) -> blob bytes, for every file the corpus cites that exists."""
        assert self.repos is not None
        by_repo: dict[str, set[tuple[str, str]]] = {}
        for r in self.records:
            by_repo.setdefault(r["repo"], set()).add((r["commit"], r["path"]))
        out: dict[tuple[str, str, str], bytes] = {}
        for repo, specs in sorted(by_repo.items()):
            for (commit, path), data in self.repos.read_blobs(repo, specs).items():
                out[(repo, commit, path)] = data
        return out

    @cached_property
    def layouts(self):  # -> dict[tuple[str, str], CommitLayout]
        """(repo, commit) -> the crate layout at that commit, read from its blobs (every .rs
        file and Cargo.toml), for every pair the corpus cites."""
        from falsification.cratelayout import CommitLayout

        assert self.repos is not None
        out = {}
        for repo, commit in sorted({(r["repo"], r["commit"]) for r in self.records}):
            files = [
                p
                for p in self.repos.tree_files(repo, commit)
                if p.endswith(".rs") or p.rsplit("/", 1)[-1] == "Cargo.toml"
            ]
            blobs = self.repos.read_blobs(repo, [(commit, p) for p in files])
            out[(repo, commit)] = CommitLayout({p: b for (_, p), b in blobs.items()})
        return out

    @cached_property
    def crate_models(self) -> dict[str, Any]:
        """repo -> the extractor's crate model of its clone (built once for re-extraction)."""
        from corpus.extract.crates import CrateModel

        assert self.repos is not None
        return {
            repo: CrateModel(self.repos.path(repo))
            for repo in sorted({r["repo"] for r in self.records})
            if self.repos.has_repo(repo)
        }

    def license_for(self, repo: str) -> str | None:
        """The pinned licence of ``repo`` (sources.lock, else stats.json)."""
        if self.lock and repo in self.lock:
            return self.lock[repo].get("license")
        return self.stats.get("repos", {}).get(repo, {}).get("license")

    def license_for_path(self, repo: str, path: str) -> str | None:
        """The licence a record of ``path`` carries: its package's, from the detection in
        stats.json (a workspace member may differ from its repo), else the repo's pin."""
        from corpus.licenses import record_license

        summary = (self.stats.get("licenses") or {}).get(repo)
        if isinstance(summary, dict) and "declared" in summary:
            return record_license(summary, path)
        return self.license_for(repo)

    def extract_file(
        self, key: tuple[str, str, str], wanted_ids: frozenset[str] | None = None
    ) -> list[dict[str, Any]]:
        """Run the project's extractor on the blob ``key`` = (repo, commit, path); with
        ``wanted_ids``, only those records are built (``FileContext.wanted_ids``)."""
        from dataclasses import replace

        from corpus.extract import context_for

        repo, commit, path = key
        assert self.repos is not None
        ctx = context_for(
            self.repos.path(repo),
            path,
            repo=repo,
            commit=commit,
            license=self.license_for_path(repo, path) or "NOASSERTION",
            model=self.crate_models.get(repo),
        )
        if wanted_ids is not None:
            ctx = replace(ctx, wanted_ids=wanted_ids)
        return list(self.extractor(self.blobs[key], path, ctx).records)

    @property
    def extractor(self):  # -> Callable[[bytes, str, FileContext], FileResult]
        """The extractor the checks exercise."""
        if self.extract_bytes is not None:
            return self.extract_bytes
        from corpus.extract import extract_file_bytes

        return extract_file_bytes

    @cached_property
    def reextracted(self) -> dict[tuple[str, str, str], list[dict[str, Any]] | str]:
        """Each cited file re-extracted once: the records the corpus cites from it (the
        others are not built), or the error text if it crashed."""
        cited: dict[tuple[str, str, str], set[str]] = {}
        for r in self.records:
            cited.setdefault((r["repo"], r["commit"], r["path"]), set()).add(r["id"])
        out: dict[tuple[str, str, str], list[dict[str, Any]] | str] = {}
        for key in sorted(self.blobs):
            try:
                out[key] = self.extract_file(key, frozenset(cited[key]))
            except Exception as exc:  # a crash is evidence, not a suite crash
                out[key] = f"{type(exc).__name__}: {exc}"
        return out

"""A real, clean corpus for the falsification tests: five git repos made with
``tests.gitrepos.make_rust_repo``, extracted with the project's extractor, filtered, deduped
and split with ``corpus.filters``, and written as a dataset dir with stats.json, sources.lock,
the split manifest and the balanced config. Twenty one-fn records per repo (alpha's lib.rs
holds four) place exactly 16/2/2 per repository: 80/10/10 overall.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.gitrepos import SAMPLE_LIB, make_rust_repo

OWNER = "fixture"
REPOS = ("alpha", "beta", "gamma", "delta", "epsilon")

_VERBS = "Returns Computes Builds Parses Collects Resolves Renders Checks Merges Counts".split()
_ADJ = (
    "current previous largest smallest pending visible hidden sorted cached remote local "
    "primary nested frozen mutable shared"
).split()
_NOUN = (
    "window buffer token header column cursor snapshot ledger bucket channel socket archive "
    "palette schema journal lease quota widget sensor kernel"
).split()
_PREP = "for within after before across beside beyond despite during".split()


def _sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(_VERBS)} the {rng.choice(_ADJ)} {rng.choice(_NOUN)} of the "
        f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_PREP)} the {rng.choice(_NOUN)}."
    )


def _fn(i: int, repo: str, rng: random.Random) -> str:
    """One documented fn; a few carry sections, an unsafe fn, an e-mail to be redacted."""
    name = f"{repo}_item_{i}"
    doc = [_sentence(rng), "", f"{_sentence(rng)} {_sentence(rng)}"]
    sig = f"pub fn {name}(count: u32, label: &str) -> u32"
    body = "{\n    count + label.len() as u32\n}"
    if i % 5 == 0:
        doc += ["", "# Examples", "", "```", f'let n = {repo}::{name}(1, "a");', "```"]
    if i % 7 == 1:
        doc += ["", "# Arguments", "", "* `count` - how many.", "* `label` - what to call it."]
    if i % 9 == 2:
        sig = f"pub fn {name}(count: u32) -> Result<u32, String>"
        body = "{\n    Ok(count)\n}"
        doc += ["", "# Errors", "", "Fails when the count is zero."]
    if i % 11 == 3:
        sig = f"pub unsafe fn {name}(ptr: *const u32) -> u32"
        body = "{\n    unsafe { *ptr }\n}"
        doc += ["", "# Safety", "", "`ptr` must be valid for reads."]
    if repo == "beta" and i == 4:
        doc += ["", "Questions go to ops.lead@corp-mail.io before release."]
    lines = "".join(f"/// {ln}".rstrip() + "\n" for ln in doc)
    return f"{lines}{sig} {body}\n"


def _files(repo: str) -> list[str]:
    """One fn per file: 20 records per repo (alpha's lib.rs adds 4 of its own)."""
    return [f"src/part_{k}.rs" for k in range(16 if repo == "alpha" else 20)]


@dataclass
class CleanCorpus:
    """Where the clean fixture lives."""

    dataset: Path
    sources_dir: Path


def make_clean_corpus(root: Path) -> CleanCorpus:
    """Build the clean five-repo corpus under ``root`` (sources/ and dataset/)."""
    from corpus.extract import extract_tree
    from corpus.licenses import detect_checkout
    from corpus.sources import Source

    sources_dir = root / "sources"
    rng = random.Random(7)
    sources, records, repo_stats, licenses = [], [], {}, {}
    for repo in REPOS:
        files: dict[str, str | bytes] = {
            path: "//! Generated module.\n\n" + _fn(i, repo, rng)
            for i, path in enumerate(_files(repo))
        }
        # every part is a module of the lib, so its path resolves in the crate layout
        mods = "".join(f"pub mod {p[4:-3]};\n" for p in _files(repo))
        files["src/lib.rs"] = SAMPLE_LIB + "\n" + mods
        commit = make_rust_repo(sources_dir / OWNER / repo, repo, extra=files)
        full = f"{OWNER}/{repo}"
        recs, st = extract_tree(
            sources_dir / OWNER / repo, repo=full, commit=commit, license="MIT", workers=1
        )
        records.extend(recs)
        repo_stats[full] = st
        licenses[full] = detect_checkout(sources_dir / OWNER / repo, "MIT")  # as the build does
        sources.append(Source(full, f"https://github.com/{full}.git", commit, "MIT", "master"))
    dataset = write_dataset(root / "dataset", records, sources, repo_stats, licenses)
    return CleanCorpus(dataset, sources_dir)


def write_dataset(
    dest: Path,
    records: list[dict[str, Any]],
    sources: list,
    repo_stats: dict[str, Any],
    licenses: dict[str, Any] | None = None,
) -> Path:
    """Filter, dedup and split ``records`` with corpus.filters and write a dataset dir."""
    import polars as pl

    from corpus.extract.parser import GRAMMAR_VERSION
    from corpus.filters import FilterConfig, filter_records
    from corpus.layout import BALANCED_DIR, DATA_DIR, SPLIT_MANIFEST, STATS_FILE
    from corpus.schema import EXTRACTOR_VERSION, SPLITS
    from corpus.sources import write_sources
    from corpus.store import write_json, write_parquet

    conf = FilterConfig()
    filt = filter_records(records, conf)
    balanced = filt.kept.filter(~pl.col("id").is_in(filt.balanced_excluded))
    for split in SPLITS:
        name = f"{split}-00000-of-00001.parquet"
        write_parquet(dest / DATA_DIR / name, filt.kept.filter(pl.col("split") == split))
        write_parquet(dest / BALANCED_DIR / name, balanced.filter(pl.col("split") == split))
    write_json(dest / SPLIT_MANIFEST, filt.manifest.to_json())
    write_sources(dest / "sources.lock", sources)
    write_json(
        dest / STATS_FILE,
        {
            "extractor_version": EXTRACTOR_VERSION,
            "grammar_version": GRAMMAR_VERSION,
            "repos": repo_stats,
            "licenses": licenses or {},
            "filters": filt.counts,
            "filter_config": conf.to_json(),
            "splits": filt.splits,
            "totals": {"records": len(records), "published": filt.kept.height},
        },
    )
    return dest


def copy_corpus(clean: CleanCorpus, dest: Path) -> CleanCorpus:
    """A private copy of the corpus (dataset and clones) a test may damage."""
    shutil.copytree(clean.dataset, dest / "dataset")
    shutil.copytree(clean.sources_dir, dest / "sources", symlinks=True)
    return CleanCorpus(dest / "dataset", dest / "sources")


def rewrite_records(
    dataset: Path, change, *, balanced: bool = True, only_balanced: bool = False
) -> None:
    """Apply ``change(records) -> records`` to the dataset's table and write it back (to the
    balanced config too, which holds every record in this fixture, unless ``balanced=False``;
    ``only_balanced``: the balanced config's own rows, and only them)."""
    from corpus.layout import BALANCED_DIR, DATA_DIR
    from corpus.schema import SPLITS
    from corpus.store import read_records, write_parquet

    recs = change(read_records(dataset, "balanced" if only_balanced else "default").to_dicts())
    folders = (
        [BALANCED_DIR] if only_balanced else [DATA_DIR, BALANCED_DIR] if balanced else [DATA_DIR]
    )
    for folder in folders:
        for f in (dataset / folder).glob("*.parquet"):
            f.unlink()
        for split in SPLITS:
            rows = [r for r in recs if r["split"] == split]
            if rows:
                write_parquet(dataset / folder / f"{split}-00000-of-00001.parquet", rows)

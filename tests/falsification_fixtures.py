"""A real, clean corpus for the falsification tests: five git repos made with
``tests.gitrepos.make_rust_repo``, extracted with the project's extractor, filtered, deduped
and split with ``corpus.filters``, and written as a dataset dir with stats.json and
sources.lock. File names are chosen by their split bucket so the splits come out 80/10/10.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.gitrepos import make_rust_repo

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


def _pick_files(repo: str, want: dict[str, int]) -> dict[str, str]:
    """File paths (one fn each) whose split buckets give exactly ``want`` per split."""
    from corpus.splits import split_of

    out: dict[str, str] = {}
    need = dict(want)
    k = 0
    while any(need.values()):
        path = f"src/part_{k}.rs"
        s = split_of(f"{OWNER}/{repo}", path)
        if need.get(s, 0) > 0:
            out[path] = s
            need[s] -= 1
        k += 1
    return out


@dataclass
class CleanCorpus:
    """Where the clean fixture lives."""

    dataset: Path
    sources_dir: Path


def _quotas() -> list[dict[str, int]]:
    # 100 records: 4 come from alpha's src/lib.rs (the SAMPLE_LIB reps), 96 are generated.
    from corpus.splits import split_of

    total = {"train": 80, "validation": 10, "test": 10}
    total[split_of(f"{OWNER}/alpha", "src/lib.rs")] -= 4
    per = [dict.fromkeys(total, 0) for _ in REPOS]
    i = 0
    for split, n in total.items():
        for _ in range(n):
            per[i % len(REPOS)][split] += 1
            i += 1
    return per


def make_clean_corpus(root: Path) -> CleanCorpus:
    """Build the clean five-repo corpus under ``root`` (sources/ and dataset/)."""
    from corpus.extract import extract_tree
    from corpus.sources import Source

    sources_dir = root / "sources"
    rng = random.Random(7)
    sources, records, repo_stats = [], [], {}
    for repo, quota in zip(REPOS, _quotas(), strict=True):
        files = {
            path: "//! Generated module.\n\n" + _fn(i, repo, rng)
            for i, path in enumerate(_pick_files(repo, quota))
        }
        commit = make_rust_repo(sources_dir / OWNER / repo, repo, extra=files)
        full = f"{OWNER}/{repo}"
        recs, st = extract_tree(
            sources_dir / OWNER / repo, repo=full, commit=commit, license="MIT", workers=1
        )
        records.extend(recs)
        repo_stats[full] = st
        sources.append(Source(full, f"https://github.com/{full}.git", commit, "MIT", "master"))
    dataset = write_dataset(root / "dataset", records, sources, repo_stats)
    return CleanCorpus(dataset, sources_dir)


def write_dataset(
    dest: Path, records: list[dict[str, Any]], sources: list, repo_stats: dict[str, Any]
) -> Path:
    """Filter, dedup and split ``records`` with corpus.filters and write a dataset dir."""
    import polars as pl

    from corpus.extract.parser import GRAMMAR_VERSION
    from corpus.filters import FilterConfig, filter_records
    from corpus.schema import EXTRACTOR_VERSION, SPLITS
    from corpus.sources import write_sources
    from corpus.store import DATA_DIR, STATS_FILE, write_json, write_parquet

    conf = FilterConfig()
    filt = filter_records(records, conf)
    for split in SPLITS:
        write_parquet(
            dest / DATA_DIR / f"{split}-00000-of-00001.parquet",
            filt.kept.filter(pl.col("split") == split),
        )
    write_sources(dest / "sources.lock", sources)
    write_json(
        dest / STATS_FILE,
        {
            "extractor_version": EXTRACTOR_VERSION,
            "grammar_version": GRAMMAR_VERSION,
            "repos": repo_stats,
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


def rewrite_records(dataset: Path, change) -> None:
    """Apply ``change(records) -> records`` to the dataset's table and write it back."""
    from corpus.schema import SPLITS
    from corpus.store import DATA_DIR, read_records, write_parquet

    recs = change(read_records(dataset).to_dicts())
    for f in (dataset / DATA_DIR).glob("*.parquet"):
        f.unlink()
    for split in SPLITS:
        rows = [r for r in recs if r["split"] == split]
        if rows:
            write_parquet(dataset / DATA_DIR / f"{split}-00000-of-00001.parquet", rows)

"""The dataset card (README.md on the Hub), rendered from what one build produced.

Every number on the card comes from the build folder: row counts and licences from the parquet
files, pins from sources.lock, extraction/filter counts from stats.json, the score from
falsification.json. ``collect_facts`` gathers them; ``render_card`` only formats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from corpus import __version__
from corpus.errors import BadInputError
from corpus.layout import CONFIG_DIRS, DATA_DIR, DatasetLayout, split_of_file_name
from corpus.schema import ALL_FIELDS, SPLITS
from corpus.store import read_stats
from falsification.report import Report, read_report
from pipelines.publish.card_licenses import (  # noqa: F401  (SPDX_TO_HUB, spdx_ids: API)
    SPDX_TO_HUB,
    hub_licenses,
    license_metadata,
    licenses_table,
    spdx_ids,
)
from pipelines.publish.card_markdown import count, table
from pipelines.publish.card_preferences import preferences_section
from pipelines.publish.card_training import (
    configs_section,
    prompt_section,
    splits_section,
    tokens_section,
)

PLACEHOLDER_REPO_ID = "ORG/NAME"

# (upper bound exclusive, Hub size category): the vocabulary in datasets' size_categories.json.
_SIZE_BOUNDS = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
)
_FLAG_COLUMNS = (
    "is_test",
    "doc_unresolved",
    "parse_error",
    "file_parse_error",
    "redacted",
    "is_nested",
    "has_body",
)


@dataclass(frozen=True)
class RepoFacts:
    """One pinned source repository and what the build took from it."""

    repo: str
    commit: str
    license: str
    files: int | None
    extracted: int | None
    rows: dict[str, int]  # split -> published rows

    @property
    def total(self) -> int:
        """Published rows from this repository."""
        return sum(self.rows.values())


@dataclass(frozen=True)
class CardFacts:
    """Everything the card states, read from one dataset folder."""

    split_rows: dict[str, int]
    split_files: dict[str, list[str]]
    repos: list[RepoFacts]
    licenses: list[str]  # SPDX expressions of the rows actually included
    stats: dict[str, Any]
    falsification: Report | None
    flags: dict[str, int] = field(default_factory=dict)  # boolean column -> rows where true
    with_doc: int = 0
    #: config -> split -> rows / its data files (the default config is split_rows/split_files).
    config_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    config_files: dict[str, list[str]] = field(default_factory=dict)
    example: dict[str, Any] | None = None  # one real record, shown on the card

    @property
    def total_rows(self) -> int:
        """All published rows."""
        return sum(self.split_rows.values())


def size_category(n: int) -> str:
    """The Hub size category for ``n`` rows."""
    for bound, name in _SIZE_BOUNDS:
        if n < bound:
            return name
    return "n>1T"


def _split_rows(dataset: Path) -> tuple[dict[str, list[str]], Any]:
    """(split -> its data files, the rows the card counts) of a dataset folder."""
    import polars as pl

    from corpus.store import dataset_parquet_files, read_parquet

    files = dataset_parquet_files(dataset)
    if any(f.parent != dataset / DATA_DIR for f in files):
        raise BadInputError(f"{dataset}: not a dataset folder (expected {DATA_DIR}/*.parquet)")
    split_files: dict[str, list[str]] = {}
    frames = []
    for f in files:
        split = split_of_file_name(f.name, SPLITS)
        if split is None:
            raise BadInputError(
                f"{DATA_DIR}/{f.name}: expected <split>-NNNNN-of-NNNNN.parquet with split in "
                f"{', '.join(SPLITS)}"
            )
        split_files.setdefault(split, []).append(f"{DATA_DIR}/{f.name}")
        df = read_parquet(f)
        if df.height and set(df["split"].unique().to_list()) != {split}:
            raise BadInputError(f"{f}: holds rows whose split column is not {split!r}")
        frames.append(df.select(["repo", "commit", "license", "split", "doc", *_FLAG_COLUMNS]))
    return split_files, (pl.concat(frames) if frames else pl.DataFrame())


def _check_pins(dataset: Path, rows: Any, sources: list[Any]) -> None:
    """Every row's repository is pinned in sources.lock, at the commit the row was read at."""
    pins = {s.repo: s for s in sources}
    unknown = sorted(set(rows["repo"].unique().to_list()) - set(pins))
    if unknown:
        raise BadInputError(f"{dataset}: rows from repos not pinned in sources.lock: {unknown}")
    for (repo, commit), _ in rows.group_by(["repo", "commit"]):
        if commit != pins[repo].commit:
            raise BadInputError(
                f"{dataset}: rows of {repo} were read at {commit} but sources.lock pins "
                f"{pins[repo].commit}; rebuild the dataset"
            )


def collect_facts(dataset: Path) -> CardFacts:
    """Read the counts, pins and reports the card states from a dataset folder."""
    from corpus.sources import load_sources

    dataset = Path(dataset)
    split_files, rows = _split_rows(dataset)
    lock = DatasetLayout(dataset).sources_lock
    if not lock.is_file():
        raise BadInputError(f"{lock}: missing; it holds the pins of this build (run corpus build)")
    sources = load_sources(lock)
    _check_pins(dataset, rows, sources)
    stats = read_stats(dataset)
    stat_repos = stats.get("repos", {})
    counts = rows.group_by(["repo", "split"]).len()
    per_repo: dict[str, dict[str, int]] = {}
    for repo, split, n in counts.iter_rows():
        per_repo.setdefault(repo, {})[split] = n
    repos = [
        RepoFacts(
            repo=s.repo,
            commit=s.commit,
            license=_repo_license(stats, s),
            files=stat_repos.get(s.repo, {}).get("files"),
            extracted=stat_repos.get(s.repo, {}).get("records"),
            rows={sp: per_repo.get(s.repo, {}).get(sp, 0) for sp in SPLITS},
        )
        for s in sources
    ]
    split_rows = {sp: int((rows["split"] == sp).sum()) for sp in SPLITS if sp in split_files}
    config_rows, config_files = _config_files(dataset, split_rows, split_files)
    return CardFacts(
        split_rows=split_rows,
        split_files={sp: sorted(v) for sp, v in split_files.items()},
        config_rows=config_rows,
        config_files=config_files,
        example=_example(dataset),
        repos=repos,
        licenses=sorted(set(rows["license"].unique().to_list())),
        stats=stats,
        falsification=read_report(dataset),
        flags={c: int(rows[c].sum()) for c in _FLAG_COLUMNS},
        with_doc=int(rows["doc"].is_not_null().sum()),
    )


def _repo_license(stats: dict[str, Any], source: Any) -> str:
    """The licence the card shows for a repository: detected at its pin (stats.json
    ``licenses``), else, for a build made before detection, the pinned one."""
    found = (stats.get("licenses") or {}).get(source.repo)
    if isinstance(found, dict) and isinstance(found.get("detected"), str):
        return found["detected"]
    return source.license


def _config_files(
    dataset: Path, split_rows: dict[str, int], split_files: dict[str, list[str]]
) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """Rows per split and data files of every config the folder holds."""
    import pyarrow.parquet as pq

    rows: dict[str, dict[str, int]] = {"default": dict(split_rows)}
    files: dict[str, list[str]] = {"default": sorted(f for v in split_files.values() for f in v)}
    layout = DatasetLayout(dataset)
    for config in layout.configs():
        if config == "default":
            continue
        paths = layout.parquet_files(config)
        rows[config] = {}
        for f in paths:
            split = split_of_file_name(f.name, SPLITS)
            if split is None:
                raise BadInputError(f"{f}: expected <split>-NNNNN-of-NNNNN.parquet")
            rows[config][split] = rows[config].get(split, 0) + pq.ParquetFile(f).metadata.num_rows
        files[config] = sorted(f.relative_to(dataset).as_posix() for f in paths)
    return rows, files


def _example(dataset: Path) -> dict[str, Any] | None:
    """A real record for the card: the first train record of an impl with an # Examples doc
    (short enough to read), else the first train record."""
    import polars as pl

    from corpus.store import read_parquet

    f = DatasetLayout(dataset).data_dir / "train-00000-of-00001.parquet"
    if not f.is_file():
        return None
    df = read_parquet(f)
    if not df.height:
        return None
    nice = df.filter(
        (pl.col("container_kind") == "impl")
        & pl.col("doc_sections").list.contains("Examples")
        & (pl.col("doc").str.len_chars() < 600)
    )
    return (nice if nice.height else df).row(0, named=True)


# --- rendering ---------------------------------------------------------------------------------


def card_metadata(facts: CardFacts) -> dict[str, Any]:
    """The YAML front matter: licences, language, tasks, size, configs."""
    meta: dict[str, Any] = license_metadata(facts.licenses)
    meta |= {
        "language": ["code", "en"],
        "task_categories": ["text-generation", "summarization"],
        "size_categories": [size_category(facts.total_rows)],
        "pretty_name": "rustdoc-corpus: Rust function signatures and doc comments",
        "tags": ["code", "rust", "documentation", "docstring-generation", "code-to-text"],
        "configs": [
            {
                "config_name": config,
                "data_files": [
                    {"split": sp, "path": f"{CONFIG_DIRS[config]}/{sp}-*.parquet"}
                    for sp in SPLITS
                    if sp in facts.config_rows.get(config, facts.split_rows)
                ],
            }
            for config in (facts.config_rows or {"default": facts.split_rows})
        ],
    }
    return meta


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_card(
    facts: CardFacts, *, repo_id: str = PLACEHOLDER_REPO_ID, tag: str, forced: bool = False
) -> str:
    """The whole card: YAML front matter and a markdown body."""
    meta = yaml.safe_dump(card_metadata(facts), sort_keys=False, allow_unicode=True, width=1000)
    body = [
        _banner(facts) if forced else "",
        "# rustdoc-corpus",
        _summary(facts),
        _loading(repo_id, tag, facts),
        configs_section(facts.config_rows or {"default": facts.split_rows}, facts.stats),
        preferences_section(facts),
        prompt_section(facts.example),
        tokens_section(facts.stats),
        _fields_section(),
        _sources_section(facts),
        splits_section(facts.stats),
        _filtering_section(facts),
        _falsification_section(facts),
        _versions_section(facts, tag),
        _limitations_section(facts),
        _problems_section(repo_id),
        _citation_section(repo_id, tag),
    ]
    return "---\n" + meta + "---\n\n" + "\n\n".join(b for b in body if b).rstrip() + "\n"


def _banner(facts: CardFacts) -> str:
    fals = facts.falsification
    if fals is None:
        verdict, score = "MISSING", "no falsification report"
    else:
        verdict, score = fals.verdict, f"score {fals.score}/{fals.max_score}"
        if fals.problems():
            score += "; the report is incomplete or inconsistent"
    return (
        f"> [!WARNING]\n> **This build did not pass falsification** (verdict {verdict}, {score}). "
        "It was published with `--force`; read the falsification section before using it."
    )


def _summary(facts: CardFacts) -> str:
    used = [r for r in facts.repos if r.total]
    split_rows = ", ".join(f"{count(n)} {sp}" for sp, n in facts.split_rows.items())
    return (
        f"Pairs of **Rust function signatures and their doc comments**, extracted with "
        f"tree-sitter from {len(used)} open-source Rust repositories, each read at a pinned "
        f"commit. {count(facts.total_rows)} function items ({split_rows}); "
        f"{count(facts.with_doc)} of them have a doc comment. Every row carries its provenance "
        "(repository, commit, path, byte span, permalink) and its licence, detected from the "
        "repository at its pin.\n\n"
        "Uses: fine-tuning and evaluating models that write or summarise API documentation "
        "(signature -> doc), code search, and studying Rust documentation conventions."
    )


def _loading(repo_id: str, tag: str, facts: CardFacts) -> str:
    rows = [[sp, count(n), ", ".join(f"`{f}`" for f in facts.split_files[sp])]
            for sp, n in facts.split_rows.items()]  # fmt: skip
    return (
        "## Load it\n\n```python\nfrom datasets import load_dataset\n\n"
        f'ds = load_dataset("{repo_id}", revision="{tag}")  # this build, every record\n'
        + (
            f'balanced = load_dataset("{repo_id}", "balanced", revision="{tag}")\n'
            if "balanced" in facts.config_rows
            else ""
        )
        + 'print(ds["train"][0]["signature"], ds["train"][0]["doc"])\n```\n\n'
        "Without `revision=` you get the newest build (`main`). Tags can be moved; for a "
        "pin that can never change, pass the commit SHA of a build as `revision`.\n\n"
        + table(["split", "rows", "files"], rows)
    )


def _fields_section() -> str:
    rows = [[f"`{f.name}`", f"`{f.type_name}`", "yes" if f.nullable else "no",
             _cell(f.description)] for f in ALL_FIELDS]  # fmt: skip
    return "## Fields\n\n" + table(["field", "type", "nullable", "meaning"], rows)


def _sources_section(facts: CardFacts) -> str:
    rows = [
        [
            f"[{r.repo}](https://github.com/{r.repo}/tree/{r.commit})",
            f"`{r.commit}`",
            _cell(r.license),
            count(r.files),
            count(r.extracted),
            *(count(r.rows.get(sp, 0)) for sp in SPLITS),
            count(r.total),
        ]
        for r in facts.repos
    ]
    hub, unmapped = hub_licenses(facts.licenses)
    lic = ", ".join(f"`{x}`" for x in hub)
    note = (
        f"Licences of the included code: {', '.join(f'`{x}`' for x in facts.licenses)} "
        f"(SPDX); on the Hub: {lic or 'none'}"
        + (f", plus `other` for {', '.join(unmapped)}" if unmapped else "")
        + ". Each licence was detected from the repository itself at its pin: the licence "
        "texts of its licence files (licenseclassifier) and the `license` fields of its "
        "Cargo.toml files, which must agree with the licence declared for it (see "
        "`provenance.license_detected`). Each row's `license` column carries the SPDX "
        "expression of the package its file belongs to (the repository's, unless a workspace "
        "member declares another); under `A OR B` you may use the code under either licence, "
        "and a `WITH` exception only adds permissions. Keep the licence and the `permalink` "
        "with any text you redistribute."
    )
    header = ["repository", "commit", "licence", "files", "extracted", *SPLITS, "published"]
    return (
        "## Sources\n\n" + table(header, rows) + "\n\n" + note + "\n\n### Licences at the "
        "pins\n\n" + licenses_table(facts.repos, facts.stats)
    )


def _filtering_section(facts: CardFacts) -> str:
    stats = facts.stats
    drops, filters, totals = (stats.get(k, {}) for k in ("drops", "filters", "totals"))
    rows = [["files read", count(totals.get("files"))],
            ["function items extracted", count(totals.get("records"))],
            ["... with a doc comment", count(totals.get("documented"))]]  # fmt: skip
    rows += [
        [f"file/item dropped: {k.replace('_', ' ')}", count(v)] for k, v in sorted(drops.items())
    ]
    rows += [[f"filtered: {k.replace('_', ' ')}", count(v)] for k, v in sorted(filters.items())]
    rows += [["**published rows**", f"**{count(facts.total_rows)}**"]]
    flags = facts.flags
    return (
        "## Filtering and deduplication\n\n"
        "Files that are not UTF-8, oversized or mostly unparsable are skipped. Docs with a defect "
        "their authors' own lints flag (a code fence left open; a `pub unsafe fn` without "
        "`# Safety`) are dropped. Exact duplicates (same signature and doc, or same source) and "
        "near duplicates (word 3-gram Jaccard >= 0.7: MinHash LSH candidates, confirmed "
        "exactly) are clustered and one representative is kept (`dup_cluster` names it); "
        "secrets found by detect-secrets are redacted or the row is dropped. Splits are assigned "
        "per file and duplicate cluster, so no cluster spans two splits (see Splits). Nothing "
        "is dropped for balance: the `balanced` config caps each repository's share instead "
        "(see Configs).\n\n"
        + table(["step", "count"], rows)
        + f"\n\nAmong the published rows: {count(flags.get('is_test'))} test/bench/example "
        f"functions, {count(flags.get('redacted'))} with redacted secrets, "
        f"{count(flags.get('doc_unresolved'))} with a doc that could not be fully resolved, "
        f"{count(flags.get('parse_error'))} whose own body holds a parse error and "
        f"{count(flags.get('file_parse_error'))} from files with a parse error anywhere."
    )


def _falsification_section(facts: CardFacts) -> str:
    fals = facts.falsification
    if fals is None:
        return "## Falsification\n\nThis build has no falsification report."
    rows = [[c, f"{v['score']} / {v['max']}"] for c, v in fals.categories.items()]
    lines = [
        "## Falsification",
        "",
        f"Before publishing, the build is attacked by a suite of checks, each a hypothesis that "
        f"could prove the data wrong. Score **{fals.score} / {fals.max_score}**, verdict "
        f"**{fals.verdict}**"
        + (f", over {_plural(len(fals.checks), 'check')}." if fals.checks else "."),
        "",
        table(["category", "points"], rows) if rows else "",
    ]
    if fals.failed:
        lines += ["", "Checks that failed:", ""]
        lines += [
            f"- `{c.id}` ({c.awarded}/{c.points} points, {c.severity}): {_cell(c.evidence)[:300]}"
            for c in fals.failed
        ]
    lines += [
        "",
        "The full report is in this repository: [falsification.md](falsification.md) "
        "(every check, its hypothesis and evidence) and `falsification.json`.",
    ]
    return "\n".join(lines)


def _versions_section(facts: CardFacts, tag: str) -> str:
    stats = facts.stats
    rows = [["this build (tag)", f"`{tag}`"],
            ["rustdoc-corpus", f"`{__version__}`"],
            ["extractor", f"`{stats.get('extractor_version', 'n/a')}`"],
            ["grammar", f"`{stats.get('grammar_version', 'n/a')}`"]]  # fmt: skip
    return (
        "## Versions\n\n"
        "Each build is one commit on `main`, tagged `vYYYY.MM.DD-<content hash>` (the hash "
        "covers the data files, so a tag names exactly one set of rows). `sources.lock` in this "
        "repository lists the pins the build used and `stats.json` its counts.\n\n"
        + table(["component", "version"], rows)
    )


def _limitations_section(facts: CardFacts) -> str:
    return (
        "## Limitations\n\n"
        f"- Only {len([r for r in facts.repos if r.total])} repositories: the style of their "
        "maintainers dominates; this is not a sample of all Rust code.\n"
        "- Doc comments are taken as written; some are terse, outdated or wrong, and nothing "
        "checks that a doc describes what its function does.\n"
        "- Functions generated by macros are only recovered when their body is plain Rust inside "
        "the macro; docs built by macros or `include_str!` may be partial (`doc_unresolved`).\n"
        "- Splits are placed per file: a repository whose records sit in a few large files "
        "cannot come closer to 80/10/10 than its largest file allows (see Splits).\n"
        "- Near duplicates are judged on doc text only (docs of 8 or more words); two functions "
        "with different docs but similar code can sit in different splits.\n"
        "- Secret detection is heuristic; report anything sensitive and it will be removed in "
        "the next build."
    )


def _problems_section(repo_id: str) -> str:
    return (
        "## Report a problem or request removal\n\n"
        "If a row carries something it should not (a secret the filters missed, personal "
        "data, code under a licence that does not allow it) or is simply wrong, open a "
        f"discussion on this dataset's Hub page (https://huggingface.co/datasets/{repo_id}"
        "/discussions) with the row's `id` or `permalink`. Authors of the source repositories "
        "can ask for their code to be removed the same way; the next build leaves it out and "
        "its tag says so. Every row can be traced to its repository, commit and lines, so "
        "nothing needs to be taken on trust."
    )


def _citation_section(repo_id: str, tag: str) -> str:
    m = re.match(r"v(\d{4})", tag)
    year = m.group(1) if m else "n.d."
    key = re.sub(r"[^a-z0-9]+", "_", repo_id.lower()).strip("_")
    return (
        "## Citation\n\n```bibtex\n"
        f"@misc{{{key},\n"
        f"  title  = {{rustdoc-corpus: Rust function signatures and doc comments}},\n"
        f"  year   = {{{year}}},\n"
        f"  note   = {{Hugging Face dataset {repo_id}, revision {tag}}},\n"
        f"  url    = {{https://huggingface.co/datasets/{repo_id}}}\n"
        "}\n```"
    )

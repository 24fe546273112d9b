"""The suite as a whole: 100 points, a real clean corpus scores 100/100, reports, the CLI and
its exit codes, and property tests of the helpers the checks rely on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.schema import ALL_FIELDS
from falsification import MAX_SCORE, all_checks, run_suite, verdict_for, write_report
from falsification.checks.distribution import near_duplicate_pairs, shingles
from falsification.checks.privacy import license_allowed
from falsification.docs import redaction_of, rustdoc_source, split_doc
from falsification.registry import CATEGORIES
from falsification.schema import record_schema
from tests.falsification_fixtures import copy_corpus, make_clean_corpus, rewrite_records


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The clean corpus, built once per worker."""
    return make_clean_corpus(tmp_path_factory.mktemp("clean"))


def test_points_total_100_and_every_check_is_described():
    checks = all_checks()
    assert sum(c.points for c in checks) == MAX_SCORE == 100
    assert len({c.id for c in checks}) == len(checks)
    for c in checks:
        assert c.category in CATEGORIES and c.id.startswith(c.category + ".")
        assert c.severity in ("critical", "normal")
        assert c.hypothesis.endswith(".") and len(c.hypothesis.split()) >= 6
    crit = {c.category for c in checks if c.severity == "critical"}
    assert {"provenance", "privacy"} <= crit
    assert {c.id for c in checks if c.category == "provenance"} <= {
        c.id for c in checks if c.severity == "critical"
    }


def test_clean_real_corpus_scores_100(clean, tmp_path):
    report = run_suite(clean.dataset, clean.sources_dir, hypothesis_examples=40)
    failed = {c.id: c.evidence for c in report.checks if not c.passed}
    assert failed == {}
    assert (report.score, report.verdict, report.records) == (100, "PASS", 100)
    jpath, mpath = write_report(report, tmp_path)
    data = json.loads(jpath.read_text())
    assert data["score"] == 100 and data["verdict"] == "PASS" and data["max_score"] == 100
    assert sum(v["max"] for v in data["categories"].values()) == 100
    keys = {
        "id",
        "category",
        "points",
        "awarded",
        "passed",
        "severity",
        "hypothesis",
        "evidence",
        "offending_ids",
    }
    assert all(keys <= set(c) for c in data["checks"])
    assert "**Verdict: PASS**" in mpath.read_text()


def test_runs_are_reproducible(clean):
    a = run_suite(clean.dataset, clean.sources_dir, seed=5, hypothesis_examples=20).to_json()
    b = run_suite(clean.dataset, clean.sources_dir, seed=5, hypothesis_examples=20).to_json()
    assert a == b  # the report carries no run times: identical runs, identical reports


def test_without_sources_provenance_cannot_pass(clean):
    report = run_suite(clean.dataset, None, hypothesis_examples=10)
    need = {c.id for c in all_checks() if c.needs_sources}
    assert need >= {
        "provenance.commit_exists",
        "provenance.path_exists",
        "provenance.source_matches_blob",
        "provenance.fields_reextract",
    }
    for c in report.checks:
        if c.id in need:
            assert not c.passed and "--sources-dir" in c.evidence
    assert report.verdict == "FAIL" and report.score == 100 - sum(
        c.points for c in all_checks() if c.needs_sources
    )


def test_schema_is_derived_from_all_fields():
    schema = record_schema()
    assert list(schema.columns) == [f.name for f in ALL_FIELDS]
    for f in ALL_FIELDS:
        assert schema.columns[f.name].nullable == f.nullable


@pytest.mark.parametrize(
    ("score", "critical", "verdict"),
    [
        (100, False, "PASS"),
        (95, False, "PASS"),
        (94, False, "WARN"),
        (85, False, "WARN"),
        (84, False, "FAIL"),
        (100, True, "FAIL"),
    ],
)
def test_verdict_thresholds(score, critical, verdict):
    assert verdict_for(score, 100, critical) == verdict


def _cli(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    # The clone cache is where `falsify` looks when --sources-dir is not given: always set it.
    cache = cache if cache is not None else Path("/nonexistent/rustdoc-corpus-cache")
    return subprocess.run(
        [sys.executable, "-m", "corpus.cli", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "CORPUS_CACHE_DIR": str(cache)},
    )


def test_cli_pass_writes_reports(clean, tmp_path):
    out = tmp_path / "out"
    res = _cli(
        "falsify", str(clean.dataset), "--sources-dir", str(clean.sources_dir), "--out", str(out)
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "PASS" in res.stdout and "100/100" in res.stdout
    assert json.loads((out / "falsification.json").read_text())["verdict"] == "PASS"
    assert (out / "falsification.md").is_file()


def test_cli_warn_exits_3(clean, tmp_path):
    corpus = copy_corpus(clean, tmp_path)

    def damage(recs):
        # Normal checks only: 3 repos (repo_count 1), the balanced config still holds the other
        # two (repo_share 2), no validation split (split_ratios 2; the manifest moves with the
        # records, so splits stay sticky), stats.json no longer matches (stats_consistent 1).
        keep = sorted({r["repo"] for r in recs})[:3]
        recs = [r for r in recs if r["repo"] in keep]
        for r in recs:
            if r["split"] == "validation":
                r["split"] = "train"
        return recs

    rewrite_records(corpus.dataset, damage, balanced=False)
    manifest = json.loads((corpus.dataset / "split_manifest.json").read_text())
    for paths in manifest["files"].values():
        for path, split in paths.items():
            paths[path] = "train" if split == "validation" else split
    (corpus.dataset / "split_manifest.json").write_text(json.dumps(manifest))
    res = _cli("falsify", str(corpus.dataset), "--sources-dir", str(corpus.sources_dir))
    report = json.loads((corpus.dataset / "falsification.json").read_text())
    assert (report["verdict"], report["score"]) == ("WARN", 94), report["checks"]
    assert report["critical_failures"] == []
    assert res.returncode == 3


def test_cli_fail_without_sources_exits_1(clean, tmp_path):
    res = _cli("falsify", str(clean.dataset), "--out", str(tmp_path))
    assert res.returncode == 1
    assert "FAIL" in res.stdout
    assert "no clones at" in res.stderr and "--sources-dir" in res.stderr


def test_cli_uses_the_clone_cache_by_default(clean, tmp_path):
    # `corpus build` then `corpus falsify`: the clones are found where the build put them.
    res = _cli("falsify", str(clean.dataset), "--out", str(tmp_path), cache=clean.sources_dir)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "100/100" in res.stdout


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
def test_cli_unreadable_corpus_exits_2(tmp_path, kind):
    ds = tmp_path / "ds"
    if kind == "corrupt":
        (ds / "data").mkdir(parents=True)
        (ds / "data" / "train-00000-of-00001.parquet").write_bytes(b"not parquet")
    res = _cli("falsify", str(ds))
    assert res.returncode == 2
    assert "error" in res.stderr and "Traceback" not in res.stderr


# ---- properties of the helpers the checks rely on -----------------------------------------

words = st.lists(
    st.sampled_from("alpha beta gamma delta eps zeta eta theta iota kappa".split()),
    min_size=8,
    max_size=14,
).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=4), words, max_size=12))
def test_near_duplicate_join_equals_brute_force(docs):
    got = {frozenset((a, b)) for a, b, _ in near_duplicate_pairs(docs, 0.7, min_words=8)}
    want = set()
    for a, b in combinations(sorted(docs), 2):
        sa, sb = shingles(docs[a]), shingles(docs[b])
        if sa and sb and len(sa & sb) / len(sa | sb) >= 0.7:
            want.add(frozenset((a, b)))
    assert got == want


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["MIT", "Apache-2.0", "GPL-3.0-only", "Unlicense"]), min_size=1, max_size=4
    ),
    st.sampled_from(["OR", "AND"]),
)
def test_license_expressions(ids, op):
    allowed = [i != "GPL-3.0-only" for i in ids]
    want = any(allowed) if op == "OR" else all(allowed)
    assert license_allowed(f" {op} ".join(ids)) == want
    assert license_allowed(f"({f' {op} '.join(ids)})") == want


def test_license_malformed():
    assert not license_allowed("MIT OR")
    assert not license_allowed("(MIT")
    assert license_allowed("Apache-2.0 WITH LLVM-exception")


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40), st.integers(0, 39), st.integers(1, 10))
def test_redaction_matches_only_redactions(text, i, n):
    i = min(i, len(text) - 1)
    red = text[:i] + "<REDACTED>" + text[i + n :]
    assert redaction_of(red, text)
    assert not redaction_of(red + "x", text + "y") or text.endswith("x")


def test_rustdoc_blocks():
    doc = "Text.\n\n```rust,no_run\n# fn hidden() {}\nlet a = 1;\n```\n\n```text\nx\n```\n"
    _prose, blocks = split_doc(doc)
    assert [b.is_rust for b in blocks] == [True, False]
    assert blocks[0].must_parse and "fn hidden" in rustdoc_source(blocks[0].text)
    assert re.search(r"fn main\(\) \{", rustdoc_source("let a = 1;"))
    assert not split_doc("```\nunclosed")[1][0].closed
    assert pl.__version__  # polars is the table library the suite reads with


def test_a_crashing_check_fails_by_name_and_the_others_still_run(clean, monkeypatch):
    from dataclasses import replace

    from falsification.registry import REGISTRY

    def boom(ctx):
        raise RuntimeError("object names must not contain newlines")

    target = (
        "provenance.ids_match_source"
        if "provenance.ids_match_source" in REGISTRY
        else next(c.id for c in all_checks() if c.category == "provenance")
    )
    monkeypatch.setitem(REGISTRY, target, replace(REGISTRY[target], fn=boom))
    report = run_suite(clean.dataset, clean.sources_dir, hypothesis_examples=10)
    by_id = {c.id: c for c in report.checks}
    assert len(by_id) == len(all_checks())
    crashed = by_id[target]
    assert not crashed.passed and crashed.awarded == 0
    assert crashed.evidence == "check crashed: RuntimeError: object names must not contain newlines"
    assert [c.id for c in report.checks if not c.passed] == [target]


def test_a_record_path_with_odd_characters_crashes_no_provenance_check(clean, tmp_path):
    # Regression: a newline in a path crashed four critical checks (git object names), and a
    # space or `[` gave an unencoded permalink that failed the schema check.
    corpus = copy_corpus(clean, tmp_path / "odd")

    renamed: list[str] = []

    def rename(recs):
        renamed.extend([recs[0]["id"], recs[1]["id"]])
        recs[0]["path"] = "src/odd [x] `y`.rs"
        recs[1]["path"] = "src/new\nline.rs"
        return recs

    rewrite_records(corpus.dataset, rename)
    report = run_suite(corpus.dataset, corpus.sources_dir, hypothesis_examples=10)
    assert not [c.id for c in report.checks if c.evidence.startswith("check crashed")]
    failing = {c.id for c in report.checks if not c.passed}
    # The records no longer match their files in git (nor the split manifest): the checks
    # say so as evidence naming them.
    assert failing and all(
        c.startswith(("provenance.", "integrity.")) or c == "distribution.splits_sticky"
        for c in failing
    ), failing
    assert set(renamed) <= set(
        next(c for c in report.checks if c.id == "provenance.path_exists").offending_ids
    )

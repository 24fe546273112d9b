"""Every check fails on a corpus (or source repo, or extractor) with exactly its defect."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from corpus.schema import permalink, record_id
from corpus.sources import load_sources, write_sources
from falsification import REGISTRY, all_checks, run_suite
from tests.falsification_fixtures import copy_corpus, make_clean_corpus, rewrite_records


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The clean corpus, built once per worker."""
    return make_clean_corpus(tmp_path_factory.mktemp("clean"))


def _reid(r: dict) -> dict:
    """Recompute id and permalink so a defect stays confined to what the test changed."""
    r["id"] = record_id(
        r["repo"], r["commit"], r["path"], r["start_byte"], r["end_byte"], r["source"]
    )
    r["permalink"] = permalink(r["repo"], r["commit"], r["path"], r["start_line"], r["end_line"])
    r["dup_cluster"] = r["id"]
    return r


def _plain(recs: list[dict]) -> list[dict]:
    return [r for r in recs if not r["redacted"]]


def one(change: Callable[[dict], None], reid: bool = False, pick: int = 0):
    """A table defect: ``change`` applied to one (unredacted) record."""

    def apply(recs: list[dict]) -> list[dict]:
        r = _plain(recs)[pick]
        change(r)
        if reid:
            _reid(r)
        return recs

    return apply


def share(change: Callable[[dict], None], frac: float = 0.2):
    """A table defect on a share of the documented records (beats statistical thresholds)."""

    def apply(recs: list[dict]) -> list[dict]:
        for r in _plain(recs)[: max(3, int(len(recs) * frac))]:
            change(r)
        return recs

    return apply


def _set(**kw):
    return lambda r: r.update(kw)


def _append_dup(recs):
    return [*recs, dict(recs[0])]


def _dup_content(recs):
    twin = dict(_plain(recs)[0])
    twin["start_byte"] += 10_000
    twin["end_byte"] += 10_000
    return [*recs, _reid(twin)]


def _shift_span(r):
    r["start_byte"] += 1
    r["end_byte"] += 1


def _keep_repos(n):
    def apply(recs):
        keep = sorted({r["repo"] for r in recs})[:n]
        return [r for r in recs if r["repo"] in keep]

    return apply


def _dominate(recs):
    top = recs[0]["repo"]
    others = [r for r in recs if r["repo"] != top]
    firsts = {}
    for r in others:
        firsts.setdefault(r["repo"], r)
    return [r for r in recs if r["repo"] == top] + list(firsts.values())


def _val_to_train(recs):
    for r in recs:
        if r["split"] == "validation":
            r["split"] = "train"
    return recs


def _cluster_leak(recs):
    train = next(r for r in recs if r["split"] == "train")
    test = next(r for r in recs if r["split"] == "test")
    test["dup_cluster"] = train["id"]
    return recs


def _near_leak(recs):
    train = next(r for r in _plain(recs) if r["split"] == "train")
    test = next(r for r in _plain(recs) if r["split"] == "test")
    test["doc"] = train["doc"].replace("the", "a", 1)
    return recs


def _unsafe_without_safety(recs):
    for r in _plain(recs)[:5]:
        r.update(is_unsafe=True, visibility="pub", doc="Reads the value.\n\nNo contract here.")
    return recs


def _edit_stats(ds: Path) -> None:
    stats = json.loads((ds / "stats.json").read_text())
    stats["splits"]["train"] += 1
    (ds / "stats.json").write_text(json.dumps(stats))


def _move_pin(ds: Path) -> None:
    srcs = load_sources(ds / "sources.lock")
    srcs[0] = type(srcs[0])(**{**srcs[0].__dict__, "commit": "1" * 40})
    write_sources(ds / "sources.lock", srcs)


def _broken_code_blocks(recs):
    for r in recs:
        if "```" in (r["doc"] or ""):
            r["doc"] = r["doc"].split("```")[0] + "```\nlet x = (;\n```"
    return recs


def _drop_docs(ext):
    """A defective extractor: real extraction, docs lost."""

    def bad(data, path, ctx):
        res = ext(data, path, ctx)
        for r in res.records:
            r["doc"] = None
        return res

    return bad


def _crashy(ext):
    """A defective extractor: crashes on input with a stray brace."""

    def bad(data, path, ctx):
        if data.count(b"{") != data.count(b"}"):
            raise IndexError("unbalanced input")
        return ext(data, path, ctx)

    return bad


def _unstable(ext):
    """A defective extractor: record order depends on a global counter."""
    calls = [0]

    def bad(data, path, ctx):
        res = ext(data, path, ctx)
        calls[0] += 1
        for r in res.records:
            r["qualified_path"] += f"_{calls[0]}"
        return res

    return bad


# check id -> (defect kind, defect). Kinds: "table" (records), "dataset" (files), "extractor".
DEFECTS: dict[str, list[tuple[str, object]]] = {
    "integrity.schema": [("table", one(_set(container_kind="module")))],
    "integrity.ids_unique": [("table", _append_dup)],
    "integrity.ids_recomputable": [("table", one(_set(id=hashlib.sha256(b"x").hexdigest())))],
    "integrity.no_duplicate_content": [("table", _dup_content)],
    "integrity.spans_consistent": [("table", one(_set(end_line=999), reid=True))],
    "integrity.nonempty": [("table", one(_set(signature="  ")))],
    "integrity.published_documented": [
        ("table", one(_set(doc=None, doc_summary=None, doc_sections=[])))
    ],
    "integrity.derived_fields": [("table", one(_set(doc_summary="Something else.")))],
    "integrity.stats_consistent": [("dataset", _edit_stats)],
    "provenance.pins_full_sha": [("dataset", _move_pin)],
    "provenance.commit_exists": [("table", one(_set(commit="1" * 40), reid=True))],
    "provenance.path_exists": [("table", one(_set(path="src/nowhere.rs"), reid=True))],
    "provenance.source_matches_blob": [("table", one(_shift_span, reid=True))],
    "provenance.doc_reextracts": [("table", one(_set(doc="Returns a different story entirely.")))],
    "provenance.deterministic": [
        ("table", share(_set(qualified_path="elsewhere::f"), frac=1.0)),
        ("extractor", _unstable),
    ],
    "provenance.permalinks": [("table", one(_set(permalink="https://github.com/a/b")))],
    "provenance.versions": [("table", one(_set(extractor_version="0.0.1")))],
    "provenance.license_pinned": [("table", one(_set(license="Apache-2.0")))],
    "syntax.signatures_parse": [("table", one(_set(signature="pub fn broken(x: u32 -> u32")))],
    "syntax.doc_code_blocks_parse": [("table", _broken_code_blocks)],
    "syntax.doc_text_clean": [
        ("table", one(_set(doc="Rings a bell \x07 here."))),
        ("table", one(_set(doc="Opens a fence.\n\n```\nlet x = 1;"))),
    ],
    "syntax.no_comment_markers": [("table", one(_set(doc="/// Left over.\n/// Twice.")))],
    "semantics.arguments_exist": [
        ("table", share(_set(doc="Does it.\n\n# Arguments\n\n* `ghost` - not a parameter.")))
    ],
    "semantics.unsafe_has_safety": [("table", _unsafe_without_safety)],
    "semantics.errors_fallible": [
        ("table", share(_set(doc="Does it.\n\n# Errors\n\nNever.", return_type="u32")))
    ],
    "semantics.summary_meaningful": [("table", share(_set(doc="TODO: write this.")))],
    "semantics.english": [
        ("table", share(_set(doc="Возвращает текущее значение счётчика без изменений.")))
    ],
    "semantics.examples_mention_item": [
        ("table", share(_set(doc="Does it.\n\n# Examples\n\n```\nlet y = 1;\n```")))
    ],
    "distribution.repo_count": [("table", _keep_repos(3))],
    "distribution.repo_share": [("table", _dominate)],
    "distribution.split_ratios": [("table", _val_to_train)],
    "distribution.no_exact_leak": [("table", _cluster_leak)],
    "distribution.no_near_leak": [("table", _near_leak)],
    "distribution.test_fns": [("table", one(_set(is_test=True, test_reason="attribute:test")))],
    "privacy.no_secrets": [
        ("table", one(_set(source='fn f() {\n    let password = "hunter2isverysecret";\n}')))
    ],
    "privacy.no_emails_tokens": [
        ("table", one(_set(doc="Mail jane.doe@corp-mail.io today."))),
        # only in an attribute: `#[doc = ".."]` text is published in `attributes` too
        ("table", one(_set(attributes=['#[deprecated(note = "ask jane.doe@corp-mail.io")]']))),
    ],
    "privacy.license_allowed": [("table", one(_set(license="GPL-3.0-only")))],
    "extractor.roundtrip": [("extractor", _drop_docs)],
    "extractor.fuzz": [("extractor", _crashy)],
}

CASES = [
    pytest.param(cid, kind, defect, id=f"{cid}-{n}")
    for cid, defects in DEFECTS.items()
    for n, (kind, defect) in enumerate(defects)
]


def test_every_check_has_a_defect_test():
    assert set(DEFECTS) == {c.id for c in all_checks()}


@pytest.mark.parametrize(("check_id", "kind", "defect"), CASES)
def test_check_fails_on_its_defect(clean, tmp_path, check_id, kind, defect):
    corpus = copy_corpus(clean, tmp_path)
    extractor = None
    if kind == "table":
        rewrite_records(corpus.dataset, defect)
    elif kind == "dataset":
        defect(corpus.dataset)
    else:
        from corpus.extract import extract_file_bytes

        extractor = defect(extract_file_bytes)
    opts = {
        "hypothesis_examples": 25,
        "hypothesis_shrink": False,
        "fuzz_cases": 40,
        "extract_bytes": extractor,
    }
    # (The clean corpus passes every check: test_falsification_suite.py asserts 100/100.)
    report = run_suite(corpus.dataset, corpus.sources_dir, only=[check_id], **opts)
    (res,) = report.checks
    assert not res.passed, res.evidence
    assert res.awarded == 0 and res.evidence
    assert "crashed" not in res.evidence, res.evidence
    if REGISTRY[check_id].severity == "critical":
        assert report.verdict == "FAIL"


RECORD_LEVEL = {
    cid
    for cid, ds in DEFECTS.items()
    if ds[0][0] == "table"
    and not cid.startswith(("distribution.repo", "distribution.split", "provenance.pins"))
}


@pytest.mark.parametrize("check_id", sorted(RECORD_LEVEL))
def test_record_defects_name_offenders(clean, tmp_path, check_id):
    corpus = copy_corpus(clean, tmp_path)
    rewrite_records(corpus.dataset, DEFECTS[check_id][0][1])
    (res,) = run_suite(corpus.dataset, corpus.sources_dir, only=[check_id]).checks
    assert res.offending_ids, res.evidence
    from corpus.store import read_records

    ids = set(read_records(corpus.dataset)["id"].to_list())
    assert set(res.offending_ids) <= ids


def test_missing_licence_file_fails(tmp_path, clean):
    """A source repo whose pinned commit has no licence file."""
    from tests.gitrepos import git

    corpus = copy_corpus(clean, tmp_path)
    repo_dir = next((corpus.sources_dir / "fixture").iterdir())
    git(repo_dir, "rm", "-q", "LICENSE")
    git(repo_dir, "commit", "-q", "-m", "drop licence")
    new = git(repo_dir, "rev-parse", "HEAD")
    # Re-point that repo's records and pin at the licence-less commit.
    repo = f"fixture/{repo_dir.name}"

    def repin(recs):
        return [_reid({**r, "commit": new}) if r["repo"] == repo else r for r in recs]

    rewrite_records(corpus.dataset, repin)
    srcs = [
        type(s)(**{**s.__dict__, "commit": new}) if s.repo == repo else s
        for s in load_sources(corpus.dataset / "sources.lock")
    ]
    write_sources(corpus.dataset / "sources.lock", srcs)
    (res,) = run_suite(
        corpus.dataset, corpus.sources_dir, only=["provenance.license_pinned"]
    ).checks
    assert not res.passed and repo in res.evidence


def test_random_single_record_corruption_is_caught(clean, tmp_path):
    """A seeded random byte edit of one record's source is caught by integrity or provenance."""
    corpus = copy_corpus(clean, tmp_path)
    rng = random.Random(3)

    def corrupt(recs):
        r = rng.choice(_plain(recs))
        i = rng.randrange(len(r["source"]))
        r["source"] = r["source"][:i] + "Z" + r["source"][i + 1 :]
        return recs

    rewrite_records(corpus.dataset, corrupt)
    report = run_suite(
        corpus.dataset,
        corpus.sources_dir,
        only=["integrity.ids_recomputable", "provenance.source_matches_blob"],
    )
    assert not any(c.passed for c in report.checks)

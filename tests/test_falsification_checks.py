"""Every check fails on a corpus (or source repo, or extractor) with exactly its defect."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from corpus.schema import permalink, record_id
from corpus.secrets import REDACTED
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


class Mutation:
    """A table defect that remembers which records it mutated (their ids after the change):
    the check must name those records, and only those."""

    def __init__(self, apply: Callable[[list[dict]], tuple[list[dict], set[str]]]) -> None:
        self._apply = apply
        self.ids: set[str] = set()

    def __call__(self, recs: list[dict]) -> list[dict]:
        recs, self.ids = self._apply(recs)
        return recs


def one(change: Callable[[dict], None], reid: bool = False, pick: int = 0) -> Mutation:
    """A table defect: ``change`` applied to one (unredacted) record."""

    def apply(recs: list[dict]) -> tuple[list[dict], set[str]]:
        r = _plain(recs)[pick]
        change(r)
        if reid:
            _reid(r)
        return recs, {r["id"]}

    return Mutation(apply)


def share(change: Callable[[dict], None], frac: float = 0.2) -> Mutation:
    """A table defect on a share of the documented records (beats statistical thresholds)."""

    def apply(recs: list[dict]) -> tuple[list[dict], set[str]]:
        picked = _plain(recs)[: max(3, int(len(recs) * frac))]
        for r in picked:
            change(r)
        return recs, {r["id"] for r in picked}

    return Mutation(apply)


def many(fn: Callable[[list[dict]], tuple[list[dict], set[str]]]) -> Mutation:
    """A table defect written as a whole function returning (records, mutated ids)."""
    return Mutation(fn)


def _set(**kw):
    return lambda r: r.update(kw)


def _append_dup(recs):
    return [*recs, dict(recs[0])], {recs[0]["id"]}


def _secret_in_a_twin(recs):
    # a record carrying a secret, then a clean copy under its id: each is scanned as itself
    # (strings looked up by id would scan the clean copy twice)
    first = _plain(recs)[0]
    clean = dict(first)
    first["doc"] = f"Token: {GH_TOKEN}"
    first["source"] = f'fn f() {{\n    {ALLOWLISTED.split(";")[0]};\n}}'
    return [*recs, clean], {first["id"]}


def _dup_content(recs):
    first = _plain(recs)[0]
    twin = dict(first)
    twin["start_byte"] += 10_000
    twin["end_byte"] += 10_000
    return [*recs, _reid(twin)], {first["id"], twin["id"]}


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


def _in_balanced_only(change, name_them: bool):
    """A defect of the balanced config alone: ``change(records) -> (records, ids changed)``."""

    def defect(ds: Path) -> set[str] | None:
        changed: set[str] = set()

        def apply(recs: list[dict]) -> list[dict]:
            recs, ids = change(recs)
            changed.update(ids)
            return recs

        rewrite_records(ds, apply, only_balanced=True)
        return changed if name_them else None

    return defect


def _balanced_row_moved(recs):
    # a balanced copy in another split than its default row: a leak the default checks miss
    r = next(r for r in recs if r["split"] == "test")
    r["split"] = "train"
    return recs, {r["id"]}


def _balanced_val_to_train(recs):
    return _val_to_train(recs), set()


def _other_split(r):
    r["split"] = "test" if r["split"] == "train" else "train"  # off its file's manifest split


def _cluster_leak(recs):
    train = next(r for r in recs if r["split"] == "train")
    test = next(r for r in recs if r["split"] == "test")
    test["dup_cluster"] = train["id"]
    return recs, {train["id"], test["id"]}


def _near_leak(recs):
    train = next(r for r in _plain(recs) if r["split"] == "train")
    test = next(r for r in _plain(recs) if r["split"] == "test")
    test["doc"] = train["doc"].replace("the", "a", 1)
    return recs, {train["id"], test["id"]}


def _unsafe_without_safety(recs):
    picked = _plain(recs)[:5]
    for r in picked:
        r.update(is_unsafe=True, visibility="pub", doc="Reads the value.\n\nNo contract here.")
    return recs, {r["id"] for r in picked}


def _edit_stats(ds: Path) -> None:
    stats = json.loads((ds / "stats.json").read_text())
    stats["splits"]["train"] += 1
    (ds / "stats.json").write_text(json.dumps(stats))


def _move_pin(ds: Path) -> set[str]:
    from corpus.store import read_records

    srcs = load_sources(ds / "sources.lock")
    srcs[0] = type(srcs[0])(**{**srcs[0].__dict__, "commit": "1" * 40})
    write_sources(ds / "sources.lock", srcs)
    recs = read_records(ds)
    return set(recs.filter(recs["repo"] == srcs[0].repo)["id"].to_list())


def _first_repo(ds: Path) -> tuple[str, Path]:
    """The first fixture repo: (owner/name, its clone beside the dataset)."""
    clone = sorted((ds.parent / "sources" / "fixture").iterdir())[0]
    return f"fixture/{clone.name}", clone


def _ids_of(ds: Path, repo: str) -> set[str]:
    from corpus.store import read_records

    recs = read_records(ds)
    return set(recs.filter(recs["repo"] == repo)["id"].to_list())


def _repin(ds: Path, files: dict[str, str | None], license_: str | None = None) -> str:
    """Commit ``files`` (None: delete) to the first repo's clone and move its records and
    pin there (optionally declaring ``license_``); stats.json keeps the old detection, as a
    stale or forged one would. Returns the repo."""
    from tests.gitrepos import commit_files, git

    repo, clone = _first_repo(ds)
    for rel in [k for k, v in files.items() if v is None]:
        git(clone, "rm", "-q", rel)
    new = commit_files(clone, {k: v for k, v in files.items() if v is not None}, "relicense")
    lic = license_ or next(s.license for s in load_sources(ds / "sources.lock") if s.repo == repo)
    rewrite_records(ds, lambda recs: [
        _reid({**r, "commit": new, "license": lic}) if r["repo"] == repo else r for r in recs
    ])  # fmt: skip
    srcs = [
        type(s)(**{**s.__dict__, "commit": new, "license": lic}) if s.repo == repo else s
        for s in load_sources(ds / "sources.lock")
    ]
    write_sources(ds / "sources.lock", srcs)
    return repo


def _gpl_declared_mit(ds: Path) -> set[str]:
    """The issue's finding: GPL-3.0 text and Cargo licence, still declared MIT."""
    from tests.gitrepos import license_text

    cargo = '[package]\nname = "alpha"\nversion = "0.1.0"\nlicense = "GPL-3.0-only"\n'
    repo = _repin(ds, {"LICENSE": license_text("GPL-3.0"), "Cargo.toml": cargo})
    return _ids_of(ds, repo)


def _apache_declared_mit_file(ds: Path) -> set[str]:
    """Declared Apache-2.0 (pin, records and stats.json say so), only an MIT file."""
    repo, _ = _first_repo(ds)
    srcs = [
        type(s)(**{**s.__dict__, "license": "Apache-2.0"}) if s.repo == repo else s
        for s in load_sources(ds / "sources.lock")
    ]
    write_sources(ds / "sources.lock", srcs)
    rewrite_records(ds, lambda recs: [
        {**r, "license": "Apache-2.0"} if r["repo"] == repo else r for r in recs
    ])  # fmt: skip
    _edit_licenses(ds, repo, declared="Apache-2.0", detected="Apache-2.0")
    return _ids_of(ds, repo)


def _no_licence_file(ds: Path) -> set[str]:
    return _ids_of(ds, _repin(ds, {"LICENSE": None}))


def _edit_licenses(ds: Path, repo: str, **fields) -> None:
    stats = json.loads((ds / "stats.json").read_text())
    stats["licenses"][repo].update(fields)
    (ds / "stats.json").write_text(json.dumps(stats))


def _forged_detection(ds: Path) -> set[str]:
    """The files are clean; stats.json claims a licence the pin does not hold."""
    repo, _ = _first_repo(ds)
    _edit_licenses(ds, repo, detected="MIT OR Apache-2.0")
    return _ids_of(ds, repo)


def _gpl_detected(ds: Path) -> set[str]:
    """stats.json says a repo's pin holds GPL-3.0 code (its records still say MIT)."""
    repo, _ = _first_repo(ds)
    _edit_licenses(ds, repo, detected="GPL-3.0-only")
    return _ids_of(ds, repo)


PEM_LEFTOVER = f"Key:\n{REDACTED}\nMIIEowIBAAKCAQEAu1SU1L7VLPHCgcBI\n-----END RSA PRIVATE KEY-----"
GH_TOKEN = "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8"
#: A secret its author told detect-secrets to ignore (a hostile repository can write that too).
ALLOWLISTED = 'let password = "hunter2isverysecret"; // pragma: allowlist secret'


def _rename_first_param(recs):
    """A buggy normaliser: the first parameter renamed in 60% of signatures (the prompt)."""
    picked = []
    for r in _plain(recs):
        sig = re.sub(r"\(\s*(?:mut\s+)?[A-Za-z_]\w*\s*:", "(renamed:", r["signature"], count=1)
        if sig != r["signature"] and len(picked) < max(3, int(len(recs) * 0.6)):
            r["signature"] = sig
            picked.append(r["id"])
    return recs, set(picked)


def _unsafe_flag_cleared(recs):
    """`is_unsafe = false` on every unsafe fn."""
    picked = [r for r in recs if r["is_unsafe"]]
    for r in picked:
        r["is_unsafe"] = False
    return recs, {r["id"] for r in picked}


def _dir_segment(r):
    # the defect: a directory that is no module (ripgrep::crates::core::flags::..)
    crate, rest = r["def_path"].split("::", 1)
    r["def_path"] = r["qualified_path"] = f"{crate}::src::{rest}"


def _wrong_module(r):
    crate, rest = r["def_path"].split("::", 1)
    r["def_path"] = r["qualified_path"] = f"{crate}::part_99::{rest}"


def _private_public(r):
    r["public_path"] = f"{r['crate_name']}::nowhere::{r['name']}"


def _unowned_but_read(r):
    r["target_kind"] = None  # its file is a module of the lib: a target does read it


def _broken_code_blocks(recs):
    picked = [r for r in recs if "```" in (r["doc"] or "")]
    for r in picked:
        r["doc"] = r["doc"].split("```")[0] + "```\nlet x = (;\n```"
    return recs, {r["id"] for r in picked}


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


# check id -> (defect kind, defect). Kinds: "table" (records: a Mutation names the records the
# check must report, a plain function is a corpus-level defect no record is to blame for),
# "dataset" (files: returns the ids to name, or None), "extractor" (a defective extractor).
DEFECTS: dict[str, list[tuple[str, object]]] = {
    "integrity.schema": [("table", one(_set(container_kind="module")))],
    "integrity.ids_unique": [("table", many(_append_dup))],
    "integrity.ids_recomputable": [("table", one(_set(id=hashlib.sha256(b"x").hexdigest())))],
    "integrity.no_duplicate_content": [("table", many(_dup_content))],
    "integrity.spans_consistent": [("table", one(_set(end_line=999), reid=True))],
    "integrity.nonempty": [("table", one(_set(signature="  ")))],
    "integrity.published_documented": [
        ("table", one(_set(doc=None, doc_summary=None, doc_sections=[])))
    ],
    "integrity.derived_fields": [
        ("table", one(_set(doc_summary="Something else."))),
        ("table", one(_set(qualified_path="alpha::elsewhere"))),
    ],
    "integrity.stats_consistent": [("dataset", _edit_stats)],
    "provenance.pins_full_sha": [("dataset", _move_pin)],
    "provenance.commit_exists": [("table", one(_set(commit="1" * 40), reid=True))],
    "provenance.path_exists": [("table", one(_set(path="src/nowhere.rs"), reid=True))],
    "provenance.source_matches_blob": [("table", one(_shift_span, reid=True))],
    "provenance.fields_reextract": [
        ("table", one(_set(doc="Returns a different story entirely."))),
        ("table", many(_rename_first_param)),
        ("table", many(_unsafe_flag_cleared)),
        ("table", one(_set(qualified_path="crate::elsewhere::f"))),
        ("table", one(_set(return_type="Option<u8>"))),
        ("table", one(_set(attributes=["#[inline(always)]"]))),
        ("table", one(_set(file_parse_error=True))),
        ("table", one(_set(public_path="crate::f"))),
    ],
    "provenance.deterministic": [
        ("table", share(_set(qualified_path="elsewhere::f"), frac=1.0)),
        ("extractor", _unstable),
    ],
    "provenance.permalinks": [("table", one(_set(permalink="https://github.com/a/b")))],
    "provenance.paths_resolve": [
        ("table", one(_dir_segment)),
        ("table", one(_wrong_module, pick=7)),
        ("table", one(_private_public, pick=3)),
        ("table", one(_unowned_but_read, pick=5)),
        ("table", one(_set(crate_name="other"))),
    ],
    "provenance.versions": [("table", one(_set(extractor_version="0.0.1")))],
    "provenance.license_pinned": [("table", one(_set(license="Apache-2.0")))],
    "provenance.license_detected": [
        ("dataset", _gpl_declared_mit),
        ("dataset", _apache_declared_mit_file),
        ("dataset", _no_licence_file),
        ("dataset", _forged_detection),
    ],
    "syntax.signatures_parse": [("table", one(_set(signature="pub fn broken(x: u32 -> u32")))],
    "syntax.doc_code_blocks_parse": [("table", many(_broken_code_blocks))],
    "syntax.doc_text_clean": [
        ("table", one(_set(doc="Rings a bell \x07 here."))),
        ("table", one(_set(doc="Opens a fence.\n\n```\nlet x = 1;"))),
    ],
    "syntax.no_comment_markers": [("table", one(_set(doc="/// Left over.\n/// Twice.")))],
    "semantics.arguments_exist": [
        ("table", share(_set(doc="Does it.\n\n# Arguments\n\n* `ghost` - not a parameter.")))
    ],
    "semantics.unsafe_has_safety": [("table", many(_unsafe_without_safety))],
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
    "distribution.repo_share": [
        ("table", _dominate),
        ("dataset", _in_balanced_only(_balanced_row_moved, name_them=True)),
    ],
    "distribution.split_ratios": [
        ("table", _val_to_train),
        ("dataset", _in_balanced_only(_balanced_val_to_train, name_them=False)),
    ],
    "distribution.splits_sticky": [("table", one(_other_split))],
    "distribution.no_exact_leak": [("table", many(_cluster_leak))],
    "distribution.no_near_leak": [("table", many(_near_leak))],
    "distribution.test_fns": [("table", one(_set(is_test=True, test_reason="attribute:test")))],
    "privacy.no_secrets": [
        ("table", one(_set(source='fn f() {\n    let password = "hunter2isverysecret";\n}'))),
        # the repository's own allowlist pragma does not hide it
        ("table", one(_set(source=f"fn f() {{\n    {ALLOWLISTED}\n}}"))),
        ("table", many(_secret_in_a_twin)),
        ("table", one(_set(path=f"src/{GH_TOKEN}.rs"))),  # a token in a file name
        ("table", one(_set(self_type=f"Client{GH_TOKEN}"))),  # ... and in a type name
    ],
    "privacy.no_emails_tokens": [
        ("table", one(_set(doc="Mail jane.doe@corp-mail.io today."))),
        # only in an attribute: `#[doc = ".."]` text is published in `attributes` too
        ("table", one(_set(attributes=['#[deprecated(note = "ask jane.doe@corp-mail.io")]']))),
        ("table", one(_set(permalink=f"https://github.com/o/r/blob/c/src/{GH_TOKEN}.rs#L1"))),
        ("table", one(_set(qualified_path=f"crate::{GH_TOKEN}::f"))),
        ("table", many(_secret_in_a_twin)),
        # what a BEGIN-line-only redaction leaves: the key's body and END line
        ("table", one(_set(doc=PEM_LEFTOVER))),
    ],
    "privacy.license_allowed": [
        ("table", one(_set(license="GPL-3.0-only"))),
        ("table", one(_set(license="MIT WITH Classpath-exception-2.0"))),
        ("dataset", _gpl_detected),
    ],
    "extractor.roundtrip": [("extractor", _drop_docs)],
    "extractor.fuzz": [("extractor", _crashy)],
}

#: Checks about the corpus as a whole: no record is to blame, so none may be named. Every
#: other defect names the records it mutated, and the check must name exactly those.
CORPUS_LEVEL = {
    "distribution.repo_count",
    "distribution.repo_share",
    "distribution.split_ratios",
    "integrity.stats_consistent",
    "extractor.roundtrip",  # generated items, not corpus records
    "extractor.fuzz",  # mutated sources, not corpus records
}

CASES = [
    pytest.param(cid, kind, defect, id=f"{cid}-{n}")
    for cid, defects in DEFECTS.items()
    for n, (kind, defect) in enumerate(defects)
]


def test_every_check_has_a_defect_test():
    assert set(DEFECTS) == {c.id for c in all_checks()}


def test_every_defect_names_the_records_it_mutated_or_is_corpus_level():
    # The suite's own guard: a table defect that is not a Mutation could pass with any
    # offender at all, so it must be one of the declared corpus-level checks.
    for cid, defects in DEFECTS.items():
        for kind, defect in defects:
            if kind == "table" and not isinstance(defect, Mutation):
                assert cid in CORPUS_LEVEL, f"{cid}: a table defect must be a Mutation"
            if kind == "extractor" and cid not in CORPUS_LEVEL:
                assert cid == "provenance.deterministic", cid  # names the re-extracted records


def _expected_offenders(corpus, kind: str, defect, mutated: set[str] | None) -> set[str] | None:
    """The records the check must name (None: it may name none)."""
    from corpus.store import read_records

    if isinstance(defect, Mutation):
        return defect.ids
    if kind == "dataset":
        return mutated or None
    if kind == "extractor":  # an unstable extractor: every re-extracted record may be named
        return set(read_records(corpus.dataset)["id"].to_list())
    return None


@pytest.mark.parametrize(("check_id", "kind", "defect"), CASES)
def test_check_fails_on_its_defect(clean, tmp_path, check_id, kind, defect):
    corpus = copy_corpus(clean, tmp_path)
    extractor, mutated = None, None
    if kind == "table":
        rewrite_records(corpus.dataset, defect)
    elif kind == "dataset":
        mutated = defect(corpus.dataset)
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
    expected = _expected_offenders(corpus, kind, defect, mutated)
    # A corpus-level check names no record, unless a defect of the dataset says which.
    if expected is None or (check_id in CORPUS_LEVEL and kind != "dataset"):
        assert check_id in CORPUS_LEVEL and res.offending_ids == [], res.offending_ids
    else:
        named = set(res.offending_ids)
        assert named and named <= expected, (sorted(named), sorted(expected))
        if len(expected) <= len(res.offending_ids) or len(expected) == 1:
            assert named == expected  # small defects: every mutated record is named


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


def test_a_file_moved_since_the_previous_build_fails_splits_sticky(clean, tmp_path):
    # Records and manifest agree with each other, but a test file of the previous build is now
    # in train: a later version would train on what an earlier one evaluated on.
    corpus = copy_corpus(clean, tmp_path)
    manifest_path = corpus.dataset / "split_manifest.json"
    current = json.loads(manifest_path.read_text())
    previous = json.loads(manifest_path.read_text())
    repo = sorted(current["files"])[0]
    path = next(p for p, s in sorted(current["files"][repo].items()) if s == "test")
    previous["files"][repo][path] = "validation"
    prev_file = tmp_path / "previous.json"
    prev_file.write_text(json.dumps(previous))
    (res,) = run_suite(corpus.dataset, corpus.sources_dir, only=["distribution.splits_sticky"],
                       previous_manifest=prev_file).checks  # fmt: skip
    assert not res.passed and f"{repo}:{path} validation->test" in res.evidence
    (ok,) = run_suite(corpus.dataset, corpus.sources_dir, only=["distribution.splits_sticky"],
                      previous_manifest=manifest_path).checks  # fmt: skip
    assert ok.passed and "0 of the previous build's" in ok.evidence
    manifest_path.unlink()
    (gone,) = run_suite(corpus.dataset, corpus.sources_dir,
                        only=["distribution.splits_sticky"]).checks  # fmt: skip
    assert not gone.passed and "no split_manifest.json" in gone.evidence


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

"""Filters: documented only, tests, secrets, exact and near dedup with stable representatives."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.filters import FilterConfig, cluster, filter_records, jaccard, shingles
from corpus.secrets import REDACTED, find_secrets, redact
from tests.records_factory import make_record

LONG = (
    "Parses the configuration file at the given path and returns the settings it declares, "
    "or an error describing the first invalid line."
)
AWS = "AKIAIOSFODNN7EXAMPLE"


def test_undocumented_and_tests_are_counted_and_rejected() -> None:
    recs = [make_record(0), make_record(1, doc=None), make_record(2, doc="  \n")]
    recs.append(make_record(3, is_test=True, test_reason="attribute:test"))
    res = filter_records(recs, FilterConfig())
    assert res.kept["id"].to_list() == [recs[0]["id"]]
    assert res.counts["undocumented"] == 2
    assert res.counts["test_excluded"] == 1
    assert sorted(res.rejects["reason"].to_list()) == ["test_excluded", "undocumented"] * 1 + [
        "undocumented"
    ]
    kept = filter_records(recs, FilterConfig(include_tests=True)).kept
    assert kept.height == 2
    assert kept.filter(kept["is_test"]).height == 1


CONTROLS = ["\x1b[2J", "\x00", "\x07", "\x7f", "\x9b", "\u202e", "\x0c", "\x1b]8;;x\x1b\\"]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["doc", "signature", "name", "container_header", "attributes", "source"]),
    st.sampled_from(CONTROLS),
    st.integers(0, 40),
)
def test_a_control_character_in_any_text_column_drops_the_record(
    column: str, ctrl: str, at: int
) -> None:
    rec = make_record(0, container_header="impl Foo")
    text = rec[column][0] if column == "attributes" and rec[column] else rec[column]
    if column == "attributes":
        rec["attributes"] = [f"#[inline{ctrl}]"]
    else:
        at = min(at, len(text))
        rec[column] = text[:at] + ctrl + text[at:]
    res = filter_records([rec], FilterConfig())
    assert res.kept.height == 0
    assert res.rejects["reason"].to_list() == ["control_characters"]


def test_newlines_tabs_and_a_crlf_source_are_not_control_characters() -> None:
    rec = make_record(0, doc="Line one.\n\tIndented.", source="pub fn func_0() {\r\n}\r\n")
    assert filter_records([rec], FilterConfig()).kept.height == 1


def test_secret_in_doc_or_source_is_redacted_in_signature_dropped() -> None:
    in_doc = make_record(0, doc=f"Uses the key {AWS} to sign.")
    in_src = make_record(1, source=f'pub fn func_1(x: u32) -> u32 {{ let k = "{AWS}"; x }}')
    in_sig = make_record(2, signature=f"pub fn func_2(x: u32 /* {AWS} */) -> u32")
    email = make_record(3, doc="Written by jane.roe@gmail.com; see also a@example.com.")
    res = filter_records([in_doc, in_src, in_sig, email], FilterConfig())
    assert res.counts["secret_redacted"] == 3
    assert res.counts["secret_dropped"] == 1
    assert res.rejects["reason"].to_list() == ["secret_dropped"]
    kept = {r["id"]: r for r in res.kept.to_dicts()}
    assert kept[in_doc["id"]]["doc"] == f"Uses the key {REDACTED} to sign."
    assert AWS not in kept[in_src["id"]]["source"] and REDACTED in kept[in_src["id"]]["source"]
    assert kept[email["id"]]["doc"] == f"Written by {REDACTED}; see also a@example.com."
    assert all(r["redacted"] for r in kept.values())
    assert not filter_records([make_record(9)], FilterConfig()).kept["redacted"].any()


def test_secret_detectors_find_known_formats_and_skip_plain_code() -> None:
    assert [f.kind for f in find_secrets(f"key={AWS}")] == ["AWSKeyDetector"]
    assert find_secrets("-----BEGIN RSA PRIVATE KEY-----\nabc")
    assert find_secrets("ghp_" + "a1B2" * 9)
    assert not find_secrets("let hash = 0xdeadbeefcafebabe1234; let password = input;")
    assert not find_secrets("match x { n @ 1..=5 => n }")
    assert redact("mail bob@corp.io and bob@corp.io") == (f"mail {REDACTED} and {REDACTED}", 2)


def test_exact_duplicates_share_a_cluster_and_only_the_first_is_published() -> None:
    a = make_record(0, path="src/b.rs", doc="Short doc.")
    b = make_record(0, path="src/a.rs", doc="Short doc.")  # same signature and doc
    c = make_record(5, path="src/c.rs", doc="Short doc.", name="other")  # same doc only
    res = filter_records([a, b, c], FilterConfig())
    reps = dict(zip(res.kept["id"], res.kept["dup_cluster"], strict=True))
    assert set(reps) == {b["id"], c["id"]}  # src/a.rs sorts first; short docs: no near-dedup
    assert res.rejects["reason"].to_list() == ["exact_duplicate"]
    assert res.rejects["dup_cluster"].to_list() == [b["id"]]


def test_near_duplicates_cluster_above_threshold_only() -> None:
    one_word = LONG.replace("first", "earliest")
    rewritten = "Reads settings from a path; fails on bad input."
    recs = [
        make_record(0, doc=LONG),
        make_record(1, doc=one_word),
        make_record(2, doc=rewritten),
    ]
    res = filter_records(recs, FilterConfig())
    assert res.counts["near_duplicate"] == 1
    assert res.kept.height == 2
    assert 0.7 <= jaccard(shingles(LONG), shingles(one_word)) < 0.8
    # A stricter threshold keeps them apart.
    assert filter_records(recs, FilterConfig(near_threshold=0.99)).kept.height == 3


def _dup_heavy_records() -> list[dict]:
    docs = [LONG, LONG.replace("first", "earliest"), "Short.", "Other short doc.", None]
    return [
        make_record(i, path=f"src/f{i % 5}.rs", doc=docs[i % 5], name=f"f{i % 3}")
        for i in range(30)
    ]


@settings(max_examples=20, deadline=None)
@given(st.randoms(use_true_random=False))
def test_representative_choice_is_order_independent(rnd: random.Random) -> None:
    recs = _dup_heavy_records()
    base = filter_records(recs, FilterConfig())
    shuffled = recs[:]
    rnd.shuffle(shuffled)
    again = filter_records(shuffled, FilterConfig())
    assert base.kept.equals(again.kept)
    assert base.rejects.equals(again.rejects)
    assert base.counts == again.counts


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["Doc one.", "Doc two.", LONG])),
        min_size=1,
        max_size=25,
    )
)
def test_exact_duplicates_always_share_a_cluster(spec: list[tuple[str, str]]) -> None:
    recs = [
        make_record(i, name=name, doc=doc, path=f"src/{i % 4}.rs", start_byte=50 * i)
        for i, (name, doc) in enumerate(spec)
    ]
    reps = cluster(recs, FilterConfig())
    seen: dict[tuple[str, str], str] = {}
    for r in recs:
        key = (r["signature"], r["doc"])
        assert seen.setdefault(key, reps[r["id"]]) == reps[r["id"]]
    # A representative is its own representative.
    assert all(reps[rep] == rep for rep in reps.values())


def test_same_source_with_different_docs_is_an_exact_duplicate() -> None:
    body = "pub fn get_ref(&self) -> &S {\n    &self.inner\n}"
    a = make_record(0, path="src/a.rs", source=body, doc="Gets a reference to the stream.")
    b = make_record(1, path="src/b.rs", source=body, doc="Gets a reference to the sink.")
    res = filter_records([b, a], FilterConfig())
    assert res.kept["id"].to_list() == [a["id"]]
    assert res.rejects.select("reason", "dup_cluster").rows() == [("exact_duplicate", a["id"])]


@given(st.lists(st.integers(1, 60), min_size=3, max_size=7), st.sampled_from([0.3, 0.4, 0.5]))
@settings(max_examples=60, deadline=None)
def test_repo_share_cap_bounds_every_repo_and_is_deterministic(
    sizes: list[int], share: float
) -> None:
    from corpus.filters import cap_repo_share

    recs = [
        {"repo": f"o/r{i}", "id": f"{i:02d}-{j:04d}"} for i, n in enumerate(sizes) for j in range(n)
    ]
    dropped = cap_repo_share(recs, share)
    again = cap_repo_share(list(reversed(recs)), share)
    assert sorted(d["id"] for d in again) == sorted(d["id"] for d in dropped)  # order-free
    gone = {d["id"] for d in dropped}
    kept = [r for r in recs if r["id"] not in gone]
    if len(sizes) * share >= 1:
        for i in range(len(sizes)):
            n = sum(1 for r in kept if r["repo"] == f"o/r{i}")
            assert n <= share * len(kept) + 1e-9
    # a capped set needs no further cut
    assert cap_repo_share(kept, share) == []


def test_repo_share_cap_terminates_where_floats_disagree() -> None:
    # Regression: with share 0.35 and sizes 245/228/227 the float test and the float cut
    # disagreed by a rounding error and the loop never ended.
    import signal

    from corpus.filters import cap_repo_share

    recs = [{"repo": r, "id": f"{r}-{i}"} for r, n in (("a", 245), ("b", 228), ("c", 227))
            for i in range(n)]  # fmt: skip
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("cap hangs")))
    signal.alarm(5)
    try:
        dropped = cap_repo_share(recs, 0.35)
    finally:
        signal.alarm(0)
    kept = len(recs) - len(dropped)
    for r in "abc":
        n = sum(1 for x in recs if x["repo"] == r) - sum(1 for d in dropped if d["repo"] == r)
        assert n * 20 <= 7 * kept  # n / kept <= 0.35, compared exactly


def test_repo_share_cap_keeps_as_many_as_allowed() -> None:
    # int() of 6.999... dropped one record too many (share 0.7, rest 3: 7 may stay).
    from corpus.filters import cap_repo_share

    recs = [{"repo": "big", "id": f"b{i}"} for i in range(10)] + [
        {"repo": f"s{i}", "id": f"s{i}"} for i in range(3)
    ]
    assert len(cap_repo_share(recs, 0.7)) == 3


def test_secrets_in_attributes_are_redacted_too() -> None:
    # Regression: `#[doc = "..."]` text is also kept in `attributes`; only doc and source were
    # redacted, so the address was published there.
    attr = '#[doc = "Maintainer: john.smith@gmail.com"]'
    rec = make_record(0, doc="Maintainer: john.smith@gmail.com", attributes=[attr, "#[inline]"])
    res = filter_records([rec], FilterConfig(max_repo_share=1.0))
    kept = res.kept.to_dicts()[0]
    assert "john.smith" not in kept["doc"] and "john.smith" not in str(kept["attributes"])
    assert kept["attributes"][1] == "#[inline]" and kept["redacted"] is True
    assert res.counts["secret_redacted"] == 1


def test_secret_redacted_counts_published_rows_only() -> None:
    # Regression: counted before dedup, so a redacted duplicate was counted twice in stats.
    doc = "Contact john.smith@gmail.com for access to the service and its keys."
    a = make_record(0, doc=doc)
    b = make_record(1, doc=doc, signature=a["signature"], source=a["source"])  # exact duplicate
    res = filter_records([a, b], FilterConfig(max_repo_share=1.0))
    assert res.kept.height == 1 and res.counts["exact_duplicate"] == 1
    assert res.counts["secret_redacted"] == 1


GH = "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1L7VLPHCgcBIjV5qP\n"
    "Tq6bS2w0Yx7ZzLp4Qm9Nr8t2vF==\n-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("path", f"src/{GH}.rs"),  # a token in a file name ...
        ("permalink", f"https://github.com/o/r/blob/{'c' * 40}/src/{GH}.rs#L1"),
        ("self_type", f"Client{GH}"),  # ... and in a type name
        ("qualified_path", f"crate::{GH}::f"),
        ("name", "jane_doe@corp-mail.io"),
        ("trait_name", f"Auth{GH}"),
        ("container_header", f"impl Client{GH}"),
        ("signature", "pub fn func_0(key: &str /* jane.doe@corp-mail.io */) -> u32"),
        ("params", ["key: &str", f"token: Token<{GH}>"]),  # a list column
        ("def_path", f"crate::{GH}::f"),
        ("public_path", f"crate::{GH}::f"),
        ("generics", f"<T: Auth{GH}>"),
        ("where_clause", f"where T: Auth{GH}"),
        ("return_type", f"Token{GH}"),
        ("doc_include", f"docs/{GH}.md"),
    ],
)
def test_a_secret_in_a_column_that_cannot_be_redacted_drops_the_record(
    column: str, value: str
) -> None:
    rec = make_record(0)
    rec[column] = value  # as published: make_record would derive the permalink itself
    res = filter_records([rec], FilterConfig(max_repo_share=1.0))
    assert res.kept.height == 0
    assert res.rejects["reason"].to_list() == ["secret_dropped"]


@pytest.mark.parametrize("column", ["doc", "source"])
def test_a_pem_key_is_redacted_whole_begin_through_end(column: str) -> None:
    text = f"Uses this key:\n\n{PEM}\n\nand nothing else."
    if column == "source":
        text = f'pub fn func_0() -> &str {{\n    "{PEM}"\n}}'
    rec = make_record(0, **{column: text})
    kept = filter_records([rec], FilterConfig(max_repo_share=1.0)).kept.to_dicts()[0]
    out = kept[column]
    assert "MIIEow" not in out and "Tq6bS2" not in out and "END RSA" not in out, out
    assert out.count(REDACTED) == 1 and kept["redacted"] is True
    assert ("and nothing else." in out) == (column == "doc")


def test_a_pem_key_without_its_end_line_is_redacted_to_the_end() -> None:
    doc = "Key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nmore"
    assert redact(doc) == (f"Key:\n{REDACTED}", 1)


DUP_DOC = "Parses the configuration file and returns every setting it declares, in order."


@pytest.mark.parametrize(
    ("canonical", "copy"),
    [
        ({}, {"is_test": True, "test_reason": "path:tests"}),  # a test's copy
        ({}, {"visibility": "pub(crate)"}),  # a private copy
        ({"path": "regex/src/lib.rs"}, {"path": "aaa/vendor/regex/src/lib.rs"}),  # vendored
        (
            {"path": "src/re.rs", "qualified_path": "widgets::re::parse"},
            {"path": "lite/src/re.rs", "qualified_path": "widgets_lite::re::parse"},
        ),  # a -lite crate that sorts first by path
        (
            {"path": "z/src/lib.rs", "qualified_path": "widgets::parse"},
            {"path": "a/src/lib.rs", "qualified_path": "other_crate::parse"},
        ),  # the crate named like the repository wins over path order
    ],
)
def test_the_canonical_copy_represents_its_cluster(canonical: dict, copy: dict) -> None:
    # Regression: the representative was the first member in path order, so `regex-lite`
    # (sorting before `regex`) displaced the main crate's docs.
    a = make_record(1, doc=DUP_DOC, **{"path": "src/b.rs", **canonical})
    b = make_record(2, doc=DUP_DOC, **{"path": "src/a.rs", **copy})
    for recs in ([a, b], [b, a]):
        res = filter_records(recs, FilterConfig(max_repo_share=1.0))
        assert res.kept["id"].to_list() == [a["id"]], (canonical, copy)


def test_an_exact_copy_of_a_non_representative_member_is_an_exact_duplicate() -> None:
    # Regression: only a copy of the representative was `exact_duplicate`; a copy of another
    # member (both near duplicates of the representative) was labelled `near_duplicate`.
    long = DUP_DOC + " Unknown keys are reported with their line and column, never skipped."
    rep = make_record(0, doc=long)
    near = make_record(1, doc=long.replace("never skipped", "never ignored"))
    twin = make_record(2, doc=near["doc"], source=near["source"])
    res = filter_records([rep, near, twin], FilterConfig(max_repo_share=1.0))
    reasons = dict(zip(res.rejects["id"].to_list(), res.rejects["reason"].to_list(), strict=True))
    assert res.kept["id"].to_list() == [rep["id"]]
    assert reasons == {near["id"]: "exact_duplicate", twin["id"]: "exact_duplicate"}

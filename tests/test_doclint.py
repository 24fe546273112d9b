"""Doc-defect rules of the filter stage."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from corpus.doclint import doc_defect, unclosed_fence
from corpus.filters import FilterConfig, filter_records
from tests.records_factory import make_record


def test_unclosed_fence_rules() -> None:
    assert unclosed_fence("Text.\n\n```\nlet x = 1;")
    assert not unclosed_fence("Text.\n\n```rust\nlet x = 1;\n```")
    assert not unclosed_fence("~~~\ncode\n~~~")
    assert unclosed_fence("````\n```\n")  # a shorter fence does not close a longer one
    assert not unclosed_fence("Inline ```code``` only.")
    assert not unclosed_fence("```\n# Errors\n```\n\nAfter.")


@given(st.lists(st.sampled_from(["text", "```", "```rust", "~~~", "", "  ```"]), max_size=8))
def test_closing_every_open_fence_fixes_the_doc(lines: list[str]) -> None:
    doc = "\n".join(lines)
    if unclosed_fence(doc):
        assert not unclosed_fence(doc + "\n```") or not unclosed_fence(doc + "\n~~~")


def test_missing_safety_doc_only_for_pub_unsafe() -> None:
    base = {"doc": "Does it.", "doc_sections": [], "is_unsafe": True, "visibility": "pub"}
    assert doc_defect(base) == "missing_safety_doc"
    assert doc_defect({**base, "doc_sections": ["Safety"]}) is None
    assert doc_defect({**base, "visibility": "pub(crate)"}) is None
    assert doc_defect({**base, "is_unsafe": False}) is None


def test_filter_drops_and_counts_defects() -> None:
    good = make_record(0)
    fence = make_record(1, doc="Adds.\n\n```\nlet y = 2;")
    unsafe = make_record(2, is_unsafe=True, doc="Frees the pointer.")
    res = filter_records([good, fence, unsafe], FilterConfig(max_repo_share=1.0))
    assert res.kept["id"].to_list() == [good["id"]]
    assert res.counts["doc_unclosed_fence"] == 1 and res.counts["missing_safety_doc"] == 1
    off = filter_records([good, fence, unsafe], FilterConfig(lint_docs=False, max_repo_share=1.0))
    assert off.kept.height == 3

"""The two baselines: the template's rules, and BM25 retrieval over the train split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.prompt import comment_as_doc
from pipelines.eval import baselines
from pipelines.eval.metrics import format_valid
from tests.records_factory import make_record


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        ("new", "Creates a new `Self`."),
        ("foo_bar", "Returns the foo bar."),
        ("get_timeout", "Returns the timeout."),
        ("is_empty", "Returns `true` if empty."),
        ("has_key", "Returns `true` if it has key."),
        ("set_read_timeout", "Sets the read timeout."),
        ("to_string", "Converts this value to string."),
        ("into_inner", "Converts this value into inner."),
        ("as_bytes", "Returns a view of this value as bytes."),
        ("from_str", "Creates a value from str."),
        ("with_capacity", "Returns this value with the given capacity."),
        ("parseJSON", "Returns the parse json."),
        ("r#type", "Returns the type."),
        ("_", "Returns the value."),
    ],
)
def test_template_rules(name: str, doc: str) -> None:
    assert baselines.template_doc(name) == doc


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,24}", fullmatch=True))
def test_template_is_one_valid_doc_line_for_any_name(name: str) -> None:
    out = baselines.template([make_record(0, name=name)])[0]
    assert format_valid(out) and "\n" not in out
    assert out == baselines.template([make_record(0, name=name)])[0]


def test_code_tokens_split_identifiers_and_keep_them_whole() -> None:
    assert baselines.code_tokens("pub fn read_to_end(buf: &mut Vec<u8>) -> HTTPServer") == [
        "pub", "fn", "read_to_end", "read", "to", "end", "buf", "mut", "vec", "u8",
        "httpserver", "http", "server",
    ]  # fmt: skip


def _rec(i: int, name: str, split: str, doc: str, params: str = "x: u32") -> dict:
    return make_record(i, name=name, split=split, doc=doc, signature=f"pub fn {name}({params})",
                       params=[params])  # fmt: skip


def test_retrieval_answers_with_the_nearest_train_doc() -> None:
    train = [
        _rec(0, "read_to_end", "train", "Reads all bytes.", "buf: &mut Vec<u8>"),
        _rec(1, "write_all", "train", "Writes a whole buffer.", "buf: &[u8]"),
        _rec(2, "parse_config", "train", "Parses the config.", "text: &str"),
    ]
    query = _rec(3, "read_to_string", "test", "Reads all text.", "buf: &mut String")
    out = baselines.retrieval([query], train)
    assert comment_as_doc(out[0]) == "Reads all bytes."


def test_retrieval_never_returns_the_query_itself() -> None:
    train = [_rec(0, "read_to_end", "train", "Reads all bytes."),
             _rec(1, "write_all", "train", "Writes a whole buffer.")]  # fmt: skip
    index = baselines.Retriever(train)
    assert index.nearest(train[0])["id"] == train[1]["id"]  # evaluating on train: self excluded
    assert baselines.retrieval(train, train) == [
        "/// Writes a whole buffer.",
        "/// Reads all bytes.",
    ]


def test_retrieval_without_any_shared_token_falls_back_to_the_template() -> None:
    # Real signatures always share `fn`; a degenerate one shows the rule.
    train = [make_record(0, name="alpha", signature="alpha()", params=[], qualified_path="alpha")]
    query = make_record(1, name="omega", signature="pub fn omega(x: u32)", qualified_path="omega")
    assert baselines.Retriever(train).nearest(query) is None
    assert baselines.retrieval([query], train) == ["/// Returns the omega."]


def test_retrieval_ties_go_to_the_first_train_record() -> None:
    train = [_rec(0, "same", "train", "First."), _rec(1, "same", "train", "Second.")]
    query = _rec(2, "same", "test", "Query.")
    assert baselines.retrieval([query], train) == ["/// First."]
    assert baselines.retrieval([query], train[::-1]) == ["/// Second."]


def test_retrieval_needs_a_train_split() -> None:
    from corpus.errors import BadInputError

    with pytest.raises(BadInputError, match="no train split"):
        baselines.retrieval([_rec(0, "f", "test", "F.")], [])

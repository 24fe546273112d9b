"""The regular-expression lexer of signatures agrees with the parse tree wherever it is used."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from corpus.extract.parser import parse
from corpus.extract.signature import join_tokens, leaf_tokens, node_text, text_tokens
from falsification.rustgen import rust_file

#: Pieces of signatures, including every kind the fast path must hand to the tree.
_WORDS = (
    "x T Vec Box dyn impl Fn for where mut const unsafe 'a 'static r#type u8 0x1F 1_000 1e-5 2"
    " & && * ? ! + - = == <= >= != << >> < > ( ) [ ] { } ; : :: , . .. ... ..= -> => 'c' \"s\""
    " b'x' /*c*/ #[a] café _ | || @ $ % ^ ~"
)
_PIECES = [*_WORDS.split(), "// c\n"]


_SIGNATURE_NODES = frozenset(
    {"function_item", "function_signature_item", "impl_item", "trait_item", "foreign_mod_item"}
)


def _signature_nodes(node: Node) -> list[tuple[Node, int | None]]:
    """Every node the extractor prints with :func:`node_text`, with the byte it stops at."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type in _SIGNATURE_NODES:
            body = n.child_by_field_name("body")
            out.append((n, body.start_byte if body is not None else None))
            for field in ("type_parameters", "parameters", "return_type"):
                part = n.child_by_field_name(field)
                if part is not None:
                    out.append((part, None))
                    out.extend((p, None) for p in part.named_children)
            out.extend((c, None) for c in n.children if c.type == "where_clause")
    return out


def _assert_agrees(source: str) -> None:
    for node, end in _signature_nodes(parse(source.encode("utf-8")).root_node):
        assert node_text(node, end) == join_tokens(leaf_tokens(node, end)), (node.type, node.text)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=25),
    st.lists(st.sampled_from(["", " ", "\n", "\t "]), min_size=25, max_size=25),
)
def test_fast_tokens_equal_tree_tokens_on_any_token_soup(
    pieces: list[str], gaps: list[str]
) -> None:
    soup = "".join(p + g for p, g in zip(pieces, gaps, strict=False))
    _assert_agrees(f"fn f<T>(x: {soup}) -> {soup} where T: {soup} {{}}\nimpl<{soup}> {soup} {{}}")


@settings(max_examples=100, deadline=None)
@given(rust_file())
def test_fast_tokens_equal_tree_tokens_on_generated_files(generated: tuple[str, list]) -> None:
    _assert_agrees(generated[0])


def test_literals_comments_and_blocks_take_the_tree() -> None:
    for text in ['"s"', "'c'", "/* c */", "[u8; N >> 1]", "{ N >= 1 }", "café", "1e-5", "r#x"]:
        assert text_tokens(text) is None, text
    assert text_tokens("Vec<Vec<u8>>") == ["Vec", "<", "Vec", "<", "u8", ">", ">"]


def test_node_text_is_rustfmt_spaced_either_way() -> None:
    src = b"fn f<'a, T: Fn(&'a str) -> T>(\n  x: &'a [u8; 4],\n  y: Vec<Vec<T>>,\n) {}"
    fn = parse(src).root_node.children[0]
    params = fn.child_by_field_name("parameters")
    assert node_text(params) == "(x: &'a [u8; 4], y: Vec<Vec<T>>)"
    assert node_text(fn.child_by_field_name("type_parameters")) == "<'a, T: Fn(&'a str) -> T>"


#: The two expressions as first written (a plain alternation, and whitespace as a match):
#: the fast ones must say and split the same on any text.
_PLAIN_NEEDS_TREE = re.compile(
    r"[\"#/\\{;]|[=!<>]=|&&|\|\||'(?:[^'\\]|\\.)'|'(?![A-Za-z_])|\b[rbc]#|b'|(?<!\w)\d+[\w.]|[^\x00-\x7f]"
)
_PLAIN_LEX = re.compile(
    r"\s+|([A-Za-z_][A-Za-z0-9_]*|'[A-Za-z_][A-Za-z0-9_]*|\d+"
    r"|::|->|=>|\.\.=|\.\.\.|\.\.|[^\sA-Za-z0-9_])"
)
_CHARS = "\"#/\\{;=!<>&|'brcx09_.:-( )\n\t\x1c\u00e9\u0663\u00b2"


_EDGES = [
    "b'x",
    "b'",
    "12",
    "1x",
    "1.",
    "x1y",
    "_1.",
    "a==b",
    "<=",
    "&&",
    "||",
    "'a'",
    "'\\n'",
    "'a",
    "' ",
    "r#x",
    "\u00e9",
    "x\u0663",
    "\u00b2x",
    "\x1c",
    "a /b",
    "{",
    ";",
    '"',
    "#",
]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_CHARS, max_size=16) | st.text(max_size=12) | st.sampled_from(_EDGES))
def test_the_fast_expressions_equal_the_plain_ones(text: str) -> None:
    plain = None if _PLAIN_NEEDS_TREE.search(text) else [t for t in _PLAIN_LEX.findall(text) if t]
    assert text_tokens(text) == plain
